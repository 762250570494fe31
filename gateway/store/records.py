"""Typed records at the store's edge: what its methods take and return."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class MessageRecord(_Record):
    """One stored message. `raw` and `retour` are filled by `get_message` and idempotency lookups."""

    id: str
    received_at: datetime
    standard: str | None
    code: str | None
    sender: str | None
    receiver: str | None
    identificatie: str | None
    dagtekening: date | None
    sha256: str
    verdict: str
    issues: list[dict[str, Any]]
    retour_identificatie: str | None = None
    client_key: str | None = None
    bsn_masked: str | None = None
    allocation_numbers: list[str] = Field(default_factory=list)
    routing_state: str = "none"
    dead_letter: bool = False
    replay_of: str | None = None
    transport: str | None = None
    received_by: str | None = None
    raw: bytes | None = Field(default=None, repr=False)
    retour: bytes | None = Field(default=None, repr=False)


class MessagePage(_Record):
    items: list[MessageRecord]
    next_cursor: str | None = None


class MessageFilter(BaseModel):
    """Console filters; every field optional. `bsn` is hashed to a client key, never stored."""

    since: datetime | None = None
    until: datetime | None = None
    code: str | None = None
    sender: str | None = None
    receiver: str | None = None
    party: str | None = None  # sender or receiver
    verdict: str | None = None
    rule: str | None = None
    client_key: str | None = None
    bsn: str | None = None
    include_replays: bool = True


class EncodedHeaders(list):
    """An outbox row's headers, (name, bytes) pairs, made of texts (gateway.routing.plan), which
    it keeps (`texts`: (name, text) pairs) for the store's headers column: Store.enqueue decoded
    each value again. Never changed once made (a row's headers are replaced, not edited: pydantic
    and model_copy make a plain list of them)."""

    __slots__ = ("texts",)

    @classmethod
    def of(cls, headers: Mapping[str, str]) -> EncodedHeaders:
        items = list(headers.items())
        made = cls([(k, v.encode()) for k, v in items])
        made.texts = items
        return made


class OutboxRow(BaseModel):
    """A row to publish: Kafka topic (`destination`) with key and headers, or a party stream."""

    destination: str
    payload: bytes
    key: str | None = None
    headers: list[tuple[str, bytes]] = Field(default_factory=list)
    party: str | None = None
    message_id: str | None = None  # default: the message saved last in the transaction

    @classmethod
    def of(cls, destination: str, payload: bytes, key: str | None, headers: list[tuple[str, bytes]],
           party: str | None, message_id: str | None) -> OutboxRow:
        """A row of values of these types already (gateway.routing.plan, one or two per message):
        made as `model_construct` makes it, without its loop over the fields, and without the
        validation of every header the constructor does (some 10 us a row, issue 14)."""
        row = cls.__new__(cls)
        _set(row, "__dict__", {"destination": destination, "payload": payload, "key": key, "headers": headers,
                               "party": party, "message_id": message_id})
        _set(row, "__pydantic_fields_set__", set(_OUTBOX_FIELDS))
        _set(row, "__pydantic_extra__", None)
        _set(row, "__pydantic_private__", None)
        return row


_set = object.__setattr__
_OUTBOX_FIELDS = frozenset(OutboxRow.model_fields)


class OutboxRecord(_Record):
    id: int
    message_id: str
    party: str | None
    destination: str
    key: str | None
    headers: list[tuple[str, bytes]]
    payload: bytes = Field(repr=False)
    created_at: datetime
    published_at: datetime | None
    attempts: int
    last_error: str | None


class StreamItem(_Record):
    """One entry of a party's stream: `position` is the value for the next `after=`."""

    position: int
    message_id: str
    destination: str
    key: str | None
    headers: list[tuple[str, bytes]]
    payload: bytes = Field(repr=False)
    created_at: datetime


class PartyRecord(_Record):
    party_id: str
    role: str
    name: str
    created_at: datetime
    revoked_at: datetime | None = None


class ApiKeyRecord(_Record):
    key_id: str
    party_id: str
    created_at: datetime
    revoked_at: datetime | None = None


class ClientCertRecord(_Record):
    fingerprint: str
    party_id: str
    created_at: datetime
    revoked_at: datetime | None = None


class UserRecord(_Record):
    username: str
    password_hash: str = Field(repr=False)
    role: str
    created_at: datetime
    disabled_at: datetime | None = None


class AuditRecord(_Record):
    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    reason: str | None
    details: dict[str, Any] | None


class ContractBundleRecord(_Record):
    id: int
    region: str
    version: str
    effective_from: date
    yaml_text: str = Field(repr=False)
    loaded_at: datetime
    loaded_by: str


# --- state, as the cross-message rules see it -------------------------------------------------


class AllocationState(_Record):
    """The current version of a ToegewezenProduct (latest Toewijzingsdatum + Toewijzingstijd)."""

    law: str
    gemeente: str
    aanbieder: str
    client_key: str
    toewijzingnummer: str
    referentie_aanbieder: str | None
    categorie: str | None
    code: str | None
    ingangsdatum: date
    einddatum: date | None
    reden_wijziging: str | None
    volume: int | None
    eenheid: str | None
    frequentie: str | None
    budget: int | None
    toewijzingsdatum: date | None
    toewijzingstijd: str | None

    @property
    def deleted(self) -> bool:
        """Verwijderd (RedenWijziging 13) or never valid (Einddatum = Ingangsdatum with 13/01)."""
        return _deleted(self)

    def actual_on(self, day: date) -> bool:
        """Actual (TR349): valid on or after `day` and not deleted."""
        return _actual_on(self, day)


def _deleted(a: Any) -> bool:
    return a.reden_wijziging == "13" or (a.einddatum == a.ingangsdatum and a.reden_wijziging in ("13", "01"))


def _actual_on(a: Any, day: date) -> bool:
    if _deleted(a):
        return False
    return a.einddatum is None or a.einddatum >= day


def _row_of(record: type[BaseModel], name: str) -> Any:
    """A NamedTuple of `record`'s fields, in its order: the same state as a plain tuple, for a
    declaration's prefetch (100,000 pydantic records cost more than their query)."""
    return NamedTuple(name, [(field, info.annotation) for field, info in record.model_fields.items()])


class AllocationRow(_row_of(AllocationState, "_AllocationFields")):  # type: ignore[misc]
    """AllocationState as a plain tuple (its fields, read the same way)."""

    __slots__ = ()

    @property
    def deleted(self) -> bool:
        """Verwijderd (RedenWijziging 13) or never valid (Einddatum = Ingangsdatum with 13/01)."""
        return _deleted(self)

    def actual_on(self, day: date) -> bool:
        """Actual (TR349): valid on or after `day` and not deleted."""
        return _actual_on(self, day)


class StartState(_Record):
    toewijzingnummer: str
    categorie: str
    code: str
    begindatum: date
    status: str
    actual: bool


class StopState(_Record):
    toewijzingnummer: str
    categorie: str
    code: str
    begindatum: date
    reden_beeindiging: str
    einddatum: date
    status: str


class RequestState(_Record):
    law: str
    gemeente: str
    aanbieder: str
    client_key: str
    kind: str
    referentie_aanbieder: str
    status: str


class AnswerState(_Record):
    referentie_aanbieder: str
    verzoek_antwoord: str
    reden_afwijzing: str | None


class PrestatieState(_Record):
    law: str
    gemeente: str
    aanbieder: str
    client_key: str
    referentienummer: str
    vorig_referentienummer: str | None
    debet_credit: str
    toewijzingnummer: str | None
    categorie: str | None
    code: str | None
    periode_begin: date
    periode_eind: date
    volume: int | None
    eenheid: str | None
    tarief: int | None
    bedrag: int
    status: str
    credited: bool


class PrestatieRow(_row_of(PrestatieState, "_PrestatieFields")):  # type: ignore[misc]
    """PrestatieState as a plain tuple, for a declaration's prefetch (as AllocationRow)."""

    __slots__ = ()


class DeclarationState(_Record):
    law: str
    gemeente: str
    aanbieder: str
    declaratienummer: str
    identificatie: str
    periode_begin: date
    periode_eind: date
    xsd_versie: dict[str, str | None] | None = None
