"""What the duty modules of the graph share: the domain enums exposed with every value
described, the list arguments, and :class:`DutyNode`: one way to read, page and answer a
duty's node (each duty names its handlers and how a record becomes its node)."""

from __future__ import annotations

import types
from typing import Annotated, Any, ClassVar

import strawberry

from coordination.domain import correction as cor
from coordination.domain import joint_ruling as jr
from coordination.domain import onsite as ons
from coordination.domain import participation as par
from coordination.entrypoints.graphql.types import HandledNode, Info
from kernel.graphql import (
    AfterArg,
    Connection,
    Edge,
    FirstArg,
    PageInfo,
    expose_enum,
    page_size,
    paginate,
)

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


IdArgument = Annotated[
    strawberry.ID, strawberry.argument(description="the record's id (its `id` field)")
]
AgencyFilter = Annotated[
    strawberry.ID | None, strawberry.argument(description="only those this agency takes part in")
]
PageSize = FirstArg
AfterCursor = AfterArg


class DutyNode(HandledNode):
    """A duty's node in the graph (:class:`HandledNode`): ``duty`` names its handlers in
    ``info.context.duties`` (each has ``visible`` and ``list_visible``), and :func:`paged`
    gives it its edge and connection."""

    duty: ClassVar[str]
    edge_type: ClassVar[type[Any]]
    connection_type: ClassVar[type[Any]]
    id_argument = IdArgument

    @classmethod
    def handlers(cls, info: Info) -> Any:
        return getattr(info.context.duties, cls.duty)

    @classmethod
    async def page(
        cls, info: Info, agency_id: strawberry.ID | None, first: int, after: str | None
    ) -> Any:
        """A page of the duty's records the caller may see (those of ``agency_id``)."""
        first = page_size(first)
        handlers, of = cls.handlers(info), str(agency_id) if agency_id else None
        caller = info.context.caller()
        rows = await handlers.list_visible(
            agency_id=of, after=after, limit=first + 1, caller=caller
        )
        return paginate(
            rows,
            first,
            cursor=lambda r: r.id,
            node=lambda r: cls.of(r, info),
            connection=cls.connection_type,
            edge=cls.edge_type,
            after=after,
            count=lambda: handlers.count_visible(agency_id=of, caller=caller),
        )

    @classmethod
    def list_field(cls, description: str) -> Any:
        """The root field listing the records the caller may see, a page at a time."""

        async def page(
            info: Info,
            agency_id: AgencyFilter = None,
            first: PageSize = 50,
            after: AfterCursor = None,
        ) -> Any:
            return await cls.page(info, agency_id, first, after)

        return strawberry.field(
            resolver=page, description=description, graphql_type=cls.connection_type
        )


def paged(node: type[DutyNode], one: str, many: str) -> type[Any]:
    """The edge and connection of a duty's list, described in the duty's words (``one``:
    "correction opinion", ``many``: "Correction opinions"), kept on the node; returns the
    connection (``XConnection``, its edges ``XEdge``)."""
    name = node.__name__

    def edge_body(ns: dict[str, Any]) -> None:
        ns["__annotations__"] = {"cursor": str, "node": node}
        ns["cursor"] = strawberry.field(description="resume after this one")
        ns["node"] = strawberry.field(description=f"the {one}")

    edge = strawberry.type(
        types.new_class(f"{name}Edge", (Edge[node],), exec_body=edge_body),  # type: ignore[valid-type]
        description=f"One {one} of a list and the cursor to resume after it.",
    )

    def connection_body(ns: dict[str, Any]) -> None:
        ns["__annotations__"] = {"edges": list[edge], "page_info": PageInfo}  # type: ignore[valid-type]
        ns["edges"] = strawberry.field(description=f"the {one}s of this page, in list order")
        ns["page_info"] = strawberry.field(description="whether more follow, and from where")

    connection = strawberry.type(
        types.new_class(f"{name}Connection", (Connection[node],), exec_body=connection_body),  # type: ignore[valid-type]
        description=f"{many}, a page at a time (Relay connection).",
    )
    node.edge_type, node.connection_type = edge, connection
    return connection
