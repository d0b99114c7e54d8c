"""``kernel.changes.ChangeSignal`` (issue 21): on MongoDB a write wakes the waiters of the
collection through the server's change stream; on the embedded store, which has none, a
wait is a plain pause and the callers' polling finds the write."""

from __future__ import annotations

import asyncio

from kernel.changes import ChangeSignal
from kernel.store import DocumentStore


async def test_an_insert_wakes_a_waiter_through_the_change_stream(
    mongo_store: DocumentStore,
) -> None:
    coll = mongo_store.collection("watched")
    signal = ChangeSignal(coll, {"operationType": "insert"})
    assert signal.streaming
    try:
        await signal.wait(0)  # opens the stream
        await asyncio.wait_for(signal.opened.wait(), 60)
        waiting = asyncio.create_task(signal.wait(3600))
        await asyncio.sleep(0.1)
        assert not waiting.done()
        await coll.insert_one({"_id": "x"})
        await asyncio.wait_for(waiting, 30)  # woken by the insert, not by the hour
    finally:
        await signal.close()


async def test_the_embedded_store_has_no_stream_and_a_wait_is_a_pause(
    embedded_store: DocumentStore,
) -> None:
    signal = ChangeSignal(embedded_store.collection("watched"), {"operationType": "insert"})
    assert not signal.streaming
    await signal.wait(0.01)
    await signal.close()
