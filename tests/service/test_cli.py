"""`gateway party` manages parties and keys; `gateway serve --help` documents every setting."""

from __future__ import annotations

import json
import subprocess
import sys

from gateway.auth.keys import key_hash
from gateway.cli import main
from gateway.settings import Settings
from gateway.store import open_store


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_party_chain_sets_and_removes_the_soap_endpoint(tmp_path, capsys):
    from gateway.store import ggk

    url = f"sqlite:///{tmp_path / 'gw.db'}"
    base = ("party", "--store-url", url, "--data-dir", str(tmp_path))
    run(capsys, *base, "add", "12345678", "--no-key")
    code, _, err = run(capsys, *base, "chain", "87654321", "--soap-url", "https://x.example/soap")
    assert code == 2 and "no party 87654321" in err
    code, _, err = run(capsys, *base, "chain", "12345678", "--soap-url", "ftp://x")
    assert code == 2 and "http(s) URL" in err
    code, _, err = run(capsys, *base, "chain", "12345678", "--tls-cert", str(tmp_path / "missing.pem"))
    assert code == 2 and "no such file" in err
    code, out, _ = run(capsys, *base, "chain", "12345678", "--soap-url", "https://adapter.example/soap")
    assert code == 0 and "delivered to https://adapter.example/soap" in out
    store = open_store(url, client_key_secret="x")
    assert ggk.chain_parties(store)["12345678"].soap_url == "https://adapter.example/soap"
    _, out, _ = run(capsys, *base, "list", "--json")
    assert json.loads(out)[0]["chain"] == {"soap_url": "https://adapter.example/soap"}
    code, out, _ = run(capsys, *base, "chain", "12345678", "--remove")
    assert code == 0 and ggk.chain_parties(store) == {}
    assert {"chain_party_set", "chain_party_removed"} <= {a.action for a in store.list_audit(limit=20)}
    store.close()


def test_party_add_key_revoke_list(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'gw.db'}"
    base = ("party", "--store-url", url, "--data-dir", str(tmp_path))
    code, out, _ = run(capsys, *base, "add", "12345678", "--name", "Zorg BV")
    assert code == 0 and "added aanbieder 12345678" in out
    key = out.strip().splitlines()[-1].split(": ", 1)[1]
    store = open_store(url, client_key_secret=Settings(data_dir=tmp_path).secret())
    found = store.find_api_key(key_hash(key))
    assert found is not None and found.party_id == "12345678"
    code, out, err = run(capsys, *base, "add", "12345678")
    assert code == 2 and "exists" in err
    code, out, err = run(capsys, *base, "add", "123", "--role", "gemeente")
    assert code == 2 and "CBS code (4 digits)" in err
    code, out, _ = run(capsys, *base, "add", "0513", "--no-key")
    assert code == 0 and "API key" not in out
    code, out, _ = run(capsys, *base, "key", "0513")
    second = out.strip()
    assert code == 0 and store.find_api_key(key_hash(second)).party_id == "0513"
    code, out, _ = run(capsys, *base, "list", "--json")
    rows = {r["party_id"]: r for r in json.loads(out)}
    assert rows["0513"]["role"] == "gemeente" and rows["12345678"]["role"] == "aanbieder"
    code, out, _ = run(capsys, *base, "revoke", "--key", found.key_id)
    assert code == 0 and store.find_api_key(key_hash(key)) is None
    code, out, _ = run(capsys, *base, "revoke", "0513")
    assert code == 0 and store.find_api_key(key_hash(second)) is None
    assert store.get_party("0513").revoked_at is not None
    actions = [a.action for a in store.list_audit(limit=20)]
    assert {"party_added", "api_key_created", "api_key_revoked", "party_revoked"} <= set(actions)
    store.close()


def test_serve_help_documents_every_setting():
    out = subprocess.run([sys.executable, "-m", "gateway", "serve", "--help"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0
    for name in Settings.model_fields:
        assert f"GATEWAY_{name.upper()}" in out.stdout, name


def test_docs_describe_every_setting():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "service.md").read_text()
    for name in Settings.model_fields:
        assert f"GATEWAY_{name.upper()}" in doc, name


def test_gateway_serve_embedded_default_in_a_subprocess(tmp_path):
    """`gateway party add` then `gateway serve` (SQLite in the data dir, no broker) answers a
    message over HTTP; the process stops cleanly on SIGTERM."""
    import os
    import time

    import httpx

    from gateway import samples
    from testsupport.services import free_port

    env = {**os.environ, "GATEWAY_DATA_DIR": str(tmp_path / "var")}
    add = subprocess.run([sys.executable, "-m", "gateway", "party", "add", "0599"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert add.returncode == 0, add.stderr
    key = add.stdout.strip().splitlines()[-1].split(": ", 1)[1]
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "gateway serve did not start"
            time.sleep(0.2)
        r = httpx.post(f"http://127.0.0.1:{port}/v1/messages", content=samples.allocation("ijw"),
                       headers={"X-API-Key": key, "Content-Type": "application/xml"}, timeout=30)
        assert r.status_code == 202 and r.json()["retour_code"] == "JW302", r.text
        assert (tmp_path / "var" / "gateway.db").exists()
    finally:
        proc.terminate()
        proc.wait(20)
    assert proc.returncode in (0, -15)


def test_settings_file_environment_and_overrides(tmp_path, monkeypatch):
    from gateway.settings import load_settings

    f = tmp_path / "gateway.yaml"
    f.write_text("port: 9001\nkafka_topic_prefix: region\npayload_formats: [xml, json]\n")
    s = load_settings(f, data_dir=tmp_path)
    assert (s.port, s.kafka_topic_prefix, s.payload_formats) == (9001, "region", ["xml", "json"])
    monkeypatch.setenv("GATEWAY_PORT", "9002")  # the environment beats the file
    assert load_settings(f, data_dir=tmp_path).port == 9002
    assert load_settings(f, data_dir=tmp_path, port=9003).port == 9003  # options beat both
    assert load_settings(data_dir=tmp_path).store_url == f"sqlite:///{(tmp_path / 'gateway.db').resolve()}"
    # The HMAC secret is made once and kept.
    first = load_settings(data_dir=tmp_path).secret()
    assert len(first) == 64 and load_settings(data_dir=tmp_path).secret() == first


def test_the_hmac_secret_setting_is_the_stores_secret(tmp_path, monkeypatch):
    from gateway.settings import load_settings
    from gateway.store.clientkey import ENV_SECRET, resolve_secret

    monkeypatch.setenv("GATEWAY_HMAC_SECRET", "one-secret-for-all-replicas")
    assert load_settings(data_dir=tmp_path).secret() == b"one-secret-for-all-replicas"
    assert ENV_SECRET == "GATEWAY_HMAC_SECRET"
    assert resolve_secret(None) == b"one-secret-for-all-replicas"



def test_a_server_process_freezes_the_heap_its_app_built(tmp_path, monkeypatch):
    """`gateway serve` (here: one of its workers) moves the app it built out of the cyclic
    collector's reach (serve.freeze_startup_heap), so full collections stop walking it."""
    import gc

    from gateway import observability
    from gateway.cli import serve

    monkeypatch.setenv("GATEWAY_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(observability, "configure_logging", lambda *a, **k: None)
    monkeypatch.setattr(observability, "log_stray_tracebacks", lambda: None)
    monkeypatch.setenv("GATEWAY_GC_THRESHOLD", "1234")
    assert gc.get_freeze_count() == 0
    threshold = gc.get_threshold()
    try:
        app = serve.worker_app()
        assert gc.get_freeze_count() > 10_000  # the startup heap, not a handful of objects
        assert not any(o is app.router for o in gc.get_objects())  # frozen: no generation holds it
        assert gc.get_threshold() == (1234, *threshold[1:])  # the gc_threshold setting
        app.state.components.store.engine.dispose()
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
