"""Complaints (举报投诉): first-contact registration (首问), the first check, referral of
another's matter, hand-over between agencies and telling the complainant (R-CMP)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kernel.authz import Relation
from kernel.caller import Caller
from kernel.envelope import EventPayload
from kernel.errors import InvalidState, NotFound, ValidationFailed
from referral.application.access import complaint_relations
from referral.application.commands import (
    AnswerComplaint,
    AnswerComplaintHandover,
    OpenCaseFromComplaint,
    ReferComplaint,
    RegisterComplaint,
    RequestComplaintHandover,
    TellComplainantResult,
)
from referral.application.matrix import MATRIX
from referral.application.runner import Runner, actor_of
from referral.contracts.published import (
    ComplainantNotifiedV1,
    ComplaintCheckedV1,
    ComplaintHandoverAnsweredV1,
    ComplaintHandoverRequestedV1,
    ComplaintRegisteredV1,
)
from referral.domain.complaint import (
    Complaint,
    ComplaintStatus,
    HandoverMode,
    register_complaint,
)
from referral.domain.model import Actor, Referral

if TYPE_CHECKING:
    from referral.application.referrals import ReferralCommands


class ComplaintLedger:
    """Saving a complaint with its events, each new notice to the complainant among them.
    Shared with the referral slice, which tells the complainant a referral's result."""

    def __init__(self, run: Runner) -> None:
        self.run = run

    async def load(self, complaint_id: str) -> Complaint:
        c = await self.run.ports.complaints.get(complaint_id)
        if c is None:
            raise NotFound(f"complaint {complaint_id!r} does not exist", field="id")
        return c

    def change(
        self, before: Complaint | None, after: Complaint, actor: Actor, at: datetime
    ) -> dict[str, Any]:
        return {
            "complaint_id": after.id,
            "owner_agency_id": after.owner_agency_id,
            "actor_id": actor.person_id,
            "actor_agency_id": actor.agency_id,
            "state_before": before.status.value if before else None,
            "state_after": after.status.value,
            "at": at,
        }

    def _notices(
        self, before: Complaint | None, after: Complaint, actor: Actor, at: datetime
    ) -> list[EventPayload]:
        new = after.notices[len(before.notices) if before else 0 :]
        return [
            ComplainantNotifiedV1(
                **self.change(before, after, actor, at),
                kind=n.kind,
                text=n.text,
                contact=after.complainant_contact,
                to_agency_id=n.to_agency_id,
            )
            for n in new
        ]

    async def save(
        self,
        before: Complaint,
        after: Complaint,
        payloads: list[EventPayload],
        actor: Actor,
        at: datetime,
        correlation_id: str | None,
    ) -> Complaint:
        events = [
            self.run.event(p, after.id, correlation_id)
            for p in [*payloads, *self._notices(before, after, actor, at)]
        ]
        version = await self.run.ports.complaints.save(after, events)
        return replace(after, version=version)

    async def tell_result(
        self, c: Complaint, actor: Actor, at: datetime, result: str, correlation_id: str | None
    ) -> Complaint:
        after = c.tell_result(actor, at, result)
        return await self.save(c, after, [], actor, at, correlation_id)


class ComplaintHandlers:
    def __init__(self, run: Runner, ledger: ComplaintLedger, referrals: ReferralCommands) -> None:
        self.run = run
        self.ledger = ledger
        self.referrals = referrals

    async def _for(self, operation: str, complaint_id: str, caller: Caller) -> Complaint:
        """Load a complaint and check the caller against the authorization matrix."""
        c = await self.ledger.load(complaint_id)
        principal = caller.principal
        MATRIX.authorize(principal, f"referral.{operation}", complaint_relations(principal, c))
        return c

    async def _checked(
        self, c: Complaint, after: Complaint, caller: Caller, at: datetime, **fields: Any
    ) -> Complaint:
        actor = actor_of(caller.principal)
        payload = ComplaintCheckedV1(**self.ledger.change(c, after, actor, at), **fields)
        return await self.ledger.save(c, after, [payload], actor, at, caller.correlation_id)

    async def register(self, cmd: RegisterComplaint, caller: Caller) -> Complaint:
        principal = caller.principal
        # The caller's agency receives the complaint (首问) and owns it.
        MATRIX.authorize(principal, "referral.registerComplaint", {Relation.RECEIVER})
        now = self.run.now()
        actor = actor_of(principal)
        c = register_complaint(
            complaint_id=str(uuid.uuid4()),
            agency=await self.run.agency(principal.agency_id),
            actor=actor,
            at=now,
            complainant_name=cmd.complainant_name,
            complainant_contact=cmd.complainant_contact,
            content=cmd.content,
            matter_code=cmd.matter_code,
            place=cmd.place,
            township_id=cmd.township_id,
        )
        payload = ComplaintRegisteredV1(
            **self.ledger.change(None, c, actor, now), matter_code=c.matter_code
        )
        event = self.run.event(payload, c.id, caller.correlation_id)
        await self.run.ports.complaints.add(c, [event])
        return replace(c, version=1)

    async def answer(self, cmd: AnswerComplaint, caller: Caller) -> Complaint:
        c = await self._for("answerComplaint", cmd.complaint_id, caller)
        now = self.run.now()
        after = c.answer_no_violation(actor_of(caller.principal), now, cmd.answer)
        return await self._checked(c, after, caller, now, outcome="answered")

    async def open_case(self, cmd: OpenCaseFromComplaint, caller: Caller) -> Complaint:
        c = await self._for("openCaseFromComplaint", cmd.complaint_id, caller)
        now = self.run.now()
        after = c.open_case(actor_of(caller.principal), now, cmd.case_number)
        return await self._checked(
            c, after, caller, now, outcome="case_opened", case_number=after.case_number
        )

    async def refer(self, cmd: ReferComplaint, caller: Caller) -> tuple[Complaint, Referral]:
        """R-CMP-03: the complaint becomes a referral (a draft, linked both ways)."""
        c = await self._for("referComplaint", cmd.complaint_id, caller)
        if c.status is not ComplaintStatus.REGISTERED:
            raise InvalidState(
                f"cannot refer a complaint that is {c.status.value}; it must be registered",
                field="status",
                code="WRONG_STATUS",
            )
        referral = await self.referrals.draft(replace(cmd.draft, complaint_id=c.id), caller)
        now = self.run.now()
        receiver = await self.run.agency(referral.receiver_id)
        after = c.refer(
            actor_of(caller.principal),
            now,
            referral.id,
            receiver.name if receiver else referral.receiver_id,
        )
        saved = await self._checked(
            c, after, caller, now, outcome="referred", referral_id=referral.id
        )
        return saved, referral

    async def request_handover(self, cmd: RequestComplaintHandover, caller: Caller) -> Complaint:
        c = await self._for("requestComplaintHandover", cmd.complaint_id, caller)
        try:
            how = HandoverMode(cmd.mode)
        except ValueError:
            raise ValidationFailed(
                "mode must be guide or material", field="mode", code="UNKNOWN_VALUE"
            ) from None
        now = self.run.now()
        actor = actor_of(caller.principal)
        to = await self.run.agency(cmd.to_agency_id)
        after = c.request_handover(actor, now, to, cmd.to_agency_id, how, cmd.reason)
        p = ComplaintHandoverRequestedV1(
            **self.ledger.change(c, after, actor, now),
            to_agency_id=cmd.to_agency_id,
            mode=how.value,
            reason=cmd.reason,
        )
        return await self.ledger.save(c, after, [p], actor, now, caller.correlation_id)

    async def answer_handover(self, cmd: AnswerComplaintHandover, caller: Caller) -> Complaint:
        c = await self._for("answerComplaintHandover", cmd.complaint_id, caller)
        now = self.run.now()
        principal = caller.principal
        actor = actor_of(principal)
        me = await self.run.agency(principal.agency_id)
        name = me.name if me else principal.agency_id
        after = c.answer_handover(actor, now, cmd.consent, name, cmd.note)
        assert c.handover is not None
        p = ComplaintHandoverAnsweredV1(
            **self.ledger.change(c, after, actor, now),
            to_agency_id=c.handover.to_agency_id,
            consented=cmd.consent,
            mode=c.handover.mode.value,
        )
        return await self.ledger.save(c, after, [p], actor, now, caller.correlation_id)

    async def tell_result(self, cmd: TellComplainantResult, caller: Caller) -> Complaint:
        principal = caller.principal
        c = await self.ledger.load(cmd.complaint_id)
        held = complaint_relations(principal, c)
        if c.status is ComplaintStatus.REFERRED and c.referral_id:
            r = await self.run.load(c.referral_id)
            # R-CMP-04: the agency that handled the referral born from it tells the result.
            held = {Relation.RECEIVER} if principal.agency_id == r.receiver_id else set()
            if principal.agency_id == c.owner_agency_id:
                held.add(Relation.RECEIVER)
        MATRIX.authorize(principal, "referral.tellComplainantResult", held)
        return await self.ledger.tell_result(
            c, actor_of(principal), self.run.now(), cmd.result, caller.correlation_id
        )
