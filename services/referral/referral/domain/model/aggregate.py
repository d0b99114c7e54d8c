"""The referral (案件移送) aggregate: a case handed from one agency to another.

Pure Python: no I/O, no framework imports. Every transition checks who may do it and
whether the state allows it, and is recorded (actor, agency, time, before/after state).
Statutory clocks (send, accept, report) are computed by the application layer from the
district policy and the calendar and handed in; the aggregate starts and stops them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from kernel.errors import Forbidden, InvalidState, ValidationFailed
from referral.domain.model.completion import complete_draft, require_matter
from referral.domain.model.extension import extend_send_clock
from referral.domain.model.refusals import check_decline, check_forward
from referral.domain.model.states import (
    FIRST_RECEIVER,
    JUDICIAL_KINDS,
    MOVABLE_AT_DELEGATION,
    OPEN_AFTER_SENDING,
    SUPERVISION,
    Status,
    Transition,
)
from referral.domain.model.supervision import answer_open_supervision, open_supervision
from referral.domain.model.upward import record_consent, record_filing
from referral.domain.model.values import (
    CRIME_CLOCKS,
    Actor,
    AgencyRef,
    Competence,
    CrimeTransfer,
    DeadlineInfo,
    Decline,
    Extension,
    Material,
    MaterialKind,
    OngoingViolation,
    Penalty,
    Route,
    Ruling,
    Signature,
    Supervision,
    UpwardTransfer,
    check_complete,
    check_material,
    check_upward_ready,
)

__all__ = [
    "FIRST_RECEIVER",
    "JUDICIAL_KINDS",
    "MOVABLE_AT_DELEGATION",
    "OPEN_AFTER_SENDING",
    "SUPERVISION",
    "Referral",
    "Status",
    "Transition",
]


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
    letter_number: str = ""  # 发文字号 of the issued transfer letter, given at sending
    penalty: Penalty | None = None
    complaint_id: str | None = None
    forwarded_from: str | None = None
    dispute_id: str | None = None  # the dispute that owns it after a decline (R-DSP-01)
    first_receiver_id: str | None = None  # 首接负责机关 after a CQ forward (R-REF-07)
    # R-GRD-01: drafted from a grid dispatch (转为移送): the dispatch, and its photos by
    # reference (coordination's photo ids, not files of this service; the clerk uploads the
    # source material it sends).
    dispatch_id: str | None = None
    dispatch_photo_ids: tuple[str, ...] = ()

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
        moved = replace(self, status=to, history=(*self.history, t))
        if to is not self.status and actor.agency_id == self.receiver_id:
            # The receiver acting on the case answers a pending 督办 (R-REF-13).
            moved = moved._answer_supervisions(at, f"以办理行为答复：{action}")
        return moved

    def _answer_supervisions(self, at: datetime, answer: str) -> Referral:
        if not any(d.kind == SUPERVISION and d.state == "open" for d in self.deadlines):
            return self
        return replace(
            self._stop_clocks("met", SUPERVISION),
            supervisions=tuple(
                replace(s, answer=answer, answered_at=at) if s.answered_at is None else s
                for s in self.supervisions
            ),
        )

    def _recorded(self, action: str, actor: Actor, at: datetime, note: str = "") -> Referral:
        """A recorded act that does not change the state (before == after)."""
        return self._moved(action, actor, at, self.status, note)

    def _require(self, action: str, *allowed: Status) -> None:
        if self.status not in allowed:
            names = ", ".join(s.value for s in allowed)
            raise InvalidState(
                f"cannot {action} a referral that is {self.status.value}; it must be {names}",
                field="status",
                code="WRONG_STATUS",
            )

    # Who may perform an act (which roles, of the sender or the receiver) is the
    # authorization matrix's rule (kernel.authz, docs/authorization.md), checked by the
    # application before the aggregate is asked. The aggregate keeps the rules that depend on
    # its state or on which party acts: a sent referral is withdrawn by a leader only, only
    # the police agency the case went to records its decision, and R-REF-07.

    @staticmethod
    def _require_leader(actor: Actor, action: str) -> None:
        if "leader" not in actor.roles:
            raise Forbidden(f"only a leader may {action} (经领导批准)", code="LEADER_REQUIRED")

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

    def revise_clocks(
        self, revised: tuple[DeadlineInfo, ...], actor: Actor, at: datetime, note: str
    ) -> Referral:
        """Open clocks computed again with an official holiday schedule (issue 20): each
        replaces the clock with its key; the act is recorded (the state does not change)."""
        by_key = {d.key: d for d in revised}
        unknown = set(by_key) - {d.key for d in self.open_clocks()}
        if unknown:
            raise InvalidState(f"no open clock {sorted(unknown)}", field="deadlines")
        moved = self._recorded("revise_clocks", actor, at, note)
        return replace(moved, deadlines=tuple(by_key.get(d.key, d) for d in self.deadlines))

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
        check_material(material)
        moved = self._recorded(
            "add_material", actor, material.added_at, f"{material.kind.value}: {material.name}"
        )
        return replace(moved, materials=(*self.materials, material))

    def remove_material(self, material_id: str, actor: Actor, at: datetime) -> Referral:
        self._require("remove materials from", Status.DRAFT)
        if not any(m.id == material_id for m in self.materials):
            raise ValidationFailed(
                f"no material {material_id!r}", field="materialId", code="UNKNOWN_VALUE"
            )
        moved = self._recorded("remove_material", actor, at, material_id)
        return replace(moved, materials=tuple(m for m in self.materials if m.id != material_id))

    def complete_draft(
        self,
        actor: Actor,
        at: datetime,
        *,
        matter_code: str,
        party: str,
        competence: Competence | None,
    ) -> Referral:
        """The sender names the matter and the party a draft did not know yet (a draft made
        from a grid dispatch, R-GRD-01); a party left empty keeps the one written."""
        return complete_draft(
            self, actor, at, matter_code=matter_code, party=party, competence=competence
        )

    def check_complete(self) -> None:
        """R-REF-02: no sending without the letter, the written facts and a source."""
        check_complete(self.facts, self.materials)

    #: R-REF-04: an extension is announced to the receiver first and never passes the
    #: district maximum (counted from discovery).
    extend_send_deadline = extend_send_clock

    def submit_for_approval(self, actor: Actor, at: datetime) -> Referral:
        self._require("submit", Status.DRAFT)
        require_matter(self)
        self.check_complete()
        return self._moved("submit", actor, at, Status.PENDING_APPROVAL)

    def approve(self, actor: Actor, at: datetime) -> Referral:
        """R-REF-03: a leader of the sending agency approves before it is sent."""
        self._require("approve", Status.PENDING_APPROVAL)
        return self._moved("approve", actor, at, Status.APPROVED)

    def record_department_consent(self, actor: Actor, at: datetime, note: str) -> Referral:
        """R-REF-09: the department agrees first to take a township's major/difficult case."""
        return record_consent(self, actor, at, note)

    def record_justice_filing(
        self, actor: Actor, at: datetime, justice_bureau_id: str, filing_number: str
    ) -> Referral:
        """R-REF-09: the transfer is filed (备案) with the justice bureau."""
        return record_filing(self, actor, at, justice_bureau_id, filing_number)

    def send(
        self,
        actor: Actor,
        at: datetime,
        accept_deadline: DeadlineInfo | None,
        *,
        competence: Competence | None = None,
        signature: Signature | None = None,
        electronic: bool = False,
        issued_letter: Material | None = None,
        letter_number: str = "",
    ) -> Referral:
        """R-REF-02/12: sent with its materials, the issued letter (numbered at sending, when
        the service generated it) and the sending agency's signature over that letter."""
        self._require("send", Status.APPROVED)
        self.check_complete()
        if self.route is Route.UPWARD:
            check_upward_ready(self.upward)
        if issued_letter is not None and issued_letter.kind is not MaterialKind.TRANSFER_LETTER:
            raise ValidationFailed("the issued letter must be a transfer letter", field="letter")
        moved = self._moved("send", actor, at, Status.SENT, letter_number)
        moved = moved._stop_clocks("met", "send")
        if accept_deadline is not None and self.route is not Route.CRIME:
            # A crime transfer is not "accepted": public security decides 立案 / 不立案 on
            # its own clock (R-REF-14, referral.domain.model.crime).
            moved = moved._start_clock(accept_deadline)
        materials = self.materials if issued_letter is None else (*self.materials, issued_letter)
        return replace(
            moved,
            sent_at=at,
            competence=competence or self.competence,
            electronic=electronic,
            signature=signature,
            materials=materials,
            letter_number=letter_number or self.letter_number,
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
            raise ValidationFailed(
                "state why the referral is withdrawn", field="reason", code="REQUIRED"
            )
        moved = self._moved("withdraw", actor, at, Status.WITHDRAWN, reason.strip())
        return moved._stop_clocks("cancelled", "send", "accept", FIRST_RECEIVER, *CRIME_CLOCKS)

    # -- receiving -------------------------------------------------------------------

    def accept(
        self, actor: Actor, at: datetime, statement: str, report_clock: DeadlineInfo
    ) -> Referral:
        """R-REF-06: the receiver states in writing that it accepts (受理情况)."""
        self._require("accept", Status.SENT)
        if self.route is Route.CRIME:
            raise InvalidState(
                "public security records 立案 or 不立案 on a crime transfer (R-REF-14)",
                field="status",
                code="WRONG_STATUS",
            )
        if not statement.strip():
            raise ValidationFailed(
                "the written statement of acceptance (受理情况) is missing",
                field="statement",
                code="REQUIRED",
            )
        moved = self._moved("accept", actor, at, Status.ACCEPTED, statement.strip())
        # A forwarded case: the first receiver's responsibility ends with this acceptance.
        moved = moved._stop_clocks("met", "accept", FIRST_RECEIVER)._start_clock(report_clock)
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
        interim_handler = check_decline(
            self,
            may_refuse=may_refuse,
            reasons=reasons,
            catalogue_basis=catalogue_basis,
            interim_handler=interim_handler,
            interim_handler_id=interim_handler_id,
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

    def forward(
        self,
        actor: Actor,
        at: datetime,
        *,
        may_forward: bool,
        to: AgencyRef | None,
        to_id: str,
        reasons: str,
        competence: Competence,
        accept_clock: DeadlineInfo | None,
        first_receiver_clock: DeadlineInfo,
    ) -> Referral:
        """R-REF-07, CQ 四(二): a receiver without jurisdiction passes the case at once to the
        agency that has it (对案件无管辖权的行政机关应当立即将案件移送有管辖权的行政机关) and
        stays responsible until that one accepts (首接负责): its own clock runs until then.
        One with jurisdiction may neither refuse nor pass it on (不得拒绝接受). Where the
        district gives no such route, nobody passes a case on (不得再行移送)."""
        self._require("forward", Status.SENT)
        to = check_forward(
            self,
            may_forward=may_forward,
            to=to,
            to_id=to_id,
            reasons=reasons,
            competence=competence,
        )
        first = self.first_receiver_id or self.receiver_id
        moved = self._moved(
            "forward", actor, at, Status.SENT, f"{self.receiver_id}→{to.id}：{reasons.strip()}"
        )
        moved = moved._stop_clocks("met", "accept")._stop_clocks("met", FIRST_RECEIVER)
        moved = replace(
            moved,
            receiver_id=to.id,
            previous_receivers=(*self.previous_receivers, self.receiver_id),
            first_receiver_id=first,
            competence=competence,
        )
        if accept_clock is not None:
            moved = moved._start_clock(accept_clock)
        return moved._start_clock(replace(first_receiver_clock, responsible_agency_id=first))

    def record_penalty(self, actor: Actor, at: datetime, penalty: Penalty) -> Referral:
        """The receiver's administrative penalty. Never while a crime transfer is pending
        (不得以罚代刑, R-REF-10)."""
        if self.status is Status.CRIME_PENDING:
            raise InvalidState(
                "a suspected crime is with public security; an administrative penalty cannot "
                "replace the criminal route (不得以罚代刑, R-REF-10)",
                field="status",
                code="CRIME_ROUTE_PENDING",
            )
        self._require("record a penalty on", Status.ACCEPTED)
        if not penalty.decision_number.strip():
            raise ValidationFailed(
                "the penalty decision number is missing", field="decisionNumber", code="REQUIRED"
            )
        if penalty.fine_yuan is not None and penalty.fine_yuan < 0:
            raise ValidationFailed(
                "a fine cannot be negative", field="fineYuan", code="OUT_OF_RANGE"
            )
        moved = self._recorded("record_penalty", actor, at, penalty.decision_number)
        return replace(moved, penalty=penalty)

    def mark_handled(self, actor: Actor, at: datetime, summary: str) -> Referral:
        self._require("mark handled", Status.ACCEPTED)
        if not summary.strip():
            raise ValidationFailed(
                "describe how the case was handled", field="summary", code="REQUIRED"
            )
        moved = self._moved("handle", actor, at, Status.HANDLED, summary.strip())
        return replace(moved, handling_summary=summary.strip())

    def report_result(self, actor: Actor, at: datetime, result: str) -> Referral:
        """R-REF-08: the receiver reports the handling result back (处理结果通报)."""
        self._require("report the result of", Status.HANDLED)
        if not result.strip():
            raise ValidationFailed(
                "the handling result is missing", field="result", code="REQUIRED"
            )
        moved = self._moved("report_result", actor, at, Status.RESULT_REPORTED, result.strip())
        return replace(moved._stop_clocks("met", "report"), result=result.strip())

    def close(self, actor: Actor, at: datetime) -> Referral:
        """The sender acknowledges the reported result and closes the file."""
        self._require("close", Status.RESULT_REPORTED)
        return self._moved("close", actor, at, Status.CLOSED)

    def supervise(
        self, actor: Actor, at: datetime, note: str, clock: DeadlineInfo | None = None
    ) -> Referral:
        """R-REF-13: the government or its delegate supervises (督办) a lingering case."""
        return open_supervision(self, actor, at, note, clock)

    def answer_supervision(self, actor: Actor, at: datetime, answer: str) -> Referral:
        """R-REF-13: the receiver answers the pending 督办 in writing; its clock stops."""
        return answer_open_supervision(self, actor, at, answer)

    def owned_by_dispute(self, dispute_id: str) -> Referral | None:
        """R-REF-07 → R-DSP-01: the dispute coordination opened for this declined referral
        now answers for it (its step clock runs there). None: nothing to record (already
        recorded, or the referral no longer waits on a dispute)."""
        if self.status is not Status.DECLINED or self.dispute_id == dispute_id:
            return None
        return replace(self, dispute_id=dispute_id)

    # -- suspected crime (R-REF-10, R-REF-14): referral.domain.model.crime -------------

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
