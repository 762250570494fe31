"""Console test data: a small, coherent message flow stored through the store's API.

Clients get an allocation (JW301), a start (JW305), some a stop (JW307) and declarations (JW323);
one declaration per provider is rejected with issues at real element paths of its XML. The
rejected declarations are what the browser test opens, highlights and replays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lxml import etree
from sqlalchemy import text

from gateway import clock, samples
from gateway.catalog import by_code
from gateway.retour import build_declaratie_antwoord
from gateway.store import OutboxRow
from validators.issues import Issue
from validators.paths import element_path

PROVIDERS = ("12345678", "23456789", "34567890")
SILENT_PROVIDER = "45678901"  # allocations, never a declaration


@dataclass
class Seeded:
    clients: int = 0
    rejected_declarations: list[str] = field(default_factory=list)
    partly_rejected: list[str] = field(default_factory=list)  # accepted 323s with a prestatie refused
    accepted: list[str] = field(default_factory=list)
    all_ids: list[str] = field(default_factory=list)
    bad_paths: dict[str, list[str]] = field(default_factory=dict)  # message id -> issue paths


def _find(root: etree._Element, local: str, nth: int = 0) -> etree._Element:
    els = [e for e in root.iter() if isinstance(e.tag, str) and e.tag.rsplit("}", 1)[-1] == local]
    return els[nth]


def _save(store, raw: bytes, code: str, verdict: str, at: datetime, issues=(), retour=None,
          outbox: str | None = None, published: bool = False, rejected_paths=()) -> str:
    root = etree.fromstring(raw)
    mtype = by_code(code)
    with store.transaction() as tx:
        mid = tx.save_message(raw=raw, verdict=verdict, issues=list(issues), mtype=mtype, root=root,
                              received_at=at, retour=retour, transport="http")
        tx.apply_state(mtype, root, accepted=verdict == "accepted", rejected_prestatie_paths=rejected_paths)
        if outbox and verdict == "accepted":
            receiver = tx.conn.execute(text("select receiver from messages where id = :i"), {"i": mid}).scalar_one()
            [oid] = tx.enqueue([OutboxRow(destination=outbox, payload=raw, key=mid[-8:], party=receiver,
                                          headers=[("message-type", code.encode())])])
    if outbox and verdict == "accepted" and published:
        store.mark_published([oid])
    return mid


def _save_retour(store, heen: bytes, code: str, at: datetime) -> str:
    """A technical retour sent back by the heen's receiver, stored as the pipeline stores one:
    sender = the heen's receiver, identificatie = its own IdentificatieRetour."""
    raw = samples.retour(heen)
    root = etree.fromstring(raw)
    header = _find(root, "Header")
    afzender = _find(header, "Afzender").text
    ontvanger = _find(header, "Ontvanger").text
    own = _find(header, "IdentificatieRetour").text
    with store.transaction() as tx:
        return tx.save_message(raw=raw, verdict="accepted", mtype=by_code(code), root=root, received_at=at,
                               sender=ontvanger, receiver=afzender, identificatie=own, transport="http")


def seed(store, now: datetime | None = None, clients: int = 9) -> Seeded:
    """Store the flow; times spread over the last hours so the dashboard has a shape."""
    now = now or clock.now()
    out = Seeded(clients=clients)
    store.add_party(samples.GEMEENTE, "gemeente", "Gemeente Voorbeeld")
    for p in (*PROVIDERS, SILENT_PROVIDER):
        store.add_party(p, "aanbieder", f"Zorgaanbieder {p}")
    t0 = now - timedelta(hours=20)
    step = timedelta(minutes=11)
    at = t0
    for i in range(clients):
        bsn = samples.BSNS[i % len(samples.BSNS)]
        provider = PROVIDERS[i % len(PROVIDERS)]
        nr = 2000 + i
        alloc = samples.allocation(aanbieder=provider, bsn=bsn, products=(samples.Allocated(toewijzingnummer=nr),))
        out.accepted.append(_save(store, alloc, "JW301", "accepted", at, retour=samples.retour(alloc),
                                  outbox=f"gw.ijw.{provider}.jw301", published=True))
        out.accepted.append(_save_retour(store, alloc, "JW302", at + timedelta(minutes=3 + 4 * i)))
        at += step
        start = samples.start(aanbieder=provider, bsn=bsn, products=(samples.Started(toewijzingnummer=nr),))
        out.accepted.append(_save(store, start, "JW305", "accepted", at, retour=samples.retour(start),
                                  outbox="gw.ijw.0599.jw305", published=i % 2 == 0))
        at += step
        if i % 3 == 0:
            stop = samples.stop(aanbieder=provider, bsn=bsn, products=(samples.Stopped(toewijzingnummer=nr),))
            out.accepted.append(_save(store, stop, "JW307", "accepted", at, retour=samples.retour(stop)))
            at += step
        good = samples.declaration(aanbieder=provider, clients={bsn: [samples.Prestatie(toewijzingnummer=nr)]})
        out.accepted.append(_save(store, good, "JW323", "accepted", at, outbox="gw.ijw.0599.jw323"))
        answer = samples.declaration_answer(good)
        out.accepted.append(_save(store, answer, "JW325", "accepted", at + timedelta(minutes=30 + 10 * i)))
        at += step
        if i < len(PROVIDERS):
            bad = samples.declaration(aanbieder=provider, clients={bsn: [
                samples.Prestatie(toewijzingnummer=nr), samples.Prestatie(toewijzingnummer=nr, eenheid="14")]})
            root = etree.fromstring(bad)
            eenheid = _find(root, "Eenheid", 1)
            toewijzing = _find(root, "ToewijzingNummer", 1)
            prestatie = eenheid.getparent()
            # The findings the cross-message rule TR341 and the contract rule CR001 make on this
            # line (their own tests prove that); the 325 is built by the real builder from them.
            issues = [
                Issue(rule="TR341", path=element_path(eenheid), line=eenheid.sourceline, retourcode="9341",
                      class_path=element_path(prestatie),
                      text=f"Eenheid {eenheid.text} does not fit the toegewezen eenheid 04 (client {bsn})"),
                Issue(rule="CR001", path=element_path(toewijzing), line=toewijzing.sourceline,
                      retourcode="S329", class_path=element_path(prestatie),
                      text=f"ToewijzingNummer {toewijzing.text}: product not contracted for this provider"),
            ]
            answer = build_declaratie_antwoord(root, by_code("JW323"), issues, identificatie=f"A{i:06d}",
                                               today=at.date())
            mid = _save(store, bad, "JW323", "rejected", at, issues=issues, retour=answer)
            out.rejected_declarations.append(mid)
            out.bad_paths[mid] = [i.path for i in issues]
            at += step
        if i == 0:
            # Partly awarded: the second prestatie is refused (TR341), the first goes through, so
            # the message is stored "accepted" with an error issue and a 325 echoing the refused one.
            part = samples.declaration(aanbieder=provider, clients={bsn: [
                samples.Prestatie(toewijzingnummer=nr), samples.Prestatie(toewijzingnummer=nr, eenheid="14")]})
            root = etree.fromstring(part)
            eenheid = _find(root, "Eenheid", 1)
            prestatie = eenheid.getparent()
            issues = [Issue(rule="TR341", path=element_path(eenheid), line=eenheid.sourceline, retourcode="9341",
                            class_path=element_path(prestatie),
                            text=f"Eenheid {eenheid.text} does not fit the toegewezen eenheid 04")]
            answer = build_declaratie_antwoord(root, by_code("JW323"), issues, identificatie="P000001",
                                               today=at.date())
            mid = _save(store, part, "JW323", "accepted", at, issues=issues, retour=answer,
                        rejected_paths=[element_path(prestatie)])
            out.partly_rejected.append(mid)
            at += step
    silent = samples.allocation(aanbieder=SILENT_PROVIDER, bsn=samples.BSNS[-1],
                                products=(samples.Allocated(toewijzingnummer=3999),))
    out.accepted.append(_save(store, silent, "JW301", "accepted", at))
    # One message that is not XML at all: transport-rejected, no type.
    with store.transaction() as tx:
        tx.save_message(raw=b"not xml", verdict="transport_rejected", received_at=at + step,
                        issues=[Issue(rule="PARSE", text="not well-formed XML")], transport="http")
    out.all_ids = out.accepted + out.rejected_declarations + out.partly_rejected
    return out
