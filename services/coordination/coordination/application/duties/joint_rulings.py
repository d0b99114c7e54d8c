"""The platform's joint ruling and clue transfer (联合裁定 / 移交线索, R-SUP-04): the
command handlers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from coordination.adapters.duties import (
    JointRulingRepository,
)
from coordination.adapters.joint import JointOperationRepository
from coordination.adapters.repository import DisputeRepository
from coordination.application import access
from coordination.application.actors import acting
from coordination.application.duties.base import (
    CLUE_RECIPIENT_KINDS,
    _DutyHandlers,
)
from coordination.contracts.duties import (
    CluesTransferredV1,
    JointRulingRuledV1,
    JointRulingStartedV1,
)
from coordination.domain import joint_ruling as jr
from coordination.domain.cooperation import Actor
from coordination.domain.dispute import DisputeStatus
from coordination.domain.joint import TaskStatus
from coordination.domain.model import AgencyKind
from coordination.policy import policy_of
from kernel.authz import Relation
from kernel.caller import Caller
from kernel.errors import InvalidState, NotFound, ValidationFailed

# ------------------------------------------------------- R-SUP-04 joint ruling, clues


@dataclass(frozen=True)
class StartJointRuling:
    platform_id: str
    responsible_agency_id: str
    source: str  # dispute_ruling | joint_task
    source_id: str  # the dispute's id, or the joint operation's
    failure: str
    task_id: str | None = None
    participant_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleJointRuling:
    ruling_id: str
    decision: str
    basis: str


@dataclass(frozen=True)
class TransferClues:
    ruling_id: str
    recipient_id: str
    clues: str


class JointRulingHandlers(_DutyHandlers[jr.JointRuling]):
    read_operation = "jointRuling"
    noun = "joint ruling"
    subject_type = "JointRuling"

    def __init__(
        self,
        rulings: JointRulingRepository,
        disputes: DisputeRepository,
        operations: JointOperationRepository,
        *args: Any,
        **kw: Any,
    ) -> None:
        super().__init__(rulings, *args, **kw)
        self.rulings = rulings
        self.disputes = disputes
        self.operations = operations

    def _relations(self, actor: Actor, found: jr.JointRuling) -> set[Relation]:
        return access.relations_to(
            actor,
            sender=[found.platform_id],
            receiver=[found.responsible_agency_id],
            party=[*found.participant_ids, *(t.recipient_id for t in found.transfers)],
        )

    def _fields(self, record: jr.JointRuling) -> dict[str, Any]:
        return dict(
            ruling_id=record.id,
            platform_id=record.platform_id,
            responsible_agency_id=record.responsible_agency_id,
            participant_ids=list(record.participant_ids),
            source=record.source.value,
            source_id=record.source_id,
        )

    async def _check_failure(
        self, source: jr.FailureSource, cmd: StartJointRuling, now: datetime
    ) -> None:
        """The unit named is the one that failed: the ruled dispute's responsible agency, or
        the joint task's agency whose inability was rejected or whose report is overdue."""
        if source is jr.FailureSource.DISPUTE_RULING:
            dispute = await self.disputes.get(cmd.source_id)
            if dispute is None:
                raise NotFound(f"dispute {cmd.source_id!r} does not exist", field="sourceId")
            if dispute.status is not DisputeStatus.RULED or dispute.outcome is None:
                raise InvalidState(
                    "the dispute is not ruled yet: there is no ruling to carry out",
                    field="sourceId",
                )
            if dispute.outcome.responsible_agency_id != cmd.responsible_agency_id:
                raise ValidationFailed(
                    "the ruling made another agency responsible "
                    f"({dispute.outcome.responsible_agency_id})",
                    field="responsibleAgencyId",
                )
            return
        operation = await self.operations.get(cmd.source_id)
        if operation is None:
            raise NotFound(f"joint operation {cmd.source_id!r} does not exist", field="sourceId")
        task = next((t for t in operation.tasks if t.id == cmd.task_id), None)
        if task is None:
            raise NotFound(f"joint task {cmd.task_id!r} is not in the operation", field="taskId")
        if task.agency_id != cmd.responsible_agency_id:
            raise ValidationFailed(
                f"the task is assigned to {task.agency_id}", field="responsibleAgencyId"
            )
        overdue = task.status is TaskStatus.ASSIGNED and now > task.report_clock.due
        if task.status is not TaskStatus.INABILITY_REJECTED and not overdue:
            raise InvalidState(
                "the task was neither refused (inability rejected) nor left unreported past its "
                f"report clock ({task.status.value})",
                field="taskId",
            )

    async def start(self, cmd: StartJointRuling, caller: Caller) -> jr.JointRuling:
        """R-SUP-04: only the platform (coordination body) starts a joint ruling."""
        actor = acting(caller)
        relations = access.relations_to(actor, sender=[cmd.platform_id])
        access.authorize_on(actor, "startJointRuling", relations, field="platformId")
        try:
            source = jr.FailureSource(cmd.source)
        except ValueError:
            raise ValidationFailed(
                f"unknown source {cmd.source!r}; one of dispute_ruling, joint_task",
                field="source",
            ) from None
        await self._external({"platformId": cmd.platform_id}, {AgencyKind.COORDINATION_BODY})
        participants = tuple(p for p in cmd.participant_ids if p)
        await self._external(
            {
                "responsibleAgencyId": cmd.responsible_agency_id,
                **{f"participantIds[{i}]": p for i, p in enumerate(participants)},
            }
        )
        now = self.clock()
        await self._check_failure(source, cmd, now)
        n = policy_of(self.policy).joint_ruling.decide_limit_working_days
        clock = self._clock(
            jr.DECIDE,
            cmd.platform_id,
            self.calendar.add_working_days(
                now, n, rule=f"联合裁定：{n}个工作日（区政策；HC #11 启动联合裁定程序）"
            ),
        )
        ruling = jr.start_joint_ruling(
            ruling_id=str(uuid.uuid4()),
            platform_id=cmd.platform_id,
            responsible_agency_id=cmd.responsible_agency_id,
            source=source,
            source_id=cmd.source_id,
            task_id=cmd.task_id if source is jr.FailureSource.JOINT_TASK else None,
            failure=cmd.failure,
            participant_ids=participants,
            decide_clock=clock,
            actor=actor,
            at=now,
        )
        payload = JointRulingStartedV1(
            **self._common(None, ruling, actor),
            task_id=ruling.task_id,
            failure=ruling.failure,
            started_at=now,
            deadlines=self._deadlines_of(ruling, jr.DECIDE),
        )
        return await self._added(ruling, payload, caller.correlation_id)

    async def rule(self, cmd: RuleJointRuling, caller: Caller) -> jr.JointRuling:
        return await self._recorded_step(
            cmd.ruling_id,
            "ruleJointRuling",
            caller,
            lambda r, actor, at: r.rule(decision=cmd.decision, basis=cmd.basis, actor=actor, at=at),
            lambda r, common, at: [
                JointRulingRuledV1(
                    **common,
                    decision=r.decision,
                    basis=r.basis,
                    ruled_at=at,
                    deadlines=self._deadlines_of(r, jr.DECIDE),
                )
            ],
        )

    async def transfer_clues(self, cmd: TransferClues, caller: Caller) -> jr.JointRuling:
        """R-SUP-04: to the discipline commission or the organisation department only."""

        async def move(r: jr.JointRuling, actor: Actor, at: datetime) -> jr.JointRuling:
            await self._external({"recipientId": cmd.recipient_id}, CLUE_RECIPIENT_KINDS)
            return r.transfer_clues(cmd.recipient_id, cmd.clues, actor=actor, at=at)

        return await self._recorded_step(
            cmd.ruling_id,
            "transferClues",
            caller,
            move,
            lambda r, common, at: [
                CluesTransferredV1(
                    **common,
                    recipient_id=cmd.recipient_id,
                    clues=r.transfers[-1].clues,
                    failure=r.failure,
                    transferred_at=at,
                )
            ],
        )
