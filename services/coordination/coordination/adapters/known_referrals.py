"""Coordination's reading of the referrals it heard of (``domain.known_referrals``): one
document per referral, ``_id`` the referral id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from coordination.domain.known_referrals import KnownReferral
from kernel.store import DocumentStore


class KnownReferrals:
    name = "known_referrals"

    def __init__(self, store: DocumentStore) -> None:
        self._coll = store.collection(self.name)

    async def ensure_indexes(self) -> None:
        """Only the ``_id`` is read."""

    async def get(self, referral_id: str) -> KnownReferral | None:
        doc = await self._coll.find_one({"_id": referral_id})
        if doc is None:
            return None
        at = doc["at"]
        return KnownReferral(
            referral_id=doc["_id"],
            sender_id=doc["sender_id"],
            receiver_id=doc["receiver_id"],
            state=doc["state"],
            at=at if isinstance(at, datetime) else datetime.fromisoformat(at),
            parties=tuple(doc.get("parties", ())),
        )

    async def put(self, known: KnownReferral) -> None:
        fields: dict[str, Any] = {
            "sender_id": known.sender_id,
            "receiver_id": known.receiver_id,
            "state": known.state,
            "at": known.at,
            "parties": list(known.parties),
        }
        await self._coll.update_one({"_id": known.referral_id}, {"$set": fields}, upsert=True)
