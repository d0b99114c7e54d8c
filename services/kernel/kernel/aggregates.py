"""The commit side of the transactional outbox: an aggregate's document carries its pending
events, written with the state change in one conditional write (the design, the relay and
the hand-over of a commit's events: :mod:`kernel.outbox`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from kernel.actions import stop_if_dry_run
from kernel.envelope import Envelope
from kernel.errors import Conflict
from kernel.store import (
    Collection,
    Document,
    DuplicateKeyError,
    ObsoleteIndex,
    drop_obsolete_indexes,
)
from kernel.telemetry import store_span

__all__ = [
    "OUTBOX_FIELDS",
    "PENDING",
    "PENDING_INDEX",
    "AggregateCollection",
    "ConcurrencyError",
    "OnCommit",
    "strip_outbox",
]

OUTBOX_FIELDS = ("outbox", "outbox_n", "outbox_lease_owner", "outbox_lease_until")
#: The aggregates with events pending: every query of the outbox's work starts with this
#: condition, which is also the partial filter of the index that serves them.
PENDING: dict[str, Any] = {"outbox_n": {"$gt": 0}}
PENDING_INDEX = "outbox_pending_only"
#: The full index over ``outbox_n`` that releases before issue 21's session 13 created.
OBSOLETE_INDEXES: tuple[ObsoleteIndex, ...] = (("outbox_pending", (("outbox_n", 1),)),)


class OnCommit(Protocol):
    """Told of a commit that added events; ``outbox`` is given when the commit took the
    lease for the relay and hands those events over (the aggregate's whole outbox)."""

    def __call__(
        self, collection: str, aggregate_id: str, *, outbox: list[Document] | None = None
    ) -> None: ...


class ConcurrencyError(Conflict):
    """The aggregate changed since it was read (version mismatch) or already exists."""


class AggregateCollection:
    """A collection of aggregates whose documents carry their pending events.

    ``on_commit(collection_name, aggregate_id)`` is called after every successful write that
    added events (the relay's ``committed``), so events leave soon after the commit instead
    of at the next sweep. ``before_write`` (the relay's ``writing``) is called just before
    such a write: the server's change event of the write may reach the relay before the
    writer resumes to call ``on_commit``, and must not be taken for another replica's.
    """

    def __init__(
        self,
        collection: Collection,
        on_commit: OnCommit | None = None,
        *,
        before_write: Callable[[str, str], None] | None = None,
    ):
        self.collection = collection
        self._on_commit = on_commit
        self._before_write = before_write
        self._lease: Callable[[], dict[str, Any]] | None = None

    def set_on_commit(
        self,
        on_commit: OnCommit | None,
        *,
        before_write: Callable[[str, str], None] | None = None,
        lease: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        """Who hears of commits. With ``lease`` (the relay's lease fields for a commit, see
        :meth:`OutboxRelay.attach`), a commit that finds no event pending takes the lease in
        the same write and hands its events to ``on_commit`` (``outbox=``)."""
        self._on_commit = on_commit
        self._before_write = before_write
        self._lease = lease

    async def ensure_indexes(self) -> None:
        # Only the aggregates with events pending are indexed: the relay's sweep, its
        # backlog and the outbox metrics ask for those, a handful among every aggregate of
        # the service. The full index of earlier releases held an entry per aggregate, and a
        # server that walks an index range (SecantusDB) took a walk of all of them for each
        # sweep: 60 ms at 60,000 aggregates against 0.4 ms (issue 21, P5, session 13). The old
        # index goes first, since a server may refuse a second index over the same keys.
        await drop_obsolete_indexes(self.collection, OBSOLETE_INDEXES)
        await self.collection.create_index([("outbox_n", 1)], name=PENDING_INDEX, partial=PENDING)

    async def get(self, aggregate_id: str) -> Document | None:
        """The aggregate's document without the outbox bookkeeping fields."""
        doc = await self.collection.find_one({"_id": aggregate_id})
        return strip_outbox(doc) if doc is not None else None

    async def insert(self, doc: Mapping[str, Any], events: Sequence[Envelope]) -> None:
        """Create the aggregate at version 1 together with its events (in a dry run, stop
        here: :mod:`kernel.actions`)."""
        stop_if_dry_run(str(doc.get("_id")))
        full = dict(doc)
        full["version"] = 1
        full["outbox"] = [e.to_document() for e in events]
        full["outbox_n"] = len(events)
        # A new aggregate has nothing pending and no lease: its events are handed over.
        lease = self._lease() if events and self._lease is not None else None
        if lease is not None:
            full.update(lease)
        self._writing(full["_id"], events)
        try:
            with store_span("insert", self.collection.name):
                await self.collection.insert_one(full)
        except DuplicateKeyError as exc:
            raise ConcurrencyError(f"{self.collection.name} {full['_id']} already exists") from exc
        self._committed(full["_id"], events, full["outbox"] if lease is not None else None)

    async def update(
        self,
        aggregate_id: str,
        expected_version: int,
        changes: Mapping[str, Any],
        events: Sequence[Envelope],
        *,
        unset: Iterable[str] = (),
    ) -> int:
        """Apply ``changes`` and append ``events`` iff the stored version is
        ``expected_version``; return the new version or raise ConcurrencyError (in a dry
        run, stop here: :mod:`kernel.actions`)."""
        stop_if_dry_run(aggregate_id)
        forbidden = set(changes) & {"_id", "version", *OUTBOX_FIELDS}
        if forbidden:
            raise ValueError(f"fields managed by the outbox cannot be set: {sorted(forbidden)}")
        new_version = expected_version + 1
        update: dict[str, Any] = {"$set": {**changes, "version": new_version}}
        if events:
            update["$push"] = {"outbox": {"$each": [e.to_document() for e in events]}}
            update["$inc"] = {"outbox_n": len(events)}
        unset_fields = list(unset)
        if unset_fields:
            update["$unset"] = {f: "" for f in unset_fields}
        self._writing(aggregate_id, events)
        current = {"_id": aggregate_id, "version": expected_version}
        handed: list[Document] | None = None
        with store_span("update", self.collection.name):
            matched = 0
            lease = self._lease() if events and self._lease is not None else None
            if lease is not None:
                # Nothing pending (so no lease either): take the lease with the events, which
                # are then the whole outbox.
                taking = {**update, "$set": {**update["$set"], **lease}}
                matched = await self.collection.update_one({**current, "outbox_n": 0}, taking)
                if matched:
                    handed = update["$push"]["outbox"]["$each"]
            if not matched:
                matched = await self.collection.update_one(current, update)
        if matched == 0:
            raise ConcurrencyError(
                f"{self.collection.name} {aggregate_id} was changed by someone else "
                f"(expected version {expected_version}); reload and try again"
            )
        self._committed(aggregate_id, events, handed)
        return new_version

    def _writing(self, aggregate_id: str, events: Sequence[Envelope]) -> None:
        if events and self._before_write is not None:
            self._before_write(self.collection.name, aggregate_id)

    def _committed(
        self, aggregate_id: str, events: Sequence[Envelope], handed: list[Document] | None
    ) -> None:
        if not events or self._on_commit is None:
            return
        if handed is None:
            self._on_commit(self.collection.name, aggregate_id)
        else:
            self._on_commit(self.collection.name, aggregate_id, outbox=handed)


def strip_outbox(doc: Document) -> Document:
    return {k: v for k, v in doc.items() if k not in OUTBOX_FIELDS}
