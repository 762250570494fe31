"""Record what an accepted message changes in the cross-message state.

Called inside the message's transaction, after its rules passed. Unique indexes on the state tables
(tables.py) back the rules up: a race the locks did not prevent ends in an IntegrityError, which
rolls the whole message back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from lxml import etree
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from gateway import clock
from gateway.catalog import MessageType
from validators import extract
from validators.paths import child
from gateway.store import tables as t
from gateway.store.clientkey import client_key
from gateway.store.prepared import Deferred, Prepared

DELETE = "3"


def parties(mtype: MessageType, root: etree._Element) -> tuple[str, str]:
    """(gemeente, aanbieder) of a message, whichever way it travels."""
    h = extract.header(root)
    if mtype.sender_role == "gemeente":
        return h.afzender or "", h.ontvanger or ""
    return h.ontvanger or "", h.afzender or ""


def apply_state(
    conn: Connection,
    secret: bytes,
    message_id: str,
    mtype: MessageType,
    root: etree._Element,
    rejected_paths: Mapping[str, list[str]] | Iterable[str] = frozenset(),
    now: datetime | None = None,
    declaratie: extract.Declaratie | None = None,
    view: Any = None,
) -> None:
    """`rejected_paths`: the rejected prestaties of a 323 (paths, or path -> retourcodes).
    `declaratie`: extract.declaratie(root) when the caller has it already (the 323 rules read
    it too), so a large declaration is not read a second time. `view`: the message's StateView,
    whose answers (the rules read them in this transaction) spare reading them again. `conn`
    may be a prepared.Deferred: the plain writes then wait for the group's executemany."""
    law = mtype.law
    gemeente, aanbieder = parties(mtype, root)
    ctx = dict(law=law, gemeente=gemeente, aanbieder=aanbieder)
    rejected = dict(rejected_paths) if isinstance(rejected_paths, Mapping) else dict.fromkeys(rejected_paths, [])
    handler = _HANDLERS.get(mtype.number)
    if handler is _declaration and declaratie is not None:
        _declaration(conn, secret, message_id, root, ctx, rejected, now or clock.now(), declaratie)
    elif handler in (_allocation, _start):
        handler(conn, secret, message_id, root, ctx, rejected, now or clock.now(), view=view)
    elif handler is not None:
        handler(conn, secret, message_id, root, ctx, rejected, now or clock.now())


_MISSING = object()


def _known(view: Any, key: tuple) -> Any:
    """What the message's StateView read already under `key` (_MISSING: not read)."""
    cached = getattr(view, "cached", None)
    return cached(key, _MISSING) if cached is not None else _MISSING


def _allocation(conn, secret, message_id, root, ctx, _rejected, _now, view=None) -> None:  # noqa: ANN001
    ck = client_key(secret, extract.client_bsn(root))
    claimed: set[str] = set()  # numbers this message registered (its writes may wait)
    for a in extract.allocations(root):
        if not a.toewijzingnummer or a.ingangsdatum is None:
            continue
        _INSERT[t.allocations].execute(
            conn,
            dict(
                message_id=message_id,
                client_key=ck,
                toewijzingnummer=a.toewijzingnummer,
                referentie_aanbieder=a.referentie_aanbieder,
                categorie=a.categorie,
                code=a.code,
                ingangsdatum=a.ingangsdatum,
                einddatum=a.einddatum,
                reden_wijziging=a.reden_wijziging,
                volume=a.omvang.volume if a.omvang else None,
                eenheid=a.omvang.eenheid if a.omvang else None,
                frequentie=a.omvang.frequentie if a.omvang else None,
                budget=a.budget,
                toewijzingsdatum=a.toewijzingsdatum,
                toewijzingstijd=a.toewijzingstijd,
                **ctx,
            ),
        )
        if a.toewijzingnummer in claimed:
            owner = (ctx["aanbieder"], ck)
        else:
            owner = _known(view, ("allocation_owner", ctx["law"], ctx["gemeente"], a.toewijzingnummer))
            if owner is _MISSING:
                row = _NUMBER_OWNER.first(
                    conn, dict(law=ctx["law"], gemeente=ctx["gemeente"], toewijzingnummer=a.toewijzingnummer))
                owner = (row["aanbieder"], row["client_key"]) if row else None
        claimed.add(a.toewijzingnummer)
        if owner is None or tuple(owner) != (ctx["aanbieder"], ck):
            # A second owner can only come from a race past TR332: the primary key refuses it.
            _INSERT[t.allocation_numbers].execute(
                conn,
                dict(
                    law=ctx["law"], gemeente=ctx["gemeente"], toewijzingnummer=a.toewijzingnummer,
                    aanbieder=ctx["aanbieder"], client_key=ck, message_id=message_id,
                ),
            )
        if a.referentie_aanbieder:  # a 301 honouring a VOT/VOW closes the request (TR374)
            _REQUEST_ALLOCATED.execute(
                conn,
                dict(r_law=ctx["law"], r_aanbieder=ctx["aanbieder"], r_referentie=a.referentie_aanbieder),
            )


def _plain(conn: Any) -> Any:
    """The connection itself, when `conn` defers its writes (prepared.Deferred)."""
    return conn.conn if isinstance(conn, Deferred) else conn


def _key_where(table, ctx, ck, item):  # noqa: ANN001
    return [
        table.c.law == ctx["law"],
        table.c.gemeente == ctx["gemeente"],
        table.c.aanbieder == ctx["aanbieder"],
        table.c.client_key == ck,
        table.c.toewijzingnummer == (item.toewijzingnummer or ""),
        table.c.categorie == (item.categorie or ""),
        table.c.code == (item.code or ""),
        table.c.begindatum == item.begindatum,
        table.c.status == "active",
    ]


def _start(conn, secret, message_id, root, ctx, _rejected, _now, view=None) -> None:  # noqa: ANN001
    ck = client_key(secret, extract.client_bsn(root))
    s = t.starts
    items = extract.regie_items(root)
    if any(item.status == DELETE for item in items):
        conn = _plain(conn)  # a deletion runs at once: the message's other writes keep their order
    stops = _known(view, ("stops", ctx["law"], ctx["gemeente"], ctx["aanbieder"], ck))
    for item in items:
        if item.begindatum is None:
            continue
        if item.status == DELETE:
            conn.execute(
                update(s).where(*_key_where(s, ctx, ck, item)).values(status="deleted", actual=False)
            )
            continue
        if stops is _MISSING:
            stopped = _active_stop_exists(conn, ctx, ck, item)
        else:  # the client's active stops, as the rules read them
            stopped = any((x.toewijzingnummer, x.categorie, x.code, x.begindatum)
                          == (item.toewijzingnummer or "", item.categorie or "", item.code or "", item.begindatum)
                          for x in stops)
        _INSERT[s].execute(
            conn,
            dict(
                message_id=message_id,
                client_key=ck,
                toewijzingnummer=item.toewijzingnummer or "",
                categorie=item.categorie or "",
                code=item.code or "",
                begindatum=item.begindatum,
                toewijzing_ingangsdatum=item.toewijzing_ingangsdatum,
                status="active",
                actual=not stopped,
                **ctx,
            ),
        )


def _key_params(ctx, ck, item) -> dict:  # noqa: ANN001
    """The parameters of `_KEY_WHERE` (the statements of _PREPARED)."""
    return dict(
        k_law=ctx["law"], k_gemeente=ctx["gemeente"], k_aanbieder=ctx["aanbieder"], k_client_key=ck,
        k_toewijzingnummer=item.toewijzingnummer or "", k_categorie=item.categorie or "",
        k_code=item.code or "", k_begindatum=item.begindatum,
    )


def _active_stop_exists(conn, ctx, ck, item) -> bool:  # noqa: ANN001
    return _ACTIVE_STOP.first(conn, _key_params(ctx, ck, item)) is not None


def _stop(conn, secret, message_id, root, ctx, _rejected, _now) -> None:  # noqa: ANN001
    ck = client_key(secret, extract.client_bsn(root))
    st, s = t.stops, t.starts
    items = extract.regie_items(root)
    if any(item.status == DELETE for item in items):
        conn = _plain(conn)  # a deletion runs at once: the message's other writes keep their order
    for item in items:
        if item.begindatum is None or item.einddatum is None:
            continue
        if item.status == DELETE:
            conn.execute(
                update(st)
                .where(
                    *_key_where(st, ctx, ck, item),
                    st.c.reden_beeindiging == (item.reden_beeindiging or ""),
                    st.c.einddatum == item.einddatum,
                )
                .values(status="deleted")
            )
            if not _active_stop_exists(conn, ctx, ck, item):
                # The start is running again, unless another start of the allocation is actual.
                other = conn.execute(
                    select(s.c.id).where(
                        s.c.law == ctx["law"], s.c.gemeente == ctx["gemeente"],
                        s.c.aanbieder == ctx["aanbieder"], s.c.client_key == ck,
                        s.c.toewijzingnummer == (item.toewijzingnummer or ""), s.c.actual == True,  # noqa: E712
                    )
                ).first()
                if other is None:
                    conn.execute(update(s).where(*_key_where(s, ctx, ck, item)).values(actual=True))
            continue
        _INSERT[st].execute(
            conn,
            dict(
                message_id=message_id,
                client_key=ck,
                toewijzingnummer=item.toewijzingnummer or "",
                categorie=item.categorie or "",
                code=item.code or "",
                begindatum=item.begindatum,
                reden_beeindiging=item.reden_beeindiging or "",
                einddatum=item.einddatum,
                status="active",
                **ctx,
            ),
        )
        _START_NOT_ACTUAL.execute(conn, _key_params(ctx, ck, item))


def _vot(conn, secret, message_id, root, ctx, _rejected, now) -> None:  # noqa: ANN001
    ck = client_key(secret, extract.client_bsn(root))
    for p in extract.requested_products(root):
        if p.referentie_aanbieder:
            _INSERT[t.requests].execute(
                conn,
                dict(
                    message_id=message_id, client_key=ck, kind="315",
                    referentie_aanbieder=p.referentie_aanbieder, status="pending", created_at=now, **ctx,
                ),
            )


def _vow(conn, secret, message_id, root, ctx, _rejected, now) -> None:  # noqa: ANN001
    ck = client_key(secret, extract.client_bsn(root))
    v = extract.verzoek(root)
    if v.referentie_aanbieder:
        _INSERT[t.requests].execute(
            conn,
            dict(
                message_id=message_id, client_key=ck, kind="317",
                referentie_aanbieder=v.referentie_aanbieder, status="pending", created_at=now, **ctx,
            ),
        )


def _answer(conn, secret, message_id, root, ctx, _rejected, _now) -> None:  # noqa: ANN001
    a = extract.antwoord(root)
    if not a.referentie_aanbieder or not a.verzoek_antwoord:
        return
    _INSERT[t.answers].execute(
        conn,
        dict(
            message_id=message_id, referentie_aanbieder=a.referentie_aanbieder,
            verzoek_antwoord=a.verzoek_antwoord, reden_afwijzing=a.reden_afwijzing, **ctx,
        ),
    )
    status = "afgewezen" if a.verzoek_antwoord == "1" else "onderzoek"
    _REQUEST_ANSWERED.execute(conn, dict(a_law=ctx["law"], a_aanbieder=ctx["aanbieder"],
                                         a_referentie=a.referentie_aanbieder, a_status=status))


def _declaration(conn, secret, message_id, root, ctx, rejected, _now, d=None) -> None:  # noqa: ANN001
    d = d if d is not None else extract.declaratie(root)
    h = extract.header(root)
    if not d.nummer or d.periode_begin is None or d.periode_eind is None:
        return
    declaration_id = _INSERT_DECLARATION.returned(conn, dict(
        message_id=message_id, declaratienummer=d.nummer, identificatie=h.identificatie or "",
        periode_begin=d.periode_begin, periode_eind=d.periode_eind, xsd_versie=h.xsd_versie, **ctx,
    ))
    p = t.prestaties
    credited: list[str] = []
    paths = extract.prestatie_paths(d) if rejected else {}
    keys: dict[str | None, str] = {}  # one keyed hash per client, not one per prestatie

    def rows() -> Iterator[tuple]:
        """The prestatie rows (values in the order of _PRESTATIE_COLUMNS), made one at a time as
        the executemany takes them: a declaration of 100,000 prestaties never holds all its rows
        (and their parameters) at once."""
        law, gemeente, aanbieder = ctx["law"], ctx["gemeente"], ctx["aanbieder"]
        # Credits first (OP366), so a credit and its replacing debit in one message work out.
        for pr in sorted(d.prestaties, key=_debit):
            if not pr.referentienummer or pr.periode_begin is None or pr.periode_eind is None:
                continue
            is_rejected, codes = False, None
            if rejected:
                own, of_client = paths[id(pr.el)], paths[id(pr.client_el)]
                is_rejected = own in rejected or of_client in rejected
                codes = rejected.get(own) or rejected.get(of_client)
            dc = pr.debet_credit
            if dc == "C" and not is_rejected and pr.vorig_referentienummer:
                credited.append(pr.vorig_referentienummer)
            bsn = pr.bsn
            key = keys.get(bsn)
            if key is None:
                key = keys[bsn] = client_key(secret, bsn)
            yield (
                message_id, declaration_id, key,
                pr.referentienummer, pr.vorig_referentienummer,
                dc or "D", pr.toewijzingnummer, pr.categorie,
                pr.code, pr.periode_begin, pr.periode_eind,
                pr.volume, pr.eenheid, pr.tarief, pr.bedrag or 0,
                "rejected" if is_rejected else "accepted",
                law, gemeente, aanbieder,
                list(codes or []) if is_rejected else None,
                0 if is_rejected else _granted(dc, pr.bedrag),
                message_id,
            )

    _INSERT_PRESTATIE.stream_values(conn, rows(), _PRESTATIE_COLUMNS)  # one executemany for the whole declaration
    for i in range(0, len(credited), 500):
        conn.execute(
            update(p)
            .where(
                p.c.law == ctx["law"], p.c.aanbieder == ctx["aanbieder"],
                p.c.referentienummer.in_(credited[i : i + 500]),
            )
            .values(credited=True)
        )


def _declaration_answer(conn, secret, message_id, root, ctx, _rejected, now) -> None:  # noqa: ANN001
    """A gemeente's 325: the echoed prestaties (or, with no clients, all of them) were rejected.
    The 325 is linked to its 323 and each rejected prestatie keeps the codes that rejected it."""
    d = extract.declaratie(root)
    if not d.nummer:
        return
    # Its writes run at once, in this order (not deferred to the group's end): each reads or
    # changes the prestaties the one before it changed.
    conn = conn.conn if isinstance(conn, Deferred) else conn
    p = t.prestaties
    found_id = _DECLARATION_ID.first(conn, dict(law=ctx["law"], aanbieder=ctx["aanbieder"], nummer=d.nummer))
    if found_id is None:
        return
    declaration_id = found_id["id"]
    _DECLARATION_ANSWERED.execute(conn, dict(d_id=declaration_id, d_answer=message_id, d_at=now))
    codes = {pr.referentienummer: _rejecting_codes(pr.el) for pr in d.prestaties if pr.referentienummer}
    if codes:
        # law and aanbieder are the declaration's own: with them the unique (law, aanbieder,
        # referentienummer) finds each prestatie, instead of a scan of the declaration's
        where = [p.c.law == ctx["law"], p.c.aanbieder == ctx["aanbieder"], p.c.declaration_id == declaration_id,
                 p.c.referentienummer.in_(list(codes))]
        rejected = conn.execute(select(p.c.vorig_referentienummer, p.c.debet_credit).where(*where)).all()
        _PRESTATIE_REJECTED.executemany(conn, [
            dict(p_law=ctx["law"], p_aanbieder=ctx["aanbieder"], p_decl=declaration_id, p_ref=ref, p_codes=found,
                 p_by=message_id) for ref, found in codes.items()
        ])
    elif _declaratie_accepted(root):
        return
    else:
        rejected = [(r["vorig_referentienummer"], r["debet_credit"])
                    for r in _DECLARATION_PRESTATIES.rows(conn, dict(p_decl=declaration_id))]
        whole = _rejecting_codes(child(root, "DeclaratieAntwoord"))
        _DECLARATION_REJECTED.execute(conn, dict(p_decl=declaration_id, p_codes=whole, p_by=message_id))
    _CREDIT_UNDONE.executemany(conn, [  # a rejected credit no longer cancels its debit
        dict(c_law=ctx["law"], c_aanbieder=ctx["aanbieder"], c_ref=vorig)
        for vorig, dc in rejected if dc == "C" and vorig
    ])


def _debit(pr: extract.Prestatie) -> bool:
    """Sort key: credits (False) before debits."""
    return pr.debet_credit != "C"


def _granted(debet_credit: str | None, bedrag: int | None) -> int:
    """The amount a prestatie is granted, signed: a credit takes back what its debit got."""
    return -(bedrag or 0) if debet_credit == "C" else (bedrag or 0)


def _rejecting_codes(el: etree._Element | None) -> list[str]:
    """The retourcodes on an element of a 325, without the 'fine' and 'not assessed' codes."""
    from validators.paths import children

    if el is None:
        return []
    found = [(c.text or "").strip() for c in children(child(el, "RetourCodes"), "RetourCode")] \
        if child(el, "RetourCodes") is not None else []
    return [c for c in found if c not in ("0200", "8001", "0233")]


def _declaratie_accepted(root: etree._Element) -> bool:
    """True unless the DeclaratieAntwoord itself carries an error code (not 0200/8001)."""
    from validators.paths import child, children

    da = child(root, "DeclaratieAntwoord")
    codes = [(c.text or "").strip() for c in children(child(da, "RetourCodes"), "RetourCode")] if child(
        da, "RetourCodes"
    ) is not None else []
    return all(c in ("0200", "8001", "0233") for c in codes)


# Statements built once (the hot ones); values travel as parameters.
# Prepared: run on the DBAPI cursor (gateway.store.prepared), no Core execution per row.
_INSERT = {table: Prepared(insert(table)) for table in (t.allocations, t.allocation_numbers, t.starts, t.stops,
                                                        t.requests, t.answers)}
_INSERT_PRESTATIE = Prepared(insert(t.prestaties))
# What `_declaration` writes of each prestatie, in the order of its values (every column but the
# id and `credited`, which keeps its default).
_PRESTATIE_COLUMNS = (
    "message_id", "declaration_id", "client_key",
    "referentienummer", "vorig_referentienummer",
    "debet_credit", "toewijzingnummer", "categorie",
    "code", "periode_begin", "periode_eind",
    "volume", "eenheid", "tarief", "bedrag",
    "status",
    "law", "gemeente", "aanbieder",
    "retourcodes",
    "granted",
    "decided_by",
)
assert sorted(_PRESTATIE_COLUMNS) == sorted(c.name for c in t.prestaties.c if c.name not in ("id", "credited"))
_NUMBER_OWNER = Prepared(select(t.allocation_numbers.c.aanbieder, t.allocation_numbers.c.client_key).where(
    t.allocation_numbers.c.law == bindparam("law"),
    t.allocation_numbers.c.gemeente == bindparam("gemeente"),
    t.allocation_numbers.c.toewijzingnummer == bindparam("toewijzingnummer"),
))
_REQUEST_ALLOCATED = Prepared(
    update(t.requests)
    .where(
        t.requests.c.law == bindparam("r_law"),
        t.requests.c.aanbieder == bindparam("r_aanbieder"),
        t.requests.c.referentie_aanbieder == bindparam("r_referentie"),
    )
    .values(status="toegewezen")
)
_REQUEST_ANSWERED = Prepared(
    update(t.requests)
    .where(
        t.requests.c.law == bindparam("a_law"),
        t.requests.c.aanbieder == bindparam("a_aanbieder"),
        t.requests.c.referentie_aanbieder == bindparam("a_referentie"),
        t.requests.c.status != "toegewezen",
    )
    .values(status=bindparam("a_status"))
)


def _key_where_params(table):  # noqa: ANN001, ANN202
    """`_key_where` with parameters (named k_<column>, see `_key_params`)."""
    return [
        *(table.c[c] == bindparam(f"k_{c}") for c in ("law", "gemeente", "aanbieder", "client_key",
                                                      "toewijzingnummer", "categorie", "code", "begindatum")),
        table.c.status == "active",
    ]


_INSERT_DECLARATION = Prepared(insert(t.declarations).returning(t.declarations.c.id))
_DECLARATION_ID = Prepared(select(t.declarations.c.id).where(
    t.declarations.c.law == bindparam("law"),
    t.declarations.c.aanbieder == bindparam("aanbieder"),
    t.declarations.c.declaratienummer == bindparam("nummer"),
))
_DECLARATION_ANSWERED = Prepared(update(t.declarations).where(t.declarations.c.id == bindparam("d_id"))
                                 .values(answer_message_id=bindparam("d_answer"), answered_at=bindparam("d_at")))
_DECLARATION_PRESTATIES = Prepared(select(t.prestaties.c.vorig_referentienummer, t.prestaties.c.debet_credit)
                                   .where(t.prestaties.c.declaration_id == bindparam("p_decl")))
_DECLARATION_REJECTED = Prepared(
    update(t.prestaties).where(t.prestaties.c.declaration_id == bindparam("p_decl"))
    .values(status="rejected", retourcodes=bindparam("p_codes"), granted=0, decided_by=bindparam("p_by"))
)
_PRESTATIE_REJECTED = Prepared(
    update(t.prestaties).where(t.prestaties.c.law == bindparam("p_law"),
                               t.prestaties.c.aanbieder == bindparam("p_aanbieder"),
                               t.prestaties.c.declaration_id == bindparam("p_decl"),
                               t.prestaties.c.referentienummer == bindparam("p_ref"))
    .values(status="rejected", retourcodes=bindparam("p_codes"), granted=0, decided_by=bindparam("p_by"))
)
_CREDIT_UNDONE = Prepared(update(t.prestaties).where(
    t.prestaties.c.law == bindparam("c_law"),
    t.prestaties.c.aanbieder == bindparam("c_aanbieder"),
    t.prestaties.c.referentienummer == bindparam("c_ref"),
).values(credited=False))
_ACTIVE_STOP = Prepared(select(t.stops.c.id).where(*_key_where_params(t.stops)).limit(1))
_START_NOT_ACTUAL = Prepared(update(t.starts).where(*_key_where_params(t.starts)).values(actual=False))

_HANDLERS = {
    "301": _allocation,
    "305": _start,
    "307": _stop,
    "315": _vot,
    "317": _vow,
    "319": _answer,
    "323": _declaration,
    "325": _declaration_answer,
}
