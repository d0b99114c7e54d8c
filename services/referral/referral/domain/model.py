"""The referral (案件移送) aggregate: a case handed from one agency to another.

Pure Python: no I/O, no framework imports. Every transition checks who may do it and
whether the state allows it, and is recorded (actor, agency, time, before/after state).
Statutory clocks (send, accept, report) are computed by the application layer from the
district policy and the calendar and handed in; the aggregate starts and stops them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from kernel.errors import Forbidden, InvalidState, ValidationFailed


class Status(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CRIME_PENDING = "crime_pending"
    HANDLED = "handled"
    RESULT_REPORTED = "result_reported"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


# States in which the case is with the receiver and not finished: supervision (督办) applies.
OPEN_AFTER_SENDING = (
    Status.SENT,
    Status.ACCEPTED,
    Status.DECLINED,
    Status.CRIME_PENDING,
    Status.HANDLED,
)
# Referrals a bulk transfer at delegation may move (R-REF-11); finished ones stay archived.
MOVABLE_AT_DELEGATION = (Status.SENT, Status.ACCEPTED)

JUDICIAL_KINDS = frozenset({"public_security", "procuratorate", "court"})


class MaterialKind(StrEnum):
    TRANSFER_LETTER = "transfer_letter"  # 移送函
    SOURCE = "source"  # 案件来源材料: 现场检查记录, photos, complaint material
    EVIDENCE = "evidence"  # 初步证据


class Route(StrEnum):
    ORDINARY = "ordinary"
    UPWARD = "upward"  # R-REF-09: a township passes a major or difficult case up
    CRIME = "crime"  # R-REF-10: to public security (两法衔接)


# Accepted attachment types and the per-file limit: the one place both the material record
# and the content upload (POST /referrals/{id}/materials) are checked against.
ALLOWED_MEDIA_TYPES = frozenset(
    {
        "application/pdf",
        "image/jpeg",
        "image/png",
        "image/tiff",
        "video/mp4",
        "audio/mpeg",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/ofd",
        "text/plain",
    }
)
MAX_MATERIAL_BYTES = 200 * 1024 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Actor:
    person_id: str
    person_name: str
    agency_id: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class AgencyRef:
    """What the referral service knows of an agency (read model fed by coordination)."""

    id: str
    name: str
    kind: str
    internal_unit: bool


@dataclass(frozen=True)
class Transition:
    action: str
    actor_id: str
    actor_name: str
    agency_id: str
    at: datetime
    before: Status | None
    after: Status
    note: str = ""


@dataclass(frozen=True)
class DeadlineInfo:
    """One statutory clock with how its due time was computed (kernel.calendar record)."""

    kind: str  # "send", "accept", "report"
    due: datetime
    explanation: dict[str, Any]
    state: str = "open"  # open | met | cancelled
    rule: str = ""
    responsible_agency_id: str = ""
    key: str = ""


@dataclass(frozen=True)
class Material:
    id: str
    kind: MaterialKind
    name: str
    media_type: str
    size: int
    sha256: str
    added_by: str
    added_at: datetime
    file_id: str | None = None  # the content in the store's files, once uploaded/generated


@dataclass(frozen=True)
class Competence:
    """R-CAT-02/03: who the catalogue names for the matter, place, date and severity."""

    resolved_agency_id: str | None
    reason: str  # kernel.contracts.catalogue.ResolutionReason
    explanation: str
    major_penalty: bool
    checked_at: datetime
    rule_id: str | None = None
    override_reason: str = ""  # why the sender sends elsewhere (recorded, R-CAT-02)


@dataclass(frozen=True)
class Extension:
    """R-REF-04: the send limit extended, announced to the receiver first."""

    working_days: int
    reason: str
    notified_agency_id: str
    notified_at: datetime
    by: str


@dataclass(frozen=True)
class OngoingViolation:
    """R-REF-05: stop order issued at once and the competent agency told immediately."""

    stop_order: str
    stop_ordered_at: datetime
    notice: str
    notified_at: datetime


@dataclass(frozen=True)
class Decline:
    """R-REF-07: reasons citing the catalogue and the interim handler (先予协同处置)."""

    reasons: str
    catalogue_basis: str
    interim_handler_id: str
    by: str
    agency_id: str
    at: datetime


@dataclass(frozen=True)
class Ruling:
    dispute_id: str
    responsible_agency_id: str
    outcome_kind: str
    basis: str
    rule_id: str
    ruled_at: datetime
    applied_at: datetime
    reassigned: bool


@dataclass(frozen=True)
class Supervision:
    """R-REF-13: 督办 by the government or its delegate."""

    by: str
    agency_id: str
    at: datetime
    note: str


@dataclass(frozen=True)
class UpwardTransfer:
    """R-REF-09: the department's consent and the filing with the justice bureau (备案)."""

    consent_by: str = ""
    consent_at: datetime | None = None
    consent_note: str = ""
    filing_number: str = ""
    filed_with_id: str = ""
    filed_at: datetime | None = None


@dataclass(frozen=True)
class CrimeTransfer:
    """R-REF-10: the administrative case sent to public security; the police decision."""

    police_id: str
    reason: str
    transferred_at: datetime
    by: str
    decision: str = ""  # "" (pending) | filed (立案) | not_filed (不立案)
    decision_note: str = ""
    decided_at: datetime | None = None


@dataclass(frozen=True)
class Signature:
    """R-REF-12: electronic signature of the transfer letter."""

    signer_id: str
    signer_name: str
    signed_at: datetime
    letter_sha256: str


@dataclass(frozen=True)
class Penalty:
    kinds: tuple[str, ...]
    fine_yuan: int | None
    decision_number: str
    at: datetime


@dataclass(frozen=True)
class Referral:
    id: str
    sender_id: str
    receiver_id: str
    matter_code: str
    title: str
    facts: str
    party: str
    place: str
    found_at: datetime
    urgent: bool
    status: Status
    created_at: datetime
    history: tuple[Transition, ...] = field(default_factory=tuple)
    sent_at: datetime | None = None
    deadlines: tuple[DeadlineInfo, ...] = ()
    version: int = 0
    township_id: str | None = None  # the township of the place (for jurisdiction)
    penalty_kinds: tuple[str, ...] = ()  # penalties the draft says are possible (R-CAT-03)
    possible_fine_yuan: int | None = None
    materials: tuple[Material, ...] = ()
    competence: Competence | None = None
    extension: Extension | None = None
    ongoing: OngoingViolation | None = None
    route: Route = Route.ORDINARY
    acceptance_statement: str = ""  # 受理情况
    handling_summary: str = ""
    result: str = ""  # 处理结果
    decline_info: Decline | None = None
    rulings: tuple[Ruling, ...] = ()
    previous_receivers: tuple[str, ...] = ()
    supervisions: tuple[Supervision, ...] = ()
    upward: UpwardTransfer | None = None
    crime: CrimeTransfer | None = None
    electronic: bool = False
    signature: Signature | None = None
    penalty: Penalty | None = None
    complaint_id: str | None = None
    forwarded_from: str | None = None

    # -- reading ---------------------------------------------------------------------

    @property
    def accept_deadline(self) -> DeadlineInfo | None:
        """The latest accept clock (the receiver's written statement, R-REF-06)."""
        return self.clock("accept")

    def clock(self, kind: str) -> DeadlineInfo | None:
        found = [d for d in self.deadlines if d.kind == kind]
        return found[-1] if found else None

    def open_clocks(self) -> list[DeadlineInfo]:
        return [d for d in self.deadlines if d.state == "open"]

    @property
    def open_due(self) -> datetime | None:
        """The earliest due time of a running clock (None when no clock runs)."""
        dues = [d.due for d in self.open_clocks()]
        return min(dues) if dues else None

    def is_overdue(self, at: datetime) -> bool:
        return any(d.due < at for d in self.open_clocks())

    def transfer_letter(self) -> Material | None:
        letters = [m for m in self.materials if m.kind is MaterialKind.TRANSFER_LETTER]
        return letters[-1] if letters else None

    # -- helpers ---------------------------------------------------------------------

    def _moved(
        self, action: str, actor: Actor, at: datetime, to: Status, note: str = ""
    ) -> Referral:
        t = Transition(
            action, actor.person_id, actor.person_name, actor.agency_id, at, self.status, to, note
        )
        return replace(self, status=to, history=(*self.history, t))

    def _recorded(self, action: str, actor: Actor, at: datetime, note: str = "") -> Referral:
        """A recorded act that does not change the state (before == after)."""
        return self._moved(action, actor, at, self.status, note)

    def _require(self, action: str, *allowed: Status) -> None:
        if self.status not in allowed:
            names = ", ".join(s.value for s in allowed)
            raise InvalidState(
                f"cannot {action} a referral that is {self.status.value}; it must be {names}",
                field="status",
            )

    # Who may perform an act (which roles, of the sender or the receiver) is the
    # authorization matrix's rule (kernel.authz, docs/authorization.md), checked by the
    # application before the aggregate is asked. The aggregate keeps the rules that depend on
    # its state or on which party acts: a sent referral is withdrawn by a leader only, only
    # the police agency the case went to records its decision, and R-REF-07.

    @staticmethod
    def _require_leader(actor: Actor, action: str) -> None:
        if "leader" not in actor.roles:
            raise Forbidden(f"only a leader may {action} (经领导批准)")

    def _clock_key(self, kind: str) -> str:
        n = sum(1 for d in self.deadlines if d.kind == kind)
        base = f"Referral:{self.id}:referral.{kind}"
        # The first clock of a kind keeps the plain key; a restarted clock (new receiver,
        # reopened case) is a new clock with its own key so both can be watched.
        return base if n == 0 else f"{base}#{n + 1}"

    def _start_clock(self, clock: DeadlineInfo) -> Referral:
        started = replace(clock, state="open", key=clock.key or self._clock_key(clock.kind))
        return replace(self, deadlines=(*self.deadlines, started))

    def _stop_clocks(self, state: str, *kinds: str) -> Referral:
        return replace(
            self,
            deadlines=tuple(
                replace(d, state=state) if d.state == "open" and d.kind in kinds else d
                for d in self.deadlines
            ),
        )

    # -- drafting (sender) -----------------------------------------------------------

    def check_may_add_material(self, actor: Actor) -> None:
        """Checked before any content is stored, so a refused upload stores nothing."""
        self._require("add materials to", Status.DRAFT)

    def latest_letter_file(self) -> Material | None:
        """The latest transfer letter whose content is stored (generated or uploaded)."""
        stored = [m for m in self.materials if m.kind is MaterialKind.TRANSFER_LETTER and m.file_id]
        return stored[-1] if stored else None

    def add_material(self, material: Material, actor: Actor) -> Referral:
        """R-REF-02: materials are records (kind, name, type, size, SHA-256)."""
        self.check_may_add_material(actor)
        if not material.name.strip():
            raise ValidationFailed("a material needs a name", field="name")
        if material.media_type not in ALLOWED_MEDIA_TYPES:
            raise ValidationFailed(
                f"media type {material.media_type!r} is not accepted; one of: "
                + ", ".join(sorted(ALLOWED_MEDIA_TYPES)),
                field="mediaType",
            )
        if material.size <= 0 or material.size > MAX_MATERIAL_BYTES:
            raise ValidationFailed(
                f"size must be between 1 byte and {MAX_MATERIAL_BYTES} bytes, got {material.size}",
                field="size",
            )
        if not _SHA256.match(material.sha256):
            raise ValidationFailed("sha256 must be 64 lowercase hexadecimal digits", field="sha256")
        moved = self._recorded(
            "add_material", actor, material.added_at, f"{material.kind.value}: {material.name}"
        )
        return replace(moved, materials=(*self.materials, material))

    def remove_material(self, material_id: str, actor: Actor, at: datetime) -> Referral:
        self._require("remove materials from", Status.DRAFT)
        if not any(m.id == material_id for m in self.materials):
            raise ValidationFailed(f"no material {material_id!r}", field="materialId")
        moved = self._recorded("remove_material", actor, at, material_id)
        return replace(moved, materials=tuple(m for m in self.materials if m.id != material_id))

    def check_complete(self) -> None:
        """R-REF-02: no sending without the letter, the written facts and a source."""
        if not self.facts.strip():
            raise ValidationFailed("the basic facts (基本违法事实) are missing", field="facts")
        if self.transfer_letter() is None:
            raise ValidationFailed(
                "the transfer letter (移送函) is missing; add a material of kind "
                "transfer_letter (R-REF-02)",
                field="materials",
            )
        if not any(m.kind is MaterialKind.SOURCE for m in self.materials):
            raise ValidationFailed(
                "at least one source material (现场检查记录, photos, complaint material) "
                "is required (R-REF-02)",
                field="materials",
            )

    def extend_send_deadline(
        self,
        actor: Actor,
        at: datetime,
        *,
        working_days: int,
        max_working_days: int,
        limit_working_days: int,
        reason: str,
        notify_receiver: bool,
        new_clock: DeadlineInfo,
    ) -> Referral:
        """R-REF-04: an extension is announced to the receiver first and never passes the
        district maximum (counted from discovery)."""
        self._require("extend", Status.DRAFT, Status.PENDING_APPROVAL, Status.APPROVED)
        if self.urgent:
            raise InvalidState(
                "an urgent referral is on the urgent clock and cannot be extended",
                field="workingDays",
            )
        if not reason.strip():
            raise ValidationFailed("state why the extension is needed", field="reason")
        if not notify_receiver:
            raise ValidationFailed(
                "an extension needs prior notice to the receiver (应事先告知)",
                field="notifyReceiver",
            )
        if working_days <= limit_working_days:
            raise ValidationFailed(
                f"an extension must go beyond the {limit_working_days} working-day limit",
                field="workingDays",
            )
        if working_days > max_working_days:
            raise ValidationFailed(
                f"the send limit can be extended to at most {max_working_days} working days "
                f"from discovery, asked {working_days} (R-REF-04)",
                field="workingDays",
            )
        current = self.clock("send")
        if current is None or current.state != "open":
            raise InvalidState("there is no running send clock to extend", field="status")
        if at > current.due:
            raise InvalidState(
                "the send deadline has already passed; an extension must be announced before "
                "it runs out (事先告知)",
                field="workingDays",
            )
        ext = Extension(working_days, reason.strip(), self.receiver_id, at, actor.person_id)
        moved = self._recorded(
            "extend_send_deadline", actor, at, f"{working_days}个工作日：{reason.strip()}"
        )
        # The extended clock is the same statutory clock moved: keep its key.
        moved = replace(
            moved,
            extension=ext,
            deadlines=tuple(
                replace(new_clock, key=d.key, state="open") if d is current else d
                for d in moved.deadlines
            ),
        )
        return moved

    def submit_for_approval(self, actor: Actor, at: datetime) -> Referral:
        self._require("submit", Status.DRAFT)
        self.check_complete()
        return self._moved("submit", actor, at, Status.PENDING_APPROVAL)

    def approve(self, actor: Actor, at: datetime) -> Referral:
        """R-REF-03: a leader of the sending agency approves before it is sent."""
        self._require("approve", Status.PENDING_APPROVAL)
        return self._moved("approve", actor, at, Status.APPROVED)

    def record_department_consent(self, actor: Actor, at: datetime, note: str) -> Referral:
        """R-REF-09: the department agrees first to take a township's major/difficult case."""
        if self.route is not Route.UPWARD:
            raise InvalidState("only an upward transfer needs the department's consent")
        self._require("record consent on", Status.DRAFT, Status.PENDING_APPROVAL, Status.APPROVED)
        up = replace(self.upward or UpwardTransfer(), consent_by=actor.person_id, consent_at=at)
        up = replace(up, consent_note=note.strip())
        return replace(self._recorded("department_consent", actor, at, note), upward=up)

    def record_justice_filing(
        self, actor: Actor, at: datetime, justice_bureau_id: str, filing_number: str
    ) -> Referral:
        """R-REF-09: the transfer is filed (备案) with the justice bureau."""
        if self.route is not Route.UPWARD:
            raise InvalidState("only an upward transfer is filed with the justice bureau")
        self._require("file", Status.DRAFT, Status.PENDING_APPROVAL, Status.APPROVED)
        if self.upward is None or self.upward.consent_at is None:
            raise InvalidState(
                "record the department's consent before filing the transfer (R-REF-09)",
                field="consent",
            )
        if not filing_number.strip():
            raise ValidationFailed("the filing number (备案号) is missing", field="filingNumber")
        up = replace(
            self.upward,
            filing_number=filing_number.strip(),
            filed_with_id=justice_bureau_id,
            filed_at=at,
        )
        return replace(self._recorded("justice_filing", actor, at, filing_number), upward=up)

    def send(
        self,
        actor: Actor,
        at: datetime,
        accept_deadline: DeadlineInfo | None,
        *,
        competence: Competence | None = None,
        signature: Signature | None = None,
    ) -> Referral:
        self._require("send", Status.APPROVED)
        self.check_complete()
        if self.route is Route.UPWARD:
            up = self.upward or UpwardTransfer()
            if up.consent_at is None:
                raise InvalidState(
                    "a major or difficult case goes up only with the department's consent "
                    "recorded first (R-REF-09)",
                    field="consent",
                )
            if up.filed_at is None:
                raise InvalidState(
                    "file the transfer with the justice bureau (备案) before sending (R-REF-09)",
                    field="filing",
                )
        moved = self._moved("send", actor, at, Status.SENT)
        moved = moved._stop_clocks("met", "send")
        if accept_deadline is not None:
            moved = moved._start_clock(accept_deadline)
        return replace(
            moved,
            sent_at=at,
            competence=competence or self.competence,
            electronic=signature is not None,
            signature=signature,
        )

    def withdraw(self, actor: Actor, at: datetime, reason: str) -> Referral:
        """The sender takes it back before the receiver accepted."""
        self._require(
            "withdraw", Status.DRAFT, Status.PENDING_APPROVAL, Status.APPROVED, Status.SENT
        )
        if self.status is Status.SENT:
            # What a leader approved and sent is taken back only by a leader.
            self._require_leader(actor, "withdraw a sent referral")
        if not reason.strip():
            raise ValidationFailed("state why the referral is withdrawn", field="reason")
        moved = self._moved("withdraw", actor, at, Status.WITHDRAWN, reason.strip())
        return moved._stop_clocks("cancelled", "send", "accept")

    # -- receiving -------------------------------------------------------------------

    def accept(
        self, actor: Actor, at: datetime, statement: str, report_clock: DeadlineInfo
    ) -> Referral:
        """R-REF-06: the receiver states in writing that it accepts (受理情况)."""
        self._require("accept", Status.SENT)
        if not statement.strip():
            raise ValidationFailed(
                "the written statement of acceptance (受理情况) is missing", field="statement"
            )
        moved = self._moved("accept", actor, at, Status.ACCEPTED, statement.strip())
        moved = moved._stop_clocks("met", "accept")._start_clock(report_clock)
        return replace(moved, acceptance_statement=statement.strip())

    def decline(
        self,
        actor: Actor,
        at: datetime,
        *,
        may_refuse: bool,
        reasons: str,
        catalogue_basis: str,
        interim_handler: AgencyRef | None,
        interim_handler_id: str,
    ) -> Referral:
        """R-REF-07: decline with reasons citing the catalogue, naming an interim handler."""
        self._require("decline", Status.SENT)
        if not may_refuse:
            raise Forbidden(
                "in this district the receiving agency may not refuse a referral "
                "(不得拒绝接受, R-REF-06)",
                field="status",
            )
        if self.route is Route.CRIME:
            raise InvalidState("public security records 立案 or 不立案 instead (R-REF-10)")
        confirmed = [r for r in self.rulings if r.responsible_agency_id == self.receiver_id]
        if confirmed:
            raise Forbidden(
                f"a binding ruling ({confirmed[-1].basis or confirmed[-1].dispute_id}) named "
                "this agency responsible; it cannot decline again (R-DSP-03)",
                field="status",
            )
        if not reasons.strip():
            raise ValidationFailed("state the reasons for declining", field="reasons")
        if not catalogue_basis.strip():
            raise ValidationFailed(
                "cite the catalogue entry (事项清单) the decline rests on (R-REF-07)",
                field="catalogueBasis",
            )
        if interim_handler is None:
            raise ValidationFailed(
                f"interim handler {interim_handler_id!r} is not a registered agency; name who "
                "acts meanwhile (先予协同处置, R-REF-07)",
                field="interimHandlerId",
            )
        if interim_handler.internal_unit:
            raise ValidationFailed(
                f"{interim_handler.name} is an internal unit (R-AG-02)", field="interimHandlerId"
            )
        d = Decline(
            reasons.strip(),
            catalogue_basis.strip(),
            interim_handler.id,
            actor.person_id,
            actor.agency_id,
            at,
        )
        moved = self._moved("decline", actor, at, Status.DECLINED, reasons.strip())
        return replace(moved._stop_clocks("met", "accept"), decline_info=d)

    def apply_ruling(
        self, ruling: Ruling, accept_clock: DeadlineInfo | None, system: Actor
    ) -> Referral | None:
        """A dispute ruling about this declined referral (R-DSP-03): reassign it to the
        responsible agency, or confirm the original receiver. None: nothing to do
        (redelivered, or the referral no longer waits on a ruling)."""
        if any(r.dispute_id == ruling.dispute_id for r in self.rulings):
            return None
        if self.status is not Status.DECLINED:
            return None
        if ruling.responsible_agency_id == self.sender_id:
            # The sender itself is responsible: the case goes back to it; nothing to accept.
            moved = self._moved(
                "ruling_returned_to_sender",
                system,
                ruling.applied_at,
                Status.CLOSED,
                ruling.basis,
            )
            return replace(moved, rulings=(*self.rulings, replace(ruling, reassigned=True)))
        reassigned = ruling.responsible_agency_id != self.receiver_id
        moved = self._moved(
            "reassign" if reassigned else "ruling_confirmed_receiver",
            system,
            ruling.applied_at,
            Status.SENT,
            ruling.basis,
        )
        moved = replace(
            moved,
            receiver_id=ruling.responsible_agency_id,
            previous_receivers=(
                (*self.previous_receivers, self.receiver_id)
                if reassigned
                else self.previous_receivers
            ),
            rulings=(*self.rulings, replace(ruling, reassigned=reassigned)),
        )
        if accept_clock is not None:
            moved = moved._start_clock(
                replace(accept_clock, responsible_agency_id=ruling.responsible_agency_id)
            )
        return moved

    def record_penalty(self, actor: Actor, at: datetime, penalty: Penalty) -> Referral:
        """The receiver's administrative penalty. Never while a crime transfer is pending
        (不得以罚代刑, R-REF-10)."""
        if self.status is Status.CRIME_PENDING:
            raise InvalidState(
                "a suspected crime is with public security; an administrative penalty cannot "
                "replace the criminal route (不得以罚代刑, R-REF-10)",
                field="status",
            )
        self._require("record a penalty on", Status.ACCEPTED)
        if not penalty.decision_number.strip():
            raise ValidationFailed("the penalty decision number is missing", field="decisionNumber")
        if penalty.fine_yuan is not None and penalty.fine_yuan < 0:
            raise ValidationFailed("a fine cannot be negative", field="fineYuan")
        moved = self._recorded("record_penalty", actor, at, penalty.decision_number)
        return replace(moved, penalty=penalty)

    def mark_handled(self, actor: Actor, at: datetime, summary: str) -> Referral:
        self._require("mark handled", Status.ACCEPTED)
        if not summary.strip():
            raise ValidationFailed("describe how the case was handled", field="summary")
        moved = self._moved("handle", actor, at, Status.HANDLED, summary.strip())
        return replace(moved, handling_summary=summary.strip())

    def report_result(self, actor: Actor, at: datetime, result: str) -> Referral:
        """R-REF-08: the receiver reports the handling result back (处理结果通报)."""
        self._require("report the result of", Status.HANDLED)
        if not result.strip():
            raise ValidationFailed("the handling result is missing", field="result")
        moved = self._moved("report_result", actor, at, Status.RESULT_REPORTED, result.strip())
        return replace(moved._stop_clocks("met", "report"), result=result.strip())

    def close(self, actor: Actor, at: datetime) -> Referral:
        """The sender acknowledges the reported result and closes the file."""
        self._require("close", Status.RESULT_REPORTED)
        return self._moved("close", actor, at, Status.CLOSED)

    def supervise(self, actor: Actor, at: datetime, note: str) -> Referral:
        """R-REF-13: the government or its delegate supervises (督办) a lingering case (who
        may is the authorization matrix's rule, checked before the domain is asked)."""
        self._require("supervise", *OPEN_AFTER_SENDING)
        if not note.strip():
            raise ValidationFailed("state what is required and by when", field="note")
        s = Supervision(actor.person_id, actor.agency_id, at, note.strip())
        moved = self._recorded("supervise", actor, at, note.strip())
        return replace(moved, supervisions=(*self.supervisions, s))

    # -- suspected crime (R-REF-10) --------------------------------------------------

    def transfer_to_police(
        self, actor: Actor, at: datetime, police: AgencyRef | None, police_id: str, reason: str
    ) -> Referral:
        self._require("transfer to public security", Status.ACCEPTED)
        if police is None or police.kind != "public_security":
            raise ValidationFailed(
                f"{police_id!r} is not a public security agency", field="policeId"
            )
        if not reason.strip():
            raise ValidationFailed("state the suspected crime", field="reason")
        crime = CrimeTransfer(police.id, reason.strip(), at, actor.person_id)
        moved = self._moved("transfer_to_police", actor, at, Status.CRIME_PENDING, reason.strip())
        # The report clock stops while public security decides; 不立案 starts a new one.
        return replace(moved._stop_clocks("cancelled", "report"), crime=crime)

    def record_police_decision(
        self,
        actor: Actor,
        at: datetime,
        *,
        filed: bool,
        note: str,
        report_clock: DeadlineInfo,
    ) -> Referral:
        """立案 closes the administrative file; 不立案 reopens it with a new clock."""
        self._require("record the police decision on", Status.CRIME_PENDING)
        assert self.crime is not None
        if actor.agency_id != self.crime.police_id:
            raise Forbidden("only the public security agency it went to records its decision")
        if not note.strip():
            raise ValidationFailed("quote the decision (立案决定书 / 不予立案通知书)", field="note")
        crime = replace(
            self.crime,
            decision="filed" if filed else "not_filed",
            decision_note=note.strip(),
            decided_at=at,
        )
        if filed:
            moved = self._moved("police_filed", actor, at, Status.CLOSED, note.strip())
            return replace(moved, crime=crime)
        moved = self._moved("police_not_filed", actor, at, Status.ACCEPTED, note.strip())
        return replace(moved._start_clock(report_clock), crime=crime)

    # -- bulk transfer at delegation (R-REF-11) --------------------------------------

    def move_at_delegation(
        self,
        system: Actor,
        at: datetime,
        township_id: str,
        accept_clock: DeadlineInfo | None,
        report_clock: DeadlineInfo | None,
        basis: str,
    ) -> Referral:
        self._require("move at delegation", *MOVABLE_AT_DELEGATION)
        moved = self._moved(
            "move_at_delegation", system, at, self.status, f"{self.receiver_id}→{township_id}"
        )
        moved = replace(
            moved,
            receiver_id=township_id,
            previous_receivers=(*self.previous_receivers, self.receiver_id),
        )
        if self.status is Status.SENT:
            moved = moved._stop_clocks("cancelled", "accept")
            if accept_clock is not None:
                moved = moved._start_clock(accept_clock)
        else:
            moved = moved._stop_clocks("cancelled", "report")
            if report_clock is not None:
                moved = moved._start_clock(report_clock)
        t = moved.history[-1]
        return replace(moved, history=(*moved.history[:-1], replace(t, note=f"{t.note} {basis}")))


def draft_referral(
    *,
    referral_id: str,
    sender: AgencyRef | None,
    receiver: AgencyRef | None,
    sender_id: str,
    receiver_id: str,
    matter_code: str,
    title: str,
    facts: str,
    party: str,
    place: str,
    found_at: datetime,
    urgent: bool,
    actor: Actor,
    at: datetime,
    send_clock: DeadlineInfo | None = None,
    township_id: str | None = None,
    penalty_kinds: tuple[str, ...] = (),
    possible_fine_yuan: int | None = None,
    competence: Competence | None = None,
    ongoing: OngoingViolation | None = None,
    major_or_difficult: bool = False,
    complaint_id: str | None = None,
    origin: Referral | None = None,
) -> Referral:
    """Start a referral. R-AG-02: sender and receiver are agencies, never internal units."""
    if sender is None:
        raise ValidationFailed(f"sending agency {sender_id!r} is not registered", field="senderId")
    if receiver is None:
        raise ValidationFailed(
            f"receiving agency {receiver_id!r} is not registered", field="receiverId"
        )
    if sender.internal_unit:
        raise ValidationFailed(
            f"{sender.name} is an internal unit; a referral is sent in the name of its agency "
            "(R-AG-02)",
            field="senderId",
        )
    if receiver.internal_unit:
        raise ValidationFailed(
            f"{receiver.name} is an internal unit; address the referral to its agency (R-AG-02)",
            field="receiverId",
        )
    if receiver.kind == "management_centre":
        raise ValidationFailed(
            f"{receiver.name} only patrols (R-AG-01, HC #13): it neither receives nor accepts "
            "referrals; address the competent agency",
            field="receiverId",
        )
    if sender.id == receiver.id:
        raise ValidationFailed("a referral goes to another agency", field="receiverId")
    for name, value in (("title", title), ("facts", facts), ("matterCode", matter_code)):
        if not value.strip():
            raise ValidationFailed(f"{name} must not be empty", field=name)
    if found_at > at:
        raise ValidationFailed("the discovery time lies in the future", field="foundAt")
    if possible_fine_yuan is not None and possible_fine_yuan < 0:
        raise ValidationFailed("a fine cannot be negative", field="possibleFineYuan")
    route = Route.ORDINARY
    if receiver.kind == "public_security":
        route = Route.CRIME
    elif major_or_difficult:
        if sender.kind != "township" or receiver.kind != "department":
            raise ValidationFailed(
                "passing a major or difficult case up goes from a township to a department "
                "(R-REF-09)",
                field="majorOrDifficult",
            )
        route = Route.UPWARD
    if origin is not None and origin.receiver_id == sender.id and route is not Route.CRIME:
        # FY (四)1: 不得再行移送 — a receiver that finds the case is not its own declines
        # (and the dispute decides); it never passes the case on to a third agency.
        raise Forbidden(
            "a received referral may not be passed on to a third agency (不得再行移送, "
            "R-REF-07); decline it and let the dispute be ruled",
            field="forwardedFrom",
        )
    draft = Referral(
        id=referral_id,
        sender_id=sender.id,
        receiver_id=receiver.id,
        matter_code=matter_code.strip(),
        title=title.strip(),
        facts=facts.strip(),
        party=party.strip(),
        place=place.strip(),
        found_at=found_at,
        urgent=urgent,
        status=Status.DRAFT,
        created_at=at,
        township_id=township_id,
        penalty_kinds=penalty_kinds,
        possible_fine_yuan=possible_fine_yuan,
        competence=competence,
        ongoing=ongoing,
        route=route,
        complaint_id=complaint_id,
        forwarded_from=origin.id if origin else None,
    )
    t = Transition(
        "draft", actor.person_id, actor.person_name, actor.agency_id, at, None, Status.DRAFT
    )
    draft = replace(draft, history=(t,))
    if send_clock is not None:
        draft = draft._start_clock(replace(send_clock, responsible_agency_id=sender.id))
    return draft


def check_competence(competence: Competence, receiver_id: str, override_reason: str) -> Competence:
    """R-CAT-02/03: the receiver must be the competent agency per the catalogue, or the
    sender states why not (recorded). An unknown matter needs a stated reason."""
    reason = override_reason.strip()
    if competence.resolved_agency_id is None and not reason:
        raise ValidationFailed(
            f"{competence.explanation}; state why this agency is addressed (competenceReason)",
            field="competenceReason",
        )
    if (
        competence.resolved_agency_id is not None
        and competence.resolved_agency_id != receiver_id
        and not reason
    ):
        raise ValidationFailed(
            f"the catalogue names {competence.resolved_agency_id} for this matter, place and "
            f"date ({competence.explanation}); address it there or state why not "
            "(competenceReason)",
            field="receiverId",
        )
    return replace(competence, override_reason=reason)
