"""What the caller may do to a referral now (``Referral.viewerCan`` / ``availableActions``,
issue 18), computed by the mutations themselves as dry runs (:mod:`kernel.actions`).

Only the acts whose handlers write nothing but the referral are tried (the send, which draws
a 文号, and the acts that need a client's choice, e.g. a decline's interim handler, are not)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from kernel.actions import TEXT_TO_WRITE as _TEXT
from kernel.actions import ActionCheck, try_actions
from kernel.caller import Caller
from referral.application import commands as c
from referral.application.referrals import ReferralCommands

__all__ = ["ACTIONS", "ActionCheck", "viewer_can"]

Try = Callable[[ReferralCommands, str, Caller], Awaitable[object]]

#: The mutations tried, by their graph name, each as its handler is called.
ACTIONS: dict[str, Try] = {
    "submitReferral": lambda h, rid, who: h.submit(c.SubmitReferral(rid), who),
    "approveReferral": lambda h, rid, who: h.approve(c.ApproveReferral(rid), who),
    "withdrawReferral": lambda h, rid, who: h.withdraw(c.WithdrawReferral(rid, _TEXT), who),
    "acceptReferral": lambda h, rid, who: h.accept(c.AcceptReferral(rid, _TEXT), who),
    "markReferralHandled": lambda h, rid, who: h.mark_handled(c.MarkHandled(rid, _TEXT), who),
    "reportReferralResult": lambda h, rid, who: h.report_result(c.ReportResult(rid, _TEXT), who),
    "closeReferral": lambda h, rid, who: h.close(c.CloseReferral(rid), who),
}


async def viewer_can(
    handlers: ReferralCommands, referral_id: str, caller: Caller
) -> list[ActionCheck]:
    """Each of :data:`ACTIONS`, tried as a dry run by ``caller`` on the referral."""
    return await try_actions(
        {name: partial(attempt, handlers, referral_id, caller) for name, attempt in ACTIONS.items()}
    )
