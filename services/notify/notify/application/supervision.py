"""Supervision reports (R-SUP-02: 月提示 + 季通报) and the two-way ratings (R-SUP-03)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from kernel.auth import Principal
from kernel.envelope import new_envelope
from kernel.errors import Conflict, Forbidden
from kernel.outbox import ConcurrencyError
from notify.adapters.record import RecordRepository
from notify.adapters.repository import AgencyNames
from notify.adapters.supervision import RatingRepository, record_entries
from notify.adapters.watch import DeadlineRepository
from notify.contracts.published import AgencyRatedV1
from notify.domain.record import RecordEntry
from notify.domain.supervision import (
    Direction,
    DisputeFact,
    Period,
    Rating,
    RefusalFact,
    SupervisionReport,
    compute_report,
    new_rating,
)

SERVICE = "notify"
# Who may read the reports: the supervising roles, and any staff of the justice bureau
# (司法局), to whom the reports are addressed (SL 四(一)).
REPORT_ROLES = frozenset({"supervisor", "government"})
DISPUTE_TYPES = ("dispute.opened.v1", "dispute.ruled.v1")
# Refusals to cooperate (R-AST-02) as coordination records them.
REFUSAL_TYPES = ("assistance.refused.v1",)


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

    async def may_read_reports(self, principal: Principal) -> bool:
        if REPORT_ROLES & set(principal.roles):
            return True
        return await self.agencies.kind(principal.agency_id) == "justice_bureau"

    async def check_reader(self, principal: Principal) -> None:
        if not await self.may_read_reports(principal):
            raise Forbidden(
                "only supervisors, the government and the justice bureau read supervision reports"
            )

    async def report(
        self, principal: Principal, kind: Literal["monthly", "quarterly"], period: Period
    ) -> SupervisionReport:
        await self.check_reader(principal)
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
        return compute_report(
            kind=kind,
            period=period,
            now=now,
            deadlines=await self.deadlines.due_between(period.start, period.end),
            disputes=disputes_from(disputes),
            refusals=refusals_from(refusals),
            ratings=await self.ratings.between(period.start, period.end),
            agencies=await self.agencies.all(),
        )

    async def rate(
        self,
        principal: Principal,
        direction: Direction,
        ratee_agency_id: str,
        score: int,
        comment: str,
    ) -> Rating:
        """R-SUP-03; a second rating of the pair in the same quarter is a Conflict."""
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
