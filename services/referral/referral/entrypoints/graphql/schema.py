"""The referral subgraph: Referral and Complaint are entities; Agency is referenced by id and
resolved by the coordination subgraph."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.federation import Schema
from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet

from kernel.auth import TokenVerifier
from kernel.calendar import WorkingCalendar
from kernel.errors import DomainError
from kernel.graphql import (
    ErrorCode,
    PageInfo,
    RequestContext,
    UserError,
    decode_cursor,
    encode_cursor,
    graphql_error,
    schema_extensions,
)
from referral.adapters.repository import ComplaintRepository, ReferralFilter, ReferralRepository
from referral.application.access import (
    ReadScope,
    may_read_complaint,
    may_read_material_content,
    may_read_referral,
    may_read_referral_complaint,
    read_scope,
)
from referral.application.handlers import (
    AddMaterial,
    DelegationReport,
    DraftReferral,
    ReferralHandlers,
    RegisterComplaint,
)
from referral.domain.complaint import Complaint as ComplaintModel
from referral.domain.complaint import ComplaintStatus as DomainComplaintStatus
from referral.domain.model import DeadlineInfo
from referral.domain.model import Referral as ReferralModel
from referral.domain.model import Status as DomainStatus
from referral.entrypoints.http.files import download_path, letter_path

# The domain's enums are registered with the graph as they are (one source of truth).
strawberry.enum(
    DomainStatus, name="ReferralStatus", description="Where a referral stands in its lifecycle"
)
ReferralStatus = DomainStatus
strawberry.enum(
    DomainComplaintStatus, name="ComplaintStatus", description="Where a complaint stands"
)
ComplaintStatus = DomainComplaintStatus


class ReferralContext(RequestContext):
    def __init__(
        self,
        verifier: TokenVerifier,
        district: str,
        handlers: ReferralHandlers,
        referrals: ReferralRepository,
        complaints: ComplaintRepository,
        calendar: WorkingCalendar,
    ) -> None:
        super().__init__(verifier, district)
        self.handlers = handlers
        self.referrals = referrals
        self.complaints = complaints
        self.calendar = calendar
        self.referral_loader: DataLoader[str, ReferralModel | None] = DataLoader(self._load)
        self.complaint_loader: DataLoader[str, ComplaintModel | None] = DataLoader(
            self._load_complaints
        )

    def now(self) -> datetime:
        """The deployment's clock (kernel.clock), the one the handlers use: overdue flags
        agree with the deadline watch when a test moves time."""
        return self.handlers.clock()

    async def _load(self, ids: list[str]) -> list[ReferralModel | None]:
        found = await self.referrals.get_many(ids)
        return [found.get(i) for i in ids]

    async def _load_complaints(self, ids: list[str]) -> list[ComplaintModel | None]:
        found = await self.complaints.get_many(ids)
        return [found.get(i) for i in ids]

    async def visible_referral(self, referral_id: str) -> ReferralModel | None:
        model = await self.referral_loader.load(referral_id)
        return model if model is not None and may_read_referral(self.principal(), model) else None

    async def visible_complaint(self, complaint_id: str) -> ComplaintModel | None:
        model = await self.complaint_loader.load(complaint_id)
        p = self.principal()
        return model if model is not None and may_read_complaint(p, model) else None

    def referral(self, model: ReferralModel) -> Referral:
        """The graph's view of a referral the caller may read; material contents (download
        URLs, the letter) only where the matrix lets the caller read them."""
        content = may_read_material_content(self.principal(), model)
        return Referral.from_model(model, self.calendar, self.now(), content_visible=content)


Info = strawberry.Info[ReferralContext, None]


@strawberry.federation.type(keys=[Key(fields=FieldSet("id"), resolvable=False)])
class Agency:
    id: strawberry.ID


def _agency(agency_id: str | None) -> Agency | None:
    return Agency(id=strawberry.ID(agency_id)) if agency_id else None


@strawberry.type(description="A statutory clock and how its due time was computed.")
class ReferralDeadline:
    kind: str = strawberry.field(description="send | accept | report")
    key: str = strawberry.field(description="stable identity of the clock (as in events)")
    state: str = strawberry.field(description="open | met | cancelled")
    rule: str
    due: datetime
    explanation: str = strawberry.field(description="how the due time was computed (Chinese)")
    remaining_working_days: int = strawberry.field(
        description="working days left; negative when overdue"
    )
    overdue: bool = strawberry.field(description="still open and past due")
    responsible: Agency | None

    @classmethod
    def from_info(
        cls, d: DeadlineInfo, calendar: WorkingCalendar, now: datetime
    ) -> ReferralDeadline:
        return cls(
            kind=d.kind,
            key=d.key,
            state=d.state,
            rule=d.rule,
            due=d.due,
            explanation=calendar.explain_dict(d.explanation, lang="zh") if d.explanation else "",
            remaining_working_days=calendar.working_days_between(now, d.due),
            overdue=d.state == "open" and now > d.due,
            responsible=_agency(d.responsible_agency_id),
        )


@strawberry.type(description="One recorded act: who did what, when, from which state.")
class ReferralTransition:
    action: str
    actor_id: str
    actor_name: str
    agency_id: str
    at: datetime
    before: ReferralStatus | None
    after: ReferralStatus
    note: str


@strawberry.type(
    description="A material (R-REF-02): its record and, once uploaded or generated, its content."
)
class ReferralMaterial:
    id: strawberry.ID
    kind: str = strawberry.field(description="transfer_letter (移送函) | source | evidence")
    name: str
    media_type: str
    size: int
    sha256: str
    added_by: str
    added_at: datetime
    has_content: bool = strawberry.field(
        description="Whether the content is stored (uploaded, or the generated 移送函)"
    )
    download_url: str | None = strawberry.field(
        description="Path of the content on the referral service (GET with the same Bearer "
        "token; not through the gateway): parties and supervisors only. Null until stored."
    )


@strawberry.type(description="Who the catalogue names for this matter, place, date, severity.")
class ReferralCompetence:
    resolved_agency: Agency | None
    reason: str
    explanation: str
    major_penalty: bool
    checked_at: datetime
    override_reason: str = strawberry.field(description="why the sender addressed another")


@strawberry.type
class ReferralDecline:
    reasons: str
    catalogue_basis: str
    interim_handler: Agency
    by: str
    at: datetime


@strawberry.type
class ReferralRuling:
    dispute_id: str
    responsible_agency: Agency
    outcome_kind: str
    basis: str
    ruled_at: datetime
    reassigned: bool


@strawberry.type
class ReferralSupervision:
    by: str
    agency: Agency
    at: datetime
    note: str


@strawberry.type(description="R-REF-09: the department's consent and the justice filing.")
class ReferralUpwardTransfer:
    consent_by: str
    consent_at: datetime | None
    filing_number: str
    filed_at: datetime | None


@strawberry.type(description="R-REF-10: transfer to public security and its decision.")
class ReferralCrimeTransfer:
    police: Agency
    reason: str
    transferred_at: datetime
    decision: str = strawberry.field(description="empty while pending | filed | not_filed")
    decision_note: str
    decided_at: datetime | None


@strawberry.type(description="R-REF-12: the electronic signature of the transfer letter.")
class ReferralSignature:
    signer_id: str
    signer_name: str
    signed_at: datetime
    letter_sha256: str


@strawberry.type
class ReferralExtension:
    working_days: int
    reason: str
    notified_agency: Agency
    notified_at: datetime


@strawberry.type(description="R-REF-05: stop order and immediate notice.")
class ReferralOngoingViolation:
    stop_order: str
    stop_ordered_at: datetime
    notice: str
    notified_at: datetime


@strawberry.federation.type(keys=["id"], description="A case transfer (案件移送).")
class Referral:
    id: strawberry.ID
    status: ReferralStatus
    route: str = strawberry.field(description="ordinary | upward (R-REF-09) | crime (R-REF-10)")
    matter_code: str
    title: str
    facts: str
    party: str
    place: str
    township_id: str | None
    found_at: datetime
    urgent: bool
    created_at: datetime
    sent_at: datetime | None
    sender: Agency
    receiver: Agency
    previous_receivers: list[Agency]
    accept_deadline: ReferralDeadline | None
    deadlines: list[ReferralDeadline]
    overdue: bool
    history: list[ReferralTransition]
    materials: list[ReferralMaterial]
    transfer_letter_url: str | None = strawberry.field(
        description="Path of the stored 移送函 PDF on the referral service "
        "(GET /referrals/{id}/letter.pdf), null until generated or uploaded"
    )
    competence: ReferralCompetence | None
    extension: ReferralExtension | None
    ongoing_violation: ReferralOngoingViolation | None
    acceptance_statement: str
    handling_summary: str
    result: str
    decline: ReferralDecline | None
    rulings: list[ReferralRuling]
    supervisions: list[ReferralSupervision]
    upward: ReferralUpwardTransfer | None
    crime: ReferralCrimeTransfer | None
    electronic: bool
    signature: ReferralSignature | None
    complaint_id: strawberry.ID | None

    @strawberry.field(description="The complaint this referral was created from (R-CMP-03).")
    async def complaint(self, info: Info) -> Complaint | None:
        if self.complaint_id is None:
            return None
        # The complaint's own readers and the handling receiver, who tells the complainant
        # the result (R-CMP-04); null for everyone else who reads the case.
        ctx = info.context
        referral = await ctx.referral_loader.load(str(self.id))
        model = await ctx.complaint_loader.load(str(self.complaint_id))
        if referral is None or model is None:
            return None
        if not may_read_referral_complaint(ctx.principal(), referral, model):
            return None
        return Complaint.from_model(model)

    @classmethod
    def from_model(
        cls, r: ReferralModel, calendar: WorkingCalendar, now: datetime, *, content_visible: bool
    ) -> Referral:
        return cls(
            id=strawberry.ID(r.id),
            status=r.status,
            route=r.route.value,
            matter_code=r.matter_code,
            title=r.title,
            facts=r.facts,
            party=r.party,
            place=r.place,
            township_id=r.township_id,
            found_at=r.found_at,
            urgent=r.urgent,
            created_at=r.created_at,
            sent_at=r.sent_at,
            sender=Agency(id=strawberry.ID(r.sender_id)),
            receiver=Agency(id=strawberry.ID(r.receiver_id)),
            previous_receivers=[Agency(id=strawberry.ID(a)) for a in r.previous_receivers],
            accept_deadline=(
                ReferralDeadline.from_info(r.accept_deadline, calendar, now)
                if r.accept_deadline
                else None
            ),
            deadlines=[ReferralDeadline.from_info(d, calendar, now) for d in r.deadlines],
            overdue=r.is_overdue(now),
            history=[
                ReferralTransition(
                    action=t.action,
                    actor_id=t.actor_id,
                    actor_name=t.actor_name,
                    agency_id=t.agency_id,
                    at=t.at,
                    before=t.before,
                    after=t.after,
                    note=t.note,
                )
                for t in r.history
            ],
            materials=[
                ReferralMaterial(
                    id=strawberry.ID(m.id),
                    kind=m.kind.value,
                    name=m.name,
                    media_type=m.media_type,
                    size=m.size,
                    sha256=m.sha256,
                    added_by=m.added_by,
                    added_at=m.added_at,
                    has_content=m.file_id is not None,
                    download_url=(
                        download_path(r.id, m.id) if m.file_id and content_visible else None
                    ),
                )
                for m in r.materials
            ],
            transfer_letter_url=(
                letter_path(r.id) if r.latest_letter_file() and content_visible else None
            ),
            competence=(
                ReferralCompetence(
                    resolved_agency=_agency(r.competence.resolved_agency_id),
                    reason=r.competence.reason,
                    explanation=r.competence.explanation,
                    major_penalty=r.competence.major_penalty,
                    checked_at=r.competence.checked_at,
                    override_reason=r.competence.override_reason,
                )
                if r.competence
                else None
            ),
            extension=(
                ReferralExtension(
                    working_days=r.extension.working_days,
                    reason=r.extension.reason,
                    notified_agency=Agency(id=strawberry.ID(r.extension.notified_agency_id)),
                    notified_at=r.extension.notified_at,
                )
                if r.extension
                else None
            ),
            ongoing_violation=(
                ReferralOngoingViolation(
                    stop_order=r.ongoing.stop_order,
                    stop_ordered_at=r.ongoing.stop_ordered_at,
                    notice=r.ongoing.notice,
                    notified_at=r.ongoing.notified_at,
                )
                if r.ongoing
                else None
            ),
            acceptance_statement=r.acceptance_statement,
            handling_summary=r.handling_summary,
            result=r.result,
            decline=(
                ReferralDecline(
                    reasons=r.decline_info.reasons,
                    catalogue_basis=r.decline_info.catalogue_basis,
                    interim_handler=Agency(id=strawberry.ID(r.decline_info.interim_handler_id)),
                    by=r.decline_info.by,
                    at=r.decline_info.at,
                )
                if r.decline_info
                else None
            ),
            rulings=[
                ReferralRuling(
                    dispute_id=x.dispute_id,
                    responsible_agency=Agency(id=strawberry.ID(x.responsible_agency_id)),
                    outcome_kind=x.outcome_kind,
                    basis=x.basis,
                    ruled_at=x.ruled_at,
                    reassigned=x.reassigned,
                )
                for x in r.rulings
            ],
            supervisions=[
                ReferralSupervision(
                    by=s.by, agency=Agency(id=strawberry.ID(s.agency_id)), at=s.at, note=s.note
                )
                for s in r.supervisions
            ],
            upward=(
                ReferralUpwardTransfer(
                    consent_by=r.upward.consent_by,
                    consent_at=r.upward.consent_at,
                    filing_number=r.upward.filing_number,
                    filed_at=r.upward.filed_at,
                )
                if r.upward
                else None
            ),
            crime=(
                ReferralCrimeTransfer(
                    police=Agency(id=strawberry.ID(r.crime.police_id)),
                    reason=r.crime.reason,
                    transferred_at=r.crime.transferred_at,
                    decision=r.crime.decision,
                    decision_note=r.crime.decision_note,
                    decided_at=r.crime.decided_at,
                )
                if r.crime
                else None
            ),
            electronic=r.electronic,
            signature=(
                ReferralSignature(
                    signer_id=r.signature.signer_id,
                    signer_name=r.signature.signer_name,
                    signed_at=r.signature.signed_at,
                    letter_sha256=r.signature.letter_sha256,
                )
                if r.signature
                else None
            ),
            complaint_id=strawberry.ID(r.complaint_id) if r.complaint_id else None,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Referral | None:
        model = await info.context.visible_referral(str(id))
        return info.context.referral(model) if model else None


@strawberry.type
class ComplaintNotice:
    kind: str = strawberry.field(
        description="answer | handover | referred | result | result_to_agency"
    )
    text: str
    at: datetime
    by_agency: Agency
    to_agency: Agency | None = strawberry.field(
        description="set when an agency that passed it on is told; else the complainant"
    )


@strawberry.type
class ComplaintTransition:
    action: str
    actor_id: str
    agency_id: str
    at: datetime
    before: ComplaintStatus | None
    after: ComplaintStatus
    note: str


@strawberry.federation.type(keys=["id"], description="A complaint or report (举报投诉).")
class Complaint:
    id: strawberry.ID
    status: ComplaintStatus
    first_agency: Agency = strawberry.field(description="首问: the agency that received it")
    owner: Agency
    complainant_name: str
    complainant_contact: str
    content: str
    matter_code: str
    place: str
    received_at: datetime
    handover_to: Agency | None
    handover_mode: str | None
    case_number: str
    answer: str
    result: str
    notices: list[ComplaintNotice]
    history: list[ComplaintTransition]
    referral_id: strawberry.ID | None

    @strawberry.field(description="The referral created from this complaint.")
    async def referral(self, info: Info) -> Referral | None:
        if self.referral_id is None:
            return None
        model = await info.context.visible_referral(str(self.referral_id))
        return info.context.referral(model) if model else None

    @classmethod
    def from_model(cls, c: ComplaintModel) -> Complaint:
        return cls(
            id=strawberry.ID(c.id),
            status=c.status,
            first_agency=Agency(id=strawberry.ID(c.first_agency_id)),
            owner=Agency(id=strawberry.ID(c.owner_agency_id)),
            complainant_name=c.complainant_name,
            complainant_contact=c.complainant_contact,
            content=c.content,
            matter_code=c.matter_code,
            place=c.place,
            received_at=c.received_at,
            handover_to=_agency(c.handover.to_agency_id if c.handover else None),
            handover_mode=c.handover.mode.value if c.handover else None,
            case_number=c.case_number,
            answer=c.answer,
            result=c.result,
            notices=[
                ComplaintNotice(
                    kind=n.kind,
                    text=n.text,
                    at=n.at,
                    by_agency=Agency(id=strawberry.ID(n.by_agency_id)),
                    to_agency=_agency(n.to_agency_id),
                )
                for n in c.notices
            ],
            history=[
                ComplaintTransition(
                    action=t.action,
                    actor_id=t.actor_id,
                    agency_id=t.agency_id,
                    at=t.at,
                    before=t.before,
                    after=t.after,
                    note=t.note,
                )
                for t in c.history
            ],
            referral_id=strawberry.ID(c.referral_id) if c.referral_id else None,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Complaint | None:
        model = await info.context.visible_complaint(str(id))
        return cls.from_model(model) if model else None


@strawberry.type
class ReferralEdge:
    cursor: str
    node: Referral


@strawberry.type
class ReferralConnection:
    edges: list[ReferralEdge]
    page_info: PageInfo


@strawberry.type
class ComplaintEdge:
    cursor: str
    node: Complaint


@strawberry.type
class ComplaintConnection:
    edges: list[ComplaintEdge]
    page_info: PageInfo


@strawberry.enum(description="Sort key of referral lists")
class ReferralSortField(Enum):
    CREATED_AT = "created_at"
    FOUND_AT = "found_at"
    OPEN_DUE = strawberry.enum_value(
        "open_due",
        description="earliest due time of a running clock; lists only referrals with a "
        "running clock (the natural order of an overdue list: most overdue first)",
    )


@strawberry.input
class ReferralFilterInput:
    status: ReferralStatus | None = None
    sender_id: strawberry.ID | None = None
    receiver_id: strawberry.ID | None = None
    matter_code: str | None = None
    overdue: bool | None = strawberry.field(
        default=None, description="true: only referrals with a running clock past due"
    )
    created_from: datetime | None = None
    created_to: datetime | None = strawberry.field(default=None, description="exclusive")


def _after(cursor: str | None) -> tuple[Any, str] | None:
    if not cursor:
        return None
    values = decode_cursor(cursor)
    if len(values) != 2 or not all(isinstance(v, str) for v in values):
        raise graphql_error(f"invalid cursor {cursor!r}", ErrorCode.VALIDATION)
    try:
        return datetime.fromisoformat(values[0]), values[1]
    except ValueError as exc:
        raise graphql_error(f"invalid cursor {cursor!r}", ErrorCode.VALIDATION) from exc


@strawberry.type
class Query:
    @strawberry.field(description="One referral by id (null when absent or not yours to see).")
    async def referral(self, info: Info, id: strawberry.ID) -> Referral | None:
        model = await info.context.visible_referral(str(id))
        return info.context.referral(model) if model else None

    @strawberry.field(
        description="Referrals you may see, filtered and sorted, with Relay cursor pagination. "
        "Staff see their agency's referrals (sent or received); government, coordinator and "
        "supervisor roles see all; judicial observers see suspected-crime ones."
    )
    async def referrals(
        self,
        info: Info,
        filter: ReferralFilterInput | None = None,
        sort: ReferralSortField = ReferralSortField.CREATED_AT,
        descending: bool = False,
        first: int = 50,
        after: str | None = None,
        status: ReferralStatus | None = None,
        sender_id: strawberry.ID | None = None,
        receiver_id: strawberry.ID | None = None,
    ) -> ReferralConnection:
        p = info.context.principal()
        f = filter or ReferralFilterInput()
        first = max(1, min(first, 200))
        # The list shows what the matrix's read rule lets the caller see.
        scope = read_scope(p)
        if scope == ReadScope.NOTHING:
            raise graphql_error(
                "your roles may not read referrals (see docs/authorization.md)",
                ErrorCode.FORBIDDEN,
            )
        party = p.agency_id if scope == ReadScope.OWN else None
        observer = scope == ReadScope.CRIME
        st = f.status or status
        rows = await info.context.referrals.search(
            ReferralFilter(
                status=st.value if st else None,
                sender_id=str(f.sender_id or sender_id or "") or None,
                receiver_id=str(f.receiver_id or receiver_id or "") or None,
                party_agency_id=party,
                matter_code=f.matter_code,
                overdue_at=info.context.now() if f.overdue else None,
                created_from=f.created_from,
                created_to=f.created_to,
                crime_only=observer,
            ),
            sort_field=sort.value,
            descending=descending,
            after=_after(after),
            limit=first + 1,
        )
        page = rows[:first]

        def cursor(r: ReferralModel) -> str:
            value: datetime | None = getattr(r, sort.value)
            if value is None:  # open_due sorting lists only referrals that have one
                raise RuntimeError(f"referral {r.id} has no {sort.value} to page by")
            return encode_cursor([value.astimezone(UTC).isoformat(), r.id])

        return ReferralConnection(
            edges=[ReferralEdge(cursor=cursor(r), node=info.context.referral(r)) for r in page],
            page_info=PageInfo(
                has_next_page=len(rows) > first, end_cursor=cursor(page[-1]) if page else None
            ),
        )

    @strawberry.field(description="One complaint by id (null when absent or not yours).")
    async def complaint(self, info: Info, id: strawberry.ID) -> Complaint | None:
        model = await info.context.visible_complaint(str(id))
        return Complaint.from_model(model) if model else None

    @strawberry.field(description="Complaints your agency owns (oversight roles: all).")
    async def complaints(
        self,
        info: Info,
        status: ComplaintStatus | None = None,
        owner_id: strawberry.ID | None = None,
        descending: bool = False,
        first: int = 50,
        after: str | None = None,
    ) -> ComplaintConnection:
        p = info.context.principal()
        first = max(1, min(first, 200))
        owner = str(owner_id) if owner_id else None
        scope = read_scope(p, "referral.complaint")
        if scope == ReadScope.NOTHING:
            raise graphql_error(
                "your roles may not read complaints (see docs/authorization.md)",
                ErrorCode.FORBIDDEN,
            )
        if scope != ReadScope.ALL:
            owner = p.agency_id
        rows = await info.context.complaints.search(
            status=status.value if status else None,
            owner_agency_id=owner,
            descending=descending,
            after=_after(after),
            limit=first + 1,
        )
        page = rows[:first]

        def cursor(c: ComplaintModel) -> str:
            return encode_cursor([c.received_at.astimezone(UTC).isoformat(), c.id])

        return ComplaintConnection(
            edges=[ComplaintEdge(cursor=cursor(c), node=Complaint.from_model(c)) for c in page],
            page_info=PageInfo(
                has_next_page=len(rows) > first, end_cursor=cursor(page[-1]) if page else None
            ),
        )


@strawberry.input
class DraftReferralInput:
    sender_id: strawberry.ID
    receiver_id: strawberry.ID
    matter_code: str
    title: str
    facts: str = strawberry.field(description="基本违法事实, in writing")
    party: str = ""
    place: str = ""
    found_at: datetime = strawberry.field(description="when the violation was found")
    urgent: bool = strawberry.field(default=False, description="on the 24 h clock (R-REF-04)")
    township_id: strawberry.ID | None = strawberry.field(
        default=None, description="the township of the place (default: the township side)"
    )
    penalty_kinds: list[str] = strawberry.field(
        default_factory=list,
        description="penalties the case may end in (revoke_licence, order_close, ...; R-CAT-03)",
    )
    possible_fine_yuan: int | None = None
    competence_reason: str = strawberry.field(
        default="",
        description="why the receiver is addressed although the catalogue names another or "
        "does not know the matter (recorded)",
    )
    ongoing: bool = strawberry.field(default=False, description="violation still going on")
    stop_order: str = ""
    stop_ordered_at: datetime | None = None
    immediate_notice: str = ""
    notified_at: datetime | None = None
    major_or_difficult: bool = strawberry.field(
        default=False, description="a township passes a major/difficult case up (R-REF-09)"
    )
    forwarded_from: strawberry.ID | None = strawberry.field(
        default=None, description="the received referral this one passes on (R-REF-07 forbids)"
    )


@strawberry.input
class MaterialInput:
    kind: str = strawberry.field(description="transfer_letter | source | evidence")
    name: str
    media_type: str
    size: int
    sha256: str


@strawberry.input
class RegisterComplaintInput:
    complainant_name: str
    complainant_contact: str
    content: str
    matter_code: str = ""
    place: str = ""
    township_id: strawberry.ID | None = None


@strawberry.type(description="R-REF-12: consent to receive electronically from one agency.")
class ElectronicConsent:
    receiver: Agency
    sender: Agency
    consented: bool


@strawberry.type
class StayedReferral:
    referral_id: strawberry.ID
    reason: str


@strawberry.type(description="R-REF-11: what moved to the township and what stayed.")
class DelegationTransferReport:
    moved: list[strawberry.ID]
    stayed: list[StayedReferral]


ReferralResult = Annotated[Referral | UserError, strawberry.union("ReferralResult")]
ComplaintResult = Annotated[Complaint | UserError, strawberry.union("ComplaintResult")]
ElectronicConsentResult = Annotated[
    ElectronicConsent | UserError, strawberry.union("ElectronicConsentResult")
]
DelegationTransferResult = Annotated[
    DelegationTransferReport | UserError, strawberry.union("DelegationTransferResult")
]

T = TypeVar("T")


async def _guard(action: Awaitable[T]) -> T | UserError:
    try:
        return await action
    except DomainError as exc:
        return UserError(code=exc.code, message=exc.message, field=exc.field)


async def _run(info: Info, action: Awaitable[ReferralModel]) -> Referral | UserError:
    result = await _guard(action)
    if isinstance(result, UserError):
        return result
    return info.context.referral(result)


async def _run_c(action: Awaitable[ComplaintModel]) -> Complaint | UserError:
    result = await _guard(action)
    return result if isinstance(result, UserError) else Complaint.from_model(result)


def _aware(value: datetime | None, name: str) -> UserError | None:
    if value is not None and value.tzinfo is None:
        return UserError(
            code=ErrorCode.VALIDATION,
            message=f"{name} needs a time zone offset, e.g. 2026-03-02T09:00:00+08:00",
            field=name,
        )
    return None


def _draft_command(input: DraftReferralInput) -> DraftReferral | UserError:
    for name, value in (
        ("foundAt", input.found_at),
        ("stopOrderedAt", input.stop_ordered_at),
        ("notifiedAt", input.notified_at),
    ):
        bad = _aware(value, name)
        if bad:
            return bad
    return DraftReferral(
        sender_id=str(input.sender_id),
        receiver_id=str(input.receiver_id),
        matter_code=input.matter_code,
        title=input.title,
        facts=input.facts,
        party=input.party,
        place=input.place,
        found_at=input.found_at,
        urgent=input.urgent,
        township_id=str(input.township_id) if input.township_id else None,
        penalty_kinds=tuple(input.penalty_kinds),
        possible_fine_yuan=input.possible_fine_yuan,
        competence_reason=input.competence_reason,
        ongoing=input.ongoing,
        stop_order=input.stop_order,
        stop_ordered_at=input.stop_ordered_at,
        immediate_notice=input.immediate_notice,
        notified_at=input.notified_at,
        major_or_difficult=input.major_or_difficult,
        forwarded_from=str(input.forwarded_from) if input.forwarded_from else None,
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Start a referral in the sending agency.")
    async def draft_referral(self, info: Info, input: DraftReferralInput) -> ReferralResult:
        p = info.context.principal()
        cmd = _draft_command(input)
        if isinstance(cmd, UserError):
            return cmd
        return await _run(
            info, info.context.handlers.draft_referral(cmd, p, info.context.correlation_id)
        )

    @strawberry.mutation(description="Record a material (移送函, source, evidence) on a draft.")
    async def add_referral_material(
        self, info: Info, id: strawberry.ID, input: MaterialInput
    ) -> ReferralResult:
        p = info.context.principal()
        cmd = AddMaterial(input.kind, input.name, input.media_type, input.size, input.sha256)
        h = info.context.handlers
        return await _run(info, h.add_material(str(id), cmd, p, info.context.correlation_id))

    @strawberry.mutation(
        description="Generate the transfer letter (移送函) PDF from the draft and attach it as "
        "its transfer_letter material; its SHA-256 is what an electronic signature covers "
        "(R-REF-12). Download it at transferLetterUrl."
    )
    async def generate_transfer_letter(self, info: Info, id: strawberry.ID) -> ReferralResult:
        p = info.context.principal()
        h = info.context.handlers

        async def generated() -> ReferralModel:
            referral, _ = await h.generate_transfer_letter(str(id), p, info.context.correlation_id)
            return referral

        return await _run(info, generated())

    @strawberry.mutation(description="Remove a material from a draft.")
    async def remove_referral_material(
        self, info: Info, id: strawberry.ID, material_id: strawberry.ID
    ) -> ReferralResult:
        p = info.context.principal()
        h = info.context.handlers
        return await _run(
            info, h.remove_material(str(id), str(material_id), p, info.context.correlation_id)
        )

    @strawberry.mutation(
        description="Extend the send limit (R-REF-04): prior notice to the receiver, never past "
        "the district maximum, counted in working days from discovery."
    )
    async def extend_referral_send_deadline(
        self,
        info: Info,
        id: strawberry.ID,
        working_days: int,
        reason: str,
        notify_receiver: bool,
    ) -> ReferralResult:
        p = info.context.principal()
        h = info.context.handlers
        return await _run(
            info,
            h.extend_send_deadline(
                str(id), working_days, reason, notify_receiver, p, info.context.correlation_id
            ),
        )

    @strawberry.mutation(description="Submit a complete draft to the agency's leader.")
    async def submit_referral(self, info: Info, id: strawberry.ID) -> ReferralResult:
        p = info.context.principal()
        return await _run(
            info, info.context.handlers.submit_for_approval(str(id), p, info.context.correlation_id)
        )

    @strawberry.mutation(description="A leader of the sending agency approves (R-REF-03).")
    async def approve_referral(self, info: Info, id: strawberry.ID) -> ReferralResult:
        p = info.context.principal()
        return await _run(
            info, info.context.handlers.approve(str(id), p, info.context.correlation_id)
        )

    @strawberry.mutation(
        description="Send an approved referral; electronic: signed transfer (R-REF-12)."
    )
    async def send_referral(
        self, info: Info, id: strawberry.ID, electronic: bool = False
    ) -> ReferralResult:
        p = info.context.principal()
        h = info.context.handlers
        return await _run(
            info, h.send(str(id), p, info.context.correlation_id, electronic=electronic)
        )

    @strawberry.mutation(description="The sender withdraws before acceptance.")
    async def withdraw_referral(self, info: Info, id: strawberry.ID, reason: str) -> ReferralResult:
        p = info.context.principal()
        h = info.context.handlers
        return await _run(info, h.withdraw(str(id), reason, p, info.context.correlation_id))

    @strawberry.mutation(description="The receiver accepts in writing (受理情况, R-REF-06).")
    async def accept_referral(
        self, info: Info, id: strawberry.ID, statement: str
    ) -> ReferralResult:
        p = info.context.principal()
        h = info.context.handlers
        return await _run(info, h.accept(str(id), statement, p, info.context.correlation_id))

    @strawberry.mutation(
        description="The receiver's leader declines, citing the catalogue and naming an interim "
        "handler (R-REF-07); coordination opens a dispute."
    )
    async def decline_referral(
        self,
        info: Info,
        id: strawberry.ID,
        reasons: str,
        catalogue_basis: str,
        interim_handler_id: strawberry.ID,
    ) -> ReferralResult:
        p = info.context.principal()
        h = info.context.handlers
        return await _run(
            info,
            h.decline(
                str(id),
                reasons,
                catalogue_basis,
                str(interim_handler_id),
                p,
                info.context.correlation_id,
            ),
        )

    @strawberry.mutation(description="Record the receiver's administrative penalty decision.")
    async def record_referral_penalty(
        self,
        info: Info,
        id: strawberry.ID,
        decision_number: str,
        kinds: list[str] | None = None,
        fine_yuan: int | None = None,
    ) -> ReferralResult:
        p = info.context.principal()
        h = info.context.handlers
        return await _run(
            info,
            h.record_penalty(
                str(id),
                decision_number,
                tuple(kinds or ()),
                fine_yuan,
                p,
                info.context.correlation_id,
            ),
        )

    @strawberry.mutation(description="The receiver has handled the case.")
    async def mark_referral_handled(
        self, info: Info, id: strawberry.ID, summary: str
    ) -> ReferralResult:
        p = info.context.principal()
        h = info.context.handlers
        return await _run(info, h.mark_handled(str(id), summary, p, info.context.correlation_id))

    @strawberry.mutation(description="Report the handling result to the sender (R-REF-08).")
    async def report_referral_result(
        self, info: Info, id: strawberry.ID, result: str
    ) -> ReferralResult:
        p = info.context.principal()
        h = info.context.handlers
        return await _run(info, h.report_result(str(id), result, p, info.context.correlation_id))

    @strawberry.mutation(description="The sender closes the file after the result.")
    async def close_referral(self, info: Info, id: strawberry.ID) -> ReferralResult:
        p = info.context.principal()
        return await _run(
            info, info.context.handlers.close(str(id), p, info.context.correlation_id)
        )

    @strawberry.mutation(description="督办 a lingering case (government / coordinator, R-REF-13).")
    async def supervise_referral(self, info: Info, id: strawberry.ID, note: str) -> ReferralResult:
        p = info.context.principal()
        h = info.context.handlers
        return await _run(info, h.supervise(str(id), note, p, info.context.correlation_id))

    @strawberry.mutation(description="The department's leader consents to an upward transfer.")
    async def consent_to_upward_referral(
        self, info: Info, id: strawberry.ID, note: str = ""
    ) -> ReferralResult:
        p = info.context.principal()
        h = info.context.handlers
        return await _run(
            info, h.record_department_consent(str(id), note, p, info.context.correlation_id)
        )

    @strawberry.mutation(description="Record the filing (备案) with the justice bureau.")
    async def record_referral_justice_filing(
        self, info: Info, id: strawberry.ID, filing_number: str
    ) -> ReferralResult:
        p = info.context.principal()
        h = info.context.handlers
        return await _run(
            info, h.record_justice_filing(str(id), filing_number, p, info.context.correlation_id)
        )

    @strawberry.mutation(description="Transfer a suspected crime to public security (R-REF-10).")
    async def transfer_referral_to_police(
        self, info: Info, id: strawberry.ID, police_id: strawberry.ID, reason: str
    ) -> ReferralResult:
        p = info.context.principal()
        h = info.context.handlers
        return await _run(
            info,
            h.transfer_to_police(str(id), str(police_id), reason, p, info.context.correlation_id),
        )

    @strawberry.mutation(description="Public security records 立案 (filed) or 不立案.")
    async def record_police_decision(
        self, info: Info, id: strawberry.ID, filed: bool, note: str
    ) -> ReferralResult:
        p = info.context.principal()
        h = info.context.handlers
        return await _run(
            info, h.record_police_decision(str(id), filed, note, p, info.context.correlation_id)
        )

    @strawberry.mutation(
        description="Your agency consents (or not) to receive electronically from another."
    )
    async def set_electronic_transfer_consent(
        self, info: Info, sender_id: strawberry.ID, consented: bool
    ) -> ElectronicConsentResult:
        p = info.context.principal()
        h = info.context.handlers
        result = await _guard(
            h.set_electronic_consent(str(sender_id), consented, p, info.context.correlation_id)
        )
        if isinstance(result, UserError):
            return result
        return ElectronicConsent(
            receiver=Agency(id=strawberry.ID(p.agency_id)),
            sender=Agency(id=sender_id),
            consented=result,
        )

    @strawberry.mutation(
        description="Move a department's open referrals of a delegated matter to the township "
        "(R-REF-11); closed ones stay archived."
    )
    async def transfer_referrals_at_delegation(
        self,
        info: Info,
        department_id: strawberry.ID,
        matter_code: str,
        township_id: strawberry.ID,
        basis: str,
    ) -> DelegationTransferResult:
        p = info.context.principal()
        h = info.context.handlers
        result = await _guard(
            h.transfer_at_delegation(
                str(department_id),
                matter_code,
                str(township_id),
                basis,
                p,
                info.context.correlation_id,
            )
        )
        if isinstance(result, UserError):
            return result
        report: DelegationReport = result
        return DelegationTransferReport(
            moved=[strawberry.ID(i) for i in report.moved],
            stayed=[
                StayedReferral(referral_id=strawberry.ID(i), reason=w) for i, w in report.stayed
            ],
        )

    @strawberry.mutation(description="Register a complaint in your agency (首问责任制, R-CMP-01).")
    async def register_complaint(
        self, info: Info, input: RegisterComplaintInput
    ) -> ComplaintResult:
        p = info.context.principal()
        cmd = RegisterComplaint(
            input.complainant_name,
            input.complainant_contact,
            input.content,
            input.matter_code,
            input.place,
            str(input.township_id) if input.township_id else None,
        )
        h = info.context.handlers
        return await _run_c(h.register_complaint(cmd, p, info.context.correlation_id))

    @strawberry.mutation(description="First check found no violation: answer (R-CMP-03).")
    async def answer_complaint(self, info: Info, id: strawberry.ID, answer: str) -> ComplaintResult:
        p = info.context.principal()
        h = info.context.handlers
        return await _run_c(h.answer_complaint(str(id), answer, p, info.context.correlation_id))

    @strawberry.mutation(description="Within your powers: open your own case (R-CMP-03).")
    async def open_case_from_complaint(
        self, info: Info, id: strawberry.ID, case_number: str
    ) -> ComplaintResult:
        p = info.context.principal()
        h = info.context.handlers
        return await _run_c(
            h.open_case_from_complaint(str(id), case_number, p, info.context.correlation_id)
        )

    @strawberry.mutation(description="Another's matter: a referral draft from the complaint.")
    async def refer_complaint(
        self, info: Info, id: strawberry.ID, input: DraftReferralInput
    ) -> ReferralResult:
        p = info.context.principal()
        cmd = _draft_command(input)
        if isinstance(cmd, UserError):
            return cmd
        result = await _guard(
            info.context.handlers.refer_complaint(str(id), cmd, p, info.context.correlation_id)
        )
        if isinstance(result, UserError):
            return result
        return info.context.referral(result[1])

    @strawberry.mutation(description="Ask another agency to take the complaint (R-CMP-02).")
    async def request_complaint_handover(
        self, info: Info, id: strawberry.ID, to_agency_id: strawberry.ID, mode: str, reason: str
    ) -> ComplaintResult:
        p = info.context.principal()
        h = info.context.handlers
        return await _run_c(
            h.request_complaint_handover(
                str(id), str(to_agency_id), mode, reason, p, info.context.correlation_id
            )
        )

    @strawberry.mutation(description="The asked agency consents to (or refuses) the hand-over.")
    async def answer_complaint_handover(
        self, info: Info, id: strawberry.ID, consent: bool, note: str = ""
    ) -> ComplaintResult:
        p = info.context.principal()
        h = info.context.handlers
        return await _run_c(
            h.answer_complaint_handover(str(id), consent, note, p, info.context.correlation_id)
        )

    @strawberry.mutation(description="Tell the complainant the result (R-CMP-04).")
    async def tell_complainant_result(
        self, info: Info, id: strawberry.ID, result: str
    ) -> ComplaintResult:
        p = info.context.principal()
        h = info.context.handlers
        return await _run_c(
            h.tell_complainant_result(str(id), result, p, info.context.correlation_id)
        )


def build_schema(production: bool = False) -> Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        types=[Referral, Complaint, Agency, UserError],
        federation_version="2.9",
        extensions=schema_extensions(production),
    )
