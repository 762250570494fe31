"""The ISD chain's SOAP service OntvangAsynchroon (SOAP 1.1): ggk_Di01, ggk_Du01 and Fo01, each
answered with Bv03 or the fault Fo03. The WSDL is GET <path>?wsdl, with the address the request
came in on (or the setting soap_address, GATEWAY_SOAP_ADDRESS, when the gateway sits behind a proxy).

A Di01/Du01 goes the same way as one posted to /v1/messages (routes_messages._process: the same
pipeline, the same store): Bv03 only after it is stored; a refused envelope is the Fo03 with its
StUF/IB code, nothing stored; when the gateway itself cannot take it now (store unavailable, a
rule's defect, at its limit) a soap:Server fault with a retry hint, never an Fo03 blaming the sender.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import exc as sa_exc

from gateway.auth.identity import authenticate
from gateway.auth.policy import Party, Refused
from gateway.auth.tls import cert_fingerprint_of
from gateway.ggk import build, soap
from gateway.ggk.errors import EnvelopeError, GgkError, error
from gateway.ggk.model import Stuurgegevens
from gateway.observability import get_logger
from gateway.service.bodies import read_limited
from gateway.service.deps import in_thread
from gateway.service.errors import ApiError
from gateway.store import ConflictError
from validators.faults import GatewayFault

PATH = "/soap/ggk0210/OntvangAsynchroon"
router = APIRouter(tags=["soap"])
log = get_logger("gateway.soap")
# Everything that means "the gateway cannot take it now" (as the REST API's 503 handlers).
_UNAVAILABLE = (GatewayFault, ConflictError, sa_exc.OperationalError, sa_exc.InterfaceError,
                sa_exc.DisconnectionError, sa_exc.TimeoutError, sa_exc.PendingRollbackError)


def address(request: Request) -> str:
    """The service's address as the client should use it: a setting when behind a proxy, else
    the address this request came in on."""
    configured = request.app.state.settings.soap_address
    if configured:
        return configured.rstrip("/")
    return str(request.url.replace(query=None, fragment=None)).split(f"{PATH}", 1)[0] + PATH


def _xml(content: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(content, status, headers=headers, media_type=soap.CONTENT_TYPE)


@router.get(PATH, summary="The WSDL of OntvangAsynchroon (?wsdl)")
async def get_wsdl(request: Request) -> Response:
    return _xml(soap.wsdl(address(request)))


@router.get(PATH + "/wsdl/StUF.wsdl", include_in_schema=False)
async def get_stuf_wsdl(request: Request) -> Response:
    return _xml(soap.stuf_wsdl(address(request)))


@router.get(PATH + "/xsd/{name}", include_in_schema=False)
async def get_schema(name: str) -> Response:
    data = soap.schema(name)
    if data is None:
        return Response(status_code=404)
    return _xml(data)


def _refused(err: GgkError, header: Stuurgegevens | None) -> Response:
    log.warning("soap_refused", code=err.code, stuf_code=err.stuf_code)
    fo03 = build.fo03(err, header)
    return _xml(soap.client_fault(fo03, f"{err.stuf_code}: {err.text}"), 500)


def _unavailable(request: Request, reason: str) -> Response:
    retry = int(request.app.state.settings.retry_after_seconds)
    text = (f"{reason}; this is the gateway's fault, not your message's. Nothing was stored: "
            f"please resend after {retry} s (a message already stored is answered as before)")
    return _xml(soap.plain_fault("Server", text, retry), 503, {"Retry-After": str(retry)})


async def _party(request: Request) -> Party:
    store = request.app.state.components.store
    return await in_thread(
        authenticate, store, authorization=request.headers.get("authorization"),
        x_api_key=request.headers.get("x-api-key"), cert_fingerprint=cert_fingerprint_of(request.scope))


# Described by its WSDL, not by the OpenAPI document: SOAP 1.1 answers every fault with HTTP 500,
# which the REST API's contract (no 5xx for a sender's mistake) does not describe.
@router.post(PATH, include_in_schema=False)
async def post_soap(request: Request) -> Response:
    """Receive a Di01 or Du01 (or a Fo01) in a SOAP 1.1 envelope. Bv03 once stored; fault Fo03
    (soap:Client) for a refused envelope; soap:Server with Retry-After when the gateway cannot
    take it now. Authenticated like the REST API (API key or client certificate)."""
    from gateway.service.routes_messages import _process  # the one receive path of /v1/messages

    try:
        party = await _party(request)
    except Refused as exc:
        return _xml(soap.plain_fault("Client", exc.reason), exc.status)
    settings = request.app.state.settings
    try:
        raw = await read_limited(request, settings.max_message_bytes, "SOAP request")
        body, message = await in_thread(soap.body, raw)  # up to 25 MB: off the event loop
    except ApiError as exc:
        if exc.status == 413:
            return _refused(error("ENVELOPE_TOO_LARGE", exc.message), None)
        return _refused(error("ENVELOPE_SCHEMA", exc.message), None)
    except EnvelopeError as exc:
        return _refused(exc.error, None)
    header = soap.header(message)
    code = soap.berichtcode(message)
    if code == "Fo01":
        return await _fo01(request, body, header, party)
    if code not in ("Di01", "Du01"):  # refused before the pipeline could store a bare message
        return _refused(error("NOT_AN_ENVELOPE", f"the SOAP body holds a {code or 'non-StUF element'}; "
                                                 "expected a Di01, Du01 or Fo01"), header)
    try:
        limits = request.app.state.in_flight
        async with limits.slot(), limits.room(len(body)):
            outcome = await _process(request, body, party, "soap")
    except EnvelopeError as exc:
        return _refused(exc.error, header)
    except Refused as exc:
        if exc.code in ("spoofed_sender", "unknown_party"):  # the zender is not who may send this
            return _refused(error("ZENDER_MISMATCH", exc.reason), header)
        # a refusal the chain's code list has no code for (a role that may not send this type)
        log.warning("soap_refused", reason=exc.code)
        return _xml(soap.plain_fault("Client", exc.reason), 500)
    except ApiError as exc:  # at the in-flight limit
        return _unavailable(request, exc.message)
    except _UNAVAILABLE as exc:
        log.error("soap_unavailable", error=type(exc).__name__)
        return _unavailable(request, f"the gateway could not take the message now ({type(exc).__name__})")
    except Exception as exc:  # a defect of ours: logged for operators, still not the sender's fault
        log.error("soap_unexpected_error", exc_info=exc)
        return _unavailable(request, "the gateway could not handle the message")
    log.info("soap_received", message_id=outcome.message_id, duplicate=outcome.duplicate)
    # the pipeline read these stuurgegevens to accept the envelope, so they are there
    assert header is not None
    return _xml(soap.ok(build.bv03(header)))


async def _fo01(request: Request, body: bytes, header: Stuurgegevens | None, party: Party) -> Response:
    """A Fo01 from the chain (or a party) is checked, stored and linked to the message whose
    envelope its crossRefnummer names (gateway.ggk.answers), then confirmed with Bv03; a broken
    one, a zender that is not the caller or the chain, or a reused referentienummer: Fo03."""
    from gateway.ggk import answers

    store = request.app.state.components.store
    try:
        received = await in_thread(answers.receive_fo01, store, body, party, "soap")
    except EnvelopeError as exc:
        return _refused(exc.error, header)
    except Refused as exc:
        return _refused(error("ZENDER_MISMATCH", exc.reason), header)
    except _UNAVAILABLE as exc:
        log.error("soap_unavailable", error=type(exc).__name__)
        return _unavailable(request, f"the gateway could not take the Fo01 now ({type(exc).__name__})")
    log.info("soap_fo01_received", fo01_id=received.id, linked=received.message_id, code=received.fout.code,
             duplicate=received.duplicate)
    return _xml(soap.ok(build.bv03(received.fout.stuurgegevens)))
