"""One error shape for every refusal, and no stack trace ever reaches a sender.

    {"error": {"code": "spoofed_sender", "message": "..."}}
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.auth.policy import Refused
from gateway.ggk.errors import EnvelopeError
from gateway.ingress.zipbatch import ZipRejected
from validators.faults import GatewayFault


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def install(app: FastAPI) -> None:
    from gateway.observability import get_logger

    log = get_logger("gateway.service")

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, **exc.extra), exc.status, headers=exc.headers)

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> JSONResponse:
        log.warning("request_refused", reason=exc.code, status=exc.status, path=request.url.path)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        return JSONResponse(error_body(exc.code, exc.reason), exc.status, headers=headers)

    @app.exception_handler(EnvelopeError)
    async def _envelope(request: Request, exc: EnvelopeError) -> JSONResponse:
        # A refused StUF-GGk envelope: nothing was stored. The chain's code (IB009, StUF055, ...)
        # and where the problem is; never payload content.
        err = exc.error
        log.warning("envelope_refused", code=err.code, stuf_code=err.stuf_code, path=request.url.path)
        return JSONResponse(error_body(err.code, err.text, stuf_code=err.stuf_code, plek=err.plek,
                                       element=err.path, line=err.line), 422)

    @app.exception_handler(ZipRejected)
    async def _zip(request: Request, exc: ZipRejected) -> JSONResponse:
        return JSONResponse(error_body(exc.code, str(exc)), 422)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()
        )
        return JSONResponse(error_body("bad_request", problems or "bad request"), 400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code,
                            headers=getattr(exc, "headers", None))

    async def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The database is unreachable, restarting, or dropped the connection mid-transaction: a
        # transaction that did not commit stored nothing, one that did is answered as a duplicate
        # when resent, so "come back later" is the true and safe answer (not a 500).
        log.warning("store_unavailable", path=request.url.path, error=type(exc).__name__)
        retry = str(getattr(request.app.state.settings, "retry_after_seconds", 2))
        return JSONResponse(
            error_body("store_unavailable", "the gateway's store is unavailable for a moment; "
                       f"please resend after {retry} s (a message already stored is answered as a "
                       "duplicate)"),
            503, headers={"Retry-After": retry},
        )

    async def _fault(request: Request, exc: GatewayFault) -> JSONResponse:
        # The gateway could not judge the message (schema not loaded, a rule's defect): it is not the
        # sender's fault, so no verdict and no retour; nothing was stored, resending is safe.
        log.error("gateway_fault", path=request.url.path, fault=exc.code, error=str(exc))
        retry = str(getattr(request.app.state.settings, "retry_after_seconds", 2))
        return JSONResponse(
            error_body(exc.code, f"{exc}; this is the gateway's fault, not your message's. Nothing "
                       f"was stored: please resend after {retry} s"),
            503, headers={"Retry-After": retry},
        )

    app.add_exception_handler(GatewayFault, _fault)

    from sqlalchemy import exc as sa_exc

    from gateway.store import ConflictError

    # A concurrent transaction kept winning the same unique constraint (the pipeline retried):
    # nothing of this message was stored; a resend is answered normally or as a duplicate.
    app.add_exception_handler(ConflictError, _store_unavailable)

    # PendingRollbackError: the connection died inside the message's transaction (a statement
    # before failed on it); nothing of that transaction was committed.
    for unavailable in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError,
                        sa_exc.TimeoutError, sa_exc.PendingRollbackError):
        app.add_exception_handler(unavailable, _store_unavailable)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Logged for operators (masked by the log processor); the sender sees no internals.
        log.error("unexpected_error", path=request.url.path, exc_info=exc)
        return JSONResponse(
            error_body("internal_error", "the gateway could not handle this request; "
                       "nothing was stored, please retry later"),
            500,
        )
