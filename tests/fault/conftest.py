"""Fault-injection fixtures: servers of the test's own that it may kill and restart.

The shared RabbitMQ and MongoDB wire-protocol server on the default ports serve every other
test (and, on a developer's machine, other people): a fault test never stops them. What it
kills it started itself: a private RabbitMQ node (its own node name, ports and data
directory) or a private SecantusDB (``secantusd-rs``: its own port and WiredTiger
directory), or a subprocess consumer or relay. Connection faults go through
``tests.fault.proxy.TcpProxy``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kernel.envelope import Envelope, EventPayload, new_envelope
from kernel.outbox import AggregateCollection
from kernel.store import DocumentStore, DuplicateKeyError
from liandong.gateway import free_port
from tests.infra import RABBIT_SBIN, server_env

ROOT = Path(__file__).resolve().parents[2]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fault: fault injection against real servers the test starts (or proxies) itself",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/fault/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.fault)


@pytest.fixture(autouse=True)
async def no_leaked_tasks() -> AsyncIterator[None]:
    """A fault test stops every worker it started: the event loop is shared by the whole
    session, so a relay or consumer left running would go on talking to servers of later
    tests (it once sent finds to a private server that was gone, and another test's query
    recorder saw them). Fails the test that leaked, naming the tasks."""
    before = set(asyncio.all_tasks())
    yield
    deadline = time.monotonic() + 5
    while True:
        leaked = [t for t in asyncio.all_tasks() - before if not t.done()]
        leaked = [t for t in leaked if t is not asyncio.current_task()]
        if not leaked or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    for task in leaked:
        task.cancel()
    assert not leaked, "tasks left running: " + ", ".join(
        f"{t.get_name()} {t.get_coro()!r}" for t in leaked
    )


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


async def eventually(
    check: Callable[[], Awaitable[bool]], within: float, what: str, every: float = 0.1
) -> float:
    """Poll ``check`` until true; return the seconds it took, or fail naming ``what``."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > within:
            raise AssertionError(f"not within {within:.0f}s: {what}")
        await asyncio.sleep(every)
    return time.monotonic() - started


# -- events and an idempotent side effect -------------------------------------------------


class Numbered(EventPayload):
    event_type = "fault.numbered.v1"
    n: int
    poison: bool = False


def numbered(n: int, subject: str, *, poison: bool = False) -> Envelope:
    return new_envelope(
        Numbered(n=n, poison=poison), district="fuyuan", service="fault", subject=subject
    )


async def produce(agg: AggregateCollection, count: int, sent: list[str]) -> None:
    """Commit ``count`` numbered aggregates, each with its event, 10 ms apart; the ids of the
    committed events go to ``sent`` as they land."""
    for i in range(count):
        env = numbered(i, f"c{i:04d}")
        await agg.insert({"_id": f"c{i:04d}", "value": i}, [env])
        sent.append(env.id)
        await asyncio.sleep(0.01)


class RecordingEffect:
    """A consumer side effect keyed by the event id (idempotent by construction): the
    ``effects`` document is inserted once per event and a duplicate-key error means "done
    already". Every delivery is also logged in ``deliveries`` so the test can count how many
    duplicates were absorbed, also across processes."""

    def __init__(self, store: DocumentStore, worker: str = "test") -> None:
        self.effects = store.collection("effects")
        self.deliveries = store.collection("deliveries")
        self.worker = worker
        self.delivered = 0
        self.duplicates = 0
        self.delay = 0.0  # seconds between the side effect and the ack

    async def __call__(self, env: Envelope) -> None:
        self.delivered += 1
        await self.deliveries.insert_one(
            {"_id": uuid.uuid4().hex, "event": env.id, "worker": self.worker}
        )
        try:
            await self.effects.insert_one({"_id": env.id, "subject": env.subject})
        except DuplicateKeyError:
            self.duplicates += 1
        if self.delay:
            await asyncio.sleep(self.delay)


@dataclass
class Figures:
    """What every fault test prints: events sent, delivered, duplicates, lost, seconds."""

    name: str
    sent: int = 0
    delivered: int = 0  # distinct side effects
    deliveries: int = 0  # handler invocations, duplicates included
    lost: int = 0
    seconds: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def duplicates_absorbed(self) -> int:
        return self.deliveries - self.delivered

    def show(self) -> None:
        more = ", ".join(f"{k} {v}" for k, v in self.extra.items())
        print(
            f"\n[fault] {self.name}: sent {self.sent}, delivered {self.delivered}, deliveries "
            f"{self.deliveries}, duplicate deliveries absorbed {self.duplicates_absorbed}, "
            f"duplicate side effects 0 by key, lost {self.lost}, {self.seconds:.1f}s"
            + (f"; {more}" if more else "")
        )


async def side_effect_figures(store: DocumentStore, sent_ids: list[str], fig: Figures) -> None:
    """Fill ``fig`` from the store and assert: every sent event has its side effect, nothing
    else has one, and no event's side effect exists twice."""
    effects = await store.collection("effects").find({}, projection=["_id"])
    ids = [d["_id"] for d in effects]
    fig.sent = len(sent_ids)
    fig.delivered = len(ids)
    fig.deliveries = await store.collection("deliveries").count({})
    fig.lost = len(set(sent_ids) - set(ids))
    fig.show()
    assert len(ids) == len(set(ids)), "an event's side effect happened twice"
    assert set(ids) <= set(sent_ids), "a side effect for an event nobody sent"
    assert fig.lost == 0, f"{fig.lost} committed events never reached the side effect"


# -- a private RabbitMQ node ---------------------------------------------------------------


def _rabbit_env() -> dict[str, str]:
    env = server_env()
    env["PATH"] = os.pathsep.join([env.get("PATH", ""), *RABBIT_SBIN])
    return env


class PrivateRabbit:
    """A RabbitMQ node of this test only: own node name, AMQP and distribution ports,
    database and log directories, no plugins. Survives restarts with its data (durable quorum
    queues, persistent messages), like a production broker."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.node = f"ldfault-{os.getpid()}-{uuid.uuid4().hex[:6]}@localhost"
        self.port = free_port()
        self.dist_port = free_port()
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/"
        self.restarts = 0

    def _env(self) -> dict[str, str]:
        env = _rabbit_env()
        env.update(
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_MNESIA_BASE=str(self.base / "mnesia"),
            RABBITMQ_LOG_BASE=str(self.base / "log"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.base / "enabled_plugins"),
            RABBITMQ_PID_FILE=str(self.base / "node.pid"),
        )
        return env

    def start(self, within: float = 120) -> float:
        """Start the node; returns the seconds until its AMQP port answered."""
        if shutil.which("rabbitmq-server", path=_rabbit_env()["PATH"]) is None:
            pytest.fail(
                "rabbitmq-server is not installed: run `scripts/infra.sh up`", pytrace=False
            )
        for sub in ("mnesia", "log"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        (self.base / "enabled_plugins").write_text("[].\n")
        # Debian's wrapper drops root to the rabbitmq user, which must own the node's files.
        if os.getuid() == 0:
            with contextlib.suppress(KeyError):
                user = pwd.getpwnam("rabbitmq")
                for path in [self.base, *self.base.rglob("*")]:
                    os.chown(path, user.pw_uid, user.pw_gid)
        started = time.monotonic()
        subprocess.run(
            ["rabbitmq-server", "-detached"],
            env=self._env(),
            check=True,
            capture_output=True,
            timeout=60,
        )
        while not port_answers(self.port):
            if time.monotonic() - started > within:
                logs = "\n".join(p.read_text(errors="replace")[-2000:] for p in self.logs())
                pytest.fail(f"private RabbitMQ {self.node} did not start:\n{logs}", pytrace=False)
            time.sleep(0.2)
        return time.monotonic() - started

    def logs(self) -> list[Path]:
        return sorted((self.base / "log").glob("*.log"))

    def stop(self, within: float = 60) -> None:
        subprocess.run(
            ["rabbitmqctl", "-n", self.node, "-q", "stop", str(self.base / "node.pid")],
            env=self._env(),
            capture_output=True,
            timeout=within,
        )
        deadline = time.monotonic() + within
        while port_answers(self.port) and time.monotonic() < deadline:
            time.sleep(0.2)

    def restart(self) -> float:
        """Stop and start the node; returns the seconds the broker was away."""
        started = time.monotonic()
        self.stop()
        self.start()
        self.restarts += 1
        return time.monotonic() - started


@pytest.fixture
def private_rabbit() -> Iterator[PrivateRabbit]:
    base = Path(tempfile.mkdtemp(prefix="ldfault-rabbit-"))
    rabbit = PrivateRabbit(base)
    rabbit.start()
    try:
        yield rabbit
    finally:
        rabbit.stop()
        shutil.rmtree(base, ignore_errors=True)


# -- a private SecantusDB ------------------------------------------------------------------


def secantusd_binary() -> str:
    """The ``secantusd-rs`` that ``scripts/infra/mongo.sh up`` runs (the same search: the
    ``LIANDONG_SECANTUSD`` variable, then the pinned version under the cargo roots)."""
    found = subprocess.run(
        [str(ROOT / "scripts" / "infra" / "mongo.sh"), "binary"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    binary = found.stdout.strip()
    if found.returncode != 0 or not binary:
        pytest.fail(f"no secantusd-rs: {found.stderr.strip()}", pytrace=False)
    return binary


class PrivateSecantus:
    """A SecantusDB of this test only, on its own port and WiredTiger directory."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.url = f"mongodb://127.0.0.1:{self.port}/"
        self.binary = secantusd_binary()
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def start(self, within: float = 60) -> float:
        (self.base / "data").mkdir(parents=True, exist_ok=True)
        # An explicit, empty config: no secantusd.toml from the working or home directory.
        config = self.base / "secantusd.toml"
        config.write_text("# tests/fault/conftest.py: every setting is on the command line\n")
        log = (self.base / "secantusd.log").open("ab")
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--config",
                str(config),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--storage-path",
                str(self.base / "data"),
                # Small: a fault test writes little, and several agents share the machine.
                "--cache-size",
                "256M",
                "--log-file-max",
                "16MB",
                "--log-level",
                "WARNING",
                # A write acknowledged with j:true is fsynced before the answer, as mongod
                # does; without it the server buffers its log and a SIGKILL loses
                # acknowledged writes (the restart test then saw events of lost aggregates).
                "--sync-on-commit",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=server_env(),
        )
        log.close()
        while not port_answers(self.port):
            if self.proc.poll() is not None or time.monotonic() - started > within:
                text = (self.base / "secantusd.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"private SecantusDB did not start:\n{text}", pytrace=False)
            time.sleep(0.05)
        return time.monotonic() - started

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)
        self.proc = None

    def restart(self, down_for: float = 0.0) -> float:
        """Kill the server (SIGKILL: a crash, no clean shutdown), stay down ``down_for``
        seconds, start it again on the same port and data; returns the seconds away."""
        started = time.monotonic()
        self.kill()
        time.sleep(down_for)
        self.start()
        self.restarts += 1
        return time.monotonic() - started


@pytest.fixture
def private_secantus() -> Iterator[PrivateSecantus]:
    base = Path(tempfile.mkdtemp(prefix="ldfault-secantus-"))
    server = PrivateSecantus(base)
    server.start()
    try:
        yield server
    finally:
        server.kill(signal.SIGTERM)
        shutil.rmtree(base, ignore_errors=True)


# -- clean-up of what a test declared on the shared servers -------------------------------
# (its queues and exchanges go with its ``unique_name``: tests/fixtures/bus.py)


async def drop_database(url: str, name: str) -> None:
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(url)
    try:
        await client.drop_database(name)
    finally:
        await client.close()


@pytest.fixture
def local_store(embedded_store: DocumentStore) -> DocumentStore:
    """The embedded (SQLite) store for the outbox and the side effects of the bus tests.

    The fault under test there is the broker or its connection; the shared MongoDB
    wire-protocol server is busy with every other test on the machine and would make the
    relay, not the broker, the bottleneck of the stream.
    """
    return embedded_store


@pytest.fixture
def fault_db(mongo_store: DocumentStore) -> DocumentStore:
    """A fresh database on the shared MongoDB wire-protocol server (never restarted here)."""
    return mongo_store
