"""Helpers shared by the in-message rules: dates, amounts, logical keys and product stacking.

Rules run after the XSD, so values normally have the right lexical form; the helpers still
return None for a value they cannot read, and rules then skip that location rather than fail.
"""

from __future__ import annotations

import bisect
import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from lxml import etree

from validators.engine import Rule, RuleContext
from validators.extract import as_date
from validators.issues import Issue
from validators.paths import PathIndex, along, child, fields, first, local_name, reach, scope_memo, text

OPEN_END = date.max
# iWmo: categories 11-14 (hulpmiddelen) may overlap (TR302, TR386, TR410 iWmo variants).
WMO_OVERLAP_CATEGORIES = frozenset({"11", "12", "13", "14"})
_ELFPROEF_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)
# Paths followed per rule run that validators.paths.scope_memo keeps (a bound for huge messages).
_MEMO_MAX = 4096
# Dates after which the "Omvang empty without Code" conditions apply (CD080, CD095, CD096, CS338, CS343).
CUTOFF_2020 = date(2020, 12, 31)


# --- values -------------------------------------------------------------------------------


parse_date = as_date  # one reading of a date for the rules and the store's extracts


def date_of(el: etree._Element | None, *names: str) -> date | None:
    return parse_date(text(el, *names))


def parse_int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


# The Header's children and BerichtIdentificatie's at their places in the schema's sequences
# (every one of them is mandatory): a rule reads the one element it needs there instead of
# grouping all nine. An element found elsewhere (a comment in between, a tree that is not
# schema-valid) is looked up by name as usual.
_HEADER_AT = {
    "BerichtCode": 0,
    "BerichtVersie": 1,
    "BerichtSubversie": 2,
    "Afzender": 3,
    "Ontvanger": 4,
    "BerichtIdentificatie": 5,
    "XsdVersie": 6,
}
_BERICHTIDENTIFICATIE_AT = {"Identificatie": 0, "Dagtekening": 1}


def _at(parent: etree._Element | None, name: str, places: dict[str, int]) -> etree._Element | None:
    """The child `name` of `parent`, read at its schema place when it is there."""
    if parent is None:
        return None
    place = places.get(name)
    if place is not None:
        try:
            el = parent[place]
        except IndexError:
            el = None
        if el is not None and local_name(el) == name:
            return el
    return first(fields(parent), name)


def header_child(root: etree._Element, name: str) -> etree._Element | None:
    """Header/`name` of a message."""
    return _at(first(fields(root), "Header"), name, _HEADER_AT)


def dagtekening_el(root: etree._Element) -> etree._Element | None:
    """Header/BerichtIdentificatie/Dagtekening, the element the date rules compare with."""
    return _at(header_child(root, "BerichtIdentificatie"), "Dagtekening", _BERICHTIDENTIFICATIE_AT)


def dagtekening(root: etree._Element) -> date | None:
    """Header/BerichtIdentificatie/Dagtekening: the reference date of most date rules."""
    memo = scope_memo()
    if memo is None:
        el = dagtekening_el(root)
        return parse_date(el.text) if el is not None else None
    key = ("dagtekening", root)
    found = memo.get(key, memo)
    if found is memo:
        el = dagtekening_el(root)
        found = memo[key] = parse_date(el.text) if el is not None else None
    return found


def years_before(d: date, years: int) -> date:
    """The same calendar day `years` earlier (29 February falls back to 28 February)."""
    try:
        return d.replace(year=d.year - years)
    except ValueError:
        return d.replace(year=d.year - years, day=28)


def signed_amount(el: etree._Element | None, amount_name: str = "Bedrag") -> int | None:
    """A (Totaal)Bedrag with its DebetCredit as a signed integer in eurocent (credit negative)."""
    if el is None:
        return None
    amount = parse_int(text(el, amount_name))
    if amount is None:
        return None
    return -amount if (text(el, "DebetCredit") or "").strip() == "C" else amount


def is_filled(el: etree._Element | None, *names: str) -> bool:
    """True when the element reached by `names` exists (the XSD forbids empty elements, RS033)."""
    return reach(el, *names) is not None


def elfproef(bsn: str) -> bool:
    """The BSN 11-proef (CS002): 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 divisible by 11."""
    if len(bsn) != 9 or not bsn.isdigit():
        return False
    if bsn.isascii():  # digits 0-9: their code points minus 48 (the weights sum to 43)
        d = bsn.encode("ascii")
        total = 9 * d[0] + 8 * d[1] + 7 * d[2] + 6 * d[3] + 5 * d[4] + 4 * d[5] + 3 * d[6] + 2 * d[7] - d[8] - 43 * 48
        return total % 11 == 0
    total = sum(map(operator.mul, _ELFPROEF_WEIGHTS, map(int, bsn)))
    return total % 11 == 0


# --- walking the message ------------------------------------------------------------------


def descendants(el: etree._Element | None, *names: str) -> list[etree._Element]:
    """Elements reached by following `names` from `el`, where every step may match many children.
    In a rule run (validators.paths.fixed_trees) each path is followed once: many rules of a
    message walk the same classes (products, contacts)."""
    if el is None:
        return []
    memo = scope_memo()
    if memo is None:
        return along(el, names)
    key = (el, names)
    found = memo.get(key)
    if found is None:
        found = along(el, names)
        if len(memo) >= _MEMO_MAX:
            return found
        memo[key] = found
    return list(found)


def body(root: etree._Element) -> etree._Element | None:
    """The first element after the Header (Client, Antwoord, Declaratie, DeclaratieAntwoord)."""
    for c in root:
        if isinstance(c.tag, str) and local_name(c) != "Header":
            return c
    return None


def per_message(ctx: RuleContext, key: str, read: Callable[[RuleContext], Any]) -> Any:
    """`read(ctx)` once per rule run: the classes several rules of a message walk (contacts,
    names, products) with their children by name, kept in the run's RuleContext.extra under `key`
    ("in-message.<what>"). `read` is a module-level function, so asking costs no closure. Rules
    only read what it returns."""
    found = ctx.extra.get(key)
    if found is None:
        found = ctx.extra[key] = read(ctx)
    return found


def _read_contacts(ctx: RuleContext) -> list[tuple[etree._Element, dict, dict]]:
    client = first(fields(ctx.root), "Client")
    out = []
    listed = descendants(client, "Contactgegevens", "Contact")
    listed += descendants(client, "Relaties", "Relatie", "Contact")
    for contact in listed:
        f = fields(contact)
        out.append((contact, f, fields(first(f, "Adres"))))
    return out


def contacts(ctx: RuleContext) -> list[tuple[etree._Element, dict, dict]]:
    """(contact, its children by name, its Adres's children by name) of the client's contacts
    (Contactgegevens) and then the relaties' contacts, read once per run for the rules that look
    at them (TR006, CD005, CD009, CD025, CD034, CS089)."""
    return per_message(ctx, "in-message.contacts", _read_contacts)


def _read_geboortedata(ctx: RuleContext) -> tuple[list, list]:
    client = first(fields(ctx.root), "Client")
    own, relaties = [], []
    for g in fields(client).get("Geboortedatum", ()):
        own.append((g, fields(g)))
    for g in descendants(client, "Relaties", "Relatie", "Geboortedatum"):
        relaties.append((g, fields(g)))
    return own, relaties


def geboortedata(ctx: RuleContext) -> tuple[list[tuple[etree._Element, dict]], list[tuple[etree._Element, dict]]]:
    """The Geboortedatum elements of the client and of the relaties, each with its children by
    name, read once per run for TR002 and CS139."""
    return per_message(ctx, "in-message.geboortedata", _read_geboortedata)


# --- issues with paths from one index ------------------------------------------------------


def path_index(ctx: RuleContext) -> PathIndex:
    """The run's shared path index (validators.paths), made on first use."""
    index = ctx.extra.get("path_index")
    if index is None:
        index = ctx.extra["path_index"] = PathIndex(ctx.root)
    return index


def path_of(ctx: RuleContext, el: etree._Element) -> str:
    """The report path of `el` (validators.paths format), from the run's shared index."""
    return path_index(ctx).path(el)


def issue(
    rule: Rule,
    ctx: RuleContext,
    el: etree._Element | None,
    text_: str,
    *,
    also: Iterable[etree._Element | None] = (),
    class_el: etree._Element | None = None,
) -> Issue:
    """An issue of `rule` at `el` and the other existing elements its check compared (`also`),
    with paths from the run's index: `locations` in document order, `path` the first of them."""
    index = path_index(ctx)
    locations = index.locations([el, *also]) if also else ([index.path(el)] if el is not None else [])
    return Issue(
        rule=rule.code,
        severity=rule.severity,
        path=locations[0] if locations else None,
        locations=locations,
        line=el.sourceline if el is not None else None,
        text=text_,
        retourcode=rule.retourcode,
        class_path=index.path(class_el) if class_el is not None else None,
    )


def missing(rule: Rule, ctx: RuleContext, parent: etree._Element, name: str, text_: str) -> Issue:
    """An issue about an element that should be present: the path names where it belongs."""
    found = issue(rule, ctx, parent, text_)
    found.path = f"{found.path}/{name}"
    found.locations = [found.path]
    return found


# --- logical keys (TR101) -----------------------------------------------------------------


def key_of(el: etree._Element, parts: Iterable[tuple[str, ...]]) -> tuple[str | None, ...]:
    """The values of the key elements (each a path of names below `el`), None where absent.
    Paths that share their first step (ProductReferentie/ReferentieNummer and .../VorigReferentieNummer)
    look that step up once: TR101 reads the key of every Prestatie of a declaration."""
    values = []
    first_name = first = None
    for p in parts:
        if len(p) > 1:
            if p[0] != first_name:
                first_name, first = p[0], child(el, p[0])
            value = text(first, *p[1:]) if first is not None else None
        else:
            value = text(el, *p)
        values.append((value or "").strip() or None)
    return tuple(values)


def later_duplicates(
    items: Iterable[tuple[etree._Element, tuple]],
) -> Iterator[tuple[etree._Element, etree._Element]]:
    """(duplicate, first) for every item whose key was already seen: one dict, linear."""
    first: dict[tuple, etree._Element] = {}
    for el, key in items:
        seen = first.get(key)
        if seen is None:
            first[key] = el
        else:
            yield el, seen


# --- product stacking (TR302, TR386, TR410) -----------------------------------------------


@dataclass(frozen=True)
class Period:
    """A product with its care period; `category`/`code` None when absent (aspecific/generic)."""

    el: etree._Element
    category: str | None
    code: str | None
    start: date
    end: date  # OPEN_END when open


class _Index:
    """Intervals sorted by start with the two largest ends so far: 'does any overlap?' in log n."""

    def __init__(self, items: list[tuple[int, Period]]) -> None:
        items = sorted(items, key=lambda ip: ip[1].start)
        self.starts = [p.start for _, p in items]
        # prefix top-2 of (end, id) so that a query can exclude the asking element itself
        self.top: list[tuple[tuple[date, int], tuple[date, int] | None]] = []
        best: tuple[date, int] | None = None
        second: tuple[date, int] | None = None
        for i, p in items:
            cand = (p.end, i)
            if best is None or cand[0] > best[0]:
                best, second = cand, best
            elif second is None or cand[0] > second[0]:
                second = cand
            self.top.append((best, second))

    def overlaps(self, ident: int, p: Period) -> bool:
        n = bisect.bisect_right(self.starts, p.end)  # intervals starting on or before p.end
        if n == 0:
            return False
        best, second = self.top[n - 1]
        end = best[0] if best[1] != ident else (second[0] if second else None)
        return end is not None and end >= p.start


def stacked(periods: list[Period], *, wmo: bool) -> list[tuple[Period, str]]:
    """The products whose period overlaps another product that counts as the same (with reason).

    Same product: same Categorie and Code; without Code, the same Categorie; without Categorie
    (generic), any product. iWmo: categories 11-14 may overlap anything, and a generic product
    may overlap those categories. Runs in n log n: one sorted index per comparison group.
    """
    if len(periods) < 2:
        return []  # nothing to overlap with
    if wmo:
        free = {i for i, p in enumerate(periods) if p.category in WMO_OVERLAP_CATEGORIES}
    else:
        free = set()
    live = [(i, p) for i, p in enumerate(periods) if i not in free]
    by_product: dict[tuple[str, str], list] = {}
    by_category: dict[str, list] = {}
    category_only: dict[str, list] = {}
    generic: list = []
    for i, p in live:
        if p.category is None:
            generic.append((i, p))
            continue
        by_category.setdefault(p.category, []).append((i, p))
        if p.code is None:
            category_only.setdefault(p.category, []).append((i, p))
        else:
            by_product.setdefault((p.category, p.code), []).append((i, p))
    idx_product = {k: _Index(v) for k, v in by_product.items()}
    idx_category = {k: _Index(v) for k, v in by_category.items()}
    idx_category_only = {k: _Index(v) for k, v in category_only.items()}
    idx_generic = _Index(generic)
    idx_all = _Index(live)

    found: list[tuple[Period, str]] = []
    for i, p in live:
        if p.category is None:
            if idx_all.overlaps(i, p):
                found.append((p, "a product without Categorie overlaps another product"))
            continue
        if p.code is not None:
            hit = idx_product[(p.category, p.code)].overlaps(i, p)
            co = idx_category_only.get(p.category)
            hit = hit or (co is not None and co.overlaps(i, p))
            what = f"product {p.category}/{p.code}"
        else:
            hit = idx_category[p.category].overlaps(i, p)
            what = f"category {p.category}"
        hit = hit or idx_generic.overlaps(i, p)
        if hit:
            found.append((p, f"{what} occurs more than once with overlapping periods"))
    return found


# --- declaration rows (323/325): one pass over the prestaties, shared by every rule ----------


@dataclass(slots=True)
class PrestatieRow:
    """The values of one Prestatie, read once. Keys are local names below the Prestatie, two
    levels deep ("ToewijzingNummer", "ProductPeriode/Einddatum", "IngediendBedrag/DebetCredit")."""

    el: etree._Element
    client: etree._Element
    values: dict[str, str | None]
    begin: date | None
    end: date | None

    def get(self, key: str) -> str | None:
        value = self.values.get(key)
        return value.strip() if value is not None else None

    def has(self, key: str) -> bool:
        return key in self.values

    def find(self, key: str) -> etree._Element | None:
        """The element for `key`, for reporting (only called on the few offending rows)."""
        node: etree._Element | None = self.el
        for name in key.split("/"):
            node = child(node, name)
        return node

    @property
    def signed(self) -> int:
        amount = parse_int(self.values.get("IngediendBedrag/Bedrag")) or 0
        return -amount if self.get("IngediendBedrag/DebetCredit") == "C" else amount


_LOCAL: dict[str, str] = {}


def _local(tag: str) -> str:
    """Local name of a Clark-notation tag; memoised, as a message repeats few tags many times."""
    name = _LOCAL.get(tag)
    if name is None:
        if len(_LOCAL) > 10_000:  # tags come from outside: keep the memo bounded
            _LOCAL.clear()
        name = _LOCAL[tag] = tag.rsplit("}", 1)[-1]
    return name


_NEW: dict = {}  # (never filled: stands for a key not met yet)
_SHARED_MAX = 1024  # distinct texts of one key worth sharing


def _share(shared: dict[str, dict[str, str] | None], seen: dict[str, str], key: str, value: str) -> str:
    """`value`, met for the first time under `key` (prestatie_rows): kept to be shared."""
    if seen is _NEW:
        seen = shared[key] = {}
    if len(seen) >= _SHARED_MAX:
        shared[key] = None  # (mostly) distinct texts: sharing would only cost
    else:
        seen[value] = value
    return value


class RowsStopped(Exception):
    """prestatie_rows gave up because its `stop` said so."""


def prestatie_rows(
    root: etree._Element, extra: dict | None = None, stop: Callable[[], bool] | None = None
) -> list[PrestatieRow]:
    """Every Prestatie of a 323 or 325 as a row; cached in `extra` (the RuleContext's) so the
    rules of one run read a large declaration once. `stop`, asked before each client, ends the
    read with RowsStopped when it says true (the rows are no longer wanted)."""
    if extra is not None and "prestatie_rows" in extra:
        return extra["prestatie_rows"]
    top = child(root, "Declaratie")
    if top is None:
        top = child(root, "DeclaratieAntwoord")
    rows: list[PrestatieRow] = []
    local = _LOCAL
    append = rows.append
    # "Group/Name" keys and dates repeat across the prestaties: made once, then shared.
    joined: dict[str, dict[str, str]] = {}
    dates: dict[str | None, date | None] = {}
    # Most texts repeat (categories, codes, dates, amounts): each distinct one kept once per key,
    # a third of the rows' memory. A key with many distinct texts (ReferentieNummer) stops sharing.
    shared: dict[str, dict[str, str] | None] = {}
    # The innermost loop runs a million times for 100,000 prestaties: the memo is read inline
    # (a call per element costs more than the lookup) and _local only fills it.
    for client in descendants(top, "Clienten", "Client"):
        if stop is not None and stop():
            raise RowsStopped
        for p in client.iterfind("{*}Prestaties/{*}Prestatie"):
            values: dict[str, str | None] = {}
            # All children with the tag's type checked here: an element-type filter
            # (iterchildren(etree.Element)) builds a matcher per call, five calls per prestatie;
            # p[:] makes the list in one C call, a fifth cheaper per child than lxml's iterator.
            for c in p[:]:
                tag = c.tag
                name = local.get(tag)
                if name is None:
                    if not isinstance(tag, str):  # a comment or processing instruction
                        continue
                    name = _local(tag)
                if len(c):
                    keys = joined.get(name)
                    if keys is None:
                        keys = joined[name] = {}
                    for g in c[:]:
                        gtag = g.tag
                        gname = local.get(gtag)
                        if gname is None:
                            if not isinstance(gtag, str):
                                continue
                            gname = _local(gtag)
                        key = keys.get(gname)
                        if key is None:
                            key = keys[gname] = name + "/" + gname
                        value = g.text
                        seen = shared.get(key, _NEW)
                        if seen is not None and value is not None:
                            value = seen.get(value) or _share(shared, seen, key, value)
                        values[key] = value
                else:
                    value = c.text
                    seen = shared.get(name, _NEW)
                    if seen is not None and value is not None:
                        value = seen.get(value) or _share(shared, seen, name, value)
                    values[name] = value
            begin, end = values.get("ProductPeriode/Begindatum"), values.get("ProductPeriode/Einddatum")
            begin = dates[begin] if begin in dates else dates.setdefault(begin, parse_date(begin))
            end = dates[end] if end in dates else dates.setdefault(end, parse_date(end))
            append(PrestatieRow(p, client, values, begin, end))
    if extra is not None:
        extra["prestatie_rows"] = rows
    return rows
