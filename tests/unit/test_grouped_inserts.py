"""Issue 21 (P3, session 10): the group commit of concurrent inserts
(``kernel.adapters.mongo_writes.GroupedInserts``) — one command in flight per collection, a
busy collection's next command gathers for ``INSERT_LINGER`` after the previous one left,
and a caller inserting one document after another never waits. A fake collection stands in
for PyMongo's (the real server's side is tests/contract/test_store_contract.py)."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from kernel.adapters.mongo_writes import INSERT_LINGER, GroupedInserts
from kernel.store import DuplicateKeyError


class FakeCollection:
    """Records each command (its documents and when it left); a command takes ``rtt``."""

    def __init__(self, rtt: float = 0.0) -> None:
        self.rtt = rtt
        self.commands: list[tuple[float, list[str]]] = []
        self.ids: set[str] = set()

    async def _command(self, docs: list[dict[str, Any]]) -> None:
        self.commands.append((asyncio.get_running_loop().time(), [d["_id"] for d in docs]))
        await asyncio.sleep(self.rtt)

    async def insert_one(self, doc: dict[str, Any]) -> None:
        await self._command([doc])
        if doc["_id"] in self.ids:
            from pymongo.errors import DuplicateKeyError as MongoDuplicate

            raise MongoDuplicate("E11000 duplicate key")
        self.ids.add(doc["_id"])

    async def insert_many(self, docs: list[dict[str, Any]], ordered: bool) -> None:
        assert not ordered
        await self._command(docs)
        self.ids.update(d["_id"] for d in docs)


def grouped(rtt: float = 0.0) -> tuple[GroupedInserts, FakeCollection]:
    fake = FakeCollection(rtt)
    return GroupedInserts(fake, "fake"), fake  # type: ignore[arg-type]


async def test_sequential_inserts_go_at_once_one_command_each() -> None:
    """Nothing waits while a caller's own command flies, so nothing lingers: 20 inserts one
    after another take 20 commands and far less than 20 × ``INSERT_LINGER``."""
    inserts, fake = grouped()
    loop = asyncio.get_running_loop()
    started = loop.time()
    for n in range(20):
        await inserts.insert({"_id": f"d{n}"})
    assert [ids for _, ids in fake.commands] == [[f"d{n}"] for n in range(20)]
    assert loop.time() - started < 5 * INSERT_LINGER


async def test_a_burst_while_a_command_flies_goes_as_one_command() -> None:
    """Fails with two commands in flight (before session 10): the second caller's document
    left alone at once instead of with the burst."""
    inserts, fake = grouped(rtt=0.002)
    first = asyncio.create_task(inserts.insert({"_id": "first"}))
    await asyncio.sleep(0)  # the first command is in flight
    rest = [asyncio.create_task(inserts.insert({"_id": f"d{n}"})) for n in range(50)]
    await asyncio.gather(first, *rest)
    assert [ids for _, ids in fake.commands] == [["first"], [f"d{n}" for n in range(50)]]
    assert fake.ids == {"first", *(f"d{n}" for n in range(50))}


async def test_a_busy_collection_sends_at_most_one_command_per_linger() -> None:
    """A steady stream of concurrent callers (a new one every millisecond, as a consumer's
    deliveries come): consecutive commands leave at least ``INSERT_LINGER`` apart (just
    inside: 0.9 of it, for the loop's clock), and every document lands exactly once. Fails
    with two commands in flight and no linger (before session 10): one command per 1-2
    documents."""
    inserts, fake = grouped(rtt=0.001)
    callers = []
    for n in range(60):
        callers.append(asyncio.create_task(inserts.insert({"_id": f"d{n}"})))
        await asyncio.sleep(0.001)
    await asyncio.gather(*callers)
    times = [t for t, _ in fake.commands]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps and min(gaps) >= 0.9 * INSERT_LINGER
    sent = [i for _, ids in fake.commands for i in ids]
    assert sorted(sent) == sorted(f"d{n}" for n in range(60))
    assert len(fake.commands) <= 60 // 4  # documents shared commands


async def test_a_caller_cancelled_while_its_document_waits_is_not_inserted() -> None:
    inserts, fake = grouped(rtt=0.002)
    first = asyncio.create_task(inserts.insert({"_id": "first"}))
    await asyncio.sleep(0)
    kept = asyncio.create_task(inserts.insert({"_id": "kept"}))
    dropped = asyncio.create_task(inserts.insert({"_id": "dropped"}))
    await asyncio.sleep(0)
    dropped.cancel()
    await asyncio.gather(first, kept)
    with pytest.raises(asyncio.CancelledError):
        await dropped
    assert fake.ids == {"first", "kept"}


async def test_each_caller_still_gets_its_own_duplicate_error() -> None:
    inserts, fake = grouped()
    await inserts.insert({"_id": "taken"})
    with pytest.raises(DuplicateKeyError):
        await inserts.insert({"_id": "taken"})
    await inserts.insert({"_id": "free"})
    assert fake.ids == {"taken", "free"}
