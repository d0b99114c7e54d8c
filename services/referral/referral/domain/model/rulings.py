"""A dispute's ruling applied to the referral it is about. Pure Python.

* R-DSP-03 / R-REF-07: the ruling on a declined referral reassigns it to the responsible
  agency (a new accept clock), confirms the receiver, or returns it to the sender.
* R-DSP-04: a township asked that a case it received go to the original department (major,
  complex, recusal) and the government agreed: the referral moves from the township to the
  responsible department, whatever stage it is at (sent or accepted); the township's clocks
  stop and the department's accept clock starts. Only the township that asked — the
  referral's current receiver — can be relieved of it this way.

Idempotent: a ruling already applied changes nothing.
"""

from __future__ import annotations

from dataclasses import replace

from referral.domain.model.aggregate import Referral, Status
from referral.domain.model.values import Actor, DeadlineInfo, Ruling

__all__ = ["TRANSFERABLE", "apply_ruling"]

#: The referral states a case-transfer ruling moves the case from (R-DSP-04).
TRANSFERABLE = (Status.SENT, Status.ACCEPTED)


def apply_ruling(
    r: Referral,
    ruling: Ruling,
    accept_clock: DeadlineInfo | None,
    system: Actor,
    *,
    transfer_from: str | None = None,
) -> Referral | None:
    """``transfer_from``: the township of an R-DSP-04 case-transfer ruling (None for a
    jurisdiction ruling). None: nothing to do (redelivered, or the referral no longer waits on
    this ruling)."""
    if any(x.dispute_id == ruling.dispute_id for x in r.rulings):
        return None
    if transfer_from is not None:
        if (
            r.status not in TRANSFERABLE
            or r.receiver_id != transfer_from
            or ruling.responsible_agency_id == r.receiver_id
        ):
            return None
        # The township's clocks stop: the case is no longer its to accept or report on.
        base = r._stop_clocks("cancelled", "accept", "report")
        action = "case_transferred"
    elif r.status is Status.DECLINED:
        base = r
        reassigned = ruling.responsible_agency_id != r.receiver_id
        action = "reassign" if reassigned else "ruling_confirmed_receiver"
    else:
        return None
    if ruling.responsible_agency_id == r.sender_id:
        # The sender itself is responsible: the case goes back to it; nothing to accept.
        moved = base._moved(
            "ruling_returned_to_sender", system, ruling.applied_at, Status.CLOSED, ruling.basis
        )
        return replace(moved, rulings=(*r.rulings, replace(ruling, reassigned=True)))
    moved = base._moved(action, system, ruling.applied_at, Status.SENT, ruling.basis)
    return _reassigned(r, moved, ruling, accept_clock)


def _reassigned(
    before: Referral, moved: Referral, ruling: Ruling, accept_clock: DeadlineInfo | None
) -> Referral:
    """``moved`` now with the ruling's responsible agency as receiver, and its accept clock."""
    reassigned = ruling.responsible_agency_id != before.receiver_id
    moved = replace(
        moved,
        receiver_id=ruling.responsible_agency_id,
        previous_receivers=(
            (*before.previous_receivers, before.receiver_id)
            if reassigned
            else before.previous_receivers
        ),
        rulings=(*before.rulings, replace(ruling, reassigned=reassigned)),
    )
    if accept_clock is not None:
        moved = moved._start_clock(
            replace(accept_clock, responsible_agency_id=ruling.responsible_agency_id)
        )
    return moved
