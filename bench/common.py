"""What every benchmark shares: figures, private names, the servers, the load generator, and
cleanup (the service processes are ``liandong.testing.processes``, shared with the tests).

Benchmarks use the shared RabbitMQ and FerretDB started by ``scripts/infra.sh up`` but only
through private names (a fresh instance prefix, exchange and databases per run), and drop
everything they created when they finish, so they never touch other data.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import socket
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psutil

ROOT = Path(__file__).resolve().parents[1]
PROVIDE = "scripts/infra.sh up"


@dataclass
class Figure:
    """One measured figure, printed and written to the docs as one row."""

    bench: str  # "P1" … "P5"
    name: str
    value: float
    unit: str
    target: str = ""  # e.g. "≥ 0.5"; empty for figures shown for context
    met: bool | None = None  # None when the figure has no target
    note: str = ""


@dataclass
class Mode:
    """Sizes and durations of one run (``--quick`` or ``--full``)."""

    name: str  # "quick" | "full"
    run_dir: Path
    mongo_url: str
    amqp_url: str
    p4_load_budget: float = 3600.0  # seconds P4 may spend loading referrals
    p5_rate: float | None = None  # events/s of the soak (None: the mode's)
    p5_seconds: float | None = None  # how long the soak commits (None: the mode's)
    p5_elsewhere: bool = False  # commits as by another replica: no hint reaches the relay
    notes: list[str] = field(default_factory=list)

    @property
    def quick(self) -> bool:
        return self.name == "quick"


def private_name(prefix: str = "bench") -> str:
    """A fresh name for databases, queues and the exchange of one benchmark."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def reachable(url: str, timeout: float = 2.0) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or 0), timeout=timeout
        ):
            return True
    except OSError:
        return False


def server_urls() -> tuple[str, str]:
    """(MongoDB URL, AMQP URL): the same environment variables the tests read."""
    mongo = os.environ.get("LIANDONG_TEST_MONGO_URL", "mongodb://127.0.0.1:27017/")
    amqp = os.environ.get("LIANDONG_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    missing = [u for u in (mongo, amqp) if not reachable(u)]
    if missing:
        raise SystemExit(
            f"nothing answers at {', '.join(missing)}: start the servers with {PROVIDE}"
        )
    return mongo, amqp


def production_env(mode: Mode, instance: str, data_dir: Path) -> dict[str, str]:
    """Environment of ``liandong serve`` processes on the real servers, private names."""
    return {
        **os.environ,
        "LIANDONG_ENV": "development",
        "LIANDONG_DISTRICT": "fuyuan",
        "LIANDONG_INSTANCE": instance,
        "LIANDONG_STORE": "mongo",
        "LIANDONG_BUS": "rabbitmq",
        "LIANDONG_MONGO_URL": mode.mongo_url,
        "LIANDONG_AMQP_URL": mode.amqp_url,
        "LIANDONG_EXCHANGE": f"{instance}.events",
        "LIANDONG_DATA_DIR": str(data_dir),
    }


async def drop_databases(mongo_url: str, names: Sequence[str]) -> None:
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    try:
        for name in names:
            await client.drop_database(name)
    finally:
        await client.close()


async def drop_rabbit(amqp_url: str, exchange: str, queues: Sequence[str]) -> None:
    """Delete the queues (and their dead-letter queues) and the exchange family."""
    import aio_pika

    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for queue in queues:
            for q in (queue, f"{queue}.dlq"):
                await channel.queue_delete(q)
            await channel.exchange_delete(f"{queue}.dlx")
        await channel.queue_delete(f"{exchange}.unrouted")
        for name in (exchange, f"{exchange}.unrouted"):
            await channel.exchange_delete(name)


async def drop_instance(mode: Mode, instance: str) -> None:
    """Everything a production-topology run under ``instance`` created."""
    from kernel.settings import SERVICES, Settings

    settings = Settings(district="fuyuan", instance=instance, exchange=f"{instance}.events")
    await drop_databases(mode.mongo_url, [settings.database_name(s) for s in SERVICES])
    queues = [
        settings.queue_name(s) + suffix for s in SERVICES for suffix in ("", ".record", ".webhooks")
    ]
    await drop_rabbit(mode.amqp_url, settings.exchange, queues)


@dataclass
class LoadResult:
    """What one run of the load generator measured."""

    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    first_error: str = ""

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else math.nan

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


async def run_load(
    url: str,
    *,
    method: str = "POST",
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    workers: int,
    duration: float,
    warmup: float,
) -> LoadResult:
    """Run ``bench.loadgen`` in its own process, so the client never shares the event loop
    (or the GIL) with a server under test and both sides of a ratio get the same client."""
    spec = {
        "url": url,
        "method": method,
        "body": body,
        "headers": headers or {},
        "workers": workers,
        "duration": duration,
        "warmup": warmup,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.loadgen",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    out, err = await asyncio.wait_for(
        proc.communicate(json.dumps(spec).encode()), timeout=duration + warmup + 120
    )
    if proc.returncode != 0:
        raise RuntimeError(f"load generator failed ({proc.returncode}): {err.decode()[-2000:]}")
    data = json.loads(out)
    result = LoadResult(
        requests=int(data["requests"]),
        errors=int(data["errors"]),
        seconds=float(data["seconds"]),
        latencies_ms=[float(x) for x in data["latencies_ms"]],
        first_error=str(data.get("first_error", "")),
    )
    if result.errors:
        raise RuntimeError(
            f"{result.errors} of {result.requests + result.errors} requests to {url} failed; "
            f"first: {result.first_error}"
        )
    if result.requests == 0:
        raise RuntimeError(f"no request to {url} completed")
    return result


def finite(value: float) -> bool:
    return not (math.isnan(value) or math.isinf(value))


# --- server processes and their CPU time ---------------------------------------------------


def point_reads(server_status: Mapping[str, Any]) -> int | None:
    """WiredTiger's count of cursor searches (reads of one key: a document by its record id,
    an index entry) in a ``serverStatus`` answer; None where the server reports none. On
    SecantusDB one per document a query fetches, so it shows what a page reads whatever
    ``explain`` says (issue 21, session 16)."""
    try:
        return int(server_status["wiredTiger"]["cursor"]["cursor search calls"])
    except (KeyError, TypeError, ValueError):
        return None


def server_process(port: int = 27017) -> psutil.Process | None:
    """The process listening on ``port`` (the MongoDB wire-protocol server), if visible."""
    try:
        for conn in psutil.net_connections("tcp"):
            if conn.laddr and conn.laddr.port == port and conn.status == "LISTEN" and conn.pid:
                return psutil.Process(conn.pid)
    except psutil.Error:
        return None
    return None


def cpu_seconds(proc: psutil.Process | None) -> float:
    """User + system CPU seconds ``proc`` has used (NaN when it is not visible)."""
    if proc is None:
        return math.nan
    try:
        times = proc.cpu_times()
        return float(times.user + times.system)
    except psutil.Error:
        return math.nan


def tree_cpu_seconds(proc: psutil.Process | None) -> float:
    """CPU seconds of ``proc``, its live children and the children it has reaped (a
    PostgreSQL postmaster and its backends)."""
    if proc is None:
        return math.nan
    try:
        times = proc.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += cpu_seconds(child)
        return float(total)
    except psutil.Error:
        return math.nan


def postgres_postmaster(server: psutil.Process) -> psutil.Process | None:
    """The postmaster of the PostgreSQL whose backends ``server`` is connected to."""
    try:
        remotes = {
            (c.raddr.ip, c.raddr.port)
            for c in server.net_connections("tcp")
            if c.raddr and c.status == psutil.CONN_ESTABLISHED
        }
        for conn in psutil.net_connections("tcp"):
            if not conn.pid or conn.pid == server.pid or not conn.laddr:
                continue
            if (conn.laddr.ip, conn.laddr.port) not in remotes:
                continue
            backend = psutil.Process(conn.pid)
            if backend.name() != "postgres":
                continue
            top = backend
            while (parent := top.parent()) is not None and parent.name() == "postgres":
                top = parent
            return top
    except psutil.Error:
        return None
    return None


TOP_OPERATIONS = ("queries", "getmore", "insert", "update", "remove", "commands")


async def server_requests(client: Any, databases: Sequence[str]) -> dict[str, int]:
    """How many requests of each kind the server has run on each collection of
    ``databases`` since it started (the ``top`` command: ``"<service db>.<collection>
    <operation>"`` → count, where ``commands`` covers findAndModify, count and aggregate)."""
    top = (await client.admin.command("top"))["totals"]
    out: dict[str, int] = {}
    for namespace, stats in top.items():
        database, _, collection = namespace.partition(".")
        if database not in databases or not isinstance(stats, dict):
            continue
        short = database.rsplit("_", 1)[-1]
        for operation in TOP_OPERATIONS:
            count = int(stats.get(operation, {}).get("count", 0))
            if count:
                out[f"{short}.{collection} {operation}"] = count
    return out


def request_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Per key, how many requests ran between two :func:`server_requests` readings."""
    delta = {key: after.get(key, 0) - before.get(key, 0) for key in after}
    return {key: n for key, n in sorted(delta.items()) if n > 0}
