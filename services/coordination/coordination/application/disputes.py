"""Command and event handlers of jurisdiction disputes (职责争议, R-DSP-01…04). The commands
live in ``dispute_commands``, the ladder's steps and clocks in ``dispute_ladder``."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from coordination.adapters.meetings import MeetingRepository
from coordination.adapters.repository import AgencyRepository, DisputeRepository
from coordination.application import access
from coordination.application.actors import SYSTEM, acting
from coordination.application.catalogue import CatalogueHandlers, local_date
from coordination.application.dispute_commands import (
    ConfirmDisputeAgreement,
    EscalateDispute,
    GiveDisputeOpinion,
    OpenDispute,
    ProposeDisputeAgreement,
    RequestCaseTransfer,
    RuleDispute,
    dispute_id_for_referral,
)
from coordination.application.dispute_ladder import STEP_KIND, DisputeLadder
from coordination.application.known_referrals import ReferralFollower
from coordination.application.publishing import Publishing
from coordination.contracts.consumed import DeadlineMissed, DisputeRuled, ReferralDeclined
from coordination.contracts.published import (
    DisputeAgreementConfirmedV1,
    DisputeAgreementProposedV1,
    DisputeEscalatedV1,
    DisputeOpenedV1,
    DisputeRuledV1,
)
from coordination.domain.catalogue import RoutingRule
from coordination.domain.dispute import (
    Actor,
    AgreedMinutes,
    Dispute,
    DisputeKind,
    DisputeStatus,
    OutcomeKind,
    TransferReason,
    open_dispute,
)
from coordination.domain.known_referrals import unknown_referral
from coordination.domain.meetings import MeetingStatus
from coordination.domain.model import AgencyKind
from coordination.policy import policy_of
from kernel.authz import Relation
from kernel.calendar import WorkingCalendar
from kernel.caller import Caller
from kernel.envelope import Envelope
from kernel.errors import Conflict, InvalidState, NotFound, ValidationFailed, one_of
from kernel.outbox import ConcurrencyError
from kernel.policy import DistrictPolicy

log = logging.getLogger(__name__)

__all__ = [
    "STEP_KIND",
    "ConfirmDisputeAgreement",
    "DisputeHandlers",
    "EscalateDispute",
    "GiveDisputeOpinion",
    "OpenDispute",
    "ProposeDisputeAgreement",
    "RequestCaseTransfer",
    "RuleDispute",
    "dispute_id_for_referral",
]


class DisputeHandlers(DisputeLadder, Publishing):
    def __init__(
        self,
        disputes: DisputeRepository,
        agencies: AgencyRepository,
        catalogue: CatalogueHandlers,
        policy: DistrictPolicy,
        calendar: WorkingCalendar,
        district: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        meetings: MeetingRepository | None = None,
        referrals: ReferralFollower | None = None,
    ) -> None:
        self.meetings = meetings
        """Where minutes come from (R-MTG-01); None: no minutes can settle a dispute."""
        self.referrals = referrals
        """What coordination heard of referrals (issue 16); None: no referral can be named."""
        self.disputes = disputes
        self.agencies = agencies
        self.catalogue = catalogue
        self.policy = policy
        self.calendar = calendar
        self.district = district
        self.clock = clock

    async def _load(self, dispute_id: str) -> Dispute:
        d = await self.disputes.get(dispute_id)
        if d is None:
            raise NotFound(f"dispute {dispute_id!r} does not exist", field="id")
        return d

    async def _authorized(self, dispute_id: str, actor: Actor, operation: str) -> Dispute:
        """The dispute, when the matrix lets ``actor`` do ``operation`` on it."""
        found = await self._load(dispute_id)
        access.authorize_on(actor, operation, access.dispute_relations(actor, found))
        return found

    # -- commands --------------------------------------------------------------------

    async def open(self, cmd: OpenDispute, caller: Caller) -> Dispute:
        """R-DSP-01, asked by a person: a party's staff, or the government / coordination
        body (the matrix, ``coordination.openDispute``)."""
        actor = acting(caller)
        relations = access.relations_to(actor, party=cmd.party_ids)
        access.authorize_on(actor, "openDispute", relations, field="partyIds")
        if cmd.referral_id:
            # Issue 16, finding 1: a referral's dispute is opened by its decline (R-REF-07),
            # under the id the decline's dispute takes; a person naming the referral could
            # claim that id first, and the decline would open nothing.
            raise ValidationFailed(
                "a referral's dispute is opened by its decline (declineReferral), not by hand",
                field="referralId",
                code="DISPUTE_OPENED_BY_DECLINE",
            )
        return await self._open(cmd, actor=actor, correlation_id=caller.correlation_id)

    async def _open(
        self,
        cmd: OpenDispute,
        *,
        actor: Actor,
        correlation_id: str | None = None,
        kind: DisputeKind = DisputeKind.JURISDICTION,
        transfer_reason: TransferReason | None = None,
        first_step_index: int = 0,
    ) -> Dispute:
        """R-DSP-01: open a dispute at the first step of the ladder, naming the interim
        handler; its clock travels as a ``dispute.step`` deadline. Callers authorize first
        (a person) or act for the system (an event)."""
        fields = {f"partyIds.{i}": p for i, p in enumerate(cmd.party_ids)}
        fields["townshipId"] = cmd.township_id
        if cmd.interim_handler_id:
            fields["interimHandlerId"] = cmd.interim_handler_id
        await self._external({f: i for f, i in fields.items() if i}, acting="be a party")
        township = await self.agencies.get(cmd.township_id)
        if township is not None and township.kind is not AgencyKind.TOWNSHIP:
            raise ValidationFailed(
                f"{township.name} is not a township", field="townshipId", code="WRONG_AGENCY_KIND"
            )
        now = self.clock()
        parties = tuple(dict.fromkeys(p.strip() for p in cmd.party_ids if p.strip()))
        dispute_id = (
            dispute_id_for_referral(cmd.referral_id)
            if cmd.referral_id and kind is DisputeKind.JURISDICTION
            else str(uuid.uuid4())
        )
        first = await self._plan(first_step_index, parties or ("",), actor.agency_id, now)
        dispute = open_dispute(
            dispute_id=dispute_id,
            kind=kind,
            matter_code=cmd.matter_code,
            township_id=cmd.township_id,
            parties=parties,
            reasons=cmd.reasons,
            interim_handler_id=cmd.interim_handler_id,
            interim_handler_required=policy_of(self.policy).dispute.interim_handler_required,
            first_step=first,
            actor=actor,
            at=now,
            referral_id=cmd.referral_id,
            matter_name=cmd.matter_name,
            transfer_reason=transfer_reason,
        )
        payload = DisputeOpenedV1(
            dispute_id=dispute.id,
            kind=dispute.kind.value,
            referral_id=dispute.referral_id,
            matter_code=dispute.matter_code,
            township_id=dispute.township_id,
            party_ids=list(dispute.parties),
            interim_handler_id=dispute.interim_handler_id,
            reasons=dispute.reasons,
            step=self._step_v1(first),
            opened_at=now,
            actor_id=actor.person_id,
            actor_agency_id=actor.agency_id,
            deadlines=[self._deadline(dispute)],
        )
        try:
            await self.disputes.add(dispute, [self._event(payload, dispute.id, correlation_id)])
        except ConcurrencyError:
            raise Conflict(
                f"a dispute about referral {cmd.referral_id} is already open",
                field="referralId",
                code="DISPUTE_ALREADY_OPEN",
            ) from None
        return replace(dispute, version=1)

    async def escalate(self, cmd: EscalateDispute, caller: Caller) -> Dispute:
        """R-DSP-02, asked by a person: a party's leader, or the government / coordination
        body (the matrix, ``coordination.escalateDispute``)."""
        actor = acting(caller)
        dispute = await self._authorized(cmd.dispute_id, actor, "escalateDispute")
        return await self._escalate(
            dispute, actor=actor, cause="escalated_by_party", correlation_id=caller.correlation_id
        )

    async def give_opinion(self, cmd: GiveDisputeOpinion, caller: Caller) -> Dispute:
        """R-DSP-02: the advisory step's body (FY: 市委编办和市司法局) gives its opinion; the
        dispute goes to the next step with it (the matrix, ``coordination.giveDisputeOpinion``;
        the domain checks that the caller's agency is the step's body)."""
        actor = acting(caller)
        dispute = await self._authorized(cmd.dispute_id, actor, "giveDisputeOpinion")
        return await self._escalate(
            dispute,
            actor=actor,
            cause="opinion_given",
            correlation_id=caller.correlation_id,
            opinion=cmd.opinion,
        )

    async def _escalate(
        self,
        dispute: Dispute,
        *,
        actor: Actor,
        cause: str,
        correlation_id: str | None,
        opinion: str | None = None,
    ) -> Dispute:
        """R-DSP-02: go up one step; the next body's clock replaces the current one."""
        if dispute.status is not DisputeStatus.OPEN:
            raise InvalidState(
                f"the dispute is {dispute.status.value}", field="status", code="WRONG_STATUS"
            )
        index = dispute.current_step.number  # the next step, 0-based
        if index >= len(self.ladder):
            raise InvalidState(
                f"the dispute is at the last step ({dispute.current_step.name_zh}); it awaits "
                "that body's decision",
                field="step",
                code="DISPUTE_AT_LAST_STEP",
            )
        now = self.clock()
        nxt = await self._plan(index, dispute.parties, dispute.opened_by_agency_id, now)
        if opinion is None:
            moved = dispute.escalate(nxt, cause=cause, actor=actor, at=now)
        else:
            moved = dispute.give_opinion(opinion, nxt, actor=actor, at=now)
        payload = DisputeEscalatedV1(
            dispute_id=moved.id,
            referral_id=moved.referral_id,
            matter_code=moved.matter_code,
            from_step=dispute.current_step.number,
            step=self._step_v1(nxt),
            cause=cause,
            opinion=moved.steps[-2].opinion,
            escalated_at=now,
            actor_id=actor.person_id,
            actor_agency_id=actor.agency_id,
            deadlines=[self._deadline(moved)],
        )
        version = await self.disputes.save(moved, [self._event(payload, moved.id, correlation_id)])
        return replace(moved, version=version)

    async def rule(self, cmd: RuleDispute, caller: Caller) -> Dispute:
        """R-DSP-03: the outcome binds; it becomes a routing rule in the catalogue (a new
        version of the entry) and is published so the waiting referral moves."""
        actor = acting(caller)
        dispute = await self._authorized(cmd.dispute_id, actor, "ruleDispute")
        kind = one_of(OutcomeKind, cmd.outcome_kind, field="outcomeKind", what="outcome")
        if cmd.responsible_agency_id:
            await self._external(
                {"responsibleAgencyId": cmd.responsible_agency_id}, acting="be a party"
            )
        minutes = await self._agreed_minutes(cmd.meeting_id) if cmd.meeting_id else None
        now = self.clock()
        moved = dispute.rule(
            kind=kind,
            basis=cmd.basis,
            signatories=(),
            responsible_agency_id=cmd.responsible_agency_id,
            actor=actor,
            at=now,
            minutes=minutes,
        )
        return await self._commit_ruling(dispute, moved, actor, caller.correlation_id)

    async def _agreed_minutes(self, meeting_id: str) -> AgreedMinutes:
        """Issue 16, finding 1: minutes settle a dispute only when the meeting's attendees
        agreed to them and they were issued (R-MTG-01)."""
        meeting = await self.meetings.get(meeting_id) if self.meetings else None
        if meeting is None:
            raise ValidationFailed(
                f"meeting {meeting_id!r} does not exist",
                field="meetingId",
                code="REFERENCE_NOT_FOUND",
            )
        issued = (MeetingStatus.MINUTES_ISSUED, MeetingStatus.FILED, MeetingStatus.COMPLETED)
        if meeting.status not in issued or meeting.minutes is None:
            raise ValidationFailed(
                "the meeting's minutes are not issued: they are issued after every attending "
                "agency agreed to them (R-MTG-01)",
                field="meetingId",
                code="MINUTES_NOT_ISSUED",
            )
        return AgreedMinutes(
            meeting_id=meeting.id,
            number=meeting.minutes.number,
            title=meeting.title,
            agreed_by=(meeting.convener_id, *meeting.attending_ids),
            held_at=meeting.starts_at,
        )

    async def propose_agreement(self, cmd: ProposeDisputeAgreement, caller: Caller) -> Dispute:
        """R-DSP-03: a party proposes the agreement; the other parties' leaders are told
        (``dispute.agreement_proposed.v1``) and each party's leader confirms it."""
        actor = acting(caller)
        dispute = await self._authorized(cmd.dispute_id, actor, "proposeDisputeAgreement")
        now = self.clock()
        moved = dispute.propose_agreement(
            basis=cmd.basis,
            responsible_agency_id=cmd.responsible_agency_id,
            actor=actor,
            at=now,
        )
        proposal = moved.agreement
        assert proposal is not None
        payload = DisputeAgreementProposedV1(
            dispute_id=moved.id,
            referral_id=moved.referral_id,
            matter_code=moved.matter_code,
            party_ids=list(moved.parties),
            revision=proposal.revision,
            basis=proposal.basis,
            responsible_agency_id=proposal.responsible_agency_id,
            proposed_at=now,
            actor_id=actor.person_id,
            actor_agency_id=actor.agency_id,
        )
        version = await self.disputes.save(
            moved, [self._event(payload, moved.id, caller.correlation_id)]
        )
        return replace(moved, version=version)

    async def confirm_agreement(self, cmd: ConfirmDisputeAgreement, caller: Caller) -> Dispute:
        """R-DSP-03: a party's leader confirms the agreement; the last confirmation makes it
        bind (``dispute.ruled.v1``, a routing rule, the waiting referral moves)."""
        actor = acting(caller)
        dispute = await self._authorized(cmd.dispute_id, actor, "confirmDisputeAgreement")
        now = self.clock()
        moved = dispute.confirm_agreement(revision=cmd.revision, actor=actor, at=now)
        if moved.status is DisputeStatus.RULED:
            return await self._commit_ruling(dispute, moved, actor, caller.correlation_id)
        proposal = moved.agreement
        assert proposal is not None
        payload = DisputeAgreementConfirmedV1(
            dispute_id=moved.id,
            referral_id=moved.referral_id,
            matter_code=moved.matter_code,
            revision=proposal.revision,
            agency_id=actor.agency_id or "",
            awaiting_confirmation_of=[p for p in moved.parties if not proposal.confirmed_by(p)],
            confirmed_at=now,
            actor_id=actor.person_id,
            actor_agency_id=actor.agency_id,
        )
        version = await self.disputes.save(
            moved, [self._event(payload, moved.id, caller.correlation_id)]
        )
        return replace(moved, version=version)

    async def _commit_ruling(
        self, before: Dispute, moved: Dispute, actor: Actor, correlation_id: str | None
    ) -> Dispute:
        outcome = moved.outcome
        assert outcome is not None
        payload = DisputeRuledV1(
            dispute_id=moved.id,
            referral_id=moved.referral_id,
            kind=moved.kind.value,
            matter_code=moved.matter_code,
            township_id=moved.township_id,
            responsible_agency_id=outcome.responsible_agency_id,
            outcome_kind=outcome.kind.value,
            basis=outcome.basis,
            signatories=list(outcome.signatories),
            rule_id=outcome.rule_id,
            ruled_at=outcome.ruled_at,
            actor_id=actor.person_id,
            actor_agency_id=actor.agency_id,
            deadlines=[self._deadline(moved, "met")],
        )
        version = await self.disputes.save(moved, [self._event(payload, moved.id, correlation_id)])
        # The catalogue is another aggregate: add the rule now so the answer changes at once;
        # the consumer of our own dispute.ruled.v1 does the same (idempotently, by rule id)
        # in case this process stops between the two writes.
        await self.apply_ruling(payload, correlation_id)
        return replace(moved, version=version)

    async def apply_ruling(
        self, ruling: DisputeRuledV1 | DisputeRuled, correlation_id: str | None = None
    ) -> None:
        if ruling.rule_id is None:
            return
        dispute = await self.disputes.get(ruling.dispute_id)
        rule = RoutingRule(
            rule_id=ruling.rule_id,
            responsible_agency_id=ruling.responsible_agency_id,
            effective_from=local_date(ruling.ruled_at),
            township_id=ruling.township_id or None,
            dispute_id=ruling.dispute_id,
            basis=ruling.basis,
        )
        await self.catalogue.add_routing_rule(
            matter_code=ruling.matter_code,
            rule=rule,
            matter_name=dispute.matter_name if dispute else "",
            actor=Actor(ruling.actor_id, ruling.actor_agency_id, ()),
            correlation_id=correlation_id,
        )

    async def request_case_transfer(self, cmd: RequestCaseTransfer, caller: Caller) -> Dispute:
        """R-DSP-04: a township asks that a major, complex or recusal case go to the original
        department; the government decides (the last step of the ladder). The government may
        also decide so by itself: then the request is opened and decided at once."""
        actor = acting(caller)
        # The township asking is the sender; the government decides by itself (supervisor).
        relations = access.relations_to(actor, sender=[cmd.township_id])
        access.authorize_on(actor, "requestCaseTransfer", relations, field="townshipId")
        reason = one_of(TransferReason, cmd.reason, field="reason", what="reason")
        government = actor.has_role("government") and Relation.SUPERVISOR in relations
        department_id = cmd.department_id
        if not department_id:
            entry = await self.catalogue.catalogue.get(cmd.matter_code.strip())
            if entry is None:
                raise ValidationFailed(
                    f"matter {cmd.matter_code!r} is not in the catalogue; name the department",
                    field="departmentId",
                    code="REQUIRED",
                )
            department_id = entry.content.original_department_id
        if cmd.referral_id:  # issue 16, finding 1: a referral that exists and is theirs
            if self.referrals is None:
                raise unknown_referral(cmd.referral_id)
            await self.referrals.check_case_transfer(
                cmd.referral_id, cmd.township_id, by_party=not government
            )
        if government and not cmd.decision_basis.strip():
            raise ValidationFailed(
                "cite the government's decision (文号)",
                field="decisionBasis",
                code="LEGAL_BASIS_REQUIRED",
            )
        reason_zh = {"major": "重大案件", "complex": "复杂案件", "recusal": "需要回避"}[
            reason.value
        ]
        opened = await self._open(
            OpenDispute(
                matter_code=cmd.matter_code,
                township_id=cmd.township_id,
                party_ids=(cmd.township_id, department_id),
                reasons=f"{reason_zh}，请求移交原业务主管部门：{cmd.explanation.strip()}",
                interim_handler_id=None,
                referral_id=cmd.referral_id,
            ),
            actor=actor,
            correlation_id=caller.correlation_id,
            kind=DisputeKind.TRANSFER_TO_DEPARTMENT,
            transfer_reason=reason,
            first_step_index=len(self.ladder) - 1,
        )
        if not government:
            return opened
        moved = opened.rule(
            kind=OutcomeKind.DECISION,
            basis=cmd.decision_basis,
            signatories=(),
            responsible_agency_id=department_id,
            actor=actor,
            at=self.clock(),
        )
        return await self._commit_ruling(opened, moved, actor, caller.correlation_id)

    # -- events ----------------------------------------------------------------------

    async def when_referral_declined_open_dispute(self, envelope: Envelope) -> None:
        """R-REF-07 → R-DSP-01: a declined referral opens a dispute between sender and
        receiver; a redelivered decline opens nothing new."""
        event = envelope.payload(ReferralDeclined)
        dispute_id = dispute_id_for_referral(event.referral_id)
        if await self.disputes.get(dispute_id) is not None:
            return
        parties = (event.receiver_id, event.sender_id)
        township_id = event.township_id or await self._township_of(parties)
        reasons = event.reasons or "受移送机关认为不属于本机关管辖"
        if event.catalogue_basis:
            reasons += f"（清单依据：{event.catalogue_basis}）"
        # The district's route (R-REF-07): up the ladder from negotiation, or (FY) straight
        # to the government's decision.
        government = policy_of(self.policy).dispute.decline_route == "government"
        try:
            await self._open(
                OpenDispute(
                    matter_code=event.matter_code or "UNSPECIFIED",
                    township_id=township_id,
                    party_ids=parties,
                    reasons=reasons,
                    # The finder keeps acting when the decline names nobody (先予协同处置).
                    interim_handler_id=event.interim_handler_id or event.sender_id,
                    referral_id=event.referral_id,
                ),
                actor=Actor(event.actor_id, event.actor_agency_id or event.receiver_id, ()),
                correlation_id=envelope.correlationid,
                first_step_index=len(self.ladder) - 1 if government else 0,
            )
        except Conflict:
            return  # opened concurrently by another delivery

    async def _township_of(self, parties: tuple[str, ...]) -> str:
        known = await self.agencies.get_many(list(parties))
        for p in parties:
            a = known.get(p)
            if a is not None and a.kind is AgencyKind.TOWNSHIP:
                return p
        return parties[0]

    async def when_deadline_missed_escalate(self, envelope: Envelope) -> None:
        """R-DSP-02: a step whose time ran out goes up the ladder — once: a redelivered or
        late notice about a step already left behind changes nothing."""
        event = envelope.payload(DeadlineMissed)
        if event.kind != STEP_KIND:
            return
        dispute = await self.disputes.get(event.subject_id)
        if dispute is None or dispute.status is not DisputeStatus.OPEN:
            return
        # The store may keep milliseconds only; the step is identified by its due time.
        if abs(dispute.current_step.due - event.due) > timedelta(seconds=1):
            return
        if dispute.current_step.number >= len(self.ladder):
            log.info("dispute %s: last step ran out; notify escalates to supervision", dispute.id)
            return
        await self._escalate(
            dispute,
            actor=SYSTEM,
            cause="escalated_deadline_missed",
            correlation_id=envelope.correlationid,
        )

    async def when_dispute_ruled_add_routing_rule(self, envelope: Envelope) -> None:
        await self.apply_ruling(envelope.payload(DisputeRuled), envelope.correlationid)
