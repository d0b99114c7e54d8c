"""A command's outcome as the graph returns it: the changed aggregate, or a UserError."""

from __future__ import annotations

from collections.abc import Awaitable

from kernel.graphql import UserError, guard
from referral.domain.complaint import Complaint as ComplaintModel
from referral.domain.model import Referral as ReferralModel
from referral.entrypoints.graphql.context import Info
from referral.entrypoints.graphql.types import Complaint, Referral, referral_view


async def referral_result(info: Info, action: Awaitable[ReferralModel]) -> Referral | UserError:
    result = await guard(action)
    return result if isinstance(result, UserError) else referral_view(info, result)


async def complaint_result(action: Awaitable[ComplaintModel]) -> Complaint | UserError:
    result = await guard(action)
    return result if isinstance(result, UserError) else Complaint.from_model(result)
