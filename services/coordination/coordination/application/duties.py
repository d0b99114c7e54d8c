"""Command handlers of four duties between agencies that each reach an addressee with a
clock: on-site dispatch (立即派员现场处置, R-REF-15), correction opinions (纠正意见, R-NTF-05),
written participation notices (书面通知, R-NTF-06) and the platform's joint ruling with clue
transfer (联合裁定 / 移交线索, R-SUP-04). Each command loads the aggregate, lets the domain
decide, and writes the new state with its events in one conditional update (the outbox);
notify's notification matrix puts the events in the addressees' inboxes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from coordination.adapters.duties import (
    CorrectionRepository,
    JointRulingRepository,
    OnSiteRepository,
    ParticipationRepository,
)
from coordination.adapters.joint import JointOperationRepository
from coordination.adapters.repository import DisputeRepository
from coordination.application import access
from coordination.application.actors import acting
from coordination.application.cooperation import DEPARTMENT_KINDS, _Base
from coordination.contracts.consumed import ReferralSent
from coordination.contracts.duties import (
    CluesTransferredV1,
    CorrectionOpinionIssuedV1,
    CorrectionOpinionRespondedV1,
    JointRulingRuledV1,
    JointRulingStartedV1,
    OnSiteArrivedV1,
    OnSiteDispatchedV1,
    OnSiteExplainedV1,
    OnSiteHandledV1,
    OnSiteReportedToGovernmentV1,
    OnSiteRequestedV1,
    ParticipationConfirmedV1,
    ParticipationNotifiedV1,
    ParticipationWrittenNoticeSentV1,
    PhoneNoticeV1,
)
from coordination.domain import correction as cor
from coordination.domain import joint_ruling as jr
from coordination.domain import onsite as ons
from coordination.domain import participation as par
from coordination.domain.cooperation import Actor, Clock
from coordination.domain.dispute import DisputeStatus
from coordination.domain.joint import TaskStatus
from coordination.domain.model import AgencyKind
from coordination.policy import policy_of
from kernel.authz import Relation
from kernel.caller import Caller
from kernel.contracts.deadlines import DeadlineV1
from kernel.envelope import Envelope, EventPayload
from kernel.errors import Conflict, InvalidState, NotFound, ValidationFailed

__all__ = [
    "ConfirmParticipation",
    "CorrectionHandlers",
    "Duties",
    "IssueCorrectionOpinion",
    "JointRulingHandlers",
    "NotifyOnSite",
    "NotifyParticipation",
    "OnSiteHandlers",
    "ParticipationHandlers",
    "PhoneNoticeInput",
    "ReportOnSiteToGovernment",
    "RespondToCorrectionOpinion",
    "RuleJointRuling",
    "StartJointRuling",
    "TransferClues",
]

#: Who may tell another agency of an urgent case or hazard (a patrol-only centre finds them
#: too, R-AG-01), and who may be told to send enforcement staff (it enforces).
NOTIFIER_KINDS = {AgencyKind.TOWNSHIP, *DEPARTMENT_KINDS, AgencyKind.MANAGEMENT_CENTRE}
ON_SITE_RECEIVER_KINDS = {AgencyKind.TOWNSHIP, *DEPARTMENT_KINDS}
#: Who receives clues (R-SUP-04, HC #11: 纪委监委、组织部).
CLUE_RECIPIENT_KINDS = {AgencyKind.DISCIPLINE_COMMISSION, AgencyKind.ORGANISATION_DEPARTMENT}

A = TypeVar("A", ons.OnSiteRequest, cor.CorrectionOpinion, par.ParticipationNotice, jr.JointRuling)


class _DutyHandlers(_Base, Generic[A]):
    """Reading under the matrix's read rule, loading for a command, saving with events."""

    read_operation: str
    noun: str
    subject_type: str

    def __init__(self, repository: Any, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.repository = repository

    def _relations(self, actor: Actor, found: A) -> set[Relation]:
        raise NotImplementedError

    async def visible(self, aggregate_id: str, caller: Caller) -> A | None:
        """The aggregate when the caller may read it; None when absent or not its to see."""
        actor = acting(caller)
        found: A | None = await self.repository.get(aggregate_id)
        if found is None:
            return None
        return (
            found if access.may(actor, self.read_operation, self._relations(actor, found)) else None
        )

    async def list_visible(
        self, *, agency_id: str | None, after: str | None, limit: int, caller: Caller
    ) -> list[A]:
        rows: list[A] = await self.repository.list(
            agency_id=agency_id,
            after=after,
            limit=limit,
            party_id=access.own_scope(acting(caller), self.read_operation),
        )
        return rows

    async def _authorized(self, aggregate_id: str, actor: Actor, operation: str) -> A:
        found: A | None = await self.repository.get(aggregate_id)
        if found is None:
            raise NotFound(f"{self.noun} {aggregate_id!r} does not exist", field="id")
        access.authorize_on(actor, operation, self._relations(actor, found))
        return found

    def _deadlines_of(self, a: A, *kinds: str) -> list[DeadlineV1]:
        return self._deadlines(self.subject_type, a.id, a.clocks, *kinds)

    async def _add(self, a: A, payload: EventPayload, correlation_id: str | None) -> A:
        await self.repository.add(a, [self._event(payload, a.id, correlation_id)])
        return replace(a, version=1)

    async def _save(self, after: A, payload: EventPayload, correlation_id: str | None) -> A:
        version = await self.repository.save(
            after, [self._event(payload, after.id, correlation_id)]
        )
        return replace(after, version=version)

    async def _one_of_kind(self, kind: AgencyKind, field: str, what: str) -> str:
        found = [a for a in await self.agencies.of_kind(kind.value) if not a.internal_unit]
        if not found:
            raise InvalidState(f"no {what} is registered in the district", field=field)
        return found[0].id

    @staticmethod
    def _actor_fields(actor: Actor, before: Any, after: Any) -> dict[str, Any]:
        return dict(
            actor_id=actor.person_id,
            actor_agency_id=actor.agency_id,
            state_before=before.status.value if before is not None else None,
            state_after=after.status.value,
        )


# ------------------------------------------------------------------ R-REF-15 on-site dispatch


@dataclass(frozen=True)
class NotifyOnSite:
    notifier_id: str
    receiver_id: str
    situation: str  # urgent_case | hazard
    description: str
    place: str
    referral_id: str | None = None


@dataclass(frozen=True)
class DispatchOnSiteStaff:
    request_id: str
    staff: tuple[str, ...]


@dataclass(frozen=True)
class RecordOnSiteArrival:
    request_id: str


@dataclass(frozen=True)
class RecordOnSiteHandling:
    request_id: str
    handling: str


@dataclass(frozen=True)
class ExplainOnSite:
    request_id: str
    reason: str


@dataclass(frozen=True)
class ReportOnSiteToGovernment:
    request_id: str
    text: str


def on_site_id_for_referral(referral_id: str) -> str:
    """One on-site request per referral: the id derives from the referral's, so the urgent
    referral's automatic request and one made by hand for it collide instead of doubling."""
    return f"os-ref-{referral_id}"


class OnSiteHandlers(_DutyHandlers[ons.OnSiteRequest]):
    read_operation = "onSiteRequest"
    noun = "on-site request"
    subject_type = "OnSiteRequest"

    def __init__(self, requests: OnSiteRepository, *args: Any, **kw: Any) -> None:
        super().__init__(requests, *args, **kw)
        self.requests = requests

    def _relations(self, actor: Actor, found: ons.OnSiteRequest) -> set[Relation]:
        government = (found.report.government_id,) if found.report else ()
        return access.relations_to(
            actor, sender=[found.notifier_id], receiver=[found.receiver_id], party=government
        )

    def _common(
        self, before: ons.OnSiteRequest | None, after: ons.OnSiteRequest, actor: Actor
    ) -> dict[str, Any]:
        return dict(
            request_id=after.id,
            notifier_id=after.notifier_id,
            receiver_id=after.receiver_id,
            situation=after.situation.value,
            place=after.place,
            **self._actor_fields(actor, before, after),
        )

    async def notify(self, cmd: NotifyOnSite, caller: Caller) -> ons.OnSiteRequest:
        """R-REF-15: tell the competent agency; its staff are due on site at once."""
        actor = acting(caller)
        try:
            situation = ons.OnSiteSituation(cmd.situation)
        except ValueError:
            raise ValidationFailed(
                f"unknown situation {cmd.situation!r}; one of urgent_case, hazard",
                field="situation",
            ) from None
        relations = access.relations_to(actor, sender=[cmd.notifier_id])
        access.authorize_on(actor, "notifyOnSite", relations, field="notifierId")
        await self._external({"notifierId": cmd.notifier_id}, NOTIFIER_KINDS)
        await self._external({"receiverId": cmd.receiver_id}, ON_SITE_RECEIVER_KINDS)
        referral_id = (cmd.referral_id or "").strip() or None
        if referral_id and await self.requests.get(on_site_id_for_referral(referral_id)):
            raise InvalidState(
                "staff are already due on site for this referral", field="referralId"
            )
        return await self._open(
            request_id=on_site_id_for_referral(referral_id) if referral_id else str(uuid.uuid4()),
            cmd=replace(cmd, referral_id=referral_id),
            situation=situation,
            actor=actor,
            at=self.clock(),
            correlation_id=caller.correlation_id,
        )

    async def _open(
        self,
        *,
        request_id: str,
        cmd: NotifyOnSite,
        situation: ons.OnSiteSituation,
        actor: Actor,
        at: datetime,
        correlation_id: str | None,
    ) -> ons.OnSiteRequest:
        now = at
        source = "SL 三(四)" if situation is ons.OnSiteSituation.URGENT_CASE else "HL 四(四)"
        clock = self._immediately(
            ons.DISPATCH,
            cmd.receiver_id,
            now,
            f"情况紧急或重大隐患：立即派员到达现场处置（{source}）",
        )
        request = ons.notify_on_site(
            request_id=request_id,
            notifier_id=cmd.notifier_id,
            receiver_id=cmd.receiver_id,
            situation=situation,
            description=cmd.description,
            place=cmd.place,
            referral_id=cmd.referral_id,
            dispatch_clock=clock,
            actor=actor,
            at=now,
        )
        payload = OnSiteRequestedV1(
            **self._common(None, request, actor),
            description=request.description,
            referral_id=request.referral_id,
            notified_at=now,
            deadlines=self._deadlines_of(request, ons.DISPATCH),
        )
        return await self._add(request, payload, correlation_id)

    async def when_urgent_referral_sent_request_on_site(self, envelope: Envelope) -> None:
        """R-REF-15 (SL 三(四)): an urgent referral's receiver sends staff on site at once, so
        its sending opens the on-site request (due from the sending). Only a township or a
        department is told (a crime transfer follows Decree 310's clocks); a redelivery, or a
        request already made by hand for the referral, opens nothing new."""
        event = envelope.payload(ReferralSent)
        if not event.urgent or not event.receiver_id:
            return
        request_id = on_site_id_for_referral(event.referral_id)
        if await self.requests.get(request_id) is not None:
            return
        known = await self.agencies.get_many([event.sender_id, event.receiver_id])
        sender, receiver = known.get(event.sender_id), known.get(event.receiver_id)
        if (
            sender is None
            or receiver is None
            or sender.kind not in NOTIFIER_KINDS
            or receiver.kind not in ON_SITE_RECEIVER_KINDS
        ):
            return
        cmd = NotifyOnSite(
            notifier_id=event.sender_id,
            receiver_id=event.receiver_id,
            situation=ons.OnSiteSituation.URGENT_CASE.value,
            description=f"紧急移送案件：{event.title or event.referral_id}",
            place="见移送案件材料",
            referral_id=event.referral_id,
        )
        try:
            await self._open(
                request_id=request_id,
                cmd=cmd,
                situation=ons.OnSiteSituation.URGENT_CASE,
                actor=Actor(event.actor_id, event.sender_id, ()),
                at=event.sent_at or envelope.time,
                correlation_id=envelope.correlationid,
            )
        except Conflict:
            return  # opened concurrently by another delivery

    async def dispatch(self, cmd: DispatchOnSiteStaff, caller: Caller) -> ons.OnSiteRequest:
        actor = acting(caller)
        before = await self._authorized(cmd.request_id, actor, "dispatchOnSiteStaff")
        now = self.clock()
        after = before.dispatch_staff(cmd.staff, actor=actor, at=now)
        assert after.dispatch is not None
        payload = OnSiteDispatchedV1(
            **self._common(before, after, actor),
            staff=list(after.dispatch.staff),
            late=after.late,
            dispatched_at=now,
            deadlines=self._deadlines_of(after, ons.DISPATCH),
        )
        return await self._save(after, payload, caller.correlation_id)

    async def arrive(self, cmd: RecordOnSiteArrival, caller: Caller) -> ons.OnSiteRequest:
        actor = acting(caller)
        before = await self._authorized(cmd.request_id, actor, "recordOnSiteArrival")
        now = self.clock()
        after = before.record_arrival(actor=actor, at=now)
        payload = OnSiteArrivedV1(**self._common(before, after, actor), arrived_at=now)
        return await self._save(after, payload, caller.correlation_id)

    async def handle(self, cmd: RecordOnSiteHandling, caller: Caller) -> ons.OnSiteRequest:
        actor = acting(caller)
        before = await self._authorized(cmd.request_id, actor, "recordOnSiteHandling")
        now = self.clock()
        after = before.record_handling(cmd.handling, actor=actor, at=now)
        payload = OnSiteHandledV1(
            **self._common(before, after, actor), handling=after.handling, handled_at=now
        )
        return await self._save(after, payload, caller.correlation_id)

    async def explain(self, cmd: ExplainOnSite, caller: Caller) -> ons.OnSiteRequest:
        actor = acting(caller)
        before = await self._authorized(cmd.request_id, actor, "explainOnSite")
        now = self.clock()
        after = before.explain(cmd.reason, actor=actor, at=now)
        payload = OnSiteExplainedV1(
            **self._common(before, after, actor),
            reason=after.explanation,
            late=after.late,
            explained_at=now,
            deadlines=self._deadlines_of(after, ons.DISPATCH),
        )
        return await self._save(after, payload, caller.correlation_id)

    async def report_to_government(
        self, cmd: ReportOnSiteToGovernment, caller: Caller
    ) -> ons.OnSiteRequest:
        """HL 四(四): the notifier reports the receiver that neither acted nor explained."""
        actor = acting(caller)
        before = await self._authorized(cmd.request_id, actor, "reportOnSiteToGovernment")
        allowed = policy_of(self.policy).on_site.report_unhandled_to_government
        government = (
            await self._one_of_kind(AgencyKind.GOVERNMENT, "governmentId", "government")
            if allowed
            else ""
        )
        now = self.clock()
        after = before.report_to_government(
            government_id=government, text=cmd.text, allowed_by_policy=allowed, actor=actor, at=now
        )
        assert after.report is not None
        payload = OnSiteReportedToGovernmentV1(
            **self._common(before, after, actor),
            government_id=government,
            text=after.report.text,
            due=after.dispatch_clock.due,
            reported_at=now,
        )
        return await self._save(after, payload, caller.correlation_id)


# ------------------------------------------------------------ R-NTF-05 correction opinions


@dataclass(frozen=True)
class IssueCorrectionOpinion:
    department_id: str
    township_id: str
    finding: str  # error | unlawful
    case_reference: str
    problems: str
    opinion: str
    document_number: str


@dataclass(frozen=True)
class RespondToCorrectionOpinion:
    opinion_id: str
    corrected: str
    document_number: str


class CorrectionHandlers(_DutyHandlers[cor.CorrectionOpinion]):
    read_operation = "correctionOpinion"
    noun = "correction opinion"
    subject_type = "CorrectionOpinion"

    def __init__(self, opinions: CorrectionRepository, *args: Any, **kw: Any) -> None:
        super().__init__(opinions, *args, **kw)
        self.opinions = opinions

    def _relations(self, actor: Actor, found: cor.CorrectionOpinion) -> set[Relation]:
        return access.relations_to(
            actor,
            sender=[found.department_id],
            receiver=[found.township_id],
            party=[found.justice_bureau_id],
        )

    def _common(
        self, before: cor.CorrectionOpinion | None, after: cor.CorrectionOpinion, actor: Actor
    ) -> dict[str, Any]:
        return dict(
            opinion_id=after.id,
            department_id=after.department_id,
            township_id=after.township_id,
            justice_bureau_id=after.justice_bureau_id,
            **self._actor_fields(actor, before, after),
        )

    async def issue(self, cmd: IssueCorrectionOpinion, caller: Caller) -> cor.CorrectionOpinion:
        """R-NTF-05: to the township, copied to the justice bureau; the reply clock starts."""
        actor = acting(caller)
        try:
            finding = cor.Finding(cmd.finding)
        except ValueError:
            raise ValidationFailed(
                f"unknown finding {cmd.finding!r}; one of error, unlawful", field="finding"
            ) from None
        relations = access.relations_to(actor, sender=[cmd.department_id])
        access.authorize_on(actor, "issueCorrectionOpinion", relations, field="departmentId")
        await self._external({"departmentId": cmd.department_id}, DEPARTMENT_KINDS)
        await self._external({"townshipId": cmd.township_id}, {AgencyKind.TOWNSHIP})
        justice = await self._one_of_kind(
            AgencyKind.JUSTICE_BUREAU, "justiceBureauId", "justice bureau (司法局, copied)"
        )
        now = self.clock()
        n = policy_of(self.policy).correction.response_limit_working_days
        clock = self._clock(
            cor.RESPONSE,
            cmd.township_id,
            self.calendar.add_working_days(
                now, n, rule=f"回复纠正意见及纠正情况：{n}个工作日（区政策；HL 三(二)）"
            ),
        )
        opinion = cor.issue_correction_opinion(
            opinion_id=str(uuid.uuid4()),
            department_id=cmd.department_id,
            township_id=cmd.township_id,
            justice_bureau_id=justice,
            finding=finding,
            case_reference=cmd.case_reference,
            problems=cmd.problems,
            opinion=cmd.opinion,
            document_number=cmd.document_number,
            response_working_days=n,
            response_clock=clock,
            actor=actor,
            at=now,
        )
        payload = CorrectionOpinionIssuedV1(
            **self._common(None, opinion, actor),
            document_number=opinion.document_number,
            finding=finding.value,
            case_reference=opinion.case_reference,
            problems=opinion.problems,
            opinion=opinion.opinion,
            issued_at=now,
            deadlines=self._deadlines_of(opinion, cor.RESPONSE),
        )
        return await self._add(opinion, payload, caller.correlation_id)

    async def respond(
        self, cmd: RespondToCorrectionOpinion, caller: Caller
    ) -> cor.CorrectionOpinion:
        actor = acting(caller)
        before = await self._authorized(cmd.opinion_id, actor, "respondToCorrectionOpinion")
        now = self.clock()
        after = before.respond(
            corrected=cmd.corrected, document_number=cmd.document_number, actor=actor, at=now
        )
        assert after.response is not None
        payload = CorrectionOpinionRespondedV1(
            **self._common(before, after, actor),
            document_number=after.response.document_number,
            opinion_document_number=after.document_number,
            corrected=after.response.corrected,
            late=after.response.late,
            responded_at=now,
            deadlines=self._deadlines_of(after, cor.RESPONSE),
        )
        return await self._save(after, payload, caller.correlation_id)


# ------------------------------------------------------- R-NTF-06 participation notices


@dataclass(frozen=True)
class PhoneNoticeInput:
    caller: str
    called: str
    at: datetime | None = None  # default: now


@dataclass(frozen=True)
class NotifyParticipation:
    department_id: str
    township_id: str
    purpose: str  # inspection | approval | confirmation
    subject: str
    place: str
    starts_at: datetime
    document_number: str | None = None
    phone_call: PhoneNoticeInput | None = None


@dataclass(frozen=True)
class SendParticipationWrittenNotice:
    notice_id: str
    document_number: str


@dataclass(frozen=True)
class ConfirmParticipation:
    notice_id: str
    participants: tuple[str, ...]


class ParticipationHandlers(_DutyHandlers[par.ParticipationNotice]):
    read_operation = "participationNotice"
    noun = "participation notice"
    subject_type = "ParticipationNotice"

    def __init__(self, notices: ParticipationRepository, *args: Any, **kw: Any) -> None:
        super().__init__(notices, *args, **kw)
        self.notices = notices

    def _relations(self, actor: Actor, found: par.ParticipationNotice) -> set[Relation]:
        return access.relations_to(
            actor, sender=[found.department_id], receiver=[found.township_id]
        )

    def _common(
        self,
        before: par.ParticipationNotice | None,
        after: par.ParticipationNotice,
        actor: Actor,
    ) -> dict[str, Any]:
        return dict(
            notice_id=after.id,
            department_id=after.department_id,
            township_id=after.township_id,
            purpose=after.purpose.value,
            subject=after.subject,
            starts_at=after.starts_at,
            **self._actor_fields(actor, before, after),
        )

    async def notify(self, cmd: NotifyParticipation, caller: Caller) -> par.ParticipationNotice:
        """R-NTF-06: the written notice, or an emergency phone call with the writing to follow."""
        actor = acting(caller)
        try:
            purpose = par.ParticipationPurpose(cmd.purpose)
        except ValueError:
            raise ValidationFailed(
                f"unknown purpose {cmd.purpose!r}; one of inspection, approval, confirmation",
                field="purpose",
            ) from None
        relations = access.relations_to(actor, sender=[cmd.department_id])
        access.authorize_on(actor, "notifyParticipation", relations, field="departmentId")
        await self._external({"departmentId": cmd.department_id}, DEPARTMENT_KINDS)
        await self._external({"townshipId": cmd.township_id}, {AgencyKind.TOWNSHIP})
        now = self.clock()
        if cmd.starts_at.tzinfo is None:
            raise ValidationFailed("give the time with its offset", field="startsAt")
        call = (
            par.PhoneNotice(
                cmd.phone_call.caller.strip(),
                cmd.phone_call.called.strip(),
                cmd.phone_call.at or now,
            )
            if cmd.phone_call
            else None
        )
        hours = max((cmd.starts_at - now).total_seconds() / 3600, 0)
        attend = self._clock(
            par.ATTEND,
            cmd.township_id,
            self.calendar.add_hours(now, hours, rule="按书面通知的时间参加（FY (三)2）"),
        )
        written: Clock | None = None
        if call is not None:
            n = policy_of(self.policy).participation.written_after_phone_working_days
            written = self._clock(
                par.WRITTEN_NOTICE,
                cmd.department_id,
                self.calendar.add_working_days(
                    call.at,
                    n,
                    rule=f"电话通知后补办书面手续：{n}个工作日（区政策；FY (三)2：事后补办）",
                ),
            )
        notice = par.notify_participation(
            notice_id=str(uuid.uuid4()),
            department_id=cmd.department_id,
            township_id=cmd.township_id,
            purpose=purpose,
            subject=cmd.subject,
            place=cmd.place,
            starts_at=cmd.starts_at,
            document_number=cmd.document_number,
            phone_call=call,
            attend_clock=attend,
            written_clock=written,
            actor=actor,
            at=now,
        )
        payload = ParticipationNotifiedV1(
            **self._common(None, notice, actor),
            place=notice.place,
            purpose_zh=par.PURPOSE_ZH[purpose],
            form_zh=f"书面通知（{notice.document_number}）"
            if notice.document_number
            else "电话通知（书面手续后补）",
            document_number=notice.document_number,
            phone_call=PhoneNoticeV1(caller=call.caller, called=call.called, at=call.at)
            if call
            else None,
            urgent=call is not None,
            notified_at=now,
            deadlines=self._deadlines_of(notice, par.ATTEND, par.WRITTEN_NOTICE),
        )
        return await self._add(notice, payload, caller.correlation_id)

    async def send_written(
        self, cmd: SendParticipationWrittenNotice, caller: Caller
    ) -> par.ParticipationNotice:
        actor = acting(caller)
        before = await self._authorized(cmd.notice_id, actor, "sendParticipationWrittenNotice")
        now = self.clock()
        after = before.send_written(cmd.document_number, actor=actor, at=now)
        assert after.document_number is not None
        payload = ParticipationWrittenNoticeSentV1(
            **self._common(before, after, actor),
            document_number=after.document_number,
            late=after.written_late,
            sent_at=now,
            deadlines=self._deadlines_of(after, par.WRITTEN_NOTICE),
        )
        return await self._save(after, payload, caller.correlation_id)

    async def confirm(self, cmd: ConfirmParticipation, caller: Caller) -> par.ParticipationNotice:
        actor = acting(caller)
        before = await self._authorized(cmd.notice_id, actor, "confirmParticipation")
        now = self.clock()
        after = before.confirm(cmd.participants, actor=actor, at=now)
        payload = ParticipationConfirmedV1(
            **self._common(before, after, actor),
            participants=list(after.participants),
            confirmed_at=now,
            deadlines=self._deadlines_of(after, par.ATTEND),
        )
        return await self._save(after, payload, caller.correlation_id)


# ------------------------------------------------------- R-SUP-04 joint ruling, clues


@dataclass(frozen=True)
class StartJointRuling:
    platform_id: str
    responsible_agency_id: str
    source: str  # dispute_ruling | joint_task
    source_id: str  # the dispute's id, or the joint operation's
    failure: str
    task_id: str | None = None
    participant_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleJointRuling:
    ruling_id: str
    decision: str
    basis: str


@dataclass(frozen=True)
class TransferClues:
    ruling_id: str
    recipient_id: str
    clues: str


class JointRulingHandlers(_DutyHandlers[jr.JointRuling]):
    read_operation = "jointRuling"
    noun = "joint ruling"
    subject_type = "JointRuling"

    def __init__(
        self,
        rulings: JointRulingRepository,
        disputes: DisputeRepository,
        operations: JointOperationRepository,
        *args: Any,
        **kw: Any,
    ) -> None:
        super().__init__(rulings, *args, **kw)
        self.rulings = rulings
        self.disputes = disputes
        self.operations = operations

    def _relations(self, actor: Actor, found: jr.JointRuling) -> set[Relation]:
        return access.relations_to(
            actor,
            sender=[found.platform_id],
            receiver=[found.responsible_agency_id],
            party=[*found.participant_ids, *(t.recipient_id for t in found.transfers)],
        )

    def _common(
        self, before: jr.JointRuling | None, after: jr.JointRuling, actor: Actor
    ) -> dict[str, Any]:
        return dict(
            ruling_id=after.id,
            platform_id=after.platform_id,
            responsible_agency_id=after.responsible_agency_id,
            participant_ids=list(after.participant_ids),
            source=after.source.value,
            source_id=after.source_id,
            **self._actor_fields(actor, before, after),
        )

    async def _check_failure(
        self, source: jr.FailureSource, cmd: StartJointRuling, now: datetime
    ) -> None:
        """The unit named is the one that failed: the ruled dispute's responsible agency, or
        the joint task's agency whose inability was rejected or whose report is overdue."""
        if source is jr.FailureSource.DISPUTE_RULING:
            dispute = await self.disputes.get(cmd.source_id)
            if dispute is None:
                raise NotFound(f"dispute {cmd.source_id!r} does not exist", field="sourceId")
            if dispute.status is not DisputeStatus.RULED or dispute.outcome is None:
                raise InvalidState(
                    "the dispute is not ruled yet: there is no ruling to carry out",
                    field="sourceId",
                )
            if dispute.outcome.responsible_agency_id != cmd.responsible_agency_id:
                raise ValidationFailed(
                    "the ruling made another agency responsible "
                    f"({dispute.outcome.responsible_agency_id})",
                    field="responsibleAgencyId",
                )
            return
        operation = await self.operations.get(cmd.source_id)
        if operation is None:
            raise NotFound(f"joint operation {cmd.source_id!r} does not exist", field="sourceId")
        task = next((t for t in operation.tasks if t.id == cmd.task_id), None)
        if task is None:
            raise NotFound(f"joint task {cmd.task_id!r} is not in the operation", field="taskId")
        if task.agency_id != cmd.responsible_agency_id:
            raise ValidationFailed(
                f"the task is assigned to {task.agency_id}", field="responsibleAgencyId"
            )
        overdue = task.status is TaskStatus.ASSIGNED and now > task.report_clock.due
        if task.status is not TaskStatus.INABILITY_REJECTED and not overdue:
            raise InvalidState(
                "the task was neither refused (inability rejected) nor left unreported past its "
                f"report clock ({task.status.value})",
                field="taskId",
            )

    async def start(self, cmd: StartJointRuling, caller: Caller) -> jr.JointRuling:
        """R-SUP-04: only the platform (coordination body) starts a joint ruling."""
        actor = acting(caller)
        try:
            source = jr.FailureSource(cmd.source)
        except ValueError:
            raise ValidationFailed(
                f"unknown source {cmd.source!r}; one of dispute_ruling, joint_task",
                field="source",
            ) from None
        relations = access.relations_to(actor, sender=[cmd.platform_id])
        access.authorize_on(actor, "startJointRuling", relations, field="platformId")
        await self._external({"platformId": cmd.platform_id}, {AgencyKind.COORDINATION_BODY})
        participants = tuple(p for p in cmd.participant_ids if p)
        await self._external(
            {
                "responsibleAgencyId": cmd.responsible_agency_id,
                **{f"participantIds[{i}]": p for i, p in enumerate(participants)},
            }
        )
        now = self.clock()
        await self._check_failure(source, cmd, now)
        n = policy_of(self.policy).joint_ruling.decide_limit_working_days
        clock = self._clock(
            jr.DECIDE,
            cmd.platform_id,
            self.calendar.add_working_days(
                now, n, rule=f"联合裁定：{n}个工作日（区政策；HC #11 启动联合裁定程序）"
            ),
        )
        ruling = jr.start_joint_ruling(
            ruling_id=str(uuid.uuid4()),
            platform_id=cmd.platform_id,
            responsible_agency_id=cmd.responsible_agency_id,
            source=source,
            source_id=cmd.source_id,
            task_id=cmd.task_id if source is jr.FailureSource.JOINT_TASK else None,
            failure=cmd.failure,
            participant_ids=participants,
            decide_clock=clock,
            actor=actor,
            at=now,
        )
        payload = JointRulingStartedV1(
            **self._common(None, ruling, actor),
            task_id=ruling.task_id,
            failure=ruling.failure,
            started_at=now,
            deadlines=self._deadlines_of(ruling, jr.DECIDE),
        )
        return await self._add(ruling, payload, caller.correlation_id)

    async def rule(self, cmd: RuleJointRuling, caller: Caller) -> jr.JointRuling:
        actor = acting(caller)
        before = await self._authorized(cmd.ruling_id, actor, "ruleJointRuling")
        now = self.clock()
        after = before.rule(decision=cmd.decision, basis=cmd.basis, actor=actor, at=now)
        payload = JointRulingRuledV1(
            **self._common(before, after, actor),
            decision=after.decision,
            basis=after.basis,
            ruled_at=now,
            deadlines=self._deadlines_of(after, jr.DECIDE),
        )
        return await self._save(after, payload, caller.correlation_id)

    async def transfer_clues(self, cmd: TransferClues, caller: Caller) -> jr.JointRuling:
        """R-SUP-04: to the discipline commission or the organisation department only."""
        actor = acting(caller)
        before = await self._authorized(cmd.ruling_id, actor, "transferClues")
        await self._external({"recipientId": cmd.recipient_id}, CLUE_RECIPIENT_KINDS)
        now = self.clock()
        after = before.transfer_clues(cmd.recipient_id, cmd.clues, actor=actor, at=now)
        payload = CluesTransferredV1(
            **self._common(before, after, actor),
            recipient_id=cmd.recipient_id,
            clues=after.transfers[-1].clues,
            failure=after.failure,
            transferred_at=now,
        )
        return await self._save(after, payload, caller.correlation_id)


@dataclass
class Duties:
    """The four handler sets, as the graph's context and the bootstrap hold them."""

    on_site: OnSiteHandlers
    corrections: CorrectionHandlers
    participation: ParticipationHandlers
    joint_rulings: JointRulingHandlers

    def repositories(
        self,
    ) -> tuple[
        OnSiteRepository, CorrectionRepository, ParticipationRepository, JointRulingRepository
    ]:
        return (
            self.on_site.requests,
            self.corrections.opinions,
            self.participation.notices,
            self.joint_rulings.rulings,
        )
