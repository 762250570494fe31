"""Client-certificate identity: uvicorn verifies the certificate (mutual TLS), the app maps its
fingerprint to a party; an unregistered or revoked certificate is refused."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from gateway import samples
from gateway.auth.tls import CertAwareH11Protocol, fingerprint_of_pem

from .conftest import AANBIEDER, live, make_app, make_settings, setup_parties


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture
def pki(tmp_path) -> Path:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not available to make test certificates")
    d = tmp_path / "pki"
    d.mkdir()
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
            "-days", "2", "-subj", "/CN=test ca", cwd=d)
    (d / "server.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for name, subj in (("server", "/CN=127.0.0.1"), ("client", f"/CN={AANBIEDER}"),
                       ("stranger", "/CN=stranger")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", subj, cwd=d)
        extra = ["-extfile", "server.ext"] if name == "server" else []
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", *extra, cwd=d)
    return d


def test_client_certificate_identifies_the_party(tmp_path, pki, contracts):
    app = make_app(make_settings(tmp_path), contracts)
    setup_parties(app)
    store = app.state.components.store
    fp = fingerprint_of_pem((pki / "client.pem").read_bytes())
    store.add_client_cert(fp, AANBIEDER)
    config = dict(ssl_certfile=str(pki / "server.pem"), ssl_keyfile=str(pki / "server.key"),
                  ssl_ca_certs=str(pki / "ca.pem"), ssl_cert_reqs=ssl.CERT_OPTIONAL,
                  http=CertAwareH11Protocol)
    xml = samples.request("ijw", bsn=samples.BSNS[400])
    with live(app, **config) as server:
        def post(cert):  # noqa: ANN001, ANN202
            ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
            if cert:
                ctx.load_cert_chain(*cert)
            with httpx.Client(base_url=server.url, verify=ctx) as c:
                return c.post("/v1/messages", content=xml, headers={"Content-Type": "application/xml"})

        r = post((str(pki / "client.pem"), str(pki / "client.key")))
        assert r.status_code == 202, r.text
        assert r.json()["sender"] == AANBIEDER and r.json()["verdict"] == "accepted"
        # The Python client does the same with cert=.
        from gateway.client import GatewayClient

        with GatewayClient(server.url, verify=str(pki / "ca.pem"),
                           cert=(str(pki / "client.pem"), str(pki / "client.key"))) as gw:
            assert gw.message(r.json()["message_id"])["verdict"] == "accepted"
        r = post((str(pki / "stranger.pem"), str(pki / "stranger.key")))
        assert r.status_code == 401 and r.json()["error"]["code"] == "unknown_cert"
        r = post(None)
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
        store.revoke_client_cert(fp)
        r = post((str(pki / "client.pem"), str(pki / "client.key")))
        assert r.status_code == 401
    store.close()
