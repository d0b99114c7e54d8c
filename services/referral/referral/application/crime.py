"""The crime route (R-REF-10, R-REF-14; State Council Decree 310): a suspected crime
transferred to public security, each step on its clock, for any agency (an accepted case,
or a referral drafted straight to the police). The rules are in
``referral.domain.model.crime``; the limits in the policy's ``crime_transfer`` section."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from kernel.caller import Caller
from referral.application import commands as c
from referral.application.runner import Runner
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


def _parties(_: Referral, after: Referral) -> dict[str, Any]:
    assert after.crime is not None
    return {"agency_id": after.crime.agency_id, "police_id": after.crime.police_id}


def _with(**more: Any) -> Callable[[Referral, Referral], dict[str, Any]]:
    def extra(before: Referral, after: Referral) -> dict[str, Any]:
        return {**_parties(before, after), **more}

    return extra


class CrimeHandlers:
    def __init__(self, run: Runner) -> None:
        self.run = run
        self.clocks = run.clocks

    async def report_suspected_crime(self, cmd: c.ReportSuspectedCrime, caller: Caller) -> Referral:
        async def move(r: Referral, actor: Actor, now: datetime) -> Referral:
            police = await self.run.agency(cmd.police_id)
            return route.report_suspected_crime(
                r,
                actor,
                now,
                police=police,
                police_id=cmd.police_id,
                reason=cmd.reason,
                head_clock=self.clocks.crime,
            )

        return await self.run.transit(
            "reportSuspectedCrime",
            cmd.referral_id,
            caller,
            move,
            ReferralCrimeReportedV1,
            _with(reason=cmd.reason.strip()),
        )

    async def decide_transfer(self, cmd: c.DecideCrimeTransfer, caller: Caller) -> Referral:
        return await self.run.transit(
            "decideCrimeTransfer",
            cmd.referral_id,
            caller,
            lambda r, actor, now: route.decide_transfer(
                r,
                actor,
                now,
                approve=cmd.approve,
                reason=cmd.reason,
                transfer_clock=self.clocks.crime,
                report_clock=self.clocks.report(now, r.receiver_id),
            ),
            ReferralCrimeTransferDecidedV1,
            _with(approved=cmd.approve, reason=cmd.reason.strip()),
        )

    async def transfer_to_police(self, cmd: c.TransferToPolice, caller: Caller) -> Referral:
        async def move(r: Referral, actor: Actor, now: datetime) -> Referral:
            police = await self.run.agency(cmd.police_id)
            return route.transfer_to_police(
                r,
                actor,
                now,
                police=police,
                police_id=cmd.police_id,
                reason=cmd.reason,
                police_clock=self.clocks.crime,
            )

        def extra(before: Referral, after: Referral) -> dict[str, Any]:
            assert after.crime is not None
            return {
                **_parties(before, after),
                "reason": after.crime.reason,
                "penalties_standing": list(after.crime.penalties_standing),
            }

        return await self.run.transit(
            "transferReferralToPolice",
            cmd.referral_id,
            caller,
            move,
            ReferralCrimeTransferredV1,
            extra,
        )

    async def record_police_decision(self, cmd: c.RecordPoliceDecision, caller: Caller) -> Referral:
        return await self.run.transit(
            "recordPoliceDecision",
            cmd.referral_id,
            caller,
            lambda r, actor, now: route.record_police_decision(
                r,
                actor,
                now,
                filed=cmd.filed,
                note=cmd.note,
                reasons=cmd.reasons,
                handover_clock=self.clocks.crime,
                reconsideration_clock=self.clocks.crime,
            ),
            ReferralPoliceDecidedV1,
            _with(filed=cmd.filed, note=cmd.note.strip(), reasons=cmd.reasons.strip()),
        )

    async def request_reconsideration(
        self, cmd: c.RequestCrimeReconsideration, caller: Caller
    ) -> Referral:
        return await self.run.transit(
            "requestCrimeReconsideration",
            cmd.referral_id,
            caller,
            lambda r, actor, now: route.request_reconsideration(
                r, actor, now, reason=cmd.reason, answer_clock=self.clocks.crime
            ),
            ReferralCrimeReconsiderationRequestedV1,
            _with(reason=cmd.reason.strip()),
        )

    async def answer_reconsideration(
        self, cmd: c.AnswerCrimeReconsideration, caller: Caller
    ) -> Referral:
        return await self.run.transit(
            "answerCrimeReconsideration",
            cmd.referral_id,
            caller,
            lambda r, actor, now: route.answer_reconsideration(
                r,
                actor,
                now,
                filed=cmd.filed,
                note=cmd.note,
                reasons=cmd.reasons,
                handover_clock=self.clocks.crime,
                supervision_clock=self.clocks.crime,
            ),
            ReferralPoliceDecidedV1,
            _with(
                filed=cmd.filed,
                note=cmd.note.strip(),
                reasons=cmd.reasons.strip(),
                reconsideration=True,
            ),
        )

    async def request_supervision(
        self, cmd: c.RequestProcuratorateSupervision, caller: Caller
    ) -> Referral:
        async def move(r: Referral, actor: Actor, now: datetime) -> Referral:
            procuratorate = await self.run.agency(cmd.procuratorate_id)
            return route.request_supervision(
                r,
                actor,
                now,
                procuratorate=procuratorate,
                procuratorate_id=cmd.procuratorate_id,
                reason=cmd.reason,
                outcome_clock=self.clocks.crime,
            )

        def extra(before: Referral, after: Referral) -> dict[str, Any]:
            crime = after.crime
            assert crime is not None
            police_note = crime.reconsideration_note or crime.decision_note
            return {
                **_parties(before, after),
                "procuratorate_id": crime.procuratorate_id,
                "reason": crime.supervision_reason,
                "police_note": police_note,
                "police_reasons": crime.decision_reasons,
            }

        return await self.run.transit(
            "requestProcuratorateSupervision",
            cmd.referral_id,
            caller,
            move,
            ReferralCrimeSupervisionRequestedV1,
            extra,
        )

    async def accept_not_filed(self, cmd: c.AcceptNotFiled, caller: Caller) -> Referral:
        return await self.run.transit(
            "reopenCaseAfterNotFiled",
            cmd.referral_id,
            caller,
            lambda r, actor, now: route.accept_not_filed(
                r, actor, now, note=cmd.note, report_clock=self.clocks.crime
            ),
            ReferralCrimeCaseReopenedV1,
            _with(note=cmd.note.strip()),
        )

    async def record_handover(self, cmd: c.RecordMaterialsHandover, caller: Caller) -> Referral:
        return await self.run.transit(
            "recordCrimeMaterialsHandover",
            cmd.referral_id,
            caller,
            lambda r, actor, now: route.record_handover(r, actor, now, note=cmd.note),
            ReferralCrimeMaterialsHandedOverV1,
            _with(note=cmd.note.strip()),
        )

    async def record_fine_paid(self, cmd: c.RecordFinePaid, caller: Caller) -> Referral:
        return await self.run.transit(
            "recordCrimeFinePaid",
            cmd.referral_id,
            caller,
            lambda r, actor, now: route.record_fine_paid(
                r,
                actor,
                now,
                decision_number=cmd.decision_number,
                amount_yuan=cmd.amount_yuan,
                paid_at=cmd.paid_at,
                receipt=cmd.receipt,
            ),
            ReferralCrimeFinePaidRecordedV1,
            _with(
                decision_number=cmd.decision_number.strip(),
                amount_yuan=cmd.amount_yuan,
                paid_at=cmd.paid_at,
            ),
        )
