"""The receiver's side of a referral (R-REF-06 … R-REF-08, R-REF-13): acceptance, decline
or passing it on, the penalty, the handling and its result, closing, and the 督办 that
reaches the receiver."""

from __future__ import annotations

from datetime import datetime

from kernel.caller import Caller
from referral.application.commands import (
    AcceptReferral,
    AnswerSupervision,
    CloseReferral,
    DeclineReferral,
    ForwardReferral,
    MarkHandled,
    RecordPenalty,
    ReportResult,
    SuperviseReferral,
)
from referral.application.competence import CompetenceChecks
from referral.application.complaints import ComplaintLedger
from referral.application.runner import Runner, actor_of
from referral.contracts.published import (
    ReferralAcceptedV1,
    ReferralClosedV1,
    ReferralDeclinedV1,
    ReferralForwardedV1,
    ReferralHandledV1,
    ReferralPenaltyRecordedV1,
    ReferralResultReportedV1,
    ReferralSupervisedV1,
    ReferralSupervisionAnsweredV1,
)
from referral.domain.complaint import ComplaintStatus
from referral.domain.model import (
    Actor,
    Penalty,
    Referral,
)
from referral.domain.model.penalties import normalize_penalty_kinds
from referral.policy import policy_of


class ReceivingCommands(CompetenceChecks):
    def __init__(self, run: Runner, ledger: ComplaintLedger) -> None:
        super().__init__(run)
        self.ledger = ledger

    # -- receiving --------------------------------------------------------------------

    async def accept(self, cmd: AcceptReferral, caller: Caller) -> Referral:
        def extra(_: Referral, after: Referral) -> dict[str, object]:
            report = after.clock("report")
            return {
                "statement": after.acceptance_statement,
                "report_due": report.due if report else None,
            }

        async def move(r: Referral, actor: Actor, now: datetime) -> Referral:
            if r.competence is not None:
                await self.check_reservation(r, now, doing="accept")
            return r.accept(actor, now, cmd.statement, self.clocks.report(now, r.receiver_id))

        return await self.run.transit(
            "acceptReferral", cmd.referral_id, caller, move, ReferralAcceptedV1, extra
        )

    async def decline(self, cmd: DeclineReferral, caller: Caller) -> Referral:
        async def move(r: Referral, actor: Actor, now: datetime) -> Referral:
            return r.decline(
                actor,
                now,
                may_refuse=policy_of(self.ports.policy).acceptance.may_refuse,
                reasons=cmd.reasons,
                catalogue_basis=cmd.catalogue_basis,
                interim_handler=await self.run.agency(cmd.interim_handler_id),
                interim_handler_id=cmd.interim_handler_id,
            )

        def extra(_: Referral, after: Referral) -> dict[str, object]:
            assert after.decline_info is not None
            return {
                "township_id": after.township_id,
                "reasons": after.decline_info.reasons,
                "catalogue_basis": after.decline_info.catalogue_basis,
                "interim_handler_id": after.decline_info.interim_handler_id,
                "declined_at": after.decline_info.at,
            }

        return await self.run.transit(
            "declineReferral", cmd.referral_id, caller, move, ReferralDeclinedV1, extra
        )

    async def forward(self, cmd: ForwardReferral, caller: Caller) -> Referral:
        """R-REF-07, CQ 四(二): pass the case at once to the competent agency (the catalogue
        decides who that is); the first receiver keeps a clock until it accepts."""

        async def move(r: Referral, actor: Actor, now: datetime) -> Referral:
            competence = await self.assess_competence(
                r.matter_code, r.township_id, now, r.penalty_kinds, r.possible_fine_yuan
            )
            accept = self.clocks.accept(now, cmd.to_agency_id)
            return r.forward(
                actor,
                now,
                may_forward=policy_of(self.ports.policy).acceptance.forward_when_not_competent,
                to=await self.run.agency(cmd.to_agency_id),
                to_id=cmd.to_agency_id,
                reasons=cmd.reasons,
                competence=competence,
                accept_clock=accept,
                first_receiver_clock=self.clocks.first_receiver(accept, now),
            )

        def extra(before: Referral, after: Referral) -> dict[str, object]:
            accept = after.accept_deadline
            return {
                "previous_receiver_id": before.receiver_id,
                "first_receiver_id": after.first_receiver_id or before.receiver_id,
                "reasons": cmd.reasons.strip(),
                "accept_due": accept.due if accept else None,
            }

        return await self.run.transit(
            "forwardReferral", cmd.referral_id, caller, move, ReferralForwardedV1, extra
        )

    async def record_penalty(self, cmd: RecordPenalty, caller: Caller) -> Referral:
        """The receiver's penalty decision, checked against the law's kinds and, for a major
        one, against the catalogue's reservation (R-CAT-03). The kinds are checked once the
        caller is authorized (``move`` runs after), so an outsider learns nothing from them."""

        async def move(r: Referral, actor: Actor, now: datetime) -> Referral:
            kinds = normalize_penalty_kinds(cmd.kinds)
            await self.check_reservation(
                r, now, kinds=kinds, fine_yuan=cmd.fine_yuan, doing="record the penalty"
            )
            return r.record_penalty(
                actor, now, Penalty(cmd.kinds, cmd.fine_yuan, cmd.decision_number, now)
            )

        return await self.run.transit(
            "recordReferralPenalty",
            cmd.referral_id,
            caller,
            move,
            ReferralPenaltyRecordedV1,
            {
                "decision_number": cmd.decision_number.strip(),
                "kinds": list(cmd.kinds),
                "fine_yuan": cmd.fine_yuan,
            },
        )

    async def mark_handled(self, cmd: MarkHandled, caller: Caller) -> Referral:
        return await self.run.transit(
            "markReferralHandled",
            cmd.referral_id,
            caller,
            lambda r, actor, now: r.mark_handled(actor, now, cmd.summary),
            ReferralHandledV1,
            {"summary": cmd.summary},
        )

    async def report_result(self, cmd: ReportResult, caller: Caller) -> Referral:
        """R-REF-08: result to the sender; a complaint-born case also tells the complainant."""
        saved = await self.run.transit(
            "reportReferralResult",
            cmd.referral_id,
            caller,
            lambda r, actor, now: r.report_result(actor, now, cmd.result),
            ReferralResultReportedV1,
            lambda _, after: {"result": after.result, "complaint_id": after.complaint_id},
        )
        if saved.complaint_id and self.ports.complaints_port is not None:
            # A second aggregate: if this write fails the referral's result stands and the
            # complaint can still be told by tellComplainantResult (same outcome).
            complaint = await self.ports.complaints.get(saved.complaint_id)
            if complaint is not None and complaint.status is ComplaintStatus.REFERRED:
                await self.ledger.tell_result(
                    complaint,
                    actor_of(caller.principal),
                    self.run.now(),
                    saved.result,
                    caller.correlation_id,
                )
        return saved

    async def close(self, cmd: CloseReferral, caller: Caller) -> Referral:
        return await self.run.transit(
            "closeReferral",
            cmd.referral_id,
            caller,
            lambda r, actor, now: r.close(actor, now),
            ReferralClosedV1,
        )

    async def supervise(self, cmd: SuperviseReferral, caller: Caller) -> Referral:
        """R-REF-13: the 督办 reaches the receiver with its own clock (policy
        ``supervision``)."""
        return await self.run.transit(
            "superviseReferral",
            cmd.referral_id,
            caller,
            lambda r, actor, now: r.supervise(
                actor, now, cmd.note, self.clocks.supervision(now, r.receiver_id)
            ),
            ReferralSupervisedV1,
            lambda _, after: {"note": cmd.note, "supervision_due": after.supervisions[-1].due},
        )

    async def answer_supervision(self, cmd: AnswerSupervision, caller: Caller) -> Referral:
        """R-REF-13: the receiver's written answer stops the 督办's clock."""

        def extra(before: Referral, _: Referral) -> dict[str, object]:
            pending = [s.agency_id for s in before.supervisions if s.answered_at is None]
            return {"answer": cmd.answer.strip(), "supervising_agency_ids": sorted(set(pending))}

        return await self.run.transit(
            "answerSupervision",
            cmd.referral_id,
            caller,
            lambda r, actor, now: r.answer_supervision(actor, now, cmd.answer),
            ReferralSupervisionAnsweredV1,
            extra,
        )
