"""The kernel's dry run (``viewerCan``, issue 18) writes nothing, even when a tried handler
writes something before its aggregate (issue 13): the store every service is handed refuses
any write inside a dry run, loudly, on whichever adapter is behind it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kernel.actions import dry_run, try_actions
from kernel.adapters.embedded_store import open_embedded_store
from kernel.outbox import AggregateCollection
from kernel.settings import Settings
from kernel.store import DocumentStore
from kernel.wiring import open_store
from kernel.write_guard import WriteInDryRun, guarded


async def _handler_writing_a_file_first(store: DocumentStore) -> None:
    """A handler that stores a letter's file, then writes its aggregate: the write a dry run
    stops at comes second, so without the guard the file would really be stored."""
    await store.files().put(b"letter", filename="letter.pdf", media_type="application/pdf")
    await store.collection("letters").insert_one({"_id": "number-1"})
    await AggregateCollection(store.collection("referrals")).insert({"_id": "r-1"}, [])


async def test_issue_18_a_write_before_the_aggregates_fails_loudly_and_nothing_is_stored(
    tmp_path: Path,
) -> None:
    store = guarded(open_embedded_store(tmp_path, "guard"))
    try:
        with pytest.raises(WriteInDryRun, match=re.escape("storing a file in the store's files")):
            await try_actions({"sendReferral": lambda: _handler_writing_a_file_first(store)})
        # Only the guard's store: the adapter behind it holds nothing of the dry run.
        assert await store.collection("letters").count({}) == 0
        assert await store.collection("referrals").count({}) == 0
    finally:
        await store.close()


async def test_issue_18_every_kind_of_write_is_refused_in_a_dry_run(tmp_path: Path) -> None:
    store = guarded(open_embedded_store(tmp_path, "guard"))
    c = store.collection("things")
    writes = [
        ("insert into things", lambda: c.insert_one({"_id": "a"})),
        ("insert into things", lambda: c.insert_many([{"_id": "b"}])),
        ("update of things", lambda: c.update_one({"_id": "a"}, {"$set": {"x": 1}}, upsert=True)),
        ("update of things", lambda: c.update_many({}, {"$set": {"x": 1}})),
        ("update of things", lambda: c.find_one_and_update({}, {"$set": {"x": 1}})),
        ("delete from things", lambda: c.delete_one({})),
        ("delete from things", lambda: c.delete_many({})),
        ("index creation on things", lambda: c.create_index([("x", 1)], name="x")),
        ("index removal on things", lambda: c.drop_index("x", [("x", 1)])),
        ("deleting a file from the store's files", lambda: store.files().delete("f")),
    ]
    try:
        with dry_run():
            for what, write in writes:
                with pytest.raises(WriteInDryRun, match=re.escape(what)):
                    await write()
            # Reads pass.
            assert await c.find({}) == [] and await c.count({}) == 0
            assert await c.find_one({"_id": "a"}) is None
            assert not await store.files().exists("f")
        assert await c.count({}) == 0
    finally:
        await store.close()


async def test_issue_18_outside_a_dry_run_the_guard_only_passes_the_calls_on(
    tmp_path: Path,
) -> None:
    inner = open_embedded_store(tmp_path, "guard")
    store = guarded(inner)
    try:
        assert guarded(store) is store
        assert store.collection("things") is store.collection("things")
        await store.collection("things").insert_one({"_id": "a", "x": 1})
        assert await inner.collection("things").find_one({"_id": "a"}) == {"_id": "a", "x": 1}
        stored = await store.files().put(b"abc", filename="f.txt", media_type="text/plain")
        assert await inner.files().read(stored.id) == b"abc"
        # What an adapter offers beyond the port stays reachable (e.g. the embedded path).
        assert store.path == inner.path  # type: ignore[attr-defined]
        # The embedded adapter has no change streams; the guard does not pretend it has.
        assert not hasattr(store.collection("things"), "changed_ids")
    finally:
        await store.close()


async def test_issue_18_every_service_is_handed_a_guarded_store(tmp_path: Path) -> None:
    store = await open_store(Settings(data_dir=tmp_path), "referral")
    try:
        with dry_run(), pytest.raises(WriteInDryRun):
            await store.collection("letters").insert_one({"_id": "number-1"})
        assert await store.collection("letters").count({}) == 0
    finally:
        await store.close()
