"""A minimal reproduction of the list latency that grows with the collection on SecantusDB
although ``explain`` reports an index scan of 20 keys (issue 21, item 4). Raw PyMongo only,
nothing of Liandong: it can go into an upstream bug report as it is.

For each size it loads N small documents into a fresh database, with the two indexes of the
referral service's P4 lists, and times pages of 20 (limit 21, as the service asks) of:

* ``overdue``: ``{open_due: {$ne: null, $lt: T}}`` sorted by ``(open_due, _id)``, the
  service's overdue list (index ``{open_due: 1, _id: 1}``); half of the documents match;
* the same range in other shapes: without ``$ne``, bounded on both sides, with a ``hint``,
  and a range that matches nothing (``$lt`` below every key);
* ``receiver``: ``{receiver_id: R, status: S}`` sorted by ``(created_at, _id)``, point
  bounds on the compound index ``{receiver_id, status, created_at, _id}`` (1 % match);
* one document by ``_id`` beside a top-level ``$or``, and the same ``$or`` inside ``$and``
  (issue 21, session 13: the first shape is a collection scan on SecantusDB).

Beside each latency it prints what ``explain`` (``executionStats``) says the server examined.

    uv run python -m bench.repro_index_walk                  # 5k and 50k, on 27017
    uv run python -m bench.repro_index_walk --url mongodb://127.0.0.1:27041 \
        --sizes 5000,50000,100000

Run it on a private server (``LIANDONG_MONGO_PORT=27041 scripts/infra/mongo.sh up``): it
loads up to 100k documents. The database it creates is dropped at the end.
"""

from __future__ import annotations

import argparse
import math
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, MongoClient

PAGE = 21  # the service asks for one more than the page of 20 to know whether more follow
REPEATS = 30
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
RECEIVERS = 20
STATUSES = ("draft", "submitted", "approved", "sent", "accepted")


def documents(start: int, count: int, pad: str) -> list[dict[str, Any]]:
    docs = []
    for i in range(start, start + count):
        docs.append(
            {
                "_id": f"r{i:08d}",
                # Spread over a year; about one in ten has no running clock (null).
                "open_due": None
                if i % 10 == 0
                else EPOCH + timedelta(minutes=(i * 7919) % 525_600),
                "receiver_id": f"agency-{i % RECEIVERS:02d}",
                "status": STATUSES[(i // RECEIVERS) % len(STATUSES)],
                "created_at": EPOCH + timedelta(seconds=i),
                "pad": pad,
            }
        )
    return docs


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


#: Two conditions either of which the document of a by-_id shape meets.
EITHER: list[dict[str, Any]] = [{"status": "sent"}, {"status": {"$ne": "sent"}}]


def shapes() -> dict[str, dict[str, Any]]:
    middle = EPOCH + timedelta(days=182)
    return {
        "overdue: $ne null + $lt (the service's)": {
            "filter": {"open_due": {"$ne": None, "$lt": middle}},
            "sort": [("open_due", ASCENDING), ("_id", ASCENDING)],
        },
        "overdue: $lt only": {
            "filter": {"open_due": {"$lt": middle}},
            "sort": [("open_due", ASCENDING), ("_id", ASCENDING)],
        },
        "overdue: $gte lowest + $lt (bounded both sides)": {
            "filter": {"open_due": {"$gte": EPOCH, "$lt": middle}},
            "sort": [("open_due", ASCENDING), ("_id", ASCENDING)],
        },
        "overdue: $ne null + $lt, hint by_open_due": {
            "filter": {"open_due": {"$ne": None, "$lt": middle}},
            "sort": [("open_due", ASCENDING), ("_id", ASCENDING)],
            "hint": "by_open_due",
        },
        "overdue: $lt, no sort": {"filter": {"open_due": {"$lt": middle}}},
        "overdue: $lt, limit 1": {
            "filter": {"open_due": {"$lt": middle}},
            "sort": [("open_due", ASCENDING), ("_id", ASCENDING)],
            "limit": 1,
        },
        "narrow window: 2 days of keys (~0.5 %)": {
            "filter": {"open_due": {"$gte": EPOCH, "$lt": EPOCH + timedelta(days=2)}},
            "sort": [("open_due", ASCENDING), ("_id", ASCENDING)],
        },
        "empty range: $lt below every key": {
            "filter": {"open_due": {"$lt": EPOCH - timedelta(days=1)}},
            "sort": [("open_due", ASCENDING), ("_id", ASCENDING)],
        },
        "receiver: point bounds, sort created_at": {
            "filter": {"receiver_id": "agency-07", "status": "sent"},
            "sort": [("created_at", ASCENDING), ("_id", ASCENDING)],
        },
        # One document by _id beside a top-level $or (an outbox claim's "no live lease"),
        # then the same condition inside $and: the first reads the whole collection.
        "by _id beside a top-level $or": {"filter": {"_id": "r00000007", "$or": EITHER}},
        "by _id, the $or inside $and": {"filter": {"_id": "r00000007", "$and": [{"$or": EITHER}]}},
    }


def examined(coll: Any, shape: dict[str, Any]) -> str:
    limit = shape.get("limit", PAGE)
    command: dict[str, Any] = {"find": coll.name, "filter": shape["filter"], "limit": limit}
    if "sort" in shape:
        command["sort"] = dict(shape["sort"])
    if "hint" in shape:
        command["hint"] = shape["hint"]
    try:
        plan = coll.database.command({"explain": command, "verbosity": "executionStats"})
    except Exception as exc:  # a server without executionStats
        return f"explain failed: {exc}"
    stats = plan.get("executionStats") or {}
    winning = (plan.get("queryPlanner") or {}).get("winningPlan") or {}
    stages = []
    stage: dict[str, Any] | None = winning
    while stage:
        stages.append(str(stage.get("stage")))
        stage = stage.get("inputStage")
    return (
        f"keys {stats.get('totalKeysExamined', '?')}, docs {stats.get('totalDocsExamined', '?')}, "
        f"returned {stats.get('nReturned', '?')}, plan {'>'.join(stages)}"
    )


def fetch_page(coll: Any, shape: dict[str, Any]) -> float:
    """One page of ``shape`` (its filter, sort, hint and limit); returns milliseconds."""
    cursor = coll.find(shape["filter"], limit=shape.get("limit", PAGE))
    if "sort" in shape:
        cursor = cursor.sort(shape["sort"])
    if "hint" in shape:
        cursor = cursor.hint(shape["hint"])
    started = time.perf_counter()
    got = list(cursor)
    elapsed = (time.perf_counter() - started) * 1000
    assert len(got) <= PAGE
    return elapsed


def time_shape(coll: Any, shape: dict[str, Any]) -> tuple[float, float]:
    laps = [fetch_page(coll, shape) for _ in range(REPEATS + 3)]
    laps = laps[3:]  # warm-up
    return percentile(laps, 50), percentile(laps, 95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url", default=os.environ.get("LIANDONG_TEST_MONGO_URL", "mongodb://127.0.0.1:27017")
    )
    parser.add_argument("--sizes", default="5000,50000")
    parser.add_argument("--pad", type=int, default=1000, help="bytes of padding per document")
    args = parser.parse_args()
    client: MongoClient[dict[str, Any]] = MongoClient(args.url)
    name = f"repro_walk_{uuid.uuid4().hex[:8]}"
    coll = client[name]["docs"]
    coll.create_index([("open_due", ASCENDING), ("_id", ASCENDING)], name="by_open_due")
    coll.create_index(
        [("receiver_id", 1), ("status", 1), ("created_at", 1), ("_id", 1)], name="by_receiver"
    )
    server = client.server_info().get("version", "?")
    print(
        f"server {args.url} version {server}; pages of {PAGE}, {REPEATS} repeats; "
        f"load average {os.getloadavg()}"
    )
    loaded = 0
    pad = "x" * args.pad
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            started = time.perf_counter()
            while loaded < size:
                n = min(2000, size - loaded)
                coll.insert_many(documents(loaded, n, pad), ordered=False)
                loaded += n
            print(f"\n== {size:,} documents (loaded in {time.perf_counter() - started:.0f} s)")
            for label, shape in shapes().items():
                p50, p95 = time_shape(coll, shape)
                print(
                    f"{label:48s} p50 {p50:8.2f} ms  p95 {p95:8.2f} ms  | {examined(coll, shape)}"
                )
    finally:
        client.drop_database(name)
        client.close()


if __name__ == "__main__":
    main()
