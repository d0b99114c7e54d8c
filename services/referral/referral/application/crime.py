"""The crime route (R-REF-10): a suspected crime transferred to public security, and the
police's decision to open a case (立案) or not."""

from __future__ import annotations

from datetime import datetime

from kernel.caller import Caller
from referral.application.commands import RecordPoliceDecision, TransferToPolice
from referral.application.runner import Runner
from referral.contracts.published import ReferralCrimeTransferredV1, ReferralPoliceDecidedV1
from referral.domain.model import Actor, Referral


class CrimeHandlers:
    def __init__(self, run: Runner) -> None:
        self.run = run

    async def transfer_to_police(self, cmd: TransferToPolice, caller: Caller) -> Referral:
        async def move(r: Referral, actor: Actor, now: datetime) -> Referral:
            police = await self.run.agency(cmd.police_id)
            return r.transfer_to_police(actor, now, police, cmd.police_id, cmd.reason)

        return await self.run.transit(
            "transferReferralToPolice",
            cmd.referral_id,
            caller,
            move,
            ReferralCrimeTransferredV1,
            {"police_id": cmd.police_id, "reason": cmd.reason},
        )

    async def record_police_decision(self, cmd: RecordPoliceDecision, caller: Caller) -> Referral:
        clocks = self.run.clocks
        return await self.run.transit(
            "recordPoliceDecision",
            cmd.referral_id,
            caller,
            lambda r, actor, now: r.record_police_decision(
                actor,
                now,
                filed=cmd.filed,
                note=cmd.note,
                report_clock=clocks.report(now, r.receiver_id),
            ),
            ReferralPoliceDecidedV1,
            {"police_id": caller.agency_id, "filed": cmd.filed, "note": cmd.note},
        )
