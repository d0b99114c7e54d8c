"""Joint rulings and clue transfer (联合裁定 / 移交线索, R-SUP-04) in the
graph."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

import strawberry

from coordination.application import duties as d
from coordination.domain import joint_ruling as jr
from coordination.entrypoints.graphql.duties.common import (
    DutyNode,
    JointRulingSource,
    JointRulingStatus,
    paged,
)
from coordination.entrypoints.graphql.types import (
    CooperationDeadline,
    CooperationTransition,
    Info,
    agency_field,
    clocks_and_history,
)
from kernel.graphql import INPUT, UserError, mirrored


@strawberry.type(
    description="Clues passed to the discipline commission or the organisation "
    "department (移交线索)."
)
class CluesTransfer:
    recipient_id: strawberry.ID = strawberry.field(
        description="the discipline commission or organisation department"
    )
    clues: str = strawberry.field(description="the clues passed on (问题线索)")
    transferred_by: str = strawberry.field(description="who passed them (person)")
    transferred_at: datetime = strawberry.field(description="when they were passed on (+08:00)")

    recipient = agency_field("recipient_id", "the agency given the clues")


@strawberry.federation.type(
    keys=["id"],
    description="The platform's joint ruling (联合裁定) on a unit that failed or refused to "
    "carry out a ruling or task (R-SUP-04).",
)
class JointRuling(DutyNode):
    duty = "joint_rulings"

    id: strawberry.ID = strawberry.field(description="the joint ruling's id")
    platform_id: strawberry.ID = strawberry.field(
        description="the platform (coordination body) that rules"
    )
    responsible_agency_id: strawberry.ID = strawberry.field(
        description="the unit that failed or refused to carry out a ruling or task"
    )
    source: JointRulingSource = strawberry.field(
        description="what was not carried out: a dispute ruling or a joint task"
    )
    source_id: strawberry.ID = strawberry.field(
        description="the ruled dispute, or the joint operation holding the task"
    )
    task_id: strawberry.ID | None = strawberry.field(
        description="the joint task, when the source is one"
    )
    failure: str = strawberry.field(description="what was not carried out (落实不力或拒不落实)")
    participant_ids: list[strawberry.ID] = strawberry.field(
        description="agencies taking part in the joint ruling"
    )
    status: JointRulingStatus = strawberry.field(description="where it stands")
    started_at: datetime = strawberry.field(description="when the joint ruling started")
    decision: str = strawberry.field(description="the ruling (裁定结论)")
    basis: str = strawberry.field(description="the ruling's document or minutes (文号)")
    ruled_at: datetime | None = strawberry.field(description="when it was ruled")
    transfers: list[CluesTransfer] = strawberry.field(description="clues passed on so far")
    deadlines: list[CooperationDeadline] = strawberry.field(description="its statutory clocks")
    history: list[CooperationTransition] = strawberry.field(
        description="every recorded action (R-SUP-01)"
    )

    responsible_agency = agency_field("responsible_agency_id", "the unit that failed or refused")

    @classmethod
    def of(cls, r: jr.JointRuling, info: Info) -> Self:
        return mirrored(
            cls,
            r,
            transfers=[mirrored(CluesTransfer, t) for t in r.transfers],
            **clocks_and_history(r, info),
        )


JointRulingConnection = paged(JointRuling, "joint ruling", "Joint rulings")


JointRulingResult = Annotated[
    JointRuling | UserError,
    strawberry.union(
        "JointRulingResult", description="The joint ruling, or why the command was refused"
    ),
]


@strawberry.input(description="R-SUP-04: what the platform rules on")
class StartJointRulingInput:
    platform_id: strawberry.ID = strawberry.field(description="the coordination body (平台)")
    responsible_agency_id: strawberry.ID = strawberry.field(
        description="the unit that failed or refused to carry out a ruling or task"
    )
    source: JointRulingSource = strawberry.field(
        description="what was not carried out: a dispute ruling or a joint task"
    )
    source_id: strawberry.ID = strawberry.field(
        description="the ruled dispute, or the joint operation holding the task"
    )
    failure: str = strawberry.field(description="落实不力或拒不落实的情况")
    task_id: strawberry.ID | None = strawberry.field(
        default=None, description="the joint task, when the source is one"
    )
    participant_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="agencies taking part in the joint ruling"
    )


@strawberry.type
class JointRulingQuery:
    joint_ruling = JointRuling.read_field("One joint ruling (parties and supervising roles).")
    joint_rulings = JointRuling.list_field(
        "Joint rulings you are a party to (all if you supervise)."
    )


@strawberry.type
class JointRulingMutation:
    @strawberry.mutation(
        description="R-SUP-04: the platform starts a joint ruling on a unit that failed or "
        "refused to carry out a ruling or task."
    )
    async def start_joint_ruling(
        self,
        info: Info,
        input: Annotated[StartJointRulingInput, INPUT],
    ) -> JointRulingResult:
        cmd = d.StartJointRuling(
            platform_id=str(input.platform_id),
            responsible_agency_id=str(input.responsible_agency_id),
            source=input.source.value,
            source_id=str(input.source_id),
            failure=input.failure,
            task_id=str(input.task_id) if input.task_id else None,
            participant_ids=tuple(str(p) for p in input.participant_ids),
        )
        return await JointRuling.result_of(info, lambda h, caller: h.start(cmd, caller))

    @strawberry.mutation(description="R-SUP-04: the joint ruling's decision.")
    async def rule_joint_ruling(
        self,
        info: Info,
        ruling_id: Annotated[strawberry.ID, strawberry.argument(description="the joint ruling")],
        decision: Annotated[str, strawberry.argument(description="the ruling (裁定结论)")],
        basis: Annotated[
            str, strawberry.argument(description="the ruling's document or minutes (文号)")
        ],
    ) -> JointRulingResult:
        return await JointRuling.result_of(
            info,
            lambda h, caller: h.rule(d.RuleJointRuling(str(ruling_id), decision, basis), caller),
        )

    @strawberry.mutation(
        description="R-SUP-04: pass the clues to the discipline commission or the "
        "organisation department (纪委监委 / 组织部)."
    )
    async def transfer_clues(
        self,
        info: Info,
        ruling_id: Annotated[strawberry.ID, strawberry.argument(description="the joint ruling")],
        recipient_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="the discipline commission or organisation department"),
        ],
        clues: Annotated[str, strawberry.argument(description="the clues passed on (问题线索)")],
    ) -> JointRulingResult:
        return await JointRuling.result_of(
            info,
            lambda h, caller: h.transfer_clues(
                d.TransferClues(str(ruling_id), str(recipient_id), clues), caller
            ),
        )
