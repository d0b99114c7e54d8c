"""Descriptions of the elements every subgraph shares, where strawberry would leave them bare
or vague (issue 18: every type described). The root types: composition merges the subgraphs'
``Query``, ``Mutation`` and ``Subscription`` into the gateway's, and subgraphs that agree give
the public schema (gateway/api.graphql) one description of each. The ``Date`` and
``Decimal`` scalars: strawberry's own, serialized and parsed as strawberry does, described for
a client (``SCALARS``, taken by ``kernel.graphql.schema_config``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from strawberry.schema.types.base_scalars import DateDefinition, DecimalDefinition
from strawberry.types.scalar import ScalarDefinition

__all__ = ["MUTATION", "QUERY", "SCALARS", "SUBSCRIPTION"]

QUERY = (
    "Every read of the Liandong (联动) graph, one endpoint for the three services: referrals "
    "(移送) and complaints (投诉举报); agencies, the enforcement catalogue (事项清单), "
    "cooperation requests, meetings, disputes, joint operations, duties and dispatches; the "
    "inbox, the work queue and supervision. Each answers only what the caller may read (a "
    "list leaves the rest out)."
)
MUTATION = (
    "Every action of the Liandong graph. Each answers a result union: the object as it is "
    "after the action, or a `UserError` with a stable `errorCode` (nothing was changed). "
    "Which ones the caller may run now: `viewerCan` / `availableActions` on the objects that "
    "have them (referrals, requests, meetings, disputes)."
)
SUBSCRIPTION = (
    "Live updates through the gateway, each limited to what the caller may read: inbox items "
    "and work-queue changes of an agency, dispatches changing state. `workQueueChanged` "
    "resumes after a reconnect from the cursor of the last change received."
)

SCALARS: dict[object, ScalarDefinition] = {
    date: replace(
        DateDefinition,
        description="A calendar day in ISO 8601, YYYY-MM-DD (e.g. 2026-03-02): a day of the "
        "China calendar (Asia/Shanghai), with no time and no offset. Only deprecated elements "
        "use it: each has a String replacement holding the same YYYY-MM-DD (issue 18).",
    ),
    Decimal: replace(
        DecimalDefinition,
        description='An exact decimal number, answered as a string (e.g. "12.50") so no '
        "digit is lost; an input may be a string or a number. Only deprecated elements use it "
        "(money is integer fen, 分, on their replacements).",
    ),
}
