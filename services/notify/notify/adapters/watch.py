"""Watched deadlines and timers in the document store.

Timers are documents, so they survive restarts. A scheduler claims a due timer with one
atomic conditional update (``pending`` and ``fire_at <= now``, or a ``firing`` one whose lease
ran out, becomes ``firing`` with an owner and a lease), so several replicas never fire the
same timer at once; the side effects are keyed by the timer id, so a replica that dies after
a side effect and before marking the timer ``fired`` leaves nothing to duplicate.

Timer states: ``pending`` → ``firing`` → ``fired`` | ``skipped`` (nothing to do any more, e.g.
the notice was signed for); ``pending`` ⇄ ``paused`` (the clock is paused); ``pending`` |
``paused`` → ``cancelled`` (the clock was met or cancelled).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from kernel.changes import ChangeSignal
from kernel.store import Document, DocumentStore, DuplicateKeyError, drop_obsolete_indexes
from notify.domain.watch import PlannedTimer, WatchedDeadline

OPEN_TIMER_STATES = ["pending", "paused"]


def _deadline_from_document(d: Document) -> WatchedDeadline:
    return WatchedDeadline(
        key=d["_id"],
        kind=d["kind"],
        subject_type=d["subject_type"],
        subject_id=d["subject_id"],
        responsible_agency_id=d["responsible_agency_id"],
        due=d["due"],
        state=d["state"],
        rule=d.get("rule") or "",
        explanation_zh=d.get("explanation_zh"),
        event_time=d["event_time"],
        event_id=d["event_id"],
        mode=d.get("mode"),
        provisional=bool(d.get("provisional", False)),
        escalate_to_agency_id=d.get("escalate_to_agency_id"),
        escalate_to_agency_kind=d.get("escalate_to_agency_kind"),
        escalate_to_supervisor_id=d.get("escalate_to_supervisor_id"),
    )


class DeadlineRepository:
    """Latest state per deadline key; a later event (by event time) replaces an earlier one.

    ``stored_at`` (the deployment's clock when a state was stored) orders the changes an
    agency's live work queue follows (``changed_since``)."""

    def __init__(self, store: DocumentStore, clock: Callable[[], datetime] | None = None) -> None:
        self._coll = store.collection("deadlines")
        self._clock = clock
        # Wakes live work-queue subscriptions at each stored state where the store streams.
        self.changes = ChangeSignal(
            self._coll, {"operationType": {"$in": ["insert", "update", "replace"]}}
        )

    async def ensure_indexes(self) -> None:
        await self._coll.create_index(
            [("responsible_agency_id", 1), ("state", 1), ("due", 1)], name="by_agency"
        )
        # The reports' "due between" in (due, key) order (issue 21: with ``due`` alone the
        # server sorts the range in memory).
        await self._coll.create_index([("due", 1), ("_id", 1)], name="by_due_key")
        # What it replaced (issue 21's migration).
        await drop_obsolete_indexes(self._coll, [("by_due", (("due", 1),))])
        # The work queue: an agency's clocks in one state, soonest first, paged by (due, key).
        await self._coll.create_index(
            [("responsible_agency_id", 1), ("state", 1), ("due", 1), ("_id", 1)],
            name="by_agency_due",
        )
        # The live work queue: an agency's clocks in the order their states were stored.
        await self._coll.create_index(
            [("responsible_agency_id", 1), ("stored_at", 1), ("_id", 1)], name="by_agency_stored"
        )

    async def put(self, deadline: WatchedDeadline) -> bool:
        """Store unless an event at least as new is already reflected; True when stored."""
        fields = asdict(deadline)
        key = fields.pop("key")
        if self._clock is not None:
            fields["stored_at"] = self._clock()
        try:
            await self._coll.update_one(
                {
                    "_id": key,
                    "$or": [
                        {"event_time": {"$lt": deadline.event_time}},
                        {"event_time": {"$exists": False}},
                    ],
                },
                {"$set": fields},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True

    async def get(self, key: str) -> WatchedDeadline | None:
        doc = await self._coll.find_one({"_id": key})
        return _deadline_from_document(doc) if doc else None

    async def for_agency(
        self, agency_id: str, states: Sequence[str], *, limit: int = 200
    ) -> list[WatchedDeadline]:
        docs = await self._coll.find(
            {"responsible_agency_id": agency_id, "state": {"$in": list(states)}},
            sort=[("due", 1)],
            limit=limit,
        )
        return [_deadline_from_document(d) for d in docs]

    @staticmethod
    def _queue_filter(
        agency_id: str,
        state: str,
        subject_types: Sequence[str] | None,
        due_before: datetime | None,
    ) -> dict[str, Any]:
        query: dict[str, Any] = {"responsible_agency_id": agency_id, "state": state}
        if subject_types is not None:
            query["subject_type"] = {"$in": list(subject_types)}
        if due_before is not None:
            query["due"] = {"$lt": due_before}
        return query

    async def queue_page(
        self,
        agency_id: str,
        state: str,
        *,
        subject_types: Sequence[str] | None = None,
        due_before: datetime | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int,
    ) -> list[WatchedDeadline]:
        """An agency's clocks in ``state``, soonest due first, after the cursor ``(due,
        key)``: the work queue, served by the ``by_agency_due`` index (equality on agency and
        state, range and sort on ``due`` then ``_id``)."""
        query = self._queue_filter(agency_id, state, subject_types, due_before)
        if after is not None:
            at, key = after
            due_range = dict(query.get("due", {}))
            query["$or"] = [
                {"due": {**due_range, "$gt": at}},
                {"due": at, "_id": {"$gt": key}},
            ]
        docs = await self._coll.find(query, sort=[("due", 1), ("_id", 1)], limit=limit)
        return [_deadline_from_document(d) for d in docs]

    async def changed_since(
        self, agency_id: str, since: datetime, *, limit: int = 100
    ) -> list[tuple[datetime, WatchedDeadline]]:
        """The agency's clocks whose state was stored at or after ``since``, in that order
        (created, moved, met, paused, cancelled: the live work queue)."""
        docs = await self._coll.find(
            {"responsible_agency_id": agency_id, "stored_at": {"$gte": since}},
            sort=[("stored_at", 1), ("_id", 1)],
            limit=limit,
        )
        return [(d["stored_at"], _deadline_from_document(d)) for d in docs]

    async def queue_count(
        self,
        agency_id: str,
        state: str,
        *,
        subject_types: Sequence[str] | None = None,
        due_before: datetime | None = None,
    ) -> int:
        """How many clocks :meth:`queue_page` would page through (``due_before``: e.g. the
        overdue ones, due before now)."""
        return await self._coll.count(
            self._queue_filter(agency_id, state, subject_types, due_before)
        )

    async def due_between(self, start: datetime, end: datetime) -> list[WatchedDeadline]:
        """Every clock falling due in ``[start, end)`` whatever its state (the reports)."""
        docs = await self._coll.find(
            {"due": {"$gte": start, "$lt": end}}, sort=[("due", 1), ("_id", 1)]
        )
        return [_deadline_from_document(d) for d in docs]


class TimerRepository:
    """``name``: the collection; the report timers (R-SUP-02 monthly push) live apart from the
    deadline and notice timers so that each scheduler claims only its own kind of work."""

    def __init__(self, store: DocumentStore, name: str = "timers") -> None:
        self._coll = store.collection(name)
        #: Told the ``fire_at`` of every timer scheduled here (the scheduler's ``scheduled``).
        self.on_schedule: Callable[[datetime], None] | None = None

    async def ensure_indexes(self) -> None:
        await self._coll.create_index([("state", 1), ("fire_at", 1)], name="due")
        await self._coll.create_index([("deadline_key", 1)], name="by_deadline")

    async def schedule(
        self,
        timer: PlannedTimer,
        *,
        state: str,
        fields: dict[str, Any],
        planned_from: datetime | None = None,
    ) -> None:
        """Create the timer, or move it if it has not fired yet (fired ones stay fired).

        ``planned_from``: the event time of the clock state the timer was planned from. A
        timer planned from a newer state is not moved back by a plan of an older one (two
        plans of one clock may run at once, R-SUP-02); the same state may plan again."""
        doc = {
            "_id": timer.id,
            "kind": timer.kind,
            "step": timer.step,
            "fire_at": timer.fire_at,
            "escalate_to": timer.escalate_to,
            "state": state,
            "attempts": 0,
            **fields,
        }
        if planned_from is not None:
            doc["planned_from"] = planned_from
        try:
            await self._coll.insert_one(doc)
        except DuplicateKeyError:
            moved: dict[str, Any] = {"fire_at": timer.fire_at, "state": state, **fields}
            where: dict[str, Any] = {"_id": timer.id, "state": {"$in": OPEN_TIMER_STATES}}
            if planned_from is not None:
                moved["planned_from"] = planned_from
                where["$or"] = [
                    {"planned_from": {"$lte": planned_from}},
                    {"planned_from": {"$exists": False}},  # stored before plans were stamped
                ]
            if not await self._coll.update_one(where, {"$set": moved}):
                return  # fired, cancelled, or planned from a newer state
        if self.on_schedule is not None:
            self.on_schedule(timer.fire_at)

    async def cancel_for(self, deadline_key: str) -> int:
        return await self._coll.update_many(
            {"deadline_key": deadline_key, "state": {"$in": OPEN_TIMER_STATES}},
            {"$set": {"state": "cancelled"}},
        )

    async def cancel(self, timer_id: str) -> int:
        return await self._coll.update_one(
            {"_id": timer_id, "state": {"$in": OPEN_TIMER_STATES}},
            {"$set": {"state": "cancelled"}},
        )

    async def claim(self, now: datetime, owner: str, lease: timedelta) -> Document | None:
        return await self._coll.find_one_and_update(
            {
                "$or": [
                    {"state": "pending", "fire_at": {"$lte": now}},
                    {"state": "firing", "lease_until": {"$lt": now}},
                ]
            },
            {"$set": {"state": "firing", "owner": owner, "lease_until": now + lease}},
            sort=[("fire_at", 1)],
            return_new=True,
        )

    async def finish(self, timer_id: str, owner: str, state: str, at: datetime) -> bool:
        """Close a claimed timer; False when the lease was lost to another replica."""
        matched = await self._coll.update_one(
            {"_id": timer_id, "state": "firing", "owner": owner},
            {"$set": {"state": state, "done_at": at}, "$unset": {"lease_until": ""}},
        )
        return matched == 1

    async def release(
        self, timer_id: str, owner: str, fire_at: datetime, fields: dict[str, Any]
    ) -> bool:
        """Put a claimed timer back to ``pending`` (moved, or retried later)."""
        matched = await self._coll.update_one(
            {"_id": timer_id, "state": "firing", "owner": owner},
            {
                "$set": {"state": "pending", "fire_at": fire_at, **fields},
                "$unset": {"lease_until": ""},
                "$inc": {"attempts": 1},
            },
        )
        return matched == 1

    async def get(self, timer_id: str) -> Document | None:
        return await self._coll.find_one({"_id": timer_id})

    async def all(self) -> list[Document]:
        return await self._coll.find({}, sort=[("fire_at", 1), ("_id", 1)])

    async def next_fire_at(self, before: datetime) -> datetime | None:
        """The earliest ``fire_at`` of a pending timer, when it is at or before ``before``.

        Bounded, because pending timers are many (every open clock has some) and a server
        that walks an index range before applying the limit (SecantusDB) read all of them
        for this one answer: 110 ms at 60,000 timers, 0.4 ms for those of the next 30 s
        (issue 21, P5, session 13). The scheduler asks again after ``recheck`` anyway."""
        docs = await self._coll.find(
            {"state": "pending", "fire_at": {"$lte": before}},
            sort=[("fire_at", 1)],
            limit=1,
            projection=["fire_at"],
        )
        return docs[0]["fire_at"] if docs else None
