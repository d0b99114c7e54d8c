"""The crime route (R-REF-10, R-REF-14; State Council Decree 310): a suspected crime
transferred to public security, each step on its clock, for any agency (an accepted case,
or a referral drafted straight to the police). The rules are in
``referral.domain.model.crime``; the limits in the policy's ``crime_transfer`` section."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from kernel.caller import Caller
from kernel.envelope import EventPayload
from referral.application import commands as c
from referral.application.runner import Extra, Move, Runner
from referral.contracts.published import (
    ReferralCrimeCaseReopenedV1,
    ReferralCrimeFinePaidRecordedV1,
    ReferralCrimeMaterialsHandedOverV1,
    ReferralCrimeReconsiderationRequestedV1,
    ReferralCrimeReportedV1,
    ReferralCrimeSupervisionRequestedV1,
    ReferralCrimeTransferDecidedV1,
    ReferralCrimeTransferredV1,
    ReferralPoliceDecidedV1,
)
from referral.domain.model import Actor, Referral
from referral.domain.model import crime as route

__all__ = ["CrimeHandlers"]


#: The event each act publishes, by the act's operation (the graph's name of it).
_EVENTS: dict[str, Callable[..., EventPayload]] = {
    "reportSuspectedCrime": ReferralCrimeReportedV1,
    "decideCrimeTransfer": ReferralCrimeTransferDecidedV1,
    "transferReferralToPolice": ReferralCrimeTransferredV1,
    "recordPoliceDecision": ReferralPoliceDecidedV1,
    "requestCrimeReconsideration": ReferralCrimeReconsiderationRequestedV1,
    "answerCrimeReconsideration": ReferralPoliceDecidedV1,
    "requestProcuratorateSupervision": ReferralCrimeSupervisionRequestedV1,
    "reopenCaseAfterNotFiled": ReferralCrimeCaseReopenedV1,
    "recordCrimeMaterialsHandover": ReferralCrimeMaterialsHandedOverV1,
    "recordCrimeFinePaid": ReferralCrimeFinePaidRecordedV1,
}


def _parties(_: Referral, after: Referral) -> dict[str, Any]:
    assert after.crime is not None
    return {"agency_id": after.crime.agency_id, "police_id": after.crime.police_id}


class CrimeHandlers:
    """Each act of the route is one transition through the runner (load → authorize → the
    domain's step → event → commit, ``Runner.transit``); :meth:`_act` names the operation
    (its event is ``_EVENTS``'), the step and the event's fields beyond the parties."""

    def __init__(self, run: Runner) -> None:
        self.run = run
        self.clocks = run.clocks

    async def _act(
        self,
        operation: str,
        cmd: Any,
        caller: Caller,
        move: Move,
        extra: Extra | None = None,
        **fields: Any,
    ) -> Referral:
        """The transition ``operation`` of ``cmd.referral_id``: ``move`` in the domain, then
        its event with the parties, ``fields`` and what ``extra`` adds from the referral
        before and after."""

        def more(before: Referral, after: Referral) -> dict[str, Any]:
            added = extra(before, after) if extra is not None else {}
            return {**_parties(before, after), **fields, **added}

        payload = _EVENTS[operation]
        return await self.run.transit(operation, cmd.referral_id, caller, move, payload, more)

    def _naming(self, role: str, agency_id: str, step: Callable[..., Referral], **kw: Any) -> Move:
        """A step that needs the agency ``agency_id`` (the police, the procuratorate) looked
        up first; ``step`` gets it as ``role`` (None when it is not registered)."""

        async def move(r: Referral, actor: Actor, now: datetime) -> Referral:
            return step(r, actor, now, **{role: await self.run.agency(agency_id)}, **kw)

        return move

    def _decision(
        self, cmd: c.RecordPoliceDecision | c.AnswerCrimeReconsideration
    ) -> dict[str, Any]:
        """The police's written decision as the domain takes it, with the hand-over clock."""
        return {**_decided(cmd), "note": cmd.note, "handover_clock": self.clocks.crime}

    async def report_suspected_crime(self, cmd: c.ReportSuspectedCrime, caller: Caller) -> Referral:
        step, clock = route.report_suspected_crime, self.clocks.crime
        police = {"police_id": cmd.police_id, "reason": cmd.reason}
        move = self._naming("police", cmd.police_id, step, **police, head_clock=clock)
        return await self._act("reportSuspectedCrime", cmd, caller, move, reason=cmd.reason.strip())

    async def decide_transfer(self, cmd: c.DecideCrimeTransfer, caller: Caller) -> Referral:
        def move(r: Referral, actor: Actor, now: datetime) -> Referral:
            return route.decide_transfer(
                r,
                actor,
                now,
                approve=cmd.approve,
                reason=cmd.reason,
                transfer_clock=self.clocks.crime,
                report_clock=self.clocks.report(now, r.receiver_id),
            )

        reason = cmd.reason.strip()
        return await self._act(
            "decideCrimeTransfer", cmd, caller, move, approved=cmd.approve, reason=reason
        )

    async def transfer_to_police(self, cmd: c.TransferToPolice, caller: Caller) -> Referral:
        def extra(_: Referral, after: Referral) -> dict[str, Any]:
            assert after.crime is not None
            standing = list(after.crime.penalties_standing)
            return {"reason": after.crime.reason, "penalties_standing": standing}

        step, clock = route.transfer_to_police, self.clocks.crime
        police = {"police_id": cmd.police_id, "reason": cmd.reason}
        move = self._naming("police", cmd.police_id, step, **police, police_clock=clock)
        return await self._act("transferReferralToPolice", cmd, caller, move, extra)

    async def record_police_decision(self, cmd: c.RecordPoliceDecision, caller: Caller) -> Referral:
        kw = self._decision(cmd)
        move = partial(route.record_police_decision, **kw, reconsideration_clock=self.clocks.crime)
        return await self._act("recordPoliceDecision", cmd, caller, move, **_decided(cmd, True))

    async def request_reconsideration(
        self, cmd: c.RequestCrimeReconsideration, caller: Caller
    ) -> Referral:
        step, clock = route.request_reconsideration, self.clocks.crime
        move = partial(step, reason=cmd.reason, answer_clock=clock)
        reason = cmd.reason.strip()
        return await self._act("requestCrimeReconsideration", cmd, caller, move, reason=reason)

    async def answer_reconsideration(
        self, cmd: c.AnswerCrimeReconsideration, caller: Caller
    ) -> Referral:
        kw = self._decision(cmd)
        move = partial(route.answer_reconsideration, **kw, supervision_clock=self.clocks.crime)
        fields: dict[str, Any] = {**_decided(cmd, True), "reconsideration": True}
        return await self._act("answerCrimeReconsideration", cmd, caller, move, **fields)

    async def request_supervision(
        self, cmd: c.RequestProcuratorateSupervision, caller: Caller
    ) -> Referral:
        def extra(_: Referral, after: Referral) -> dict[str, Any]:
            crime = after.crime
            assert crime is not None
            note = crime.reconsideration_note or crime.decision_note
            reasons = {"reason": crime.supervision_reason, "police_reasons": crime.decision_reasons}
            return {"procuratorate_id": crime.procuratorate_id, "police_note": note, **reasons}

        step, clock = route.request_supervision, self.clocks.crime
        asked = {"procuratorate_id": cmd.procuratorate_id, "reason": cmd.reason}
        move = self._naming(
            "procuratorate", cmd.procuratorate_id, step, **asked, outcome_clock=clock
        )
        return await self._act("requestProcuratorateSupervision", cmd, caller, move, extra)

    async def accept_not_filed(self, cmd: c.AcceptNotFiled, caller: Caller) -> Referral:
        move = partial(route.accept_not_filed, note=cmd.note, report_clock=self.clocks.crime)
        return await self._act("reopenCaseAfterNotFiled", cmd, caller, move, note=cmd.note.strip())

    async def record_handover(self, cmd: c.RecordMaterialsHandover, caller: Caller) -> Referral:
        move = partial(route.record_handover, note=cmd.note)
        note = cmd.note.strip()
        return await self._act("recordCrimeMaterialsHandover", cmd, caller, move, note=note)

    async def record_fine_paid(self, cmd: c.RecordFinePaid, caller: Caller) -> Referral:
        paid: dict[str, Any] = {"amount_yuan": cmd.amount_yuan, "paid_at": cmd.paid_at}
        number = cmd.decision_number
        move = partial(route.record_fine_paid, decision_number=number, receipt=cmd.receipt, **paid)
        fields = {"decision_number": number.strip(), **paid}
        return await self._act("recordCrimeFinePaid", cmd, caller, move, **fields)


def _decided(
    cmd: c.RecordPoliceDecision | c.AnswerCrimeReconsideration, stripped: bool = False
) -> dict[str, Any]:
    """The decision's fields: as given (for the domain) or stripped with the note (event)."""
    if not stripped:
        return {"filed": cmd.filed, "reasons": cmd.reasons}
    return {"filed": cmd.filed, "note": cmd.note.strip(), "reasons": cmd.reasons.strip()}
