"""GraphQL plumbing shared by the subgraphs: the request context with the verified
principal, stable error codes, the typed user-error type, cursors, and schema extensions."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar
from zoneinfo import ZoneInfo

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, ParserCache, ValidationCache
from strawberry.fastapi import BaseContext
from strawberry.schema.config import StrawberryConfig

from kernel import schema_docs
from kernel.actions import ActionCheck
from kernel.auth import AuthError, Principal, TokenVerifier, accept_service_identity
from kernel.caller import Caller
from kernel.changes import ChangeSignal
from kernel.errors import CODES, DomainError
from kernel.store import StoreUnavailableError

__all__ = [
    "CHINA",
    "INPUT",
    "MAX_PAGE_SIZE",
    "AfterArg",
    "Connection",
    "Edge",
    "ErrorCode",
    "FirstArg",
    "IdArg",
    "ListOrder",
    "PageInfo",
    "RequestContext",
    "UserError",
    "UserErrorCode",
    "UserErrorProblem",
    "ViewerCan",
    "action_fields",
    "allowed_actions",
    "decode_cursor",
    "decode_keyset_cursor",
    "encode_cursor",
    "expose_enum",
    "follow",
    "graphql_error",
    "guard",
    "keyset_cursor",
    "link",
    "link_id",
    "page_size",
    "paginate",
    "parse_datetime",
    "schema_config",
    "schema_extensions",
    "serialize_datetime",
    "user_error",
    "viewer_can_of",
]


class ErrorCode:
    """Stable error codes clients branch on (``extensions.code`` or ``UserError.code``)."""

    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    VALIDATION = "VALIDATION_FAILED"
    CONFLICT = "CONFLICT"
    INVALID_STATE = "INVALID_STATE"
    WRONG_DISTRICT = "WRONG_DISTRICT"
    INTERNAL = "INTERNAL"
    UNAVAILABLE = "UNAVAILABLE"
    BAD_REQUEST = "GRAPHQL_VALIDATION_FAILED"


CHINA = ZoneInfo("Asia/Shanghai")


def serialize_datetime(value: datetime) -> str:
    """Every instant the graph answers with is spelled in Asia/Shanghai (+08:00), whether it
    was just computed or read back from a store that keeps UTC: one due time, one spelling.
    A naive value is a stored UTC time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(CHINA).isoformat()


def parse_datetime(value: object) -> datetime:
    """An ISO 8601 instant from a client; without an offset it is read as Asia/Shanghai
    (DOMAIN §0: times are China's), never as the server's local time."""
    if not isinstance(value, str):
        raise ValueError(f"DateTime must be an ISO 8601 string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an ISO 8601 date and time") from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=CHINA)


DateTime = strawberry.scalar(
    name="DateTime",
    description="An instant in ISO 8601 with its offset, always answered in Asia/Shanghai "
    "(+08:00), e.g. 2026-03-02T17:00:00+08:00; an input without an offset is read as "
    "Asia/Shanghai.",
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)


def expose_enum(
    cls: type[Enum], name: str, description: str, values: dict[str, str] | None = None
) -> None:
    """Expose a domain enum as is (one source of truth for its values), each value described
    (the domain stays free of strawberry): ``values`` maps a value to its description; a
    value it leaves out keeps the one it had."""
    strawberry.enum(cls, name=name, description=description)
    for value in cls.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = (values or {}).get(value.value, value.description)


def schema_config() -> StrawberryConfig:
    """The configuration every subgraph's schema takes: ``datetime`` is the China-time
    ``DateTime`` above; ``date`` and ``Decimal`` are strawberry's, described for clients."""
    return StrawberryConfig(scalar_map={datetime: DateTime, **schema_docs.SCALARS})


def graphql_error(message: str, code: str, **extra: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extra})


def _code_enum() -> Any:
    """``UserErrorCode``: one value per code of the registry (``kernel.errors.CODES``), each
    described by its meaning and its Chinese wording."""
    enum = Enum("UserErrorCode", {name: name for name in CODES})  # type: ignore[misc]
    strawberry.enum(
        enum,
        description="Why a mutation was refused: a stable code from one registry "
        "(kernel.errors.CODES). Each refines one of five families (VALIDATION_FAILED, "
        "NOT_FOUND, FORBIDDEN, INVALID_STATE, CONFLICT), given as `UserError.family`.",
    )
    for value in enum.__strawberry_definition__.values:  # type: ignore[attr-defined]
        code = CODES[value.value]
        value.description = f"{code.en} ({code.zh})"
    return enum


if TYPE_CHECKING:
    UserErrorCode = Enum
else:
    UserErrorCode = _code_enum()


@strawberry.federation.type(
    shareable=True, description="One problem found in a refused mutation's input."
)
class UserErrorProblem:
    code: UserErrorCode = strawberry.field(description="the problem's stable code")
    message: str = strawberry.field(description="the problem for officials, in Chinese")
    detail: str = strawberry.field(description="the problem in English, for developers")
    field: str | None = strawberry.field(
        default=None, description="the input field that was wrong, as a dotted path"
    )


@strawberry.federation.type(shareable=True, description="Why a mutation did not happen.")
class UserError:
    code: str = strawberry.field(
        description="the broad code, as a string: VALIDATION_FAILED, NOT_FOUND, FORBIDDEN, "
        "INVALID_STATE, CONFLICT (or a class's own, e.g. MATERIAL_CONTENT_MISSING)",
        deprecation_reason="use `errorCode` (the precise code, an enum) or `family` (this "
        "broad code as an enum)",
    )
    message: str = strawberry.field(
        description="the refusal for officials, in Chinese (the English specifics in brackets "
        "where the refusal has no Chinese text of its own)"
    )
    field: str | None = strawberry.field(
        default=None, description="the input field that was wrong, as a dotted path"
    )
    error_code: UserErrorCode = strawberry.field(
        default=None,
        description="the precise code to branch on and to word the refusal by, e.g. "
        "REQUIRED, WRONG_STATUS, LEADER_REQUIRED, DEADLINE_PASSED",
    )
    family: UserErrorCode = strawberry.field(
        default=None,
        description="the broad code `errorCode` refines: VALIDATION_FAILED, NOT_FOUND, "
        "FORBIDDEN, INVALID_STATE or CONFLICT",
    )
    detail: str = strawberry.field(
        default="", description="the refusal in English, for developers and logs"
    )
    errors: list[UserErrorProblem] = strawberry.field(
        default_factory=list,
        description="every problem found at once, this one first (a validation that finds "
        "several problems reports them all)",
    )


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
T = TypeVar("T")

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


def link_id(what: str) -> Any:
    """The field of the id kept beside a link another subgraph resolves (:func:`link`)."""
    return strawberry.field(description=f"{what}: its id, always present")


def link(what: str, id_field: str) -> Any:
    """A nullable link to an entity another subgraph resolves (e.g. an Agency, by
    coordination): one it cannot resolve nulls only this field, with a NOT_FOUND error at its
    path, never the list around it; ``id_field`` (:func:`link_id`) stays."""
    return strawberry.field(
        description=f"{what}, resolved by another subgraph; null (with a NOT_FOUND error at "
        f"this path) when it cannot be resolved; `{id_field}` stays"
    )


#: The arguments every list and single read shares, described once.
FirstArg = Annotated[int, strawberry.argument(description="page size (at most 200)")]
AfterArg = Annotated[
    str | None, strawberry.argument(description="the cursor to continue after (endCursor)")
]
IdArg = Annotated[strawberry.ID, strawberry.argument(description="the object's id")]
#: A mutation's ``input``: its fields are described on the input type.
INPUT = strawberry.argument(description="what the mutation records (see the input type's fields)")


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


def _member(name: str) -> Any:
    return UserErrorCode.__members__[name]


def _code_of(exc: DomainError) -> Any:
    return _member(exc.code if exc.code in CODES else exc.family)


def user_error(exc: DomainError) -> UserError:
    """A refused command as the graph reports it: the registry's code, the refusal in Chinese
    and in English, the input field at fault, and every other problem found with it."""
    problems = [
        UserErrorProblem(code=_code_of(e), message=e.message_zh, detail=e.message, field=e.field)
        for e in (exc, *exc.problems)
    ]
    return UserError(
        code=exc.stable_code,
        message=exc.message_zh,
        field=exc.field,
        error_code=_code_of(exc),
        family=_member(exc.family),
        detail=exc.message,
        errors=problems,
    )


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


async def guard(action: Awaitable[T]) -> T | UserError:
    """Await a command; a ``DomainError`` becomes a ``UserError`` (nothing was changed)."""
    try:
        return await action
    except DomainError as exc:
        return user_error(exc)


class RequestContext(BaseContext):
    """Per-request context; subclasses add the service's handlers, queries and loaders."""

    def __init__(self, verifier: TokenVerifier, district: str) -> None:
        super().__init__()
        self._verifier = verifier
        self._district = district
        self._principal: Principal | None = None

    @property
    def correlation_id(self) -> str | None:
        return self.request.headers.get("x-correlation-id") if self.request else None

    def principal(self) -> Principal:
        """The verified caller, or a GraphQL error with code UNAUTHENTICATED."""
        if self._principal is None:
            header = self.request.headers.get("authorization") if self.request else None
            try:
                principal = self._verifier.verify_header(header)
            except AuthError as exc:
                raise graphql_error(str(exc), exc.code, reason=str(exc.reason)) from exc
            if principal.district != self._district:
                raise graphql_error(
                    f"this deployment serves district {self._district!r}; the token is for "
                    f"{principal.district!r}",
                    ErrorCode.WRONG_DISTRICT,
                )
            try:
                accept_service_identity(principal)  # never on the graph
            except AuthError as exc:
                raise graphql_error(str(exc), exc.code, reason=str(exc.reason)) from exc
            self._principal = principal
        return self._principal

    def caller(self) -> Caller:
        """The verified caller with this request's correlation id, as command handlers take it."""
        return Caller(self.principal(), self.correlation_id)

    def reauthenticate(self) -> Principal:
        """Verify the caller's token again (a subscription outlives its request): an expired
        or no longer trusted token ends what it opened, with code UNAUTHENTICATED."""
        self._principal = None
        return self.principal()


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


class CodedErrors(MaskErrors):
    """Every error leaves the service with a stable ``extensions.code``.

    Errors raised on purpose already carry one and pass unchanged; errors in the request
    itself (syntax, unknown field, bad variable) get ``GRAPHQL_VALIDATION_FAILED``. A store
    that cannot be reached (``StoreUnavailableError``) becomes ``UNAVAILABLE`` with a message
    a client may show: the operation did not happen and may be retried. Anything else is an
    internal fault: ``INTERNAL``, and in production its text (which may name internals) is replaced.
    """

    def __init__(self, production: bool) -> None:
        super().__init__()
        self.production = production

    def _coded(self, error: GraphQLError, message: str, code: str) -> GraphQLError:
        return GraphQLError(
            message=message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions={"code": code},
        )

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed: list[GraphQLError] = []
        for error in errors:
            if error.extensions and "code" in error.extensions:
                processed.append(error)
            elif error.original_error is None:
                # Parse, validation and variable errors: about the request, not internals.
                processed.append(self._coded(error, error.message, ErrorCode.BAD_REQUEST))
            elif isinstance(error.original_error, StoreUnavailableError):
                processed.append(
                    self._coded(
                        error,
                        "服务暂时不可用，请稍后重试 (the database did not answer; nothing was "
                        "changed, retry later)",
                        ErrorCode.UNAVAILABLE,
                    )
                )
            elif self.production:
                processed.append(self._coded(error, self.error_message, ErrorCode.INTERNAL))
            else:
                processed.append(self._coded(error, error.message, ErrorCode.INTERNAL))
        return processed


def schema_extensions(production: bool) -> list[Any]:
    # Factories, not instances: strawberry builds the extensions per request; the parser and
    # validation caches live at module level, so they are still shared across requests.
    return [
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        lambda: CodedErrors(production),
    ]


ContextFactory = Callable[..., RequestContext]


# Live reads (subscriptions of every service, e.g. notify's inbox and coordination's
# dispatches): how often the store is polled, and how far back each poll looks again so that
# a row stored by a replica whose clock runs slightly behind is still delivered (what was
# delivered is remembered, so nothing is delivered twice).
POLL_SECONDS = 0.5
LOOKBACK = timedelta(seconds=10)


async def follow(
    info: Any,
    fetch: Callable[[datetime], Awaitable[Sequence[tuple[datetime, str, M]]]],
    start: datetime,
    after: tuple[datetime, str] | None = None,
    changes: ChangeSignal | None = None,
) -> AsyncGenerator[tuple[datetime, str, M], None]:
    """What ``fetch(since)`` finds stored from ``start`` on, each ``(stored at, identity,
    row)`` once, polling for ever; with ``after`` (a resumed subscription's cursor) nothing at
    or before that position is delivered again.

    Polling the store rather than an in-process broadcast: a row stored by another replica
    (or while this one was busy) is seen all the same, on the embedded store too (it has no
    change streams). Where the store streams changes (``changes``, MongoDB), a change ends
    the pause at once (issue 21); the pause stays as long, so the token check below keeps
    its pace. The stream lives no longer than the token that opened it (issue 16,
    finding 9): the token is verified again at every poll."""
    cursor = start
    seen: dict[str, datetime] = {}
    while True:
        for at, ident, row in await fetch(cursor - LOOKBACK):
            if at < start or ident in seen or (after is not None and (at, ident) <= after):
                continue
            seen[ident] = at
            cursor = max(cursor, at)
            yield at, ident, row
        horizon = cursor - LOOKBACK
        for key in [k for k, at in seen.items() if at < horizon]:
            del seen[key]
        if changes is not None and changes.streaming:
            await changes.wait(POLL_SECONDS)
        else:
            await asyncio.sleep(POLL_SECONDS)
        info.context.reauthenticate()
