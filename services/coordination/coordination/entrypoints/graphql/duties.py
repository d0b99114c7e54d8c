"""On-site dispatch (R-REF-15), correction opinions (R-NTF-05), written participation
notices (R-NTF-06) and joint rulings with clue transfer (R-SUP-04) in the graph. Mutations
return ``Result | UserError``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import strawberry

from coordination.application import duties as d
from coordination.domain import correction as cor
from coordination.domain import joint_ruling as jr
from coordination.domain import onsite as ons
from coordination.domain import participation as par
from coordination.entrypoints.graphql.types import (
    Agency,
    CooperationDeadline,
    CooperationTransition,
    Info,
    as_result,
    connection,
    load_agency,
)
from kernel.graphql import Connection, UserError, page_size

strawberry.enum(ons.OnSiteSituation, name="OnSiteSituation", description="紧急案件 / 重大隐患")
strawberry.enum(ons.OnSiteStatus, name="OnSiteStatus")
strawberry.enum(cor.Finding, name="CorrectionFinding", description="执法错误 / 违法执法")
strawberry.enum(cor.CorrectionStatus, name="CorrectionStatus")
strawberry.enum(par.ParticipationPurpose, name="ParticipationPurpose", description="检查/审批/确认")
strawberry.enum(par.ParticipationStatus, name="ParticipationStatus")
strawberry.enum(jr.FailureSource, name="JointRulingSource")
strawberry.enum(jr.JointRulingStatus, name="JointRulingStatus")
OnSiteSituation = ons.OnSiteSituation
OnSiteStatus = ons.OnSiteStatus
CorrectionFinding = cor.Finding
CorrectionStatus = cor.CorrectionStatus
ParticipationPurpose = par.ParticipationPurpose
ParticipationStatus = par.ParticipationStatus
JointRulingSource = jr.FailureSource
JointRulingStatus = jr.JointRulingStatus


async def _list(
    handlers: Any,
    info: Info,
    agency_id: strawberry.ID | None,
    first: int,
    after: str | None,
    node: Callable[[Any], Any],
) -> Any:
    first = page_size(first)
    rows = await handlers.list_visible(
        agency_id=str(agency_id) if agency_id else None,
        after=after,
        limit=first + 1,
        caller=info.context.caller(),
    )
    return connection(rows, first, cursor=lambda r: r.id, node=node)


# ------------------------------------------------------------------ R-REF-15 on-site dispatch


@strawberry.type(description="HL 四(四): the notifier's report to the government.")
class OnSiteGovernmentReport:
    government_id: strawberry.ID
    text: str
    reported_by: str
    reported_at: datetime


@strawberry.type(
    description="An urgent case or hazard the receiver must send staff to at once "
    "(立即派员现场处置, R-REF-15)."
)
class OnSiteRequest:
    id: strawberry.ID
    notifier_id: strawberry.ID
    receiver_id: strawberry.ID
    situation: OnSiteSituation
    description: str
    place: str
    status: OnSiteStatus
    notified_at: datetime
    referral_id: strawberry.ID | None
    staff: list[str]
    dispatched_at: datetime | None
    arrived_at: datetime | None
    handling: str
    handled_at: datetime | None
    explanation: str
    explained_at: datetime | None
    late: bool = strawberry.field(description="acted or explained after the limit")
    report: OnSiteGovernmentReport | None
    deadlines: list[CooperationDeadline]
    history: list[CooperationTransition]

    @strawberry.field
    async def notifier(self, info: Info) -> Agency | None:
        return await load_agency(info, str(self.notifier_id))

    @strawberry.field
    async def receiver(self, info: Info) -> Agency | None:
        return await load_agency(info, str(self.receiver_id))

    @classmethod
    def of(cls, r: ons.OnSiteRequest, info: Info) -> OnSiteRequest:
        rep = r.report
        return cls(
            id=strawberry.ID(r.id),
            notifier_id=strawberry.ID(r.notifier_id),
            receiver_id=strawberry.ID(r.receiver_id),
            situation=r.situation,
            description=r.description,
            place=r.place,
            status=r.status,
            notified_at=r.notified_at,
            referral_id=strawberry.ID(r.referral_id) if r.referral_id else None,
            staff=list(r.dispatch.staff) if r.dispatch else [],
            dispatched_at=r.dispatch.dispatched_at if r.dispatch else None,
            arrived_at=r.arrived_at,
            handling=r.handling,
            handled_at=r.handled_at,
            explanation=r.explanation,
            explained_at=r.explained_at,
            late=r.late,
            report=OnSiteGovernmentReport(
                government_id=strawberry.ID(rep.government_id),
                text=rep.text,
                reported_by=rep.reported_by,
                reported_at=rep.reported_at,
            )
            if rep
            else None,
            deadlines=[CooperationDeadline.of(k, info) for k in r.clocks],
            history=[CooperationTransition.of(t) for t in r.history],
        )


OnSiteResult = Annotated[OnSiteRequest | UserError, strawberry.union("OnSiteRequestResult")]


@strawberry.input
class NotifyOnSiteInput:
    notifier_id: strawberry.ID
    receiver_id: strawberry.ID
    situation: OnSiteSituation
    description: str
    place: str
    referral_id: strawberry.ID | None = strawberry.field(
        default=None, description="the urgent referral this concerns, if any"
    )


# ------------------------------------------------------------ R-NTF-05 correction opinions


@strawberry.type(description="The township's reply: what it corrected.")
class CorrectionResponse:
    corrected: str
    document_number: str
    responded_by: str
    responded_at: datetime
    late: bool


@strawberry.type(
    description="A department's correction opinion (纠正意见) to a township, copied to the "
    "justice bureau (R-NTF-05)."
)
class CorrectionOpinion:
    id: strawberry.ID
    department_id: strawberry.ID
    township_id: strawberry.ID
    justice_bureau_id: strawberry.ID
    finding: CorrectionFinding
    case_reference: str
    problems: str
    opinion: str
    document_number: str
    status: CorrectionStatus
    issued_at: datetime
    response_working_days: int
    response: CorrectionResponse | None
    deadlines: list[CooperationDeadline]
    history: list[CooperationTransition]

    @strawberry.field
    async def township(self, info: Info) -> Agency | None:
        return await load_agency(info, str(self.township_id))

    @strawberry.field
    async def department(self, info: Info) -> Agency | None:
        return await load_agency(info, str(self.department_id))

    @classmethod
    def of(cls, o: cor.CorrectionOpinion, info: Info) -> CorrectionOpinion:
        r = o.response
        return cls(
            id=strawberry.ID(o.id),
            department_id=strawberry.ID(o.department_id),
            township_id=strawberry.ID(o.township_id),
            justice_bureau_id=strawberry.ID(o.justice_bureau_id),
            finding=o.finding,
            case_reference=o.case_reference,
            problems=o.problems,
            opinion=o.opinion,
            document_number=o.document_number,
            status=o.status,
            issued_at=o.issued_at,
            response_working_days=o.response_working_days,
            response=CorrectionResponse(
                corrected=r.corrected,
                document_number=r.document_number,
                responded_by=r.responded_by,
                responded_at=r.responded_at,
                late=r.late,
            )
            if r
            else None,
            deadlines=[CooperationDeadline.of(k, info) for k in o.clocks],
            history=[CooperationTransition.of(t) for t in o.history],
        )


CorrectionResult = Annotated[
    CorrectionOpinion | UserError, strawberry.union("CorrectionOpinionResult")
]


@strawberry.input
class IssueCorrectionOpinionInput:
    department_id: strawberry.ID
    township_id: strawberry.ID
    finding: CorrectionFinding
    case_reference: str = strawberry.field(description="the case or enforcement act concerned")
    problems: str
    opinion: str = strawberry.field(description="纠正意见")
    document_number: str = strawberry.field(description="文号")


# ------------------------------------------------------- R-NTF-06 participation notices


@strawberry.type(description="The emergency phone call that preceded the writing.")
class ParticipationPhoneCall:
    caller: str
    called: str
    at: datetime


@strawberry.type(
    description="A department's notice that the township take part in an inspection, "
    "approval or confirmation (书面通知, R-NTF-06)."
)
class ParticipationNotice:
    id: strawberry.ID
    department_id: strawberry.ID
    township_id: strawberry.ID
    purpose: ParticipationPurpose
    subject: str
    place: str
    starts_at: datetime
    status: ParticipationStatus
    notified_at: datetime
    document_number: str | None
    written_at: datetime | None
    written_late: bool
    phone_call: ParticipationPhoneCall | None
    participants: list[str]
    confirmed_at: datetime | None
    deadlines: list[CooperationDeadline]
    history: list[CooperationTransition]

    @strawberry.field
    async def township(self, info: Info) -> Agency | None:
        return await load_agency(info, str(self.township_id))

    @strawberry.field
    async def department(self, info: Info) -> Agency | None:
        return await load_agency(info, str(self.department_id))

    @classmethod
    def of(cls, n: par.ParticipationNotice, info: Info) -> ParticipationNotice:
        call = n.phone_call
        return cls(
            id=strawberry.ID(n.id),
            department_id=strawberry.ID(n.department_id),
            township_id=strawberry.ID(n.township_id),
            purpose=n.purpose,
            subject=n.subject,
            place=n.place,
            starts_at=n.starts_at,
            status=n.status,
            notified_at=n.notified_at,
            document_number=n.document_number,
            written_at=n.written_at,
            written_late=n.written_late,
            phone_call=ParticipationPhoneCall(caller=call.caller, called=call.called, at=call.at)
            if call
            else None,
            participants=list(n.participants),
            confirmed_at=n.confirmed_at,
            deadlines=[CooperationDeadline.of(k, info) for k in n.clocks],
            history=[CooperationTransition.of(t) for t in n.history],
        )


ParticipationResult = Annotated[
    ParticipationNotice | UserError, strawberry.union("ParticipationNoticeResult")
]


@strawberry.input
class ParticipationPhoneCallInput:
    caller: str
    called: str
    at: datetime | None = strawberry.field(default=None, description="default: now")


@strawberry.input
class NotifyParticipationInput:
    department_id: strawberry.ID
    township_id: strawberry.ID
    purpose: ParticipationPurpose
    subject: str
    place: str
    starts_at: datetime
    document_number: str | None = strawberry.field(
        default=None, description="the written notice's 文号 (or phoneCall in an emergency)"
    )
    phone_call: ParticipationPhoneCallInput | None = strawberry.field(
        default=None, description="emergency: the call first, the writing to follow"
    )


# ------------------------------------------------------- R-SUP-04 joint ruling, clues


@strawberry.type(
    description="Clues passed to the discipline commission or the organisation "
    "department (移交线索)."
)
class CluesTransfer:
    recipient_id: strawberry.ID
    clues: str
    transferred_by: str
    transferred_at: datetime

    @strawberry.field
    async def recipient(self, info: Info) -> Agency | None:
        return await load_agency(info, str(self.recipient_id))


@strawberry.type(
    description="The platform's joint ruling (联合裁定) on a unit that failed or refused to "
    "carry out a ruling or task (R-SUP-04)."
)
class JointRuling:
    id: strawberry.ID
    platform_id: strawberry.ID
    responsible_agency_id: strawberry.ID
    source: JointRulingSource
    source_id: strawberry.ID
    task_id: strawberry.ID | None
    failure: str
    participant_ids: list[strawberry.ID]
    status: JointRulingStatus
    started_at: datetime
    decision: str
    basis: str
    ruled_at: datetime | None
    transfers: list[CluesTransfer]
    deadlines: list[CooperationDeadline]
    history: list[CooperationTransition]

    @strawberry.field
    async def responsible_agency(self, info: Info) -> Agency | None:
        return await load_agency(info, str(self.responsible_agency_id))

    @classmethod
    def of(cls, r: jr.JointRuling, info: Info) -> JointRuling:
        return cls(
            id=strawberry.ID(r.id),
            platform_id=strawberry.ID(r.platform_id),
            responsible_agency_id=strawberry.ID(r.responsible_agency_id),
            source=r.source,
            source_id=strawberry.ID(r.source_id),
            task_id=strawberry.ID(r.task_id) if r.task_id else None,
            failure=r.failure,
            participant_ids=[strawberry.ID(p) for p in r.participant_ids],
            status=r.status,
            started_at=r.started_at,
            decision=r.decision,
            basis=r.basis,
            ruled_at=r.ruled_at,
            transfers=[
                CluesTransfer(
                    recipient_id=strawberry.ID(t.recipient_id),
                    clues=t.clues,
                    transferred_by=t.transferred_by,
                    transferred_at=t.transferred_at,
                )
                for t in r.transfers
            ],
            deadlines=[CooperationDeadline.of(k, info) for k in r.clocks],
            history=[CooperationTransition.of(t) for t in r.history],
        )


JointRulingResult = Annotated[JointRuling | UserError, strawberry.union("JointRulingResult")]


@strawberry.input
class StartJointRulingInput:
    platform_id: strawberry.ID = strawberry.field(description="the coordination body (平台)")
    responsible_agency_id: strawberry.ID
    source: JointRulingSource
    source_id: strawberry.ID = strawberry.field(
        description="the ruled dispute, or the joint operation holding the task"
    )
    failure: str = strawberry.field(description="落实不力或拒不落实的情况")
    task_id: strawberry.ID | None = None
    participant_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


# ------------------------------------------------------------------------- roots


@strawberry.type
class DutyQuery:
    @strawberry.field(description="One on-site request (parties and supervising roles).")
    async def on_site_request(self, info: Info, id: strawberry.ID) -> OnSiteRequest | None:
        r = await info.context.duties.on_site.visible(str(id), info.context.caller())
        return OnSiteRequest.of(r, info) if r else None

    @strawberry.field(description="On-site requests you are a party to (all if you supervise).")
    async def on_site_requests(
        self,
        info: Info,
        agency_id: strawberry.ID | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> Connection[OnSiteRequest]:
        page: Connection[OnSiteRequest] = await _list(
            info.context.duties.on_site,
            info,
            agency_id,
            first,
            after,
            lambda r: OnSiteRequest.of(r, info),
        )
        return page

    @strawberry.field(description="One correction opinion (parties and supervising roles).")
    async def correction_opinion(self, info: Info, id: strawberry.ID) -> CorrectionOpinion | None:
        o = await info.context.duties.corrections.visible(str(id), info.context.caller())
        return CorrectionOpinion.of(o, info) if o else None

    @strawberry.field(description="Correction opinions you are a party to (or copied on).")
    async def correction_opinions(
        self,
        info: Info,
        agency_id: strawberry.ID | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> Connection[CorrectionOpinion]:
        page: Connection[CorrectionOpinion] = await _list(
            info.context.duties.corrections,
            info,
            agency_id,
            first,
            after,
            lambda o: CorrectionOpinion.of(o, info),
        )
        return page

    @strawberry.field(description="One participation notice (parties and supervising roles).")
    async def participation_notice(
        self, info: Info, id: strawberry.ID
    ) -> ParticipationNotice | None:
        n = await info.context.duties.participation.visible(str(id), info.context.caller())
        return ParticipationNotice.of(n, info) if n else None

    @strawberry.field(description="Participation notices you are a party to.")
    async def participation_notices(
        self,
        info: Info,
        agency_id: strawberry.ID | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> Connection[ParticipationNotice]:
        page: Connection[ParticipationNotice] = await _list(
            info.context.duties.participation,
            info,
            agency_id,
            first,
            after,
            lambda n: ParticipationNotice.of(n, info),
        )
        return page

    @strawberry.field(description="One joint ruling (parties and supervising roles).")
    async def joint_ruling(self, info: Info, id: strawberry.ID) -> JointRuling | None:
        r = await info.context.duties.joint_rulings.visible(str(id), info.context.caller())
        return JointRuling.of(r, info) if r else None

    @strawberry.field(description="Joint rulings you are a party to (all if you supervise).")
    async def joint_rulings(
        self,
        info: Info,
        agency_id: strawberry.ID | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> Connection[JointRuling]:
        page: Connection[JointRuling] = await _list(
            info.context.duties.joint_rulings,
            info,
            agency_id,
            first,
            after,
            lambda r: JointRuling.of(r, info),
        )
        return page


@strawberry.type
class DutyMutation:
    # -- R-REF-15
    @strawberry.mutation(
        description="R-REF-15: tell the competent agency of an urgent case or hazard; its "
        "staff are due on site within the policy's immediately hours."
    )
    async def notify_on_site(self, info: Info, input: NotifyOnSiteInput) -> OnSiteResult:
        cmd = d.NotifyOnSite(
            notifier_id=str(input.notifier_id),
            receiver_id=str(input.receiver_id),
            situation=input.situation.value,
            description=input.description,
            place=input.place,
            referral_id=str(input.referral_id) if input.referral_id else None,
        )
        return await as_result(
            info.context.duties.on_site.notify(cmd, info.context.caller()),
            lambda r: OnSiteRequest.of(r, info),
        )

    @strawberry.mutation(description="R-REF-15: staff sent on site (who; when is now).")
    async def dispatch_on_site_staff(
        self, info: Info, request_id: strawberry.ID, staff: list[str]
    ) -> OnSiteResult:
        return await as_result(
            info.context.duties.on_site.dispatch(
                d.DispatchOnSiteStaff(str(request_id), tuple(staff)), info.context.caller()
            ),
            lambda r: OnSiteRequest.of(r, info),
        )

    @strawberry.mutation(description="R-REF-15: the staff arrived on site (now).")
    async def record_on_site_arrival(self, info: Info, request_id: strawberry.ID) -> OnSiteResult:
        return await as_result(
            info.context.duties.on_site.arrive(
                d.RecordOnSiteArrival(str(request_id)), info.context.caller()
            ),
            lambda r: OnSiteRequest.of(r, info),
        )

    @strawberry.mutation(description="R-REF-15: how it was handled on site.")
    async def record_on_site_handling(
        self, info: Info, request_id: strawberry.ID, handling: str
    ) -> OnSiteResult:
        return await as_result(
            info.context.duties.on_site.handle(
                d.RecordOnSiteHandling(str(request_id), handling), info.context.caller()
            ),
            lambda r: OnSiteRequest.of(r, info),
        )

    @strawberry.mutation(description="HL 四(四): the receiver says why it sends no staff.")
    async def explain_on_site(
        self, info: Info, request_id: strawberry.ID, reason: str
    ) -> OnSiteResult:
        return await as_result(
            info.context.duties.on_site.explain(
                d.ExplainOnSite(str(request_id), reason), info.context.caller()
            ),
            lambda r: OnSiteRequest.of(r, info),
        )

    @strawberry.mutation(
        description="HL 四(四): the notifier reports to the government a receiver that neither "
        "sent staff nor explained within the limit (only once it lapsed; policy flag)."
    )
    async def report_on_site_to_government(
        self, info: Info, request_id: strawberry.ID, text: str
    ) -> OnSiteResult:
        return await as_result(
            info.context.duties.on_site.report_to_government(
                d.ReportOnSiteToGovernment(str(request_id), text), info.context.caller()
            ),
            lambda r: OnSiteRequest.of(r, info),
        )

    # -- R-NTF-05
    @strawberry.mutation(
        description="R-NTF-05: a correction opinion to a township, copied to the justice bureau."
    )
    async def issue_correction_opinion(
        self, info: Info, input: IssueCorrectionOpinionInput
    ) -> CorrectionResult:
        cmd = d.IssueCorrectionOpinion(
            department_id=str(input.department_id),
            township_id=str(input.township_id),
            finding=input.finding.value,
            case_reference=input.case_reference,
            problems=input.problems,
            opinion=input.opinion,
            document_number=input.document_number,
        )
        return await as_result(
            info.context.duties.corrections.issue(cmd, info.context.caller()),
            lambda o: CorrectionOpinion.of(o, info),
        )

    @strawberry.mutation(description="R-NTF-05: the township's reply: what it corrected.")
    async def respond_to_correction_opinion(
        self, info: Info, opinion_id: strawberry.ID, corrected: str, document_number: str
    ) -> CorrectionResult:
        cmd = d.RespondToCorrectionOpinion(str(opinion_id), corrected, document_number)
        return await as_result(
            info.context.duties.corrections.respond(cmd, info.context.caller()),
            lambda o: CorrectionOpinion.of(o, info),
        )

    # -- R-NTF-06
    @strawberry.mutation(
        description="R-NTF-06: a written notice to take part (or, in an emergency, the phone "
        "call first; the writing follows within the policy's limit)."
    )
    async def notify_participation(
        self, info: Info, input: NotifyParticipationInput
    ) -> ParticipationResult:
        call = input.phone_call
        cmd = d.NotifyParticipation(
            department_id=str(input.department_id),
            township_id=str(input.township_id),
            purpose=input.purpose.value,
            subject=input.subject,
            place=input.place,
            starts_at=input.starts_at,
            document_number=input.document_number,
            phone_call=d.PhoneNoticeInput(call.caller, call.called, call.at) if call else None,
        )
        return await as_result(
            info.context.duties.participation.notify(cmd, info.context.caller()),
            lambda n: ParticipationNotice.of(n, info),
        )

    @strawberry.mutation(description="R-NTF-06: the writing that follows a phone notice.")
    async def send_participation_written_notice(
        self, info: Info, notice_id: strawberry.ID, document_number: str
    ) -> ParticipationResult:
        return await as_result(
            info.context.duties.participation.send_written(
                d.SendParticipationWrittenNotice(str(notice_id), document_number),
                info.context.caller(),
            ),
            lambda n: ParticipationNotice.of(n, info),
        )

    @strawberry.mutation(description="R-NTF-06: the township confirms who takes part.")
    async def confirm_participation(
        self, info: Info, notice_id: strawberry.ID, participants: list[str]
    ) -> ParticipationResult:
        return await as_result(
            info.context.duties.participation.confirm(
                d.ConfirmParticipation(str(notice_id), tuple(participants)),
                info.context.caller(),
            ),
            lambda n: ParticipationNotice.of(n, info),
        )

    # -- R-SUP-04
    @strawberry.mutation(
        description="R-SUP-04: the platform starts a joint ruling on a unit that failed or "
        "refused to carry out a ruling or task."
    )
    async def start_joint_ruling(
        self, info: Info, input: StartJointRulingInput
    ) -> JointRulingResult:
        cmd = d.StartJointRuling(
            platform_id=str(input.platform_id),
            responsible_agency_id=str(input.responsible_agency_id),
            source=input.source.value,
            source_id=str(input.source_id),
            failure=input.failure,
            task_id=str(input.task_id) if input.task_id else None,
            participant_ids=tuple(str(p) for p in input.participant_ids),
        )
        return await as_result(
            info.context.duties.joint_rulings.start(cmd, info.context.caller()),
            lambda r: JointRuling.of(r, info),
        )

    @strawberry.mutation(description="R-SUP-04: the joint ruling's decision.")
    async def rule_joint_ruling(
        self, info: Info, ruling_id: strawberry.ID, decision: str, basis: str
    ) -> JointRulingResult:
        return await as_result(
            info.context.duties.joint_rulings.rule(
                d.RuleJointRuling(str(ruling_id), decision, basis), info.context.caller()
            ),
            lambda r: JointRuling.of(r, info),
        )

    @strawberry.mutation(
        description="R-SUP-04: pass the clues to the discipline commission or the "
        "organisation department (纪委监委 / 组织部)."
    )
    async def transfer_clues(
        self, info: Info, ruling_id: strawberry.ID, recipient_id: strawberry.ID, clues: str
    ) -> JointRulingResult:
        return await as_result(
            info.context.duties.joint_rulings.transfer_clues(
                d.TransferClues(str(ruling_id), str(recipient_id), clues), info.context.caller()
            ),
            lambda r: JointRuling.of(r, info),
        )
