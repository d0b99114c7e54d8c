"""Supervision reports (R-SUP-02: 月提示 + 季通报) and the two-way ratings (R-SUP-03)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from kernel.auth import Principal
from kernel.authz import Relation
from kernel.caller import Caller
from kernel.envelope import new_envelope
from kernel.errors import Conflict
from kernel.outbox import ConcurrencyError
from kernel.store import Document
from notify.adapters.record import RecordRepository
from notify.adapters.repository import AgencyNames, InboxRepository
from notify.adapters.supervision import RatingRepository, record_entries
from notify.adapters.watch import DeadlineRepository, TimerRepository
from notify.application import access
from notify.contracts.published import AgencyRatedV1
from notify.domain.model import InboxItem, item_id
from notify.domain.record import RecordEntry
from notify.domain.supervision import (
    CooperationFailure,
    Direction,
    DisputeFact,
    Period,
    Rating,
    RefusalFact,
    SupervisionReport,
    compute_report,
    month,
    month_of,
    monthly_push_at,
    monthly_push_text,
    new_rating,
    next_month,
    next_quarter,
    quarter_label,
    quarter_of,
    quarterly_push_at,
    quarterly_push_text,
    report_paths,
)
from notify.domain.watch import PlannedTimer
from notify.policy import SupervisionPolicy

log = logging.getLogger(__name__)

SERVICE = "notify"
# Who reads the reports is the matrix's (notify.monthlyReminderList / quarterlyBulletin): the
# supervising roles, and the staff of the justice bureau (司法局), to whom the reports are
# addressed (SL 四(一)) — the receiver.
REPORT_OPERATIONS = {"monthly": "monthlyReminderList", "quarterly": "quarterlyBulletin"}
RATE_OPERATIONS = {
    "township_to_department": "rateDepartment",
    "department_to_township": "rateTownship",
}
DISPUTE_TYPES = ("dispute.opened.v1", "dispute.ruled.v1")
# Refusals to cooperate (R-AST-02) as coordination records them.
REFUSAL_TYPES = ("assistance.refused.v1",)
# R-SUP-03's other failures to cooperate: a written inability the lead rejected (R-JNT-04),
# and a 督办 (R-REF-13) after which the receiver's clock on the case is still past due.
INABILITY_TYPES = ("joint.inability_decided.v1",)
SUPERVISION_TYPES = ("referral.supervised.v1",)
# How long to wait before retrying the push when no justice bureau is known yet (the agency
# directory is fed by coordination's events and may lag behind).
RETRY_LATER = timedelta(minutes=5)


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def disputes_from(entries: list[RecordEntry]) -> list[DisputeFact]:
    """Disputes from their opened/ruled entries (tolerant: payload fields may be missing)."""
    found: dict[str, dict[str, Any]] = {}
    for e in entries:
        dispute_id = e.payload.get("dispute_id") or e.subject
        if not isinstance(dispute_id, str):
            continue
        d = found.setdefault(
            dispute_id, {"parties": [], "matter": "", "opened": None, "ruled": None}
        )
        d["matter"] = d["matter"] or str(e.payload.get("matter_code") or "")
        parties = [p for p in e.payload.get("party_ids") or [] if isinstance(p, str)]
        d["parties"] = list(dict.fromkeys([*d["parties"], *parties]))
        if e.type == "dispute.opened.v1":
            d["opened"] = _parse_time(e.payload.get("opened_at")) or e.time
        else:
            d["ruled"] = _parse_time(e.payload.get("ruled_at")) or e.time
    return [
        DisputeFact(k, tuple(v["parties"]), v["matter"], v["opened"], v["ruled"])
        for k, v in found.items()
    ]


def rejected_inabilities_from(entries: list[RecordEntry]) -> list[CooperationFailure]:
    """R-JNT-04: the lead rejected a cooperating agency's written reason (理由不成立)."""
    out: list[CooperationFailure] = []
    for e in entries:
        if e.payload.get("accepted") is not False:
            continue
        agency = e.payload.get("agency_id")
        if not isinstance(agency, str) or not agency:
            continue
        at = _parse_time(e.payload.get("decided_at")) or e.time
        subject = e.payload.get("task_id") or e.subject
        detail = str(e.payload.get("decision_reason") or e.payload.get("reasons") or "")
        out.append(CooperationFailure("inability_rejected", agency, at, subject, detail))
    return out


async def ignored_supervisions_from(
    entries: list[RecordEntry], deadlines: DeadlineRepository, now: datetime
) -> list[CooperationFailure]:
    """R-REF-13 / R-SUP-03: a 督办 is ignored when, as of ``now``, the receiver still holds a
    clock on that case that is open past its due time (the 督办 changed nothing)."""
    out: list[CooperationFailure] = []
    for e in entries:
        receiver = e.payload.get("receiver_id")
        subject = e.payload.get("referral_id") or e.subject
        if not isinstance(receiver, str) or not receiver or not isinstance(subject, str):
            continue
        lying = [
            d
            for d in await deadlines.for_agency(receiver, ("open", "paused"))
            if d.subject_id == subject and d.due < now
        ]
        if lying:
            note = str(e.payload.get("note") or "")
            out.append(CooperationFailure("ignored_supervision", receiver, e.time, subject, note))
    return out


def refusals_from(entries: list[RecordEntry]) -> list[RefusalFact]:
    out: list[RefusalFact] = []
    for e in entries:
        # The helper is the one who refused (coordination's AssistanceRefusedV1).
        agency = e.payload.get("helper_id") or e.actor_agency_id or e.payload.get("agency_id")
        if not isinstance(agency, str) or not agency:
            continue
        reason = e.payload.get("grounds") or e.payload.get("reason") or ""
        provision = e.payload.get("legal_provision")
        if provision:
            reason = f"{reason}（{provision}）"
        at = _parse_time(e.payload.get("refused_at")) or e.time
        subject = e.payload.get("request_id") or e.subject
        out.append(RefusalFact(e.event_id, agency, at, subject, str(reason)))
    return out


@dataclass(frozen=True)
class RateAgency:
    """One agency's rating of another for the current quarter (R-SUP-03)."""

    direction: Direction
    ratee_agency_id: str
    score: int
    comment: str = ""


class Supervision:
    def __init__(
        self,
        *,
        district: str,
        deadlines: DeadlineRepository,
        records: RecordRepository,
        ratings: RatingRepository,
        agencies: AgencyNames,
        clock: Callable[[], datetime],
    ) -> None:
        self.district = district
        self.deadlines = deadlines
        self.records = records
        self.ratings = ratings
        self.agencies = agencies
        self.clock = clock

    async def _report_relations(self, principal: Principal) -> set[Relation]:
        held = access.oversight_relations(principal)
        if await self.agencies.kind(principal.agency_id) == "justice_bureau":
            held.add(Relation.RECEIVER)
        return held or {Relation.NONE}

    async def may_read_reports(
        self, principal: Principal, kind: Literal["monthly", "quarterly"] = "monthly"
    ) -> bool:
        relations = await self._report_relations(principal)
        return access.may(principal, REPORT_OPERATIONS[kind], relations)

    async def check_reader(
        self, principal: Principal, kind: Literal["monthly", "quarterly"] = "monthly"
    ) -> None:
        relations = await self._report_relations(principal)
        access.authorize_on(principal, REPORT_OPERATIONS[kind], relations)

    async def report(
        self, principal: Principal, kind: Literal["monthly", "quarterly"], period: Period
    ) -> SupervisionReport:
        await self.check_reader(principal, kind)
        return await self.compute(kind, period)

    async def compute(
        self, kind: Literal["monthly", "quarterly"], period: Period
    ) -> SupervisionReport:
        """The report as of now, without a reader (the monthly push computes it itself)."""
        now = self.clock()
        # Disputes ruled in the period may have been opened before it: read from the start.
        disputes = await record_entries(
            self.records,
            district=self.district,
            types=DISPUTE_TYPES,
            time_from=None,
            time_to=period.end,
        )
        refusals = await record_entries(
            self.records,
            district=self.district,
            types=REFUSAL_TYPES,
            time_from=period.start,
            time_to=period.end,
        )
        inabilities = await record_entries(
            self.records,
            district=self.district,
            types=INABILITY_TYPES,
            time_from=period.start,
            time_to=period.end,
        )
        supervised = await record_entries(
            self.records,
            district=self.district,
            types=SUPERVISION_TYPES,
            time_from=period.start,
            time_to=period.end,
        )
        failures = rejected_inabilities_from(inabilities)
        failures += await ignored_supervisions_from(supervised, self.deadlines, now)
        return compute_report(
            kind=kind,
            period=period,
            now=now,
            deadlines=await self.deadlines.due_between(period.start, period.end),
            disputes=disputes_from(disputes),
            refusals=refusals_from(refusals),
            ratings=await self.ratings.between(period.start, period.end),
            agencies=await self.agencies.all(),
            failures=failures,
        )

    async def rate(self, command: RateAgency, caller: Caller) -> Rating:
        """R-SUP-03; a second rating of the pair in the same quarter is a Conflict."""
        principal = caller.principal
        direction, ratee_agency_id = command.direction, command.ratee_agency_id
        score, comment = command.score, command.comment
        access.authorize_on(principal, RATE_OPERATIONS[direction], access.own_name(principal))
        now = self.clock()
        rating = new_rating(
            direction=direction,
            rater_agency_id=principal.agency_id,
            rater_kind=await self.agencies.kind(principal.agency_id),
            ratee_agency_id=ratee_agency_id,
            ratee_kind=await self.agencies.kind(ratee_agency_id),
            score=score,
            comment=comment,
            rated_by=principal.person_id,
            at=now,
        )
        event = new_envelope(
            AgencyRatedV1(
                rating_id=rating.id,
                period=rating.period,
                direction=rating.direction,
                rater_agency_id=rating.rater_agency_id,
                ratee_agency_id=rating.ratee_agency_id,
                score=rating.score,
                comment=rating.comment,
                rated_at=now,
                actor_id=principal.person_id,
                actor_agency_id=principal.agency_id,
            ),
            district=self.district,
            service=SERVICE,
            subject=rating.id,
            time=now,
        )
        try:
            await self.ratings.add(rating, event)
        except ConcurrencyError as exc:
            field = (
                "input.departmentId"
                if direction == "township_to_department"
                else "input.townshipId"
            )
            raise Conflict(
                f"{principal.agency_id} has already rated {ratee_agency_id} for {rating.period}",
                field=field,
            ) from exc
        return rating


class ReportPush:
    """R-SUP-02 月提示 + 季通报: on the district's report day the reminder list of the previous
    month, and after a quarter its bulletin, are put in the justice bureau's inbox, linking
    their PDF and .xlsx.

    One persisted timer per period (id ``report.monthly:<yyyy-mm>`` or
    ``report.quarterly:<yyyy-Qn>``, the period reported), run by a TimerScheduler like the
    deadline timers: claimed with a lease, so with several replicas it fires once; the inbox
    item is keyed by the timer id, so a re-fire after a lost lease adds nothing. Each firing
    schedules the next period first; every replica schedules the current month and quarter
    at start-up (idempotent: the same id and time), which seeds the chains. Periods before the
    first start are not pushed retroactively. The policy says which of the two the district
    issues.
    """

    def __init__(
        self,
        *,
        supervision: Supervision,
        timers: TimerRepository,
        inbox: InboxRepository,
        agencies: AgencyNames,
        policy: SupervisionPolicy,
        clock: Callable[[], datetime],
    ) -> None:
        self.supervision = supervision
        self.timers = timers
        self.inbox = inbox
        self.agencies = agencies
        self.policy = policy
        self.clock = clock

    @staticmethod
    def timer_id(period_label: str) -> str:
        kind = "quarterly" if "-Q" in period_label else "monthly"
        return f"report.{kind}:{period_label}"

    async def ensure_scheduled(self) -> None:
        """Start-up: the current month's and quarter's pushes are scheduled (no-ops when
        they already are)."""
        now = self.clock()
        if self.policy.monthly_reminder_list:
            await self._schedule_month(month_of(now))
        if self.policy.quarterly_bulletin:
            await self._schedule_quarter(quarter_of(now))

    async def _schedule_month(self, period: Period) -> None:
        await self.timers.schedule(
            PlannedTimer(
                id=self.timer_id(period.label),
                kind="report.monthly",
                step="monthly",
                fire_at=monthly_push_at(period, self.policy.report_day_of_month),
            ),
            state="pending",
            fields={"month": period.label},
        )

    async def _schedule_quarter(self, period: Period) -> None:
        await self.timers.schedule(
            PlannedTimer(
                id=self.timer_id(period.label),
                kind="report.quarterly",
                step="quarterly",
                fire_at=quarterly_push_at(period, self.policy.report_day_of_month),
            ),
            state="pending",
            fields={"quarter": period.label},
        )

    async def fire(self, timer: Document, owner: str) -> str:
        now = self.clock()
        kind: Literal["monthly", "quarterly"]
        # The next period first: if this replica dies after it, the re-fire schedules it
        # again (same id and time), and the push below is keyed by the timer.
        if timer["kind"] == "report.quarterly":
            kind, period = "quarterly", quarter_label(timer["quarter"])
            await self._schedule_quarter(next_quarter(period))
        else:
            kind, period = "monthly", month(timer["month"])
            await self._schedule_month(next_month(period))
        bureau = await self.agencies.first_of_kind("justice_bureau")
        if bureau is None:
            log.warning("no justice bureau known yet; %s push %s retried", kind, timer["_id"])
            await self.timers.release(timer["_id"], owner, now + RETRY_LATER, {})
            return "released"
        report = await self.supervision.compute(kind, period)
        text = monthly_push_text if kind == "monthly" else quarterly_push_text
        title, body = text(report, self.policy.reports_to_zh)
        await self.inbox.add(
            InboxItem(
                id=item_id(timer["_id"], bureau),
                agency_id=bureau,
                kind=f"supervision.{kind}_report",
                title=title,
                body=body,
                subject_type="SupervisionReport",
                subject_id=f"{kind}:{period.label}",
                source_event_id=timer["_id"],
                created_at=now,
                # A report to read, not a notice to sign for (R-NTF-04 does not apply).
                receipt_required=False,
                links=report_paths(kind, period),
            )
        )
        await self.timers.finish(timer["_id"], owner, "fired", now)
        return "fired"
