"""P2 GraphQL cost: a page of 100 referrals through the referral subgraph's /graphql ÷ the
same JSON from a plain FastAPI route over the same repository and store.

The referral service runs in this process over the embedded document store (the kernel's
SQLite-backed adapter, a private directory) with its own indexes. Not FerretDB: FerretDB 1.24
on SQLite pushes down no filter, sort or limit (its ``explain`` says so, see P4), so one page
of 100 takes seconds there and both sides of the ratio would measure FerretDB's full scan, not
GraphQL; the faster store makes the ratio a stricter test of the GraphQL layer. The bench
mounts one extra route on the service's
FastAPI app (bench-only code): it verifies the token, calls the same
``ReferralRepository.search`` with the same filter and builds exactly the JSON the GraphQL
query returns — checked equal before measuring. Both are served by the same uvicorn server and
loaded by the same client: ``wrk`` where installed (issue 21: the Python load generator was
itself the limit of P1), else ``bench.loadgen``; both run outside this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from fastapi import Header, HTTPException
from fastapi.responses import JSONResponse

from bench.asgi import AsgiCaller
from bench.common import Figure, LoadResult, Mode, private_name, run_load
from bench.template import Cloner, sent_referral_document
from bench.wrk import WrkResult, have_wrk, run_wrk
from liandong.gateway import free_port
from liandong.serving import until_started

RECEIVER = "fy-hancong"
PAGE = 100

QUERY = """
query($receiver: ID!, $first: Int!) {
  referrals(receiverId: $receiver, first: $first) {
    edges {
      cursor
      node {
        id status title matterCode party place createdAt sentAt urgent overdue
        sender { id }
        receiver { id }
        acceptDeadline { due overdue }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}"""


def _plain_page(rows: list[Any], first: int, now: datetime) -> dict[str, Any]:
    """The JSON the GraphQL query above produces, built by hand from the domain objects."""
    from kernel.graphql.pages import encode_cursor
    from kernel.graphql.scalars import serialize_datetime

    def cursor(r: Any) -> str:
        return encode_cursor([r.created_at.astimezone(UTC).isoformat(), r.id])

    page = rows[:first]
    edges = []
    for r in page:
        accept = r.accept_deadline
        edges.append(
            {
                "cursor": cursor(r),
                "node": {
                    "id": r.id,
                    "status": r.status.name,
                    "title": r.title,
                    "matterCode": r.matter_code,
                    "party": r.party,
                    "place": r.place,
                    "createdAt": serialize_datetime(r.created_at),
                    "sentAt": serialize_datetime(r.sent_at) if r.sent_at else None,
                    "urgent": r.urgent,
                    "overdue": r.is_overdue(now),
                    "sender": {"id": r.sender_id},
                    "receiver": {"id": r.receiver_id},
                    "acceptDeadline": (
                        {
                            "due": serialize_datetime(accept.due),
                            "overdue": accept.state == "open" and now > accept.due,
                        }
                        if accept
                        else None
                    ),
                },
            }
        )
    return {
        "data": {
            "referrals": {
                "edges": edges,
                "pageInfo": {
                    "hasNextPage": len(rows) > first,
                    "endCursor": cursor(page[-1]) if page else None,
                },
            }
        }
    }


async def _load(
    url: str,
    body: dict[str, Any] | None,
    headers: dict[str, str],
    connections: int,
    duration: float,
    warmup: float,
) -> LoadResult | WrkResult:
    """Throughput and latency of ``url`` (POST ``body``, or GET without one): with ``wrk``
    where installed (issue 21: the Python client was itself the limit of P1), else
    ``bench.loadgen``; both run outside this process."""
    if have_wrk():
        await run_wrk(url, body, headers, connections=connections, duration=warmup)
        got = await run_wrk(url, body, headers, connections=connections, duration=duration)
        if got.non_2xx or got.errors:
            raise RuntimeError(
                f"{url}: {got.non_2xx} non-2xx answers, {got.errors} socket errors under wrk"
            )
        return got
    return await run_load(
        url,
        method="POST" if body is not None else "GET",
        body=body,
        headers=headers,
        workers=connections,
        duration=duration,
        warmup=warmup,
    )


async def _profile(
    app: Any, repository: Any, body: dict[str, Any], headers: dict[str, str], runs: int = 5
) -> tuple[float, str]:
    """The median of ``runs`` GraphQL requests in process (no client, no socket), split into
    the store query with decoding into domain objects (``ReferralRepository.search``, timed
    around the call, as the plain route makes it) and the rest: the resolver's building of
    GraphQL objects, strawberry's execution and the JSON. Timed, not profiled: cProfile
    splits a coroutine's time at every resume and its figures do not add up."""
    spent: list[float] = []
    search = repository.search

    async def timed_search(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return await search(*args, **kwargs)
        finally:
            spent.append((time.perf_counter() - t0) * 1000)

    client = AsgiCaller(app, host="referral")
    totals: list[tuple[float, float]] = []
    repository.search = timed_search
    try:
        for _ in range(runs):
            spent.clear()
            t0 = time.perf_counter()
            response = await client.post("/graphql", json_body=body, headers=headers)
            elapsed = (time.perf_counter() - t0) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"GraphQL request failed: {response.status_code}")
            totals.append((elapsed, sum(spent)))
    finally:
        del repository.search  # the class's method again
    totals.sort()
    elapsed, store = totals[len(totals) // 2]
    note = (
        f"median of {runs}: store query + decoding {store:.0f} ms, resolver objects, "
        f"strawberry execution and JSON {elapsed - store:.0f} ms"
    )
    return elapsed, note


async def run(mode: Mode) -> list[Figure]:
    from kernel.settings import Settings
    from liandong.cli import mint_token
    from liandong.suite import build_service
    from referral.adapters.repository import ReferralFilter

    template = await sent_referral_document()
    instance = private_name("bp2")
    settings = Settings(
        district="fuyuan",
        instance=instance,
        store="embedded",
        bus="memory",
        data_dir=mode.run_dir / "p2",
    )
    service: Any = await build_service("referral", settings)
    await service.runtime.start()  # creates the service's indexes
    server: uvicorn.Server | None = None
    serving: asyncio.Task[None] | None = None
    try:
        cloner = Cloner(template, seed=2)
        # The receiver's 150 referrals among 1 000 of other agencies: a page of 100 is a
        # real filtered slice, not the whole collection.
        docs = [cloner.clone(i, receiver=RECEIVER) for i in range(150)]
        docs += [cloner.clone(150 + i) for i in range(850)]
        docs = [d for d in docs if d["receiver_id"] == RECEIVER][:150] + [
            d for d in docs if d["receiver_id"] != RECEIVER
        ]
        raw = service.referrals.aggregates.collection
        for i in range(0, len(docs), 500):
            await raw.insert_many(docs[i : i + 500])

        app = service.create_app(manage_lifecycle=False)
        verifier = service.deps.verifier
        repository = service.referrals

        @app.get("/plain/referrals")  # type: ignore[untyped-decorator]
        async def plain(
            receiver_id: str, first: int = 50, authorization: str | None = Header(None)
        ) -> JSONResponse:
            try:
                principal = verifier.verify_header(authorization)
            except Exception as exc:
                raise HTTPException(401, str(exc)) from exc
            first = max(1, min(first, 200))
            rows = await repository.search(
                ReferralFilter(receiver_id=receiver_id, party_agency_id=principal.agency_id),
                limit=first + 1,
            )
            return JSONResponse(_plain_page(rows, first, datetime.now(UTC)))

        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        )
        serving = asyncio.create_task(server.serve())
        if not await until_started(server, serving, what="the P2 server"):
            raise RuntimeError("the P2 server did not start")
        token = mint_token(settings, RECEIVER, ["clerk"])
        headers = {"Authorization": f"Bearer {token}"}
        graphql_url = f"http://127.0.0.1:{port}/graphql"
        plain_url = f"http://127.0.0.1:{port}/plain/referrals?receiver_id={RECEIVER}&first={PAGE}"
        body = {"query": QUERY, "variables": {"receiver": RECEIVER, "first": PAGE}}
        async with httpx.AsyncClient(timeout=30) as client:
            via_graphql = (await client.post(graphql_url, json=body, headers=headers)).json()
            via_plain = (await client.get(plain_url, headers=headers)).json()
        edges = via_graphql["data"]["referrals"]["edges"]
        if len(edges) != PAGE:
            raise RuntimeError(f"expected a page of {PAGE}, got {len(edges)}: {via_graphql}")
        # "overdue" may flip between the two calls only if a clock expires in between.
        if via_graphql != via_plain:
            raise RuntimeError("the plain route's JSON differs from the GraphQL answer")
        connections = 4
        duration, warmup = (15.0, 3.0) if mode.quick else (60.0, 5.0)
        gql = await _load(graphql_url, body, headers, connections, duration, warmup)
        plain_load = await _load(plain_url, None, headers, connections, duration, warmup)
        hot = await _profile(app, repository, body, headers)
    finally:
        if server is not None and serving is not None:
            server.should_exit = True
            with contextlib.suppress(Exception):
                await serving
        await service.runtime.stop()  # the store's files go with the run directory
    ratio = gql.throughput / plain_load.throughput
    load_client = (
        f"wrk -c{connections} -t1"
        if have_wrk()
        else f"bench.loadgen, {connections} workers (wrk not installed)"
    )
    return [
        Figure("P2", "page of 100 via /graphql: throughput", gql.throughput, "req/s"),
        Figure(
            "P2", "page of 100 via plain FastAPI route: throughput", plain_load.throughput, "req/s"
        ),
        Figure("P2", "page of 100 via /graphql: p95", gql.p(95), "ms"),
        Figure("P2", "page of 100 via plain route: p95", plain_load.p(95), "ms"),
        Figure(
            "P2",
            "throughput ratio graphql / plain",
            ratio,
            "×",
            "≥ 0.3",
            ratio >= 0.3,
            note=f"client: {load_client}",
        ),
        Figure(
            "P2",
            "profile: one GraphQL page of 100, in process",
            hot[0],
            "ms",
            note=hot[1],
        ),
    ]
