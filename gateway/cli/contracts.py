"""`gateway contracts`: check and list regional contract bundles.

    gateway contracts check FILE...        exit 1 and print every located problem when one is refused;
                                           a .csv FILE is a product and tariff list, checked row by row
    gateway contracts list [--dir DIR]     the regions and versions a directory of bundles holds
    gateway contracts schema [--write]     the published JSON schema of a bundle
    gateway contracts hash-client          read a BSN on stdin, print its client_hash for a bundle
"""

from __future__ import annotations

import argparse
import json
import sys

from gateway.contracts import BUNDLES_DIR, BundleError, ContractRegistry
from gateway.contracts.clients import client_hash
from gateway.contracts import productlist
from gateway.contracts.loader import load_file
from gateway.contracts.models import example_values, uncited_rules


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("contracts", help="check and list regional contract bundles")
    csub = p.add_subparsers(dest="contracts_command", metavar="ACTION")

    check = csub.add_parser(
        "check", help="validate bundle files (schema and consistency) and product lists (*.csv, row by row)"
    )
    check.add_argument("files", nargs="+", metavar="FILE")
    check.set_defaults(func=cmd_check)

    lst = csub.add_parser("list", help="list the regions and versions of a bundle directory")
    lst.add_argument("--dir", default=str(BUNDLES_DIR), help="bundle directory (default: the embedded examples)")
    lst.add_argument("--json", action="store_true", help="JSON output")
    lst.set_defaults(func=cmd_list)

    schema = csub.add_parser("schema", help="print (or --write to docs/) the bundle JSON schema")
    schema.add_argument("--write", action="store_true")
    schema.set_defaults(func=cmd_schema)

    hc = csub.add_parser("hash-client", help="client_hash of a BSN read from stdin (never an argument)")
    hc.add_argument("--salt", required=True, help="the bundle's client_hash_salt")
    hc.set_defaults(func=cmd_hash_client)

    p.set_defaults(func=lambda args: (p.print_help(sys.stderr), 2)[1])


def _check_product_list(path: str) -> bool:
    """Report a product list CSV: one line per bad row (file:line: reason), then a summary."""
    plist = productlist.read_file(path)
    for problem in plist.problems:
        print(problem, file=sys.stderr)
    bad = len({p.line for p in plist.problems})
    if plist.ok:
        print(f"{path}: ok: {plist.lines} rows, {len(plist.codes())} products")
    else:
        print(f"{path}: refused: {bad} bad row(s) of {plist.lines}", file=sys.stderr)
    return plist.ok


def cmd_check(args: argparse.Namespace) -> int:
    """Each file alone, then all together (a municipality may be in one region only)."""
    failed = False
    loaded = []
    for path in args.files:
        if path.lower().endswith(".csv"):
            failed |= not _check_product_list(path)
            continue
        try:
            lb = load_file(path, actor="cli")
        except BundleError as exc:
            failed = True
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            continue
        loaded.append(lb)
    registry = ContractRegistry()
    for lb in loaded:
        try:
            registry.add(lb)
        except BundleError as exc:
            failed = True
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            continue
        b = lb.bundle
        examples = example_values(b)
        print(
            f"{lb.source}: ok: {b.region} {b.version} from {b.valid_from}, {len(b.municipalities)} municipalities, "
            f"{len(b.products)} products{' (list from CSV)' if b.product_list else ''}, {len(b.providers)} providers"
            f"{f', {len(examples)} example values' if examples else ''}"
        )
        # Not an error (a bundle may be uploaded before its sources are written up), but visible.
        for code in uncited_rules(b):
            print(f"{lb.source}: note: rule {code} cites no section of the procurement plan (rule_sources)")
    return 1 if failed else 0


def cmd_list(args: argparse.Namespace) -> int:
    registry = ContractRegistry()
    try:
        registry.load_directory(args.dir, actor="cli")
    except BundleError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    rows = []
    for lb in registry.versions():
        b = lb.bundle
        rows.append(
            {
                "region": b.region,
                "version": b.version,
                "valid_from": b.valid_from.isoformat(),
                "valid_to": b.valid_to.isoformat() if b.valid_to else None,
                "municipalities": [m.cbs for m in b.municipalities],
                "lots": len(b.lots),
                "products": len(b.products),
                "providers": len(b.providers),
                "example": b.example,
                "example_values": len(example_values(b)),
                "uncited_rules": uncited_rules(b),
                "source": lb.source,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        period = f"{r['valid_from']}..{r['valid_to'] or ''}"
        print(
            f"{r['region']:<22} {r['version']:<8} {period:<23} {len(r['municipalities']):>2} municipalities "
            f"{r['lots']:>2} lots {r['products']:>3} products {r['providers']:>2} providers"
            f"{'  example' if r['example'] else ''}"
        )
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from gateway.contracts.schema import schema_text, write_schema

    if args.write:
        print(write_schema())
    else:
        sys.stdout.write(schema_text())
    return 0


def cmd_hash_client(args: argparse.Namespace) -> int:
    # The BSN comes on stdin so it stays out of shell history and process lists.
    bsn = sys.stdin.readline().strip()
    if not (len(bsn) == 9 and bsn.isdigit()):
        print("expected a BSN of nine digits on stdin", file=sys.stderr)
        return 2
    print(client_hash(bsn, args.salt))
    return 0
