"""P4 scale: filtered referral lists at growing numbers of stored referrals.

The referral service runs in this process over a private database of the MongoDB
wire-protocol server, with the indexes it creates at start. The collection is filled in
steps (quick: 1k, 5k; full: 10k, 100k, 1M) with realistic documents — clones of one referral
sent through the real service, varied in sender, receiver, status, dates and clocks
(bench.template) — by ``insert_many`` in batches of 1 000 (four in flight) in the repository's
document shape.

At each size two lists are read through the service's GraphQL ``referrals`` query (in
process, no network, no HTTP client: ``bench.asgi`` hands the app its ASGI messages, so the
figure is the service, not a socket or a client), pages of 20 following the cursor for three
pages, and through ``ReferralRepository.search`` alone (the store's share):

- a township clerk's received referrals with status SENT (receiver + status);
- a coordinator's overdue list (a running clock past due), the whole district.

Loading is timed, and during the load the CPU used by the FerretDB server and by this process
is sampled, which shows where the load time goes. A load that would exceed the budget
(``--p4-load-budget``) stops with the sizes reached; the output then says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import psutil
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from bench.asgi import AsgiCaller
from bench.common import (
    Figure,
    Mode,
    cpu_seconds,
    drop_databases,
    percentile,
    point_reads,
    private_name,
    server_process,
)
from bench.template import Cloner, sent_referral_document

RECEIVER = "fy-hancong"
PAGE = 20
PAGES = 3
BATCH = 1000

#: insert_many calls in flight while loading: the server spends part of each call waiting for
#: its log; measured here 1,113 docs/s with one in flight against 1,614 with four.
LOADERS = 4


async def _load(collection: Any, cloner: Cloner, stored: int, size: int) -> int:
    """Insert clones ``stored`` … ``size - 1`` in batches of ``BATCH``, ``LOADERS`` batches
    in flight; the new count."""
    starts = iter(range(stored, size, BATCH))

    async def loader() -> None:
        for start in starts:  # shared: each batch is taken by exactly one loader
            batch = [cloner.clone(start + i) for i in range(min(BATCH, size - start))]
            await collection.insert_many(batch)

    await asyncio.gather(*(loader() for _ in range(LOADERS)))
    return size


_NODE = "cursor node { id status title createdAt receiver { id } acceptDeadline { due overdue } }"
LIST_RECEIVED = f"""
query($receiver: ID!, $after: String) {{
  referrals(filter: {{receiverId: $receiver, status: SENT}}, first: {PAGE}, after: $after) {{
    edges {{ {_NODE} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""
LIST_OVERDUE = f"""
query($after: String) {{
  referrals(filter: {{overdue: true}}, sort: OPEN_DUE, first: {PAGE}, after: $after) {{
    edges {{ {_NODE} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""


async def _pages(
    client: AsgiCaller, query: str, variables: dict[str, Any], headers: dict[str, str]
) -> list[float]:
    """Latencies (ms) of up to PAGES pages of one list, following the cursor."""
    latencies: list[float] = []
    after: str | None = None
    for _ in range(PAGES):
        t0 = time.perf_counter()
        response = await client.post(
            "/graphql",
            json_body={"query": query, "variables": {**variables, "after": after}},
            headers=headers,
        )
        latencies.append((time.perf_counter() - t0) * 1000)
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise RuntimeError(f"list query failed: {body}")
        info = body["data"]["referrals"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    return latencies


async def _store_pages(
    repository: Any,
    make_filter: Any,
    sort_field: str = "created_at",
    sent: list[tuple[Any, Any, Any]] | None = None,
) -> list[float]:
    """Three pages through ``ReferralRepository.search``; with ``sent``, the requests it
    sends to the store are recorded there (filter, sort, limit), to replay with the raw
    driver."""
    latencies: list[float] = []
    after: tuple[Any, str] | None = None
    coll = repository._coll
    if sent is not None:
        find = coll.find

        async def recording(filter: Any, **kw: Any) -> Any:
            sent.append((filter, kw.get("sort"), kw.get("limit")))
            return await find(filter, **kw)

        coll.find = recording
    try:
        for _ in range(PAGES):
            t0 = time.perf_counter()
            rows = await repository.search(
                make_filter(), sort_field=sort_field, after=after, limit=PAGE + 1
            )
            latencies.append((time.perf_counter() - t0) * 1000)
            if len(rows) <= PAGE:
                break
            last = rows[PAGE - 1]
            after = (getattr(last, sort_field), last.id)
    finally:
        if sent is not None:
            del coll.find
    return latencies


async def _raw_pages(raw: Any, sent: list[tuple[Any, Any, Any]]) -> list[float]:
    """The same requests straight through PyMongo (``find`` + ``to_list``): the floor the
    server and driver set, without our layers."""
    latencies: list[float] = []
    for filter, sort, limit in sent:
        t0 = time.perf_counter()
        await raw.find(filter, sort=list(sort) if sort else None, limit=limit or 0).to_list()
        latencies.append((time.perf_counter() - t0) * 1000)
    return latencies


#: A page of a server that streams an index range reads about the documents it returns
#: (PAGE + 1); one that fetches every match before applying the limit reads them all.
STREAMING_READS = 2 * (PAGE + 1)


async def _reads_per_page(client: Any, raw: Any, sent: list[tuple[Any, Any, Any]]) -> float | None:
    """The storage engine's point reads per request of ``sent`` (``bench.common.point_reads``),
    or None where the server does not report them: on SecantusDB the documents a find
    fetches by record id. A lower bound of what a page reads (a collection scan's documents
    come by ``next``, not counted), enough to tell a page that reads far more than it
    returns. The service's own background reads (the outbox relay's) count too: a few."""

    async def count() -> int | None:
        return point_reads(await client.admin.command("serverStatus"))

    start, before = await count(), await count()
    if start is None or before is None or not sent:
        return None
    own = before - start  # what asking for the counter reads itself
    for filter, sort, limit in sent:
        await raw.find(filter, sort=list(sort) if sort else None, limit=limit or 0).to_list()
    after = await count()
    return None if after is None else (after - before - own) / len(sent)


def _not_streaming(reads: float | None) -> str:
    """Why the 50 ms and growth targets are not judged on this server ("" when they are)."""
    if reads is None or reads <= STREAMING_READS:
        return ""
    return (
        f"not judged: this server fetched {reads:,.0f} documents by record id for a page of "
        f"{PAGE + 1} (its find fetches and sorts every match, then applies the limit); the "
        "target holds where the server streams index ranges, and ours ≤ 2 × the floor "
        "everywhere"
    )


async def _explain(mode: Mode, database: str) -> str:
    """What the server says about the two lists' queries (FerretDB: pushdown flags).

    The planner's choice only (``queryPlanner``): the explain command's default verbosity
    runs every candidate plan to its end, and at 1,000,000 referrals that took SecantusDB to
    23 GB and the OOM killer (session 14; the planner's choice alone did too, so P4 asks at
    its first size). A failure is told in the note, not raised: the figures stand."""
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mode.mongo_url)
    parts = []
    try:
        for label, flt, key in (
            ("receiver+status", {"receiver_id": RECEIVER, "status": "sent"}, "created_at"),
            ("overdue", {"open_due": {"$ne": None, "$lt": datetime.now(UTC)}}, "open_due"),
        ):
            answer = await client[database].command(
                "explain",
                {
                    "find": "referrals",
                    "filter": flt,
                    "sort": {key: 1, "_id": 1},
                    "limit": PAGE + 1,
                },
                verbosity="queryPlanner",
            )
            flags = {k: v for k, v in answer.items() if k.endswith("Pushdown")}
            winning = (answer.get("queryPlanner") or {}).get("winningPlan")
            parts.append(f"{label}: {flags or winning}")
    except PyMongoError as exc:
        parts.append(f"explain failed: {type(exc).__name__}: {exc}"[:300])
    finally:
        await client.close()
    return "; ".join(parts)


async def run(mode: Mode) -> list[Figure]:
    from kernel.settings import Settings
    from kernel.store import StoreError
    from liandong.cli import mint_token
    from liandong.suite import build_service
    from referral.adapters.repository import ReferralFilter

    # Quick sizes are tiny because FerretDB 1.24 on SQLite scans every document per list
    # request (see the explain note); full mode tries the sizes within the budgets.
    sizes = [50, 100] if mode.quick else [10_000, 100_000, 1_000_000]
    rounds = 3 if mode.quick else 40
    query_budget = 20.0 if mode.quick else 300.0  # seconds of list requests per size
    load_budget = mode.p4_load_budget
    template = await sent_referral_document()
    instance = private_name("bp4")
    settings = Settings(
        district="fuyuan",
        instance=instance,
        store="mongo",
        bus="memory",
        mongo_url=mode.mongo_url,
        data_dir=mode.run_dir / "p4",
    )
    database = settings.database_name("referral")
    raw_client: Any = AsyncMongoClient(mode.mongo_url, tz_aware=True)
    service: Any = await build_service("referral", settings)
    await service.runtime.start()  # the service creates its indexes here
    figures: list[Figure] = []
    measured: dict[int, tuple[float, float]] = {}
    read_per_page: dict[int, tuple[float | None, float | None]] = {}
    printed = 0

    def progress() -> None:
        # The figures added since the last call, printed at once: a run stopped later (the
        # server out of memory at 1M, a budget) still shows every size it measured.
        nonlocal printed
        for f in figures[printed:]:
            print(f"[bench] P4 {f.name}: {f.value:,.4g} {f.unit} {f.note}".rstrip(), flush=True)
        printed = len(figures)

    try:
        collection = service.referrals.aggregates.collection
        repository = service.referrals
        cloner = Cloner(template, seed=4)
        ferret = server_process(urlsplit(mode.mongo_url).port or 27017)
        raw = raw_client[database]["referrals"]
        me = psutil.Process()
        app = service.create_app(manage_lifecycle=False)
        clerk = {"Authorization": f"Bearer {mint_token(settings, RECEIVER, ['clerk'])}"}
        coordinator = {
            "Authorization": f"Bearer {mint_token(settings, 'fy-coord', ['coordinator'])}"
        }
        stored = 0
        load_seconds = 0.0
        for size in sizes:
            # Load up to this size, unless the rate so far says the budget would not suffice.
            if stored and load_seconds > 0:
                projected = load_seconds + (size - stored) / (stored / load_seconds)
                if projected > load_budget:
                    mode.notes.append(
                        f"P4: stopped before {size:,} referrals: at the measured load rate "
                        f"({stored / load_seconds:,.0f} docs/s) loading would take "
                        f"{projected / 60:.0f} min in all, over the budget of "
                        f"{load_budget / 60:.0f} min (--p4-load-budget)."
                    )
                    figures.append(
                        Figure(
                            "P4",
                            f"{size:,} referrals: not loaded",
                            math.nan,
                            "",
                            note=f"projected load {projected / 60:.0f} min > budget",
                        )
                    )
                    break
            cpu_server, cpu_me = cpu_seconds(ferret), cpu_seconds(me)
            before = stored
            t0 = time.perf_counter()
            try:
                stored = await _load(collection, cloner, stored, size)
            except (StoreError, PyMongoError, OSError) as exc:
                # The server gave up under the load (session 9: SecantusDB-rs was stopped by
                # the OOM killer on the way to 1M): the sizes measured before stand.
                failed = f"{type(exc).__name__}: {exc}"[:200]
                figures.append(Figure("P4", f"load to {size:,}: failed", math.nan, "", note=failed))
                mode.notes.append(
                    f"P4: loading towards {size:,} referrals failed after "
                    f"{time.perf_counter() - t0:.0f} s ({failed}); the sizes before stand."
                )
                break
            step = time.perf_counter() - t0
            load_seconds += step
            server_share = (cpu_seconds(ferret) - cpu_server) / step
            client_share = (cpu_seconds(me) - cpu_me) / step
            figures.append(
                Figure(
                    "P4",
                    f"load to {size:,}: insert rate",
                    (stored - before) / step,
                    "docs/s",
                    note=(
                        f"{load_seconds:.0f} s in all; CPU during this step: server "
                        f"{server_share:.2f} cores, bench (cloning + driver) {client_share:.2f}"
                    ),
                )
            )
            progress()
            received: list[float] = []
            overdue: list[float] = []
            store_received: list[float] = []
            store_overdue: list[float] = []
            raw_received: list[float] = []
            raw_overdue: list[float] = []
            timed_out = ""
            sent_r: list[tuple[Any, Any, Any]] = []
            sent_o: list[tuple[Any, Any, Any]] = []
            budget_end = time.monotonic() + query_budget
            cpu_before = cpu_seconds(ferret)
            client = AsgiCaller(app, host="referral")
            try:
                for i in range(rounds + 1):
                    got_r = await _pages(client, LIST_RECEIVED, {"receiver": RECEIVER}, clerk)
                    got_o = await _pages(client, LIST_OVERDUE, {}, coordinator)
                    sent_r, sent_o = [], []  # this round's requests, replayed raw
                    got_sr = await _store_pages(
                        repository,
                        lambda: ReferralFilter(
                            receiver_id=RECEIVER, statuses=("sent",), party_agency_id=RECEIVER
                        ),
                        sent=sent_r,
                    )
                    got_so = await _store_pages(
                        repository,
                        lambda: ReferralFilter(overdue_at=datetime.now(UTC)),
                        "open_due",
                        sent=sent_o,
                    )
                    got_rr = await _raw_pages(raw, sent_r)
                    got_ro = await _raw_pages(raw, sent_o)
                    if i == 0 and rounds > 1:
                        continue  # the warm-up round
                    received += got_r
                    overdue += got_o
                    store_received += got_sr
                    store_overdue += got_so
                    raw_received += got_rr
                    raw_overdue += got_ro
                    if time.monotonic() > budget_end:
                        break
            except (StoreError, RuntimeError) as exc:
                timed_out = f"{exc}"[:200]
            if timed_out and not received:
                figures.append(
                    Figure(
                        "P4",
                        f"{size:,}: list requests",
                        math.nan,
                        "ms",
                        note=f"failed: {timed_out}",
                    )
                )
                mode.notes.append(
                    f"P4: at {size:,} referrals the list requests fail ({timed_out}); "
                    "larger sizes were not tried."
                )
                break
            requests = len(received) + len(overdue) + len(store_received) + len(store_overdue)
            figures.append(
                Figure(
                    "P4",
                    f"{size:,}: server CPU per list request",
                    (cpu_seconds(ferret) - cpu_before) / max(requests, 1) * 1000,
                    "ms",
                    note="the server process's CPU time while the lists were read, per request",
                )
            )
            p_received, p_overdue = percentile(received, 95), percentile(overdue, 95)
            measured[size] = (p_received, p_overdue)
            reads = (
                await _reads_per_page(raw_client, raw, sent_r),
                await _reads_per_page(raw_client, raw, sent_o),
            )
            read_per_page[size] = reads
            target = "≤ 50 ms" if size == 1_000_000 else ""
            samples = f"{len(received)} pages of {PAGE}"
            for label, p95, read in (
                ("receiver + status list", p_received, reads[0]),
                ("overdue list", p_overdue, reads[1]),
            ):
                why = _not_streaming(read) if target else ""
                figures.append(
                    Figure(
                        "P4",
                        f"{size:,}: {label} (GraphQL) p95",
                        p95,
                        "ms",
                        target,
                        None if why or not target else p95 <= 50,
                        note=f"{samples}; {why}" if why else samples,
                    )
                )
            for label, read in (("receiver + status", reads[0]), ("overdue", reads[1])):
                if read is not None:
                    figures.append(
                        Figure(
                            "P4",
                            f"{size:,}: {label}, the server's point reads per page",
                            read,
                            "reads",
                            note=(
                                "documents fetched by record id (WiredTiger's cursor searches) "
                                f"per find of {PAGE + 1}, the round's raw requests replayed; a "
                                "server that streams an index range makes about the page's"
                            ),
                        )
                    )
            figures += [
                Figure(
                    "P4",
                    f"{size:,}: receiver + status, store only p95",
                    percentile(store_received, 95),
                    "ms",
                ),
                Figure(
                    "P4", f"{size:,}: overdue, store only p95", percentile(store_overdue, 95), "ms"
                ),
            ]
            for label, ours, floor in (
                ("receiver + status", p_received, percentile(raw_received, 95)),
                ("overdue", p_overdue, percentile(raw_overdue, 95)),
            ):
                figures.append(
                    Figure(
                        "P4",
                        f"{size:,}: {label}, raw-driver floor p95 (ours / floor)",
                        floor,
                        "ms",
                        "ours ≤ 2 × floor",
                        ours <= 2 * floor,
                        note=f"ours (GraphQL) {ours:.1f} ms = {ours / floor:.1f} × the floor "
                        "(the same find requests, PyMongo alone)",
                    )
                )
            progress()
            if size == sizes[0]:
                # The plans at the first size: at 1M even the planner's trial took SecantusDB
                # out of memory (session 14), and the plan does not change with the size.
                explain = await _explain(mode, database)
                mode.notes.append(
                    f"P4: the server's explain of the two list queries at {size:,} "
                    f"referrals: {explain}"
                )
        if len(measured) >= 2:
            small, large = min(measured), max(measured)
            log_ratio = math.log(large) / math.log(small)
            for i, label in enumerate(("receiver + status", "overdue")):
                growth = measured[large][i] / measured[small][i]
                why = _not_streaming(read_per_page[large][i])
                linear = f"linear would be {large / small:.0f}×"
                figures.append(
                    Figure(
                        "P4",
                        f"{label}: p95 growth {small:,} → {large:,}",
                        growth,
                        "×",
                        f"≤ {2 * log_ratio:.2f} (2 × log ratio {log_ratio:.2f})",
                        None if why else growth <= 2 * log_ratio,
                        note=f"{linear}; {why}" if why else linear,
                    )
                )
    finally:
        await raw_client.close()
        # A server that died under the load cannot be cleaned up; the figures still count.
        with contextlib.suppress(StoreError, PyMongoError, OSError):
            await service.runtime.stop()
            await drop_databases(mode.mongo_url, [database])
    return figures
