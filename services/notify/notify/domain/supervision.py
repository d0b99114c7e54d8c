"""Supervision reports (R-SUP-02: 月提示 monthly reminder list + 季通报 quarterly bulletin) and
the two-way assessment (双向考评 / 反向考评, R-SUP-03). Pure Python.

The figures come from what notify already tracks: the latest state of every statutory clock
(the deadline watch), the full-process record (disputes, refusals to cooperate) and the
ratings agencies give each other. A clock belongs to the period in which it falls due; as of
the time the report is computed it is

- ``on_time``: met at or before its due time (the time of the event that met it counts);
- ``late``: met after its due time;
- ``overdue``: still open (or paused) past its due time;
- ``pending``: still open and not yet due (not counted in the rates);
- ``cancelled``: withdrawn with its case (not counted).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from kernel.errors import Forbidden, ValidationFailed
from notify.domain.dispatch_figures import TEAM_KINDS, DispatchFigures, dispatch_figures
from notify.domain.model import CHINA
from notify.domain.watch import WatchedDeadline

Outcome = Literal["on_time", "late", "overdue", "pending", "cancelled"]
Direction = Literal["township_to_department", "department_to_township"]

# The referral service's clocks (kernel.contracts.deadlines kinds) whose on-time rates are reported.
CLOCK_KINDS: dict[str, str] = {
    "referral.send": "send",
    "referral.accept": "accept",
    "referral.report": "report",
}
DEPARTMENT_KINDS = frozenset({"department", "approval_bureau"})
COMMENT_LIMIT = 500


# -- periods ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A calendar month or quarter in China time, ``[start, end)``."""

    label: str  # 2026-03 or 2026-Q1
    label_zh: str  # 2026年3月 or 2026年第1季度
    start: datetime
    end: datetime

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


def _month_start(year: int, month: int) -> datetime:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=CHINA)


def month(label: str, field_name: str = "month") -> Period:
    m = re.fullmatch(r"(\d{4})-(\d{2})", label.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValidationFailed(
            f"month must look like 2026-03, not {label!r}", field=field_name, code="BAD_FORMAT"
        )
    year, mon = int(m.group(1)), int(m.group(2))
    return Period(label, f"{year}年{mon}月", _month_start(year, mon), _month_start(year, mon + 1))


def quarter(year: int, number: int) -> Period:
    if not 1 <= number <= 4:
        raise ValidationFailed("quarter must be 1, 2, 3 or 4", field="quarter", code="OUT_OF_RANGE")
    if not 2000 <= year <= 2100:
        raise ValidationFailed("year is out of range", field="year", code="OUT_OF_RANGE")
    first = 3 * (number - 1) + 1
    return Period(
        f"{year}-Q{number}",
        f"{year}年第{number}季度",
        _month_start(year, first),
        _month_start(year, first + 3),
    )


def month_of(at: datetime) -> Period:
    local = at.astimezone(CHINA)
    return month(f"{local.year:04d}-{local.month:02d}")


def next_month(period: Period) -> Period:
    return month_of(period.end)


# The monthly reminder list is put in the justice bureau's inbox at this hour (China time) of
# the district's report day: office hours, so that it is seen the day it arrives.
PUSH_HOUR = 9


def monthly_push_at(period: Period, report_day_of_month: int) -> datetime:
    """When the reminder list of ``period`` goes out: the report day of the following month
    (the policy keeps the day ≤ 28, so every month has it)."""
    return period.end.replace(day=report_day_of_month, hour=PUSH_HOUR)


def report_paths(kind: Literal["monthly", "quarterly"], period: Period) -> tuple[str, str]:
    """The PDF and .xlsx downloads of a report on the notify service."""
    return (f"/reports/{kind}/{period.label}.pdf", f"/reports/{kind}/{period.label}.xlsx")


def quarter_of(at: datetime) -> Period:
    local = at.astimezone(CHINA)
    return quarter(local.year, (local.month - 1) // 3 + 1)


def quarter_label(label: str, field_name: str = "quarter") -> Period:
    """The quarter of a label such as ``2026-Q1``."""
    m = re.fullmatch(r"(\d{4})-Q(\d)", label.strip())
    if not m:
        raise ValidationFailed(
            f"quarter must look like 2026-Q1, not {label!r}", field=field_name, code="BAD_FORMAT"
        )
    return quarter(int(m.group(1)), int(m.group(2)))


def next_quarter(period: Period) -> Period:
    return quarter_of(period.end)


def quarterly_push_at(period: Period, report_day_of_month: int) -> datetime:
    """When the bulletin of ``period`` goes out: the report day of the month after the
    quarter (R-SUP-02 季通报), at office hours like the monthly list."""
    return period.end.replace(day=report_day_of_month, hour=PUSH_HOUR)


# -- facts ------------------------------------------------------------------------------------


def outcome(deadline: WatchedDeadline, now: datetime) -> Outcome:
    if deadline.state == "cancelled":
        return "cancelled"
    if deadline.state == "met":
        return "on_time" if deadline.event_time <= deadline.due else "late"
    return "overdue" if now > deadline.due else "pending"


@dataclass(frozen=True)
class DisputeFact:
    """One jurisdiction dispute (管辖争议) from ``dispute.opened.v1`` / ``dispute.ruled.v1``."""

    dispute_id: str
    party_ids: tuple[str, ...]
    matter_code: str
    opened_at: datetime | None
    ruled_at: datetime | None

    @property
    def days(self) -> float | None:
        if self.opened_at is None or self.ruled_at is None:
            return None
        return round((self.ruled_at - self.opened_at).total_seconds() / 86400, 1)


@dataclass(frozen=True)
class RefusalFact:
    """A refusal to cooperate (拒绝协助, R-AST-02) recorded for accountability (FY (五)4)."""

    event_id: str
    agency_id: str
    at: datetime
    subject: str | None
    reason: str


FailureKind = Literal[
    "refused_assistance", "missed_clock", "inability_rejected", "ignored_supervision"
]
FAILURE_KIND_ZH: dict[str, str] = {
    "refused_assistance": "拒绝协助",
    "missed_clock": "未在期限内办理",
    "inability_rejected": "不能完成任务的理由不成立",
    "ignored_supervision": "督办后仍未办理",
}


@dataclass(frozen=True)
class CooperationFailure:
    """R-SUP-03: a failure to cooperate listed for accountability (FY (五)4): a refused
    assistance, a missed clock, a written inability the lead rejected, or a 督办 after which
    the case still lies past its clock."""

    kind: FailureKind
    agency_id: str
    at: datetime
    subject: str | None
    detail: str


@dataclass(frozen=True)
class Rating:
    id: str
    period: str
    direction: Direction
    rater_agency_id: str
    ratee_agency_id: str
    score: int
    comment: str
    rated_by: str
    rated_at: datetime


def rating_id(period: str, rater: str, ratee: str) -> str:
    """One rating per period per ordered pair: the id is the uniqueness."""
    return f"{period}:{rater}:{ratee}"


def new_rating(
    *,
    direction: Direction,
    rater_agency_id: str,
    rater_kind: str | None,
    ratee_agency_id: str,
    ratee_kind: str | None,
    score: int,
    comment: str,
    rated_by: str,
    at: datetime,
) -> Rating:
    """R-SUP-03: townships rate departments on guidance and support (反向考评), departments
    rate townships likewise; 1 to 5, once per quarter per pair."""
    if direction == "township_to_department":
        if rater_kind != "township":
            raise Forbidden(
                "only a township rates a department's guidance and support",
                code="AGENCY_KIND_NOT_ALLOWED",
            )
        if ratee_kind not in DEPARTMENT_KINDS:
            raise ValidationFailed(
                f"{ratee_agency_id!r} is not a known department",
                field="input.departmentId",
                code="AGENCY_NOT_REGISTERED",
            )
    else:
        if rater_kind not in DEPARTMENT_KINDS:
            raise Forbidden("only a department rates a township", code="AGENCY_KIND_NOT_ALLOWED")
        if ratee_kind != "township":
            raise ValidationFailed(
                f"{ratee_agency_id!r} is not a known township",
                field="input.townshipId",
                code="AGENCY_NOT_REGISTERED",
            )
    if not 1 <= score <= 5:
        raise ValidationFailed(
            "score must be from 1 to 5", field="input.score", code="OUT_OF_RANGE"
        )
    text = comment.strip()
    if len(text) > COMMENT_LIMIT:
        raise ValidationFailed(
            f"comment is longer than {COMMENT_LIMIT} characters",
            field="input.comment",
            code="TOO_LONG",
        )
    period = quarter_of(at).label
    return Rating(
        id=rating_id(period, rater_agency_id, ratee_agency_id),
        period=period,
        direction=direction,
        rater_agency_id=rater_agency_id,
        ratee_agency_id=ratee_agency_id,
        score=score,
        comment=text,
        rated_by=rated_by,
        rated_at=at,
    )


# -- figures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnTime:
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    pending: int = 0

    @property
    def counted(self) -> int:
        return self.on_time + self.late + self.overdue

    @property
    def rate(self) -> float | None:
        """Share met on time of the clocks that fell due; None when none did."""
        return round(self.on_time / self.counted, 4) if self.counted else None

    def add(self, result: Outcome) -> OnTime:
        return OnTime(
            on_time=self.on_time + (result == "on_time"),
            late=self.late + (result == "late"),
            overdue=self.overdue + (result == "overdue"),
            pending=self.pending + (result == "pending"),
        )


@dataclass(frozen=True)
class AgencyFigures:
    agency_id: str
    name: str
    kind: str
    clocks: dict[str, OnTime]  # send / accept / report
    overdue: int  # clocks of any kind still open past due
    late: int  # clocks of any kind met after due
    disputes_opened: int
    disputes_ruled: int
    dispute_days_average: float | None
    refusals: int
    ratings_received: int
    rating_average: float | None
    failures_to_cooperate: int = 0  # R-SUP-03: every kind of failure (CooperationFailure)
    dispatch: DispatchFigures = field(default_factory=DispatchFigures)  # R-GRD-01, as a team


@dataclass(frozen=True)
class OverdueEntry:
    """A clock of the period that was not met on time (the reminder list's lines)."""

    deadline: WatchedDeadline
    outcome: Outcome
    days_over: float


@dataclass(frozen=True)
class SupervisionReport:
    kind: Literal["monthly", "quarterly"]
    period: Period
    generated_at: datetime
    agencies: list[AgencyFigures]
    overdue: list[OverdueEntry]
    disputes: list[DisputeFact]
    refusals: list[RefusalFact]
    ratings: list[Rating] = field(default_factory=list)
    failures: list[CooperationFailure] = field(default_factory=list)

    def dispatch_teams(self) -> list[AgencyFigures]:
        """The rows of the grid-dispatch table (R-GRD-01): every team (a township's centre,
        a resident unit), and any other agency that was dispatched something."""
        return [a for a in self.agencies if a.kind in TEAM_KINDS or a.dispatch.any]


def _average(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def compute_report(
    *,
    kind: Literal["monthly", "quarterly"],
    period: Period,
    now: datetime,
    deadlines: Iterable[WatchedDeadline],
    disputes: Iterable[DisputeFact],
    refusals: Iterable[RefusalFact],
    ratings: Iterable[Rating],
    agencies: dict[str, tuple[str, str]],
    failures: Iterable[CooperationFailure] = (),
) -> SupervisionReport:
    """Per-agency figures of the period as of ``now``. ``deadlines`` may include clocks of
    other periods (they are filtered by due time); ``agencies`` maps id → (name, kind) and
    every agency in it gets a row, so one with nothing to report shows zeros."""
    deadlines = list(deadlines)
    teams = dispatch_figures(deadlines, period.contains)  # R-GRD-01
    clocks: dict[str, dict[str, OnTime]] = {}
    overdue: dict[str, int] = {}
    late: dict[str, int] = {}
    lines: list[OverdueEntry] = []
    for d in deadlines:
        if not period.contains(d.due):
            continue
        result = outcome(d, now)
        agency = d.responsible_agency_id
        short = CLOCK_KINDS.get(d.kind)
        if short is not None:
            per = clocks.setdefault(agency, {})
            per[short] = per.get(short, OnTime()).add(result)
        if result == "overdue":
            overdue[agency] = overdue.get(agency, 0) + 1
            lines.append(OverdueEntry(d, result, round((now - d.due).total_seconds() / 86400, 1)))
        elif result == "late":
            late[agency] = late.get(agency, 0) + 1
            over = (d.event_time - d.due).total_seconds() / 86400
            lines.append(OverdueEntry(d, result, round(over, 1)))
    in_period = [
        x
        for x in disputes
        if (x.opened_at and period.contains(x.opened_at))
        or (x.ruled_at and period.contains(x.ruled_at))
    ]
    refusals_in = [r for r in refusals if period.contains(r.at)]
    ratings_in = [r for r in ratings if period.contains(r.rated_at)]
    # R-SUP-03: every failure to cooperate — refusals, the period's missed clocks, rejected
    # written inabilities and ignored 督办 (the caller finds the last two).
    failed = [
        CooperationFailure("refused_assistance", r.agency_id, r.at, r.subject, r.reason)
        for r in refusals_in
    ]
    failed += [
        CooperationFailure(
            "missed_clock",
            e.deadline.responsible_agency_id,
            e.deadline.event_time if e.outcome == "late" else e.deadline.due,
            e.deadline.subject_id,
            f"{e.deadline.rule}（{'超期办结' if e.outcome == 'late' else '超期未办'}）",
        )
        for e in lines
    ]
    failed += [f for f in failures if period.contains(f.at)]

    ids = set(agencies) | set(clocks) | set(overdue) | set(late) | set(teams)
    ids |= {a for x in in_period for a in x.party_ids}
    ids |= {r.agency_id for r in refusals_in} | {r.ratee_agency_id for r in ratings_in}
    ids |= {f.agency_id for f in failed}
    rows: list[AgencyFigures] = []
    for agency in ids:
        name, agency_kind = agencies.get(agency, (agency, ""))
        mine = [x for x in in_period if agency in x.party_ids]
        ruled = [x for x in mine if x.ruled_at and period.contains(x.ruled_at)]
        received = [r.score for r in ratings_in if r.ratee_agency_id == agency]
        per = clocks.get(agency, {})
        rows.append(
            AgencyFigures(
                agency_id=agency,
                name=name,
                kind=agency_kind,
                clocks={k: per.get(k, OnTime()) for k in CLOCK_KINDS.values()},
                overdue=overdue.get(agency, 0),
                late=late.get(agency, 0),
                disputes_opened=sum(
                    1 for x in mine if x.opened_at and period.contains(x.opened_at)
                ),
                disputes_ruled=len(ruled),
                dispute_days_average=_average([x.days for x in ruled if x.days is not None]),
                refusals=sum(1 for r in refusals_in if r.agency_id == agency),
                ratings_received=len(received),
                rating_average=_average([float(s) for s in received]),
                failures_to_cooperate=sum(1 for f in failed if f.agency_id == agency),
                dispatch=teams.get(agency, DispatchFigures()),
            )
        )
    rows.sort(key=lambda r: (r.kind, r.agency_id))
    lines.sort(key=lambda e: (e.deadline.due, e.deadline.key))
    return SupervisionReport(
        kind=kind,
        period=period,
        generated_at=now,
        agencies=rows,
        overdue=lines,
        disputes=sorted(in_period, key=lambda x: (x.opened_at or x.ruled_at or now, x.dispute_id)),
        refusals=sorted(refusals_in, key=lambda r: (r.at, r.event_id)),
        ratings=sorted(ratings_in, key=lambda r: (r.rated_at, r.id)),
        failures=sorted(failed, key=lambda f: (f.at, f.kind, f.agency_id, f.subject or "")),
    )


def _failure_breakdown(report: SupervisionReport) -> str:
    counts = {k: 0 for k in FAILURE_KIND_ZH}
    for f in report.failures:
        counts[f.kind] += 1
    return "，".join(f"{FAILURE_KIND_ZH[k]}{n}起" for k, n in counts.items())


def monthly_push_text(report: SupervisionReport, receiver_zh: str) -> tuple[str, str]:
    """Title and body of the inbox item that delivers the monthly reminder list (月提示)."""
    # From the per-agency clock figures, so that the four numbers add up.
    counted = [c for a in report.agencies for c in a.clocks.values()]
    overdue = sum(c.overdue for c in counted)
    late = sum(c.late for c in counted)
    on_time = sum(c.on_time for c in counted)
    total = sum(c.counted for c in counted)
    rate = f"{100 * on_time / total:.1f}%" if total else "—"
    title = f"{report.period.label_zh}行政执法协调监督月度提示"
    body = (
        f"{receiver_zh}：{report.period.label_zh}到期的移送、受理、结果通报期限共{total}件，"
        f"按时办结{on_time}件（按时率{rate}），超期办结{late}件，超期未办{overdue}件；"
        f"新发或裁决管辖争议{len(report.disputes)}起，拒绝协助{len(report.refusals)}次，"
        f"不配合情形共{len(report.failures)}起（{_failure_breakdown(report)}）。"
        "各机关明细及图表见所附PDF与Excel文件。"
    )
    return title, body


def quarterly_push_text(report: SupervisionReport, receiver_zh: str) -> tuple[str, str]:
    """Title and body of the inbox item that delivers the quarterly bulletin (季通报): the
    quarter's clocks, disputes and their duration, refusals to cooperate and the two-way
    ratings (R-SUP-02, R-SUP-03)."""
    counted = [c for a in report.agencies for c in a.clocks.values()]
    overdue = sum(c.overdue for c in counted)
    late = sum(c.late for c in counted)
    on_time = sum(c.on_time for c in counted)
    total = sum(c.counted for c in counted)
    rate = f"{100 * on_time / total:.1f}%" if total else "—"
    durations = [d.days for d in report.disputes if d.days is not None]
    duration = f"，已裁决的平均历时{sum(durations) / len(durations):.1f}天" if durations else ""
    scores = [r.score for r in report.ratings]
    ratings = (
        f"双向考评{len(scores)}条，平均{sum(scores) / len(scores):.2f}分"
        if scores
        else "双向考评0条"
    )
    title = f"{report.period.label_zh}行政执法协调监督季度通报"
    body = (
        f"{receiver_zh}：{report.period.label_zh}到期的移送、受理、结果通报期限共{total}件，"
        f"按时办结{on_time}件（按时率{rate}），超期办结{late}件，超期未办{overdue}件；"
        f"管辖争议{len(report.disputes)}起{duration}；拒绝协助{len(report.refusals)}次；"
        f"不配合情形共{len(report.failures)}起（{_failure_breakdown(report)}）；"
        f"{ratings}。各机关明细及图表见所附PDF与Excel文件。"
    )
    return title, body
