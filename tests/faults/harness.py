"""The pieces of the fault and hostile-input suites: real `gateway serve` processes on free
loopback ports, a store prepared with two parties, the broker, and what a consumer sees.

Everything here is started by the caller and stopped by it (context managers / explicit stop);
nothing listens beyond 127.0.0.1. Used by tests/faults/ (short form) and benchmarks/faults_long.py
(long form).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from testsupport.services import free_port

REPO = Path(__file__).resolve().parents[2]
SECRET = "faults-test-secret"  # the HMAC secret every process of one test shares
GEMEENTE = "0599"  # = gateway.samples.GEMEENTE / AANBIEDER (not imported: keep this importable cheaply)
AANBIEDER = "12345678"


@dataclass
class Keys:
    gemeente: str
    aanbieder: str

    def for_sender(self, role: str) -> str:
        return self.gemeente if role == "gemeente" else self.aanbieder


def open_test_store(store_url: str):  # noqa: ANN201
    from gateway.store import open_store

    return open_store(store_url, client_key_secret=SECRET.encode())


def prepare_store(store_url: str) -> Keys:
    """Migrate the store and register the two parties with one API key each (as `gateway party
    add` does), before any gateway process starts."""
    from gateway.auth.keys import key_hash, new_key

    store = open_test_store(store_url)
    try:
        keys = []
        for party, role in ((GEMEENTE, "gemeente"), (AANBIEDER, "aanbieder")):
            store.add_party(party, role, f"fault-test {role}")
            key_id, key = new_key()
            store.add_api_key(party, key_hash(key), key_id)
            keys.append(key)
    finally:
        store.close()
    return Keys(*keys)


def rss_bytes(pid: int) -> int:
    """Resident set size of a process (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


class GatewayProcess:
    """`python -m gateway serve` in its own process on a free loopback port.

    kill9() ends it the hard way (no shutdown hooks, no flush); start() again restarts it on the
    same port with the same settings. Its JSON log goes to `log_path` (appended across restarts).
    """

    def __init__(
        self,
        data_dir: Path,
        store_url: str,
        *,
        kafka_bootstrap: str | None = None,
        port: int | None = None,
        name: str = "gw",
        env: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.store_url = store_url
        self.kafka_bootstrap = kafka_bootstrap
        self.port = port or free_port()
        self.name = name
        self.extra_env = env or {}
        self.proc: subprocess.Popen | None = None
        self.log_path = self.data_dir / f"{name}.log"
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def _env(self) -> dict[str, str]:
        # The gateway's settings come from this harness alone, but the clock is the run's: a
        # suite run as another day (GATEWAY_TEST_DATE) needs its gateways on that day too.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("GATEWAY_", "OTEL_")) or k == "GATEWAY_CLOCK"}
        env.update(
            GATEWAY_HMAC_SECRET=SECRET,
            GATEWAY_OUTBOX_POLL_SECONDS="0.05",
            GATEWAY_OUTBOX_LEASE_SECONDS="1.0",
            GATEWAY_MAX_IN_FLIGHT="32",
            GATEWAY_RETRY_AFTER_SECONDS="1",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60.0) -> GatewayProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "gateway", "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--data-dir", str(self.data_dir), "--store-url", self.store_url, "--log-level", "INFO"]
        if self.kafka_bootstrap:
            cmd += ["--kafka-bootstrap", self.kafka_bootstrap]
        log = open(self.log_path, "ab")  # noqa: SIM115 (the child owns it; closed below)
        try:
            self.proc = subprocess.Popen(cmd, cwd=self.data_dir, env=self._env(), stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return self
            time.sleep(0.1)
        self.kill9()
        raise RuntimeError(f"{self.name} not healthy after {timeout}s: {self.log_tail()}")

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        """Graceful stop (SIGTERM), killed after 15 s."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill9()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def healthy(self) -> bool:
        try:
            return self.alive() and httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def rss(self) -> int:
        return rss_bytes(self.pid)

    def log_text(self) -> str:
        return self.log_path.read_text("utf-8", "replace") if self.log_path.exists() else ""

    def log_tail(self, n: int = 4000) -> str:
        return self.log_text()[-n:]

    def log_events(self) -> list[dict]:
        out = []
        for line in self.log_text().splitlines():
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
        return out

    def count_events(self, *names: str) -> int:
        return sum(1 for e in self.log_events() if e.get("event") in names)

    def wait_for_events(self, names: tuple[str, ...], more_than: int, timeout: float) -> bool:
        """Wait until the log holds more than `more_than` events named in `names`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count_events(*names) > more_than:
                return True
            time.sleep(0.2)
        return False

    def __enter__(self) -> GatewayProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def gateways(n: int, base_dir: Path, store_url: str, **kwargs) -> Iterator[list[GatewayProcess]]:
    """n gateway processes on one store (and broker), started one after the other (the first one
    migrates), all stopped at the end."""
    procs = [GatewayProcess(base_dir / f"gw{i}", store_url, name=f"gw{i}", **kwargs) for i in range(n)]
    try:
        for p in procs:
            p.start()
        yield procs
    finally:
        for p in procs:
            p.stop()


# -- what the store and a consumer see -----------------------------------------------------------

def kafka_outbox(store, after_id: int = 0) -> list[tuple[int, str, str | None, str, bool]]:
    """(outbox id, topic, key, message-id header, published) of every Kafka row, in outbox order."""
    from sqlalchemy import select

    from gateway.store import STREAM
    from gateway.store import tables as t

    o = t.outbox
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(o.c.id, o.c.destination, o.c.key, o.c.headers, o.c.published_at)
            .where(o.c.destination != STREAM, o.c.id > after_id).order_by(o.c.id)
        ).all()
    return [(r[0], r[1], r[2], _header(r[3], "message-id"), r[4] is not None) for r in rows]


def _header(stored, name: str) -> str:
    for k, v in (stored.items() if isinstance(stored, dict) else stored):
        if k == name:
            return v.decode() if isinstance(v, bytes) else str(v)
    raise KeyError(name)


def stored_messages(store) -> list[dict]:
    """Every stored delivery (replays excluded): id, sender, code, identificatie, sha256, verdict."""
    from sqlalchemy import select

    from gateway.store import tables as t

    m = t.messages
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(m.c.id, m.c.sender, m.c.code, m.c.identificatie, m.c.sha256, m.c.verdict)
            .where(m.c.replay_of.is_(None))
        ).mappings().all()
    return [dict(r) for r in rows]


def dead_letters(store) -> int:
    from sqlalchemy import func, select

    from gateway.store import tables as t

    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.messages)
                                .where(t.messages.c.dead_letter.is_(True))).scalar() or 0)


def wait_drained(store, timeout: float) -> int:
    """Wait until no Kafka outbox row is pending; the number still pending at the end."""
    deadline = time.monotonic() + timeout
    pending = store.pending_outbox_count()
    while pending and time.monotonic() < deadline:
        time.sleep(0.1)
        pending = store.pending_outbox_count()
    return pending


def consume_all(bootstrap: str, topics: list[str], expected_ids: set[str], timeout: float = 30.0) -> list:
    """Every record on `topics` from the beginning, until all `expected_ids` were seen (then a
    short grace period for stragglers, so duplicates are counted too) or the timeout."""
    import asyncio

    async def run() -> list:
        from aiokafka import AIOKafkaConsumer

        consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=None,
                                    auto_offset_reset="earliest", enable_auto_commit=False,
                                    metadata_max_age_ms=500)
        await consumer.start()
        records: list = []
        seen: set[str] = set()
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=500)
                for recs in batch.values():
                    for r in recs:
                        records.append(r)
                        seen.add(dict(r.headers).get("message-id", b"").decode())
                if expected_ids <= seen:
                    batch = await consumer.getmany(timeout_ms=1000)
                    for recs in batch.values():
                        records.extend(recs)
                    break
        finally:
            await consumer.stop()
        return records

    return asyncio.run(run())


def record_ids(records) -> list[str]:  # noqa: ANN001
    return [dict(r.headers).get("message-id", b"").decode() for r in records]
