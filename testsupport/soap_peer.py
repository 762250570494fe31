"""A small SOAP 1.1 peer on a free loopback port that speaks OntvangAsynchroon as a chain party
would: it answers every Di01/Du01/Fo01 with Bv03, the fault Fo03, a soap:Server fault (HTTP 500),
or not at all (hangs), as the test sets `mode`, and records what it received.

    with SoapPeer() as peer:
        peer.mode = "fo03"          # "bv03" | "fo03" | "server" | "hang" | "garbage"
        peer.url                    # the address to configure (gateway party chain --soap-url)
        peer.received               # the StUF messages received, as bytes, in order
        peer.confirmed              # referentienummers answered with Bv03

    chain_fo01(cross_ref, ontvanger)  # a Fo01 as the chain (IB) sends it about an envelope

The answers are built with gateway.ggk (Bv03/Fo03 conform our envelope schema) and framed with
gateway.ggk.soap, so a zeep client reads them as it reads our own SOAP service.
"""

from __future__ import annotations

import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from lxml import etree

from gateway import clock
from gateway.ggk import build, soap
from gateway.ggk.errors import error
from gateway.ggk.model import NS_STUF


class SoapPeer:
    def __init__(self, mode: str = "bv03", hang_seconds: float = 5.0) -> None:
        self.mode = mode
        self.hang_seconds = hang_seconds
        self.received: list[bytes] = []
        self.confirmed: list[str] = []
        self.requests = 0
        self._lock = threading.Lock()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = peer.answer(body)
                if answer is None:
                    return
                self.send_response(status)
                self.send_header("Content-Type", soap.CONTENT_TYPE)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/OntvangAsynchroon"

    def answer(self, raw: bytes) -> tuple[int, bytes | None]:
        message_bytes, message = soap.body(raw)
        header = soap.header(message)
        with self._lock:
            self.requests += 1
            mode = self.mode
        if mode == "hang":
            time.sleep(self.hang_seconds)
            return 500, soap.plain_fault("Server", "too late")
        if mode == "server":
            return 500, soap.plain_fault("Server", "the peer's store is away")
        if mode == "garbage":
            return 200, b"<html>not SOAP</html>"
        if mode == "fo03":
            fo03 = build.fo03(error("ONTVANGER_UNKNOWN", "ontvanger unknown here"), header)
            return 500, soap.client_fault(fo03, "IB210: ontvanger unknown here")
        with self._lock:
            self.received.append(message_bytes)
            if header is not None:
                self.confirmed.append(header.referentienummer)
        return 200, soap.ok(build.bv03(header))

    def __enter__(self) -> SoapPeer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def chain_fo01(cross_ref: str, ontvanger: str, *, zender: str = "IB", code: str = "IB210",
               referentienummer: str | None = None) -> bytes:
    """A Fo01 as the chain sends it about an envelope it could not deliver."""
    s = NS_STUF
    root = etree.Element(f"{{{s}}}Fo01Bericht", nsmap={"StUF": s})
    sg = etree.SubElement(root, f"{{{s}}}stuurgegevens")
    etree.SubElement(sg, f"{{{s}}}berichtcode").text = "Fo01"
    for name, org, app in (("zender", zender, "GGK"), ("ontvanger", ontvanger, "iJwiWmoGateway")):
        el = etree.SubElement(sg, f"{{{s}}}{name}")
        etree.SubElement(el, f"{{{s}}}organisatie").text = org
        etree.SubElement(el, f"{{{s}}}applicatie").text = app
    etree.SubElement(sg, f"{{{s}}}referentienummer").text = referentienummer or str(uuid.uuid4())
    etree.SubElement(sg, f"{{{s}}}tijdstipBericht").text = clock.now().strftime("%Y%m%d%H%M%S")
    etree.SubElement(sg, f"{{{s}}}crossRefnummer").text = cross_ref
    body = etree.SubElement(root, f"{{{s}}}body")
    etree.SubElement(body, f"{{{s}}}code").text = code
    etree.SubElement(body, f"{{{s}}}plek").text = "client"
    etree.SubElement(body, f"{{{s}}}omschrijving").text = f"Ontvangende organisatie onbekend ({code})"
    etree.SubElement(body, f"{{{s}}}details").text = "JW301-00010000"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
