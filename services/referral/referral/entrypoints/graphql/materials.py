"""Mutations of a draft's materials and its transfer letter (移送函, R-REF-02). Contents are
uploaded and downloaded over HTTP (entrypoints/http/files.py)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from kernel.graphql import INPUT, IdArg
from referral.application import commands as c
from referral.domain.model import Referral as ReferralModel
from referral.entrypoints.graphql.context import Info
from referral.entrypoints.graphql.inputs import MaterialInput
from referral.entrypoints.graphql.results import referral_result
from referral.entrypoints.graphql.types import ReferralResult


async def add_referral_material(
    info: Info, id: IdArg, input: Annotated[MaterialInput, INPUT]
) -> ReferralResult:
    cmd = c.AddMaterial(str(id), input.kind, input.name, input.media_type, input.size, input.sha256)
    h = info.context.handlers.materials
    return await referral_result(info, h.add(cmd, info.context.caller()))


async def generate_transfer_letter(info: Info, id: IdArg) -> ReferralResult:
    h = info.context.handlers.materials
    caller = info.context.caller()

    async def generated() -> ReferralModel:
        referral, _ = await h.generate_transfer_letter(c.GenerateTransferLetter(str(id)), caller)
        return referral

    return await referral_result(info, generated())


async def remove_referral_material(
    info: Info,
    id: IdArg,
    material_id: Annotated[strawberry.ID, strawberry.argument(description="the material removed")],
) -> ReferralResult:
    h = info.context.handlers.materials
    return await referral_result(
        info, h.remove(c.RemoveMaterial(str(id), str(material_id)), info.context.caller())
    )
