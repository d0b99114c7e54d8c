"""Jurisdiction disputes (职责争议, R-DSP-01…04): who handles a case, settled up the district's
ladder.

Pure Python: no I/O. The application layer plans each ladder step (which body decides, when
its time runs out — computed with the working-day calendar) and hands the plan in; the
aggregate checks who may do what and in which state, and records every transition.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from coordination.domain.errors import Forbidden, InvalidState, ValidationFailed


class DisputeKind(StrEnum):
    JURISDICTION = "jurisdiction"  # 管辖争议 between agencies (R-DSP-01)
    TRANSFER_TO_DEPARTMENT = "transfer_to_department"  # township asks to pass a case up (R-DSP-04)


class TransferReason(StrEnum):
    """R-DSP-04: why a township asks that a case go to the original department."""

    MAJOR = "major"  # 重大
    COMPLEX = "complex"  # 复杂
    RECUSAL = "recusal"  # 需要回避


class DisputeStatus(StrEnum):
    OPEN = "open"
    RULED = "ruled"


class OutcomeKind(StrEnum):
    """R-DSP-03: how a dispute ends."""

    AGREEMENT = "agreement"  # 协议: signed by every party
    MINUTES = "minutes"  # 会议纪要
    DECISION = "decision"  # 决定 of the deciding body or the government


@dataclass(frozen=True)
class Actor:
    person_id: str
    agency_id: str | None  # None: the system itself (an event, a timer)
    roles: tuple[str, ...] = ()

    def has_role(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class StepPlan:
    """One ladder step as the district's policy and calendar make it (R-DSP-02)."""

    number: int
    name: str
    name_zh: str
    decided_by_agency_id: str
    started_at: datetime
    due: datetime
    rule: str
    explanation: dict[str, Any]
    advisory: bool = False
    """The body only gives an opinion that goes to the next step (R-DSP-02, FY step 3)."""


@dataclass(frozen=True)
class StepRecord:
    plan: StepPlan
    ended_at: datetime | None = None
    # escalated_deadline_missed | escalated_by_party | opinion_given | ruled
    ended_by: str | None = None
    opinion: str = ""
    """An advisory step's opinion (处理意见), handed to the next step."""


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    basis: str  # which agreement, minutes or decision (文号)
    signatories: tuple[str, ...]
    responsible_agency_id: str
    ruled_at: datetime
    rule_id: str | None  # the catalogue routing rule it became; None for a one-case transfer


@dataclass(frozen=True)
class AgreementConfirmation:
    """A party's leader (负责人) confirmed the proposed agreement through the API."""

    agency_id: str
    person_id: str
    at: datetime


@dataclass(frozen=True)
class ProposedAgreement:
    """An agreement (协议) one party proposed; it binds once each party's leader confirmed
    this revision (issue 16, finding 1: signatories are who confirmed, never typed)."""

    revision: int
    basis: str
    responsible_agency_id: str
    proposed_by: str
    proposed_by_agency_id: str
    proposed_at: datetime
    confirmations: tuple[AgreementConfirmation, ...] = ()

    def confirmed_by(self, agency_id: str) -> bool:
        return any(c.agency_id == agency_id for c in self.confirmations)


@dataclass(frozen=True)
class AgreedMinutes:
    """Issued minutes of a consultation meeting (会议纪要, R-MTG-01) as the application read
    them from the meeting: issued only after every attending agency agreed to them."""

    meeting_id: str
    number: str
    title: str
    agreed_by: tuple[str, ...]
    """The convener and every attending agency (each agreed before the minutes were issued)."""
    held_at: datetime


@dataclass(frozen=True)
class DisputeTransition:
    action: str
    actor_id: str
    agency_id: str | None
    at: datetime
    before: DisputeStatus | None
    after: DisputeStatus
    note: str = ""


@dataclass(frozen=True)
class Dispute:
    id: str
    kind: DisputeKind
    matter_code: str
    township_id: str
    parties: tuple[str, ...]
    opened_by_agency_id: str | None
    reasons: str
    interim_handler_id: str | None
    status: DisputeStatus
    steps: tuple[StepRecord, ...]
    opened_at: datetime
    referral_id: str | None = None
    matter_name: str = ""
    transfer_reason: TransferReason | None = None
    outcome: Outcome | None = None
    history: tuple[DisputeTransition, ...] = ()
    version: int = 0
    agreement: ProposedAgreement | None = None
    """A proposed agreement awaiting its parties' leaders (issue 16, finding 1)."""

    @property
    def current_step(self) -> StepPlan:
        return self.steps[-1].plan

    def _require_open(self, action: str) -> None:
        if self.status is not DisputeStatus.OPEN:
            raise InvalidState(
                f"cannot {action} a dispute that is {self.status.value}",
                field="status",
                code="WRONG_STATUS",
            )

    def _may_act_for(self, actor: Actor) -> bool:
        """Parties, the body deciding the current step, and coordinators / the government."""
        return (
            actor.agency_id in self.parties
            or actor.agency_id == self.current_step.decided_by_agency_id
            or actor.has_role("coordinator")
            or actor.has_role("government")
        )

    def escalate(
        self, next_step: StepPlan, *, cause: str, actor: Actor, at: datetime, opinion: str = ""
    ) -> Dispute:
        """Move up the ladder (R-DSP-02): the step's time ran out, a party asks, or an
        advisory step's body gave its opinion (``opinion``)."""
        self._require_open("escalate")
        if cause == "escalated_by_party" and not self._may_act_for(actor):
            raise Forbidden(
                "only a party or the deciding body may escalate this dispute", code="NOT_A_PARTY"
            )
        if next_step.number != self.current_step.number + 1:
            raise InvalidState(
                f"the dispute is at step {self.current_step.number}; it can only go to step "
                f"{self.current_step.number + 1}",
                field="step",
                code="DISPUTE_STEP_SKIPPED",
            )
        ended = replace(self.steps[-1], ended_at=at, ended_by=cause, opinion=opinion)
        t = DisputeTransition(
            "escalate",
            actor.person_id,
            actor.agency_id,
            at,
            self.status,
            self.status,
            f"{self.current_step.name_zh} → {next_step.name_zh}",
        )
        return replace(
            self,
            steps=(*self.steps[:-1], ended, StepRecord(next_step)),
            history=(*self.history, t),
        )

    def give_opinion(
        self, opinion: str, next_step: StepPlan, *, actor: Actor, at: datetime
    ) -> Dispute:
        """R-DSP-02: an advisory step's body (FY: 市委编办和市司法局) gives its opinion
        (处理意见); the dispute goes to the next step, which decides with it."""
        self._require_open("give an opinion on")
        step = self.current_step
        if not step.advisory:
            raise InvalidState(
                f"step {step.number} ({step.name_zh}) decides; record its ruling instead",
                field="step",
                code="DISPUTE_STEP_DECIDES",
            )
        if actor.agency_id != step.decided_by_agency_id:
            raise Forbidden(
                f"the opinion at step {step.number} comes from {step.name_zh}",
                code="NOT_THE_DECIDING_BODY",
            )
        if not opinion.strip():
            raise ValidationFailed("state the opinion (处理意见)", field="opinion", code="REQUIRED")
        return self.escalate(
            next_step, cause="opinion_given", actor=actor, at=at, opinion=opinion.strip()
        )

    def rule(
        self,
        *,
        kind: OutcomeKind,
        basis: str,
        signatories: tuple[str, ...],
        responsible_agency_id: str,
        actor: Actor,
        at: datetime,
        minutes: AgreedMinutes | None = None,
    ) -> Dispute:
        """Record the outcome (R-DSP-03); it binds and names who handles the case.

        Issue 16, finding 1: an agreement is not recorded here (one clerk typed every party's
        signature): it binds when each party's leader confirmed it (``propose_agreement``,
        ``confirm_agreement``). Minutes come from a meeting whose minutes were agreed by its
        attendees and issued (R-MTG-01), every party among them; their signatories are those
        attendees, and ``signatories`` is ignored."""
        self._require_open("rule on")
        if kind is OutcomeKind.AGREEMENT:
            raise ValidationFailed(
                "an agreement binds when each party's leader confirms it: propose it "
                "(proposeDisputeAgreement), then each party's leader confirms it "
                "(confirmDisputeAgreement)",
                field="outcomeKind",
                code="AGREEMENT_BY_CONFIRMATION",
            )
        if kind is OutcomeKind.MINUTES:
            if minutes is None:
                raise ValidationFailed(
                    "minutes come from a consultation meeting whose minutes were agreed and "
                    "issued (R-MTG-01); name the meeting",
                    field="meetingId",
                    code="REQUIRED",
                )
            absent = [p for p in self.parties if p not in minutes.agreed_by]
            if absent:
                raise ValidationFailed(
                    f"every party takes part in the meeting and agrees to its minutes; not "
                    f"among them: {', '.join(absent)}",
                    field="meetingId",
                    code="NOT_EVERY_PARTY_AGREED",
                )
            if minutes.held_at < self.opened_at:
                raise ValidationFailed(
                    "the meeting was held before the dispute was opened; its minutes do not "
                    "settle it",
                    field="meetingId",
                    code="MEETING_BEFORE_DISPUTE",
                )
            basis = f"{minutes.title}（{minutes.number}）"
            signatories = minutes.agreed_by
        if not basis.strip():
            raise ValidationFailed(
                "cite the agreement, minutes or decision (文号 or title)",
                field="basis",
                code="LEGAL_BASIS_REQUIRED",
            )
        self._check_responsible(responsible_agency_id, actor)
        step = self.current_step
        if step.advisory and not actor.has_role("government"):
            # The parties may still agree at any step; the advisory body may not bind.
            raise InvalidState(
                f"step {step.number} ({step.name_zh}) only gives an opinion (处理意见) for the "
                "next step; it cannot rule (R-DSP-02)",
                field="step",
                code="DISPUTE_STEP_ADVISES",
            )
        # At the negotiation step the "body" is a party: one party cannot decide alone.
        decider = (
            actor.agency_id == step.decided_by_agency_id and step.number > 1
        ) or actor.has_role("government")
        if kind is OutcomeKind.MINUTES and step.number == 1:
            # At the negotiation step the parties may meet and minute their result (CQ:
            # 协商或联席会议); the meeting's agreed minutes bind them all.
            decider = decider or actor.agency_id in self.parties
        if not decider:
            raise Forbidden(
                f"at step {step.number} ({step.name_zh}) the {kind.value} comes from the "
                "deciding body",
                code="NOT_THE_DECIDING_BODY",
            )
        return self._ruled(kind, basis, signatories, responsible_agency_id, actor, at)

    def _check_responsible(self, responsible_agency_id: str, actor: Actor) -> None:
        if not responsible_agency_id.strip():
            raise ValidationFailed(
                "name the responsible agency", field="responsibleAgencyId", code="REQUIRED"
            )
        if responsible_agency_id.strip() not in self.parties and not actor.has_role("government"):
            # Issue 16, finding 1: a ruling names one of the parties; only the government may
            # make another agency responsible (R-DSP-02's last step, R-CAT-04).
            raise ValidationFailed(
                "the responsible agency is one of the parties ("
                + ", ".join(self.parties)
                + "); only the government names another",
                field="responsibleAgencyId",
                code="RESPONSIBLE_NOT_A_PARTY",
            )

    def _ruled(
        self,
        kind: OutcomeKind,
        basis: str,
        signatories: tuple[str, ...],
        responsible_agency_id: str,
        actor: Actor,
        at: datetime,
    ) -> Dispute:
        rule_id = f"rule-{self.id}" if self.kind is DisputeKind.JURISDICTION else None
        outcome = Outcome(
            kind=kind,
            basis=basis.strip(),
            signatories=signatories,
            responsible_agency_id=responsible_agency_id.strip(),
            ruled_at=at,
            rule_id=rule_id,
        )
        ended = replace(self.steps[-1], ended_at=at, ended_by="ruled")
        t = DisputeTransition(
            "rule",
            actor.person_id,
            actor.agency_id,
            at,
            self.status,
            DisputeStatus.RULED,
            f"{kind.value}: {basis.strip()}",
        )
        return replace(
            self,
            status=DisputeStatus.RULED,
            outcome=outcome,
            steps=(*self.steps[:-1], ended),
            history=(*self.history, t),
        )

    def propose_agreement(
        self, *, basis: str, responsible_agency_id: str, actor: Actor, at: datetime
    ) -> Dispute:
        """R-DSP-03: a party proposes the agreement (协议) that settles the dispute; a new
        proposal replaces the previous one and the confirmations given to it."""
        self._require_open("propose an agreement on")
        if actor.agency_id not in self.parties:
            raise Forbidden("an agreement is proposed by one of the parties", code="NOT_A_PARTY")
        text = basis.strip()
        if not text:
            raise ValidationFailed(
                "cite the agreement (文号 or title)", field="basis", code="LEGAL_BASIS_REQUIRED"
            )
        if responsible_agency_id.strip() not in self.parties:
            raise ValidationFailed(
                "an agreement names one of the parties (" + ", ".join(self.parties) + ")",
                field="responsibleAgencyId",
                code="RESPONSIBLE_NOT_A_PARTY",
            )
        assert actor.agency_id is not None
        proposal = ProposedAgreement(
            revision=self.agreement.revision + 1 if self.agreement else 1,
            basis=text,
            responsible_agency_id=responsible_agency_id.strip(),
            proposed_by=actor.person_id,
            proposed_by_agency_id=actor.agency_id,
            proposed_at=at,
        )
        t = DisputeTransition(
            "propose_agreement",
            actor.person_id,
            actor.agency_id,
            at,
            self.status,
            self.status,
            f"第{proposal.revision}稿：{text}",
        )
        return replace(self, agreement=proposal, history=(*self.history, t))

    def confirm_agreement(self, *, revision: int, actor: Actor, at: datetime) -> Dispute:
        """R-DSP-03: a party's leader confirms the proposed agreement; once every party's
        leader confirmed the same revision it binds, signed by those parties."""
        self._require_open("confirm an agreement on")
        proposal = self.agreement
        if proposal is None:
            raise InvalidState("no agreement has been proposed", field="revision", code="NOT_YET")
        agency = actor.agency_id
        if agency is None or agency not in self.parties:
            raise Forbidden(
                "an agreement is confirmed by the parties' leaders", code="LEADER_REQUIRED"
            )
        if not actor.has_role("leader"):
            raise Forbidden(
                "an agreement is confirmed by the party's leader (负责人)", code="LEADER_REQUIRED"
            )
        if revision != proposal.revision:
            raise InvalidState(
                f"draft {revision} was replaced by draft {proposal.revision}; confirm the "
                "current one",
                field="revision",
                code="STALE_REVISION",
            )
        if proposal.confirmed_by(agency):
            raise InvalidState(
                f"{agency} has already confirmed this agreement",
                field="revision",
                code="ALREADY_DONE",
            )
        confirmed = replace(
            proposal,
            confirmations=(
                *proposal.confirmations,
                AgreementConfirmation(agency, actor.person_id, at),
            ),
        )
        t = DisputeTransition(
            "confirm_agreement",
            actor.person_id,
            agency,
            at,
            self.status,
            self.status,
            f"第{proposal.revision}稿",
        )
        moved = replace(self, agreement=confirmed, history=(*self.history, t))
        if not all(confirmed.confirmed_by(p) for p in self.parties):
            return moved
        return moved._ruled(
            OutcomeKind.AGREEMENT,
            proposal.basis,
            tuple(self.parties),
            proposal.responsible_agency_id,
            actor,
            at,
        )


def open_dispute(
    *,
    dispute_id: str,
    kind: DisputeKind,
    matter_code: str,
    township_id: str,
    parties: tuple[str, ...],
    reasons: str,
    interim_handler_id: str | None,
    interim_handler_required: bool,
    first_step: StepPlan,
    actor: Actor,
    at: datetime,
    referral_id: str | None = None,
    matter_name: str = "",
    transfer_reason: TransferReason | None = None,
) -> Dispute:
    """R-DSP-01: two or more agencies dispute who handles a case; an interim handler acts
    meanwhile (先予协同处置) so enforcement is not held up: a party or a third agency
    (R-REF-07)."""
    unique = tuple(dict.fromkeys(p for p in parties if p))
    if len(unique) < 2:
        raise ValidationFailed(
            "a dispute has at least two parties", field="partyIds", code="TOO_FEW_PARTIES"
        )
    if not matter_code.strip():
        raise ValidationFailed("name the matter in dispute", field="matterCode", code="REQUIRED")
    if not township_id.strip():
        raise ValidationFailed(
            "name the township where the case arose", field="townshipId", code="REQUIRED"
        )
    if not reasons.strip():
        raise ValidationFailed(
            "state the reasons for the dispute", field="reasons", code="REQUIRED"
        )
    # R-REF-07: the interim handler may be the sender, the receiver or a third agency (the
    # application checks that it is a registered agency that acts externally).
    if kind is DisputeKind.JURISDICTION and interim_handler_required and not interim_handler_id:
        raise ValidationFailed(
            "name the interim handler who acts while the dispute is open (先予协同处置)",
            field="interimHandlerId",
            code="REQUIRED",
        )
    if (
        actor.agency_id is not None
        and actor.agency_id not in unique
        and not (actor.has_role("coordinator") or actor.has_role("government"))
    ):
        raise Forbidden("a dispute is opened by one of the parties", code="NOT_A_PARTY")
    t = DisputeTransition(
        "open", actor.person_id, actor.agency_id, at, None, DisputeStatus.OPEN, reasons.strip()
    )
    return Dispute(
        id=dispute_id,
        kind=kind,
        matter_code=matter_code.strip(),
        township_id=township_id.strip(),
        parties=unique,
        opened_by_agency_id=actor.agency_id,
        reasons=reasons.strip(),
        interim_handler_id=interim_handler_id,
        status=DisputeStatus.OPEN,
        steps=(StepRecord(first_step),),
        opened_at=at,
        referral_id=referral_id,
        matter_name=matter_name.strip(),
        transfer_reason=transfer_reason,
        history=(t,),
    )
