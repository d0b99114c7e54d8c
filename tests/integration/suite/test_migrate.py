"""Issue 19: ``liandong migrate <service>`` builds a service's indexes without serving (the
Kubernetes Job ``migrate-<service>`` runs it before a rollout, so index builds stay out of
the startup probe's window)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kernel.settings import Settings
from kernel.store import DuplicateKeyError
from kernel.wiring import open_store
from liandong.cli import app
from liandong.migrate_cli import (
    MARKER_COLLECTION,
    MARKER_ID,
    code_fingerprint,
    migrate,
    wait_for_migration,
)
from tests.infra import Server


async def test_issue_19_migrate_builds_the_indexes_before_any_start(
    tmp_path: Path, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIANDONG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LIANDONG_INSTANCE", unique_name)
    monkeypatch.setenv("LIANDONG_STORE", "embedded")
    assert await migrate("notify") > 0
    store = await open_store(Settings(), "notify")
    try:
        record = store.collection("process_record")
        await record.insert_one({"_id": "a", "district": "fuyuan", "seq": 1})
        # The unique index the chain relies on exists although notify never started.
        with pytest.raises(DuplicateKeyError):
            await record.insert_one({"_id": "b", "district": "fuyuan", "seq": 1})
    finally:
        await store.close()
    assert await migrate("notify") > 0  # idempotent


async def test_issue_19_wait_returns_only_once_this_release_is_migrated(
    tmp_path: Path, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Deployments' init container (`liandong migrate SERVICE --wait`) holds the pods
    until the migrate Job of the same code has recorded its completion marker; a marker of
    another release does not count."""
    monkeypatch.setenv("LIANDONG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LIANDONG_INSTANCE", unique_name)
    monkeypatch.setenv("LIANDONG_STORE", "embedded")
    assert not await wait_for_migration("coordination", within=0.3, interval=0.1)
    waiting = asyncio.create_task(wait_for_migration("coordination", within=30, interval=0.1))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    await migrate("coordination")
    assert await asyncio.wait_for(waiting, 10)
    # A marker left by an older release: the new pods wait again.
    store = await open_store(Settings(), "coordination")
    try:
        await store.collection(MARKER_COLLECTION).update_one(
            {"_id": MARKER_ID}, {"$set": {"fingerprint": "an older release"}}
        )
    finally:
        await store.close()
    assert not await wait_for_migration("coordination", within=0.3, interval=0.1)
    assert code_fingerprint("coordination") != code_fingerprint("notify")


def test_issue_19_the_wait_command_fails_after_its_timeout(
    tmp_path: Path, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIANDONG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LIANDONG_INSTANCE", unique_name)
    monkeypatch.setenv("LIANDONG_STORE", "embedded")
    result = CliRunner().invoke(app, ["migrate", "referral", "--wait", "--timeout", "0.2"])
    assert result.exit_code == 1
    assert "job/migrate-referral" in result.output


# The indexes session 7 replaced (built by the code at d827957, missing from today's):
# (collection, name, keys). Their drop is part of the migration (issue 21, item 5).
REPLACED = {
    "coordination": [
        ("assistance_requests", "by_requester", [("requester_id", 1), ("_id", 1)]),
        ("assistance_requests", "by_helper", [("helper_id", 1), ("_id", 1)]),
        ("technical_support_requests", "by_township", [("township_id", 1), ("_id", 1)]),
        ("technical_support_requests", "by_department", [("department_id", 1), ("_id", 1)]),
        ("information_queries", "by_requester", [("requester_id", 1), ("_id", 1)]),
        ("information_queries", "by_holder", [("holder_id", 1), ("_id", 1)]),
        ("disputes", "by_party", [("parties", 1), ("_id", 1)]),
        ("disputes", "by_status", [("status", 1), ("_id", 1)]),
    ],
    "notify": [
        ("deadlines", "by_due", [("due", 1)]),
        ("ratings", "by_time", [("rated_at", 1)]),
    ],
}


@pytest.mark.infra
@pytest.mark.parametrize("service", sorted(REPLACED))
async def test_issue_21_migrate_drops_the_indexes_an_earlier_release_left(
    service: str,
    unique_name: str,
    monkeypatch: pytest.MonkeyPatch,
    mongo_server: Server,
) -> None:
    """On the real server: a database migrated by the older release still has the replaced
    indexes; the migration drops them, keeps every index today's code declares, leaves an
    index that only shares a replaced one's name (other keys) alone, and runs again
    without error (idempotent)."""
    from pymongo import AsyncMongoClient

    monkeypatch.setenv("LIANDONG_INSTANCE", unique_name)
    monkeypatch.setenv("LIANDONG_STORE", "mongo")
    monkeypatch.setenv("LIANDONG_MONGO_URL", mongo_server.url)
    database = Settings().database_name(service)
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongo_server.url)
    try:
        db = client[database]
        for collection, name, keys in REPLACED[service]:
            await db[collection].create_index(keys, name=name)
        # Same name as a replaced one, other keys: not ours to drop.
        await db["unrelated"].create_index([("due", 1), ("who", 1)], name="by_due")
        assert await migrate(service) > 0
        for collection, name, _ in REPLACED[service]:
            names = set((await db[collection].index_information()).keys())
            assert name not in names, f"{collection}.{name} is still there"
        assert "by_due" in await db["unrelated"].index_information()
        declared = {
            "coordination": ("disputes", "by_time"),
            "notify": ("deadlines", "by_due_key"),
        }[service]
        assert declared[1] in await db[declared[0]].index_information()
        assert await migrate(service) > 0  # again: nothing left to drop, no error
    finally:
        await client.drop_database(database)
        await client.close()
