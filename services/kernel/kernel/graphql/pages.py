"""Lists as Relay connections: one generic ``Connection[T]`` / ``Edge[T]``, one page-size
clamp, one ``paginate()``, and the cursors that resume a list."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any, Generic, TypeVar

import strawberry

from kernel.graphql.errors import ErrorCode, graphql_error


@strawberry.federation.type(
    shareable=True, description="Where a page of a list stands (the Relay connection spec)."
)
class PageInfo:
    has_next_page: bool = strawberry.field(description="more items follow this page")
    end_cursor: str | None = strawberry.field(
        description="the cursor of the page's last item (pass it as `after`); null when empty"
    )
    has_previous_page: bool = strawberry.field(
        default=False,
        description="items come before this page (true when it was asked for `after` a cursor)",
    )
    start_cursor: str | None = strawberry.field(
        default=None, description="the cursor of the page's first item; null when empty"
    )


N = TypeVar("N")
M = TypeVar("M")

#: The largest page any list of the graph returns; a larger ``first`` is clamped to it.
MAX_PAGE_SIZE = 200


@strawberry.type(description="One item of a list, with the cursor to resume after it.")
class Edge(Generic[N]):
    """One node of a list and the cursor to resume after it. Strawberry names the
    specialised type after its node: ``Edge[Referral]`` is ``ReferralEdge``."""

    cursor: str = strawberry.field(description="pass it as `after` for the items after this one")
    node: N = strawberry.field(description="the item")


@strawberry.type(description="A page of a list (a Relay connection).")
class Connection(Generic[N]):
    """A Relay connection; ``Connection[Referral]`` is ``ReferralConnection``.

    ``count`` (not in the schema) counts the whole list when a client asks for
    ``totalCount``: a list that passes it to :func:`paginate` answers with the count, counted
    only when selected; the others answer null."""

    edges: list[Edge[N]] = strawberry.field(description="the page's items, in the list's order")
    page_info: PageInfo = strawberry.field(description="where this page stands in the list")
    count: strawberry.Private[Callable[[], Awaitable[int]] | None] = None

    @strawberry.field(  # type: ignore[untyped-decorator]  # an async method of a generic type
        description="how many items the list's filter matches, all pages together (null "
        "where the list is not counted)"
    )
    async def total_count(self) -> int | None:
        return await self.count() if self.count is not None else None


@strawberry.enum(description="Which way a list runs through its time (its `orderBy`).")
class ListOrder(Enum):
    OLDEST_FIRST = strawberry.enum_value(
        "oldest_first", description="earliest time first (ties by id)"
    )
    NEWEST_FIRST = strawberry.enum_value(
        "newest_first", description="latest time first (ties by id)"
    )

    @property
    def descending(self) -> bool:
        return self is ListOrder.NEWEST_FIRST


#: The arguments every list shares, described once.
FirstArg = Annotated[int, strawberry.argument(description="page size (at most 200)")]
AfterArg = Annotated[
    str | None, strawberry.argument(description="the cursor to continue after (endCursor)")
]


def page_size(first: int) -> int:
    """``first`` clamped to 1 … ``MAX_PAGE_SIZE``: a list never answers with nothing because a
    client asked for 0, nor with everything because it asked for a million."""
    return max(1, min(first, MAX_PAGE_SIZE))


def paginate(
    rows: Sequence[M],
    first: int,
    *,
    cursor: Callable[[M], str],
    node: Callable[[M], Any],
    connection: type[Any] = Connection,
    edge: type[Any] = Edge,
    after: str | None = None,
    **extra: Any,
) -> Any:
    """The connection of the first ``first`` of ``rows``: the store was asked for
    ``first + 1`` so that the extra row tells whether there is a next page.

    ``connection`` / ``edge`` name specialised subclasses where a list's types keep a
    historic name (e.g. ``InboxConnection`` of ``InboxItem``); ``after`` is the cursor the
    page was asked for (items come before it); ``extra`` are the connection's own fields
    (e.g. ``total_count``)."""
    page = rows[:first]
    return connection(
        edges=[edge(cursor=cursor(r), node=node(r)) for r in page],
        page_info=PageInfo(
            has_next_page=len(rows) > first,
            end_cursor=cursor(page[-1]) if page else None,
            has_previous_page=after is not None,
            start_cursor=cursor(page[0]) if page else None,
        ),
        **extra,
    )


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode()


def keyset_cursor(value: datetime, item_id: str) -> str:
    """The cursor of an item in a list ordered by ``value`` then id (``kernel.keyset``)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return encode_cursor([value.astimezone(UTC).isoformat(), item_id])


def decode_keyset_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    """The ``(time, id)`` position a :func:`keyset_cursor` names; None for no cursor; a
    GraphQL error VALIDATION_FAILED for one that is not such a cursor."""
    if not cursor:
        return None
    values = decode_cursor(cursor)
    if len(values) != 2 or not all(isinstance(v, str) for v in values):
        raise graphql_error(f"invalid cursor {cursor!r}", ErrorCode.VALIDATION)
    try:
        return datetime.fromisoformat(values[0]), values[1]
    except ValueError as exc:
        raise graphql_error(f"invalid cursor {cursor!r}", ErrorCode.VALIDATION) from exc


def decode_cursor(cursor: str) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise graphql_error(f"invalid cursor {cursor!r}", ErrorCode.VALIDATION) from exc
    if not isinstance(values, list):
        raise graphql_error(f"invalid cursor {cursor!r}", ErrorCode.VALIDATION)
    return values
