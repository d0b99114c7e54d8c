"""What the adapter does differently on FerretDB v1, watched through the commands it sends
to the real server.

FerretDB pushes only a filter of exactly ``{"_id": "<string>"}`` down to its storage; any
other filter makes it read and decode the whole collection. The adapter therefore answers
every request that pins one ``_id`` (the outbox's versioned writes, the relay's claims, the
re-check under a write lock) with by-``_id`` reads and evaluates the rest of the filter
itself. And since its SQLite backend writes one transaction at a time per database, the
adapter sends one write at a time instead of letting writers sleep in SQLite's busy handler.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring

from kernel.adapters.mongo_store import LOCKS_COLLECTION, MongoStore
from tests.infra import Server

WRITES = {"insert", "update", "delete", "findAndModify"}


class Recorder(monitoring.CommandListener):
    def __init__(self, database: str) -> None:
        self.database = database
        self.filters: list[tuple[str, str, Any]] = []  # (command, collection, filter)
        self.writes_in_flight: set[int] = set()
        self.most_writes_in_flight = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.database_name != self.database:
            return
        cmd = event.command
        name = event.command_name
        if name in WRITES:
            self.writes_in_flight.add(event.request_id)
            self.most_writes_in_flight = max(self.most_writes_in_flight, len(self.writes_in_flight))
        if name in ("find", "count", "aggregate"):
            self.filters.append((name, cmd[name], cmd.get("filter", cmd.get("query", {}))))
        elif name in ("update", "delete"):
            key = "updates" if name == "update" else "deletes"
            for op in cmd.get(key, []):
                self.filters.append((name, cmd[name], op["q"]))
        elif name == "findAndModify":
            self.filters.append((name, cmd[name], cmd.get("query", {})))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self.writes_in_flight.discard(event.request_id)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self.writes_in_flight.discard(event.request_id)


@pytest.fixture
async def watched(
    mongo_server: Server, unique_name: str
) -> AsyncIterator[tuple[MongoStore, Recorder]]:
    recorder = Recorder(unique_name)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_server.url, tz_aware=True, event_listeners=[recorder]
    )
    store = MongoStore(client, unique_name, where="test", ferretdb_compat=True)
    yield store, recorder
    await client.drop_database(unique_name)
    await client.close()


def _data_filters(recorder: Recorder) -> list[tuple[str, Any]]:
    return [(cmd, f) for cmd, coll, f in recorder.filters if coll != LOCKS_COLLECTION]


async def test_writes_and_reads_pinned_to_one_id_reach_the_server_as_id_only_filters(
    watched: tuple[MongoStore, Recorder],
) -> None:
    store, recorder = watched
    coll = store.collection("aggregates")
    await coll.insert_many(
        [{"_id": f"d{i:02d}", "version": 1, "outbox_n": i % 2, "x": 0} for i in range(40)]
    )
    recorder.filters.clear()

    assert await coll.update_one({"_id": "d07", "version": 1}, {"$set": {"x": 1, "version": 2}})
    assert await coll.update_one({"_id": "d07", "version": 1}, {"$set": {"x": 2}}) == 0
    claimed = await coll.find_one_and_update(
        {"_id": "d07", "outbox_n": {"$gt": 0}, "$or": [{"lease": None}, {"lease": {"$lt": 5}}]},
        {"$set": {"lease": 9}},
    )
    assert claimed is not None and claimed["lease"] == 9 and claimed["x"] == 1
    assert (
        await coll.find_one_and_update({"_id": "d08", "outbox_n": {"$gt": 0}}, {"$set": {"y": 1}})
        is None
    )
    assert await coll.find({"_id": "d07", "x": 1}, projection=["lease"]) == [
        {"_id": "d07", "lease": 9}
    ]
    assert await coll.find_one({"_id": "d07", "x": 2}) is None
    assert await coll.count({"_id": "d09", "outbox_n": 1}) == 1
    assert await coll.delete_one({"_id": "d09", "x": 1}) == 0
    assert await coll.delete_one({"_id": "d09", "x": 0}) == 1

    sent = _data_filters(recorder)
    assert sent, "nothing was recorded"
    not_pinned = [(cmd, f) for cmd, f in sent if set(f) != {"_id"} or len(f) != 1]
    assert not_pinned == [], f"filters that make FerretDB scan the collection: {not_pinned}"
    assert await coll.count({}) == 39


async def test_filters_without_an_id_still_go_to_the_server(
    watched: tuple[MongoStore, Recorder],
) -> None:
    store, recorder = watched
    coll = store.collection("aggregates")
    await coll.insert_many([{"_id": f"d{i}", "x": i % 3} for i in range(9)])
    recorder.filters.clear()
    assert await coll.update_many({"x": 1}, {"$inc": {"x": 10}}) == 3
    assert sorted(d["_id"] for d in await coll.find({"x": 11})) == ["d1", "d4", "d7"]
    # One scan to find the matches, then by-id reads and writes under each document's lock.
    scans = [f for cmd, f in _data_filters(recorder) if set(f) != {"_id"}]
    assert scans == [{"x": 1}, {"x": 11}]


async def test_writes_of_one_database_take_turns(watched: tuple[MongoStore, Recorder]) -> None:
    store, recorder = watched
    coll = store.collection("aggregates")
    await asyncio.gather(*(coll.insert_one({"_id": f"d{i:02d}", "n": i}) for i in range(30)))
    await asyncio.gather(
        *(coll.update_one({"_id": f"d{i:02d}", "n": i}, {"$inc": {"n": 100}}) for i in range(30))
    )
    assert recorder.most_writes_in_flight == 1
    assert sorted(d["n"] for d in await coll.find({})) == list(range(100, 130))
