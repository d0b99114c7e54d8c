"""The stall check (停滞检查, R-REF-07, issue 14): a referral that is not finished must at
every moment have a running clock or an owner that answers for it. Pure Python.

A referral is *finished* when it is closed, withdrawn, or its result is reported back to the
sender (R-REF-08: the receiver's loop is closed; the sender's closing of the file is a
formality with no statutory limit). A declined referral's clocks stop with the decline: its
owner is then the jurisdiction dispute coordination opened for it (R-DSP-01), whose step
clock runs there (``dispute_id`` is recorded when ``dispute.opened.v1`` arrives). Anything
else with no open clock is stalled: nobody is being timed to act on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from referral.domain.model import Referral, Status

__all__ = ["FINISHED", "Stall", "stall_of", "waiting_stall"]

#: States in which nothing more is owed on the referral.
FINISHED = (Status.CLOSED, Status.WITHDRAWN, Status.RESULT_REPORTED)


@dataclass(frozen=True)
class Stall:
    """One case that is not finished and that no clock or owner answers for."""

    subject_type: str
    subject_id: str
    status: str
    agency_ids: tuple[str, ...]
    """The agencies it sits with (the receiver first, then the sender)."""
    since: datetime
    """When it last changed (the moment its last clock stopped)."""
    reason: str


def stall_of(r: Referral) -> Stall | None:
    """None when ``r`` is finished, has a running clock, or waits on its dispute."""
    if r.status in FINISHED or r.open_clocks():
        return None
    if r.status is Status.DECLINED and r.dispute_id:
        return None
    if r.status is Status.DECLINED:
        reason = "declined, and no jurisdiction dispute was opened for it (R-REF-07)"
    else:
        reason = f"{r.status.value} with no running clock"
    since = r.history[-1].at if r.history else r.created_at
    return Stall("Referral", r.id, r.status.value, (r.receiver_id, r.sender_id), since, reason)


def waiting_stall(parked: Mapping[str, Any]) -> Stall:
    """A referred dispatch (R-GRD-01) parked until an agency it names registers: no referral
    exists for it yet, so no clock runs; listed until it is drafted (or, when the draft was
    refused after all, with the reason, for the operator)."""
    data = parked["envelope"]["data"]
    waiting = tuple(parked.get("waiting_for") or ())
    refused = str(parked.get("refused") or "")
    reason = (
        f"the draft was refused: {refused}"
        if refused
        else "referred to an agency not registered yet: " + ", ".join(waiting)
    )
    return Stall(
        "Dispatch",
        str(parked["_id"]),
        "refused" if refused else "waiting_for_agency",
        (str(data.get("receiver_id", "")), str(data.get("platform_id", ""))),
        parked["parked_at"],
        reason,
    )
