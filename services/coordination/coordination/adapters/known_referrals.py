"""Coordination's reading of the referrals it heard of (``domain.known_referrals``): one
document per referral, ``_id`` the referral id, ``v`` its version (a write names the
version it read, so two changes of one referral read at once cannot undo each other)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from coordination.domain.known_referrals import KnownReferral
from kernel.store import Document, DocumentStore, DuplicateKeyError


class KnownReferrals:
    name = "known_referrals"

    def __init__(self, store: DocumentStore) -> None:
        self._coll = store.collection(self.name)

    async def ensure_indexes(self) -> None:
        """Only the ``_id`` is read."""

    async def get(self, referral_id: str) -> KnownReferral | None:
        return (await self.get_versioned(referral_id))[0]

    async def get_versioned(self, referral_id: str) -> tuple[KnownReferral | None, int]:
        """The record and its version (0: none stored yet)."""
        doc = await self._coll.find_one({"_id": referral_id})
        if doc is None:
            return None, 0
        return _known(doc), int(doc.get("v", 1))

    async def put(self, known: KnownReferral, *, read_version: int) -> bool:
        """Store ``known`` if the record is still at ``read_version`` (0: none yet); False
        when another change wrote it meanwhile (read again and merge)."""
        fields: dict[str, Any] = {
            "sender_id": known.sender_id,
            "receiver_id": known.receiver_id,
            "state": known.state,
            "at": known.at,
            "parties": list(known.parties),
            "v": read_version + 1,
        }
        if read_version == 0:
            try:
                await self._coll.insert_one({"_id": known.referral_id, **fields})
            except DuplicateKeyError:
                return False
            return True
        at_version: dict[str, Any] = {"_id": known.referral_id, "v": read_version}
        if read_version == 1:  # records written before versions were kept have no ``v``
            at_version = {
                "_id": known.referral_id,
                "$or": [{"v": 1}, {"v": {"$exists": False}}],
            }
        return await self._coll.update_one(at_version, {"$set": fields}) == 1


def _known(doc: Document) -> KnownReferral:
    at = doc["at"]
    return KnownReferral(
        referral_id=doc["_id"],
        sender_id=doc["sender_id"],
        receiver_id=doc["receiver_id"],
        state=doc["state"],
        at=at if isinstance(at, datetime) else datetime.fromisoformat(at),
        parties=tuple(doc.get("parties", ())),
    )
