"""`gateway party add|key|revoke|list|cert|chain`: the parties that may send, their credentials,
and (chain) whether they are reached through the ISD chain, with their SOAP endpoint.

An API key is printed once, when it is made; the store keeps only its SHA-256.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from gateway.cli.storeopts import add_store_options, open_store_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("party", help="manage sending parties and their API keys / certificates")
    add_store_options(p)
    ps = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    a = ps.add_parser("add", help="add a party and print its first API key")
    a.add_argument("party_id", help="AGB code (aanbieder, 8 digits) or CBS code (gemeente, 4 digits)")
    a.add_argument("--role", choices=("gemeente", "aanbieder"), help="default: from the code's length")
    a.add_argument("--name", default="")
    a.add_argument("--no-key", action="store_true", help="do not make an API key")

    k = ps.add_parser("key", help="make a new API key for a party (printed once)")
    k.add_argument("party_id")

    r = ps.add_parser("revoke", help="revoke a party (all its access) or one key / certificate")
    r.add_argument("party_id", nargs="?")
    r.add_argument("--key", metavar="KEY_ID", help="revoke only this key")
    r.add_argument("--cert", metavar="SHA256", help="revoke only this certificate fingerprint")

    c = ps.add_parser("cert", help="register a client certificate (PEM) for a party")
    c.add_argument("party_id")
    c.add_argument("pem", help="certificate file (PEM)")

    ch = ps.add_parser("chain", help="reach a party through the ISD chain: envelopes out, and its SOAP endpoint")
    ch.add_argument("party_id")
    ch.add_argument("--soap-url", help="the party's OntvangAsynchroon address: every envelope for it is "
                    "delivered there (Bv03 = delivered); without it: stream and topics only")
    ch.add_argument("--wsdl", help="the peer's WSDL URL (default: the gateway's own, the same contract)")
    ch.add_argument("--tls-ca", help="CA bundle (PEM) the peer's certificate must chain to")
    ch.add_argument("--tls-cert", help="our client certificate (PEM) towards the peer")
    ch.add_argument("--tls-key", help="the key (PEM) of --tls-cert")
    ch.add_argument("--remove", action="store_true", help="the party is no longer reached through the chain")

    ls = ps.add_parser("list", help="list parties and their keys")
    ls.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def _role_of(party_id: str, role: str | None) -> str:
    if role:
        return role
    if re.fullmatch(r"\d{4}", party_id):
        return "gemeente"
    if re.fullmatch(r"\d{8}", party_id):
        return "aanbieder"
    raise ValueError("a party id is a CBS code (4 digits) or an AGB code (8 digits)")


def _new_key(store, party_id: str) -> str:  # noqa: ANN001
    from gateway.auth.keys import key_hash, new_key

    key_id, key = new_key()
    store.add_api_key(party_id, key_hash(key), key_id)
    store.audit("cli", "api_key_created", party_id, details={"key_id": key_id})
    return key


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except (ValueError, LookupError) as exc:
        print(f"gateway party: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    store = open_store_from_args(args)
    if args.action == "add":
        role = _role_of(args.party_id, args.role)
        if _role_of(args.party_id, None) != role:
            raise ValueError(f"{args.party_id} does not look like a {role} code")
        if store.get_party(args.party_id) is not None:
            raise ValueError(f"party {args.party_id} exists already")
        store.add_party(args.party_id, role, args.name)
        store.audit("cli", "party_added", args.party_id, details={"role": role})
        print(f"added {role} {args.party_id}")
        if not args.no_key:
            print(f"API key (shown once): {_new_key(store, args.party_id)}")
        return 0
    if args.action == "key":
        party = store.get_party(args.party_id)
        if party is None or party.revoked_at:
            raise LookupError(f"no active party {args.party_id}")
        print(_new_key(store, args.party_id))
        return 0
    if args.action == "revoke":
        if args.key:
            if not store.revoke_api_key(args.key):
                raise LookupError(f"no active key {args.key}")
            store.audit("cli", "api_key_revoked", args.key)
            print(f"revoked key {args.key}")
        elif args.cert:
            if not store.revoke_client_cert(args.cert):
                raise LookupError(f"no active certificate {args.cert}")
            store.audit("cli", "client_cert_revoked", args.cert)
            print(f"revoked certificate {args.cert}")
        elif args.party_id:
            if store.get_party(args.party_id) is None:
                raise LookupError(f"no party {args.party_id}")
            store.revoke_party(args.party_id)
            store.audit("cli", "party_revoked", args.party_id)
            print(f"revoked party {args.party_id}")
        else:
            raise ValueError("name a party, --key KEY_ID or --cert SHA256")
        return 0
    if args.action == "cert":
        from gateway.auth.tls import fingerprint_of_pem

        if store.get_party(args.party_id) is None:
            raise LookupError(f"no party {args.party_id}")
        fp = fingerprint_of_pem(Path(args.pem).read_bytes())
        store.add_client_cert(fp, args.party_id)
        store.audit("cli", "client_cert_added", args.party_id, details={"fingerprint": fp})
        print(f"registered certificate {fp} for {args.party_id}")
        return 0
    if args.action == "chain":
        return _chain(store, args)
    if args.action == "list":
        from gateway.store.ggk import chain_parties

        rows = []
        chained = chain_parties(store)
        for p in store.list_parties():
            keys = store.list_api_keys(p.party_id)
            rows.append({
                "party_id": p.party_id, "role": p.role, "name": p.name,
                "revoked": p.revoked_at is not None,
                "keys": [{"key_id": k.key_id, "revoked": k.revoked_at is not None} for k in keys],
                "chain": {"soap_url": chained[p.party_id].soap_url} if p.party_id in chained else None,
            })
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            for r in rows:
                active = [k["key_id"] for k in r["keys"] if not k["revoked"]]
                state = "revoked" if r["revoked"] else "active"
                via = "" if r["chain"] is None else f"  chain: {r['chain']['soap_url'] or 'stream/topics'}"
                print(f"{r['party_id']:<10} {r['role']:<10} {state:<8} keys: {', '.join(active) or '-'}  {r['name']}{via}")
        return 0
    raise ValueError(f"unknown action {args.action}")


def _chain(store, args: argparse.Namespace) -> int:  # noqa: ANN001
    from gateway.store import ggk

    if args.remove:
        if not ggk.remove_chain_party(store, args.party_id):
            raise LookupError(f"party {args.party_id} is not reached through the chain")
        store.audit("cli", "chain_party_removed", args.party_id)
        print(f"{args.party_id}: no longer reached through the chain")
        return 0
    if args.soap_url and not re.match(r"https?://", args.soap_url):
        raise ValueError("--soap-url must be an http(s) URL")
    for name in ("tls_ca", "tls_cert", "tls_key"):
        value = getattr(args, name)
        if value and not Path(value).is_file():
            raise ValueError(f"--{name.replace('_', '-')} {value}: no such file")
    if args.tls_key and not args.tls_cert:
        raise ValueError("--tls-key needs --tls-cert")
    ggk.set_chain_party(store, ggk.ChainParty(args.party_id, args.soap_url, args.wsdl, args.tls_ca, args.tls_cert,
                                              args.tls_key))
    store.audit("cli", "chain_party_set", args.party_id, details={"soap_url": args.soap_url})
    where = f"; envelopes delivered to {args.soap_url}" if args.soap_url else "; no SOAP endpoint (stream/topics)"
    print(f"{args.party_id}: reached through the chain{where}")
    return 0
