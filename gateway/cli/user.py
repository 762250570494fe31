"""`gateway user add|passwd|role|disable|list`: console users, kept in the store.

Passwords are read from the terminal (asked twice) or, for scripts, from standard input with
--password-stdin; they never appear on the command line, where `ps` and shell history would keep
them. The store keeps only the argon2 hash.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from gateway.cli.storeopts import add_store_options, open_store_from_args

ROLE_HELP = "viewer | operator | privacy (privacy officer) | admin"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("user", help="manage operator console users")
    add_store_options(p)
    us = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    a = us.add_parser("add", help="add a console user")
    a.add_argument("username")
    a.add_argument("--role", required=True, help=ROLE_HELP)
    a.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    pw = us.add_parser("passwd", help="set a user's password")
    pw.add_argument("username")
    pw.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    r = us.add_parser("role", help="change a user's role")
    r.add_argument("username")
    r.add_argument("role", help=ROLE_HELP)

    d = us.add_parser("disable", help="disable a user (kept for the audit log)")
    d.add_argument("username")

    ls = us.add_parser("list", help="list users")
    ls.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        # getpass would fall back to reading stdin with a warning, or die on EOF with a traceback
        raise ValueError("no terminal to ask the password on; pipe it in with --password-stdin, "
                         f'e.g. echo "$PW" | gateway user {args.action} {args.username} ... --password-stdin')
    try:
        first = getpass.getpass("password: ")
        again = getpass.getpass("again: ")
    except EOFError:
        raise ValueError("no password given (end of input)") from None
    if again != first:
        raise ValueError("the passwords differ")
    return first


def run(args: argparse.Namespace) -> int:
    from gateway.console import users

    try:
        store = open_store_from_args(args)
    except Exception as exc:  # a clear line, not a traceback
        print(f"gateway user: cannot open the store: {exc}", file=sys.stderr)
        return 1
    try:
        if args.action == "add":
            users.add_user(store, args.username, _password(args), args.role)
            print(f"added {args.username.strip()} ({args.role})")
        elif args.action == "passwd":
            users.set_password(store, args.username, _password(args))
            print(f"password of {args.username} changed")
        elif args.action == "role":
            users.set_role(store, args.username, args.role)
            print(f"{args.username} is now {args.role}")
        elif args.action == "disable":
            users.disable(store, args.username)
            print(f"{args.username} disabled")
        elif args.action == "list":
            rows = users.list_users(store)
            if args.json:
                print(json.dumps(rows, default=str, indent=2))
            else:
                for u in rows:
                    state = f"disabled {u['disabled_at']:%Y-%m-%d}" if u["disabled_at"] else "active"
                    print(f"{u['username']:<24} {u['role']:<10} {state}")
        return 0
    except ValueError as exc:  # UserError, unknown role, short password, passwords differ
        print(f"gateway user: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
