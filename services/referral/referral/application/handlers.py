"""Command and event handlers of the referral service."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from kernel.auth import Principal
from kernel.calendar import WorkingCalendar
from kernel.deadlines import DeadlineV1
from kernel.envelope import Envelope, EventPayload, new_envelope
from kernel.errors import NotFound
from kernel.policy import DistrictPolicy
from referral.adapters.repository import AgencyDirectory, ReferralRepository
from referral.contracts.consumed import AgencyRegistered
from referral.contracts.published import (
    ReferralApprovedV1,
    ReferralDraftedV1,
    ReferralSentV1,
    ReferralSubmittedV1,
)
from referral.domain.model import Actor, AgencyRef, DeadlineInfo, Referral, draft_referral

SERVICE = "referral"


@dataclass(frozen=True)
class DraftReferral:
    sender_id: str
    receiver_id: str
    matter_code: str
    title: str
    facts: str
    party: str
    place: str
    found_at: datetime
    urgent: bool = False


def actor_of(p: Principal) -> Actor:
    return Actor(p.person_id, p.person_name, p.agency_id, p.roles)


class ReferralHandlers:
    def __init__(
        self,
        referrals: ReferralRepository,
        agencies: AgencyDirectory,
        policy: DistrictPolicy,
        calendar: WorkingCalendar,
        district: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.referrals = referrals
        self.agencies = agencies
        self.policy = policy
        self.calendar = calendar
        self.district = district
        self.clock = clock

    def _event(
        self, payload: EventPayload, referral_id: str, correlation_id: str | None
    ) -> Envelope:
        return new_envelope(
            payload,
            district=self.district,
            service=SERVICE,
            subject=referral_id,
            correlation_id=correlation_id,
        )

    async def _load(self, referral_id: str) -> Referral:
        referral = await self.referrals.get(referral_id)
        if referral is None:
            raise NotFound(f"referral {referral_id!r} does not exist", field="id")
        return referral

    async def draft_referral(
        self, cmd: DraftReferral, principal: Principal, correlation_id: str | None = None
    ) -> Referral:
        now = self.clock()
        referral = draft_referral(
            referral_id=str(uuid.uuid4()),
            sender=await self.agencies.get(cmd.sender_id),
            receiver=await self.agencies.get(cmd.receiver_id),
            sender_id=cmd.sender_id,
            receiver_id=cmd.receiver_id,
            matter_code=cmd.matter_code,
            title=cmd.title,
            facts=cmd.facts,
            party=cmd.party,
            place=cmd.place,
            found_at=cmd.found_at,
            urgent=cmd.urgent,
            actor=actor_of(principal),
            at=now,
        )
        event = self._event(
            ReferralDraftedV1(
                referral_id=referral.id,
                sender_id=referral.sender_id,
                receiver_id=referral.receiver_id,
                matter_code=referral.matter_code,
                title=referral.title,
                actor_id=principal.person_id,
            ),
            referral.id,
            correlation_id,
        )
        await self.referrals.add(referral, [event])
        return replace(referral, version=1)

    async def _commit(
        self, moved: Referral, payload: EventPayload, correlation_id: str | None
    ) -> Referral:
        """Save a transition together with its event (one conditional write)."""
        event = self._event(payload, moved.id, correlation_id)
        version = await self.referrals.save(moved, [event])
        return replace(moved, version=version)

    async def submit_for_approval(
        self, referral_id: str, principal: Principal, correlation_id: str | None = None
    ) -> Referral:
        referral = await self._load(referral_id)
        moved = referral.submit_for_approval(actor_of(principal), self.clock())
        payload = ReferralSubmittedV1(
            referral_id=moved.id, sender_id=moved.sender_id, actor_id=principal.person_id
        )
        return await self._commit(moved, payload, correlation_id)

    async def approve(
        self, referral_id: str, principal: Principal, correlation_id: str | None = None
    ) -> Referral:
        referral = await self._load(referral_id)
        moved = referral.approve(actor_of(principal), self.clock())
        payload = ReferralApprovedV1(
            referral_id=moved.id, sender_id=moved.sender_id, actor_id=principal.person_id
        )
        return await self._commit(moved, payload, correlation_id)

    def accept_deadline(self, sent_at: datetime) -> DeadlineInfo | None:
        """R-REF-06: the receiver states in writing within the district's limit."""
        days = self.policy.acceptance_limit_working_days()
        if days is None:
            return None
        deadline = self.calendar.add_working_days(sent_at, days)
        return DeadlineInfo("accept", deadline.due, deadline.to_dict())

    async def send(
        self, referral_id: str, principal: Principal, correlation_id: str | None = None
    ) -> Referral:
        referral = await self._load(referral_id)
        now = self.clock()
        deadline = self.accept_deadline(now)
        moved = referral.send(actor_of(principal), now, deadline)
        payload = ReferralSentV1(
            referral_id=moved.id,
            sender_id=moved.sender_id,
            receiver_id=moved.receiver_id,
            matter_code=moved.matter_code,
            title=moved.title,
            urgent=moved.urgent,
            sent_at=now,
            accept_due=deadline.due if deadline else None,
            actor_id=principal.person_id,
            deadlines=[
                DeadlineV1(
                    key=DeadlineV1.key_for("Referral", moved.id, "referral.accept"),
                    kind="referral.accept",
                    subject_type="Referral",
                    subject_id=moved.id,
                    responsible_agency_id=moved.receiver_id,
                    due=deadline.due,
                    rule=f"{self.policy.acceptance_limit_working_days()}个工作日内书面告知受理情况",
                    explanation_zh=self.calendar.explain_dict(deadline.explanation, lang="zh"),
                )
            ]
            if deadline
            else [],
        )
        return await self._commit(moved, payload, correlation_id)

    # -- events -----------------------------------------------------------------------

    async def when_agency_registered_update_directory(self, envelope: Envelope) -> None:
        event: AgencyRegistered = envelope.payload(AgencyRegistered)
        await self.agencies.put(
            AgencyRef(event.agency_id, event.name, event.kind, event.internal_unit), event.version
        )
