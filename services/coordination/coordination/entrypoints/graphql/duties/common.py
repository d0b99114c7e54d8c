"""What the duty modules of the graph share: the domain enums exposed with every value
described, and one way to page a list of a duty."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry

from coordination.domain import correction as cor
from coordination.domain import joint_ruling as jr
from coordination.domain import onsite as ons
from coordination.domain import participation as par
from coordination.entrypoints.graphql.types import (
    Info,
)
from kernel.graphql import expose_enum, page_size, paginate

_enum = expose_enum


_enum(
    ons.OnSiteSituation,
    "OnSiteSituation",
    "What the receiver is told of (R-REF-15)",
    {
        "urgent_case": "an urgent case (情况紧急, SL 三(四))",
        "hazard": "a hazard (重大治安、安全隐患, HL 四(四))",
    },
)
_enum(
    ons.OnSiteStatus,
    "OnSiteStatus",
    "Where an on-site request stands",
    {
        "notified": "told; staff due on site at once",
        "dispatched": "staff sent",
        "arrived": "staff on site",
        "handled": "the handling recorded",
        "explained": "the receiver gave its reason for sending no staff (说明理由)",
    },
)
_enum(
    cor.Finding,
    "CorrectionFinding",
    "What the department found (R-NTF-05)",
    {"error": "enforcement in error (执法错误)", "unlawful": "unlawful enforcement (违法执法)"},
)
_enum(
    cor.CorrectionStatus,
    "CorrectionStatus",
    "Where a correction opinion stands",
    {"issued": "awaiting the township's reply", "responded": "the township replied"},
)
_enum(
    par.ParticipationPurpose,
    "ParticipationPurpose",
    "What the township is to take part in (FY (三)2)",
    {
        "inspection": "a special inspection (专项监督检查)",
        "approval": "an administrative approval (行政审批)",
        "confirmation": "an administrative confirmation (行政确认)",
    },
)
_enum(
    par.ParticipationStatus,
    "ParticipationStatus",
    "Where a participation notice stands",
    {
        "phoned": "phoned in an emergency; the writing still to follow",
        "notified": "the written notice given",
        "confirmed": "the township confirmed who takes part",
    },
)
_enum(
    jr.FailureSource,
    "JointRulingSource",
    "What a responsible unit did not carry out (R-SUP-04)",
    {
        "dispute_ruling": "a jurisdiction dispute's ruling (R-DSP-03)",
        "joint_task": "a joint enforcement task (R-JNT-04)",
    },
)
_enum(
    jr.JointRulingStatus,
    "JointRulingStatus",
    "Where a joint ruling stands",
    {"started": "started; the platform's ruling is due", "ruled": "ruled"},
)

OnSiteSituation = ons.OnSiteSituation
OnSiteStatus = ons.OnSiteStatus
CorrectionFinding = cor.Finding
CorrectionStatus = cor.CorrectionStatus
ParticipationPurpose = par.ParticipationPurpose
ParticipationStatus = par.ParticipationStatus
JointRulingSource = jr.FailureSource
JointRulingStatus = jr.JointRulingStatus


async def _list(
    handlers: Any,
    info: Info,
    agency_id: strawberry.ID | None,
    first: int,
    after: str | None,
    node: Callable[[Any], Any],
    types: tuple[type[Any], type[Any]],
) -> Any:
    first = page_size(first)
    rows = await handlers.list_visible(
        agency_id=str(agency_id) if agency_id else None,
        after=after,
        limit=first + 1,
        caller=info.context.caller(),
    )
    conn, edge = types
    return paginate(
        rows, first, cursor=lambda r: r.id, node=node, connection=conn, edge=edge, after=after
    )
