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
