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
    load_agency,
)
from kernel.graphql import Connection, Edge, PageInfo, UserError, page_size, paginate


def _enum(cls: Any, name: str, description: str, values: dict[str, str]) -> None:
    """Expose a domain enum as is, every value described (the domain stays free of strawberry)."""
    strawberry.enum(cls, name=name, description=description)
    for value in cls.__strawberry_definition__.values:
        value.description = values[value.value]


_enum(
    ons.OnSiteSituation,
    "OnSiteSituation",
    "What the receiver is told of (R-REF-15)",
    {
        "urgent_case": "an urgent case (情况紧急, SL 三(四))",
        "hazard": "a hazard (重大治安、安全隐患, HL 四(四))",
    },
)
_enum(
    ons.OnSiteStatus,
    "OnSiteStatus",
    "Where an on-site request stands",
    {
        "notified": "told; staff due on site at once",
        "dispatched": "staff sent",
        "arrived": "staff on site",
        "handled": "the handling recorded",
        "explained": "the receiver gave its reason for sending no staff (说明理由)",
    },
)
_enum(
    cor.Finding,
    "CorrectionFinding",
    "What the department found (R-NTF-05)",
    {"error": "enforcement in error (执法错误)", "unlawful": "unlawful enforcement (违法执法)"},
)
_enum(
    cor.CorrectionStatus,
    "CorrectionStatus",
    "Where a correction opinion stands",
    {"issued": "awaiting the township's reply", "responded": "the township replied"},
)
_enum(
    par.ParticipationPurpose,
    "ParticipationPurpose",
    "What the township is to take part in (FY (三)2)",
    {
        "inspection": "a special inspection (专项监督检查)",
        "approval": "an administrative approval (行政审批)",
        "confirmation": "an administrative confirmation (行政确认)",
    },
)
_enum(
    par.ParticipationStatus,
    "ParticipationStatus",
    "Where a participation notice stands",
    {
        "phoned": "phoned in an emergency; the writing still to follow",
        "notified": "the written notice given",
        "confirmed": "the township confirmed who takes part",
    },
)
_enum(
    jr.FailureSource,
    "JointRulingSource",
    "What a responsible unit did not carry out (R-SUP-04)",
    {
        "dispute_ruling": "a jurisdiction dispute's ruling (R-DSP-03)",
        "joint_task": "a joint enforcement task (R-JNT-04)",
    },
)
_enum(
    jr.JointRulingStatus,
    "JointRulingStatus",
    "Where a joint ruling stands",
    {"started": "started; the platform's ruling is due", "ruled": "ruled"},
)

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
    types: tuple[type[Any], type[Any]],
) -> Any:
    first = page_size(first)
    rows = await handlers.list_visible(
        agency_id=str(agency_id) if agency_id else None,
        after=after,
        limit=first + 1,
        caller=info.context.caller(),
    )
    conn, edge = types
    return paginate(rows, first, cursor=lambda r: r.id, node=node, connection=conn, edge=edge)


# ------------------------------------------------------------------ R-REF-15 on-site dispatch


@strawberry.type(description="HL 四(四): the notifier's report to the government.")
class OnSiteGovernmentReport:
    government_id: strawberry.ID = strawberry.field(
        description="the district government reported to"
    )
    text: str = strawberry.field(description="what the report says")
    reported_by: str = strawberry.field(description="who reported (person)")
    reported_at: datetime = strawberry.field(description="when it was reported")


@strawberry.type(
    description="An urgent case or hazard the receiver must send staff to at once "
    "(立即派员现场处置, R-REF-15)."
)
class OnSiteRequest:
    id: strawberry.ID = strawberry.field(description="the id")
    notifier_id: strawberry.ID = strawberry.field(
        description="the agency that gave notice (告知方)"
    )
    receiver_id: strawberry.ID = strawberry.field(
        description="the agency told to send staff on site"
    )
    situation: OnSiteSituation = strawberry.field(description="urgent case or hazard")
    description: str = strawberry.field(description="what was found")
    place: str = strawberry.field(description="where")
    status: OnSiteStatus = strawberry.field(description="where it stands")
    notified_at: datetime = strawberry.field(description="when the notice was given")
    referral_id: strawberry.ID | None = strawberry.field(
        description="the urgent referral it concerns, if any"
    )
    staff: list[str] = strawberry.field(description="the staff sent on site")
    dispatched_at: datetime | None = strawberry.field(description="when staff were sent")
    arrived_at: datetime | None = strawberry.field(description="when the staff arrived on site")
    handling: str = strawberry.field(description="how it was handled on site (处置情况)")
    handled_at: datetime | None = strawberry.field(description="when the handling was recorded")
    explanation: str = strawberry.field(
        description="the reason given for sending no staff (说明理由)"
    )
    explained_at: datetime | None = strawberry.field(description="when the reason was given")
    late: bool = strawberry.field(description="acted or explained after the limit")
    report: OnSiteGovernmentReport | None = strawberry.field(
        description="the report to the government (HL 四(四)), once made"
    )
    deadlines: list[CooperationDeadline] = strawberry.field(description="its statutory clocks")
    history: list[CooperationTransition] = strawberry.field(
        description="every recorded action (R-SUP-01)"
    )

    @strawberry.field(description="the agency that gave notice")
    async def notifier(self, info: Info) -> Agency | None:
        return await load_agency(info, str(self.notifier_id))

    @strawberry.field(description="the agency told to send staff")
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


@strawberry.type(description="One on-site request of a list and the cursor to resume after it.")
class OnSiteRequestEdge(Edge[OnSiteRequest]):
    cursor: str = strawberry.field(description="resume after this one")
    node: OnSiteRequest = strawberry.field(description="the on-site request")


@strawberry.type(description="On-site requests, a page at a time (Relay connection).")
class OnSiteRequestConnection(Connection[OnSiteRequest]):
    edges: list[OnSiteRequestEdge] = strawberry.field(  # type: ignore[assignment]
        description="this page"
    )
    page_info: PageInfo = strawberry.field(description="whether more follow, and from where")


OnSiteResult = Annotated[
    OnSiteRequest | UserError,
    strawberry.union(
        "OnSiteRequestResult", description="The on-site request, or why the command was refused"
    ),
]


@strawberry.input(description="R-REF-15: the notice of an urgent case or hazard")
class NotifyOnSiteInput:
    notifier_id: strawberry.ID = strawberry.field(
        description="the agency that gave notice (告知方)"
    )
    receiver_id: strawberry.ID = strawberry.field(
        description="the agency told to send staff on site"
    )
    situation: OnSiteSituation = strawberry.field(description="urgent case or hazard")
    description: str = strawberry.field(description="what was found")
    place: str = strawberry.field(description="where")
    referral_id: strawberry.ID | None = strawberry.field(
        default=None, description="the urgent referral this concerns, if any"
    )


# ------------------------------------------------------------ R-NTF-05 correction opinions


@strawberry.type(description="The township's reply: what it corrected.")
class CorrectionResponse:
    corrected: str = strawberry.field(description="what the township corrected")
    document_number: str = strawberry.field(description="the document's number (文号)")
    responded_by: str = strawberry.field(description="who replied (person)")
    responded_at: datetime = strawberry.field(description="when the township replied")
    late: bool = strawberry.field(description="after the limit")


@strawberry.type(
    description="A department's correction opinion (纠正意见) to a township, copied to the "
    "justice bureau (R-NTF-05)."
)
class CorrectionOpinion:
    id: strawberry.ID = strawberry.field(description="the id")
    department_id: strawberry.ID = strawberry.field(description="the department")
    township_id: strawberry.ID = strawberry.field(description="the township")
    justice_bureau_id: strawberry.ID = strawberry.field(
        description="the justice bureau copied (抄送司法局)"
    )
    finding: CorrectionFinding = strawberry.field(
        description="wrong (执法错误) or unlawful (违法执法)"
    )
    case_reference: str = strawberry.field(description="the case or enforcement act concerned")
    problems: str = strawberry.field(description="what is wrong or unlawful")
    opinion: str = strawberry.field(description="the correction asked for (纠正意见)")
    document_number: str = strawberry.field(description="the document's number (文号)")
    status: CorrectionStatus = strawberry.field(description="where it stands")
    issued_at: datetime = strawberry.field(description="when the opinion was given")
    response_working_days: int = strawberry.field(
        description="working days the township has to reply (district policy)"
    )
    response: CorrectionResponse | None = strawberry.field(
        description="the township's reply, once given"
    )
    deadlines: list[CooperationDeadline] = strawberry.field(description="its statutory clocks")
    history: list[CooperationTransition] = strawberry.field(
        description="every recorded action (R-SUP-01)"
    )

    @strawberry.field(description="the township")
    async def township(self, info: Info) -> Agency | None:
        return await load_agency(info, str(self.township_id))

    @strawberry.field(description="the department")
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


@strawberry.type(description="One correction opinion of a list and the cursor to resume after it.")
class CorrectionOpinionEdge(Edge[CorrectionOpinion]):
    cursor: str = strawberry.field(description="resume after this one")
    node: CorrectionOpinion = strawberry.field(description="the correction opinion")


@strawberry.type(description="Correction opinions, a page at a time (Relay connection).")
class CorrectionOpinionConnection(Connection[CorrectionOpinion]):
    edges: list[CorrectionOpinionEdge] = strawberry.field(  # type: ignore[assignment]
        description="this page"
    )
    page_info: PageInfo = strawberry.field(description="whether more follow, and from where")


CorrectionResult = Annotated[
    CorrectionOpinion | UserError,
    strawberry.union(
        "CorrectionOpinionResult",
        description="The correction opinion, or why the command was refused",
    ),
]


@strawberry.input(description="R-NTF-05: a correction opinion to a township")
class IssueCorrectionOpinionInput:
    department_id: strawberry.ID = strawberry.field(description="the department")
    township_id: strawberry.ID = strawberry.field(description="the township")
    finding: CorrectionFinding = strawberry.field(
        description="wrong (执法错误) or unlawful (违法执法)"
    )
    case_reference: str = strawberry.field(description="the case or enforcement act concerned")
    problems: str = strawberry.field(description="what is wrong or unlawful")
    opinion: str = strawberry.field(description="纠正意见")
    document_number: str = strawberry.field(description="文号")


# ------------------------------------------------------- R-NTF-06 participation notices


@strawberry.type(description="The emergency phone call that preceded the writing.")
class ParticipationPhoneCall:
    caller: str = strawberry.field(description="who phoned")
    called: str = strawberry.field(description="who took the call")
    at: datetime = strawberry.field(description="when")


@strawberry.type(
    description="A department's notice that the township take part in an inspection, "
    "approval or confirmation (书面通知, R-NTF-06)."
)
class ParticipationNotice:
    id: strawberry.ID = strawberry.field(description="the id")
    department_id: strawberry.ID = strawberry.field(description="the department")
    township_id: strawberry.ID = strawberry.field(description="the township")
    purpose: ParticipationPurpose = strawberry.field(
        description="inspection, approval or confirmation"
    )
    subject: str = strawberry.field(description="what the township is to take part in")
    place: str = strawberry.field(description="where")
    starts_at: datetime = strawberry.field(description="when the township is to take part")
    status: ParticipationStatus = strawberry.field(description="where it stands")
    notified_at: datetime = strawberry.field(description="when the notice was given")
    document_number: str | None = strawberry.field(description="the document's number (文号)")
    written_at: datetime | None = strawberry.field(description="when the written notice was given")
    written_late: bool = strawberry.field(
        description="the writing followed the phone call after its limit"
    )
    phone_call: ParticipationPhoneCall | None = strawberry.field(
        description="the emergency phone call that came first, if any"
    )
    participants: list[str] = strawberry.field(description="who takes part for the township")
    confirmed_at: datetime | None = strawberry.field(description="when the township confirmed")
    deadlines: list[CooperationDeadline] = strawberry.field(description="its statutory clocks")
    history: list[CooperationTransition] = strawberry.field(
        description="every recorded action (R-SUP-01)"
    )

    @strawberry.field(description="the township")
    async def township(self, info: Info) -> Agency | None:
        return await load_agency(info, str(self.township_id))

    @strawberry.field(description="the department")
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


@strawberry.type(
    description="One participation notice of a list and the cursor to resume after it."
)
class ParticipationNoticeEdge(Edge[ParticipationNotice]):
    cursor: str = strawberry.field(description="resume after this one")
    node: ParticipationNotice = strawberry.field(description="the participation notice")


@strawberry.type(description="Participation notices, a page at a time (Relay connection).")
class ParticipationNoticeConnection(Connection[ParticipationNotice]):
    edges: list[ParticipationNoticeEdge] = strawberry.field(  # type: ignore[assignment]
        description="this page"
    )
    page_info: PageInfo = strawberry.field(description="whether more follow, and from where")


ParticipationResult = Annotated[
    ParticipationNotice | UserError,
    strawberry.union(
        "ParticipationNoticeResult",
        description="The participation notice, or why the command was refused",
    ),
]


@strawberry.input(description="R-NTF-06: the emergency phone call that comes first")
class ParticipationPhoneCallInput:
    caller: str = strawberry.field(description="who phoned")
    called: str = strawberry.field(description="who took the call")
    at: datetime | None = strawberry.field(default=None, description="default: now")


@strawberry.input(description="R-NTF-06: a notice that the township take part")
class NotifyParticipationInput:
    department_id: strawberry.ID = strawberry.field(description="the department")
    township_id: strawberry.ID = strawberry.field(description="the township")
    purpose: ParticipationPurpose = strawberry.field(
        description="inspection, approval or confirmation"
    )
    subject: str = strawberry.field(description="what the township is to take part in")
    place: str = strawberry.field(description="where")
    starts_at: datetime = strawberry.field(description="when the township is to take part")
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
    recipient_id: strawberry.ID = strawberry.field(
        description="the discipline commission or organisation department"
    )
    clues: str = strawberry.field(description="the clues passed on (问题线索)")
    transferred_by: str = strawberry.field(description="who passed them (person)")
    transferred_at: datetime = strawberry.field(description="when")

    @strawberry.field(description="the agency given the clues")
    async def recipient(self, info: Info) -> Agency | None:
        return await load_agency(info, str(self.recipient_id))


@strawberry.type(
    description="The platform's joint ruling (联合裁定) on a unit that failed or refused to "
    "carry out a ruling or task (R-SUP-04)."
)
class JointRuling:
    id: strawberry.ID = strawberry.field(description="the id")
    platform_id: strawberry.ID = strawberry.field(
        description="the platform (coordination body) that rules"
    )
    responsible_agency_id: strawberry.ID = strawberry.field(
        description="the unit that failed or refused to carry out a ruling or task"
    )
    source: JointRulingSource = strawberry.field(
        description="what was not carried out: a dispute ruling or a joint task"
    )
    source_id: strawberry.ID = strawberry.field(
        description="the ruled dispute, or the joint operation holding the task"
    )
    task_id: strawberry.ID | None = strawberry.field(
        description="the joint task, when the source is one"
    )
    failure: str = strawberry.field(description="what was not carried out (落实不力或拒不落实)")
    participant_ids: list[strawberry.ID] = strawberry.field(
        description="agencies taking part in the joint ruling"
    )
    status: JointRulingStatus = strawberry.field(description="where it stands")
    started_at: datetime = strawberry.field(description="when the joint ruling started")
    decision: str = strawberry.field(description="the ruling (裁定结论)")
    basis: str = strawberry.field(description="the ruling's document or minutes (文号)")
    ruled_at: datetime | None = strawberry.field(description="when it was ruled")
    transfers: list[CluesTransfer] = strawberry.field(description="clues passed on so far")
    deadlines: list[CooperationDeadline] = strawberry.field(description="its statutory clocks")
    history: list[CooperationTransition] = strawberry.field(
        description="every recorded action (R-SUP-01)"
    )

    @strawberry.field(description="the unit that failed or refused")
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


@strawberry.type(description="One joint ruling of a list and the cursor to resume after it.")
class JointRulingEdge(Edge[JointRuling]):
    cursor: str = strawberry.field(description="resume after this one")
    node: JointRuling = strawberry.field(description="the joint ruling")


@strawberry.type(description="Joint rulings, a page at a time (Relay connection).")
class JointRulingConnection(Connection[JointRuling]):
    edges: list[JointRulingEdge] = strawberry.field(  # type: ignore[assignment]
        description="this page"
    )
    page_info: PageInfo = strawberry.field(description="whether more follow, and from where")


JointRulingResult = Annotated[
    JointRuling | UserError,
    strawberry.union(
        "JointRulingResult", description="The joint ruling, or why the command was refused"
    ),
]


@strawberry.input(description="R-SUP-04: what the platform rules on")
class StartJointRulingInput:
    platform_id: strawberry.ID = strawberry.field(description="the coordination body (平台)")
    responsible_agency_id: strawberry.ID = strawberry.field(
        description="the unit that failed or refused to carry out a ruling or task"
    )
    source: JointRulingSource = strawberry.field(
        description="what was not carried out: a dispute ruling or a joint task"
    )
    source_id: strawberry.ID = strawberry.field(
        description="the ruled dispute, or the joint operation holding the task"
    )
    failure: str = strawberry.field(description="落实不力或拒不落实的情况")
    task_id: strawberry.ID | None = strawberry.field(
        default=None, description="the joint task, when the source is one"
    )
    participant_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="agencies taking part in the joint ruling"
    )


# ------------------------------------------------------------------------- roots


@strawberry.type
class DutyQuery:
    @strawberry.field(description="One on-site request (parties and supervising roles).")
    async def on_site_request(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="the id")]
    ) -> OnSiteRequest | None:
        r = await info.context.duties.on_site.visible(str(id), info.context.caller())
        return OnSiteRequest.of(r, info) if r else None

    @strawberry.field(description="On-site requests you are a party to (all if you supervise).")
    async def on_site_requests(
        self,
        info: Info,
        agency_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="only those this agency takes part in"),
        ] = None,
        first: Annotated[int, strawberry.argument(description="page size")] = 50,
        after: Annotated[
            str | None, strawberry.argument(description="the cursor to continue after")
        ] = None,
    ) -> OnSiteRequestConnection:
        page: OnSiteRequestConnection = await _list(
            info.context.duties.on_site,
            info,
            agency_id,
            first,
            after,
            lambda r: OnSiteRequest.of(r, info),
            (OnSiteRequestConnection, OnSiteRequestEdge),
        )
        return page

    @strawberry.field(description="One correction opinion (parties and supervising roles).")
    async def correction_opinion(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="the id")]
    ) -> CorrectionOpinion | None:
        o = await info.context.duties.corrections.visible(str(id), info.context.caller())
        return CorrectionOpinion.of(o, info) if o else None

    @strawberry.field(description="Correction opinions you are a party to (or copied on).")
    async def correction_opinions(
        self,
        info: Info,
        agency_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="only those this agency takes part in"),
        ] = None,
        first: Annotated[int, strawberry.argument(description="page size")] = 50,
        after: Annotated[
            str | None, strawberry.argument(description="the cursor to continue after")
        ] = None,
    ) -> CorrectionOpinionConnection:
        page: CorrectionOpinionConnection = await _list(
            info.context.duties.corrections,
            info,
            agency_id,
            first,
            after,
            lambda o: CorrectionOpinion.of(o, info),
            (CorrectionOpinionConnection, CorrectionOpinionEdge),
        )
        return page

    @strawberry.field(description="One participation notice (parties and supervising roles).")
    async def participation_notice(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="the id")]
    ) -> ParticipationNotice | None:
        n = await info.context.duties.participation.visible(str(id), info.context.caller())
        return ParticipationNotice.of(n, info) if n else None

    @strawberry.field(description="Participation notices you are a party to.")
    async def participation_notices(
        self,
        info: Info,
        agency_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="only those this agency takes part in"),
        ] = None,
        first: Annotated[int, strawberry.argument(description="page size")] = 50,
        after: Annotated[
            str | None, strawberry.argument(description="the cursor to continue after")
        ] = None,
    ) -> ParticipationNoticeConnection:
        page: ParticipationNoticeConnection = await _list(
            info.context.duties.participation,
            info,
            agency_id,
            first,
            after,
            lambda n: ParticipationNotice.of(n, info),
            (ParticipationNoticeConnection, ParticipationNoticeEdge),
        )
        return page

    @strawberry.field(description="One joint ruling (parties and supervising roles).")
    async def joint_ruling(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="the id")]
    ) -> JointRuling | None:
        r = await info.context.duties.joint_rulings.visible(str(id), info.context.caller())
        return JointRuling.of(r, info) if r else None

    @strawberry.field(description="Joint rulings you are a party to (all if you supervise).")
    async def joint_rulings(
        self,
        info: Info,
        agency_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="only those this agency takes part in"),
        ] = None,
        first: Annotated[int, strawberry.argument(description="page size")] = 50,
        after: Annotated[
            str | None, strawberry.argument(description="the cursor to continue after")
        ] = None,
    ) -> JointRulingConnection:
        page: JointRulingConnection = await _list(
            info.context.duties.joint_rulings,
            info,
            agency_id,
            first,
            after,
            lambda r: JointRuling.of(r, info),
            (JointRulingConnection, JointRulingEdge),
        )
        return page


@strawberry.type
class DutyMutation:
    # -- R-REF-15
    @strawberry.mutation(
        description="R-REF-15: tell the competent agency of an urgent case or hazard; its "
        "staff are due on site within the policy's immediately hours."
    )
    async def notify_on_site(
        self,
        info: Info,
        input: Annotated[NotifyOnSiteInput, strawberry.argument(description="the command")],
    ) -> OnSiteResult:
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
        self,
        info: Info,
        request_id: Annotated[
            strawberry.ID, strawberry.argument(description="the on-site request")
        ],
        staff: Annotated[
            list[str], strawberry.argument(description="the staff sent on site (names)")
        ],
    ) -> OnSiteResult:
        return await as_result(
            info.context.duties.on_site.dispatch(
                d.DispatchOnSiteStaff(str(request_id), tuple(staff)), info.context.caller()
            ),
            lambda r: OnSiteRequest.of(r, info),
        )

    @strawberry.mutation(description="R-REF-15: the staff arrived on site (now).")
    async def record_on_site_arrival(
        self,
        info: Info,
        request_id: Annotated[
            strawberry.ID, strawberry.argument(description="the on-site request")
        ],
    ) -> OnSiteResult:
        return await as_result(
            info.context.duties.on_site.arrive(
                d.RecordOnSiteArrival(str(request_id)), info.context.caller()
            ),
            lambda r: OnSiteRequest.of(r, info),
        )

    @strawberry.mutation(description="R-REF-15: how it was handled on site.")
    async def record_on_site_handling(
        self,
        info: Info,
        request_id: Annotated[
            strawberry.ID, strawberry.argument(description="the on-site request")
        ],
        handling: Annotated[
            str, strawberry.argument(description="what was done on site (处置情况)")
        ],
    ) -> OnSiteResult:
        return await as_result(
            info.context.duties.on_site.handle(
                d.RecordOnSiteHandling(str(request_id), handling), info.context.caller()
            ),
            lambda r: OnSiteRequest.of(r, info),
        )

    @strawberry.mutation(description="HL 四(四): the receiver says why it sends no staff.")
    async def explain_on_site(
        self,
        info: Info,
        request_id: Annotated[
            strawberry.ID, strawberry.argument(description="the on-site request")
        ],
        reason: Annotated[str, strawberry.argument(description="why no staff are sent (说明理由)")],
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
        self,
        info: Info,
        request_id: Annotated[
            strawberry.ID, strawberry.argument(description="the on-site request")
        ],
        text: Annotated[str, strawberry.argument(description="what the report says")],
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
        self,
        info: Info,
        input: Annotated[
            IssueCorrectionOpinionInput, strawberry.argument(description="the command")
        ],
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
        self,
        info: Info,
        opinion_id: Annotated[
            strawberry.ID, strawberry.argument(description="the correction opinion")
        ],
        corrected: Annotated[str, strawberry.argument(description="what was corrected (纠正情况)")],
        document_number: Annotated[
            str, strawberry.argument(description="the document's number (文号)")
        ],
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
        self,
        info: Info,
        input: Annotated[NotifyParticipationInput, strawberry.argument(description="the command")],
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
        self,
        info: Info,
        notice_id: Annotated[
            strawberry.ID, strawberry.argument(description="the participation notice")
        ],
        document_number: Annotated[
            str, strawberry.argument(description="the document's number (文号)")
        ],
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
        self,
        info: Info,
        notice_id: Annotated[
            strawberry.ID, strawberry.argument(description="the participation notice")
        ],
        participants: Annotated[
            list[str], strawberry.argument(description="who takes part for the township")
        ],
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
        self,
        info: Info,
        input: Annotated[StartJointRulingInput, strawberry.argument(description="the command")],
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
        self,
        info: Info,
        ruling_id: Annotated[strawberry.ID, strawberry.argument(description="the joint ruling")],
        decision: Annotated[str, strawberry.argument(description="the ruling (裁定结论)")],
        basis: Annotated[
            str, strawberry.argument(description="the ruling's document or minutes (文号)")
        ],
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
        self,
        info: Info,
        ruling_id: Annotated[strawberry.ID, strawberry.argument(description="the joint ruling")],
        recipient_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="the discipline commission or organisation department"),
        ],
        clues: Annotated[str, strawberry.argument(description="the clues passed on (问题线索)")],
    ) -> JointRulingResult:
        return await as_result(
            info.context.duties.joint_rulings.transfer_clues(
                d.TransferClues(str(ruling_id), str(recipient_id), clues), info.context.caller()
            ),
            lambda r: JointRuling.of(r, info),
        )
