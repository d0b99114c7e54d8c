"""What the caller may do to a referral now (``Referral.viewerCan`` / ``availableActions``,
issue 18), computed by the mutations themselves: each command runs as a dry run through its
own handler (the authorization matrix, the domain's state rules, the reservation checks) and
stops where it would write. No second copy of the rules: an action is offered exactly when
its mutation would succeed now, and a refused one carries the refusal the mutation answers.

Only the acts whose handlers write nothing but the referral are tried (the send, which draws
a 文号, and the acts that need a client's choice, e.g. a decline's interim handler, are not)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from kernel.caller import Caller
from kernel.errors import DomainError
from referral.application import commands as c
from referral.application.referrals import ReferralCommands
from referral.application.runner import DryRunReached, dry_run

__all__ = ["ACTIONS", "ActionCheck", "viewer_can"]

# A placeholder for a free text the client will write; the dry run checks the state and the
# caller, not the wording (an empty text is the mutation's own VALIDATION_FAILED).
_TEXT = "（待填写）"


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


@dataclass(frozen=True)
class ActionCheck:
    """One mutation and whether the caller may run it now; ``refusal`` is what it would
    answer otherwise."""

    action: str
    refusal: DomainError | None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


async def viewer_can(
    handlers: ReferralCommands, referral_id: str, caller: Caller
) -> list[ActionCheck]:
    """Each of :data:`ACTIONS`, tried as a dry run by ``caller`` on the referral."""
    found: list[ActionCheck] = []
    with dry_run():
        for name, attempt in ACTIONS.items():
            try:
                await attempt(handlers, referral_id, caller)
            except DryRunReached:
                found.append(ActionCheck(name, None))
            except DomainError as exc:
                found.append(ActionCheck(name, exc))
            else:  # pragma: no cover - a handler that wrote without its runner's commit
                raise RuntimeError(f"{name} returned in a dry run; it must commit by the runner")
    return found
