"""Where one P4 list page spends its time, layer by layer, next to the raw-driver floor.

P4 compares our GraphQL page with the same ``find`` requests sent through PyMongo alone.
This splits our page into consecutive segments, timed inside one live request (not
profiled: cProfile splits a coroutine's time at every resume, and its overhead is largest
exactly where the time goes, in small Python calls):

- ASGI in → strawberry's ``Schema.execute``: middleware, routing, the request's JSON;
- → the ``referrals`` resolver: the operation's extensions, execution set-up, arguments;
- → ``ReferralQueries.referrals_visible`` → the store's ``find``: scope and filter;
- the ``find`` itself (server, driver, BSON decoding: what the floor also pays);
- ``find`` returned → the page's referrals read into domain objects;
- → ``execute`` done: the connection, the views, graphql-core's field execution;
- → the response's first and last ASGI message: the JSON.

Each round times the received list's three pages (``bench.p4_scale``), then replays their
``find`` requests through PyMongo; figures are means and medians over the rounds' pages.
CPU work right after a wait for the server runs slower than in a hot loop on a shared
machine (its caches are cold): compare segments within one run, never with a hot
microbenchmark.

    uv run python -m bench.p4_layers --url mongodb://127.0.0.1:27018/ --size 10000

The documents are loaded into a private database of the server (``bench.template``'s
clones, as P4 loads them) and dropped at the end unless ``--keep`` names a database to
reuse (loaded only up to ``--size``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from bench import p4_scale as p4
from bench.asgi import AsgiCaller
from bench.common import percentile, private_name
from bench.template import Cloner, sent_referral_document

SEGMENTS = (
    ("ASGI in → Schema.execute", "asgi0", "exec0"),
    ("→ referrals resolver", "exec0", "resolver0"),
    ("→ referrals_visible → find", "resolver0", "find0"),
    ("find (server, driver, BSON)", "find0", "find1"),
    ("→ domain objects read", "find1", "visible1"),
    ("→ execute done (views, fields)", "visible1", "exec1"),
    ("→ response sent (JSON)", "exec1", "asgi1"),
)


class Marks:
    """Timestamps of one request's layers, set by the wrappers :func:`instrument` installs."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}

    def __call__(self, name: str) -> None:
        self.at[name] = time.perf_counter()


def _timed_async(owner: Any, name: str, marks: Marks, before: str, after: str) -> None:
    real: Callable[..., Awaitable[Any]] = getattr(owner, name)

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        marks(before)
        try:
            return await real(*args, **kwargs)
        finally:
            marks(after)

    setattr(owner, name, wrapper)


def instrument(service: Any, marks: Marks) -> None:
    """Wrap the layers of the referral service's list path with timestamps (in this process
    only: the bench's own service)."""
    import strawberry.schema.schema as strawberry_schema

    import referral.entrypoints.graphql.queries as graph_queries
    from referral.application.queries import ReferralQueries

    _timed_async(strawberry_schema.Schema, "execute", marks, "exec0", "exec1")
    _timed_async(ReferralQueries, "referrals_visible", marks, "visible0", "visible1")
    _timed_async(service.referrals._coll, "find", marks, "find0", "find1")
    real_page_size: Callable[[int], int] = vars(graph_queries)["page_size"]  # kernel.graphql's

    def page_size(first: int) -> int:  # the resolver's first call
        marks("resolver0")
        return real_page_size(first)

    setattr(graph_queries, "page_size", page_size)  # noqa: B010  # the module's own name


async def measure(url: str, size: int, rounds: int, keep: str | None) -> dict[str, list[float]]:
    from kernel.settings import Settings
    from liandong.cli import mint_token
    from liandong.suite import build_service

    instance = keep or private_name("bp4l")
    settings = Settings(
        district="fuyuan",
        instance=instance,
        store="mongo",
        bus="memory",
        mongo_url=url,
        data_dir=Path(tempfile.mkdtemp(prefix="bench-p4-layers-")),
    )
    service: Any = await build_service("referral", settings)
    await service.runtime.start()
    raw_client: Any = AsyncMongoClient(url, tz_aware=True)
    database = settings.database_name("referral")
    try:
        collection = service.referrals.aggregates.collection
        stored = await collection.count({})
        if stored < size:
            print(f"loading {size - stored:,} referrals …", flush=True)
            await p4._load(collection, Cloner(await sent_referral_document(), seed=4), stored, size)
        marks = Marks()
        instrument(service, marks)
        app = service.create_app(manage_lifecycle=False)

        async def asgi(scope: Any, receive: Any, send: Any) -> None:
            marks("asgi0")
            try:
                await app(scope, receive, send)
            finally:
                marks("asgi1")

        client = AsgiCaller(asgi, host="referral")
        clerk = {"Authorization": f"Bearer {mint_token(settings, p4.RECEIVER, ['clerk'])}"}
        raw = raw_client[database]["referrals"]
        figures: dict[str, list[float]] = {name: [] for name, _, _ in SEGMENTS}
        figures["our page"] = []
        figures["raw-driver floor"] = []
        coll = service.referrals._coll
        instrumented_find = coll.find
        sent: list[tuple[Any, Any, Any]] = []  # this round's requests, replayed raw

        async def recording(filter: Any, **kw: Any) -> list[Any]:
            sent.append((filter, kw.get("sort"), kw.get("limit")))
            result: list[Any] = await instrumented_find(filter, **kw)
            return result

        for i in range(rounds + 1):
            sent.clear()
            after: str | None = None
            pages: list[dict[str, float]] = []
            totals: list[float] = []
            coll.find = recording
            try:
                for _ in range(p4.PAGES):
                    marks.at.clear()
                    t0 = time.perf_counter()
                    response = await client.post(
                        "/graphql",
                        json_body={
                            "query": p4.LIST_RECEIVED,
                            "variables": {"receiver": p4.RECEIVER, "after": after},
                        },
                        headers=clerk,
                    )
                    totals.append((time.perf_counter() - t0) * 1000)
                    body = response.json()
                    if response.status_code != 200 or body.get("errors"):
                        raise RuntimeError(f"list query failed: {body}")
                    pages.append(dict(marks.at))
                    info = body["data"]["referrals"]["pageInfo"]
                    if not info["hasNextPage"]:
                        break
                    after = info["endCursor"]
            finally:
                coll.find = instrumented_find
            floor = await p4._raw_pages(raw, sent)
            if i == 0:
                continue  # warm-up
            for at in pages:
                for name, start, end in SEGMENTS:
                    figures[name].append((at[end] - at[start]) * 1000)
            figures["our page"] += totals
            figures["raw-driver floor"] += floor
        return figures
    finally:
        await service.runtime.stop()
        if keep is None:
            await raw_client.drop_database(database)
        await raw_client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="mongodb://127.0.0.1:27018/")
    parser.add_argument("--size", type=int, default=10_000, help="referrals stored")
    parser.add_argument("--rounds", type=int, default=200, help="rounds of three pages")
    parser.add_argument(
        "--keep", metavar="INSTANCE", help="reuse (and keep) this instance's database"
    )
    args = parser.parse_args()
    figures = asyncio.run(measure(args.url, args.size, args.rounds, args.keep))
    print(f"{args.size:,} referrals, receiver + status list, {args.rounds} rounds of pages")
    print(f"{'segment':34s} {'mean':>8s} {'p50':>8s} {'p95':>8s}  ms")
    for name, values in figures.items():
        print(
            f"{name:34s} {statistics.mean(values):8.2f} {statistics.median(values):8.2f} "
            f"{percentile(values, 95):8.2f}"
        )


if __name__ == "__main__":
    main()
