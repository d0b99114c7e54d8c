"""Issue 19: ``liandong migrate <service>`` builds a service's indexes without serving (the
Kubernetes Job ``migrate-<service>`` runs it before a rollout, so index builds stay out of
the startup probe's window)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel.settings import Settings
from kernel.store import DuplicateKeyError
from kernel.wiring import open_store
from liandong.migrate_cli import migrate


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
