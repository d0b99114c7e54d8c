"""A referral drafted straight to public security (route ``crime``) follows the crime route
through the ordinary acts (R-REF-14): its submit is the written report to the head, its
approval the head's decision, its sending the transfer. The runner asks this module after
each commit-bound change, so the ordinary handlers need not know the route."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kernel.envelope import EventPayload
from referral.application.clocks import ReferralClocks
from referral.contracts.published import (
    ReferralCrimeReportedV1,
    ReferralCrimeTransferDecidedV1,
    ReferralCrimeTransferredV1,
)
from referral.domain.model import CrimeStage, Referral
from referral.domain.model import crime as route

__all__ = ["direct_transfer_follow_up"]


def direct_transfer_follow_up(
    clocks: ReferralClocks, moved: Referral
) -> tuple[Referral, Callable[..., EventPayload] | None, dict[str, Any]]:
    """After submit / approve / send of a referral drafted straight to the police: the crime
    record and the Decree 310 clock of the step (R-REF-14), and the event that carries it
    (its type and fields beyond the common ones). Unchanged otherwise."""
    followed = route.follow_direct_transfer(moved, clocks.crime)
    if followed is None or followed.crime is None:
        return moved, None, {}
    crime = followed.crime
    base = {"agency_id": crime.agency_id, "police_id": crime.police_id}
    if crime.stage is CrimeStage.REPORTED:
        return followed, ReferralCrimeReportedV1, {**base, "reason": crime.reason}
    if crime.stage is CrimeStage.APPROVED:
        return followed, ReferralCrimeTransferDecidedV1, {**base, "approved": True}
    return (
        followed,
        ReferralCrimeTransferredV1,
        {**base, "reason": crime.reason, "penalties_standing": list(crime.penalties_standing)},
    )
