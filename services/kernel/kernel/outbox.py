"""Transactional outbox on single-document atomicity.

An aggregate's document carries the events its last changes produced (``outbox``), so the
state change and its events land in ONE conditional update (with a version check for
optimistic concurrency) — no transaction needed, so the outbox works on a standalone server
and on the embedded store alike (MongoDB transactions need a replica set). The relay then
publishes those events with confirms and removes only what the broker confirmed.

Finding work: every commit that added events tells the relay of its own process which
aggregate it was (``AggregateCollection``'s ``on_commit``), and the relay claims those
documents by ``_id`` at once. A sweep of the whole collection (``outbox_n > 0``, indexed)
runs at the first pass and then every ``sweep_interval`` seconds, or ten times as long as
the last sweep took if that is longer (a sweep never takes more than about a tenth of the
relay's time); it finds what no hint announced: events of a replica that crashed before its
relay ran, a lease that ran out, a hint lost to a claim race between replicas. On servers
that use indexes the sweep is cheap; on a server that reads every document for such a
filter it grows with the collection, so the per-commit path avoids it.

Handing events over at the commit (``OutboxRelay.attach``): a commit that finds the
aggregate with no pending events (``outbox_n`` 0; an aggregate with none has no lease:
every bookkeeping that takes the last event away releases the lease in the same write) takes
the lease for its own process's relay in the same write, and gives the relay the events it
wrote. The relay publishes them at once and does its bookkeeping: two writes per commit,
instead of the commit, a claim, a read of the claimed events and the bookkeeping (issue 21,
P3 and P5). A commit that finds events pending, or another replica's lease, commits as
before and announces the aggregate for a claim. If the process dies before publishing, the
lease runs out (``relay_lease_seconds``) and any relay's sweep takes the events then; a
relay that stops releases the leases of what it was handed and did not publish.

Several relay replicas may run: each claims documents with a lease (an atomic conditional
update on ``outbox_lease_until``); a crashed relay's lease simply runs out. Delivery is at
least once (a relay may die after the confirm and before its bookkeeping), so consumers are
idempotent by construction.

Document fields this module owns: ``version``, ``outbox``, ``outbox_n`` (how many events are
pending, indexed so the relay finds work without scanning), ``outbox_lease_owner`` and
``outbox_lease_until``.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kernel.aggregates import (
    OUTBOX_FIELDS,
    PENDING,
    AggregateCollection,
    ConcurrencyError,
)
from kernel.bus import Bus, PublishError
from kernel.envelope import Envelope
from kernel.store import (
    Collection,
    Document,
    StoreError,
    StoreUnavailableError,
)
from kernel.tasks import cancel_and_wait
from kernel.workers import PollingWorker

__all__ = [
    "OUTBOX_FIELDS",
    "AggregateCollection",
    "ConcurrencyError",
    "OutboxRelay",
    "RelayStats",
]

log = logging.getLogger(__name__)

#: Batches of announced aggregates a relay publishes at once (claim, publish, confirm,
#: clear overlap, so a batch's confirm round trip does not hold the next one back).
RELAY_FLIGHTS = 4
#: The pause after a sweep is at least this many times the sweep's own duration.
SWEEP_DUTY_FACTOR = 10.0
#: A sweep's query asks for the candidates of this many batches at once.
SWEEP_BATCHES = 10
#: A change event of an aggregate this process committed within this many seconds is its
#: own commit, announced already.
OWN_COMMIT_WINDOW = 5.0
#: The change events that mean "this aggregate has events to publish, and no relay has them
#: yet": a commit that handed its events to its relay set the lease in the same write, and
#: that relay publishes them (another relay's claim would only be refused by the lease).
PENDING_CHANGE: dict[str, Any] = {
    "$or": [
        {
            "operationType": "insert",
            "fullDocument.outbox_n": {"$gt": 0},
            "fullDocument.outbox_lease_owner": None,
        },
        {
            "operationType": "update",
            "updateDescription.updatedFields.outbox_n": {"$gt": 0},
            "updateDescription.updatedFields.outbox_lease_owner": {"$exists": False},
        },
    ]
}


@dataclass
class RelayStats:
    published: int = 0
    failed: int = 0
    batches: int = 0
    lost_leases: int = 0
    sweeps: int = 0
    streamed: int = 0  # aggregates announced by the server's change stream
    handed: int = 0  # aggregates whose commit took the lease and handed the events over
    streams_opened: int = 0  # change streams the server opened (reopened after a break)


class OutboxRelay:
    """Publishes pending events of the given aggregate collections, in order per aggregate."""

    def __init__(
        self,
        collections: Sequence[Collection],
        bus: Bus,
        *,
        owner: str | None = None,
        lease: timedelta = timedelta(seconds=30),
        interval: float = 0.5,
        batch_size: int = 100,
        sweep_interval: float = 5.0,
    ) -> None:
        self._collections = list(collections)
        self._bus = bus
        self.owner = owner or f"relay-{uuid.uuid4().hex[:8]}"
        self._lease = lease
        self._interval = interval
        self._batch_size = batch_size
        self._sweep_interval = sweep_interval
        self._next_sweep = 0.0  # the first pass sweeps
        # Aggregates announced by commits, per collection name, in commit order.
        self._hints: dict[str, dict[str, None]] = {}
        self._worker = PollingWorker(f"outbox-relay-{self.owner}", self._tick, interval)
        self.stats = RelayStats()
        self._own: dict[str, float] = {}  # aggregate id → when this process committed it
        # Aggregates whose commit took this relay's lease, per collection: id → their outbox.
        self._handed: dict[str, dict[str, list[Document]]] = {}
        self._followers: list[asyncio.Task[None]] = []

    def wake(self) -> None:
        """Ask for a pass now, with a sweep (nothing says which aggregate changed)."""
        self._next_sweep = 0.0
        self._worker.wake()

    def attach(self, aggregates: AggregateCollection) -> None:
        """Hear of ``aggregates``' commits, and let a commit that finds nothing pending take
        this relay's lease and hand its events over (published without a claim)."""
        aggregates.set_on_commit(self.committed, before_write=self.writing, lease=self.commit_lease)

    def commit_lease(self) -> dict[str, Any]:
        """The lease fields a commit sets to hand its events to this relay."""
        until = datetime.now(UTC) + self._lease
        return {"outbox_lease_owner": self.owner, "outbox_lease_until": until}

    def committed(
        self, collection: str, aggregate_id: str, *, outbox: list[Document] | None = None
    ) -> None:
        """An aggregate of ``collection`` has new events (``AggregateCollection``'s
        ``on_commit``): publish them in the next pass, which starts now. With ``outbox``,
        the commit took this relay's lease and those are its events; otherwise the pass
        claims the aggregate by ``_id``."""
        self._own[aggregate_id] = time.monotonic()
        if outbox is None:
            self._announce(collection, aggregate_id)
            return
        self.stats.handed += 1
        self._handed.setdefault(collection, {})[aggregate_id] = outbox
        self._worker.wake()

    def writing(self, collection: str, aggregate_id: str) -> None:
        """This process is about to commit new events of the aggregate
        (``AggregateCollection``'s ``before_write``): the server's change event of that
        write is this process's own, even if it arrives before :meth:`committed`."""
        self._own[aggregate_id] = time.monotonic()

    def _announce(self, collection: str, aggregate_id: str) -> None:
        self._hints.setdefault(collection, {})[aggregate_id] = None
        self._worker.wake()

    def _stream_opened(self) -> None:
        self.stats.streams_opened += 1

    def _changed_elsewhere(self, collection: str, aggregate_id: str) -> None:
        """The server's change stream reports new events of an aggregate. Those this
        process committed itself in the last ``OWN_COMMIT_WINDOW`` seconds were announced
        already (claiming them again would cost a request each); the others, committed by
        another replica, are claimed now instead of at the next sweep."""
        now = time.monotonic()
        own = self._own.get(aggregate_id)
        if own is not None and now - own < OWN_COMMIT_WINDOW:
            return
        if len(self._own) > 10_000:
            self._own = {k: t for k, t in self._own.items() if now - t < OWN_COMMIT_WINDOW}
        self.stats.streamed += 1
        self._announce(collection, aggregate_id)

    async def _follow_changes(self, coll: Any) -> None:
        """Announce what the server's change stream reports for ``coll``; on a store or a
        server without change streams, return (the sweep alone finds other replicas' work)."""
        while True:
            try:
                async for doc_id in coll.changed_ids(PENDING_CHANGE, self._stream_opened):
                    self._changed_elsewhere(coll.name, doc_id)
            except StoreUnavailableError as exc:
                log.warning(
                    "outbox relay: change stream of %s broke (%s); resuming", coll.name, exc
                )
                await asyncio.sleep(1.0)
            except StoreError as exc:  # e.g. a standalone mongod: no change streams
                log.info("outbox relay: no change stream on %s (%s); sweeps only", coll.name, exc)
                return

    async def backlog(self) -> int:
        """How many aggregates have events waiting."""
        total = 0
        for coll in self._collections:
            total += await coll.count(PENDING)
        return total

    async def run_once(self) -> int:
        """One full pass (announced aggregates, then a sweep of every collection); returns
        how many events were confirmed."""
        return await self._run(sweep=True)

    async def _tick(self) -> int:
        # The worker's pass: announced aggregates always, the sweep only when it is due.
        return await self._run(sweep=time.monotonic() >= self._next_sweep)

    async def _run(self, *, sweep: bool) -> int:
        published = 0
        swept = 0.0
        if sweep:
            self.stats.sweeps += 1
        for coll in self._collections:
            published += await self._drain_hints(coll)
            started = time.monotonic()
            while sweep:
                # One query finds the candidates of several batches: on a server that scans,
                # each such query reads the whole collection.
                ids = await self._candidates(coll, SWEEP_BATCHES * self._batch_size)
                failed = False
                for start in range(0, len(ids), self._batch_size):
                    claimed = await self._claim_ids(coll, ids[start : start + self._batch_size])
                    n, failed = await self._pass(coll, claimed)
                    published += n
                    if failed:
                        break
                # A full set of candidates means there may be more, even when another relay
                # won some of them; after a failed publish, wait for the next pass.
                if len(ids) < SWEEP_BATCHES * self._batch_size or failed:
                    break
            swept += time.monotonic() - started
        if sweep:
            self._next_sweep = time.monotonic() + max(
                self._sweep_interval, SWEEP_DUTY_FACTOR * swept
            )
        return published

    async def _drain_hints(self, coll: Collection) -> int:
        """Claim and publish the announced aggregates of ``coll``, up to ``RELAY_FLIGHTS``
        batches at a time, taking hints that arrive meanwhile too, until none is left
        (issue 21, P3: one batch at a time waited a whole confirm round trip per batch).
        An aggregate is taken once per drain: one announced again while (or after) its
        batch flies, or put back by a failed publish, stays announced for the next pass, so
        it is never in two flights at once (its newer events follow the older ones, and its
        own lease does not turn the claim away) and a failing broker is not retried in a
        loop (the worker's wake or interval starts the next pass)."""
        flying: dict[asyncio.Task[int], list[str]] = {}
        taken: set[str] = set()
        published = 0
        failure: BaseException | None = None
        try:
            while True:
                task, ids = (None, []) if failure is not None else self._next_batch(coll, taken)
                if task is not None:
                    flying[task] = ids
                    taken.update(ids)
                    if len(flying) < RELAY_FLIGHTS:
                        continue
                if not flying:
                    break
                done, _ = await asyncio.wait(flying, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    flying.pop(task)
                    if task.cancelled():
                        failure = failure or asyncio.CancelledError()
                    elif task.exception() is not None:
                        failure = failure or task.exception()
                    else:
                        published += task.result()
        finally:
            for task in flying:  # this pass was cancelled (the worker stops): so are they
                task.cancel()
        if failure is not None:
            raise failure
        return published

    def _next_batch(
        self, coll: Collection, taken: set[str]
    ) -> tuple[asyncio.Task[int] | None, list[str]]:
        """The next batch's task and its ids: events handed over first (no claim needed),
        then announced aggregates to claim."""
        pending = self._handed.get(coll.name)
        if pending:
            ids = [doc_id for doc_id in pending if doc_id not in taken][: self._batch_size]
            if ids:
                docs: list[Document] = [{"_id": i, "outbox": pending.pop(i)} for i in ids]
                return asyncio.create_task(self._handed_batch(coll, docs)), ids
        ids = self._take_hints(coll.name, taken)
        if not ids:
            return None, []
        return asyncio.create_task(self._hinted_batch(coll, ids)), ids

    async def _handed_batch(self, coll: Collection, docs: list[Document]) -> int:
        try:
            n, _ = await self._pass(coll, docs)
        except BaseException:
            # The store failed in the bookkeeping: the lease is still this relay's until it
            # runs out, then a claim (announced here) or any relay's sweep takes the events.
            self._rehint(coll.name, [doc["_id"] for doc in docs])
            raise
        return n

    def _take_hints(self, collection: str, taken: set[str]) -> list[str]:
        """Up to a batch of announced ids of ``collection`` not ``taken`` yet in this
        drain; the others stay announced."""
        pending = self._hints.get(collection)
        if not pending:
            return []
        ids = []
        for doc_id in pending:
            if doc_id not in taken:
                ids.append(doc_id)
                if len(ids) == self._batch_size:
                    break
        for doc_id in ids:
            del pending[doc_id]
        return ids

    async def _hinted_batch(self, coll: Collection, ids: list[str]) -> int:
        try:
            claimed = await self._claim_ids(coll, ids)
            n, _ = await self._pass(coll, claimed)
        except BaseException:
            # The store failed mid-way: keep them announced for the next pass.
            self._rehint(coll.name, ids)
            raise
        return n

    def _rehint(self, collection: str, ids: Iterable[str]) -> None:
        # No wake: the retry waits for the worker's interval, so an outage is not hammered.
        pending = self._hints.setdefault(collection, {})
        for doc_id in ids:
            pending[doc_id] = None

    def _free(self, now: datetime) -> dict[str, Any]:
        return {
            **PENDING,
            "$or": [
                {"outbox_lease_until": {"$exists": False}},
                {"outbox_lease_until": None},
                {"outbox_lease_until": {"$lt": now}},
            ],
        }

    async def _candidates(self, coll: Collection, limit: int) -> list[str]:
        """Ids of up to ``limit`` documents with events and no live lease."""
        found = await coll.find(self._free(datetime.now(UTC)), limit=limit, projection=["_id"])
        return [doc["_id"] for doc in found]

    async def _claim(self, coll: Collection) -> list[Document]:
        """Claim up to a batch of documents with events and no live lease."""
        return await self._claim_ids(coll, await self._candidates(coll, self._batch_size))

    async def _claim_ids(self, coll: Collection, ids: Sequence[str]) -> list[Document]:
        """Lease the documents of ``ids`` that are free and return them. One document: one
        find-and-modify; several: one update of them all and one read of those this claim
        won (two requests per batch instead of one per document, issue 21)."""
        now = datetime.now(UTC)
        free = self._free(now)
        until = now + self._lease
        lease = {"outbox_lease_owner": self.owner, "outbox_lease_until": until}
        # Every claim repeats the "free" condition, so two relays racing for the same
        # document cannot both win; an announced aggregate whose events another relay
        # already took (or published) is simply not claimed.
        if len(ids) == 1:
            doc = await coll.find_one_and_update({"_id": ids[0], **free}, {"$set": lease})
            return [] if doc is None else [doc]
        if not ids:
            return []
        won = await coll.update_many({"_id": {"$in": list(ids)}, **free}, {"$set": lease})
        if won == 0:
            return []
        # The lease's owner and expiry (unique to this claim: a relay's earlier lease on one
        # of them would have made it not free) pick out what this claim won.
        # Only the events: the aggregate itself (a referral is ~9.5 KB) is not the relay's
        # to decode (issue 21).
        claimed = await coll.find({"_id": {"$in": list(ids)}, **lease}, projection=["outbox"])
        order = {doc_id: i for i, doc_id in enumerate(ids)}
        return sorted(claimed, key=lambda d: order[d["_id"]])

    async def _pass(self, coll: Collection, claimed: list[Document]) -> tuple[int, bool]:
        """Publish the claimed documents' events and do the bookkeeping; returns how many
        were confirmed and whether any failed."""
        if not claimed:
            return 0, False
        self.stats.batches += 1
        by_doc: list[tuple[Document, list[Envelope]]] = []
        envelopes: list[Envelope] = []
        for doc in claimed:
            evs = [Envelope.from_document(e) for e in doc.get("outbox", [])]
            by_doc.append((doc, evs))
            envelopes.extend(evs)
        failed: set[str] = set()
        try:
            await self._bus.publish(envelopes)
        except PublishError as exc:
            failed = set(exc.failed_ids) or {e.id for e in envelopes}
            self.stats.failed += len(failed)
            log.warning(
                "outbox relay: %d of %d events not confirmed: %s", len(failed), len(envelopes), exc
            )
        except Exception as exc:
            # Whatever the bus raised, nothing is known to be confirmed: keep every event and
            # release the leases below, so the next pass retries at once instead of waiting
            # for the leases to run out.
            failed = {e.id for e in envelopes}
            self.stats.failed += len(failed)
            log.warning("outbox relay: publishing failed (%r); will retry", exc)
        # Bookkeeping: only the confirmed prefix leaves the outbox (an event whose
        # predecessor failed stays too, so a retry republishes them in order). Documents
        # whose prefixes have the same length share one update (normally the whole batch:
        # one request instead of one per document, issue 21).
        groups: dict[int, list[tuple[str, list[str], bool]]] = {}
        for doc, evs in by_doc:
            prefix: list[str] = []
            for e in evs:
                if e.id in failed:
                    break
                prefix.append(e.id)
            groups.setdefault(len(prefix), []).append((doc["_id"], prefix, len(prefix) < len(evs)))
        confirmed_total = 0
        for length, members in groups.items():
            update: dict[str, Any] = {
                "$unset": {"outbox_lease_owner": "", "outbox_lease_until": ""},
            }
            if length:
                update["$pull"] = {"outbox": {"id": {"$in": [i for m in members for i in m[1]]}}}
                update["$inc"] = {"outbox_n": -length}
            doc_ids = [m[0] for m in members]
            owned = {"outbox_lease_owner": self.owner}
            if len(doc_ids) == 1:
                matched = await coll.update_one({"_id": doc_ids[0], **owned}, update)
            else:
                matched = await coll.update_many({"_id": {"$in": doc_ids}, **owned}, update)
            # A document not matched: our lease ran out and another relay took over; it
            # will publish these events again (consumers are idempotent) and do the
            # bookkeeping.
            self.stats.lost_leases += len(doc_ids) - matched
            confirmed_total += length * matched
            partial = [m[0] for m in members if m[2]]
            if partial:
                self._rehint(coll.name, partial)
        self.stats.published += confirmed_total
        return confirmed_total, bool(failed)

    def start(self) -> None:
        self._worker.start()
        # Where the store has change streams (MongoDB), commits of other replicas wake the
        # relay at once; elsewhere (the embedded store) the sweep finds them (issue 21).
        for coll in self._collections:
            if hasattr(coll, "changed_ids"):
                self._followers.append(asyncio.create_task(self._follow_changes(coll)))

    async def stop(self) -> None:
        """Finish the current batch, then stop; release the leases of events handed over
        and not published, so another relay's sweep takes them at once."""
        await cancel_and_wait(self._followers)
        self._followers.clear()
        await self._worker.stop()
        await self._release_handed()

    async def _release_handed(self) -> None:
        handed, self._handed = self._handed, {}
        by_name = {coll.name: coll for coll in self._collections}
        for name, pending in handed.items():
            coll = by_name.get(name)
            if coll is None or not pending:
                continue
            try:
                await coll.update_many(
                    {"_id": {"$in": list(pending)}, "outbox_lease_owner": self.owner},
                    {"$unset": {"outbox_lease_owner": "", "outbox_lease_until": ""}},
                )
            except StoreError as exc:
                log.warning(
                    "outbox relay: could not release %d lease(s) of %s at stop (%s); they "
                    "run out by themselves",
                    len(pending),
                    name,
                    exc,
                )
