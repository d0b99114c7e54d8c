"""P1 gateway overhead, on the production topology: referral, notify and coordination as
separate ``liandong serve`` processes over RabbitMQ and the MongoDB wire-protocol server
(private instance), behind the real Hive gateway (``liandong.gateway``).

- Throughput of a one-subgraph query (a referral's own fields) through the gateway ÷ the same
  query sent straight to the referral subgraph, with the same load generator (its own
  process, same workers and duration; ``wrk`` where installed, else ``bench.loadgen``):
  target ≥ 0.5.
- p95 of a three-subgraph query (the referral from referral, its sender's name from
  coordination, the sender's inbox from notify) ≤ 3 × p95 of the one-subgraph query, both
  through the gateway.

A full run measures ``ROUNDS`` rounds of the three loads side by side (their order rotating)
and reports, for each ratio, the round with the median ratio, listing every round's ratio.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from bench.common import (
    ROOT,
    Figure,
    LoadResult,
    Mode,
    drop_instance,
    private_name,
    production_env,
    run_load,
)
from bench.wrk import WrkResult, have_wrk, run_wrk
from liandong.testing.drafts import send_one
from liandong.testing.processes import ServiceProcesses

ONE = "query($id: ID!) { referral(id: $id) { id status title matterCode createdAt } }"
THREE = """
query($id: ID!) {
  referral(id: $id) {
    id status title matterCode createdAt
    sender { id name kind inbox(first: 5) { edges { node { id title unread } } } }
  }
}"""


@dataclass
class Topology:
    """The production topology of P1 and P6, with one sent referral to read."""

    services: ServiceProcesses
    gateway: Any  # liandong.gateway.GatewayProcess
    referral_id: str
    headers: dict[str, str]  # a clerk of the sender, as the load's Authorization


@contextlib.asynccontextmanager
async def production_topology(mode: Mode, prefix: str) -> AsyncIterator[Topology]:
    """referral, notify and coordination as ``liandong serve`` processes behind the Hive
    gateway on private names, one referral sent through it; everything stopped and dropped
    afterwards."""
    from kernel.auth import ensure_dev_keys
    from kernel.settings import SERVICES, Settings
    from liandong.cli import mint_token
    from liandong.gateway import GatewayProcess, compose_supergraph
    from liandong.suite import sdl_path

    instance = private_name(prefix)
    data_dir = mode.run_dir / prefix
    data_dir.mkdir(parents=True, exist_ok=True)
    # The gateway signs every subgraph request with this secret (kernel.gateway_signature).
    # The services check a signature when one comes but, as development processes, do not
    # require one, so the direct requests of the comparison need none.
    hmac_secret = secrets.token_hex(16)
    env = {**production_env(mode, instance, data_dir), "LIANDONG_GATEWAY_HMAC_SECRET": hmac_secret}
    settings = Settings(
        district="fuyuan", instance=instance, exchange=f"{instance}.events", data_dir=data_dir
    )
    services = ServiceProcesses(env, data_dir / "logs", cwd=ROOT)
    gateway: GatewayProcess | None = None
    try:
        # Consumers first, so their queues exist before coordination publishes its agencies.
        services.start("referral")
        services.start("notify")
        await asyncio.to_thread(services.wait_ready, "referral")
        await asyncio.to_thread(services.wait_ready, "notify")
        services.start("coordination", "--seed-demo")
        await asyncio.to_thread(services.wait_ready, "coordination")
        urls = {name: services.url(name) for name in SERVICES}
        supergraph = await asyncio.to_thread(
            compose_supergraph,
            {name: (url, sdl_path(name)) for name, url in urls.items()},
            data_dir / "supergraph.graphql",
        )
        keys = ensure_dev_keys(data_dir)  # the services' development keys
        gateway = GatewayProcess(
            supergraph,
            data_dir / "logs",
            production=True,
            env={
                "LIANDONG_GATEWAY_JWKS_FILE": str(keys.jwks_file),
                "LIANDONG_GATEWAY_HMAC_SECRET": hmac_secret,
            },
        )
        await asyncio.to_thread(gateway.start)

        def mint(agency: str, roles: list[str]) -> str:
            return mint_token(settings, agency, roles)

        async with httpx.AsyncClient(timeout=30) as client:
            rid = await send_one(
                client, gateway.url, mint, files=urls["referral"].removesuffix("/graphql")
            )
        headers = {"Authorization": f"Bearer {mint('fy-market', ['clerk'])}"}
        yield Topology(services, gateway, rid, headers)
    finally:
        if gateway is not None:
            await asyncio.to_thread(gateway.stop)
        await asyncio.to_thread(services.stop)
        await drop_instance(mode, instance)


#: Rounds of a full run. Each round loads the three measured requests one after another for
#: ``WINDOW`` seconds each (their order rotates from round to round); each ratio reported is
#: the median of the rounds' ratios. The machine's speed drifts by a quarter within minutes
#: (issue 21, session 18: the same service's CPU per request 1.2-1.9 ms over eight runs of
#: 8 s), so two loads measured a minute apart compared the machine, not the code.
ROUNDS = 5
WINDOW = 8.0

Loaded = LoadResult | WrkResult


def _median_round(
    rounds: list[dict[str, Loaded]], ratio: Callable[[dict[str, Loaded]], float]
) -> dict[str, Loaded]:
    return sorted(rounds, key=ratio)[len(rounds) // 2]


def _throughput_ratio(r: dict[str, Loaded]) -> float:
    return r["gateway"].throughput / r["direct"].throughput


def _p95_ratio(r: dict[str, Loaded]) -> float:
    return r["three"].p(95) / r["gateway"].p(95)


def _spread(rounds: list[dict[str, Loaded]], ratio: Callable[[dict[str, Loaded]], float]) -> str:
    if len(rounds) == 1:
        return ""
    return f"the median of {len(rounds)} rounds, each side by side in this run: " + ", ".join(
        f"{ratio(r):.2f}" for r in rounds
    )


async def run(mode: Mode) -> list[Figure]:
    async with production_topology(mode, "bp1") as topology:
        gateway, services, headers = topology.gateway, topology.services, topology.headers
        one: dict[str, Any] = {"query": ONE, "variables": {"id": topology.referral_id}}
        three: dict[str, Any] = {"query": THREE, "variables": {"id": topology.referral_id}}
        async with httpx.AsyncClient(timeout=30) as client:
            answer = (await client.post(gateway.url, json=three, headers=headers)).json()
        sender = (answer.get("data") or {}).get("referral", {}) or {}
        if not sender.get("sender", {}).get("name") or "inbox" not in sender.get("sender", {}):
            raise RuntimeError(f"the three-subgraph query did not resolve: {answer}")
        workers = 4 if mode.quick else 8
        rounds, window, warmup = (1, 10.0, 2.0) if mode.quick else (ROUNDS, WINDOW, 10.0)
        loads = {
            "direct": (services.url("referral"), one),
            "gateway": (gateway.url, one),
            "three": (gateway.url, three),
        }

        async def load(url: str, body: dict[str, Any], seconds: float) -> Loaded:
            # wrk where installed (issue 21: the Python client was the limit, 79 req/s
            # direct where wrk reached 282).
            if have_wrk():
                got = await run_wrk(url, body, headers, connections=workers, duration=seconds)
                if got.non_2xx or got.errors:
                    raise RuntimeError(f"{got.non_2xx} non-2xx answers, {got.errors} errors")
                return got
            return await run_load(
                url, body=body, headers=headers, workers=workers, duration=seconds, warmup=0.0
            )

        for url, body in loads.values():  # warm-up, not counted
            await load(url, body, warmup)
        measured: list[dict[str, Loaded]] = []
        keys = list(loads)
        for i in range(rounds):
            order = keys[i % len(keys) :] + keys[: i % len(keys)]
            measured.append({key: await load(*loads[key], window) for key in order})
    by_throughput = _median_round(measured, _throughput_ratio)
    by_p95 = _median_round(measured, _p95_ratio)
    ratio, p95_ratio = _throughput_ratio(by_throughput), _p95_ratio(by_p95)
    direct, via_gateway = by_throughput["direct"], by_throughput["gateway"]
    return [
        Figure(
            "P1", "one-subgraph query, direct to referral: throughput", direct.throughput, "req/s"
        ),
        Figure("P1", "one-subgraph query via gateway: throughput", via_gateway.throughput, "req/s"),
        Figure(
            "P1",
            "throughput ratio gateway / direct",
            ratio,
            "×",
            "≥ 0.5",
            ratio >= 0.5,
            note=_spread(measured, _throughput_ratio),
        ),
        Figure("P1", "one-subgraph query, direct: p95", direct.p(95), "ms"),
        Figure("P1", "one-subgraph query via gateway: p95", by_p95["gateway"].p(95), "ms"),
        Figure("P1", "three-subgraph query via gateway: p95", by_p95["three"].p(95), "ms"),
        Figure(
            "P1",
            "p95 ratio three-subgraph / one-subgraph",
            p95_ratio,
            "×",
            "≤ 3",
            p95_ratio <= 3,
            note=_spread(measured, _p95_ratio),
        ),
    ]
