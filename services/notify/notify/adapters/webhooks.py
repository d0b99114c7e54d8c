"""Webhook subscriptions and their deliveries in the document store.

A delivery is a document per (subscription, event): created once by the fan-out (its id is
derived from both, so a redelivered event adds nothing), claimed with a lease by a worker
(``pending`` and ``next_attempt_at <= now``, or a ``delivering`` one whose lease ran out),
and closed as ``delivered`` or, after the last attempt, ``dead``. A replay puts a dead (or
delivered) delivery back to ``pending``.

The active subscriptions, which the fan-out reads for every event, come from a per-process
cache (issue 21: one store read per event saved). It is dropped at once by this process's own
writes and by the server's change stream on the collection (MongoDB: another replica's
writes within milliseconds), and it is never older than ``ACTIVE_TTL`` seconds (the bound
where no stream runs: the embedded store, or a stream that broke). A delivery re-reads its
subscription before every attempt, so a removed one never receives, whatever a cache held.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from kernel.changes import ChangeSignal
from kernel.store import Document, DocumentStore, DuplicateKeyError


class WebhookRepository:
    #: The oldest the fan-out's cached active subscriptions may be (module docstring).
    ACTIVE_TTL = 2.0

    def __init__(
        self, store: DocumentStore, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.subscriptions = store.collection("webhook_subscriptions")
        self.deliveries = store.collection("webhook_deliveries")
        self._monotonic = monotonic
        self._changes = ChangeSignal(
            self.subscriptions,
            {"operationType": {"$in": ["insert", "update", "replace", "delete"]}},
        )
        # (read at, change generation then, the documents); None: read at the next call.
        self._active: tuple[float, int, list[Document]] | None = None

    def _forget_active(self) -> None:
        self._active = None
        # A read that started before this write must not be kept as current either.
        self._changes.generation += 1

    @property
    def changes(self) -> ChangeSignal:
        """The change stream the active-subscriptions cache follows."""
        return self._changes

    async def stop_following(self) -> None:
        """Close the change stream (the process stops)."""
        await self._changes.close()

    async def ensure_indexes(self) -> None:
        await self.subscriptions.create_index([("owner_agency_id", 1)], name="by_owner")
        await self.deliveries.create_index([("state", 1), ("next_attempt_at", 1)], name="due")
        await self.deliveries.create_index(
            [("subscription_id", 1), ("created_at", 1), ("_id", 1)], name="by_subscription"
        )

    async def add_subscription(self, doc: dict[str, Any]) -> None:
        try:
            await self.subscriptions.insert_one(doc)
        finally:
            self._forget_active()

    async def subscription(self, subscription_id: str) -> Document | None:
        return await self.subscriptions.find_one({"_id": subscription_id})

    async def set_secret(self, subscription_id: str, sealed: str, at: datetime) -> Document | None:
        """Replace the (encrypted) signing secret; a plaintext one left by an older version
        goes with it."""
        try:
            return await self.subscriptions.find_one_and_update(
                {"_id": subscription_id},
                {
                    "$set": {"secret_sealed": sealed, "secret_rotated_at": at},
                    "$unset": {"secret": ""},
                },
            )
        finally:
            self._forget_active()

    async def active_subscriptions(self) -> list[Document]:
        """The active subscriptions, from the cache while it is current (module docstring);
        callers must not change the documents."""
        self._changes.follow()
        now = self._monotonic()
        cached = self._active
        if (
            cached is not None
            and now - cached[0] < self.ACTIVE_TTL
            and cached[1] == self._changes.generation
        ):
            return cached[2]
        generation = self._changes.generation
        docs = await self.subscriptions.find({"active": True}, sort=[("_id", 1)])
        if generation == self._changes.generation:  # nothing changed while reading
            self._active = (now, generation, docs)
        return docs

    async def subscriptions_of(self, agency_id: str | None) -> list[Document]:
        query: dict[str, Any] = {} if agency_id is None else {"owner_agency_id": agency_id}
        return await self.subscriptions.find(query, sort=[("created_at", 1), ("_id", 1)])

    async def add_delivery(self, doc: dict[str, Any]) -> bool:
        try:
            await self.deliveries.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def delivery(self, delivery_id: str) -> Document | None:
        return await self.deliveries.find_one({"_id": delivery_id})

    async def count_active_of(self, agency_id: str) -> int:
        return await self.subscriptions.count({"owner_agency_id": agency_id, "active": True})

    async def deactivate(self, subscription_id: str, at: datetime, by: str) -> Document | None:
        try:
            return await self.subscriptions.find_one_and_update(
                {"_id": subscription_id},
                {"$set": {"active": False, "removed_at": at, "removed_by": by}},
            )
        finally:
            self._forget_active()

    async def claim(
        self, now: datetime, owner: str, lease: timedelta, busy: list[str] | None = None
    ) -> Document | None:
        """A due delivery, leased to ``owner``; none of the webhooks in ``busy`` (their
        concurrent attempts are at the limit)."""
        query: dict[str, Any] = {
            "$or": [
                {"state": "pending", "next_attempt_at": {"$lte": now}},
                {"state": "delivering", "lease_until": {"$lt": now}},
            ]
        }
        if busy:
            query["subscription_id"] = {"$nin": busy}
        return await self.deliveries.find_one_and_update(
            query,
            {"$set": {"state": "delivering", "owner": owner, "lease_until": now + lease}},
            sort=[("next_attempt_at", 1)],
            return_new=True,
        )

    async def close(self, delivery_id: str, owner: str, changes: dict[str, Any]) -> bool:
        matched = await self.deliveries.update_one(
            {"_id": delivery_id, "state": "delivering", "owner": owner},
            {"$set": changes, "$unset": {"lease_until": "", "owner": ""}},
        )
        return matched == 1

    async def replay(self, delivery_id: str, now: datetime) -> bool:
        matched = await self.deliveries.update_one(
            {"_id": delivery_id, "state": {"$in": ["dead", "delivered"]}},
            {
                "$set": {
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "replayed_at": now,
                }
            },
        )
        return matched == 1

    async def list_deliveries(
        self,
        subscription_id: str,
        *,
        state: str | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Document]:
        query = self._deliveries_of(subscription_id, state)
        if after is not None:
            at, last = after
            query["$or"] = [{"created_at": {"$gt": at}}, {"created_at": at, "_id": {"$gt": last}}]
        return await self.deliveries.find(query, sort=[("created_at", 1), ("_id", 1)], limit=limit)

    async def count_deliveries(self, subscription_id: str, *, state: str | None) -> int:
        """How many deliveries :meth:`list_deliveries` lists, all pages together."""
        return await self.deliveries.count(self._deliveries_of(subscription_id, state))

    @staticmethod
    def _deliveries_of(subscription_id: str, state: str | None) -> dict[str, Any]:
        query: dict[str, Any] = {"subscription_id": subscription_id}
        if state is not None:
            query["state"] = state
        return query
