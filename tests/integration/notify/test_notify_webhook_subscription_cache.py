"""The fan-out's cache of active webhook subscriptions (issue 21, item 3; R-NTF-04: a bureau
receives the events addressed to it through its webhook).

Two ``WebhookRepository`` objects stand for two notify replicas. On MongoDB each has its own
client (as two processes would) and the other's writes reach it through the change stream,
well within ``ACTIVE_TTL``; on the embedded store (no change stream) the bound itself is what
holds, shown with a movable monotonic clock. Each repository's own writes show at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kernel.adapters.mongo_store import open_mongo_store
from kernel.store import DocumentStore
from notify.adapters.webhooks import WebhookRepository
from tests.fixtures.waiting import until as within
from tests.infra import Server

pytestmark = pytest.mark.timeout(60)

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def subscription(sub_id: str) -> dict[str, Any]:
    return {
        "_id": sub_id,
        "owner_agency_id": "fy-hancong",
        "url": f"https://hancong.example/{sub_id}",
        "active": True,
        "created_at": AT,
    }


class Reads:
    """Counts the finds a repository sends for its active subscriptions."""

    def __init__(self, repo: WebhookRepository) -> None:
        self.count = 0
        inner = repo.subscriptions.find

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return await inner(*args, **kwargs)

        repo.subscriptions.find = counted  # type: ignore[method-assign]


async def active_ids(repo: WebhookRepository) -> list[str]:
    return [str(d["_id"]) for d in await repo.active_subscriptions()]


async def test_R_NTF_04_mongo_another_replicas_added_and_removed_subscription_show_within_the_bound(
    mongo_server: Server, unique_name: str
) -> None:
    writer_store = await open_mongo_store(mongo_server.url, unique_name)
    reader_store = await open_mongo_store(mongo_server.url, unique_name)
    writer, reader = WebhookRepository(writer_store), WebhookRepository(reader_store)
    try:
        reads = Reads(reader)
        assert await active_ids(reader) == []
        await asyncio.wait_for(reader._changes.opened.wait(), 10)
        assert await active_ids(reader) == []
        assert reads.count == 1  # the second read came from the cache

        await writer.add_subscription(subscription("wh-1"))
        assert await active_ids(writer) == ["wh-1"]  # its own write: at once

        async def seen() -> bool:
            return await active_ids(reader) == ["wh-1"]

        # Well inside ACTIVE_TTL: the change stream, not the bound, dropped the cache.
        await within(WebhookRepository.ACTIVE_TTL / 2, seen)

        await writer.deactivate("wh-1", AT, "admin")

        async def gone() -> bool:
            return await active_ids(reader) == []

        await within(WebhookRepository.ACTIVE_TTL / 2, gone)
    finally:
        await writer.stop_following()
        await reader.stop_following()
        await writer_store.drop_database()
        await writer_store.close()
        await reader_store.close()


async def test_R_NTF_04_embedded_another_repositorys_writes_show_after_the_bound_and_own_at_once(
    embedded_store: DocumentStore,
) -> None:
    now = [100.0]
    writer = WebhookRepository(embedded_store, monotonic=lambda: now[0])
    reader = WebhookRepository(embedded_store, monotonic=lambda: now[0])
    reads = Reads(reader)
    assert await active_ids(reader) == []
    await writer.add_subscription(subscription("wh-1"))
    assert await active_ids(writer) == ["wh-1"]  # own write: at once
    reads.count = 0  # one embedded store: the writer's reads went through the same find
    now[0] += WebhookRepository.ACTIVE_TTL - 0.01  # just inside the bound: still cached
    assert await active_ids(reader) == []
    assert reads.count == 0
    now[0] += 0.02  # just past it
    assert await active_ids(reader) == ["wh-1"]
    assert reads.count == 1

    await writer.deactivate("wh-1", AT, "admin")
    assert await active_ids(writer) == []
    now[0] += WebhookRepository.ACTIVE_TTL
    assert await active_ids(reader) == []


async def test_R_NTF_04_a_read_that_overlaps_an_own_write_is_not_kept(
    embedded_store: DocumentStore, tmp_path: Path
) -> None:
    """A read started before this process's write and answered after it must not be
    cached as current: the next call reads again."""
    repo = WebhookRepository(embedded_store, monotonic=lambda: 0.0)
    inner = repo.subscriptions.find
    release = asyncio.Event()

    async def slow(*args: Any, **kwargs: Any) -> Any:
        found = await inner(*args, **kwargs)
        await release.wait()
        return found

    repo.subscriptions.find = slow  # type: ignore[method-assign]
    stale = asyncio.create_task(repo.active_subscriptions())
    await asyncio.sleep(0.05)
    repo.subscriptions.find = inner  # type: ignore[method-assign]
    await repo.add_subscription(subscription("wh-2"))
    release.set()
    assert await stale == []
    assert await active_ids(repo) == ["wh-2"]
