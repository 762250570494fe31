"""The database schema, in SQLAlchemy Core. The store is the only owner of this schema.

Changing a table here means adding an Alembic revision in `gateway/store/migrations/versions/`;
`tests/store/test_migrations.py` fails when the two drift apart.

Conventions: ids of messages are sortable strings (`gateway.store.ids.new_id`); dates are DATE,
amounts integer eurocent; a BSN is never stored in clear (`client_key` = keyed HMAC,
`bsn_masked` for display). `law` is "jeugd" or "wmo" (the legal domain of iJw / iWmo).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    case,
    literal_column,
    select,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

# BigInteger autoincrement ids that also work as SQLite rowids.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _id() -> Column:
    return Column("id", BigId, primary_key=True, autoincrement=True)


messages = Table(
    "messages",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("standard", String(8)),
    Column("code", String(8)),  # JW301; NULL when the message could not be identified
    Column("sender", String(16)),
    Column("receiver", String(16)),
    Column("identificatie", String(64)),
    Column("dagtekening", Date),
    Column("raw", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("verdict", String(24), nullable=False),
    Column("issues", JSON, nullable=False),
    Column("retour", LargeBinary),
    Column("retour_identificatie", String(64)),
    Column("client_key", String(64)),
    Column("bsn_masked", String(16)),
    Column("allocation_numbers", JSON),  # ToewijzingNummers this message touches
    Column("routing_state", String(16), nullable=False, server_default="none"),
    Column("dead_letter", Boolean, nullable=False, server_default=text("false")),
    Column("replay_of", String(26), ForeignKey("messages.id")),
    Column("transport", String(16)),  # http, batch, kafka, replay
    Column("received_by", String(64)),  # authenticated party or principal
    Index("ix_messages_received", "received_at", "id"),
    Index("ix_messages_code_received", "code", "received_at", "id"),
    Index("ix_messages_sender_received", "sender", "received_at", "id"),
    Index("ix_messages_receiver_received", "receiver", "received_at", "id"),
    Index("ix_messages_verdict_received", "verdict", "received_at", "id"),
    Index("ix_messages_client_received", "client_key", "received_at", "id"),
    # the idempotency lookup: equality on the first three, earliest first (revision 0004)
    Index("ix_messages_ident_received", "sender", "code", "identificatie", "received_at", "id"),
    # replays only (revision 0013): a NULL entry per message cost a page at every commit
    Index("ix_messages_replay_of", "replay_of", sqlite_where=text("replay_of IS NOT NULL"),
          postgresql_where=text("replay_of IS NOT NULL")),
)

message_issues = Table(
    "message_issues",
    metadata,
    _id(),
    Column("message_id", String(26), ForeignKey("messages.id"), nullable=False),
    Column("rule", String(16), nullable=False),
    Column("retourcode", String(8)),
    Column("received_at", DateTime(timezone=True), nullable=False),  # copy, for keyset scans
    # One row per (message, rule): the rule filter of the console needs no DISTINCT.
    UniqueConstraint("message_id", "rule"),
    Index("ix_message_issues_rule_received", "rule", "received_at", "message_id"),
)

# TR056: (sender, code, identificatie) is unique. The constraint is the last line of defence.
message_identifiers = Table(
    "message_identifiers",
    metadata,
    Column("sender", String(16), primary_key=True),
    Column("code", String(8), primary_key=True),
    Column("identificatie", String(64), primary_key=True),
    Column("message_id", String(26), ForeignKey("messages.id"), nullable=False),
)

# --- state for the cross-message rules -------------------------------------------------------

allocations = Table(
    "allocations",
    metadata,
    _id(),
    Column("message_id", String(26), ForeignKey("messages.id"), nullable=False),
    Column("law", String(8), nullable=False),
    Column("gemeente", String(4), nullable=False),
    Column("aanbieder", String(8), nullable=False),
    Column("client_key", String(64), nullable=False),
    Column("toewijzingnummer", String(32), nullable=False),
    Column("referentie_aanbieder", String(64)),
    Column("categorie", String(8)),
    Column("code", String(8)),
    Column("ingangsdatum", Date, nullable=False),
    Column("einddatum", Date),
    Column("reden_wijziging", String(4)),
    Column("volume", BigInteger),
    Column("eenheid", String(4)),
    Column("frequentie", String(4)),
    Column("budget", BigInteger),
    Column("toewijzingsdatum", Date),
    Column("toewijzingstijd", String(16)),
    Index("ix_allocations_number", "law", "gemeente", "toewijzingnummer"),
    Index("ix_allocations_client", "law", "gemeente", "aanbieder", "client_key"),
    Index("ix_allocations_referentie", "law", "aanbieder", "referentie_aanbieder"),
)

# TR332: one owner (aanbieder + client) per ToewijzingNummer per gemeente per legal domain.
allocation_numbers = Table(
    "allocation_numbers",
    metadata,
    Column("law", String(8), primary_key=True),
    Column("gemeente", String(4), primary_key=True),
    Column("toewijzingnummer", String(32), primary_key=True),
    Column("aanbieder", String(8), nullable=False),
    Column("client_key", String(64), nullable=False),
    Column("message_id", String(26), ForeignKey("messages.id"), nullable=False),
)

starts = Table(
    "starts",
    metadata,
    _id(),
    Column("message_id", String(26), ForeignKey("messages.id"), nullable=False),
    Column("law", String(8), nullable=False),
    Column("gemeente", String(4), nullable=False),
    Column("aanbieder", String(8), nullable=False),
    Column("client_key", String(64), nullable=False),
    Column("toewijzingnummer", String(32), nullable=False, server_default=""),
    Column("categorie", String(8), nullable=False, server_default=""),
    Column("code", String(8), nullable=False, server_default=""),
    Column("begindatum", Date, nullable=False),
    Column("toewijzing_ingangsdatum", Date),
    Column("status", String(8), nullable=False),  # active | deleted
    Column("actual", Boolean, nullable=False),  # active and not stopped (TR326)
    Index("ix_starts_key", "law", "gemeente", "aanbieder", "client_key", "toewijzingnummer"),
    # TR074: one active start per logical key; TR326: one actual start per ToegewezenProduct.
    Index(
        "uq_starts_active_key",
        "law", "gemeente", "aanbieder", "client_key", "toewijzingnummer", "categorie", "code",
        "begindatum",
        unique=True,
        sqlite_where=text("status = 'active'"),
        postgresql_where=text("status = 'active'"),
    ),
    Index(
        "uq_starts_actual",
        "law", "gemeente", "aanbieder", "client_key", "toewijzingnummer", "categorie", "code",
        unique=True,
        sqlite_where=text("actual AND toewijzingnummer <> ''"),
        postgresql_where=text("actual AND toewijzingnummer <> ''"),
    ),
)

stops = Table(
    "stops",
    metadata,
    _id(),
    Column("message_id", String(26), ForeignKey("messages.id"), nullable=False),
    Column("law", String(8), nullable=False),
    Column("gemeente", String(4), nullable=False),
    Column("aanbieder", String(8), nullable=False),
    Column("client_key", String(64), nullable=False),
    Column("toewijzingnummer", String(32), nullable=False, server_default=""),
    Column("categorie", String(8), nullable=False, server_default=""),
    Column("code", String(8), nullable=False, server_default=""),
    Column("begindatum", Date, nullable=False),
    Column("reden_beeindiging", String(4), nullable=False),
    Column("einddatum", Date, nullable=False),
    Column("status", String(8), nullable=False),  # active | deleted
    Index("ix_stops_key", "law", "gemeente", "aanbieder", "client_key", "toewijzingnummer"),
    Index(
        "uq_stops_active_key",
        "law", "gemeente", "aanbieder", "client_key", "toewijzingnummer", "categorie", "code",
        "begindatum", "reden_beeindiging", "einddatum",
        unique=True,
        sqlite_where=text("status = 'active'"),
        postgresql_where=text("status = 'active'"),
    ),
)

# 315 (one row per AangevraagdProduct) and 317 (one row per Verzoek).
requests = Table(
    "requests",
    metadata,
    _id(),
    Column("message_id", String(26), ForeignKey("messages.id"), nullable=False),
    Column("law", String(8), nullable=False),
    Column("gemeente", String(4), nullable=False),
    Column("aanbieder", String(8), nullable=False),
    Column("client_key", String(64), nullable=False),
    Column("kind", String(4), nullable=False),  # 315 | 317
    Column("referentie_aanbieder", String(64), nullable=False),
    Column("status", String(12), nullable=False),  # pending | onderzoek | afgewezen | toegewezen
    Column("created_at", DateTime(timezone=True), nullable=False),
    # TR347: ReferentieAanbieder unique per aanbieder per legal domain.
    UniqueConstraint("law", "aanbieder", "referentie_aanbieder"),
    Index("ix_requests_client", "law", "gemeente", "aanbieder", "client_key", "status"),
)

answers = Table(
    "answers",
    metadata,
    _id(),
    Column("message_id", String(26), ForeignKey("messages.id"), nullable=False),
    Column("law", String(8), nullable=False),
    Column("gemeente", String(4), nullable=False),
    Column("aanbieder", String(8), nullable=False),
    Column("referentie_aanbieder", String(64), nullable=False),
    Column("verzoek_antwoord", String(4), nullable=False),
    Column("reden_afwijzing", String(4)),
    Index("ix_answers_ref", "law", "aanbieder", "referentie_aanbieder"),
)

declarations = Table(
    "declarations",
    metadata,
    _id(),
    Column("message_id", String(26), ForeignKey("messages.id"), nullable=False),
    Column("law", String(8), nullable=False),
    Column("gemeente", String(4), nullable=False),
    Column("aanbieder", String(8), nullable=False),
    Column("declaratienummer", String(64), nullable=False),
    Column("identificatie", String(64), nullable=False),
    Column("periode_begin", Date, nullable=False),
    Column("periode_eind", Date, nullable=False),
    Column("xsd_versie", JSON),
    # The municipality's 325 that answered it, when one came (revision 0007).
    Column("answer_message_id", String(26)),
    Column("answered_at", DateTime(timezone=True)),
    # TR333: DeclaratieNummer unique per aanbieder per legal domain.
    UniqueConstraint("law", "aanbieder", "declaratienummer"),
    Index("ix_declarations_period", "law", "aanbieder", "periode_begin"),
    Index("ix_declarations_ident", "law", "aanbieder", "identificatie"),  # TR337 (revision 0002)
    Index("ix_declarations_message", "message_id"),  # a 323's answer, for the console (0007)
)

# The queries on ix_prestaties_vorig compare vorig_referentienummer with a value (= or IN), which
# implies this condition on SQLite and PostgreSQL alike.
PRESTATIES_VORIG_SQL = "vorig_referentienummer IS NOT NULL"

prestaties = Table(
    "prestaties",
    metadata,
    _id(),
    Column("message_id", String(26), ForeignKey("messages.id"), nullable=False),
    Column("declaration_id", BigId, ForeignKey("declarations.id"), nullable=False),
    Column("law", String(8), nullable=False),
    Column("gemeente", String(4), nullable=False),
    Column("aanbieder", String(8), nullable=False),
    Column("client_key", String(64), nullable=False),
    Column("referentienummer", String(64), nullable=False),
    Column("vorig_referentienummer", String(64)),
    Column("debet_credit", String(1), nullable=False),
    Column("toewijzingnummer", String(32)),
    Column("categorie", String(8)),
    Column("code", String(8)),
    Column("periode_begin", Date, nullable=False),
    Column("periode_eind", Date, nullable=False),
    Column("volume", BigInteger),
    Column("eenheid", String(4)),
    Column("tarief", BigInteger),
    Column("bedrag", BigInteger, nullable=False),  # eurocent, unsigned as in the message
    Column("status", String(10), nullable=False),  # accepted | rejected
    Column("credited", Boolean, nullable=False, server_default=text("false")),
    # The outcome as a fact (revision 0007): the retourcodes that rejected it, the amount granted
    # (eurocent; 0 when rejected) and the message that decided: the 323 itself (the gateway's
    # check) or the municipality's 325.
    Column("retourcodes", JSON),
    Column("granted", BigInteger),
    Column("decided_by", String(26)),
    # TR314: ReferentieNummer unique per aanbieder per legal domain, all versions.
    UniqueConstraint("law", "aanbieder", "referentienummer"),
    Index("ix_prestaties_allocation", "law", "gemeente", "toewijzingnummer"),
    # Credits only (revision 0020): a debit (no VorigReferentieNummer) paid an entry no query reads.
    Index("ix_prestaties_vorig", "law", "aanbieder", "vorig_referentienummer",
          sqlite_where=text(PRESTATIES_VORIG_SQL), postgresql_where=text(PRESTATIES_VORIG_SQL)),
    Index("ix_prestaties_aanbieder_allocation", "law", "aanbieder", "toewijzingnummer"),  # debits (0004)
    Index("ix_prestaties_budget", "aanbieder", "periode_begin"),
    # The console finds a client's declarations even when its allocation is not stored (0005).
    Index("ix_prestaties_client", "client_key", "message_id"),
    # A declaration's prestaties (a 325 rejecting all of them, the API's declaration view) (0021).
    Index("ix_prestaties_declaration", "declaration_id"),
)

# --- routing ----------------------------------------------------------------------------------

# The outbox rows waiting for delivery (Kafka topics, SOAP): ix_outbox_pending holds these only. A
# query uses it when its WHERE has these terms as they are written here (`outbox_waiting`).
OUTBOX_WAITING_SQL = "published_at IS NULL AND destination <> 'stream'"

outbox = Table(
    "outbox",
    metadata,
    _id(),  # also the stream position: monotonically increasing
    Column("message_id", String(26), ForeignKey("messages.id"), nullable=False),
    Column("party", String(16)),  # the receiving party, for GET /v1/streams/{party}
    Column("destination", String(255), nullable=False),  # kafka topic, or "stream"
    Column("key", String(255)),
    Column("headers", JSON, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("claimed_until", DateTime(timezone=True)),
    # Deliveries still waiting only (revision 0019): a party's stream row (most rows; published
    # when the party acks) paid an entry, on SQLite a page at every commit, that no query read.
    Index("ix_outbox_pending", "published_at", "id", sqlite_where=text(OUTBOX_WAITING_SQL),
          postgresql_where=text(OUTBOX_WAITING_SQL)),
    Index("ix_outbox_party", "party", "destination", "id"),
    Index("ix_outbox_message", "message_id"),
)


def outbox_waiting(o: Any) -> tuple[ColumnElement, ...]:
    """The conditions of ix_outbox_pending on the outbox columns `o` (the literal in the SQL: a
    bound 'stream' is not matched to the index's condition by PostgreSQL's generic plans, and
    SQLite would prepare the statement again at every run)."""
    return o.published_at.is_(None), o.destination != literal_column("'stream'")


stream_offsets = Table(
    "stream_offsets",
    metadata,
    Column("party", String(16), primary_key=True),
    Column("acked", BigInteger, nullable=False, server_default="0"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# --- parties, access, administration --------------------------------------------------------

parties = Table(
    "parties",
    metadata,
    Column("party_id", String(16), primary_key=True),  # AGB (8) or CBS (4) code
    Column("role", String(10), nullable=False),  # gemeente | aanbieder
    Column("name", String(255), nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),  # sha256 hex of the secret
    Column("party_id", String(16), ForeignKey("parties.party_id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

client_certs = Table(
    "client_certs",
    metadata,
    Column("fingerprint", String(128), primary_key=True),  # sha256 hex of the DER certificate
    Column("party_id", String(16), ForeignKey("parties.party_id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

users = Table(
    "users",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True)),
)

audit_log = Table(
    "audit_log",
    metadata,
    _id(),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(255)),
    Column("reason", Text),
    Column("details", JSON),
    Index("ix_audit_log_at", "at", "id"),
    # The console lists the audit entries of one message on its detail page.
    Index("ix_audit_log_target", "target", "at"),
)

contract_bundles = Table(
    "contract_bundles",
    metadata,
    _id(),
    Column("region", String(64), nullable=False),
    Column("version", String(64), nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("yaml_text", Text, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    Column("loaded_by", String(64), nullable=False),
    UniqueConstraint("region", "version"),
    Index("ix_contract_bundles_region", "region", "effective_from"),
)

# --- deadlines (gateway.deadlines) -------------------------------------------------------------

# One row per obligation a stored message opens (OP090, OP271, ...): who must act by when, and
# the message that closed it. Filled by gateway.deadlines.scan from the stored messages.
obligations = Table(
    "obligations",
    metadata,
    _id(),
    Column("obligation", String(40), nullable=False),  # id in gateway/deadlines/obligations.yaml
    Column("op", String(16), nullable=False),
    Column("message_id", String(26), ForeignKey("messages.id"), nullable=False),  # opened it
    Column("kind", String(8), nullable=False),  # message number of the opening message
    Column("standard", String(8), nullable=False),
    Column("party", String(16), nullable=False),  # who must act
    Column("counterparty", String(16), nullable=False),
    Column("client_key", String(64)),
    Column("opened", Date, nullable=False),
    Column("due", Date),
    Column("state", String(16), nullable=False),  # open | due_soon | overdue | met | late | not_assessed
    Column("closed_by", String(26)),
    Column("closed", Date),
    Column("note", String(200)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("overdue_notified_at", DateTime(timezone=True)),  # the party's stream got the event
    UniqueConstraint("obligation", "message_id", name="uq_obligations_message"),
    Index("ix_obligations_party", "party", "state", "due"),
    Index("ix_obligations_state", "state", "due"),
)

# --- StUF-GGk envelopes (gateway.ggk, issue 17) -----------------------------------------------

def _envelope_columns() -> list[Column]:
    """An envelope as received and the answer the gateway built for it (new Column objects: a
    column belongs to one table)."""
    return [
        Column("berichtcode", String(4), nullable=False),  # Di01 | Du01
        Column("zender", String(64), nullable=False),
        Column("zender_applicatie", String(64)),
        Column("ontvanger", String(64)),
        Column("referentienummer", String(40), nullable=False),
        Column("cross_refnummer", String(40)),
        Column("functie", String(8)),
        Column("functie_versie", String(4)),
        Column("functie_subversie", String(4)),
        Column("applicatie_versie", String(4)),
        Column("applicatie_subversie", String(4)),
        Column("tijdstip_bericht", String(17)),
        Column("envelope", LargeBinary, nullable=False),  # as received
        Column("envelope_sha256", String(64), nullable=False),
        Column("answer", LargeBinary),  # the Du01 or Fo01 the gateway built
        Column("answer_code", String(4)),  # Du01 | Fo01
        Column("answer_referentienummer", String(40)),
    ]


# The envelope a message arrived in (Di01/Du01) and the envelope the gateway answered it with
# (a Du01 around the retour, or a Fo01 StUF055 for a payload that fails its XSD), kept in the
# message's own row (revision 0014): a row of its own in a table of its own cost every enveloped
# message an insert and, on SQLite, the pages of that table and its two indexes at the commit
# (issue 17: an enveloped message may cost at most 10 % more than the bare one). NULL for a
# message that came bare. (envelope_zender, envelope_referentienummer) is unique: IB216.
ENVELOPE_FIELDS = tuple(c.name for c in _envelope_columns())


def stored_envelope_column(name: str) -> str:
    """The messages column that keeps the envelope field `name` (envelope, envelope_sha256 as they
    are; the rest with the prefix envelope_)."""
    return name if name.startswith("envelope") else f"envelope_{name}"


for _column in _envelope_columns():
    messages.append_column(Column(stored_envelope_column(_column.name), _column.type))
# Where the base64 of the message (in the envelope) and of its retour (in the Du01) was cut out of
# the bytes kept (revision 0015, gateway.store.elided); NULL: kept whole.
messages.append_column(Column("envelope_payload_at", Integer))
messages.append_column(Column("envelope_answer_payload_at", Integer))
_HAS_ENVELOPE = "envelope_referentienummer IS NOT NULL"
Index("uq_messages_envelope_reference", messages.c.envelope_zender, messages.c.envelope_referentienummer,
      unique=True, sqlite_where=text(_HAS_ENVELOPE), postgresql_where=text(_HAS_ENVELOPE))
# A Du01 answering one of our envelopes names it in crossRefnummer (linked at read time). Only
# rows with one (Du01s): the query (crossRefnummer IN ...) never asks for NULL (revision 0011).
Index("ix_messages_envelope_cross_ref", messages.c.envelope_cross_refnummer,
      sqlite_where=text("envelope_cross_refnummer IS NOT NULL"),
      postgresql_where=text("envelope_cross_refnummer IS NOT NULL"))

# The envelopes of the messages that came enveloped, under the names of the envelope's fields
# (message_id, berichtcode, zender, ... answer_referentienummer): what the readers select from.
# The bytes are there as kept (envelope_cut, answer_cut, with the offsets of their payload):
# gateway.store.elided.whole_row gives them back whole. Written through the message row
# (Transaction.save_message(envelope=...)).
_CUT = {"envelope": "envelope_cut", "answer": "answer_cut"}
message_envelopes = (
    select(messages.c.id.label("message_id"),
           *(messages.c[stored_envelope_column(name)].label(_CUT.get(name, name)) for name in ENVELOPE_FIELDS),
           messages.c.envelope_payload_at.label("envelope_payload_at"),
           messages.c.envelope_answer_payload_at.label("answer_payload_at"))
    .where(messages.c.envelope_referentienummer.is_not(None))
    .subquery("message_envelopes")
)

# A further envelope (its own referentienummer) that brought the payload of a message already
# stored: the message is not stored again, the envelope is, with the Du01 it was answered with
# (revision 0010). (zender, referentienummer) is unique here too; IB216 looks in both tables, and a
# new enveloped message's reference is looked up here (Transaction.repeat_took, revision 0016; in
# the statement of its duplicate check: Transaction.find_same_or_repeat).
envelope_repeats = Table(
    "envelope_repeats",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("message_id", String(26), ForeignKey("messages.id"), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("transport", String(16)),
    Column("received_by", String(64)),
    *_envelope_columns(),
    UniqueConstraint("zender", "referentienummer", name="uq_envelope_repeats_reference"),
    Index("ix_envelope_repeats_message", "message_id"),
    Index("ix_envelope_repeats_answer_ref", "answer_referentienummer"),
)

# --- StUF-GGk outbound (gateway.ggk.outbound, gateway.routing.soap_delivery; revision 0009) ------

# A party reached through the ISD chain: municipal heenberichten to it leave in a Di01, and with a
# soap_url every envelope for it (Di01, Du01, Fo01) is delivered there over OntvangAsynchroon.
ggk_parties = Table(
    "ggk_parties",
    metadata,
    Column("party_id", String(16), ForeignKey("parties.party_id"), primary_key=True),
    Column("soap_url", String(500)),  # the peer's OntvangAsynchroon address; NULL: stream/topics only
    Column("wsdl_url", String(500)),  # NULL: the gateway's own WSDL (the same contract), locally
    Column("tls_ca", String(500)),  # CA bundle (PEM) to verify the peer; NULL: the system's
    Column("tls_cert", String(500)),  # our client certificate (PEM) towards the peer
    Column("tls_key", String(500)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Every Di01 the gateway sends (a municipal heenbericht), by its referentienummer: the Du01 or
# Fo01 that comes back names it in crossRefnummer.
outgoing_envelopes = Table(
    "outgoing_envelopes",
    metadata,
    Column("referentienummer", String(40), primary_key=True),
    Column("message_id", String(26), ForeignKey("messages.id"), nullable=False),
    Column("berichtcode", String(4), nullable=False),  # Di01
    Column("zender", String(64), nullable=False),
    Column("ontvanger", String(64), nullable=False),
    Column("functie", String(8), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_outgoing_envelopes_message", "message_id"),
)

# Fo01s received from the chain (or a party): stored whole, linked to the message whose outgoing
# envelope (Di01, or the Du01/Fo01 answer) their crossRefnummer names; message_id NULL: unlinked.
received_fo01 = Table(
    "received_fo01",
    metadata,
    _id(),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("zender", String(64), nullable=False),
    Column("ontvanger", String(64)),
    Column("referentienummer", String(40), nullable=False),
    Column("cross_refnummer", String(40)),
    Column("code", String(8), nullable=False),
    Column("plek", String(8), nullable=False),
    Column("omschrijving", String(255), nullable=False),
    Column("details", Text),
    Column("fo01", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("message_id", String(26), ForeignKey("messages.id")),
    Column("transport", String(16)),
    Column("received_by", String(64)),
    UniqueConstraint("zender", "referentienummer", name="uq_received_fo01_reference"),
    Index("ix_received_fo01_message", "message_id"),
    Index("ix_received_fo01_cross_ref", "cross_refnummer"),
    Index("ix_received_fo01_received", "received_at", "id"),
)

# --- large values (revision 0017) ------------------------------------------------------------

# On SQLite a value of a MiB or more (a 50 MB declaration, the 90 MB 325 rejecting all its
# prestaties, their 45 MB of issues) is kept in a row of its own here, the value the row's last
# column: SQLite writes it there through the blob API without building it in memory, where in the
# middle of a message row it expanded the value (and the row's other large values) in memory in
# full: +350 MB for one rejected declaration. The row keeps a placeholder in its column (b"", the
# issues "[]") and the id in <column>_ref; an outbox row carrying the same bytes (the 325 to the
# aanbieder, the 323 to the gemeente) refers to the same large value instead of a second copy.
# PostgreSQL keeps every value in its row (the refs stay NULL). Readers select `stored(column)`
# (or `with_stored(table)`), never the column itself.
large_values = Table(
    "large_values",
    metadata,
    _id(),
    Column("data", LargeBinary, nullable=False),
)
messages.append_column(Column("raw_ref", BigInteger))
messages.append_column(Column("retour_ref", BigInteger))
messages.append_column(Column("issues_ref", BigInteger))
outbox.append_column(Column("payload_ref", BigInteger))
# table -> {column: the column naming its large_values row}
LARGE_REFS: dict[str, dict[str, str]] = {
    "messages": {"raw": "raw_ref", "retour": "retour_ref", "issues": "issues_ref"},
    "outbox": {"payload": "payload_ref"},
}
_REF_COLUMNS = {ref for refs in LARGE_REFS.values() for ref in refs.values()}


class _Stored(ColumnElement):
    """A column's value whole: from its row, or from large_values (SQLite; see `stored`)."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement),
                           ("ref", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: Column, ref: Column) -> None:
        self.column, self.ref, self.type = column, ref, column.type

    @property
    def _from_objects(self) -> list:
        return self.column._from_objects


@compiles(_Stored)
def _stored_sql(element: _Stored, compiler, **kw) -> str:  # noqa: ANN001
    kept = select(large_values.c.data).where(large_values.c.id == element.ref).scalar_subquery()
    return compiler.process(case((element.ref.is_(None), element.column), else_=kept), **kw)


@compiles(_Stored, "postgresql")
def _stored_in_row(element: _Stored, compiler, **kw) -> str:  # noqa: ANN001
    return compiler.process(element.column, **kw)  # PostgreSQL keeps its values in their rows


def stored(column: Column, label: bool = True):  # noqa: ANN201
    """`column`'s value whole (labelled with its name unless `label` is false)."""
    if column is outbox.c.payload:
        found = _outbox_payload()
    else:
        found = _Stored(column, column.table.c[LARGE_REFS[column.table.name][column.name]])
    return found.label(column.name) if label else found


def with_stored(table: Table) -> list:
    """The columns of `table` to select instead of `table` itself: large values whole, no refs."""
    refs = LARGE_REFS.get(table.name, {})
    return [stored(c) if c.name in refs else c for c in table.c if c.name not in _REF_COLUMNS]


# --- outbox payloads that are their message's bytes (revision 0018) ----------------------------

# Most outbox rows carry the bytes of their message's row: the message to its receiver (raw), the
# retour to its sender (retour), or for a message that came in a Di01 the Du01 around its retour
# (answer: the row keeps it cut, gateway.store.elided). Copied into the outbox row, they cost every
# message some 2 KB more in the WAL and, on SQLite, about a page of the outbox table each (a row of
# 2 KB fills half a page). Such a row names them instead (payload_of "raw", "retour" or "answer";
# its payload b""); NULL: the payload is its own (an envelope, a typed view, a Du01 kept whole, a
# row written before 0018). Raw, retour and the answer are never changed once stored, and a message
# row outlives its outbox rows (their foreign key), so the bytes stay readable. Readers select
# `stored(outbox.c.payload)` as for large values.
outbox.append_column(Column("payload_of", String(8)))
OUTBOX_PAYLOAD_OF = ("raw", "retour", "answer")
_REF_COLUMNS.add("payload_of")
# The SQLite function that puts a cut answer together (registered by gateway.store.engine).
ELIDED_WHOLE = "elided_whole"


class _Whole(ColumnElement):
    """elided.whole(cut, at, payload) in SQL: `cut` with the base64 of `payload` back at `at`."""

    inherit_cache = True
    _traverse_internals = [("cut", InternalTraversal.dp_clauseelement),
                           ("at", InternalTraversal.dp_clauseelement),
                           ("payload", InternalTraversal.dp_clauseelement)]

    def __init__(self, cut: ColumnElement, at: ColumnElement, payload: ColumnElement) -> None:
        self.cut, self.at, self.payload, self.type = cut, at, payload, LargeBinary()

    @property
    def _from_objects(self) -> list:
        return self.cut._from_objects


@compiles(_Whole)
def _whole_sql(element: _Whole, compiler, **kw) -> str:  # noqa: ANN001
    args = ", ".join(compiler.process(e, **kw) for e in (element.cut, element.at, element.payload))
    return f"{ELIDED_WHOLE}({args})"


@compiles(_Whole, "postgresql")
def _whole_in_sql(element: _Whole, compiler, **kw) -> str:  # noqa: ANN001
    # encode(..., 'base64') breaks its lines every 76 characters; pybase64 writes one run
    cut, at, payload = (compiler.process(e, **kw) for e in (element.cut, element.at, element.payload))
    return (f"CASE WHEN {at} IS NULL THEN {cut} ELSE overlay({cut} placing "
            f"convert_to(replace(encode({payload}, 'base64'), chr(10), ''), 'UTF8') from {at} + 1 for 0) END")


def _outbox_payload() -> ColumnElement:
    """An outbox row's payload whole: its own, or its message's raw, retour or answer."""
    o, m = outbox.c, messages.c
    of_message = {"raw": stored(m.raw, label=False), "retour": stored(m.retour, label=False),
                  "answer": _Whole(m.envelope_answer, m.envelope_answer_payload_at, stored(m.retour, label=False))}
    return case(*((o.payload_of == name, select(of_message[name]).where(m.id == o.message_id).scalar_subquery())
                  for name in OUTBOX_PAYLOAD_OF),
                else_=_Stored(o.payload, o.payload_ref))
