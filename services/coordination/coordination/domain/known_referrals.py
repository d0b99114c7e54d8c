"""What coordination knows of a referral (issue 16, finding 1), from the referral service's
events alone — services never import each other, so this is coordination's own reading of
``referral.*`` changes: who sent it, who holds it now, who held it before, and its state.

A case-transfer request (R-DSP-04) names a referral; it is checked here: the referral was
sent (coordination heard of it), is still with a receiver and not finished, and the township
asking is one of its parties. A referral coordination has not heard of cannot be named — so
nobody can attach a dispute to a referral that does not exist or is not theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from coordination.domain.errors import Forbidden, InvalidState, NotFound

#: Referral states in which the case is with a receiver and not yet handled: a township may
#: ask that it go to the original department (R-DSP-04). A declined referral has its own
#: dispute (R-REF-07); a crime case is with the police; a handled or closed one is done.
TRANSFERABLE_STATES = frozenset({"sent", "accepted"})


@dataclass(frozen=True)
class KnownReferral:
    referral_id: str
    sender_id: str
    receiver_id: str
    state: str
    #: The time of the latest change read; an older change read late changes nothing.
    at: datetime
    #: Every agency that sent or held the referral (sender, receivers before and now).
    parties: tuple[str, ...] = ()

    def heard(
        self, *, receiver_id: str, state: str | None, at: datetime, others: tuple[str, ...]
    ) -> KnownReferral:
        """This referral after a change read from the bus (in any order, any number of
        times: the parties only grow, the state follows the latest change)."""
        parties = tuple(dict.fromkeys(p for p in (*self.parties, receiver_id, *others) if p))
        if at < self.at or state is None:
            return replace(self, parties=parties)
        return replace(
            self, receiver_id=receiver_id or self.receiver_id, state=state, at=at, parties=parties
        )

    def check_case_transfer(self, township_id: str, *, by_party: bool) -> None:
        """R-DSP-04 on this referral: the township is a party and the case is still open.
        ``by_party``: the caller acts for the township (else the government decides)."""
        if township_id not in self.parties:
            error = Forbidden if by_party else InvalidState
            raise error(
                f"{township_id} is not a party to referral {self.referral_id}",
                field="referralId",
            )
        if self.state not in TRANSFERABLE_STATES:
            raise InvalidState(
                f"referral {self.referral_id} is {self.state}; a case transfer may be asked "
                "only while the case is sent or accepted and not yet handled (R-DSP-04)",
                field="referralId",
                code="WRONG_STATUS",
            )


def unknown_referral(referral_id: str) -> NotFound:
    return NotFound(
        f"referral {referral_id!r} is not known to coordination (it learns of a referral "
        "when the referral is sent)",
        field="referralId",
    )
