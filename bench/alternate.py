"""Old and new code side by side (issue 21, session 9): the pieces used to measure a change
against main alternately, in the same minutes, on a machine whose load moves.

    git archive main | tar -x -C /tmp/old          # the old tree
    python -m bench.alternate hold new /tmp/new.json &           # this checkout's services
    python -m bench.alternate hold old /tmp/old.json /tmp/old &  # the old tree's services
    python -m bench.alternate load URL one /tmp/new.json PID...  # wrk + CPU per request
    python -m bench.alternate p3 LABEL 2000                      # P3's two sides, CPU per event

``hold`` keeps P1's production topology up (``bench.p1_gateway.production_topology``; the
services run from ``OLD_TREE`` when given, through ``PYTHONPATH``) and writes the URLs, the
referral id, the clerk's headers and the process ids to ``INFO_JSON``; SIGTERM stops it.
``load`` runs ``wrk`` (8 connections unless ``--connections``) and prints the throughput and
the CPU time each given process used per request (``/proc/PID/stat``), which other work on
the machine disturbs less than throughput. ``p3`` runs P3's raw and outbox sides once with
the kernel on ``PYTHONPATH`` (the old tree's for the old side)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.common import Mode, drop_databases, drop_rabbit, private_name, server_urls

SERVICE_DIRS = ("kernel", "referral", "notify", "coordination")


def _mode(prefix: str) -> Mode:
    mongo, amqp = server_urls()
    return Mode("quick", Path(tempfile.mkdtemp(prefix=f"alt-{prefix}-")), mongo, amqp)


async def hold(prefix: str, info_json: str, old_tree: str | None) -> None:
    from bench.p1_gateway import production_topology

    if old_tree:
        dirs = [f"{old_tree}/services/{s}" for s in SERVICE_DIRS] + [f"{old_tree}/suite"]
        os.environ["PYTHONPATH"] = ":".join(dirs)  # the services' processes inherit it
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with production_topology(_mode(prefix), prefix) as t:
        info = {
            "referral": t.services.url("referral"),
            "gateway": t.gateway.url,
            "rid": t.referral_id,
            "headers": t.headers,
            "pids": {n: t.services.pid(n) for n in SERVICE_DIRS[1:]},
        }
        _write_json(info_json, info)
        print("ready", flush=True)
        await stop.wait()


def _write_json(path: str, data: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(data))


def _read_json(path: str) -> dict[str, Any]:
    return dict(json.loads(Path(path).read_text()))


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(
    url: str, query: str, info_json: str, pids: list[int], seconds: float, c: int
) -> None:
    from bench.p1_gateway import ONE, THREE
    from bench.wrk import run_wrk

    body: dict[str, Any] = {"query": "{ hello }"}
    headers: dict[str, str] = {}
    if query != "hello":
        info = _read_json(info_json)
        body = {"query": ONE if query == "one" else THREE, "variables": {"id": info["rid"]}}
        headers = info["headers"]
    before = [_cpu_seconds(p) for p in pids]
    got = await run_wrk(url, body, headers, connections=c, duration=seconds)
    used = [_cpu_seconds(p) - b for p, b in zip(pids, before, strict=True)]
    per = " ".join(f"{1000 * u / max(got.requests, 1):.2f}" for u in used)
    print(
        f"{url} {got.throughput:.1f} req/s p50 {got.p50_ms:.1f} ms p95 {got.p95_ms:.1f} ms "
        f"non-2xx {got.non_2xx} errors {got.errors} CPU ms/request [{per}] "
        f"load {os.getloadavg()[0]:.2f}",
        flush=True,
    )


async def p3(label: str, count: int) -> None:
    import kernel
    from bench.p3_event_path import outbox_path, raw_path

    mode = _mode("p3")
    name = private_name("alt3")
    calls: dict[str, list[float]] = defaultdict(list)
    try:
        cpu = time.process_time()
        raw = await raw_path(mode, name, count)
        raw_cpu, cpu = time.process_time() - cpu, time.process_time()
        outbox = await outbox_path(mode, name, count, calls)
        outbox_cpu = time.process_time() - cpu
    finally:
        await drop_databases(mode.mongo_url, [name])
        await drop_rabbit(mode.amqp_url, f"{name}.events", [f"{name}.p3", f"{name}.raw"])
    print(
        f"{label} n={count} raw {raw:.0f}/s ({1000 * raw_cpu / count:.2f} ms CPU/event) "
        f"outbox {outbox:.0f}/s ({1000 * outbox_cpu / count:.2f} ms CPU/event) "
        f"ratio {outbox / raw:.2f} load {os.getloadavg()[0]:.2f} kernel {kernel.__file__}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.alternate")
    sub = parser.add_subparsers(dest="command", required=True)
    h = sub.add_parser("hold")
    h.add_argument("prefix")
    h.add_argument("info_json")
    h.add_argument("old_tree", nargs="?")
    ld = sub.add_parser("load")
    ld.add_argument("url")
    ld.add_argument("query", choices=["one", "three", "hello"])
    ld.add_argument("info_json")
    ld.add_argument("pids", nargs="*", type=int)
    ld.add_argument("--seconds", type=float, default=10.0)
    ld.add_argument("--connections", type=int, default=8)
    p = sub.add_parser("p3")
    p.add_argument("label")
    p.add_argument("count", type=int)
    args = parser.parse_args()
    if args.command == "hold":
        asyncio.run(hold(args.prefix, args.info_json, args.old_tree))
    elif args.command == "load":
        asyncio.run(
            load(args.url, args.query, args.info_json, args.pids, args.seconds, args.connections)
        )
    else:
        asyncio.run(p3(args.label, args.count))


if __name__ == "__main__":
    main()
