"""A command's outcome as the graph returns it: the changed aggregate, or a UserError."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import strawberry

from kernel.caller import Caller
from kernel.graphql import UserError, guard
from referral.application.crime import CrimeHandlers
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


#: The ``id`` argument of a mutation on one referral.
ReferralId = Annotated[strawberry.ID, strawberry.argument(description="the referral's id (移送)")]


async def crime_result(
    info: Info, act: Callable[[CrimeHandlers, Caller], Awaitable[ReferralModel]]
) -> Referral | UserError:
    """A crime-route command (``act``: given the crime handlers and the caller) as the graph
    returns it."""
    return await referral_result(info, act(info.context.handlers.crime, info.context.caller()))
