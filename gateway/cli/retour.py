"""`gateway retour FILE [--today YYYY-MM-DD] [--id ID]`: the retourbericht (or 325) for a heenbericht.

Validates the file like `gateway validate` (parse, detect, XSD, in-message rules, TR319 with its
9319 on the Prestatie among them) and prints the answer on stdout: the retour
302/306/308/316/318/320 for a 301/305/307/315/317/319, the declaratie-antwoord 325 for a 323.
The findings go to stderr, one per line. Exit status 0 when an answer was printed (accepting or
rejecting), 1 when the message fails level 1 (no retour exists: the transport rejection is
printed on stderr as JSON), 2 on a usage error (unreadable file, a message that gets no answer).
"""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import date

from gateway import clock
from gateway.retour import (
    RetourNotPossible,
    build_declaratie_antwoord,
    build_retour,
    transport_rejection,
)
from validators.validate import validate_bytes


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "retour",
        help="print the retourbericht (or declaratie-antwoord) for a heenbericht",
        description="Validate a heenbericht and print its retourbericht (302..320) or, for a 323, "
        "its declaratie-antwoord (325). Exit status 0 when an answer is printed, 1 when the "
        "message fails the XSD (no retour exists; the transport rejection goes to stderr), "
        "2 on a usage error.",
    )
    p.add_argument("file", metavar="FILE", help="the heenbericht (XML)")
    p.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        metavar="YYYY-MM-DD",
        help="DagtekeningRetour / 325 Dagtekening and the date rules use (default: today in NL)",
    )
    p.add_argument("--id", dest="identificatie", default=None, metavar="ID",
                   help="IdentificatieRetour (or the 325's Identificatie); default: a fresh one")
    p.add_argument("--xslt-versie", default=None, metavar="X.Y.Z", help="XsltVersie to report")
    p.set_defaults(func=run)


def _fresh_id(prefix: str) -> str:
    return (prefix + uuid.uuid4().hex)[:12]


def run(args: argparse.Namespace) -> int:
    try:
        with open(args.file, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        print(f"gateway retour: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    today = args.today or clock.today()
    report = validate_bytes(raw, today=today)
    rejection = transport_rejection(report.issues, report.message)
    if rejection is not None or report.mtype is None or report.root is None:
        if rejection is not None:
            print(rejection.model_dump_json(), file=sys.stderr)
        return 1
    issues = list(report.issues)
    for i in issues:
        print(f"{i.rule} {i.severity} {i.path or '-'}: {i.text}", file=sys.stderr)
    try:
        if report.mtype.number == "323":
            data = build_declaratie_antwoord(
                report.root, report.mtype, issues, identificatie=args.identificatie or _fresh_id("A"),
                today=today, xslt_versie=args.xslt_versie,
            )
        else:
            data = build_retour(
                report.root, report.mtype, issues, identificatie_retour=args.identificatie or _fresh_id("R"),
                today=today, xslt_versie=args.xslt_versie,
            )
    except RetourNotPossible as exc:
        print(f"gateway retour: {report.message}: {exc}", file=sys.stderr)
        return 2
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
    return 0
