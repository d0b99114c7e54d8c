"""P5 soak: referral.sent.v1 events committed through the referral service's outbox at a
steady rate (full: 200/s for 10 minutes, the issue's figure; quick: 5/s for 20 s — the smoke
test must not flood the shared FerretDB other test runs use) until they are inbox items in
notify.

Topology: notify and coordination (with the demo agencies) run as separate ``liandong
serve`` processes over RabbitMQ and the MongoDB wire-protocol server (private instance). The
referral service runs in this process (its real runtime: repository, outbox relay woken on
commit, RabbitMQ bus, consumer), because no client could drive 200 sends per second through
draft → submit → approve → send over GraphQL on this machine: the bench plays the handler's
last step, committing a sent referral (a realistic document, bench.template) together with its
``referral.sent.v1`` event in one insert through the repository's AggregateCollection.

Commits are open-loop (scheduled at fixed times, not after the previous one finished), so a
slow system shows as latency and backlog rather than a silently lower rate.

- commit-to-inbox latency: the inbox item's ``added_at`` (notify's clock) minus the moment the
  commit returned (same machine clock): p50, p95 (target ≤ 250 ms), max.
- RSS growth of the service processes from the end of the warm-up (10 % of the run) to the end
  of the load: target ≤ 10 % each.
- lost: events committed minus distinct inbox items after a bounded drain: target 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import psutil

from bench.common import (
    ROOT,
    Figure,
    Mode,
    cpu_seconds,
    drop_instance,
    finite,
    percentile,
    private_name,
    production_env,
    request_delta,
    server_process,
    server_requests,
)
from bench.template import RECEIVERS, Cloner, sent_referral_document
from liandong.testing.processes import ServiceProcesses


async def run(mode: Mode) -> list[Figure]:
    from pymongo import AsyncMongoClient

    from kernel.envelope import new_envelope
    from kernel.settings import Settings
    from liandong.suite import build_service
    from referral.contracts.published import ReferralSentV1

    duration, rate = (20.0, 5.0) if mode.quick else (600.0, 200.0)
    duration = mode.p5_seconds or duration
    rate = mode.p5_rate or rate
    drain_limit = 90.0 if mode.quick else 300.0
    total = int(duration * rate)
    template = await sent_referral_document()
    instance = private_name("bp5")
    data_dir = mode.run_dir / "p5"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = production_env(mode, instance, data_dir)
    settings = Settings(
        district="fuyuan",
        instance=instance,
        exchange=f"{instance}.events",
        store="mongo",
        bus="rabbitmq",
        mongo_url=mode.mongo_url,
        amqp_url=mode.amqp_url,
        data_dir=data_dir,
    )
    services = ServiceProcesses(env, data_dir / "logs", cwd=ROOT)
    referral: Any = None
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mode.mongo_url, tz_aware=True)
    try:
        services.start("notify")
        await asyncio.to_thread(services.wait_ready, "notify")
        referral = await build_service("referral", settings)
        await referral.runtime.start()
        services.start("coordination", "--seed-demo")
        await asyncio.to_thread(services.wait_ready, "coordination")
        watched = {name: psutil.Process(services.pid(name)) for name in ("notify", "coordination")}
        watched["bench process (referral runtime + driver)"] = psutil.Process()
        # CPU per event is measured for these and the two servers: what the whole pipeline
        # costs per event, process by process, whatever else shares the machine's cores.
        burners = {**watched, **_servers(mode)}

        aggregates = referral.referrals.aggregates
        if mode.p5_elsewhere:
            aggregates.set_on_commit(None)  # as another replica's commits: no hint
        cloner = Cloner(template, seed=5)
        committed: dict[str, float] = {}
        failures: list[str] = []
        now = datetime.now(UTC)

        async def commit(n: int) -> None:
            doc = cloner.clone(n, status="sent", receiver=RECEIVERS[n % len(RECEIVERS)])
            rid = doc["_id"]
            payload = ReferralSentV1(
                referral_id=rid,
                sender_id=doc["sender_id"],
                receiver_id=doc["receiver_id"],
                matter_code=doc["matter_code"],
                actor_id="bench",
                actor_agency_id=doc["sender_id"],
                state_before="approved",
                state_after="sent",
                at=now,
                title=doc["title"],
                urgent=False,
                sent_at=datetime.now(UTC),
                accept_due=doc["open_due"],
            )
            envelope = new_envelope(payload, district="fuyuan", service="referral", subject=rid)
            try:
                await aggregates.insert(doc, [envelope])
            except Exception as exc:
                failures.append(repr(exc))
                return
            committed[rid] = time.time()

        def rss() -> dict[str, int]:
            return {name: p.memory_info().rss for name, p in watched.items()}

        # Store requests per event: the server's command counters over the load and the
        # drain, less what the services send while idle (their polling) over as long, less
        # the drain's own counts. Exact only on a private server (LIANDONG_TEST_MONGO_URL).
        idle_seconds = 5.0
        await asyncio.sleep(3.0)  # the demo seed's events settle first
        databases = [settings.database_name(s) for s in ("referral", "notify", "coordination")]
        idle_before = await server_requests(client, databases)
        idle_cpu_before = _cpu(burners)
        await asyncio.sleep(idle_seconds)
        idle = request_delta(idle_before, await server_requests(client, databases))
        idle_cpu = _delta(idle_cpu_before, _cpu(burners))
        commands_before = await server_requests(client, databases)
        cpu_before = _cpu(burners)
        commands_started = time.perf_counter()

        tasks: set[asyncio.Task[None]] = set()
        baseline: dict[str, int] = {}
        warmup_until = total // 10
        started = time.perf_counter()
        late = 0.0
        for n in range(total):
            due = started + n / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                late = max(late, -delay)
            task = asyncio.create_task(commit(n))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            if n == warmup_until:
                baseline = rss()
        if tasks:
            await asyncio.gather(*tasks)
        load_seconds = time.perf_counter() - started
        first_commit = min(committed.values(), default=0.0)
        final = rss()

        inbox = client[settings.database_name("notify")]["inbox_items"]
        query = {"kind": "referral.received"}
        # The process record (R-SUP-01) has an entry per event too: the drain waits for it
        # as well, so a record that falls behind shows (it did: issue 21, session 12).
        record = client[settings.database_name("notify")]["process_record"]
        record_query = {"type": ReferralSentV1.event_type}
        drain_started = time.monotonic()
        drain_counts = record_counts = 0
        while time.monotonic() - drain_started < drain_limit:
            drain_counts += 1
            if await inbox.count_documents(query) >= len(committed):
                record_counts += 1
                if await record.count_documents(record_query) >= len(committed):
                    break
            await asyncio.sleep(0.5)
        record_drained = time.monotonic() - drain_started
        commands = request_delta(commands_before, await server_requests(client, databases))
        cpu = _delta(cpu_before, _cpu(burners))
        commands_seconds = time.perf_counter() - commands_started
        drained = "notify.inbox_items commands"  # the drain's count_documents
        commands[drained] = commands.get(drained, 0) - drain_counts
        counted = "notify.process_record commands"  # the drain's count_documents
        commands[counted] = commands.get(counted, 0) - record_counts
        idle_share = commands_seconds / idle_seconds
        polling = {name: n * idle_share for name, n in idle.items()}
        latencies: list[float] = []
        by_tenth: list[list[float]] = [[] for _ in range(10)]  # by commit time
        seen: set[str] = set()
        duplicates = 0
        async for item in inbox.find(query, {"subject_id": 1, "added_at": 1}):
            rid = item["subject_id"]
            if rid in seen:
                duplicates += 1
                continue
            seen.add(rid)
            if rid in committed:
                latency = (item["added_at"].timestamp() - committed[rid]) * 1000
                latencies.append(latency)
                tenth = int((committed[rid] - first_commit) / (load_seconds / 10))
                by_tenth[min(max(tenth, 0), 9)].append(latency)
        lost = len(set(committed) - seen)
        unrecorded = max(len(committed) - await record.count_documents(record_query), 0)
        backlog = await referral.runtime.relay.backlog()
    finally:
        if referral is not None:
            # Stopping finishes the relay's pass, which on a slow store can take minutes:
            # bounded, since the databases are dropped below anyway.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(referral.runtime.stop(), timeout=60)
        await asyncio.to_thread(services.stop)
        await client.close()
        await drop_instance(mode, instance)
    p95 = percentile(latencies, 95)
    figures = [
        Figure(
            "P5",
            "events committed",
            float(len(committed)),
            "events",
            note=f"{duration:.0f} s at {rate:.0f}/s planned; {len(failures)} commits failed; "
            + ("commits as by another replica (no hint); " if mode.p5_elsewhere else "")
            + f"relay: {referral.runtime.relay.stats}"
            + (f" (first: {failures[0][:120]})" if failures else ""),
        ),
        Figure(
            "P5",
            "achieved commit rate",
            len(committed) / load_seconds,
            "events/s",
            note=f"scheduler at most {late * 1000:.0f} ms behind",
        ),
        _requests_per_event(commands, polling, len(committed)),
        *_cpu_per_event(cpu, idle_cpu, idle_share, len(committed), commands_seconds),
        Figure("P5", "commit-to-inbox p50", percentile(latencies, 50), "ms"),
        Figure(
            "P5",
            "commit-to-inbox p95",
            p95,
            "ms",
            "≤ 250 ms",
            p95 <= 250,
            note="p95 of each tenth of the load, by commit time: "
            + ", ".join(f"{percentile(t, 95):.0f}" for t in by_tenth if t),
        ),
        Figure("P5", "commit-to-inbox max", max(latencies) if latencies else float("nan"), "ms"),
        Figure(
            "P5",
            "missing after the drain (committed, no inbox item)",
            float(lost),
            "events",
            "0",
            lost == 0,
            note=f"drain limit {drain_limit:.0f} s; still in the outbox then: {backlog}; "
            f"{duplicates} duplicate items",
        ),
        Figure(
            "P5",
            "process record: events not recorded after the drain",
            float(unrecorded),
            "events",
            "0",
            unrecorded == 0,
            note=f"R-SUP-01's entry per event; the drain ended {record_drained:.0f} s after "
            "the load",
        ),
    ]
    for name in watched:
        if not baseline:
            break
        growth = (final[name] - baseline[name]) / baseline[name] * 100
        service = not name.startswith("bench")
        figures.append(
            Figure(
                "P5",
                f"RSS growth: {name}",
                growth,
                "%",
                "≤ 10 %" if service else "",
                (growth <= 10) if service else None,
                note=f"{baseline[name] / 2**20:.0f} → {final[name] / 2**20:.0f} MiB",
            )
        )
    return figures


def _servers(mode: Mode) -> dict[str, psutil.Process]:
    """The store server and RabbitMQ, where they run on this machine (their CPU is shared
    with whatever else uses them: exact on a private store server, approximate for RabbitMQ
    when other runs use it)."""
    found = {}
    for name, url, default in (
        ("store server", mode.mongo_url, 27017),
        ("RabbitMQ", mode.amqp_url, 5672),
    ):
        proc = server_process(urlparse(url).port or default)
        if proc is not None:
            found[name] = proc
    return found


def _cpu(procs: dict[str, psutil.Process]) -> dict[str, float]:
    return {name: cpu_seconds(proc) for name, proc in procs.items()}


def _delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before[name] for name in before}


def _cpu_per_event(
    cpu: dict[str, float], idle: dict[str, float], idle_share: float, events: int, seconds: float
) -> list[Figure]:
    """CPU milliseconds per event of each process from the first commit to the end of the
    drain, less what it burns idle over as long (its polling), and the cores the pipeline
    needs at the planned rate: the figure that says whether two cores can carry it."""
    net = {
        name: max(0.0, used - idle.get(name, 0.0) * idle_share) / max(events, 1) * 1000
        for name, used in cpu.items()
        if finite(used)
    }
    total = sum(net.values())
    figures = [
        Figure(
            "P5",
            f"CPU per event: {name}",
            ms,
            "ms",
            note=f"{cpu[name]:.1f} s over {seconds:.0f} s, idle polling subtracted",
        )
        for name, ms in net.items()
    ]
    figures.append(
        Figure(
            "P5",
            "CPU per event: all processes",
            total,
            "ms",
            note=f"{total * 200 / 1000:.2f} cores at 200 events/s",
        )
    )
    return figures


def _requests_per_event(commands: dict[str, int], polling: dict[str, float], events: int) -> Figure:
    """Store requests per event from commit to inbox item, by command, net of polling."""
    net = {
        name: max(0.0, n - polling.get(name, 0.0)) / max(events, 1) for name, n in commands.items()
    }
    total = sum(net.values())
    raw = sum(commands.values()) / max(events, 1)
    parts = ", ".join(f"{name} {n:.2f}" for name, n in sorted(net.items()) if n >= 0.05)
    return Figure(
        "P5",
        "store requests per event (commit to inbox item)",
        total,
        "requests",
        note=f"{parts}; {raw:.1f} before subtracting the services' idle polling "
        "(the server's per-collection counters, `top`)",
    )
