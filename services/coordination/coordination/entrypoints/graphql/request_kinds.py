"""What the graph of the three kinds of cooperation request shares: assistance (协助执法,
assistance.py), technical support (技术支撑, technical.py) and information queries (信息查询,
information.py). :class:`RequestNode` reads one request by id, pages a list of them, resolves
a reference from another subgraph and makes a mutation's result (the last three as every
:class:`types.HandledNode` does), each kind naming its handlers (in ``info.context``), the
time its list is ordered by and how a domain request becomes its node. :func:`request_filter`
and :func:`request_result` make a kind's list filter and its mutations' ``Result`` union,
described as every kind describes them."""

from __future__ import annotations

import types
from enum import Enum
from typing import Annotated, Any, ClassVar, cast

import strawberry

from coordination.entrypoints.graphql.types import (
    AfterArg,
    AgencyIdArg,
    FirstArg,
    HandledNode,
    Info,
    OrderArg,
    RequestListFilter,
    list_query,
    time_connection,
)
from kernel.graphql import Connection, ListOrder, UserError, page_size


class RequestNode(HandledNode):
    """A kind of request in the graph. ``handlers_of`` names its handlers in
    ``info.context`` (each has ``visible``, ``list_visible`` and ``count_visible``, see
    ``application.cooperation._RequestHandlers``), ``listed_by`` the time its list is
    ordered by."""

    handlers_of: ClassVar[str]
    listed_by: ClassVar[str] = "requested_at"

    @classmethod
    def handlers(cls, info: Info) -> Any:
        return getattr(info.context, cls.handlers_of)

    @classmethod
    def list_field(cls, description: str, wanted: type[RequestListFilter]) -> Any:
        """The root field listing the requests the caller may see (its own agency's unless
        its role supervises), newest first by ``listed_by``; ``wanted`` is the list's filter."""

        async def page(
            info: Info,
            agency_id: AgencyIdArg = None,
            first: FirstArg = 50,
            after: AfterArg = None,
            filter: Any = None,
            order_by: OrderArg = ListOrder.NEWEST_FIRST,
        ) -> Any:
            caller = info.context.caller()
            first = page_size(first)
            q = list_query(agency_id, filter, order_by, after)
            handlers = cls.handlers(info)
            rows = await handlers.list_visible(q, limit=first + 1, caller=caller)
            return time_connection(
                rows,
                first,
                at=lambda r: getattr(r, cls.listed_by),
                node=lambda r: cls.of(r, info),
                after=after,
                count=lambda: handlers.count_visible(q, caller=caller),
            )

        page.__annotations__["filter"] = Annotated[
            wanted | None,
            strawberry.argument(description="statuses, sent or received, time range"),
        ]
        return strawberry.field(
            resolver=page,
            description=description,
            graphql_type=Connection[cls],  # type: ignore[valid-type]
        )


def request_filter(node: type[RequestNode], statuses: type[Enum]) -> type[RequestListFilter]:
    """The filter input of a kind's list (``XFilter``): the statuses of its own enum, with
    the sides and the time range every request list takes."""
    name = node.__name__

    def body(ns: dict[str, Any]) -> None:
        ns["__annotations__"] = {"statuses": list[statuses] | None}  # type: ignore[valid-type]
        ns["statuses"] = strawberry.field(
            default=None, description="only those in any of these statuses"
        )

    made = types.new_class(f"{name}Filter", (RequestListFilter,), exec_body=body)
    return cast(
        type[RequestListFilter],
        strawberry.input(
            made, description=f"What a list of {name}s shows; all optional, combined."
        ),
    )


def request_result(node: type[Any]) -> Any:
    """The ``XResult`` union a kind's mutations answer: the node as it is now, or the
    ``UserError`` that refused the mutation."""
    name = node.__name__
    return Annotated[
        node | UserError,
        strawberry.union(
            f"{name}Result",
            description=f"What the mutation answers: the {name} as it is now, or the "
            "UserError that refused it (nothing was changed).",
        ),
    ]
