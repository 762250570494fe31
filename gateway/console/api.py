"""The console's JSON API under /console/api (the pages call it; so can scripts with a cookie)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field, ValidationError

from gateway import clock
from gateway.console import (
    actions,
    dashboards,
    queries,
    sessions,
    statelookup,
    users,
    xmlview,
)
from gateway.console.auth import current_session, require
from gateway.console.context import context
from gateway.console.sessions import Session
from gateway.observability import get_logger, mask_text, metrics

# Every console API answer may be one of these; documented so the OpenAPI matches what is served.
_ERRORS = {
    400: {"description": "Bad filter, cursor or action body"},
    401: {"description": "Not logged in (or wrong credentials at login)"},
    403: {"description": "The user's role does not allow this"},
    404: {"description": "No such message"},
    415: {"description": "Actions take application/json only"},
}
router = APIRouter(prefix="/api", responses=_ERRORS)
log = get_logger("gateway.console")


class Login(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class Reason(BaseModel):
    reason: str = Field("", max_length=2000)


class Republish(Reason):
    destination: str = Field(max_length=255)


class DeadLetter(Reason):
    dead: bool = True


@router.post("/login", responses={429: {"description": "Too many wrong passwords: wait Retry-After seconds"}})
def login(body: Login, request: Request, response: Response) -> dict[str, str]:
    ctx = context(request)
    address = request.client.host if request.client else None
    wait = ctx.login_throttle.wait_seconds(body.username, address)
    if wait:
        # Refused before the password is checked: guessing during a back-off learns nothing.
        log.warning("console_login_throttled", address=address, retry_after=wait)
        raise HTTPException(429, f"too many wrong passwords; try again in {wait} s",
                            headers={"Retry-After": str(wait)})
    role = users.authenticate(ctx.store, body.username, body.password)
    if role is None:
        backoff = ctx.login_throttle.failed(body.username, address)
        # No user name in the log: failed names are often passwords. The audit names the user only
        # when it exists, for the same reason.
        log.info("console_login_failed", address=address, backoff_seconds=backoff)
        known = ctx.store.get_user(body.username.strip()) if body.username.strip() else None
        ctx.store.audit("console", "console_login_failed", target=known.username if known else None,
                        details={"address": address, "backoff_seconds": backoff})
        raise HTTPException(401, "wrong user name or password")
    ctx.login_throttle.succeeded(body.username)
    session = Session(user=body.username.strip(), role=role)
    response.set_cookie(
        sessions.COOKIE,
        sessions.encode(session, ctx.secret, ctx.settings.session_ttl_seconds),
        max_age=ctx.settings.session_ttl_seconds,
        httponly=True,
        samesite="strict",
        secure=ctx.settings.cookie_secure,
        path="/console",
    )
    log.info("console_login", user=session.user, role=role)
    return {"user": session.user, "role": role}


@router.post("/logout")
def logout(response: Response) -> dict[str, bool]:
    response.delete_cookie(sessions.COOKIE, path="/console")
    return {"ok": True}


@router.get("/me")
def me(request: Request) -> dict[str, Any]:
    s = current_session(request)
    if s is None:
        # 200, not 401: asking "who am I" before logging in is not an error
        return {"user": None, "role": None, "via": None, "permissions": []}
    from gateway.console.roles import PERMISSIONS

    return {"user": s.user, "role": s.role, "via": s.via, "permissions": sorted(PERMISSIONS.get(s.role, ()))}


@router.get("/messages")
def message_log(request: Request, session: Session = Depends(require("read"))) -> dict[str, Any]:
    try:
        f = queries.LogFilter(**{k: v for k, v in request.query_params.items()})
    except ValidationError as exc:
        raise HTTPException(400, "bad filter: " + "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
        )) from None
    ctx = context(request)
    try:
        with ctx.engine.connect() as conn:
            items, next_cursor = queries.list_messages(conn, f)
    except queries.BadCursor:
        raise HTTPException(400, "invalid cursor") from None
    return {"items": items, "next_cursor": next_cursor}


def _issues_with_lines(issues: list[dict[str, Any]], view: xmlview.XmlView) -> list[dict[str, Any]]:
    out = []
    for i in issues or []:
        path = i.get("path")
        out.append({
            "rule": i.get("rule"),
            "severity": i.get("severity", "error"),
            "path": path,
            # every place of the finding, as the official report's Locaties (path is the first)
            "locations": list(i.get("locations") or ([path] if path else [])),
            # issue texts may quote a value: BSNs are masked there as in the XML
            "text": mask_text(i.get("text") or ""),
            "retourcode": i.get("retourcode"),
            "line": view.line_of(path),
        })
    return out


def _detail(request: Request, message_id: str, reveal: bool) -> dict[str, Any]:
    ctx = context(request)
    with ctx.engine.connect() as conn:
        msg = queries.get_message(conn, message_id)
        if msg is None:
            raise HTTPException(404, f"no message {message_id}")
        outbox = queries.outbox_rows(conn, message_id)
        chain = queries.chain(conn, msg, ctx.store.client_key)
        replays = queries.replays_of(conn, message_id)
        audit = queries.audit_entries(conn, target=message_id, limit=50)
        prestaties = statelookup.prestatie_counts(conn, msg)
        envelope = queries.envelope(conn, message_id)
    if envelope and envelope["fout"]:
        envelope["fout"]["omschrijving"] = mask_text(envelope["fout"]["omschrijving"] or "")
    for row in outbox:  # an exception's text (a broker's, a party's SOAP fault): may name a BSN
        row["last_error"] = mask_text(row["last_error"]) if row["last_error"] else row["last_error"]
    answers = _answers(ctx.store, message_id)
    view = xmlview.render(msg["raw"], reveal=reveal)
    retour = xmlview.render(msg["retour"], reveal=reveal) if msg["retour"] else None
    issues = _issues_with_lines(msg["issues"], view)
    return {
        "message": queries._log_row(msg) | {
            "dagtekening": msg["dagtekening"].isoformat() if msg["dagtekening"] else None,
            "retour_identificatie": msg["retour_identificatie"],
            "sha256": msg["sha256"],
            "received_by": msg["received_by"],
            "allocation_numbers": msg["allocation_numbers"],
            # refused at the gateway (stored issues) or later by the gemeente's 325 (state)
            "partly_rejected": queries.is_partly_rejected(msg) or bool(
                prestaties and prestaties["rejected"] and msg["verdict"] != "rejected"),
        },
        "xml": view.text,
        "xml_error": view.error,
        "highlight": sorted({i["line"] for i in issues if i["line"]}),
        "issues": issues,
        "retour": retour.text if retour else None,
        "outbox": outbox,
        "chain": chain,
        "replays": replays,
        "audit": audit,
        # a 323's prestaties as the state holds them: {"total", "rejected"} (None for others)
        "prestaties": prestaties,
        # the StUF-GGk envelope it came in and the Du01/Fo01 answer (None for a bare message)
        "envelope": envelope,
        # the envelopes sent for it (Di01, Du01/Fo01) and the Du01s/Fo01s that came back for them
        "answers": answers,
        "revealed": reveal,
    }


def _answers(store: Any, message_id: str) -> dict[str, Any]:
    from gateway.ggk import answers

    found = answers.of_message(store, message_id)
    for f in found["fo01"]:  # a chain error's text may quote a value
        f["omschrijving"] = mask_text(f.get("omschrijving") or "")
        f["details"] = mask_text(f.get("details") or "")
    return found


@router.get("/ggk/fo01")
def chain_errors(request: Request, unlinked: bool = False,
                 session: Session = Depends(require("read"))) -> dict[str, Any]:
    """Fo01s received from the chain, newest first; `unlinked`: those naming no envelope of ours."""
    from gateway.ggk.answers import _plain
    from gateway.store import ggk as gstore

    rows = gstore.list_fo01(context(request).store, unlinked=unlinked)
    return {"items": [_plain({k: (mask_text(v or "") if k in ("omschrijving", "details") else v)
                              for k, v in r.items() if k != "sha256"}) for r in rows]}


@router.get("/messages/{message_id}")
def message_detail(message_id: str, request: Request, session: Session = Depends(require("read"))) -> dict[str, Any]:
    return _detail(request, message_id, reveal=False)


@router.post("/messages/{message_id}/reveal")
def reveal(message_id: str, body: Reason, request: Request,
           session: Session = Depends(require("reveal_bsn"))) -> dict[str, Any]:
    """The detail with BSNs in full. The view is audited before anything is shown."""
    ctx = context(request)
    audit_id = _act(lambda: actions.record_bsn_view(ctx.store, session.user, message_id, body.reason))
    log.info("bsn_revealed", user=session.user, message_id=message_id, audit_id=audit_id)
    metrics.console_actions.labels("reveal_bsn").inc()
    return _detail(request, message_id, reveal=True)


def _act(fn):
    try:
        return fn()
    except actions.ActionError as exc:
        raise HTTPException(exc.status, exc.reason) from None


@router.post("/messages/{message_id}/dead-letter")
def dead_letter(message_id: str, body: DeadLetter, request: Request,
                session: Session = Depends(require("act"))) -> dict[str, Any]:
    ctx = context(request)
    out = _act(lambda: actions.set_dead_letter(ctx.store, session.user, message_id, body.dead, body.reason))
    log.info("console_dead_letter", user=session.user, message_id=message_id, dead=body.dead)
    metrics.console_actions.labels("dead_letter").inc()
    return out


@router.post("/messages/{message_id}/republish")
def republish(message_id: str, body: Republish, request: Request,
              session: Session = Depends(require("act"))) -> dict[str, Any]:
    ctx = context(request)
    out = _act(lambda: actions.republish(ctx.store, session.user, message_id, body.destination, body.reason))
    log.info("console_republish", user=session.user, message_id=message_id, destination=body.destination)
    metrics.console_actions.labels("republish").inc()
    return out


@router.post("/messages/{message_id}/replay")
async def replay(message_id: str, body: Reason, request: Request,
                 session: Session = Depends(require("act"))) -> dict[str, Any]:
    ctx = context(request)
    try:
        out = await actions.replay(ctx.store, session.user, message_id, body.reason, ctx.replay_entry())
    except actions.ActionError as exc:
        raise HTTPException(exc.status, exc.reason) from None
    log.info("console_replay", user=session.user, message_id=message_id, new_message_id=out.get("new_message_id"))
    metrics.console_actions.labels("replay").inc()
    return out


@router.get("/audit")
def audit(request: Request, target: str | None = None, limit: int = Query(100, ge=1, le=500),
          before_id: int | None = None, session: Session = Depends(require("read"))) -> dict[str, Any]:
    ctx = context(request)
    with ctx.engine.connect() as conn:
        return {"items": queries.audit_entries(conn, target=target, limit=limit, before_id=before_id)}


@router.get("/dashboard")
def dashboard(request: Request, hours: int = Query(24, ge=1, le=24 * 31),
              session: Session = Depends(require("read"))) -> dict[str, Any]:
    ctx = context(request)
    now = clock.now()
    ceilings = ctx.ceilings(now.year)
    with ctx.engine.connect() as conn:
        return dashboards.dashboard(conn, hours=hours, now=now, ceilings=ceilings)


@router.get("/facets")
def facets(request: Request, session: Session = Depends(require("read"))) -> dict[str, Any]:
    ctx = context(request)
    with ctx.engine.connect() as conn:
        return queries.facets(conn)
