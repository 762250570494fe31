"""A client's declarations are found by the client key alone, without its allocation stored."""

from lxml import etree

from gateway import samples
from gateway.catalog import by_code
from gateway.console import statelookup
from gateway.store import open_store


def test_declarations_found_by_client_key_without_the_allocation(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'g.db'}", client_key_secret="chain")
    bsn, other = samples.BSNS[5], samples.BSNS[6]
    decl = samples.declaration(clients={bsn: [samples.Prestatie(toewijzingnummer=4242)],
                                        other: [samples.Prestatie(toewijzingnummer=4343)]})
    root = etree.fromstring(decl)
    with store.transaction() as tx:
        mid = tx.save_message(raw=decl, verdict="accepted", issues=[], mtype=by_code("JW323"), root=root,
                              transport="http")
        tx.apply_state(by_code("JW323"), root, accepted=True)
    with store.engine.connect() as conn:
        assert statelookup.declarations_of_clients(conn, [store.client_key(bsn)]) == [mid]
        assert statelookup.declarations_of_clients(conn, [store.client_key(samples.BSNS[7])]) == []
