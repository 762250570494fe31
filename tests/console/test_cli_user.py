"""`gateway user`: add, passwd, role, disable, list; the console login follows."""

from __future__ import annotations

import io
import json

from console_helpers import open_test_store

from gateway.cli import main
from gateway.console import users


def run(tmp_path, monkeypatch, capsys, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    monkeypatch.setenv("GATEWAY_HMAC_SECRET", "cli-user-test-secret")
    code = main(["user", "--data-dir", str(tmp_path), *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_user_lifecycle(tmp_path, monkeypatch, capsys):
    code, out, _ = run(tmp_path, monkeypatch, capsys, "add", "olga", "--role", "privacy-officer",
                       "--password-stdin", stdin="a long enough password\n")
    assert code == 0 and "added olga" in out
    code, _, err = run(tmp_path, monkeypatch, capsys, "add", "olga", "--role", "viewer", "--password-stdin",
                       stdin="another password 1\n")
    assert code == 2 and "exists" in err
    code, _, err = run(tmp_path, monkeypatch, capsys, "add", "kim", "--role", "root", "--password-stdin",
                       stdin="a long enough password\n")
    assert code == 2 and "unknown role" in err
    code, _, err = run(tmp_path, monkeypatch, capsys, "add", "kim", "--role", "viewer", "--password-stdin",
                       stdin="short\n")
    assert code == 2 and "at least" in err

    store = open_test_store(f"sqlite:///{(tmp_path / 'gateway.db').resolve()}")
    try:
        assert users.authenticate(store, "olga", "a long enough password") == "privacy"
        assert store.get_user("olga").password_hash.startswith("$argon2id$")
    finally:
        store.close()

    assert run(tmp_path, monkeypatch, capsys, "passwd", "olga", "--password-stdin", stdin="the new password!\n")[0] == 0
    assert run(tmp_path, monkeypatch, capsys, "role", "olga", "operator")[0] == 0
    code, out, _ = run(tmp_path, monkeypatch, capsys, "list", "--json")
    [row] = json.loads(out)
    assert (row["username"], row["role"], row["disabled_at"]) == ("olga", "operator", None)
    assert "password" not in out
    assert run(tmp_path, monkeypatch, capsys, "disable", "olga")[0] == 0
    code, out, _ = run(tmp_path, monkeypatch, capsys, "list")
    assert "olga" in out and "disabled" in out
    store = open_test_store(f"sqlite:///{(tmp_path / 'gateway.db').resolve()}")
    try:
        assert users.authenticate(store, "olga", "the new password!") is None  # disabled
    finally:
        store.close()
    assert run(tmp_path, monkeypatch, capsys, "passwd", "nobody", "--password-stdin", stdin="whatever pass\n")[0] == 2


def test_user_add_without_a_terminal_points_to_password_stdin(tmp_path):
    """A newcomer scripting `gateway user add` gets a clear line, not getpass's EOFError traceback."""
    import os
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "gateway", "user", "--data-dir", str(tmp_path), "add", "ops", "--role", "admin"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
        env={**os.environ, "GATEWAY_HMAC_SECRET": "cli-user-test-secret"},
    )
    assert proc.returncode == 2
    assert "--password-stdin" in proc.stderr and "Traceback" not in proc.stderr
