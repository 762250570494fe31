"""Envelopes through the pipeline without HTTP: the inbound Kafka topic (`InboundConsumer.handle`
with a stand-in for the broker's consumer: the record and commit only; a refused envelope is
definitive, logged, its offset committed, nothing stored) and the IB216 race."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass

import pytest

from gateway import ggk, samples
from gateway.ingress.kafka import InboundConsumer
from gateway.pipeline import Pipeline, build_components
from gateway.settings import Settings


@pytest.fixture
def envelope_pipeline(tmp_path):
    """Settings and components on a fresh SQLite store that knows the sample gemeente and aanbieder."""
    settings = Settings(data_dir=tmp_path, hmac_secret="kafka-ggk-test")
    components = build_components(settings)
    components.store.add_party(samples.GEMEENTE, "gemeente", "test")
    components.store.add_party(samples.AANBIEDER, "aanbieder", "test")
    try:
        yield settings, components
    finally:
        components.store.close()


@dataclass
class Record:
    value: bytes
    topic: str = "inbound"
    partition: int = 0
    offset: int = 0


class Committed:
    def __init__(self) -> None:
        self.offsets: list[int] = []

    async def commit(self, offsets) -> None:  # noqa: ANN001
        self.offsets += list(offsets.values())


def test_envelopes_on_the_inbound_topic(envelope_pipeline):
    settings, components = envelope_pipeline
    store = components.store
    inbound = InboundConsumer(Pipeline(components), settings)
    inbound.consumer = Committed()
    good = ggk.wrap(samples.allocation("ijw"))
    bad = good.replace(b"<GGK:xmlBestand>", b"<GGK:xmlBestand>%%%%", 1)
    assert bad != good
    asyncio.run(inbound.handle(Record(bad, offset=0)))
    assert store.count_messages() == 0 and inbound.consumer.offsets == [1]
    asyncio.run(inbound.handle(Record(good, offset=1)))
    assert store.count_messages() == 1 and inbound.consumer.offsets == [1, 2]
    (message,) = store.list_messages().items
    stored = store.get_envelope(message.id)
    assert stored["berichtcode"] == "Di01" and stored["answer_code"] == "Du01"
    assert base64.b64encode(store.get_message(message.id).raw).decode() in good.decode()
    # kept without the payload's base64 (the message and its retour are in the row), given back whole
    assert stored["envelope"] == good
    (du01,) = [r.payload for r in store.outbox_for(message.id) if r.payload.startswith(b"<?xml") and b"Du01" in r.payload]
    assert stored["answer"] == du01
    from sqlalchemy import select

    from gateway.store import tables as t
    with store.engine.connect() as conn:
        kept = conn.execute(select(t.messages.c.envelope, t.messages.c.envelope_answer,
                                   t.messages.c.envelope_payload_at, t.messages.c.envelope_answer_payload_at)
                            .where(t.messages.c.id == message.id)).one()
    assert len(kept[0]) < len(good) - len(store.get_message(message.id).raw) and kept[2] is not None
    assert len(kept[1]) < len(du01) and kept[3] is not None


def test_a_reused_referentienummer_ends_in_ib216_after_the_unique_index_refuses_it(envelope_pipeline, monkeypatch):
    """IB216 rides the unique (zender, referentienummer) index: a new envelope is stored without
    looking its reference up; a reused one conflicts, and the retry looks it up and answers IB216.
    The second message is not stored, and the same envelope again is a duplicate, not IB216."""
    import uuid

    _, components = envelope_pipeline
    store = components.store
    pipeline = Pipeline(components)
    from gateway.store import Transaction

    real = Transaction.find_envelope
    calls = []

    def counted(tx, zender, referentienummer):
        calls.append(referentienummer)
        return real(tx, zender, referentienummer)

    monkeypatch.setattr(Transaction, "find_envelope", counted)
    ref = str(uuid.uuid4())
    envelope = ggk.wrap(samples.allocation("ijw"), referentienummer=ref)
    first = pipeline.process(envelope, None)
    assert first.envelope["referentienummer"] == ref and store.count_messages() == 1
    assert calls == []  # a new envelope: no lookup
    second = ggk.wrap(samples.allocation("ijw", identificatie="ANDERE2"), referentienummer=ref)
    with pytest.raises(ggk.EnvelopeError) as caught:
        pipeline.process(second, None)
    assert caught.value.error.code == "REFERENCE_REUSED" and calls == [ref]
    assert store.count_messages() == 1
    again = pipeline.process(envelope, None)  # the very same envelope: answered as the first time
    assert again.duplicate and again.message_id == first.message_id
    assert again.envelope["referentienummer"] == ref and store.count_messages() == 1


def test_a_new_enveloped_message_costs_no_statement_more_than_the_bare_one(envelope_pipeline):
    """Issue 17 item 7: the envelope is kept in the message's own row (revision 0014), so no insert
    more than for the bare message; the unique index refuses a reference another message's
    envelope used. Whether a further envelope (envelope_repeats) took the reference (a trigger on
    messages did that for every message, bare ones too; revision 0016) is asked in the statement
    of the duplicate check (Transaction.find_same_or_repeat), not in one of its own."""
    from sqlalchemy import event

    from gateway.store import prepared

    _, components = envelope_pipeline
    store = components.store
    pipeline = Pipeline(components)
    sent: list[str] = []

    def statements(raw: bytes) -> int:
        before, core = prepared.COUNTER["statements"], len(sent)
        assert pipeline.process(raw, None).verdict == "accepted"
        return prepared.COUNTER["statements"] - before + len(sent) - core

    event.listen(store.engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    statements(samples.allocation("ijw", identificatie="WARM1"))  # party and receiver lookups, cached after
    statements(ggk.wrap(samples.allocation("ijw", identificatie="WARM2")))
    bare = statements(samples.allocation("ijw", identificatie="BARE1"))
    assert statements(ggk.wrap(samples.allocation("ijw", identificatie="ENV1"))) == bare


def test_a_declaration_is_answered_by_its_325_in_a_du01(envelope_pipeline):
    """A 323 in a Di01: the 325 leaves in a Du01 that the chain would accept (ggk.unwrap checks
    its functie, versions and parties against the 325 itself)."""
    _, components = envelope_pipeline
    store = components.store
    di01 = ggk.wrap(samples.build("JW323"))
    outcome = Pipeline(components).process(di01, None)
    assert outcome.retour_code == "JW325" and outcome.envelope["answer"] == "Du01"
    du01 = store.get_envelope(outcome.message_id)["answer"]
    opened = ggk.unwrap(du01)
    sg = opened.envelope.stuurgegevens
    assert sg.functie == "JW325" and sg.cross_refnummer == ggk.read(di01).stuurgegevens.referentienummer
    assert (sg.zender.organisatie, sg.ontvanger.organisatie) == (samples.GEMEENTE, samples.AANBIEDER)
    assert opened.envelope.payload == outcome.retour
