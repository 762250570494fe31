"""Read the fields the store and the cross-message rules need out of a parsed message.

Namespace-agnostic (`validators.paths`), tolerant: a missing or malformed value becomes None, as
the schema and in-message rules have already judged the message's form.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lxml import etree

from validators.paths import child, children, element_path, forget_recent, text

El = etree._Element


def as_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def as_int(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def _s(value: str | None) -> str | None:
    value = value.strip() if value is not None else None
    return value or None


@dataclass
class Header:
    berichtcode: str | None
    afzender: str | None
    ontvanger: str | None
    identificatie: str | None
    dagtekening: date | None
    dagtekening_text: str | None
    xsd_versie: dict[str, str | None]


_remembered = threading.local()


class remembered:  # noqa: N801 (used as a context manager, like a function)
    """While the block runs in this thread, `header(root)` is read once (the store, the routing
    plan and every cross-message rule ask for it: some 16 times per message). Nothing outlives
    the block: no tree is kept alive by a cache. `again`: what `current(root)` gave in an
    earlier block for the same tree (the group's state writes run after its rules), reused.
    `declaratie`: `declaratie(root)` when the caller has it already (`declaratie_from_rows`);
    `head`: `header(root)` likewise (read within the tree's fixed_trees scope: dictionary reads).
    (A class rather than @contextmanager: it is entered twice per message.)"""

    __slots__ = ("_entry", "_previous")

    def __init__(self, root: El, *, again: tuple | None = None, declaratie: Declaratie | None = None,
                 head: Header | None = None) -> None:
        if again is not None and again[0] is root:
            self._entry: tuple | None = again
        else:
            self._entry = (root, head if head is not None else _read_header(root),
                           {} if declaratie is None else {"declaratie": declaratie})

    def __enter__(self) -> None:
        self._previous = getattr(_remembered, "entry", None)
        _remembered.entry, self._entry = self._entry, None  # held by the thread's entry only:
        # forget_declaratie lets the declaration go

    def __exit__(self, *exc: object) -> None:
        _remembered.entry, self._previous = self._previous, None
        forget_recent()  # element_path's numbering must not keep this tree alive either


def current(root: El) -> tuple | None:
    """What this thread remembers of `root` now (for `remembered(root, again=...)`), or None."""
    entry = getattr(_remembered, "entry", None)
    return entry if entry is not None and entry[0] is root else None


def header(root: El) -> Header:
    entry = getattr(_remembered, "entry", None)
    if entry is not None and entry[0] is root:
        return entry[1]
    return _read_header(root)


def _read_header(root: El) -> Header:
    h = child(root, "Header")
    xsd = child(h, "XsdVersie")
    return Header(
        berichtcode=_s(text(h, "BerichtCode")),
        afzender=_s(text(h, "Afzender")),
        ontvanger=_s(text(h, "Ontvanger")),
        identificatie=_s(text(h, "BerichtIdentificatie", "Identificatie")),
        dagtekening=as_date(text(h, "BerichtIdentificatie", "Dagtekening")),
        dagtekening_text=_s(text(h, "BerichtIdentificatie", "Dagtekening")),
        xsd_versie={
            "basis": _s(text(xsd, "BasisschemaXsdVersie")),
            "bericht": _s(text(xsd, "BerichtXsdVersie")),
        },
    )


def client_bsn(root: El) -> str | None:
    """The BSN of the single client of 301/305/307/315/317 (None for 319/323/325)."""
    return _s(text(root, "Client", "Bsn"))


@dataclass
class Omvang:
    volume: int | None
    eenheid: str | None
    frequentie: str | None


def omvang(el: El | None) -> Omvang | None:
    o = child(el, "Omvang")
    if o is None:
        return None
    return Omvang(as_int(text(o, "Volume")), _s(text(o, "Eenheid")), _s(text(o, "Frequentie")))


@dataclass
class Allocation:
    el: El
    toewijzingnummer: str | None
    referentie_aanbieder: str | None
    categorie: str | None
    code: str | None
    toewijzingsdatum: date | None
    toewijzingstijd: str | None
    ingangsdatum: date | None
    einddatum: date | None
    reden_wijziging: str | None
    omvang: Omvang | None
    budget: int | None


def allocations(root: El) -> list[Allocation]:
    container = child(child(root, "Client"), "ToegewezenProducten")
    if container is None:
        return []
    out = []
    for tp in children(container, "ToegewezenProduct"):
        out.append(
            Allocation(
                el=tp,
                toewijzingnummer=_s(text(tp, "ToewijzingNummer")),
                referentie_aanbieder=_s(text(tp, "ReferentieAanbieder")),
                categorie=_s(text(tp, "Product", "Categorie")),
                code=_s(text(tp, "Product", "Code")),
                toewijzingsdatum=as_date(text(tp, "Toewijzingsdatum")),
                toewijzingstijd=_s(text(tp, "Toewijzingstijd")),
                ingangsdatum=as_date(text(tp, "Ingangsdatum")),
                einddatum=as_date(text(tp, "Einddatum")),
                reden_wijziging=_s(text(tp, "RedenWijziging")),
                omvang=omvang(tp),
                budget=as_int(text(tp, "Budget")),
            )
        )
    return out


@dataclass
class RegieItem:
    """A StartProduct (305) or StopProduct (307)."""

    el: El
    toewijzingnummer: str | None
    categorie: str | None
    code: str | None
    toewijzing_ingangsdatum: date | None
    begindatum: date | None
    status: str | None
    reden_beeindiging: str | None = None
    einddatum: date | None = None

    def start_key(self) -> tuple:
        return (self.toewijzingnummer or "", self.categorie or "", self.code or "", self.begindatum)

    def stop_key(self) -> tuple:
        return self.start_key() + (self.reden_beeindiging or "", self.einddatum)


def regie_items(root: El) -> list[RegieItem]:
    client = child(root, "Client")
    out = []
    for group, name in (("StartProducten", "StartProduct"), ("StopProducten", "StopProduct")):
        container = child(client, group)
        if container is None:
            continue
        for el in children(container, name):
            out.append(
                RegieItem(
                    el=el,
                    toewijzingnummer=_s(text(el, "ToewijzingNummer")),
                    categorie=_s(text(el, "Product", "Categorie")),
                    code=_s(text(el, "Product", "Code")),
                    toewijzing_ingangsdatum=as_date(text(el, "ToewijzingIngangsdatum")),
                    begindatum=as_date(text(el, "Begindatum")),
                    status=_s(text(el, "StatusAanlevering")),
                    reden_beeindiging=_s(text(el, "RedenBeeindiging")),
                    einddatum=as_date(text(el, "Einddatum")),
                )
            )
    return out


@dataclass
class RequestedProduct:
    el: El
    referentie_aanbieder: str | None
    categorie: str | None
    code: str | None


def requested_products(root: El) -> list[RequestedProduct]:
    container = child(child(root, "Client"), "AangevraagdeProducten")
    if container is None:
        return []
    return [
        RequestedProduct(
            el=el,
            referentie_aanbieder=_s(text(el, "ReferentieAanbieder")),
            categorie=_s(text(el, "Product", "Categorie")),
            code=_s(text(el, "Product", "Code")),
        )
        for el in children(container, "AangevraagdProduct")
    ]


@dataclass
class VowItem:
    """An OngewijzigdProduct, TeWijzigenProduct or NieuwProduct of a 317."""

    kind: str  # ongewijzigd | tewijzigen | nieuw
    el: El
    toewijzingnummer: str | None = None
    categorie: str | None = None
    code: str | None = None
    gewenste_ingangsdatum: date | None = None
    einddatum: date | None = None
    omvang: Omvang | None = None
    budget: int | None = None


@dataclass
class Verzoek:
    el: El | None
    referentie_aanbieder: str | None
    items: list[VowItem] = field(default_factory=list)


def verzoek(root: El) -> Verzoek:
    v = child(child(root, "Client"), "Verzoek")
    result = Verzoek(el=v, referentie_aanbieder=_s(text(v, "ReferentieAanbieder")))
    if v is None:
        return result
    for group, name, kind in (
        ("OngewijzigdeProducten", "OngewijzigdProduct", "ongewijzigd"),
        ("TeWijzigenProducten", "TeWijzigenProduct", "tewijzigen"),
        ("NieuweProducten", "NieuwProduct", "nieuw"),
    ):
        container = child(v, group)
        if container is None:
            continue
        for el in children(container, name):
            result.items.append(
                VowItem(
                    kind=kind,
                    el=el,
                    toewijzingnummer=_s(text(el, "ToewijzingNummer")),
                    categorie=_s(text(el, "Product", "Categorie")),
                    code=_s(text(el, "Product", "Code")),
                    gewenste_ingangsdatum=as_date(text(el, "GewensteIngangsdatum")),
                    einddatum=as_date(text(el, "Einddatum")),
                    omvang=omvang(el),
                    budget=as_int(text(el, "Budget")),
                )
            )
    return result


@dataclass
class Antwoord:
    el: El | None
    referentie_aanbieder: str | None
    verzoek_antwoord: str | None
    reden_afwijzing: str | None
    woonplaats_gemeente: El | None


def antwoord(root: El) -> Antwoord:
    a = child(root, "Antwoord")
    return Antwoord(
        el=a,
        referentie_aanbieder=_s(text(a, "ReferentieAanbieder")),
        verzoek_antwoord=_s(text(a, "VerzoekAntwoord")),
        reden_afwijzing=_s(text(a, "RedenAfwijzingVerzoek")),
        woonplaats_gemeente=child(child(a, "Woonplaatsbeginsel"), "Gemeente"),
    )


class Prestatie:
    """One prestatie of a declaration: plain slots, read once per message and shared by the
    cross-message rules, the contract rules and the store (100,000 of them in one 323)."""

    __slots__ = ("bedrag", "bsn", "categorie", "client_el", "code", "debet_credit", "eenheid", "el",
                 "periode_begin", "periode_eind", "referentienummer", "tarief", "toewijzingnummer",
                 "volume", "vorig_referentienummer")

    def __init__(self, el: El, client_el: El, bsn: str | None, referentienummer: str | None,
                 vorig_referentienummer: str | None, toewijzingnummer: str | None, categorie: str | None,
                 code: str | None, periode_begin: date | None, periode_eind: date | None, volume: int | None,
                 eenheid: str | None, tarief: int | None, bedrag: int | None, debet_credit: str | None) -> None:
        self.el = el
        self.client_el = client_el
        self.bsn = bsn
        self.referentienummer = referentienummer
        self.vorig_referentienummer = vorig_referentienummer
        self.toewijzingnummer = toewijzingnummer
        self.categorie = categorie
        self.code = code
        self.periode_begin = periode_begin
        self.periode_eind = periode_eind
        self.volume = volume
        self.eenheid = eenheid
        self.tarief = tarief
        self.bedrag = bedrag
        self.debet_credit = debet_credit

    @property
    def is_credit(self) -> bool:
        return self.debet_credit == "C"

    def __repr__(self) -> str:
        return f"Prestatie({self.referentienummer!r}, {self.toewijzingnummer!r}, {self.debet_credit!r})"


@dataclass
class Declaratie:
    el: El | None
    nummer: str | None
    periode_begin: date | None
    periode_eind: date | None
    prestaties: list[Prestatie] = field(default_factory=list)
    # prestatie_paths(self), kept once computed: the rules' issues, the 325 and the store use it
    paths: dict[int, str] | None = field(default=None, repr=False, compare=False)


def declaratie(root: El) -> Declaratie:
    """The Declaratie of a 323, or the DeclaratieAntwoord of a 325, with its prestaties. Inside
    `remembered(root)` it is read once: the rules, the contract rules and the store share it."""
    entry = getattr(_remembered, "entry", None)
    if entry is not None and entry[0] is root:
        found = entry[2].get("declaratie")
        if found is None:
            found = entry[2]["declaratie"] = _read_declaratie(root)
        return found
    return _read_declaratie(root)


def _declaratie_head(root: El) -> Declaratie:
    d = child(root, "Declaratie")
    if d is None:
        d = child(root, "DeclaratieAntwoord")
    return Declaratie(
        el=d,
        nummer=_s(text(d, "DeclaratieNummer")),
        periode_begin=as_date(text(d, "DeclaratiePeriode", "Begindatum")),
        periode_eind=as_date(text(d, "DeclaratiePeriode", "Einddatum")),
    )


def remembered_declaratie(root: El) -> Declaratie | None:
    """`declaratie(root)` when it was read already inside `remembered(root)`, else None (never
    reads it)."""
    entry = getattr(_remembered, "entry", None)
    return entry[2].get("declaratie") if entry is not None and entry[0] is root else None


def forget_declaratie(root: El) -> None:
    """Let go of the declaration remembered for `root` (its prestaties and paths) before the
    block ends: a rejected 323's, once its verdict is known."""
    entry = getattr(_remembered, "entry", None)
    if entry is not None and entry[0] is root:
        entry[2].pop("declaratie", None)


def _shared(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`convert` with each distinct value converted once (the caller's dict, for one message)."""
    seen: dict = {}

    def shared(value: Any) -> Any:
        found = seen.get(value, _MISSING)
        if found is _MISSING:
            found = seen[value] = convert(value)
        return found

    return shared


def _read_declaratie(root: El) -> Declaratie:
    result = _declaratie_head(root)
    clienten = child(result.el, "Clienten")
    if clienten is None:
        return result
    # Clark names of the message's own namespace: a dict lookup per field instead of a local-name
    # scan (the elements of a 323 are all in its namespace; the schema has checked that).
    tag = clienten.tag
    ns = tag[: tag.index("}") + 1] if tag.startswith("{") else ""
    t_client, t_bsn, t_group, t_prestatie = (ns + n for n in ("Client", "Bsn", "Prestaties", "Prestatie"))
    t_ref, t_nr, t_cat, t_code, t_per, t_vol, t_unit, t_tarief, t_amount = (
        ns + n for n in ("ProductReferentie", "ToewijzingNummer", "ProductCategorie", "ProductCode", "ProductPeriode",
                         "GeleverdVolume", "Eenheid", "ProductTarief", "IngediendBedrag"))
    out = result.prestaties
    append = out.append
    # Categories, codes, units, periods, volumes and amounts repeat across a declaration: each
    # distinct text is converted once and its value shared by every prestatie with that text.
    shared_s, as_shared_date, as_shared_int = _shared(_s), _shared(as_date), _shared(as_int)
    local = _LOCAL

    def stripped(el):  # noqa: ANN001, ANN202
        return None if el is None else shared_s(el.text)  # _te(el), shared

    def named(el):  # noqa: ANN001, ANN202
        """The texts of the children of `el` by local name (the first one wins): the children of
        ProductReferentie, ProductPeriode and IngediendBedrag are in the basisschema's namespace."""
        if el is None:
            return _NONE
        found = {}
        for c in reversed(el):
            tag = c.tag
            name = local.get(tag)
            if name is None:
                if not isinstance(tag, str):  # a comment or processing instruction
                    continue
                name = _local(tag)
            found[name] = c.text
        return found

    for client in clienten.iterchildren(t_client):
        bsn = _s(client.findtext(t_bsn))
        for group in client.iterchildren(t_group):
            for p in group.iterchildren(t_prestatie):
                f = {c.tag: c for c in reversed(p)}  # first one wins (one of each in a valid 323)
                ref = named(f.get(t_ref))
                per = named(f.get(t_per))
                amount = named(f.get(t_amount))
                vol = f.get(t_vol)
                tarief = f.get(t_tarief)
                append(Prestatie(
                    p, client, bsn,
                    _s(ref.get("ReferentieNummer")), _s(ref.get("VorigReferentieNummer")), _te(f.get(t_nr)),
                    stripped(f.get(t_cat)), stripped(f.get(t_code)), as_shared_date(per.get("Begindatum")),
                    as_shared_date(per.get("Einddatum")), as_shared_int(vol.text if vol is not None else None),
                    stripped(f.get(t_unit)), as_shared_int(tarief.text if tarief is not None else None),
                    as_shared_int(amount.get("Bedrag")), shared_s(amount.get("DebetCredit")),
                ))
            break  # one Prestaties per Client
    return result


def declaratie_from_rows(root: El, rows: Iterable[Any]) -> Declaratie:
    """`declaratie(root)` from the level-2 rules' reading of the prestaties
    (validators.common.prestatie_rows: each Prestatie's texts by "Group/Name") instead of from the
    elements again: 100,000 prestaties are a million elements, each read from lxml once more.
    Only for a tree that passed its schema: one of each element, all in the message's namespaces,
    so the rows' texts (the last of a name) are the elements' (the first) and the same values
    result, converted as `_read_declaratie` converts them."""
    result = _declaratie_head(root)
    if child(result.el, "Clienten") is None:
        return result
    append = result.prestaties.append
    shared_s, as_shared_date, as_shared_int = _shared(_s), _shared(as_date), _shared(as_int)
    client, bsn = None, None
    for row in rows:
        if row.client is not client:
            client = row.client
            tag = client.tag
            bsn = _s(client.findtext(tag[: tag.index("}") + 1] + "Bsn" if tag.startswith("{") else "Bsn"))
        get = row.values.get
        append(Prestatie(
            row.el, client, bsn,
            _fresh(get("ProductReferentie/ReferentieNummer")), _fresh(get("ProductReferentie/VorigReferentieNummer")),
            _fresh(get("ToewijzingNummer")), shared_s(get("ProductCategorie")), shared_s(get("ProductCode")),
            as_shared_date(get("ProductPeriode/Begindatum")), as_shared_date(get("ProductPeriode/Einddatum")),
            as_shared_int(get("GeleverdVolume")), shared_s(get("Eenheid")), as_shared_int(get("ProductTarief")),
            as_shared_int(get("IngediendBedrag/Bedrag")), shared_s(get("IngediendBedrag/DebetCredit")),
        ))
    return result


def _fresh(value: str | None) -> str | None:
    """`_s(value)` as a string of its own: a text of the rows kept by a Prestatie would keep the
    allocator's memory of the rows around it (they go when the declaration is made)."""
    value = _s(value)
    return value.encode().decode() if value is not None else None


_NONE: dict = {}
_MISSING = object()
_LOCAL: dict = {}


def _local(tag: str) -> str:
    """The local name of a Clark-notation tag, memoised (a declaration repeats a few tags)."""
    if len(_LOCAL) > 10_000:  # tags come from outside: keep the memo bounded
        _LOCAL.clear()
    name = _LOCAL[tag] = tag.rsplit("}", 1)[-1]
    return name


def _tx(el: El | None) -> str | None:
    return el.text if el is not None else None


def _te(el: El | None) -> str | None:
    if el is None:
        return None
    value = el.text
    if value is None:
        return None
    return value.strip() or None


def prestatie_paths(d: Declaratie) -> dict[int, str]:
    """Official paths of every Client and Prestatie, in one pass (element_path per element would
    count siblings again for each of 100 000 prestaties). Computed once per Declaratie."""
    if d.paths is not None:
        return d.paths
    out: dict[int, str] = {}
    clienten = [pr.client_el for pr in d.prestaties]
    if not clienten:
        d.paths = out
        return out
    parent = clienten[0].getparent()
    base = element_path(parent)
    clients = children(parent, "Client")
    for i, c in enumerate(clients, 1):
        cpath = f"{base}/Client[{i}]" if len(clients) > 1 else f"{base}/Client"
        out[id(c)] = cpath
        group = children(c, "Prestaties")
        items = children(group[0], "Prestatie") if group else []
        for j, el in enumerate(items, 1):
            out[id(el)] = f"{cpath}/Prestaties/Prestatie[{j}]" if len(items) > 1 else f"{cpath}/Prestaties/Prestatie"
    d.paths = out
    return out
