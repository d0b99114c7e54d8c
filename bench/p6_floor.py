"""P6 the service floor: throughput of the one-subgraph referral query (``referral(id)``
with its own scalar fields) sent straight to the referral service ÷ throughput of a bare
strawberry + FastAPI app answering ``{ hello }`` with the same schema extensions and uvicorn
settings (``bench.floor_app``), same client, same run. Target ≥ 0.5. What separates the two
is our own per-request work: token verification, the gateway-signature check, the store
read, authorisation, resolvers, metrics and logs.

Client: ``wrk`` (Debian package) at 8 connections, one thread, so the client is not the
limit; without wrk, ``bench.loadgen`` (Python) with a note saying so. The referral service
runs in the production topology of P1 (``p1_gateway.production_topology``)."""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import Any

import httpx

from bench.common import ROOT, Figure, Mode, run_load
from bench.p1_gateway import ONE, production_topology
from bench.wrk import have_wrk, run_wrk

CONNECTIONS = 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _throughput(
    url: str, body: dict[str, Any], headers: dict[str, str], duration: float
) -> tuple[float, str]:
    if have_wrk():
        got = await run_wrk(url, body, headers, connections=CONNECTIONS, duration=duration)
        if got.non_2xx or got.errors:
            raise RuntimeError(f"{got.non_2xx} non-2xx answers, {got.errors} socket errors")
        return got.throughput, f"wrk -c{CONNECTIONS} -t1, p50 {got.p50_ms:.1f} ms"
    loaded = await run_load(
        url, body=body, headers=headers, workers=CONNECTIONS, duration=duration, warmup=2.0
    )
    return loaded.throughput, f"bench.loadgen ({CONNECTIONS} workers; wrk not installed)"


async def run(mode: Mode) -> list[Figure]:
    duration = 10.0 if mode.quick else 30.0
    port = _free_port()
    floor_url = f"http://127.0.0.1:{port}/graphql"
    floor = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.floor_app",
        str(port),
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with production_topology(mode, "bp6") as topology:
            async with httpx.AsyncClient(timeout=5) as client:
                for _ in range(100):
                    try:
                        answer = (await client.post(floor_url, json={"query": "{ hello }"})).json()
                        break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
                else:
                    raise RuntimeError("the floor app did not answer")
                if answer != {"data": {"hello": "world"}}:
                    raise RuntimeError(f"the floor app answered {answer}")
                one = {"query": ONE, "variables": {"id": topology.referral_id}}
                url = topology.services.url("referral")
                read = (await client.post(url, json=one, headers=topology.headers)).json()
                if not (read.get("data") or {}).get("referral"):
                    raise RuntimeError(f"the referral query did not resolve: {read}")
            service, how = await _throughput(url, one, topology.headers, duration)
            bare, bare_how = await _throughput(floor_url, {"query": "{ hello }"}, {}, duration)
    finally:
        floor.terminate()
        await floor.wait()
    ratio = service / bare
    return [
        Figure(
            "P6",
            "referral(id) straight to the referral service: throughput",
            service,
            "req/s",
            note=how,
        ),
        Figure(
            "P6", "bare strawberry + FastAPI { hello }: throughput", bare, "req/s", note=bare_how
        ),
        Figure("P6", "service floor ratio referral / bare", ratio, "×", "≥ 0.5", ratio >= 0.5),
    ]
