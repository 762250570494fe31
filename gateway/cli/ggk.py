"""`gateway ggk wrap FILE` / `gateway ggk unwrap FILE`: StUF-GGk envelopes of the ISD chain by hand.

wrap: a bare iJw/iWmo message in its envelope on stdout: a heenbericht in a ggk0210-Di01, a retour
(or 325) in a ggk0210-Du01, which needs the Di01's referentienummer (--cross-ref UUID, or --heen
DI01FILE to take it from the Di01 itself).
unwrap: checks an envelope (schema, base64, payload against functie, versions and parties) and
writes the payload to stdout (or --out); a summary goes to stderr. With --json the envelope's data
as JSON instead of the payload. A Fo01, Fo03 or Bv03 is printed as JSON.
Exit status 0 on success, 2 for a broken envelope or message (one line on stderr: the StUF/IB code,
our code and what is wrong), an unreadable file or a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gateway import ggk

HELP = "wrap a message in a StUF-GGk envelope, or check and unwrap one"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("ggk", help=HELP, description=__doc__.split("\n\n", 1)[1],
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="ggk_command", metavar="ACTION", required=True)
    w = sub.add_parser("wrap", help="a bare iJw/iWmo message in a Di01 (heen) or Du01 (retour)")
    w.add_argument("file", metavar="FILE", help="the bare message (XML)")
    ref = w.add_mutually_exclusive_group()
    ref.add_argument("--cross-ref", metavar="UUID", help="for a retour: the Di01's referentienummer")
    ref.add_argument("--heen", metavar="DI01FILE", help="for a retour: the Di01 it answers")
    w.add_argument("--applicatie", metavar="NAME", help="stuurgegevens.zender.applicatie (default: iJwiWmoGateway)")
    w.add_argument("--out", "-o", metavar="FILE", help="write the envelope here instead of stdout")
    w.set_defaults(func=run_wrap)
    u = sub.add_parser("unwrap", help="check an envelope and write its payload")
    u.add_argument("file", metavar="FILE", help="the envelope (Di01, Du01; Fo01, Fo03, Bv03 are shown)")
    u.add_argument("--json", action="store_true", help="the envelope's data as JSON instead of the payload")
    u.add_argument("--out", "-o", metavar="FILE", help="write the payload here instead of stdout")
    u.set_defaults(func=run_unwrap)


class _Stop(Exception):
    """A one-line complaint on stderr and exit status 2."""


def _read(path: str) -> bytes:
    try:
        size = Path(path).stat().st_size
        if size > ggk.MAX_ENVELOPE_BYTES:  # do not read a 2 GB file to say it is too big
            err = ggk.errors.error("ENVELOPE_TOO_LARGE", f"the file is {size / 1024 / 1024:.1f} MB; the limit is 25 MB")
            raise _Stop(f"{path}: {err.line_text()}")
        return Path(path).read_bytes()
    except OSError as exc:
        raise _Stop(f"cannot read {path}: {exc.strerror or exc}") from None


def _write(data: bytes, out: str | None) -> None:
    if out:
        try:
            Path(out).write_bytes(data)
        except OSError as exc:
            raise _Stop(f"cannot write {out}: {exc.strerror or exc}") from None
        return
    sys.stdout.buffer.write(data)
    sys.stdout.flush()


def _guarded(action, args: argparse.Namespace) -> int:  # noqa: ANN001
    try:
        action(args)
    except _Stop as stop:
        print(f"gateway ggk {args.ggk_command}: {stop}", file=sys.stderr)
        return 2
    except ggk.EnvelopeError as exc:
        print(f"gateway ggk {args.ggk_command}: {args.file}: {exc.error.line_text()}", file=sys.stderr)
        return 2
    return 0


def _wrap(args: argparse.Namespace) -> None:
    cross_ref = args.cross_ref
    message = _read(args.file)
    if args.heen:
        heen = ggk.read(_read(args.heen))
        if not isinstance(heen, ggk.Envelope) or heen.berichtcode != "Di01":
            raise _Stop(f"{args.heen}: a {heen.berichtcode}, not the Di01 a retour answers")
        app = ggk.Application(naam=args.applicatie) if args.applicatie else ggk.Application()
        _write(ggk.wrap_retour(message, heen, app=app), args.out)
        return
    app = ggk.Application(naam=args.applicatie) if args.applicatie else ggk.Application()
    _write(ggk.wrap(message, cross_ref=cross_ref, app=app), args.out)


def _summary(env: ggk.Envelope) -> str:
    sg = env.stuurgegevens
    cross = f", crossRefnummer {sg.cross_refnummer}" if sg.cross_refnummer else ""
    return (f"{env.berichtcode} {sg.functie} from {sg.zender.organisatie} to {sg.ontvanger.organisatie}, "
            f"referentienummer {sg.referentienummer}{cross}, {len(env.payload)} bytes")


def _unwrap(args: argparse.Namespace) -> None:
    message = ggk.read(_read(args.file))
    if not isinstance(message, ggk.Envelope):
        data = message.model_dump(mode="json")
        if isinstance(message, ggk.Fout) and message.details_xml is not None:
            data["details_xml"] = message.details_xml.decode("utf-8")
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if message.parameters.bestand == "xml":
        ggk.open_payload(message)  # functie, versions and parties must match the payload
    if args.json:
        print(json.dumps(message.metadata(), ensure_ascii=False, indent=2))
        return
    _write(message.payload, args.out)
    print(_summary(message), file=sys.stderr)


def run_wrap(args: argparse.Namespace) -> int:
    return _guarded(_wrap, args)


def run_unwrap(args: argparse.Namespace) -> int:
    return _guarded(_unwrap, args)
