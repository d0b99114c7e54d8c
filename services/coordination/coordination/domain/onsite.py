"""On-site dispatch for urgent cases and hazards (立即派员现场处置, R-REF-15; SL 三(四), HL 四(四)).

An agency that finds an urgent case, or a hazard (重大治安、安全隐患) in another agency's
remit, tells that agency at once (立即通知); the agency told sends enforcement staff on site
at once (立即派行政执法人员进行处理 / 立即派员到达现场进行执法). "At once" is the policy's
``immediately`` limit in clock hours (DOMAIN §0): the addressee is alerted now and the dispatch
is due within those hours. The receiver records who went, their arrival and how it was handled.
A receiver that cannot handle it says why (说明理由), which also meets the clock.

In Hualong (policy flag ``on_site.report_unhandled_to_government``) a department that is told
and neither acts nor explains within the limit (接到通知后不能说明理由又拒不处理) is reported by
the township to the district government (乡镇街道应立即向华龙区人民政府报告). The report is
possible only once the clock has lapsed with neither a dispatch nor an explanation in time.

Pure Python: no I/O. Clocks are computed by the application layer and handed in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from coordination.domain.cooperation import (
    Actor,
    Clock,
    RecordsTransitions,
    Transition,
    meet,
    require_agency,
    require_other,
    require_text,
)
from coordination.domain.errors import InvalidState, ValidationFailed

DISPATCH = "on_site.dispatch"


class OnSiteSituation(StrEnum):
    URGENT_CASE = "urgent_case"  # 情况紧急的案件 (SL 三(四))
    HAZARD = "hazard"  # 重大治安、安全隐患 (HL 四(四))


class OnSiteStatus(StrEnum):
    NOTIFIED = "notified"  # told; staff due on site at once
    DISPATCHED = "dispatched"  # staff sent
    ARRIVED = "arrived"  # staff on site
    HANDLED = "handled"  # handling recorded
    EXPLAINED = "explained"  # the receiver said why it does not handle it (说明理由)


@dataclass(frozen=True)
class OnSiteDispatch:
    """Staff sent (who, when, recorded by whom)."""

    staff: tuple[str, ...]
    dispatched_at: datetime
    recorded_by: str


@dataclass(frozen=True)
class GovernmentReport:
    """HL 四(四): the notifier's report to the government that the receiver neither acted
    nor explained within the limit."""

    government_id: str
    text: str
    reported_by: str
    reported_at: datetime


@dataclass(frozen=True)
class OnSiteRequest(RecordsTransitions):
    id: str
    notifier_id: str
    receiver_id: str
    situation: OnSiteSituation
    description: str
    place: str
    status: OnSiteStatus
    notified_at: datetime
    referral_id: str | None = None
    dispatch: OnSiteDispatch | None = None
    arrived_at: datetime | None = None
    handling: str = ""
    handled_at: datetime | None = None
    explanation: str = ""
    explained_at: datetime | None = None
    report: GovernmentReport | None = None
    clocks: tuple[Clock, ...] = ()
    history: tuple[Transition, ...] = ()
    version: int = 0

    @property
    def dispatch_clock(self) -> Clock:
        return next(c for c in self.clocks if c.kind == DISPATCH)

    @property
    def acted_at(self) -> datetime | None:
        """When the receiver first acted or explained (None: it has done neither)."""
        times = [t for t in (self.dispatch and self.dispatch.dispatched_at, self.explained_at) if t]
        return min(times) if times else None

    @property
    def late(self) -> bool:
        """It acted (or explained), but after the limit (False while it has done neither:
        the open clock says that)."""
        acted = self.acted_at
        return acted is not None and acted > self.dispatch_clock.due

    def dispatch_staff(
        self, staff: tuple[str, ...], *, actor: Actor, at: datetime
    ) -> OnSiteRequest:
        """The receiver sends staff on site; the immediate clock is met."""
        require_agency(actor, self.receiver_id, "the agency told sends its own staff")
        if self.status is not OnSiteStatus.NOTIFIED:
            raise InvalidState(
                f"staff can be sent only while notified; it is {self.status.value}",
                field="status",
                code="WRONG_STATUS",
            )
        names = tuple(n.strip() for n in staff if n.strip())
        if not names:
            raise ValidationFailed("name the staff sent on site", field="staff", code="REQUIRED")
        return replace(
            self,
            status=OnSiteStatus.DISPATCHED,
            dispatch=OnSiteDispatch(names, at, actor.person_id),
            clocks=meet(self.clocks, DISPATCH),
            history=self._record("dispatch", actor, at, OnSiteStatus.DISPATCHED, "、".join(names)),
        )

    def record_arrival(self, *, actor: Actor, at: datetime) -> OnSiteRequest:
        require_agency(actor, self.receiver_id, "the agency told records its staff's arrival")
        if self.status is not OnSiteStatus.DISPATCHED:
            raise InvalidState(
                "an arrival follows a dispatch (派员), and is recorded once",
                field="status",
                code="WRONG_STATUS",
            )
        return replace(
            self,
            status=OnSiteStatus.ARRIVED,
            arrived_at=at,
            history=self._record("arrive", actor, at, OnSiteStatus.ARRIVED),
        )

    def record_handling(self, handling: str, *, actor: Actor, at: datetime) -> OnSiteRequest:
        require_agency(actor, self.receiver_id, "the agency told records how it handled it")
        if self.status is not OnSiteStatus.ARRIVED:
            raise InvalidState(
                "the handling is recorded once the staff have arrived on site",
                field="status",
                code="WRONG_STATUS",
            )
        text = require_text(handling, "say what was done on site (处置情况)", "handling")
        return replace(
            self,
            status=OnSiteStatus.HANDLED,
            handling=text,
            handled_at=at,
            history=self._record("handle", actor, at, OnSiteStatus.HANDLED, text),
        )

    def explain(self, reason: str, *, actor: Actor, at: datetime) -> OnSiteRequest:
        """HL 四(四) 说明理由: the receiver says why it does not send staff; the clock is met
        (a report to the government then needs the limit to have lapsed before this)."""
        require_agency(actor, self.receiver_id, "the agency told explains itself")
        if self.status is not OnSiteStatus.NOTIFIED:
            raise InvalidState(
                f"only a request still awaiting staff can be explained; it is {self.status.value}",
                field="status",
                code="WRONG_STATUS",
            )
        text = require_text(reason, "state the reason (说明理由)", "reason")
        return replace(
            self,
            status=OnSiteStatus.EXPLAINED,
            explanation=text,
            explained_at=at,
            clocks=meet(self.clocks, DISPATCH),
            history=self._record("explain", actor, at, OnSiteStatus.EXPLAINED, text),
        )

    def report_to_government(
        self,
        *,
        government_id: str,
        text: str,
        allowed_by_policy: bool,
        actor: Actor,
        at: datetime,
    ) -> OnSiteRequest:
        """HL 四(四): the notifier reports the receiver that neither acted nor explained within
        the limit. Refused before the limit lapses, when the receiver acted or explained in
        time, when already reported, or when the district's policy has no such report."""
        require_agency(actor, self.notifier_id, "the agency that gave notice reports")
        if not allowed_by_policy:
            raise InvalidState(
                "the district's policy has no report to the government for an unhandled "
                "on-site request (HL 四(四) only)",
                field="onSite.reportUnhandledToGovernment",
                code="DISTRICT_NOT_SET_UP",
            )
        if self.report is not None:
            raise InvalidState(
                "already reported to the government", field="status", code="ALREADY_DONE"
            )
        due = self.dispatch_clock.due
        acted = self.acted_at
        if acted is not None and acted <= due:
            raise InvalidState(
                "the agency told acted or explained within the limit; there is nothing to report",
                field="status",
                code="WRONG_STATUS",
            )
        if at <= due:
            raise InvalidState(
                f"the limit runs until {due.isoformat()}; a report is possible only after it "
                "lapsed without staff sent or a reason given",
                field="status",
                code="WRONG_STATUS",
            )
        body = require_text(text, "say what was notified and left unhandled", "text")
        return replace(
            self,
            report=GovernmentReport(government_id, body, actor.person_id, at),
            history=self._record("report_to_government", actor, at, self.status, body),
        )


def notify_on_site(
    *,
    request_id: str,
    notifier_id: str,
    receiver_id: str,
    situation: OnSiteSituation,
    description: str,
    place: str,
    referral_id: str | None,
    dispatch_clock: Clock,
    actor: Actor,
    at: datetime,
) -> OnSiteRequest:
    """R-REF-15: the notice that starts the receiver's immediate clock."""
    require_agency(actor, notifier_id, "an agency gives notice in its own name")
    require_other(notifier_id, receiver_id, "an agency does not notify itself", "receiverId")
    text = require_text(description, "describe the case or hazard", "description")
    where = require_text(place, "name the place staff are to go to", "place")
    return OnSiteRequest(
        id=request_id,
        notifier_id=notifier_id,
        receiver_id=receiver_id,
        situation=situation,
        description=text,
        place=where,
        status=OnSiteStatus.NOTIFIED,
        notified_at=at,
        referral_id=(referral_id or "").strip() or None,
        clocks=(dispatch_clock,),
        history=OnSiteRequest._opened("notify", actor, at, OnSiteStatus.NOTIFIED),
    )
