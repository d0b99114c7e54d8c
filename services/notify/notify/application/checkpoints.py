"""Signed checkpoints of the full-process record's head (issue 16, finding 8).

Every ``interval`` at most, when the district's chain has grown since the last checkpoint,
notify signs (district, seq, head hash, time) and publishes ``record.checkpointed.v1``
through its outbox (the document ``record_checkpoints/<district>:<seq>`` carries it, so
replicas racing for the same head publish it once). See ``notify.domain.record``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from kernel.envelope import new_envelope
from kernel.outbox import AggregateCollection, ConcurrencyError
from notify.adapters.checkpoint_key import CheckpointSigner
from notify.adapters.record import RecordRepository
from notify.contracts.published import RecordCheckpointedV1
from notify.domain.record import Checkpoint

SERVICE = "notify"


class RecordCheckpoints:
    def __init__(
        self,
        records: RecordRepository,
        checkpoints: AggregateCollection,
        signer: CheckpointSigner,
        district: str,
        clock: Callable[[], datetime],
        interval: timedelta,
    ) -> None:
        self.records = records
        self.checkpoints = checkpoints
        self.signer = signer
        self.district = district
        self.clock = clock
        self.interval = interval

    async def run_once(self) -> int:
        """Publish a checkpoint when the chain grew and the last one is ``interval`` old;
        returns 1 when one was published (never "found work": the worker then sleeps)."""
        tip = await self.records.tip(self.district)
        if tip is None:
            return 0
        seq, head = tip
        last = await self.checkpoints.collection.find(
            {"district": self.district}, sort=[("seq", -1)], limit=1
        )
        now = self.clock()
        if last:
            if int(last[0]["seq"]) >= seq:
                return 0
            made = last[0]["checkpointed_at"]
            made = made if made.tzinfo else made.replace(tzinfo=now.tzinfo)
            if now - made < self.interval:
                return 0
        signed = self.signer.sign(Checkpoint(self.district, seq, head, now))
        doc_id = f"{self.district}:{seq}"
        envelope = new_envelope(
            RecordCheckpointedV1(
                district=self.district,
                seq=seq,
                head=head,
                checkpointed_at=signed.checkpointed_at,
                key_id=signed.key_id,
                signature=signed.signature,
            ),
            district=self.district,
            service=SERVICE,
            subject=doc_id,
            event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"liandong:checkpoint:{doc_id}")),
            time=now,
        )
        try:
            await self.checkpoints.insert(
                {"_id": doc_id, "district": self.district, "seq": seq, "checkpointed_at": now},
                [envelope],
            )
        except ConcurrencyError:
            return 0  # another replica checkpointed this head
        return 0
