"""The outbox's pending index (issue 21, session 13): only the aggregates with events pending
are indexed, and a release that finds the full index of earlier releases replaces it."""

from __future__ import annotations

from typing import Any

from kernel.adapters.mongo_store import MongoStore
from kernel.aggregates import PENDING, PENDING_INDEX
from kernel.envelope import EventPayload, new_envelope
from kernel.outbox import AggregateCollection
from kernel.store import DocumentStore


class Noted(EventPayload):
    event_type = "test.noted.v1"


def _stages(plan: dict[str, Any]) -> list[dict[str, Any]]:
    stages = [plan]
    while "inputStage" in stages[-1]:
        stages.append(stages[-1]["inputStage"])
    return stages


async def test_the_full_index_of_earlier_releases_is_replaced_by_a_partial_one(
    mongo_store: DocumentStore,
) -> None:
    assert isinstance(mongo_store, MongoStore)
    coll = mongo_store.collection("counters")
    await coll.create_index([("outbox_n", 1)], name="outbox_pending")  # as releases before
    agg = AggregateCollection(coll)
    await agg.ensure_indexes()
    await agg.ensure_indexes()  # each start runs it again
    raw = mongo_store.database["counters"]
    indexes = await raw.index_information()
    assert "outbox_pending" not in indexes
    assert indexes[PENDING_INDEX]["key"] == [("outbox_n", 1)]
    assert indexes[PENDING_INDEX]["partialFilterExpression"] == {"outbox_n": {"$gt": 0}}

    await agg.insert({"_id": "x"}, [new_envelope(Noted(), district="fuyuan", service="test")])
    await agg.insert({"_id": "y"}, [])
    explained = await mongo_store.database.command(
        "explain", {"find": "counters", "filter": PENDING}, verbosity="queryPlanner"
    )
    scans = [s for s in _stages(explained["queryPlanner"]["winningPlan"]) if s["stage"] == "IXSCAN"]
    assert [s["indexName"] for s in scans] == [PENDING_INDEX]
    assert [d["_id"] for d in await coll.find(PENDING)] == ["x"]


async def test_the_pending_index_is_replaced_on_the_embedded_store_too(
    embedded_store: DocumentStore,
) -> None:
    coll = embedded_store.collection("counters")
    await coll.create_index([("outbox_n", 1)], name="outbox_pending")
    await AggregateCollection(coll).ensure_indexes()
    assert await coll.drop_index("outbox_pending", [("outbox_n", 1)]) is False  # gone
    assert await coll.drop_index(PENDING_INDEX, [("outbox_n", 1)]) is True
