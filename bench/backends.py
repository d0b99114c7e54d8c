"""``uv run python -m bench.backends [--sizes 1000,5000] [--urls URL1,URL2] [--json FILE]``

FerretDB's storage backends side by side: the same realistic referral documents
(:mod:`bench.template`), the referral service's indexes and the store calls the services
make, timed with PyMongo's ``AsyncMongoClient`` directly (no project adapter) against each
server in turn, size by size, in one run. The defaults are the SQLite-backed FerretDB of
``scripts/infra/mongo.sh`` (127.0.0.1:27017) and the PostgreSQL-backed one of
``scripts/infra/ferretdb-postgres.sh`` (127.0.0.1:27018).

Per server and size, in a private database (``bench_backends_<random>``, dropped at the
end): the indexes of ``ReferralRepository.ensure_indexes`` are created, the documents are
bulk-inserted (insert rate), then each operation is repeated (``--reps``, within
``--op-budget`` seconds, at least ``--min-reps`` times) and reported as mean and p95 latency
and the server's CPU time per operation (psutil) of the process listening on the server's
port and, when it talks to PostgreSQL, of that PostgreSQL (postmaster, its live children and
its reaped children). A size whose single operation exceeds
``--op-timeout`` seconds (30) is stopped for that server and the table says so.
The server's ``explain`` pushdown flags of the two list queries are printed per column.

Only loopback URLs are accepted. CPU figures include anything else the server does at the
time (other engineers' tests on the shared 27017 server), so they are upper bounds there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psutil
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from bench.common import (
    cpu_seconds,
    percentile,
    postgres_postmaster,
    private_name,
    reachable,
    server_process,
    tree_cpu_seconds,
)
from bench.template import RECEIVERS, Cloner, sent_referral_document
from referral.adapters.repository import INDEXES

DEFAULT_URLS = {
    "mongodb://127.0.0.1:27017/": "ferretdb-sqlite",
    "mongodb://127.0.0.1:27018/": "ferretdb-postgresql",
}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
COLLECTION = "referrals"
PAGE = 20
BATCH = 100  # documents per insert_many
OUTBOX_EVERY = 100  # every 100th document has a pending event (outbox_n = 1): ~1 %


# The stored status is the domain's lower-case value; GraphQL shows it as SENT.
LIST_RECEIVER = RECEIVERS[0]
LIST_STATUS = "sent"

OPS: list[tuple[str, str]] = [
    ("find_one_id", "find_one({_id})"),
    ("receiver_list", "find(receiver_id, status=sent).sort(created_at,_id).limit(20)"),
    ("overdue_list", "find(open_due $ne null $lt now).sort(open_due,_id).limit(20)"),
    ("find_id_version", "find({_id, version})"),
    ("update_one", "update_one({_id}, $set small)"),
    ("replace_one", "replace_one({_id}, doc)"),
    ("outbox_scan", "find(outbox_n $gt 0, _id only).limit(100)"),
]


class SizeStopped(Exception):
    """One operation took longer than the per-operation limit: stop this size here."""


# --- server processes and their CPU time -----------------------------------------------------


@dataclass
class ServerProcess:
    """CPU time of one MongoDB wire-protocol server and, behind it, PostgreSQL if any."""

    process: psutil.Process | None
    postmaster: psutil.Process | None = None

    def discover_postgres(self) -> None:
        if self.process is not None and self.postmaster is None:
            self.postmaster = postgres_postmaster(self.process)

    def cpu(self) -> tuple[float, float]:
        """(server seconds, PostgreSQL seconds) used so far; NaN when not visible."""
        return cpu_seconds(self.process), tree_cpu_seconds(self.postmaster)


# --- measurements ---------------------------------------------------------------------------


@dataclass
class OpResult:
    reps: int = 0
    mean_ms: float = math.nan
    p95_ms: float = math.nan
    server_cpu_ms: float = math.nan  # per operation
    postgres_cpu_ms: float = math.nan  # per operation
    note: str = ""


@dataclass
class Column:
    """One server at one size."""

    label: str
    url: str
    size: int
    loaded: int = 0
    insert_rate: float = math.nan  # docs/s
    insert_server_cpu_ms: float = math.nan  # per document
    insert_postgres_cpu_ms: float = math.nan  # per document
    ops: dict[str, OpResult] = field(default_factory=dict)
    explain: dict[str, Any] = field(default_factory=dict)
    stopped: str = ""  # why this column stopped early


def _per_op(before: tuple[float, float], after: tuple[float, float], n: int) -> tuple[float, float]:
    return ((after[0] - before[0]) * 1000 / n, (after[1] - before[1]) * 1000 / n)


async def _timed(
    name: str,
    op: Callable[[int], Awaitable[Any]],
    proc: ServerProcess,
    *,
    reps: int,
    min_reps: int,
    budget: float,
    limit: float,
) -> OpResult:
    """Run ``op(i)`` sequentially up to ``reps`` times (at least ``min_reps``, else until
    ``budget`` seconds are spent); raise SizeStopped when one call exceeds ``limit``."""
    times: list[float] = []
    cpu_before = proc.cpu()
    started = time.monotonic()
    for i in range(reps):
        t0 = time.perf_counter()
        try:
            await asyncio.wait_for(op(i), timeout=limit)
        except TimeoutError:
            raise SizeStopped(f"{name}: one call exceeded {limit:.0f} s") from None
        elapsed = time.perf_counter() - t0
        if elapsed > limit:
            raise SizeStopped(f"{name}: one call took {elapsed:.1f} s (> {limit:.0f} s)")
        times.append(elapsed * 1000)
        if len(times) >= min_reps and time.monotonic() - started > budget:
            break
    server_ms, pg_ms = _per_op(cpu_before, proc.cpu(), len(times))
    note = "" if len(times) == reps else f"{len(times)} of {reps} reps (time budget)"
    return OpResult(
        reps=len(times),
        mean_ms=statistics.fmean(times),
        p95_ms=percentile(times, 95),
        server_cpu_ms=server_ms,
        postgres_cpu_ms=pg_ms,
        note=note,
    )


async def _settle(proc: ServerProcess, within: float = 60.0) -> None:
    """After an abandoned call, wait until the server stops working on it (it keeps
    scanning after the client gave up), so the next column is not measured beside it."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        before = proc.cpu()
        await asyncio.sleep(1.0)
        after = proc.cpu()
        busy = sum(b - a for a, b in zip(before, after, strict=True) if finite(b - a))
        if busy < 0.2:
            return


def finite(value: float) -> bool:
    return not (math.isnan(value) or math.isinf(value))


async def _explain(db: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for label, flt, sort in (
        (
            "receiver_list",
            {"receiver_id": LIST_RECEIVER, "status": LIST_STATUS},
            {"created_at": 1, "_id": 1},
        ),
        (
            "overdue_list",
            {"open_due": {"$ne": None, "$lt": datetime.now(UTC)}},
            {"open_due": 1, "_id": 1},
        ),
    ):
        try:
            answer = await db.command(
                "explain", {"find": COLLECTION, "filter": flt, "sort": sort, "limit": PAGE}
            )
        except PyMongoError as exc:
            result[label] = f"explain failed: {exc}"
            continue
        flags = {k: v for k, v in answer.items() if k.endswith("Pushdown")}
        result[label] = flags or (answer.get("queryPlanner") or {}).get("winningPlan")
    return result


async def measure(
    column: Column,
    template: dict[str, Any],
    args: argparse.Namespace,
) -> None:
    port = urlparse(column.url).port or 27017
    proc = ServerProcess(server_process(port))
    if proc.process is None:
        print(f"  {column.label}: no process visible on port {port}; CPU figures will be n/a")
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        column.url,
        serverSelectionTimeoutMS=10_000,
        # A little over the per-operation limit: asyncio.wait_for gives up first.
        socketTimeoutMS=int((args.op_timeout + 15) * 1000),
        tz_aware=True,
    )
    database = f"bench_backends_{private_name('')}"
    db = client[database]
    coll = db[COLLECTION]
    size = column.size
    try:
        for name, keys in INDEXES:
            await coll.create_index(keys, name=name)
        proc.discover_postgres()  # FerretDB has connected to its backend by now, if any
        # Load: created the way ReferralRepository's service does (indexes first).
        cloner = Cloner(template, seed=11)
        ids: list[str] = []
        pending: set[str] = set()  # ids with outbox_n = 1
        versions: dict[str, int] = {}
        load_started = time.perf_counter()
        insert_seconds = 0.0
        cpu_before = proc.cpu()
        for start in range(0, size, BATCH):
            batch = []
            for n in range(start, min(size, start + BATCH)):
                doc = cloner.clone(n)
                if n % OUTBOX_EVERY == OUTBOX_EVERY // 2:
                    doc["outbox_n"] = 1
                    pending.add(doc["_id"])
                batch.append(doc)
                ids.append(doc["_id"])
                versions[doc["_id"]] = int(doc.get("version", 1))
            t0 = time.perf_counter()
            try:
                await asyncio.wait_for(
                    coll.insert_many(batch, ordered=False), timeout=args.op_timeout
                )
            except TimeoutError:
                column.stopped = (
                    f"load: one insert_many of {len(batch)} exceeded {args.op_timeout:.0f} s"
                )
                break
            insert_seconds += time.perf_counter() - t0
            column.loaded = len(ids)
            elapsed = time.perf_counter() - load_started
            projected = elapsed / column.loaded * size
            if projected > args.load_budget and column.loaded < size:
                column.stopped = (
                    f"load stopped at {column.loaded:,}: at {column.loaded / elapsed:,.0f} docs/s "
                    f"the {size:,} would take {projected:,.0f} s (> --load-budget "
                    f"{args.load_budget:.0f} s)"
                )
                break
        proc.discover_postgres()
        cpu_after = proc.cpu()
        if column.loaded:
            column.insert_rate = column.loaded / insert_seconds
            column.insert_server_cpu_ms, column.insert_postgres_cpu_ms = _per_op(
                cpu_before, cpu_after, column.loaded
            )
        if column.stopped:
            return

        rnd = random.Random(size)
        picks = [rnd.choice(ids) for _ in range(args.reps)]
        replacement_source = cloner.clone(size + 1)
        now = datetime.now(UTC)

        async def find_one_id(i: int) -> Any:
            return await coll.find_one({"_id": picks[i]})

        async def receiver_list(i: int) -> Any:
            cursor = (
                coll.find({"receiver_id": LIST_RECEIVER, "status": LIST_STATUS})
                .sort([("created_at", 1), ("_id", 1)])
                .limit(PAGE)
            )
            return await cursor.to_list()

        async def overdue_list(i: int) -> Any:
            cursor = (
                coll.find({"open_due": {"$ne": None, "$lt": now}})
                .sort([("open_due", 1), ("_id", 1)])
                .limit(PAGE)
            )
            return await cursor.to_list()

        async def find_id_version(i: int) -> Any:
            rid = picks[i]
            found = await coll.find({"_id": rid, "version": versions[rid]}).to_list()
            if len(found) != 1:
                raise RuntimeError(f"find({{_id, version}}) returned {len(found)} documents")
            return found

        async def update_one(i: int) -> Any:
            result = await coll.update_one(
                {"_id": picks[i]}, {"$set": {"bench_touched_at": datetime.now(UTC)}}
            )
            if result.matched_count != 1:
                raise RuntimeError("update_one matched nothing")
            return result

        async def replace_one(i: int) -> Any:
            doc = dict(replacement_source)
            doc["_id"] = picks[i]
            doc["outbox_n"] = 1 if picks[i] in pending else 0
            result = await coll.replace_one({"_id": picks[i]}, doc)
            if result.matched_count != 1:
                raise RuntimeError("replace_one matched nothing")
            return result

        async def outbox_scan(i: int) -> Any:
            found = await coll.find({"outbox_n": {"$gt": 0}}, {"_id": 1}).limit(100).to_list()
            if len(found) != min(100, len(pending)):
                raise RuntimeError(f"outbox scan found {len(found)}, expected {len(pending)}")
            return found

        functions: dict[str, Callable[[int], Awaitable[Any]]] = {
            "find_one_id": find_one_id,
            "receiver_list": receiver_list,
            "overdue_list": overdue_list,
            "find_id_version": find_id_version,
            "update_one": update_one,
            "replace_one": replace_one,
            "outbox_scan": outbox_scan,
        }
        for key, _label in OPS:
            try:
                column.ops[key] = await _timed(
                    key,
                    functions[key],
                    proc,
                    reps=args.reps,
                    min_reps=args.min_reps,
                    budget=args.op_budget,
                    limit=args.op_timeout,
                )
            except SizeStopped as stop:
                column.stopped = str(stop)
                await _settle(proc)
                break
            result = column.ops[key]
            print(
                f"  {column.label} {size:,}: {key}: mean {result.mean_ms:,.1f} ms, "
                f"p95 {result.p95_ms:,.1f} ms ({result.reps} reps)",
                flush=True,
            )
        column.explain = await _explain(db)
    finally:
        try:
            await asyncio.wait_for(client.drop_database(database), timeout=120)
        except (TimeoutError, PyMongoError) as exc:
            print(f"  could not drop {database} on {column.url}: {exc}", file=sys.stderr)
        await client.close()


# --- report ---------------------------------------------------------------------------------


def _fmt(value: float, digits: int = 1) -> str:
    if not finite(value):
        return "n/a"
    return f"{value:,.{digits}f}"


def _ratio(a: float, b: float) -> str:
    if not (finite(a) and finite(b)) or a == 0:
        return "n/a"
    return f"{b / a:.2f}×"


def _op_figure(key: str, attr: str) -> Callable[[Column], float]:
    def get(column: Column) -> float:
        result = column.ops.get(key)
        return math.nan if result is None else float(getattr(result, attr))

    return get


def print_table(columns: Sequence[Column], labels: Sequence[str], sizes: Sequence[int]) -> None:
    by_key = {(c.label, c.size): c for c in columns}
    pair = len(labels) == 2
    header = ["operation / figure"]
    for size in sizes:
        header += [f"{label} @{size:,}" for label in labels]
        if pair:
            header.append(f"{labels[1].split('-')[-1]}/{labels[0].split('-')[-1]} @{size:,}")

    rows: list[list[str]] = []

    def add(title: str, getter: Callable[[Column], float], digits: int = 1) -> None:
        row = [title]
        for size in sizes:
            values = []
            for label in labels:
                col = by_key.get((label, size))
                values.append(getter(col) if col else math.nan)
                row.append(_fmt(values[-1], digits))
            if pair:
                row.append(_ratio(values[0], values[1]))
        rows.append(row)

    add("insert rate (docs/s)", lambda c: c.insert_rate, 0)
    add("  insert: FerretDB CPU ms/doc", lambda c: c.insert_server_cpu_ms)
    add("  insert: PostgreSQL CPU ms/doc", lambda c: c.insert_postgres_cpu_ms)
    for key, label in OPS:
        add(f"{label}: mean ms", _op_figure(key, "mean_ms"))
        add("  p95 ms", _op_figure(key, "p95_ms"))
        add("  FerretDB CPU ms/op", _op_figure(key, "server_cpu_ms"))
        add("  PostgreSQL CPU ms/op", _op_figure(key, "postgres_cpu_ms"))
        add("  reps", _op_figure(key, "reps"), 0)

    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(
        h.ljust(widths[i]) if i == 0 else h.rjust(widths[i]) for i, h in enumerate(header)
    )
    print(line)
    print("-" * len(line))
    for row in rows:
        print(
            "  ".join(
                v.ljust(widths[i]) if i == 0 else v.rjust(widths[i]) for i, v in enumerate(row)
            )
        )
    print()
    for col in columns:
        print(f"{col.label} @{col.size:,}: explain {json.dumps(col.explain, default=str)}")
    for col in columns:
        if col.stopped:
            print(f"{col.label} @{col.size:,}: STOPPED — {col.stopped}")
        for key, result in col.ops.items():
            if result.note:
                print(f"{col.label} @{col.size:,}: {key}: {result.note}")


# --- entry point ----------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.backends", description=__doc__)
    parser.add_argument("--sizes", default="1000,5000", help="comma-separated document counts")
    parser.add_argument(
        "--urls",
        default=",".join(DEFAULT_URLS),
        help="comma-separated loopback MongoDB URLs (the first is the ratios' denominator)",
    )
    parser.add_argument("--reps", type=int, default=30, help="repetitions per operation")
    parser.add_argument("--min-reps", type=int, default=3, help="repetitions at least")
    parser.add_argument(
        "--op-budget", type=float, default=20.0, help="seconds per operation before stopping reps"
    )
    parser.add_argument(
        "--op-timeout", type=float, default=30.0, help="stop a size when one call exceeds this"
    )
    parser.add_argument(
        "--load-budget", type=float, default=300.0, help="seconds of loading per size at most"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


def _label(url: str) -> str:
    if url in DEFAULT_URLS:
        return DEFAULT_URLS[url]
    parsed = urlparse(url)
    return f"{parsed.hostname}:{parsed.port or 27017}"


async def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    urls = [u.strip() for u in args.urls.split(",") if u.strip()]
    for url in urls:
        host = urlparse(url).hostname
        if host not in LOOPBACK:
            raise SystemExit(f"{url}: only loopback servers are measured by this bench")
        if not reachable(url):
            raise SystemExit(f"nothing answers at {url}")
    labels = [_label(u) for u in urls]
    print("making the template referral through the real service (embedded)…", flush=True)
    template = await sent_referral_document()
    started = datetime.now(UTC)
    columns: list[Column] = []
    for size in sizes:
        for label, url in zip(labels, urls, strict=True):
            column = Column(label=label, url=url, size=size)
            print(f"{label} @{size:,}: loading…", flush=True)
            t0 = time.monotonic()
            await measure(column, template, args)
            print(
                f"{label} @{size:,}: {column.loaded:,} docs at {_fmt(column.insert_rate, 0)} "
                f"docs/s; done in {time.monotonic() - t0:,.0f} s"
                + (f"; STOPPED: {column.stopped}" if column.stopped else ""),
                flush=True,
            )
            columns.append(column)
    print()
    print(f"run {started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, load {os.getloadavg()}")
    print_table(columns, labels, sizes)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "started": started.isoformat(),
                    "args": {k: str(v) for k, v in vars(args).items()},
                    "operations": dict(OPS),
                    "columns": [asdict(c) for c in columns],
                },
                ensure_ascii=False,
                indent=1,
                default=str,
            ),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
