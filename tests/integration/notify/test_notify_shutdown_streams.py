"""A stopping notify closes the change streams it follows (the inbox's and the deadlines'
for live subscriptions, the inbox's for its first-page cache, the webhook subscriptions' for
the fan-out's cache): left open, their
tasks outlive the store they read, and at the process's end asyncio cancels them once,
which a getMore may swallow (kernel.tasks)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kernel.wiring import build_deps
from notify.bootstrap import bootstrap
from tests.fixtures.settings import mongo_settings
from tests.infra import Server


async def test_stopping_notify_closes_the_inbox_deadline_and_webhook_streams(
    mongo_server: Server, tmp_path: Path, unique_name: str
) -> None:
    settings = mongo_settings(tmp_path, unique_name, mongo_server)
    service = bootstrap(await build_deps(settings, "notify"), run_workers=False)
    await service.runtime.start()
    # The webhook fan-out's stream too, although no delivery worker ran (run_workers=False):
    # left open, it outlived its store and logged a broken stream every second.
    signals = (
        service.inbox.changes,
        service.inbox.page_changes,
        service.deadlines.changes,
        service.webhooks.repo.changes,
    )
    try:
        for signal in signals:
            signal.follow()  # as a live subscription does
            await asyncio.wait_for(signal.opened.wait(), 30)
            assert signal.live
    finally:
        await service.runtime.stop()
        from pymongo import AsyncMongoClient

        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(settings.mongo_url)
        await client.drop_database(settings.database_name("notify"))
        await client.close()
    for signal in signals:
        assert signal.closed
        assert not signal.live
