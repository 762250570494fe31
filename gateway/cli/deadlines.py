"""`gateway deadlines`: the obligations of the exchange and where the stored messages stand.

    gateway deadlines obligations            every obligation (OP code, term, source)
    gateway deadlines scan                   bring the obligations table up to date (a timer runs it)
    gateway deadlines list [--party P] [--state overdue --state due_soon] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys

from gateway.cli.storeopts import add_store_options, open_store_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("deadlines", help="obligations of the exchange: overdue and due-soon lists")
    dsub = p.add_subparsers(dest="deadlines_command", metavar="ACTION")

    ob = dsub.add_parser("obligations", help="the obligations the gateway tracks, with their source")
    ob.set_defaults(func=cmd_obligations)

    sc = dsub.add_parser("scan", help="bring the obligations table up to date with the stored messages")
    add_store_options(sc)
    sc.add_argument("--window-days", type=int, default=90)
    sc.add_argument("--no-events", action="store_true", help="do not put overdue events on the streams")
    sc.set_defaults(func=cmd_scan)

    ls = dsub.add_parser("list", help="obligations by due date")
    add_store_options(ls)
    ls.add_argument("--party", help="the acting party (CBS or AGB code)")
    ls.add_argument("--state", action="append", help="overdue, due_soon, open, met, late, not_assessed (repeat)")
    ls.add_argument("--obligation", help="one obligation id")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)

    p.set_defaults(func=lambda args: (p.print_help(sys.stderr), 2)[1])


def cmd_obligations(args: argparse.Namespace) -> int:
    from gateway.deadlines.rules import load

    for o in load():
        term = f"{o.due.working_days} working days" if o.due.working_days else f"{o.due.days} days"
        tracked = "" if o.tracked else f"  (not tracked: {o.why})"
        print(f"{o.op:<8} {o.id:<32} {'/'.join(o.opens)} -> {'/'.join(o.closes)} within {term} of {o.due.start}, "
              f"by the {o.actor}{tracked}")
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    from gateway.deadlines import scan

    store = open_store_from_args(args)
    try:
        r = scan.refresh(store, window_days=args.window_days, notify=not args.no_events)
    finally:
        store.close()
    print(f"scanned {r.facts} messages since {r.since}: {r.inserted} new, {r.updated} changed, "
          f"{len(r.newly_overdue)} newly overdue")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from gateway.deadlines import queries

    store = open_store_from_args(args)
    try:
        rows = queries.list_obligations(store, parties=[args.party] if args.party else None,
                                        states=args.state or ["overdue", "due_soon"], obligation=args.obligation)
    finally:
        store.close()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        print(f"{r['due'] or '':<10} {r['state']:<12} {r['op']:<8} {r['obligation']:<32} {r['party']:<8} -> "
              f"{r['counterparty']:<8} {r['kind']} {r['message_id']}")
    return 0
