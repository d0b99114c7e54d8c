"""Joint ruling and clue transfer (联合裁定 / 移交线索, R-SUP-04; HC #11).

When a responsible unit fails or refuses to carry out a ruling or a task (责任单位落实不力或
拒不落实的) — a ruled jurisdiction dispute its responsible agency does not act on, a joint task
whose written inability was rejected or whose report is overdue — the platform (区级综合执法
平台, the coordination body) starts a joint ruling (启动联合裁定程序) and may pass the clues to
the discipline commission and the organisation department (向纪委监委、组织部移交线索). Only
the platform does either. The ruling is due within the policy's limit (no seed fixes one).

Pure Python: no I/O. The application layer checks the source (dispute, joint task) and hands
in the clock.
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
from coordination.domain.errors import InvalidState

DECIDE = "joint_ruling.decide"


class FailureSource(StrEnum):
    DISPUTE_RULING = "dispute_ruling"  # a ruled dispute (R-DSP-03) not carried out
    JOINT_TASK = "joint_task"  # a joint task refused or not done (R-JNT-04)


class JointRulingStatus(StrEnum):
    STARTED = "started"
    RULED = "ruled"


@dataclass(frozen=True)
class CluesTransfer:
    """Clues passed to the discipline commission or the organisation department."""

    recipient_id: str
    clues: str
    transferred_by: str
    transferred_at: datetime


@dataclass(frozen=True)
class JointRuling(RecordsTransitions):
    id: str
    platform_id: str
    responsible_agency_id: str
    source: FailureSource
    source_id: str
    task_id: str | None
    failure: str
    participant_ids: tuple[str, ...]
    status: JointRulingStatus
    started_at: datetime
    decision: str = ""
    basis: str = ""
    ruled_at: datetime | None = None
    transfers: tuple[CluesTransfer, ...] = ()
    clocks: tuple[Clock, ...] = ()
    history: tuple[Transition, ...] = ()
    version: int = 0

    def rule(self, *, decision: str, basis: str, actor: Actor, at: datetime) -> JointRuling:
        require_agency(actor, self.platform_id, "the platform that started it rules")
        if self.status is not JointRulingStatus.STARTED:
            raise InvalidState(
                "the joint ruling was already made", field="status", code="ALREADY_DONE"
            )
        text = require_text(decision, "state the ruling (裁定结论)", "decision")
        ground = require_text(basis, "name the ruling's document or minutes (文号)", "basis")
        return replace(
            self,
            status=JointRulingStatus.RULED,
            decision=text,
            basis=ground,
            ruled_at=at,
            clocks=meet(self.clocks, DECIDE),
            history=self._record("rule", actor, at, JointRulingStatus.RULED, ground),
        )

    def transfer_clues(
        self, recipient_id: str, clues: str, *, actor: Actor, at: datetime
    ) -> JointRuling:
        """Pass the clues to one recipient (the application checks its kind); once each."""
        require_agency(actor, self.platform_id, "the platform that started it passes clues")
        if any(t.recipient_id == recipient_id for t in self.transfers):
            raise InvalidState(
                "the clues were already passed to this agency",
                field="recipientId",
                code="ALREADY_DONE",
            )
        text = require_text(clues, "state the clues passed on (问题线索)", "clues")
        return replace(
            self,
            transfers=(*self.transfers, CluesTransfer(recipient_id, text, actor.person_id, at)),
            history=self._record("transfer_clues", actor, at, self.status, recipient_id),
        )


def start_joint_ruling(
    *,
    ruling_id: str,
    platform_id: str,
    responsible_agency_id: str,
    source: FailureSource,
    source_id: str,
    task_id: str | None,
    failure: str,
    participant_ids: tuple[str, ...],
    decide_clock: Clock,
    actor: Actor,
    at: datetime,
) -> JointRuling:
    require_agency(actor, platform_id, "the platform starts a joint ruling in its own name")
    require_other(
        platform_id,
        responsible_agency_id,
        "the platform does not rule on itself",
        "responsibleAgencyId",
    )
    text = require_text(failure, "state what was not carried out (落实不力或拒不落实)", "failure")
    participants = tuple(
        dict.fromkeys(
            p for p in participant_ids if p and p not in (platform_id, responsible_agency_id)
        )
    )
    return JointRuling(
        id=ruling_id,
        platform_id=platform_id,
        responsible_agency_id=responsible_agency_id,
        source=source,
        source_id=source_id,
        task_id=task_id,
        failure=text,
        participant_ids=participants,
        status=JointRulingStatus.STARTED,
        started_at=at,
        clocks=(decide_clock,),
        history=JointRuling._opened(
            "start", actor, at, JointRulingStatus.STARTED, f"{source.value}:{source_id}"
        ),
    )
