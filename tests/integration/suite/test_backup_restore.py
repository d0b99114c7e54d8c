"""Issue 19: back up a district's databases, wipe them, restore, and find everything intact
— the referrals with their files (GridFS), the inbox, the full-process record and its chain
(``liandong audit verify``, against the checkpoint kept outside notify's database), and the
indexes (a unique index still refuses a duplicate after the restore).

MongoDB's database tools are not installable on this project's machines (no Debian package,
not on the Go module proxy), so the copy is ``liandong backup`` (driver-level, mongodump's
directory layout): it proves the procedure docs/operations.md gives, on the real
wire-protocol server. Production's CronJob runs ``mongodump --oplog`` with the same steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from kernel.audit_anchor import CheckpointKeeper
from kernel.envelope import Envelope
from kernel.outbox import AggregateCollection
from kernel.settings import Settings
from kernel.store import DuplicateKeyError
from kernel.wiring import open_store
from liandong.audit_cli import verify_anchored
from liandong.backup_cli import SERVICES, dump, restore
from notify.adapters.checkpoint_key import load_signer
from notify.adapters.record import RecordRepository
from notify.application.checkpoints import RecordCheckpoints
from tests.fixtures.records import numbered_entry
from tests.infra import Server

pytestmark = [pytest.mark.infra, pytest.mark.timeout(120)]
DISTRICT = "fuyuan"
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


async def _everything(settings: Settings) -> dict[str, dict[str, list[Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url)
    try:
        out: dict[str, dict[str, list[Any]]] = {}
        for service in SERVICES:
            db = client[settings.database_name(service)]
            out[service] = {
                name: await db[name].find({}, sort=[("_id", 1)]).to_list()
                for name in sorted(await db.list_collection_names())
            }
        return out
    finally:
        await client.close()


async def test_issue_19_backup_wipe_restore_verify(
    mongo_server: Server, tmp_path: Path, unique_name: str
) -> None:
    settings = Settings(
        store="mongo",
        mongo_url=mongo_server.url,
        instance=unique_name,
        district=DISTRICT,
        data_dir=tmp_path / "data",
    )
    referral = await open_store(settings, "referral")
    notify = await open_store(settings, "notify")
    try:
        # Referrals with a file (GridFS), inbox items, a record of 30 entries, a checkpoint.
        for i in range(5):
            await referral.collection("referrals").insert_one(
                {"_id": f"r-{i}", "status": "sent", "receiver_id": "fy-hancong", "version": 1}
            )
        stored = await referral.files().put(
            "移送函 第1号".encode() * 2000, filename="letter.pdf", media_type="application/pdf"
        )
        for i in range(4):
            await notify.collection("inbox").insert_one(
                {"_id": f"i-{i}", "agency_id": "fy-hancong", "title": f"通知{i}", "at": T0}
            )
        records = RecordRepository(notify)
        await records.ensure_indexes()
        for n in range(1, 31):
            await records.append(
                numbered_entry(
                    n, start=T0, district=DISTRICT, type="referral.sent.v1", subject=f"r-{n % 5}"
                )
            )
        outbox = AggregateCollection(notify.collection("record_checkpoints"))
        await RecordCheckpoints(
            records, outbox, load_signer(settings), DISTRICT, lambda: T0, timedelta(minutes=5)
        ).run_once()
        (doc,) = await outbox.collection.find({})
        keeper = CheckpointKeeper(referral)
        await keeper.ensure_indexes()
        await keeper.when_record_checkpointed_keep_it(Envelope.from_document(doc["outbox"][0]))
    finally:
        await referral.close()
        await notify.close()
    before = await _everything(settings)
    assert len(before["referral"]["referrals"]) == 5 and before["referral"]["files.chunks"]

    counts = await dump(settings, tmp_path / "backup")
    assert counts[settings.database_name("notify")] >= 30 + 4
    # The volume is lost.
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url)
    for service in SERVICES:
        await client.drop_database(settings.database_name(service))
    assert (await _everything(settings))["notify"] == {}
    # A restore refuses to mix into data already there... and restores into the wiped ones.
    await restore(settings, tmp_path / "backup")
    with pytest.raises(RuntimeError, match="not empty"):
        await restore(settings, tmp_path / "backup")
    try:
        assert await _everything(settings) == before
        report, checkpoint, problem = await verify_anchored(settings)
        assert problem is None and report.count == 30
        assert checkpoint is not None and checkpoint.seq == 30
        referral = await open_store(settings, "referral")
        notify = await open_store(settings, "notify")
        try:
            assert await referral.files().read(stored.id) == "移送函 第1号".encode() * 2000
            # The unique index on the chain came back: a second entry seq 30 is refused.
            last = await notify.collection("process_record").find_one({"seq": 30})
            assert last is not None
            with pytest.raises(DuplicateKeyError):
                await notify.collection("process_record").insert_one({**last, "_id": "dup"})
        finally:
            await referral.close()
            await notify.close()
    finally:
        for service in SERVICES:
            await client.drop_database(settings.database_name(service))
        await client.close()
