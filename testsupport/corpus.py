"""Corpora of sample messages on disk for CLI tests and benchmarks.

`write_corpus(dir, n)` writes n files that mix all 28 message types. Valid files come in stories,
one client each, in the order a real exchange has them (file names sort chronologically):

    301 302 305 306 307 308 315 316 319 320 317 318 323 325

(one story per standard in turn), with a toewijzing number, BSN, gemeente and aanbieder of its own,
so the valid files stay coherent across messages too (cross-message rules) when fed in name order.

With `invalid_ratio` a share of extra files carries one known defect each. A defective file is an
extra, corrupted copy of the next message with its own Identificatie: a rejected message counts as
not sent (OP286), so the valid stories stay coherent. The defect and the rule expected to catch it
are in the file name: `00042_JW323_TR358.xml`; valid files end in `_ok.xml`. `describe(path)`
reads it back.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from lxml import etree

from gateway import samples
from gateway.catalog import by_code, by_namespace

# Municipalities without a regional contract bundle in gateway/contracts/bundles, so a valid story
# is not rejected by contract rules for products the example bundles do not list.
GEMEENTEN = ("0599", "0363", "0518", "0344", "0014", "0855")
AANBIEDERS = ("12345678", "87654321", "11223344", "55667788")
STORY = ("301", "302", "305", "306", "307", "308", "315", "316", "319", "320", "317", "318", "323", "325")


@dataclass(frozen=True)
class CorpusEntry:
    path: Path
    code: str  # JW301 .. WMO325
    defect: str | None  # None for a valid file
    rule: str | None  # the rule that must report the defect: PARSE, XSD, CS002, TR358, ...


_NAME = re.compile(r"^(?P<i>\d+)_(?P<code>[A-Z]+\d{3})_(?P<label>[A-Za-z0-9-]+)\.xml$")


def describe(path: Path) -> CorpusEntry:
    """The type and expected outcome of a corpus file, from its name."""
    m = _NAME.match(Path(path).name)
    if not m:
        raise ValueError(f"not a corpus file name: {path}")
    label = m["label"]
    if label == "ok":
        return CorpusEntry(Path(path), m["code"], None, None)
    return CorpusEntry(Path(path), m["code"], label, DEFECTS[label].rule)


# -- stories of valid messages ----------------------------------------------------------------------


def _story(k: int, seed: int, tag: str) -> Iterator[tuple[str, bytes]]:
    """The 14 messages of story k: one client's exchange, from toewijzing to declaratie-antwoord."""
    std = "ijw" if k % 2 == 0 else "iwmo"
    prefix = "JW" if std == "ijw" else "WMO"
    gemeente = GEMEENTEN[k % len(GEMEENTEN)]
    aanbieder = AANBIEDERS[(k // len(GEMEENTEN)) % len(AANBIEDERS)]
    bsn = samples.BSNS[k % len(samples.BSNS)]
    nummer = 100_000 + k  # unique per gemeente (TR332)
    ids = iter(f"{tag}{k:06d}{j:02d}"[-12:] for j in range(100))
    cat, code = samples.DEFAULT_PRODUCT[std]
    other = "43" if std == "ijw" else "03"
    party = {"gemeente": gemeente, "aanbieder": aanbieder}
    ref_vot, ref_vow = f"VOT{tag}{k}", f"VOW{tag}{k}"
    made: dict[str, bytes] = {}

    def heen(number: str) -> bytes:
        i = next(ids)
        if number == "301":
            return samples.allocation(std, identificatie=i, bsn=bsn, products=(samples.Allocated(toewijzingnummer=nummer),), **party)
        if number == "305":
            return samples.start(std, identificatie=i, bsn=bsn, products=(samples.Started(toewijzingnummer=nummer),), **party)
        if number == "307":
            return samples.stop(std, identificatie=i, bsn=bsn, products=(samples.Stopped(toewijzingnummer=nummer),), **party)
        if number == "315":  # a new product in another category, from next month: no stacking
            req = samples.Requested(referentie_aanbieder=ref_vot, categorie=other)
            return samples.request(std, identificatie=i, bsn=bsn, products=(req,), **party)
        if number == "319":  # reject the VOT so no request stays pending for the VOW (TR374)
            return samples.answer(std, identificatie=i, referentie_aanbieder=ref_vot, verzoek_antwoord="1", reden_afwijzing="4", **party)
        if number == "317":
            change = samples.ToChange(toewijzingnummer=nummer)
            return samples.change_request(std, identificatie=i, bsn=bsn, referentie_aanbieder=ref_vow, to_change=(change,), **party)
        if number == "323":
            p = samples.Prestatie(referentienummer=f"{tag}{k}", toewijzingnummer=nummer, categorie=cat, code=code)
            return samples.declaration(std, identificatie=i, declaratienummer=i, clients={bsn: [p]}, **party)
        raise AssertionError(number)

    for number in STORY:
        mt = by_code(prefix + number)
        if mt.kind == "retour":
            answered = made[str(int(number) - 1)]
            message = samples.retour(answered, identificatie=next(ids))
        elif number == "325":
            message = samples.declaration_answer(made["323"], identificatie=next(ids))
        else:
            message = heen(number)
        made[number] = message
        yield mt.code, message


# -- defects ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Defect:
    rule: str
    applies: Callable[[str], bool]  # message number -> bool
    apply: Callable[[etree._Element], None]  # mutates a parsed heen in place


def _first(root: etree._Element, *names: str) -> etree._Element:
    el = root.find(".//" + "/".join("{*}" + n for n in names))
    if el is None:
        raise LookupError("/".join(names))
    return el


def _break_bsn(root):
    bsn = _first(root, "Bsn")
    bsn.text = bsn.text[:-1] + str((int(bsn.text[-1]) + 1) % 10)  # one digit off: fails the elfproef


def _wrong_total(root):
    total = _first(root, "TotaalIngediendBedrag", "TotaalBedrag")
    total.text = str(int(total.text) + 1)


def _drop_dagtekening(root):
    el = _first(root, "Header", "BerichtIdentificatie", "Dagtekening")
    el.getparent().remove(el)


def _stop_before_start(root):
    begin = _first(root, "StopProduct", "Begindatum")
    end = _first(root, "StopProduct", "Einddatum")
    end.text = (samples.allocation_start() - timedelta(days=1)).isoformat()
    assert end.text < begin.text


def _no_address(root):
    contact = _first(root, "Contactgegevens", "Contact")
    contact.remove(_first(contact, "Adres"))


def _reason_while_investigating(root):
    # the story's 319 rejects with a reason; "in onderzoek" with that reason breaks CD086
    antwoord = _first(root, "Antwoord")
    _first(antwoord, "RedenAfwijzingVerzoek")
    _first(antwoord, "VerzoekAntwoord").text = "2"


_HAS_BSN = {"301", "305", "307", "315", "317", "323"}
DEFECTS: dict[str, Defect] = {
    "XSD": Defect("XSD", lambda n: True, _drop_dagtekening),
    "CS002": Defect("CS002", lambda n: n in _HAS_BSN, _break_bsn),
    "TR358": Defect("TR358", lambda n: n == "323", _wrong_total),
    "TR018": Defect("TR018", lambda n: n == "307", _stop_before_start),
    "TR006": Defect("TR006", lambda n: n == "301", _no_address),
    "CD086": Defect("CD086", lambda n: n == "319", _reason_while_investigating),
    "PARSE": Defect("PARSE", lambda n: True, lambda root: None),  # truncated after serialising
}


def _corrupt(message: bytes, rng: random.Random, fresh_id: str) -> tuple[str, bytes]:
    root = etree.fromstring(message)
    mt = by_namespace(etree.QName(root).namespace)
    names = [d for d, spec in DEFECTS.items() if spec.applies(mt.number)]
    # prefer a defect specific to the type when it has one, so every rule gets exercised
    specific = [d for d in names if d not in ("XSD", "PARSE", "CS002")]
    name = rng.choice(specific) if specific and rng.random() < 0.6 else rng.choice(names)
    for ident in root.iterfind("{*}Header/{*}BerichtIdentificatie/{*}Identificatie"):
        ident.text = fresh_id
    for ident in root.iterfind("{*}Header/{*}IdentificatieRetour"):
        ident.text = fresh_id
    DEFECTS[name].apply(root)
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    if name == "PARSE":
        data = data[: len(data) // 2]
    return name, data


def write_corpus(directory: Path | str, n: int, *, seed: int = 0, invalid_ratio: float = 0.0) -> list[Path]:
    """Write n message files into `directory` (created if needed); returns their paths in order."""
    if not 0.0 <= invalid_ratio <= 1.0:
        raise ValueError("invalid_ratio must be between 0 and 1")
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    tag = f"{rng.randrange(16**3):03x}"
    width = max(5, len(str(n)))
    paths: list[Path] = []

    def stories() -> Iterator[tuple[str, bytes]]:
        k = 0
        while True:
            yield from _story(k, seed, tag)
            k += 1

    upcoming = stories()
    pending = next(upcoming)
    for i in range(n):
        code, message = pending
        if invalid_ratio and rng.random() < invalid_ratio:
            label, data = _corrupt(message, rng, f"X{tag}{i:08d}"[-12:])
        else:
            label, data = "ok", message
            pending = next(upcoming)
        path = out_dir / f"{i:0{width}d}_{code}_{label}.xml"
        path.write_bytes(data)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    """python -m testsupport.corpus DIR N [--seed S] [--invalid-ratio R]"""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m testsupport.corpus", description=main.__doc__)
    ap.add_argument("directory", type=Path)
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--invalid-ratio", type=float, default=0.0)
    args = ap.parse_args(argv)
    paths = write_corpus(args.directory, args.n, seed=args.seed, invalid_ratio=args.invalid_ratio)
    print(f"{len(paths)} files in {args.directory}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
