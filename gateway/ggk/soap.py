"""SOAP 1.1 for the service OntvangAsynchroon: the WSDL (our own template in wsdl/, filled in with
the real address), the body taken out of a request, and the answers (Bv03, the fault Fo03 that
blames the sender, and a Server fault with a retry hint when the gateway itself failed).

    soap.wsdl(address)             # OntvangAsynchroon.wsdl; StUF.wsdl and xsd/ next to the address
    soap.body(raw) -> bytes        # the one element in soap:Body, as its own document
    soap.ok(bv03_bytes)            # a SOAP envelope around the Bv03
    soap.client_fault(fo03_bytes, text) / soap.plain_fault("Server", text, retry_after)
"""

from __future__ import annotations

import copy
from pathlib import Path

from lxml import etree

from gateway.ggk.errors import fail
from gateway.ggk.model import ROOTS, Stuurgegevens
from gateway.ggk.read import _stuurgegevens
from gateway.ggk.schema import XSD_DIR
from gateway.xmlparse import hardened_parser

NS_SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
NS_GATEWAY = "urn:gateway:ggk:soap"
WSDL_DIR = Path(__file__).resolve().parent / "wsdl"
SCHEMAS = {"ggk.xsd", "stuf.xsd"}
CONTENT_TYPE = "text/xml; charset=utf-8"  # SOAP 1.1


def wsdl(address: str) -> bytes:
    """The service's WSDL for the endpoint at `address` (its StUF part and schemas under it)."""
    text = (WSDL_DIR / "OntvangAsynchroon.wsdl").read_text("utf-8")
    return text.format(address=address, stuf_wsdl=f"{address}/wsdl/StUF.wsdl",
                       ggk_xsd=f"{address}/xsd/ggk.xsd").encode("utf-8")


def stuf_wsdl(address: str) -> bytes:
    text = (WSDL_DIR / "StUF.wsdl").read_text("utf-8")
    return text.format(stuf_xsd=f"{address}/xsd/stuf.xsd").encode("utf-8")


def schema(name: str) -> bytes | None:
    """One of our envelope schemas as served (ggk.xsd imports stuf.xsd relatively: same folder)."""
    return (XSD_DIR / name).read_bytes() if name in SCHEMAS else None


def body(raw: bytes) -> tuple[bytes, etree._Element]:
    """The one element in the SOAP 1.1 Body, serialised as its own document (with the namespaces
    it uses): what POST /v1/messages would have received. Raises EnvelopeError (RIN001) for
    something that is no SOAP 1.1 envelope with one body element."""
    try:
        # The body carries the base64 payload as one text node of up to ~18 MB (as ggk.read).
        root = etree.fromstring(raw, hardened_parser(huge_text=True))
    except etree.XMLSyntaxError as exc:
        raise fail("ENVELOPE_NOT_XML", f"the SOAP request is not well-formed XML: {exc.msg}",
                   line=exc.lineno) from None
    if root.tag != f"{{{NS_SOAP}}}Envelope":
        hint = " (SOAP 1.2 is not offered: the WSDL binds SOAP 1.1)" if root.tag.endswith("}Envelope") else ""
        raise fail("ENVELOPE_SCHEMA", f"the request is no SOAP 1.1 Envelope{hint}")
    soap_body = root.find(f"{{{NS_SOAP}}}Body")
    elements = [] if soap_body is None else [e for e in soap_body if isinstance(e.tag, str)]
    if len(elements) != 1:
        raise fail("ENVELOPE_SCHEMA", f"the SOAP Body holds {len(elements)} elements; expected one message")
    # deepcopy makes it a root of its own that carries the namespaces it inherited
    message = copy.deepcopy(elements[0])
    return etree.tostring(message, xml_declaration=True, encoding="UTF-8"), message


def header(message: etree._Element) -> Stuurgegevens | None:
    """The stuurgegevens of a received message as far as they can be read (for the Bv03's or
    Fo03's crossRefnummer and ontvanger); None when they cannot."""
    code = berichtcode(message)
    sg = next((e for e in message if isinstance(e.tag, str) and etree.QName(e).localname == "stuurgegevens"), None)
    if code is None or sg is None:
        return None
    try:
        return _stuurgegevens(sg, code)
    except Exception:  # a broken header: the Fo03 then names no crossRefnummer
        return None


def _envelope(content: etree._Element) -> bytes:
    env = etree.Element(f"{{{NS_SOAP}}}Envelope", nsmap={"soapenv": NS_SOAP})
    etree.SubElement(env, f"{{{NS_SOAP}}}Body").append(content)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def ok(answer: bytes) -> bytes:
    """The SOAP response carrying a Bv03."""
    return _envelope(etree.fromstring(answer))


def _fault(code: str, text: str) -> etree._Element:
    fault = etree.Element(f"{{{NS_SOAP}}}Fault")
    # faultcode is a QName: the prefix must be bound where it is used
    etree.SubElement(fault, "faultcode", nsmap={"soapenv": NS_SOAP}).text = f"soapenv:{code}"
    etree.SubElement(fault, "faultstring").text = text
    return fault


def client_fault(fo03: bytes, text: str) -> bytes:
    """The message is refused (the sender's fault): soap:Client with the Fo03 as detail."""
    fault = _fault("Client", text)
    etree.SubElement(fault, "detail").append(etree.fromstring(fo03))
    return _envelope(fault)


def plain_fault(code: str, text: str, retry_after: int | None = None) -> bytes:
    """A fault without a Fo03: soap:Server when the gateway could not take the message now (not
    the sender's fault; nothing stored) with when to send it again; soap:Client for a refused
    credential."""
    fault = _fault(code, text)
    if retry_after is not None:
        detail = etree.SubElement(fault, "detail")
        etree.SubElement(detail, f"{{{NS_GATEWAY}}}retryAfterSeconds",
                         nsmap={"gw": NS_GATEWAY}).text = str(retry_after)
    return _envelope(fault)


def berichtcode(message: etree._Element) -> str | None:
    """Di01, Du01, Fo01, ... from the root element; None for anything else."""
    q = etree.QName(message)
    return ROOTS.get((q.namespace or "", q.localname))
