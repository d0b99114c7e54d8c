"""The bulk move of a department's open referrals at delegation (R-REF-11)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from kernel.graphql import UserError, guard
from referral.application import commands as c
from referral.entrypoints.graphql.context import Info
from referral.entrypoints.graphql.types import (
    DelegationTransferReport,
    DelegationTransferResult,
    StayedReferral,
)


async def transfer_referrals_at_delegation(
    info: Info,
    department_id: Annotated[
        strawberry.ID, strawberry.argument(description="the department that held the power")
    ],
    matter_code: Annotated[str, strawberry.argument(description="the matter delegated")],
    township_id: Annotated[
        strawberry.ID, strawberry.argument(description="the township that receives it")
    ],
    basis: Annotated[str, strawberry.argument(description="the delegation decision or agreement")],
) -> DelegationTransferResult:
    cmd = c.TransferAtDelegation(str(department_id), matter_code, str(township_id), basis)
    report = await guard(info.context.handlers.delegation.transfer(cmd, info.context.caller()))
    if isinstance(report, UserError):
        return report
    return DelegationTransferReport(
        moved=[strawberry.ID(i) for i in report.moved],
        stayed=[StayedReferral(referral_id=strawberry.ID(i), reason=w) for i, w in report.stayed],
    )
