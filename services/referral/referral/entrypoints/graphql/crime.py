"""Mutations of the crime route (R-REF-10)."""

from __future__ import annotations

import strawberry

from referral.application import commands as c
from referral.entrypoints.graphql.context import Info
from referral.entrypoints.graphql.results import referral_result
from referral.entrypoints.graphql.types import ReferralResult


async def transfer_referral_to_police(
    info: Info, id: strawberry.ID, police_id: strawberry.ID, reason: str
) -> ReferralResult:
    cmd = c.TransferToPolice(str(id), str(police_id), reason)
    h = info.context.handlers.crime
    return await referral_result(info, h.transfer_to_police(cmd, info.context.caller()))


async def record_police_decision(
    info: Info, id: strawberry.ID, filed: bool, note: str
) -> ReferralResult:
    cmd = c.RecordPoliceDecision(str(id), filed, note)
    h = info.context.handlers.crime
    return await referral_result(info, h.record_police_decision(cmd, info.context.caller()))
