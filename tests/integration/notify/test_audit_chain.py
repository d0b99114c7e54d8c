"""The tamper-evident full-process record (R-SUP-01, 防篡改): a hash chain per district that
`liandong audit verify` checks, on the embedded store and on a MongoDB server. Editing one
stored entry behind the service's back is named exactly; concurrent appends from two
replicas leave a gapless chain."""

from __future__ import annotations

import asyncio
import itertools
import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from pymongo import AsyncMongoClient
from typer.testing import CliRunner

from kernel.adapters.mongo_store import open_mongo_store
from kernel.settings import Settings
from kernel.store import DocumentStore
from liandong.cli import app
from notify.adapters.record import RecordRepository
from notify.domain.record import GENESIS_HASH, RecordEntry, entry_hash
from tests.fixtures.records import numbered_entry
from tests.fixtures.stores import fresh_store
from tests.infra import Server

DISTRICT = "fuyuan"
T0 = datetime(2026, 11, 30, 9, 0, 0, 123456, tzinfo=UTC)


def entry(n: int, district: str = DISTRICT, event_id: str | None = None) -> RecordEntry:
    return numbered_entry(
        n,
        start=T0,
        district=district,
        event_id=event_id,
        data={
            "referral_id": f"referral-{n}",
            "sender_id": "fy-market",
            "receiver_id": "fy-hancong",
            "actor_id": f"person-{n}",
            "actor_agency_id": "fy-hancong",
            "state_before": "sent",
            "state_after": "accepted",
            "statement": f"受理 第{n}号",
            "deadlines": [{"kind": "report", "due": "2026-12-07T09:00:00+08:00"}],
            "fine_yuan": 5000 + n,
        },
    )


@dataclass
class Deployment:
    """A notify store of one kind, the settings that name it, and a raw editor that
    changes a stored entry without going through the service (the attacker's view)."""

    kind: str
    settings: Settings
    store: DocumentStore
    tamper: Callable[[str, Callable[[dict[str, Any]], None]], Any]

    def repo(self) -> RecordRepository:
        return RecordRepository(self.store)

    def cli(self, *args: str) -> Result:
        """``liandong audit verify`` as a user runs it: settings from the environment."""
        env = {
            "LIANDONG_STORE": self.settings.store,
            "LIANDONG_MONGO_URL": self.settings.mongo_url,
            "LIANDONG_DATA_DIR": str(self.settings.data_dir),
            "LIANDONG_INSTANCE": self.settings.instance,
            "LIANDONG_DISTRICT": self.settings.district,
        }
        return CliRunner().invoke(app, ["audit", "verify", *args], env=env)


@pytest.fixture
async def deployment(
    store_kind: str, request: pytest.FixtureRequest, tmp_path: Path, unique_name: str
) -> AsyncIterator[Deployment]:
    if store_kind == "embedded":
        settings = Settings(
            store="embedded", data_dir=tmp_path, instance=unique_name, district=DISTRICT
        )
    else:
        server: Server = request.getfixturevalue("mongo_server")
        settings = Settings(
            store="mongo", mongo_url=server.url, instance=unique_name, district=DISTRICT
        )
    db = settings.database_name("notify")
    async with fresh_store(store_kind, request, tmp_path / "store", db) as store:
        if store_kind == "embedded":
            path = tmp_path / "store" / f"{db}.sqlite3"

            def tamper_sqlite(event_id: str, change: Callable[[dict[str, Any]], None]) -> None:
                # Straight into the SQLite file, as someone with access to the disk would.
                with sqlite3.connect(path) as conn:
                    (text,) = conn.execute(
                        'SELECT doc FROM "c:process_record" WHERE id = ?', (event_id,)
                    ).fetchone()
                    doc = json.loads(text)
                    change(doc)
                    conn.execute(
                        'UPDATE "c:process_record" SET doc = ? WHERE id = ?',
                        (json.dumps(doc, ensure_ascii=False), event_id),
                    )

            async def tamper_embedded(
                event_id: str, change: Callable[[dict[str, Any]], None]
            ) -> None:
                await asyncio.to_thread(tamper_sqlite, event_id, change)

            d = Deployment("embedded", settings, store, tamper_embedded)
            await d.repo().ensure_indexes()
            yield d
            return
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            settings.mongo_url, tz_aware=True
        )

        async def tamper_mongo(event_id: str, change: Callable[[dict[str, Any]], None]) -> None:
            # Straight into the database with a plain driver, bypassing the service.
            coll = client[db]["process_record"]
            doc = await coll.find_one({"_id": event_id})
            assert doc is not None
            change(doc)
            await coll.replace_one({"_id": event_id}, doc)

        d = Deployment("mongo", settings, store, tamper_mongo)
        await d.repo().ensure_indexes()
        yield d
        await client.close()


async def appended(d: Deployment, n: int) -> list[RecordEntry]:
    repo = d.repo()
    out = []
    for i in range(1, n + 1):
        e = await repo.append(entry(i))
        assert e is not None
        out.append(e)
    return out


async def test_R_SUP_01_untouched_chain_verifies(deployment: Deployment) -> None:
    entries = await appended(deployment, 12)
    assert [e.seq for e in entries] == list(range(1, 13))
    assert entries[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    # A redelivered event is not appended twice.
    assert await deployment.repo().append(entry(99, event_id=entries[3].event_id)) is None
    report = await deployment.repo().verify(DISTRICT)
    assert report.ok and report.count == 12 and report.head == entries[-1].hash
    done = await asyncio.to_thread(deployment.cli)
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith("OK") and "12 entries" in done.stdout, done.stdout
    # Another district's chain is separate (and empty here).
    assert (await deployment.repo().verify("hualong")).count == 0


@pytest.mark.parametrize(
    ("what", "change"),
    [
        ("payload", lambda doc: doc["payload"].__setitem__("fine_yuan", 1)),
        ("actor", lambda doc: doc.__setitem__("actor_id", "someone-else")),
        ("state", lambda doc: doc.__setitem__("state_after", "closed")),
    ],
)
async def test_R_SUP_01_an_edited_entry_is_named_exactly(
    deployment: Deployment, what: str, change: Callable[[dict[str, Any]], None]
) -> None:
    entries = await appended(deployment, 9)
    victim = entries[5]  # seq 6
    await deployment.tamper(victim.event_id, change)
    report = await deployment.repo().verify(DISTRICT)
    assert report.broken is not None and report.count == 5
    assert (report.broken.seq, report.broken.event_id, report.broken.problem) == (
        6,
        victim.event_id,
        "hash",
    )
    assert report.broken.found == victim.hash and report.broken.expected != victim.hash
    if what != "payload":
        return  # the command's output is checked once per store (each run starts Python)
    done = await asyncio.to_thread(deployment.cli)
    assert done.exit_code == 1, (what, done.stdout, done.output)
    assert done.stdout.startswith("BROKEN") and "entry seq 6 " in done.stdout, done.stdout
    assert victim.event_id in done.stdout and victim.hash in done.stdout
    print(f"\n[{deployment.kind}] edited {what} of seq 6 → {done.stdout.strip()}")


async def test_R_SUP_01_rehashing_an_edited_entry_breaks_the_next_link(
    deployment: Deployment,
) -> None:
    """Whoever edits an entry and recomputes its hash breaks the link of the entry after it;
    removing an entry leaves a gap at the entry after it."""
    entries = await appended(deployment, 6)
    victim = entries[2]
    forged_payload = {**victim.payload, "statement": "不予受理"}
    forged_hash = entry_hash(replace(victim, payload=forged_payload), victim.prev_hash)

    def forge(doc: dict[str, Any]) -> None:
        doc["payload"]["statement"] = "不予受理"
        doc["hash"] = forged_hash

    await deployment.tamper(entries[2].event_id, forge)
    report = await deployment.repo().verify(DISTRICT)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.problem) == (4, "prev_hash")
    assert report.broken.found == victim.hash and report.broken.expected == forged_hash


async def test_R_SUP_01_concurrent_appends_make_a_gapless_chain(
    deployment: Deployment, unique_name: str
) -> None:
    """Two replicas (on the real server: two connections), each with two consumers, append at
    once: 50 events each, the same 10 events delivered to both, and every event of a replica
    redelivered to its other consumer. 110 distinct events: 110 entries, seq 1..110, every
    link intact."""
    if deployment.kind == "mongo":
        second = await open_mongo_store(
            deployment.settings.mongo_url, deployment.settings.database_name("notify")
        )
    else:
        second = deployment.store  # one process; the store serialises on its worker thread
    replicas = [deployment.repo(), RecordRepository(second)]
    shared = [entry(1000 + i) for i in range(10)]
    work = [[entry(i) for i in range(50)] + shared, [entry(500 + i) for i in range(50)] + shared]

    async def run(repo: RecordRepository, batch: list[RecordEntry]) -> int:
        appended = 0
        for e in batch:
            appended += await repo.append(e) is not None
        return appended

    try:
        counts = await asyncio.gather(
            *(run(r, b) for r, b in zip(replicas, work, strict=True)),
            *(run(r, list(reversed(b))) for r, b in zip(replicas, work, strict=True)),
        )
    finally:
        if second is not deployment.store:
            await second.close()
    report = await deployment.repo().verify(DISTRICT)
    assert report.ok, report.broken and report.broken.describe()
    assert report.count == 110 and sum(counts) == 110, counts
    seqs = [e.seq async for e in deployment.repo().chain(DISTRICT)]
    assert seqs == list(range(1, 111))
    print(
        f"\n[{deployment.kind}] concurrent appends: 4 writers, {sum(len(b) for b in work) * 2} "
        f"attempts, {report.count} entries, seq 1..{seqs[-1]}, no gap, chain verifies"
    )


def test_R_SUP_01_hash_covers_what_every_store_returns() -> None:
    """Stores keep datetimes to the millisecond and PyMongo or SQLite may hand them back naive
    or in UTC: the hash is the same for all of these, and differs for any other change."""
    from zoneinfo import ZoneInfo

    e = entry(1)
    h = entry_hash(e, GENESIS_HASH)
    same_instant = [
        e.time.replace(microsecond=123000),
        e.time.astimezone(ZoneInfo("Asia/Shanghai")),
        e.time.replace(tzinfo=None),
    ]
    assert all(entry_hash(replace(e, time=t), GENESIS_HASH) == h for t in same_instant)
    assert entry_hash(replace(e, time=e.time + timedelta(milliseconds=1)), GENESIS_HASH) != h
    assert entry_hash(e, "1" * 64) != h
    assert entry_hash(replace(e, agency_ids=("fy-market",)), GENESIS_HASH) != h


async def test_R_SUP_01_the_tip_read_from_a_known_seq_on_still_sees_another_replicas_appends(
    deployment: Deployment,
) -> None:
    """Issue 21, session 13: a replica looks for the chain's last entry from the seq it
    knows to be stored on, not over the whole record; entries another replica appended after
    it are still found, and its next append links to them."""
    first, second = deployment.repo(), deployment.repo()
    for i in range(3):
        assert await first.append(entry(i)) is not None
    assert (await first.tip(DISTRICT) or (0, ""))[0] == 3
    for i in range(3, 5):
        assert await second.append(entry(i)) is not None  # another replica, after it
    tip = await first.tip(DISTRICT)
    assert tip is not None and tip[0] == 5
    assert tip[1] == await second.hash_at(DISTRICT, 5)
    appended = await first.append(entry(5))  # its cached tip (3) collides: it relinks
    assert appended is not None and appended.seq == 6
    report = await deployment.repo().verify(DISTRICT)
    assert report.ok and report.count == 6
