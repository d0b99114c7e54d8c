"""Coordination follows the referrals (issue 16, finding 1): every referral change read from
the bus updates its own record of the referral (``domain.known_referrals``), and a dispute or
case-transfer request that names a referral is checked against that record — services never
import each other, so this is the only way coordination knows a referral exists."""

from __future__ import annotations

from coordination.adapters.known_referrals import KnownReferrals
from coordination.contracts.consumed import ReferralChange
from coordination.domain.known_referrals import KnownReferral, unknown_referral
from kernel.envelope import Envelope
from kernel.errors import Conflict

#: The referral events that change who holds a referral or its state (each carries the
#: referral, its sender and receiver and ``state_after``).
FOLLOWED_EVENTS = (
    "referral.sent.v1",
    "referral.accepted.v1",
    "referral.declined.v1",
    "referral.forwarded.v1",
    "referral.reassigned.v1",
    "referral.receiver_confirmed.v1",
    "referral.returned_to_sender.v1",
    "referral.crime_transferred.v1",
    "referral.handled.v1",
    "referral.result_reported.v1",
    "referral.closed.v1",
    "referral.withdrawn.v1",
)


#: The change that normally creates the record: it is written at once, without reading first
#: (issue 21, P5: the read found nothing for every new referral); a record already stored
#: (the event redelivered, the referral sent again) turns the write away and the change is
#: read and merged as any other.
FIRST_EVENT = "referral.sent.v1"

#: Reads and merges of one change before it is left to the bus's redelivery: each failed
#: attempt means another change of the same referral was stored in between.
MERGE_ATTEMPTS = 16


class ReferralFollower:
    def __init__(self, known: KnownReferrals) -> None:
        self.known = known

    async def when_referral_changed_remember_it(self, envelope: Envelope) -> None:
        """Any followed change, in any order and any number of times (idempotent), also
        several of one referral at once (a consumer handles messages concurrently): the
        record is read, merged (``KnownReferral.heard``) and written only if no other change
        wrote it meanwhile; otherwise read and merged again."""
        change = ReferralChange.model_validate(envelope.data)
        at = change.at or envelope.time
        unread = envelope.type == FIRST_EVENT
        for _ in range(MERGE_ATTEMPTS):
            if unread:
                existing, version, unread = None, 0, False
            else:
                existing, version = await self.known.get_versioned(change.referral_id)
            found = existing or KnownReferral(
                referral_id=change.referral_id,
                sender_id=change.sender_id,
                receiver_id=change.receiver_id,
                state=change.state_after or "sent",
                at=at,
                parties=(change.sender_id,),
            )
            heard = found.heard(
                receiver_id=change.receiver_id,
                state=change.state_after,
                at=at,
                others=(change.previous_receiver_id, change.first_receiver_id),
            )
            if existing is not None and heard == existing:
                return
            if await self.known.put(heard, read_version=version):
                return
        # Redelivered by the bus, it is merged again then.
        raise Conflict(
            f"referral {change.referral_id}: coordination's record changed under "
            f"{MERGE_ATTEMPTS} merges in a row"
        )

    async def check_case_transfer(
        self, referral_id: str, township_id: str, *, by_party: bool
    ) -> None:
        """R-DSP-04: the named referral is known, open, and the township one of its parties."""
        found = await self.known.get(referral_id)
        if found is None:
            raise unknown_referral(referral_id)
        found.check_case_transfer(township_id, by_party=by_party)
