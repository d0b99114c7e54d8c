"""Issue 16, finding 8: the full-process record (R-SUP-01) anchored outside notify's
database. Notify signs checkpoints of its chain's head; the referral and coordination
services keep them; ``liandong audit verify`` holds the chain against the latest one.

Rewriting the chain from an edit onward (every later hash recomputed) or cutting it short
leaves a chain that verifies on its own — that was the finding: ``audit verify`` said OK.
Against the checkpoint both are named, and so is a forged checkpoint copy."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kernel.audit_anchor import CheckpointKeeper
from kernel.envelope import Envelope
from kernel.outbox import AggregateCollection
from kernel.settings import Settings
from kernel.wiring import open_store
from liandong.audit_cli import verify_anchored
from liandong.cli import app
from notify.adapters.checkpoint_key import load_signer
from notify.adapters.record import RecordRepository, _to_document
from notify.application.checkpoints import RecordCheckpoints
from notify.domain.record import RecordEntry, chained
from tests.fixtures.clock import MovableClock
from tests.fixtures.records import numbered_entry
from tests.fixtures.settings import embedded_settings

DISTRICT = "fuyuan"
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _entry(n: int) -> RecordEntry:
    data = {"referral_id": f"referral-{n}", "actor_id": f"p-{n}", "fine_yuan": 5000 + n}
    return numbered_entry(n, start=T0, district=DISTRICT, data=data)


class Clock(MovableClock):
    def __init__(self) -> None:
        super().__init__(T0 + timedelta(hours=1))


async def _district(settings: Settings, entries: int) -> list[RecordEntry]:
    """``entries`` entries in notify's record, one checkpoint of them kept by referral."""
    notify = await open_store(settings, "notify")
    referral = await open_store(settings, "referral")
    try:
        records = RecordRepository(notify)
        await records.ensure_indexes()
        appended = [e for i in range(1, entries + 1) if (e := await records.append(_entry(i)))]
        clock = Clock()
        outbox = AggregateCollection(notify.collection("record_checkpoints"))
        checkpoints = RecordCheckpoints(
            records, outbox, load_signer(settings), DISTRICT, clock, timedelta(minutes=5)
        )
        await checkpoints.run_once()
        await checkpoints.run_once()  # the head has not moved: no second checkpoint
        docs = await outbox.collection.find({})
        assert [d["seq"] for d in docs] == [entries]
        (event,) = docs[0]["outbox"]
        envelope = Envelope.from_document(event)
        assert envelope.type == "record.checkpointed.v1" and envelope.service == "notify"
        keeper = CheckpointKeeper(referral)
        await keeper.ensure_indexes()
        await keeper.when_record_checkpointed_keep_it(envelope)
        await keeper.when_record_checkpointed_keep_it(envelope)  # redelivered
        assert len(await keeper.latest(DISTRICT)) == 1
        return appended
    finally:
        await notify.close()
        await referral.close()


@pytest.fixture
def settings(tmp_path: Path, unique_name: str) -> Settings:
    return Settings(store="embedded", data_dir=tmp_path, instance=unique_name, district=DISTRICT)


async def _chain_alone(settings: Settings) -> Any:
    store = await open_store(settings, "notify")
    try:
        return await RecordRepository(store).verify(DISTRICT)
    finally:
        await store.close()


async def test_issue_16_R_SUP_01_an_untouched_record_agrees_with_its_checkpoint(
    settings: Settings,
) -> None:
    await _district(settings, 6)
    report, checkpoint, problem = await verify_anchored(settings)
    assert problem is None and report.count == 6
    assert checkpoint is not None and checkpoint.seq == 6 and checkpoint.head == report.head


async def test_issue_16_R_SUP_01_a_rewrite_from_an_edit_onward_is_detected(
    settings: Settings,
) -> None:
    """Failed before: the re-hashed chain verified and `audit verify` printed OK."""
    entries = await _district(settings, 8)
    store = await open_store(settings, "notify")
    try:
        coll = store.collection("process_record")
        prev = entries[2].hash  # seq 3 stays; seq 4 is edited, 4..8 re-hashed
        for e in entries[3:]:
            payload = {**e.payload, "fine_yuan": 1} if e.seq == 4 else e.payload
            rewritten = chained(replace(e, payload=payload), e.seq, prev)
            doc = _to_document(rewritten)
            doc.pop("_id")
            await coll.update_one({"_id": e.event_id}, {"$set": doc})
            prev = rewritten.hash
    finally:
        await store.close()
    assert (await _chain_alone(settings)).ok  # the chain alone cannot tell
    _, _, problem = await verify_anchored(settings)
    assert problem is not None and problem.startswith("rewritten: entry seq 8"), problem
    env = {
        "LIANDONG_STORE": "embedded",
        "LIANDONG_DATA_DIR": str(settings.data_dir),
        "LIANDONG_INSTANCE": settings.instance,
        "LIANDONG_DISTRICT": DISTRICT,
    }
    done = await asyncio.to_thread(CliRunner().invoke, app, ["audit", "verify"], env=env)
    assert done.exit_code == 1, done.output
    assert done.stdout.startswith("BROKEN") and "rewritten" in done.stdout, done.stdout


async def test_issue_16_R_SUP_01_a_truncated_record_is_detected(settings: Settings) -> None:
    """Failed before: a chain cut after seq 5 verified as 5 good entries."""
    entries = await _district(settings, 8)
    store = await open_store(settings, "notify")
    try:
        for e in entries[5:]:
            await store.collection("process_record").delete_one({"_id": e.event_id})
    finally:
        await store.close()
    assert (await _chain_alone(settings)).ok
    report, _, problem = await verify_anchored(settings)
    assert report.count == 5
    assert problem is not None and problem.startswith("truncated: the chain ends at seq 5"), problem


async def test_issue_16_R_SUP_01_a_forged_checkpoint_copy_is_named(settings: Settings) -> None:
    """Someone with a peer's database (or notify's bus credentials) plants a checkpoint that
    vouches for a rewritten head: its signature does not verify."""
    await _district(settings, 3)
    referral = await open_store(settings, "referral")
    try:
        await referral.collection("audit_checkpoints").insert_one(
            {
                "_id": "forged",
                "district": DISTRICT,
                "seq": 3,
                "head": "f" * 64,
                "checkpointed_at": T0,
                "key_id": load_signer(settings).key_id,
                "signature": "AAAA",
            }
        )
    finally:
        await referral.close()
    _, _, problem = await verify_anchored(settings)
    assert problem is not None and problem.startswith("forged checkpoint"), problem


async def test_issue_16_R_SUP_01_the_running_suite_anchors_its_record(
    tmp_path: Path, unique_name: str
) -> None:
    """The wiring end to end (embedded topology, one bus): the demo district's agency
    registrations fill notify's record, notify's worker signs and publishes a checkpoint,
    referral and coordination keep it, and ``audit verify`` agrees with it."""
    from liandong.suite import build_suite

    settings = embedded_settings(
        tmp_path, unique_name, district=DISTRICT, audit_checkpoint_seconds=0.2
    )
    suite = await build_suite(settings)
    await suite.start()
    try:
        keepers = [
            CheckpointKeeper(suite.services[name].runtime.store)
            for name in ("referral", "coordination")
        ]
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            kept = [await k.latest(DISTRICT, limit=1) for k in keepers]
            if all(kept):
                break
            assert asyncio.get_running_loop().time() < deadline, "no checkpoint was kept"
            await asyncio.sleep(0.1)
    finally:
        await suite.stop()
    report, checkpoint, problem = await verify_anchored(settings)
    assert problem is None, problem
    assert checkpoint is not None and 0 < checkpoint.seq <= report.count
