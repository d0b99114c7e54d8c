"""``viewerCan`` and ``availableActions``: the kernel's dry runs
(:func:`kernel.actions.try_actions`) as the graph reports them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import strawberry

from kernel.actions import ActionCheck
from kernel.graphql.errors import UserError, user_error


@strawberry.federation.type(
    shareable=True, description="Whether you may run one mutation on this object now."
)
class ViewerCan:
    action: str = strawberry.field(description="the mutation's name, e.g. acceptReferral")
    allowed: bool = strawberry.field(description="it would succeed now")
    refusal: UserError | None = strawberry.field(
        description="what it would answer otherwise (code, Chinese message, field)"
    )


def viewer_can_of(checks: Sequence[ActionCheck]) -> list[ViewerCan]:
    """The dry runs of :func:`kernel.actions.try_actions` as the graph reports them."""
    return [
        ViewerCan(
            action=check.action,
            allowed=check.allowed,
            refusal=user_error(check.refusal) if check.refusal else None,
        )
        for check in checks
    ]


def allowed_actions(checks: Sequence[ActionCheck]) -> list[str]:
    """The names of the mutations the dry runs let through (``availableActions``)."""
    return [check.action for check in checks if check.allowed]


#: The dry runs of one object's mutations for the caller: ``(info, object id) → checks``.
ActionChecks = Callable[[Any, str], Awaitable[Sequence[ActionCheck]]]


def action_fields(checks: ActionChecks, noun: str) -> tuple[Any, Any]:
    """The ``viewerCan`` and ``availableActions`` fields of an object type with an ``id``,
    from ``checks`` (e.g. ``viewer_can, available_actions = action_fields(..., "meeting")``
    in the type's body)."""

    async def viewer_can(root: Any, info: strawberry.Info) -> list[ViewerCan]:
        return viewer_can_of(await checks(info, str(root.id)))

    async def available_actions(root: Any, info: strawberry.Info) -> list[str]:
        return allowed_actions(await checks(info, str(root.id)))

    return (
        strawberry.field(
            resolver=viewer_can,
            description=f"What you may do to this {noun} now (issue 18): each mutation tried "
            "as a dry run by its own handler (the authorization matrix and the state rules "
            "the server enforces), with the refusal it would answer. Ask it of one object at "
            "a time.",
        ),
        strawberry.field(
            resolver=available_actions,
            description="The mutations of `viewerCan` you may run now, by name: offer these "
            "buttons, no others.",
        ),
    )
