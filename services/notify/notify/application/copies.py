"""Copy-to rules (抄告, R-NTF-01…03): facts published by other services, or reported through
notify's own mutations where no service publishes them yet, become inbox items of the
agencies that must know. Each item is watched for its receipt (R-NTF-04).

The mutations store the report together with its event (the outbox) and copy at once; the
event comes back through notify's own subscription and copies again, which the item id
(derived from the event id) turns into a no-op, so a crash between the two writes is
repaired by the event.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from kernel.caller import Caller
from kernel.envelope import Envelope, EventPayload, new_envelope
from kernel.errors import Forbidden, ValidationFailed
from notify.adapters.copies import CatalogueOwners, Reports
from notify.adapters.repository import AgencyNames, InboxRepository
from notify.application import access
from notify.application.watch import DeadlineWatch
from notify.contracts.consumed import (
    CatalogueChangeAnnounced,
    CatalogueEntryChanged,
    PenaltyRecorded,
)
from notify.contracts.published import (
    ApprovalReportedV1,
    HazardReportedV1,
    PenaltyDecisionReportedV1,
    StandardChangeAnnouncedV1,
)
from notify.domain.copies import (
    ApprovalReport,
    HazardReport,
    PenaltyDecisionReport,
    StandardChange,
    approval_copied,
    catalogue_change_announced,
    hazard_reported,
    penalty_copied,
    penalty_copy_addressee,
    penalty_decision_reported,
    standard_change_announced,
)
from notify.domain.model import InboxItem

SERVICE = "notify"
# Who announces a change of standard or interpretation (R-NTF-02): the issuing department or
# approval bureau, or a supervising body (justice bureau, coordination body, government).
ANNOUNCING_KINDS = frozenset(
    {"department", "approval_bureau", "justice_bureau", "coordination_body", "government"}
)


class CopyRules:
    def __init__(
        self,
        *,
        district: str,
        inbox: InboxRepository,
        agencies: AgencyNames,
        catalogue: CatalogueOwners,
        reports: Reports,
        watch: DeadlineWatch,
        clock: Callable[[], datetime],
    ) -> None:
        self.district = district
        self.inbox = inbox
        self.agencies = agencies
        self.catalogue = catalogue
        self.reports = reports
        self.watch = watch
        self.clock = clock

    async def _deliver(self, item: InboxItem) -> InboxItem:
        await self.inbox.add(item)
        # Also when the item was there already (a redelivery repairs a missing timer).
        await self.watch.watch_notice(item)
        stored = await self.inbox.get(item.id)
        return stored or item

    async def _matter_name(self, code: str) -> str:
        found = await self.catalogue.get(code)
        return found[1] if found else code

    # -- consumed events ------------------------------------------------------------------

    async def when_catalogue_entry_changed_update_owners(self, envelope: Envelope) -> None:
        e: CatalogueEntryChanged = envelope.payload(CatalogueEntryChanged)
        await self.catalogue.put(e.code, e.name, e.original_department_id, e.withdrawn, e.version)

    async def when_penalty_recorded_copy_to_department(self, envelope: Envelope) -> None:
        """R-NTF-01: a township's penalty decision goes to the department for the record."""
        e: PenaltyRecorded = envelope.payload(PenaltyRecorded)
        actor_agency = e.actor_agency_id
        owner = await self.catalogue.get(e.matter_code) if e.matter_code else None
        addressee = penalty_copy_addressee(
            actor_agency_kind=await self.agencies.kind(actor_agency) if actor_agency else None,
            actor_agency_id=actor_agency,
            sender_id=e.sender_id,
            receiver_id=e.receiver_id,
            owning_department_id=owner[0] if owner else None,
        )
        if addressee is None:
            return
        await self._deliver(
            penalty_copied(
                event_id=envelope.id,
                referral_id=e.referral_id,
                department_id=addressee,
                township_name=await self.agencies.name(actor_agency),
                matter_code=e.matter_code,
                decision_number=e.decision_number,
                kinds=list(e.kinds),
                fine_yuan=e.fine_yuan,
                at=e.at or envelope.time,
            )
        )

    async def when_change_announced_notify_townships(self, envelope: Envelope) -> None:
        """R-NTF-02: each township named gets the announcement."""
        e: CatalogueChangeAnnounced = envelope.payload(CatalogueChangeAnnounced)
        for township_id in dict.fromkeys(e.township_ids):
            await self._deliver(
                catalogue_change_announced(
                    event_id=envelope.id,
                    township_id=township_id,
                    code=e.code,
                    name=e.name,
                    version=e.version,
                    change=e.change,
                    summary_zh=e.summary_zh,
                    at=envelope.time,
                )
            )

    async def when_approval_reported_copy_to_township(self, envelope: Envelope) -> None:
        await self._copy_approval(envelope)

    async def when_hazard_reported_tell_department(self, envelope: Envelope) -> None:
        await self._tell_department(envelope)

    async def when_penalty_decision_reported_copy_to_department(self, envelope: Envelope) -> None:
        await self._copy_penalty_decision(envelope)

    async def when_standard_change_announced_notify_townships(self, envelope: Envelope) -> None:
        await self._announce_standard_change(envelope)

    async def _copy_penalty_decision(self, envelope: Envelope) -> InboxItem:
        e: PenaltyDecisionReportedV1 = envelope.payload(PenaltyDecisionReportedV1)
        report = PenaltyDecisionReport(
            e.decision_number, e.matter_code, e.party, tuple(e.kinds), e.fine_yuan, e.summary
        )
        return await self._deliver(
            penalty_decision_reported(
                event_id=envelope.id,
                report_id=e.report_id,
                report=report,
                department_id=e.department_id,
                township_name=await self.agencies.name(e.township_id),
                matter_name=await self._matter_name(e.matter_code),
                at=e.reported_at,
            )
        )

    async def _announce_standard_change(self, envelope: Envelope) -> list[InboxItem]:
        e: StandardChangeAnnouncedV1 = envelope.payload(StandardChangeAnnouncedV1)
        change = StandardChange(
            e.kind,
            e.title,
            e.summary,
            tuple(e.matter_codes),
            tuple(e.township_ids),
            e.effective_on,
        )
        issuer = await self.agencies.name(e.actor_agency_id)
        return [
            await self._deliver(
                standard_change_announced(
                    event_id=envelope.id,
                    announcement_id=e.announcement_id,
                    change=change,
                    township_id=township_id,
                    issuer_name=issuer,
                    at=e.announced_at,
                )
            )
            for township_id in change.township_ids
        ]

    async def _copy_approval(self, envelope: Envelope) -> InboxItem:
        e: ApprovalReportedV1 = envelope.payload(ApprovalReportedV1)
        report = ApprovalReport(e.number, e.matter_code, e.township_id, e.summary, e.urgent)
        return await self._deliver(
            approval_copied(
                event_id=envelope.id,
                report_id=e.report_id,
                report=report,
                department_name=await self.agencies.name(e.department_id),
                matter_name=await self._matter_name(e.matter_code),
                at=e.reported_at,
            )
        )

    async def _tell_department(self, envelope: Envelope) -> InboxItem:
        e: HazardReportedV1 = envelope.payload(HazardReportedV1)
        report = HazardReport(e.kind, e.matter_code, e.place, e.description, e.urgent)
        return await self._deliver(
            hazard_reported(
                event_id=envelope.id,
                report_id=e.report_id,
                report=report,
                department_id=e.department_id,
                township_name=await self.agencies.name(e.township_id),
                matter_name=await self._matter_name(e.matter_code),
                at=e.reported_at,
            )
        )

    # -- commands -------------------------------------------------------------------------

    async def _department_of(self, matter_code: str, who: str) -> str:
        """The department owning ``matter_code`` in the catalogue; ``who`` says what the
        error is missing."""
        owner = await self.catalogue.get(matter_code)
        if owner is None:
            raise ValidationFailed(
                f"matter {matter_code!r} is not in the catalogue, so no {who} is known",
                field="input.matterCode",
            )
        return owner[0]

    async def _record(
        self,
        add: Callable[[dict[str, Any], Envelope], Awaitable[None]],
        payload: EventPayload,
        subject: str,
        now: datetime,
    ) -> Envelope:
        """Store the report (its payload, by ``subject``) with its event; the envelope."""
        envelope = new_envelope(
            payload, district=self.district, service=SERVICE, subject=subject, time=now
        )
        await add({"_id": subject, **payload.model_dump(mode="python")}, envelope)
        return envelope

    async def report_approval(self, report: ApprovalReport, caller: Caller) -> InboxItem:
        """R-NTF-01: a department's approval, copied to the township at once."""
        principal = caller.principal
        access.authorize_on(principal, "reportApproval", access.own_name(principal))
        valid = report.validated(
            reporter_kind=await self.agencies.kind(principal.agency_id),
            township_kind=await self.agencies.kind(report.township_id),
        )
        now = self.clock()
        report_id = str(uuid.uuid4())
        payload = ApprovalReportedV1(
            report_id=report_id,
            number=valid.number,
            matter_code=valid.matter_code,
            department_id=principal.agency_id,
            township_id=valid.township_id,
            summary=valid.summary,
            urgent=valid.urgent,
            reported_at=now,
            actor_id=principal.person_id,
            actor_agency_id=principal.agency_id,
        )
        envelope = await self._record(self.reports.add_approval, payload, report_id, now)
        return await self._copy_approval(envelope)

    async def report_hazard(self, report: HazardReport, caller: Caller) -> InboxItem:
        """R-NTF-03: a township tells the competent department of a hazard or hot spot."""
        principal = caller.principal
        access.authorize_on(principal, "reportHazard", access.own_name(principal))
        valid = report.validated(reporter_kind=await self.agencies.kind(principal.agency_id))
        department_id = await self._department_of(valid.matter_code, "competent department")
        now = self.clock()
        report_id = str(uuid.uuid4())
        payload = HazardReportedV1(
            report_id=report_id,
            kind=valid.kind,
            matter_code=valid.matter_code,
            township_id=principal.agency_id,
            department_id=department_id,
            place=valid.place,
            description=valid.description,
            urgent=valid.urgent,
            reported_at=now,
            actor_id=principal.person_id,
            actor_agency_id=principal.agency_id,
        )
        envelope = await self._record(self.reports.add_hazard, payload, report_id, now)
        return await self._tell_department(envelope)

    async def report_penalty_decision(
        self, report: PenaltyDecisionReport, caller: Caller
    ) -> InboxItem:
        """R-NTF-01: a township's penalty decision on a case of its own (not born from a
        referral) is copied to the department owning the matter for the record (备案)."""
        principal = caller.principal
        access.authorize_on(principal, "reportPenaltyDecision", access.own_name(principal))
        valid = report.validated(reporter_kind=await self.agencies.kind(principal.agency_id))
        department_id = await self._department_of(
            valid.matter_code, "department to copy the decision to"
        )
        now = self.clock()
        report_id = str(uuid.uuid4())
        payload = PenaltyDecisionReportedV1(
            report_id=report_id,
            decision_number=valid.decision_number,
            matter_code=valid.matter_code,
            party=valid.party,
            kinds=list(valid.kinds),
            fine_yuan=valid.fine_yuan,
            summary=valid.summary,
            township_id=principal.agency_id,
            department_id=department_id,
            reported_at=now,
            actor_id=principal.person_id,
            actor_agency_id=principal.agency_id,
        )
        envelope = await self._record(self.reports.add_penalty, payload, report_id, now)
        return await self._copy_penalty_decision(envelope)

    async def announce_standard_change(
        self, change: StandardChange, caller: Caller
    ) -> list[InboxItem]:
        """R-NTF-02: a change to a standard or an interpretation (or a legal basis outside
        the catalogue) reaches each township concerned as an inbox notice."""
        principal = caller.principal
        access.authorize_on(principal, "announceStandardChange", access.own_name(principal))
        if await self.agencies.kind(principal.agency_id) not in ANNOUNCING_KINDS:
            raise Forbidden(
                "standards and interpretations are announced by the department that issues "
                "them or by a supervising body, not by a township",
                code="AGENCY_KIND_NOT_ALLOWED",
            )
        kinds = {t: await self.agencies.kind(t) for t in change.township_ids if t.strip()}
        valid = change.validated(township_kinds={k.strip(): v for k, v in kinds.items()})
        now = self.clock()
        announcement_id = str(uuid.uuid4())
        payload = StandardChangeAnnouncedV1(
            announcement_id=announcement_id,
            kind=valid.kind,
            title=valid.title,
            summary=valid.summary,
            matter_codes=list(valid.matter_codes),
            township_ids=list(valid.township_ids),
            effective_on=valid.effective_on,
            announced_at=now,
            actor_id=principal.person_id,
            actor_agency_id=principal.agency_id,
        )
        envelope = await self._record(
            self.reports.add_standard_change, payload, announcement_id, now
        )
        return await self._announce_standard_change(envelope)
