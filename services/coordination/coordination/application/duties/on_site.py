"""On-site dispatch (立即派员现场处置, R-REF-15): the command handlers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from coordination.adapters.duties import (
    OnSiteRepository,
)
from coordination.application import access
from coordination.application.actors import acting
from coordination.application.duties.base import (
    NOTIFIER_KINDS,
    ON_SITE_RECEIVER_KINDS,
    _DutyHandlers,
)
from coordination.contracts.consumed import ReferralSent
from coordination.contracts.duties import (
    OnSiteArrivedV1,
    OnSiteDispatchedV1,
    OnSiteExplainedV1,
    OnSiteHandledV1,
    OnSiteReportedToGovernmentV1,
    OnSiteRequestedV1,
)
from coordination.domain import onsite as ons
from coordination.domain.cooperation import Actor
from coordination.domain.model import AgencyKind
from coordination.policy import policy_of
from kernel.authz import Relation
from kernel.caller import Caller
from kernel.envelope import Envelope, EventPayload
from kernel.errors import Conflict, InvalidState, one_of

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

    def _fields(self, record: ons.OnSiteRequest) -> dict[str, Any]:
        return dict(
            request_id=record.id,
            notifier_id=record.notifier_id,
            receiver_id=record.receiver_id,
            situation=record.situation.value,
            place=record.place,
        )

    async def notify(self, cmd: NotifyOnSite, caller: Caller) -> ons.OnSiteRequest:
        """R-REF-15: tell the competent agency; its staff are due on site at once."""
        actor = acting(caller)
        relations = access.relations_to(actor, sender=[cmd.notifier_id])
        access.authorize_on(actor, "notifyOnSite", relations, field="notifierId")
        situation = one_of(ons.OnSiteSituation, cmd.situation, field="situation", what="situation")
        await self._external({"notifierId": cmd.notifier_id}, NOTIFIER_KINDS)
        await self._external({"receiverId": cmd.receiver_id}, ON_SITE_RECEIVER_KINDS)
        referral_id = (cmd.referral_id or "").strip() or None
        if referral_id and await self.requests.get(on_site_id_for_referral(referral_id)):
            raise InvalidState(
                "staff are already due on site for this referral",
                field="referralId",
                code="ALREADY_DONE",
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
        return await self._added(request, payload, correlation_id)

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
        def events(
            r: ons.OnSiteRequest, common: dict[str, Any], at: datetime
        ) -> list[EventPayload]:
            assert r.dispatch is not None
            return [
                OnSiteDispatchedV1(
                    **common,
                    staff=list(r.dispatch.staff),
                    late=r.late,
                    dispatched_at=at,
                    deadlines=self._deadlines_of(r, ons.DISPATCH),
                )
            ]

        return await self._recorded_step(
            cmd.request_id,
            "dispatchOnSiteStaff",
            caller,
            lambda r, actor, at: r.dispatch_staff(cmd.staff, actor=actor, at=at),
            events,
        )

    async def arrive(self, cmd: RecordOnSiteArrival, caller: Caller) -> ons.OnSiteRequest:
        return await self._recorded_step(
            cmd.request_id,
            "recordOnSiteArrival",
            caller,
            lambda r, actor, at: r.record_arrival(actor=actor, at=at),
            lambda r, common, at: [OnSiteArrivedV1(**common, arrived_at=at)],
        )

    async def handle(self, cmd: RecordOnSiteHandling, caller: Caller) -> ons.OnSiteRequest:
        return await self._recorded_step(
            cmd.request_id,
            "recordOnSiteHandling",
            caller,
            lambda r, actor, at: r.record_handling(cmd.handling, actor=actor, at=at),
            lambda r, common, at: [OnSiteHandledV1(**common, handling=r.handling, handled_at=at)],
        )

    async def explain(self, cmd: ExplainOnSite, caller: Caller) -> ons.OnSiteRequest:
        return await self._recorded_step(
            cmd.request_id,
            "explainOnSite",
            caller,
            lambda r, actor, at: r.explain(cmd.reason, actor=actor, at=at),
            lambda r, common, at: [
                OnSiteExplainedV1(
                    **common,
                    reason=r.explanation,
                    late=r.late,
                    explained_at=at,
                    deadlines=self._deadlines_of(r, ons.DISPATCH),
                )
            ],
        )

    async def report_to_government(
        self, cmd: ReportOnSiteToGovernment, caller: Caller
    ) -> ons.OnSiteRequest:
        """HL 四(四): the notifier reports the receiver that neither acted nor explained."""
        allowed = policy_of(self.policy).on_site.report_unhandled_to_government

        async def move(r: ons.OnSiteRequest, actor: Actor, at: datetime) -> ons.OnSiteRequest:
            government = (
                await self._one_of_kind(AgencyKind.GOVERNMENT, "governmentId", "government")
                if allowed
                else ""
            )
            return r.report_to_government(
                government_id=government,
                text=cmd.text,
                allowed_by_policy=allowed,
                actor=actor,
                at=at,
            )

        def events(
            r: ons.OnSiteRequest, common: dict[str, Any], at: datetime
        ) -> list[EventPayload]:
            assert r.report is not None
            return [
                OnSiteReportedToGovernmentV1(
                    **common,
                    government_id=r.report.government_id,
                    text=r.report.text,
                    due=r.dispatch_clock.due,
                    reported_at=at,
                )
            ]

        return await self._recorded_step(
            cmd.request_id, "reportOnSiteToGovernment", caller, move, events
        )
