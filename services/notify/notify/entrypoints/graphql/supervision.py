"""Supervision (R-SUP-02, R-SUP-03): the monthly reminder list and the quarterly bulletin,
and the two-way ratings of agencies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

import strawberry

from kernel.graphql import INPUT, UserError
from notify.application.supervision import RateAgency
from notify.domain import supervision as sup
from notify.entrypoints.graphql.types import Info, answer, refused_as_graphql_error


@strawberry.type(description="On-time figures of one kind of clock (R-SUP-02).")
class SupervisionClockFigures:
    on_time: int = strawberry.field(description="met at or before the due time")
    late: int = strawberry.field(description="met after the due time")
    overdue: int = strawberry.field(description="still open past the due time")
    pending: int = strawberry.field(description="open, not yet due (not in the rate)")
    counted: int = strawberry.field(description="onTime + late + overdue")
    rate: float | None = strawberry.field(description="onTime / counted; null when 0")

    @classmethod
    def from_model(cls, c: sup.OnTime) -> SupervisionClockFigures:
        return cls(
            on_time=c.on_time,
            late=c.late,
            overdue=c.overdue,
            pending=c.pending,
            counted=c.counted,
            rate=c.rate,
        )


@strawberry.type(description="A team's grid dispatches in the period (R-GRD-01)")
class SupervisionDispatchFigures:
    dispatched: int = strawberry.field(description="problems dispatched to it (派单)")
    accepted_in_time: int = strawberry.field(description="accepted within the limit (接单)")
    arrived_in_time: int = strawberry.field(description="arrived within the limit (报到)")
    handled: int = strawberry.field(description="handled with a written result (处置)")
    returned: int = strawberry.field(description="returned to the platform (退回)")


@strawberry.type(description="One agency's line of a supervision report.")
class SupervisionAgencyFigures:
    agency_id: strawberry.ID = strawberry.field(description="the agency id of this line")
    name: str = strawberry.field(description="the agency's official name (Chinese)")
    kind: str = strawberry.field(description="its kind, lower case (township, department, …)")
    send: SupervisionClockFigures = strawberry.field(description="移送 (referral.send)")
    accept: SupervisionClockFigures = strawberry.field(description="受理 (referral.accept)")
    report: SupervisionClockFigures = strawberry.field(description="结果通报 (referral.report)")
    overdue: int = strawberry.field(description="clocks of any kind still open past due")
    late: int = strawberry.field(description="clocks of any kind met after due")
    disputes_opened: int = strawberry.field(
        description="disputes it was a party to that opened in the period"
    )
    disputes_ruled: int = strawberry.field(description="of those, the ones ruled")
    dispute_days_average: float | None = strawberry.field(
        description="average days from opening to ruling of the disputes ruled in the period"
    )
    refusals: int = strawberry.field(description="refusals to cooperate (拒绝协助)")
    ratings_received: int = strawberry.field(description="how many ratings it received")
    rating_average: float | None = strawberry.field(
        description="the average score it received (null: none)"
    )
    failures_to_cooperate: int = strawberry.field(
        default=0,
        description="R-SUP-03: every failure to cooperate (refused assistance, missed clocks, "
        "written inability rejected, ignored 督办)",
    )
    dispatch: SupervisionDispatchFigures = strawberry.field(
        description="R-GRD-01: the agency's grid dispatches as an enforcement team",
    )

    @classmethod
    def from_model(cls, a: sup.AgencyFigures) -> SupervisionAgencyFigures:
        return cls(
            agency_id=strawberry.ID(a.agency_id),
            name=a.name,
            kind=a.kind,
            send=SupervisionClockFigures.from_model(a.clocks["send"]),
            accept=SupervisionClockFigures.from_model(a.clocks["accept"]),
            report=SupervisionClockFigures.from_model(a.clocks["report"]),
            overdue=a.overdue,
            late=a.late,
            disputes_opened=a.disputes_opened,
            disputes_ruled=a.disputes_ruled,
            dispute_days_average=a.dispute_days_average,
            refusals=a.refusals,
            ratings_received=a.ratings_received,
            rating_average=a.rating_average,
            failures_to_cooperate=a.failures_to_cooperate,
            dispatch=SupervisionDispatchFigures(
                dispatched=a.dispatch.dispatched,
                accepted_in_time=a.dispatch.accepted_in_time,
                arrived_in_time=a.dispatch.arrived_in_time,
                handled=a.dispatch.handled,
                returned=a.dispatch.returned,
            ),
        )


@strawberry.type(description="A clock of the period not met on time.")
class SupervisionOverdueDeadline:
    key: str = strawberry.field(description="the clock's stable key")
    kind: str = strawberry.field(description="which clock, e.g. accept")
    subject_type: str = strawberry.field(description="the type of what it is about")
    subject_id: strawberry.ID = strawberry.field(description="the id of what it is about")
    responsible_agency_id: strawberry.ID = strawberry.field(
        description="the agency that had to act"
    )
    due: datetime = strawberry.field(description="when it was due")
    outcome: str = strawberry.field(description="overdue (still open) | late (met after due)")
    days_over: float = strawberry.field(description="whole days past due")
    rule: str = strawberry.field(description="the rule that set it, in Chinese")


@strawberry.type(description="A jurisdiction dispute opened or ruled in the period.")
class SupervisionDispute:
    dispute_id: strawberry.ID = strawberry.field(description="the dispute's id (`dispute(id)`)")
    matter_code: str = strawberry.field(description="the matter disputed")
    party_ids: list[strawberry.ID] = strawberry.field(description="the disputing agencies")
    opened_at: datetime | None = strawberry.field(description="when it opened")
    ruled_at: datetime | None = strawberry.field(description="when it was ruled; null while open")
    days: float | None = strawberry.field(
        description="days from opening to ruling, or to now while open"
    )


@strawberry.type(description="A refusal to cooperate, recorded for accountability.")
class SupervisionRefusal:
    event_id: strawberry.ID = strawberry.field(description="the event that recorded the refusal")
    agency_id: strawberry.ID = strawberry.field(description="the agency that refused")
    at: datetime = strawberry.field(description="when it was recorded (+08:00)")
    subject: str | None = strawberry.field(description="the id of the request or referral refused")
    reason: str = strawberry.field(description="the grounds it gave")


@strawberry.type(description="R-SUP-03: a failure to cooperate, listed for accountability.")
class SupervisionFailure:
    kind: str = strawberry.field(
        description="refused_assistance | missed_clock | inability_rejected | ignored_supervision"
    )
    kind_zh: str = strawberry.field(description="the kind, in Chinese")
    agency_id: strawberry.ID = strawberry.field(description="the agency that failed")
    at: datetime = strawberry.field(description="when it was recorded (+08:00)")
    subject: str | None = strawberry.field(description="the case or request, if any")
    detail: str = strawberry.field(description="what happened (Chinese)")


@strawberry.type(description="One agency's rating of another for a quarter (R-SUP-03).")
class AgencyRating:
    id: strawberry.ID = strawberry.field(description="the rating's id")
    period: str = strawberry.field(description="the quarter rated, e.g. 2026-Q1")
    direction: str = strawberry.field(
        description="township_to_department (反向考评) | department_to_township"
    )
    rater_agency_id: strawberry.ID = strawberry.field(description="the agency that rated")
    ratee_agency_id: strawberry.ID = strawberry.field(description="the agency rated")
    score: int = strawberry.field(description="1 (poor) to 5 (very good)")
    comment: str = strawberry.field(description="what the rater wrote")
    rated_at: datetime = strawberry.field(description="when it was given")

    @classmethod
    def from_model(cls, r: sup.Rating) -> AgencyRating:
        return cls(
            id=strawberry.ID(r.id),
            period=r.period,
            direction=r.direction,
            rater_agency_id=strawberry.ID(r.rater_agency_id),
            ratee_agency_id=strawberry.ID(r.ratee_agency_id),
            score=r.score,
            comment=r.comment,
            rated_at=r.rated_at,
        )


@strawberry.type(
    description="A supervision report (月提示 / 季通报, R-SUP-02) computed now from the "
    "clocks, the full-process record and the ratings."
)
class SupervisionReport:
    kind: str = strawberry.field(description="monthly | quarterly")
    period: str = strawberry.field(description="2026-03 or 2026-Q1")
    period_zh: str = strawberry.field(description="the period in Chinese, e.g. 2026年第1季度")
    period_start: datetime = strawberry.field(description="the period's first moment")
    period_end: datetime = strawberry.field(
        description="the first moment after the period (exclusive, +08:00)"
    )
    generated_at: datetime = strawberry.field(description="when the report was computed")
    agencies: list[SupervisionAgencyFigures] = strawberry.field(
        description="the figures per agency"
    )
    overdue: list[SupervisionOverdueDeadline] = strawberry.field(
        description="the clocks that ran out in the period"
    )
    disputes: list[SupervisionDispute] = strawberry.field(description="the disputes of the period")
    refusals: list[SupervisionRefusal] = strawberry.field(
        description="the refusals to cooperate of the period"
    )
    ratings: list[AgencyRating] = strawberry.field(description="the ratings given in the period")
    failures: list[SupervisionFailure] = strawberry.field(
        description="R-SUP-03: every failure to cooperate in the period"
    )
    download_path: str = strawberry.field(
        description="the .xlsx of this report on the notify service (Bearer-authenticated)"
    )
    pdf_path: str = strawberry.field(
        description="the PDF of this report, with charts, on the notify service "
        "(Bearer-authenticated)"
    )

    @classmethod
    def from_model(cls, r: sup.SupervisionReport) -> SupervisionReport:
        return cls(
            kind=r.kind,
            period=r.period.label,
            period_zh=r.period.label_zh,
            period_start=r.period.start,
            period_end=r.period.end,
            generated_at=r.generated_at,
            agencies=[SupervisionAgencyFigures.from_model(a) for a in r.agencies],
            overdue=[
                SupervisionOverdueDeadline(
                    key=e.deadline.key,
                    kind=e.deadline.kind,
                    subject_type=e.deadline.subject_type,
                    subject_id=strawberry.ID(e.deadline.subject_id),
                    responsible_agency_id=strawberry.ID(e.deadline.responsible_agency_id),
                    due=e.deadline.due,
                    outcome=e.outcome,
                    days_over=e.days_over,
                    rule=e.deadline.rule,
                )
                for e in r.overdue
            ],
            disputes=[
                SupervisionDispute(
                    dispute_id=strawberry.ID(d.dispute_id),
                    matter_code=d.matter_code,
                    party_ids=[strawberry.ID(p) for p in d.party_ids],
                    opened_at=d.opened_at,
                    ruled_at=d.ruled_at,
                    days=d.days,
                )
                for d in r.disputes
            ],
            refusals=[
                SupervisionRefusal(
                    event_id=strawberry.ID(x.event_id),
                    agency_id=strawberry.ID(x.agency_id),
                    at=x.at,
                    subject=x.subject,
                    reason=x.reason,
                )
                for x in r.refusals
            ],
            ratings=[AgencyRating.from_model(x) for x in r.ratings],
            failures=[
                SupervisionFailure(
                    kind=f.kind,
                    kind_zh=sup.FAILURE_KIND_ZH[f.kind],
                    agency_id=strawberry.ID(f.agency_id),
                    at=f.at,
                    subject=f.subject,
                    detail=f.detail,
                )
                for f in r.failures
            ],
            download_path=f"/reports/{r.kind}/{r.period.label}.xlsx",
            pdf_path=f"/reports/{r.kind}/{r.period.label}.pdf",
        )


def _period(make: Callable[[], sup.Period]) -> sup.Period:
    with refused_as_graphql_error():
        return make()


async def _report(
    info: Info, kind: Literal["monthly", "quarterly"], period: sup.Period
) -> SupervisionReport:
    p = info.context.principal()
    with refused_as_graphql_error():
        report = await info.context.supervision.report(p, kind, period)
    return SupervisionReport.from_model(report)


@strawberry.field(
    description="The monthly reminder list (月提示, R-SUP-02) for a month such as 2026-03: "
    "per-agency figures of the clocks that fell due in it, and the clocks not met on "
    "time. Supervisors, the government and the justice bureau."
)
async def monthly_reminder_list(
    info: Info, month: Annotated[str, strawberry.argument(description="the month, e.g. 2026-03")]
) -> SupervisionReport:
    period = _period(lambda: sup.month(month))
    return await _report(info, "monthly", period)


@strawberry.field(
    description="The quarterly bulletin (季通报, R-SUP-02, R-SUP-03): per-agency figures, "
    "disputes, refusals to cooperate and the two-way ratings of the quarter."
)
async def quarterly_bulletin(
    info: Info,
    year: Annotated[int, strawberry.argument(description="the calendar year, e.g. 2026")],
    quarter: Annotated[int, strawberry.argument(description="1 to 4")],
) -> SupervisionReport:
    period = _period(lambda: sup.quarter(year, quarter))
    return await _report(info, "quarterly", period)


RateAgencyResult = Annotated[
    AgencyRating | UserError,
    strawberry.union(
        "RateAgencyResult",
        description="What the mutation answers: the AgencyRating as it is now, or the "
        "UserError that refused it (nothing was changed).",
    ),
]


@strawberry.input(description="A township's rating of a department's guidance and support.")
class RateDepartmentInput:
    department_id: strawberry.ID = strawberry.field(description="the department rated")
    score: int = strawberry.field(description="1 (poor) to 5 (excellent)")
    comment: str = strawberry.field(default="", description="what the township says")


@strawberry.input(description="A department's rating of a township's cooperation.")
class RateTownshipInput:
    township_id: strawberry.ID = strawberry.field(description="the township rated")
    score: int = strawberry.field(description="1 (poor) to 5 (excellent)")
    comment: str = strawberry.field(default="", description="what the department says")


@strawberry.mutation(
    description="A township rates a department's guidance and support (反向考评, R-SUP-03), "
    "once per quarter."
)
async def rate_department(
    info: Info, input: Annotated[RateDepartmentInput, INPUT]
) -> RateAgencyResult:
    command = RateAgency(
        "township_to_department", str(input.department_id), input.score, input.comment
    )
    return await _rate(info, command)


@strawberry.mutation(description="A department rates a township (R-SUP-03), once per quarter.")
async def rate_township(info: Info, input: Annotated[RateTownshipInput, INPUT]) -> RateAgencyResult:
    command = RateAgency(
        "department_to_township", str(input.township_id), input.score, input.comment
    )
    return await _rate(info, command)


async def _rate(info: Info, command: RateAgency) -> RateAgencyResult:
    caller = info.context.caller()
    return await answer(info.context.supervision.rate(command, caller), AgencyRating.from_model)
