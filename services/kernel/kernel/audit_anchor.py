"""Copies of the full-process record's signed checkpoints, kept by notify's peers.

Issue 16, finding 8: notify signs a checkpoint of its hash chain's head and publishes it as
``record.checkpointed.v1``. The referral and coordination services keep every checkpoint in
their own databases (collection ``audit_checkpoints``), which notify's database credentials
cannot reach (MongoDB users per service, NetworkPolicies in ``deploy/``); ``liandong audit
verify`` reads the latest copy and checks the record against it. The copies are kept as
received: the signature is checked by whoever relies on them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kernel.bus import PermanentError
from kernel.envelope import Envelope
from kernel.store import DocumentStore, DuplicateKeyError

__all__ = ["CHECKPOINT_EVENT", "CheckpointKeeper"]

CHECKPOINT_EVENT = "record.checkpointed.v1"
_FIELDS = ("district", "seq", "head", "checkpointed_at", "key_id", "signature")


class CheckpointKeeper:
    def __init__(self, store: DocumentStore) -> None:
        self._coll = store.collection("audit_checkpoints")

    async def ensure_indexes(self) -> None:
        await self._coll.create_index([("district", 1), ("seq", -1)], name="by_seq")

    async def when_record_checkpointed_keep_it(self, envelope: Envelope) -> None:
        data = envelope.data
        if any(data.get(f) in (None, "") for f in _FIELDS) or data["district"] != envelope.district:
            raise PermanentError(f"checkpoint {envelope.id} is incomplete or of another district")
        doc: dict[str, Any] = {f: data[f] for f in _FIELDS}
        doc["_id"] = envelope.id
        doc["seq"] = int(doc["seq"])
        if isinstance(doc["checkpointed_at"], str):  # JSON on the wire
            try:
                doc["checkpointed_at"] = datetime.fromisoformat(doc["checkpointed_at"])
            except ValueError as exc:
                raise PermanentError(f"checkpoint {envelope.id}: bad checkpointed_at") from exc
        try:
            await self._coll.insert_one(doc)
        except DuplicateKeyError:
            return  # redelivered

    async def latest(self, district: str, *, limit: int = 5) -> list[dict[str, Any]]:
        """The district's newest checkpoints (highest ``seq`` first)."""
        return await self._coll.find({"district": district}, sort=[("seq", -1)], limit=limit)
