"""The complaint (举报投诉) aggregate: first-contact responsibility (首问责任制) to the result.

Pure Python. The agency that first receives a complaint owns it until another agency
consents to take it over (R-CMP-01, R-CMP-02); every notice to the complainant is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from kernel.errors import Forbidden, InvalidState, ValidationFailed
from referral.domain.model import Actor, AgencyRef


class ComplaintStatus(StrEnum):
    REGISTERED = "registered"
    HANDOVER_PENDING = "handover_pending"
    ANSWERED = "answered"  # no violation: direct answer (R-CMP-03)
    GUIDED = "guided"  # told where to go, with the other side's consent (R-CMP-02)
    CASE_OPENED = "case_opened"  # within its powers: its own case (R-CMP-03)
    REFERRED = "referred"  # another's: a referral (R-CMP-03, §2)
    RESULT_TOLD = "result_told"  # R-CMP-04, R-REF-08


class HandoverMode(StrEnum):
    GUIDE = "guide"  # tell the complainant where to go
    MATERIAL = "material"  # hand the written material over


@dataclass(frozen=True)
class ComplaintTransition:
    action: str
    actor_id: str
    agency_id: str
    at: datetime
    before: ComplaintStatus | None
    after: ComplaintStatus
    note: str = ""


@dataclass(frozen=True)
class ComplainantNotice:
    """A notice to the complainant (or to an agency that passed the complaint on)."""

    kind: str  # answer | handover | referred | result | result_to_agency
    text: str
    at: datetime
    by_agency_id: str
    to_agency_id: str | None = None  # set when an agency, not the complainant, is told


@dataclass(frozen=True)
class Handover:
    to_agency_id: str
    mode: HandoverMode
    reason: str
    requested_at: datetime


@dataclass(frozen=True)
class Complaint:
    id: str
    first_agency_id: str
    owner_agency_id: str
    complainant_name: str
    complainant_contact: str
    content: str
    matter_code: str
    place: str
    township_id: str | None
    received_at: datetime
    status: ComplaintStatus
    history: tuple[ComplaintTransition, ...] = ()
    notices: tuple[ComplainantNotice, ...] = ()
    previous_owners: tuple[str, ...] = ()
    handover: Handover | None = None
    case_number: str = ""
    referral_id: str | None = None
    answer: str = ""
    result: str = ""
    version: int = 0

    def _moved(
        self, action: str, actor: Actor, at: datetime, to: ComplaintStatus, note: str = ""
    ) -> Complaint:
        t = ComplaintTransition(action, actor.person_id, actor.agency_id, at, self.status, to, note)
        return replace(self, status=to, history=(*self.history, t))

    def _require(self, action: str, *allowed: ComplaintStatus) -> None:
        if self.status not in allowed:
            names = ", ".join(s.value for s in allowed)
            raise InvalidState(
                f"cannot {action} a complaint that is {self.status.value}; it must be {names}",
                field="status",
                code="WRONG_STATUS",
            )

    def _require_owner(self, actor: Actor, action: str) -> None:
        if actor.agency_id != self.owner_agency_id:
            raise Forbidden(
                f"only the agency that owns the complaint (首问责任) may {action} it",
                code="NOT_A_PARTY",
            )

    def _notice(self, kind: str, text: str, at: datetime, by: str) -> ComplainantNotice:
        return ComplainantNotice(kind, text, at, by)

    def answer_no_violation(self, actor: Actor, at: datetime, answer: str) -> Complaint:
        """R-CMP-03: no violation found: answer the complainant directly and register it."""
        self._require("answer", ComplaintStatus.REGISTERED)
        if not answer.strip():
            raise ValidationFailed(
                "the answer to the complainant is missing", field="answer", code="REQUIRED"
            )
        moved = self._moved("answer", actor, at, ComplaintStatus.ANSWERED, answer.strip())
        n = self._notice("answer", answer.strip(), at, actor.agency_id)
        return replace(moved, answer=answer.strip(), notices=(*self.notices, n))

    def open_case(self, actor: Actor, at: datetime, case_number: str) -> Complaint:
        """R-CMP-03: a violation within its own powers: it opens its own case."""
        self._require("open a case on", ComplaintStatus.REGISTERED)
        if not case_number.strip():
            raise ValidationFailed(
                "the case number (立案编号) is missing", field="caseNumber", code="REQUIRED"
            )
        moved = self._moved(
            "open_case", actor, at, ComplaintStatus.CASE_OPENED, case_number.strip()
        )
        return replace(moved, case_number=case_number.strip())

    def refer(self, actor: Actor, at: datetime, referral_id: str, receiver_name: str) -> Complaint:
        """R-CMP-03: another agency's matter: a referral created from the complaint."""
        self._require("refer", ComplaintStatus.REGISTERED)
        moved = self._moved("refer", actor, at, ComplaintStatus.REFERRED, referral_id)
        n = self._notice(
            "referred", f"您反映的问题已移送{receiver_name}依法处理。", at, actor.agency_id
        )
        return replace(moved, referral_id=referral_id, notices=(*self.notices, n))

    def request_handover(
        self,
        actor: Actor,
        at: datetime,
        to: AgencyRef | None,
        to_id: str,
        mode: HandoverMode,
        reason: str,
    ) -> Complaint:
        """R-CMP-02: not its function at all: ask the other side to consent."""
        self._require("hand over", ComplaintStatus.REGISTERED)
        if to is None or to.internal_unit:
            raise ValidationFailed(
                f"{to_id!r} is not an agency that can take a complaint (R-AG-02)",
                field="toAgencyId",
                code="WRONG_AGENCY_KIND",
            )
        if to.id == self.owner_agency_id:
            raise ValidationFailed(
                "hand it to another agency", field="toAgencyId", code="SELF_ADDRESSED"
            )
        if not reason.strip():
            raise ValidationFailed(
                "state why it is not this agency's function", field="reason", code="REQUIRED"
            )
        moved = self._moved("request_handover", actor, at, ComplaintStatus.HANDOVER_PENDING, to.id)
        return replace(moved, handover=Handover(to.id, mode, reason.strip(), at))

    def answer_handover(
        self, actor: Actor, at: datetime, consent: bool, to_name: str, note: str
    ) -> Complaint:
        """The other side consents (or not). Until it does, the first agency owns it."""
        self._require("answer the hand-over of", ComplaintStatus.HANDOVER_PENDING)
        assert self.handover is not None
        if actor.agency_id != self.handover.to_agency_id:
            raise Forbidden(
                "only the agency asked to take the complaint may consent", code="NOT_A_PARTY"
            )
        if not consent:
            moved = self._moved(
                "handover_refused", actor, at, ComplaintStatus.REGISTERED, note.strip()
            )
            return replace(moved, handover=None)
        if self.handover.mode is HandoverMode.GUIDE:
            moved = self._moved("handover_guided", actor, at, ComplaintStatus.GUIDED, note)
            text = f"您反映的事项不属于本机关职责，请向{to_name}反映。"
            n = self._notice("handover", text, at, self.owner_agency_id)
            return replace(moved, notices=(*self.notices, n))
        moved = self._moved("handed_over", actor, at, ComplaintStatus.REGISTERED, note)
        text = f"您反映的问题材料已转交{to_name}办理。"
        n = self._notice("handover", text, at, self.owner_agency_id)
        return replace(
            moved,
            owner_agency_id=self.handover.to_agency_id,
            previous_owners=(*self.previous_owners, self.owner_agency_id),
            handover=None,
            notices=(*self.notices, n),
        )

    def tell_result(self, actor: Actor, at: datetime, result: str) -> Complaint:
        """R-CMP-04 / R-REF-08: the handling agency tells the complainant the result, and
        tells the agencies that passed the complaint on."""
        self._require("tell the result of", ComplaintStatus.CASE_OPENED, ComplaintStatus.REFERRED)
        if self.status is ComplaintStatus.CASE_OPENED:
            self._require_owner(actor, "tell the result of")
        if not result.strip():
            raise ValidationFailed("the result is missing", field="result", code="REQUIRED")
        moved = self._moved("tell_result", actor, at, ComplaintStatus.RESULT_TOLD, result.strip())
        told = [self._notice("result", result.strip(), at, actor.agency_id)]
        passed_on = [*self.previous_owners]
        if self.status is ComplaintStatus.REFERRED and self.owner_agency_id != actor.agency_id:
            passed_on.append(self.owner_agency_id)
        told += [
            ComplainantNotice("result_to_agency", result.strip(), at, actor.agency_id, a)
            for a in dict.fromkeys(passed_on)
        ]
        return replace(moved, result=result.strip(), notices=(*self.notices, *told))


def register_complaint(
    *,
    complaint_id: str,
    agency: AgencyRef | None,
    actor: Actor,
    at: datetime,
    complainant_name: str,
    complainant_contact: str,
    content: str,
    matter_code: str,
    place: str,
    township_id: str | None,
) -> Complaint:
    """R-CMP-01: the first agency that receives a complaint registers and owns it."""
    if agency is None or agency.id != actor.agency_id:
        raise Forbidden(
            "a complaint is registered by staff of the agency that received it",
            code="NOT_YOUR_AGENCY",
        )
    if agency.internal_unit:
        raise ValidationFailed(
            f"{agency.name} is an internal unit; register in the name of its agency (R-AG-02)",
            field="agencyId",
            code="INTERNAL_UNIT",
        )
    if not content.strip():
        raise ValidationFailed(
            "the complaint's content is missing", field="content", code="REQUIRED"
        )
    if not complainant_contact.strip():
        raise ValidationFailed(
            "a contact is needed to tell the complainant the result",
            field="complainantContact",
            code="REQUIRED",
        )
    c = Complaint(
        id=complaint_id,
        first_agency_id=agency.id,
        owner_agency_id=agency.id,
        complainant_name=complainant_name.strip(),
        complainant_contact=complainant_contact.strip(),
        content=content.strip(),
        matter_code=matter_code.strip(),
        place=place.strip(),
        township_id=township_id,
        received_at=at,
        status=ComplaintStatus.REGISTERED,
    )
    t = ComplaintTransition(
        "register", actor.person_id, actor.agency_id, at, None, ComplaintStatus.REGISTERED
    )
    return replace(c, history=(t,))
