"""Referrals (案件移送): drafting, approval and sending, cases passed up (R-REF-09) and
consent to electronic transfer (R-REF-12). The receiver's side (acceptance or decline,
results, supervision 督办) is in ``receiving``, the catalogue's checks in ``competence``."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from kernel.authz import Relation
from kernel.caller import Caller
from kernel.errors import Forbidden, ValidationFailed
from referral.adapters.repository import ElectronicConsents
from referral.application.access import oversight_relations
from referral.application.commands import (
    ApproveReferral,
    CompleteReferralDraft,
    ConsentToUpwardReferral,
    DraftReferral,
    ExtendSendDeadline,
    RecordJusticeFiling,
    SendReferral,
    SetElectronicConsent,
    SubmitReferral,
    WithdrawReferral,
)
from referral.application.competence import OUTSIDE_CATALOGUE
from referral.application.complaints import ComplaintLedger
from referral.application.issuing import LetterIssuer
from referral.application.matrix import MATRIX
from referral.application.receiving import ReceivingCommands
from referral.application.runner import Runner, actor_of
from referral.contracts.published import (
    ElectronicConsentChangedV1,
    ReferralApprovedV1,
    ReferralConsentRecordedV1,
    ReferralDraftCompletedV1,
    ReferralDraftedV1,
    ReferralFiledWithJusticeV1,
    ReferralOngoingViolationReportedV1,
    ReferralSendDeadlineExtendedV1,
    ReferralSentV1,
    ReferralSubmittedV1,
    ReferralWithdrawnV1,
)
from referral.domain.model import (
    Actor,
    AgencyRef,
    Competence,
    DeadlineInfo,
    OngoingViolation,
    Referral,
    check_competence,
    draft_referral,
)
from referral.domain.model.penalties import normalize_penalty_kinds
from referral.policy import policy_of


class ReferralCommands(ReceivingCommands):
    """Drafting, approval and sending (the sender's side), cases passed up and consent to
    electronic transfer; the receiver's side is :class:`ReceivingCommands`, the competence
    checks :class:`CompetenceChecks`."""

    def __init__(self, run: Runner, ledger: ComplaintLedger, letters: LetterIssuer) -> None:
        super().__init__(run, ledger)
        self.letters = letters

    # -- drafting ---------------------------------------------------------------------

    async def draft(self, cmd: DraftReferral, caller: Caller) -> Referral:
        principal = caller.principal
        sending = {Relation.SENDER} if cmd.sender_id == principal.agency_id else set()
        MATRIX.authorize(
            principal,
            "referral.draftReferral",
            sending | oversight_relations(principal),
            field="senderId",
        )
        now = self.run.now()
        actor = actor_of(principal)
        sender = await self.run.agency(cmd.sender_id)
        receiver = await self.run.agency(cmd.receiver_id)
        township_id = cmd.township_id
        if township_id is None:
            # The place's township defaults to whichever side is a township.
            for side in (sender, receiver):
                if side is not None and side.kind == "township":
                    township_id = side.id
                    break
        origin = await self.run.load(cmd.forwarded_from) if cmd.forwarded_from else None
        if origin is not None and origin.receiver_id != actor.agency_id:
            raise Forbidden(
                "only the receiver of a referral can act on it",
                field="forwardedFrom",
                code="NOT_A_PARTY",
            )
        ongoing = _ongoing(cmd)
        # The law's kinds (行政处罚法第九条), as codes: "吊销许可证件" is revoke_licence (R-CAT-03).
        penalty_kinds = normalize_penalty_kinds(cmd.penalty_kinds, field="penaltyKinds")
        # R-REF-05: an ongoing violation makes the referral urgent (the urgent send clock).
        urgent = cmd.urgent or ongoing is not None
        competence = await self._competence(
            receiver,
            cmd.matter_code,
            township_id,
            now,
            penalty_kinds,
            cmd.possible_fine_yuan,
            cmd.found_at,
            cmd.competence_reason,
        )
        referral = draft_referral(
            referral_id=str(uuid.uuid4()),
            sender=sender,
            receiver=receiver,
            sender_id=cmd.sender_id,
            receiver_id=cmd.receiver_id,
            matter_code=cmd.matter_code,
            title=cmd.title,
            facts=cmd.facts,
            party=cmd.party,
            place=cmd.place,
            found_at=cmd.found_at,
            urgent=urgent,
            actor=actor,
            at=now,
            send_clock=self.clocks.send(cmd.found_at, urgent),
            township_id=township_id,
            penalty_kinds=penalty_kinds,
            possible_fine_yuan=cmd.possible_fine_yuan,
            competence=competence,
            ongoing=ongoing,
            major_or_difficult=cmd.major_or_difficult,
            complaint_id=cmd.complaint_id,
            origin=origin,
        )
        change = self.run.change(referral, referral, actor, now)
        change["state_before"] = None
        change["deadlines"] = [self.clocks.to_event(d, referral.id) for d in referral.deadlines]
        event = self.run.event(
            ReferralDraftedV1(
                **change,
                title=referral.title,
                urgent=referral.urgent,
                township_id=referral.township_id,
                complaint_id=referral.complaint_id,
                route=referral.route.value,
                ongoing_violation=ongoing is not None,
                stop_order=ongoing.stop_order if ongoing else None,
                immediate_notice=ongoing.notice if ongoing else None,
            ),
            referral.id,
            caller.correlation_id,
        )
        events = [event]
        if ongoing is not None:
            # R-REF-05: the competent agency is told immediately (立即), not when it is sent.
            told = ReferralOngoingViolationReportedV1(
                **{**change, "deadlines": []},
                title=referral.title,
                place=referral.place,
                party=referral.party,
                stop_order=ongoing.stop_order,
                stop_ordered_at=ongoing.stop_ordered_at,
                immediate_notice=ongoing.notice,
                notified_at=ongoing.notified_at,
            )
            events.append(self.run.event(told, referral.id, caller.correlation_id))
        await self.ports.referrals.add(referral, events)
        return replace(referral, version=1)

    async def _competence(
        self,
        receiver: AgencyRef | None,
        matter_code: str,
        township_id: str | None,
        now: datetime,
        penalty_kinds: tuple[str, ...],
        fine_yuan: int | None,
        found_at: datetime,
        reason: str,
    ) -> Competence | None:
        """R-CAT-02/03: the catalogue's check of the receiver for the matter (none for a
        receiver outside the catalogue, e.g. the police)."""
        if receiver is None or receiver.kind in OUTSIDE_CATALOGUE:
            return None
        assessed = await self.assess_competence(
            matter_code.strip(), township_id, now, penalty_kinds, fine_yuan, found_at
        )
        return check_competence(assessed, receiver.id, reason, receiver.kind)

    async def complete_draft(self, cmd: CompleteReferralDraft, caller: Caller) -> Referral:
        """The sender names the matter and the party a draft did not know (a draft made
        from a grid dispatch, R-GRD-01); the catalogue is checked as at drafting."""

        async def move(r: Referral, actor: Actor, now: datetime) -> Referral:
            if not cmd.matter_code.strip():
                raise ValidationFailed(
                    "matterCode must not be empty", field="matterCode", code="REQUIRED"
                )
            competence = await self._competence(
                await self.run.agency(r.receiver_id),
                cmd.matter_code,
                r.township_id,
                now,
                r.penalty_kinds,
                r.possible_fine_yuan,
                r.found_at,
                cmd.competence_reason,
            )
            return r.complete_draft(
                actor, now, matter_code=cmd.matter_code, party=cmd.party, competence=competence
            )

        return await self.run.transit(
            "completeReferralDraft",
            cmd.referral_id,
            caller,
            move,
            ReferralDraftCompletedV1,
            lambda _, after: {"party": after.party},
        )

    async def extend_send_deadline(self, cmd: ExtendSendDeadline, caller: Caller) -> Referral:
        s = policy_of(self.ports.policy).send

        def move(r: Referral, actor: Actor, now: datetime) -> Referral:
            return r.extend_send_deadline(
                actor,
                now,
                working_days=cmd.working_days,
                max_working_days=s.extension_max_working_days,
                limit_working_days=s.limit_working_days,
                reason=cmd.reason,
                notify_receiver=cmd.notify_receiver,
                new_clock=replace(
                    self.clocks.send(r.found_at, False, cmd.working_days),
                    responsible_agency_id=r.sender_id,
                ),
            )

        return await self.run.transit(
            "extendReferralSendDeadline",
            cmd.referral_id,
            caller,
            move,
            ReferralSendDeadlineExtendedV1,
            lambda before, _: {
                "working_days": cmd.working_days,
                "reason": cmd.reason.strip(),
                "notified_agency_id": before.receiver_id,
            },
        )

    async def submit(self, cmd: SubmitReferral, caller: Caller) -> Referral:
        return await self.run.transit(
            "submitReferral",
            cmd.referral_id,
            caller,
            lambda r, actor, now: r.submit_for_approval(actor, now),
            ReferralSubmittedV1,
        )

    async def approve(self, cmd: ApproveReferral, caller: Caller) -> Referral:
        return await self.run.transit(
            "approveReferral",
            cmd.referral_id,
            caller,
            lambda r, actor, now: r.approve(actor, now),
            ReferralApprovedV1,
        )

    def accept_deadline(self, sent_at: datetime, receiver_id: str = "") -> DeadlineInfo | None:
        """R-REF-06: the receiver states in writing within the district's limit."""
        return self.clocks.accept(sent_at, receiver_id)

    async def send(self, cmd: SendReferral, caller: Caller) -> Referral:
        principal = caller.principal
        referral = await self.run.load_for("sendReferral", cmd.referral_id, principal)
        now = self.run.now()
        actor = actor_of(principal)
        competence = referral.competence
        if referral.competence is not None:
            # The catalogue may have changed since the draft: check again on the send date;
            # a reason stated at draft time still covers a mismatch, never the major-penalty
            # reservation (R-CAT-03).
            again = await self.assess_competence(
                referral.matter_code,
                referral.township_id,
                now,
                referral.penalty_kinds,
                referral.possible_fine_yuan,
                referral.found_at,
            )
            receiver = await self.run.agency(referral.receiver_id)
            competence = check_competence(
                again,
                referral.receiver_id,
                referral.competence.override_reason,
                receiver.kind if receiver else None,
            )
        if cmd.electronic:
            consented, _ = await self.ports.consents.get(referral.receiver_id, referral.sender_id)
            if not consented:
                raise Forbidden(
                    "the receiving agency has not consented to electronic transfer from this "
                    "agency (R-REF-12); send the paper letter or ask for consent",
                    field="electronic",
                    code="ELECTRONIC_CONSENT_MISSING",
                )
        deadline = self.accept_deadline(now, referral.receiver_id)
        # Every check before the letter is issued (its number is drawn for good): the move
        # itself, then the stored contents (R-REF-02).
        referral.send(actor, now, deadline, competence=competence, electronic=cmd.electronic)
        await self.letters.check_stored(referral)
        issued = await self.letters.issue(referral, principal)
        moved = referral.send(
            actor,
            now,
            deadline,
            competence=competence,
            signature=issued.signature,
            electronic=cmd.electronic,
            issued_letter=issued.letter,
            letter_number=issued.number,
        )
        accept = moved.accept_deadline if deadline else None
        payload = ReferralSentV1(
            **self.run.change(referral, moved, actor, now),
            title=moved.title,
            urgent=moved.urgent,
            sent_at=now,
            accept_due=accept.due if accept else None,
            electronic=moved.electronic,
            letter_sha256=issued.signature.letter_sha256,
            letter_number=issued.number,
            competence_override_reason=competence.override_reason if competence else "",
            route=moved.route.value,
        )
        try:
            return await self.run.commit(moved, [payload], caller.correlation_id)
        except BaseException:
            # Not sent: the issued letter must not linger unowned (the number stays the
            # referral's, so the retried send issues it again under the same number).
            if issued.orphan_file_id is not None:
                await self.ports.files.delete(issued.orphan_file_id)
            raise

    async def withdraw(self, cmd: WithdrawReferral, caller: Caller) -> Referral:
        return await self.run.transit(
            "withdrawReferral",
            cmd.referral_id,
            caller,
            lambda r, actor, now: r.withdraw(actor, now, cmd.reason),
            ReferralWithdrawnV1,
            {"reason": cmd.reason},
        )

    # -- passed up (R-REF-09) -----------------------------------------------------------

    async def consent_to_upward(self, cmd: ConsentToUpwardReferral, caller: Caller) -> Referral:
        return await self.run.transit(
            "consentToUpwardReferral",
            cmd.referral_id,
            caller,
            lambda r, actor, now: r.record_department_consent(actor, now, cmd.note),
            ReferralConsentRecordedV1,
            {"note": cmd.note},
        )

    async def record_justice_filing(self, cmd: RecordJusticeFiling, caller: Caller) -> Referral:
        bureau = await self.ports.agencies.first_of_kind("justice_bureau")

        def move(r: Referral, actor: Actor, now: datetime) -> Referral:
            if bureau is None:
                raise ValidationFailed("no justice bureau is registered in this district")
            return r.record_justice_filing(actor, now, bureau.id, cmd.filing_number)

        return await self.run.transit(
            "recordReferralJusticeFiling",
            cmd.referral_id,
            caller,
            move,
            ReferralFiledWithJusticeV1,
            lambda _, after: {
                "justice_bureau_id": bureau.id if bureau else "",
                "filing_number": cmd.filing_number.strip(),
            },
        )

    # -- electronic transfer consent (R-REF-12) -------------------------------------------

    async def set_electronic_consent(self, cmd: SetElectronicConsent, caller: Caller) -> bool:
        """The receiving agency (the caller's) consents to electronic transfer from
        ``sender_id``; a leader decides for the agency."""
        principal = caller.principal
        # By construction the caller's agency is the receiver that consents.
        MATRIX.authorize(principal, "referral.setElectronicTransferConsent", {Relation.RECEIVER})
        if await self.run.agency(cmd.sender_id) is None:
            raise ValidationFailed(
                f"agency {cmd.sender_id!r} is not registered",
                field="senderId",
                code="AGENCY_NOT_REGISTERED",
            )
        now = self.run.now()
        receiver = principal.agency_id
        before, version = await self.ports.consents.get(receiver, cmd.sender_id)
        payload = ElectronicConsentChangedV1(
            receiver_id=receiver,
            sender_id=cmd.sender_id,
            consented=cmd.consented,
            actor_id=principal.person_id,
            actor_agency_id=receiver,
            state_before=("consented" if before else "not_consented") if version else None,
            state_after="consented" if cmd.consented else "not_consented",
            at=now,
        )
        subject = ElectronicConsents.key(receiver, cmd.sender_id)
        await self.ports.consents.put(
            receiver,
            cmd.sender_id,
            cmd.consented,
            version,
            {"by": principal.person_id, "at": now},
            [self.run.event(payload, subject, caller.correlation_id)],
        )
        return cmd.consented


def _ongoing(cmd: DraftReferral) -> OngoingViolation | None:
    """R-REF-05: the finder orders the violation stopped at once and tells the competent
    agency immediately; the referral records both."""
    if not cmd.ongoing:
        return None
    if not cmd.stop_order.strip() or cmd.stop_ordered_at is None:
        raise ValidationFailed(
            "an ongoing violation needs the stop order (责令停止) and when it was given",
            field="stopOrder",
            code="REQUIRED",
        )
    if not cmd.immediate_notice.strip() or cmd.notified_at is None:
        raise ValidationFailed(
            "an ongoing violation needs the immediate notice to the competent agency",
            field="immediateNotice",
            code="REQUIRED",
        )
    return OngoingViolation(
        cmd.stop_order.strip(), cmd.stop_ordered_at, cmd.immediate_notice.strip(), cmd.notified_at
    )
