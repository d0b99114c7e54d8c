"""Types every feature module of the coordination graph shares: the Agency entity (and the
loader that resolves an agency reference), the statutory clock and the recorded transition
of a cooperation duty, and the helper that turns a command's outcome into ``Result |
UserError``. The feature modules import this module and never each other; schema.py only
composes them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, ClassVar, Self, TypeVar, cast

import strawberry

from coordination.domain.cooperation import Clock, Transition
from coordination.domain.model import Agency as AgencyModel
from coordination.domain.model import AgencyKind as DomainAgencyKind
from coordination.entrypoints.graphql.context import Info
from kernel.caller import Caller
from kernel.contracts.deadlines import DeadlineV1
from kernel.graphql import (
    AfterArg,
    Connection,
    ErrorCode,
    FirstArg,
    IdArg,
    ListOrder,
    UserError,
    action_fields,
    decode_keyset_cursor,
    expose_enum,
    graphql_error,
    guard,
    keyset_cursor,
    mirrored,
    paginate,
)
from kernel.keyset import Direction, ListQuery

__all__ = [
    "AfterArg",
    "Agency",
    "AgencyIdArg",
    "AgencyKind",
    "CooperationDeadline",
    "CooperationTransition",
    "FirstArg",
    "HandledNode",
    "Info",
    "Liaison",
    "OrderArg",
    "RequestDirection",
    "RequestListFilter",
    "actions_of",
    "agency_field",
    "as_result",
    "clocks_and_history",
    "connection",
    "list_query",
    "load_agency",
    "time_connection",
]

M = TypeVar("M")
N = TypeVar("N")
T = TypeVar("T")

# The domain's enum is exposed as is (one source of truth for the values).
expose_enum(
    DomainAgencyKind,
    "AgencyKind",
    "R-AG-01 kinds of agency",
    {
        "township": "a township government or sub-district office (乡镇人民政府 / 街道办事处)",
        "department": "a competent department (业务主管部门)",
        "approval_bureau": "the centralised approval bureau (行政审批局)",
        "justice_bureau": "the justice bureau (司法局): supervises enforcement",
        "coordination_body": "the coordination body (执法协调小组 / 政府法制机构)",
        "government": "the people's government (人民政府)",
        "public_security": "public security (公安机关): receives suspected crimes",
        "procuratorate": "the procuratorate (检察院): supervises crime transfers",
        "court": "a court (法院)",
        "management_centre": "a management service centre (管理服务中心): patrols only",
        "discipline_commission": "纪委监委: receives clues of units that fail to act (R-SUP-04)",
        "organisation_department": "组织部: receives clues of units that fail to act (R-SUP-04)",
        "resident_unit": "派驻机构: a department's unit under the township's command, guided by "
        "its department; takes the township's dispatches (R-AG-01, R-GRD-01)",
    },
)
AgencyKind = DomainAgencyKind


@strawberry.type(description="A liaison person (联络员) of an agency, R-AG-03.")
class Liaison:
    name: str = strawberry.field(description="the liaison's name")
    phone: str = strawberry.field(description="the liaison's phone")
    duty: str = strawberry.field(description="what the liaison is responsible for")


@strawberry.federation.type(keys=["id"], description="An agency (执法主体 / 单位) of the district.")
class Agency:
    id: strawberry.ID = strawberry.field(description="the agency's id")
    name: str = strawberry.field(
        description="its official name in Chinese, as letters and notices address it"
    )
    kind: AgencyKind = strawberry.field(description="what kind of agency it is")
    district: str = strawberry.field(description="the district it belongs to")
    internal_unit: bool = strawberry.field(
        description="内设机构/直属机构/派出机构: never sends or receives a referral (R-AG-02)"
    )
    parent_id: strawberry.ID | None = strawberry.field(
        description="the agency an internal unit belongs to"
    )
    liaisons: list[Liaison] = strawberry.field(description="its liaisons (联络员)")
    document_code: str = strawberry.field(
        description="机关代字 heading the agency's letter numbers (文号), e.g. 抚市监; empty: "
        "the issuing service derives one from the name"
    )
    commanded_by_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A resident unit (派驻机构): the township that commands it (R-AG-01, HC #7)",
    )
    guided_by_id: strawberry.ID | None = strawberry.field(
        default=None, description="A resident unit (派驻机构): the department that guides it"
    )

    @classmethod
    def from_model(cls, a: AgencyModel) -> Agency:
        return cls(
            id=strawberry.ID(a.id),
            name=a.name,
            kind=a.kind,
            district=a.district,
            internal_unit=a.internal_unit,
            parent_id=strawberry.ID(a.parent_id) if a.parent_id else None,
            liaisons=[Liaison(name=x.name, phone=x.phone, duty=x.duty) for x in a.liaisons],
            document_code=a.document_code,
            commanded_by_id=strawberry.ID(a.commanded_by_id) if a.commanded_by_id else None,
            guided_by_id=strawberry.ID(a.guided_by_id) if a.guided_by_id else None,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Agency:
        """An agency another subgraph links to; one this directory does not know is a
        NOT_FOUND error at that link (the gateway nulls the nullable link, not the list)."""
        info.context.principal()
        model = await info.context.agency_loader.load(str(id))
        if model is None:
            raise graphql_error(
                f"agency {str(id)!r} is not registered in the directory",
                ErrorCode.NOT_FOUND,
                agencyId=str(id),
            )
        return cls.from_model(model)


async def load_agency(info: Info, agency_id: str | None) -> Agency | None:
    """The agency an id refers to (batched per request), or None."""
    if not agency_id:
        return None
    model = await info.context.agency_loader.load(agency_id)
    return Agency.from_model(model) if model else None


def agency_field(id_field: str, description: str) -> Any:
    """A node's field resolving the agency whose id it keeps in ``id_field`` (batched per
    request; null when the id is unset or not in the directory)."""

    async def resolve(root: Any, info: Info) -> Agency | None:
        agency_id = getattr(root, id_field)
        return await load_agency(info, str(agency_id) if agency_id else None)

    return strawberry.field(resolver=resolve, description=description)


@strawberry.type(description="A statutory clock of a cooperation duty (reply due etc.).")
class CooperationDeadline:
    kind: str = strawberry.field(description="which clock, e.g. reply")
    responsible_agency_id: strawberry.ID = strawberry.field(
        description="the agency that must act by then"
    )
    due: datetime = strawberry.field(description="when the clock runs out (Asia/Shanghai)")
    state: str = strawberry.field(description="open | met | cancelled")
    rule: str = strawberry.field(description="the rule and limit that set it, in Chinese")
    explanation: str = strawberry.field(description="how the due time was computed (Chinese)")
    provisional: bool = strawberry.field(
        description="computed across a year whose holidays are not yet officially announced"
    )
    mode: str | None = strawberry.field(description="working_days | clock | calendar_days")

    @classmethod
    def of(cls, c: Clock, info: Info) -> CooperationDeadline:
        return cls(
            kind=c.kind,
            responsible_agency_id=strawberry.ID(c.responsible_agency_id),
            due=c.due,
            state=c.state,
            rule=c.rule,
            explanation=info.context.calendar.explain_dict(c.explanation),
            provisional=bool(DeadlineV1.calendar_fields(c.explanation).get("provisional")),
            mode=DeadlineV1.calendar_fields(c.explanation).get("mode"),
        )


@strawberry.type(description="One recorded action (who, for which agency, when, before/after).")
class CooperationTransition:
    action: str = strawberry.field(description="what was done")
    actor_id: str = strawberry.field(description="the person who did it")
    agency_id: strawberry.ID | None = strawberry.field(
        description="the agency the person acted for"
    )
    at: datetime = strawberry.field(description="when it was done (+08:00)")
    before: str | None = strawberry.field(description="the status before it")
    after: str = strawberry.field(description="the status after it")
    note: str = strawberry.field(description="what the person wrote with it, if anything")

    @classmethod
    def of(cls, t: Transition) -> CooperationTransition:
        return mirrored(cls, t)


def clocks_and_history(found: Any, info: Info) -> dict[str, Any]:
    """The ``deadlines`` and ``history`` fields of a node whose record keeps its statutory
    clocks (``clocks``) and its recorded transitions (``history``)."""
    return dict(
        deadlines=[CooperationDeadline.of(c, info) for c in found.clocks],
        history=[CooperationTransition.of(t) for t in found.history],
    )


def actions_of(
    checks: Callable[[Any, str, Caller], Awaitable[Any]], handlers_of: str, noun: str
) -> tuple[Any, Any]:
    """The ``viewerCan`` and ``availableActions`` fields (``kernel.graphql.action_fields``)
    of a node: ``checks`` dry-runs its mutations with the handlers ``info.context`` keeps
    as ``handlers_of``."""
    return action_fields(
        lambda info, i: checks(getattr(info.context, handlers_of), i, info.context.caller()),
        noun,
    )


async def as_result(
    action: Awaitable[M] | Callable[[], Awaitable[M]], convert: Callable[[M], T]
) -> T | UserError:
    """A mutation's answer: the command's result as its graph type, or the ``UserError`` a
    refused command (a ``DomainError``) becomes; nothing was changed then. ``action`` may be
    a function building the command (see ``kernel.graphql.guard``)."""
    result = await guard(action)
    return result if isinstance(result, UserError) else convert(result)


def connection(
    rows: Sequence[M],
    first: int,
    *,
    cursor: Callable[[M], str],
    node: Callable[[M], N],
    after: str | None,
    count: Callable[[], Awaitable[int]] | None = None,
) -> Connection[N]:
    """``kernel.graphql.paginate`` with the node type kept: the first ``first`` of ``rows``
    (fetched with limit ``first + 1``, after the cursor ``after``) as ``Connection[N]``;
    ``count`` counts the whole list for ``totalCount``."""
    page: Connection[N] = paginate(rows, first, cursor=cursor, node=node, after=after, count=count)
    return page


@strawberry.enum(description="Which side of a request the agency is on.")
class RequestDirection(Enum):
    SENT = strawberry.enum_value(
        Direction.SENT, description="it sent the request (asked, requested, convened: 发起)"
    )
    RECEIVED = strawberry.enum_value(
        Direction.RECEIVED, description="it received the request (is asked, invited: 接收)"
    )


@strawberry.input(description="What a list of requests between agencies shows; all optional.")
class RequestListFilter:
    direction: RequestDirection | None = strawberry.field(
        default=None,
        description="only the requests the agency (`agencyId`, else your own) sent, or "
        "received; both when left out",
    )
    since: datetime | None = strawberry.field(
        default=None, description="only those whose time (the list's order) is at or after this"
    )
    until: datetime | None = strawberry.field(
        default=None, description="only those whose time is before this (exclusive)"
    )


#: The arguments every coordination list takes (each list adds its ``filter``).
AgencyIdArg = Annotated[
    strawberry.ID | None,
    strawberry.argument(description="only those this agency takes part in"),
]
OrderArg = Annotated[
    ListOrder, strawberry.argument(description="by the list's time, newest first by default")
]


def list_query(
    agency_id: strawberry.ID | None,
    wanted: Any,
    order_by: ListOrder,
    after: str | None,
) -> ListQuery:
    """The ``kernel.keyset.ListQuery`` of a list's arguments; ``wanted`` is its filter input
    (a :class:`RequestListFilter` with ``statuses`` of the list's own enum, matched by value;
    a list without sides leaves ``direction`` out)."""
    statuses: list[Any] = list(getattr(wanted, "statuses", None) or [])
    return ListQuery(
        agency_id=str(agency_id) if agency_id else None,
        direction=Direction(side.value) if (side := getattr(wanted, "direction", None)) else None,
        statuses=tuple(str(s.value) for s in statuses),
        time_from=getattr(wanted, "since", None),
        time_to=getattr(wanted, "until", None),
        descending=order_by.descending,
        after=decode_keyset_cursor(after),
    )


def time_connection(
    rows: Sequence[M],
    first: int,
    *,
    at: Callable[[M], datetime],
    node: Callable[[M], N],
    after: str | None,
    count: Callable[[], Awaitable[int]],
) -> Connection[N]:
    """A page of a list ordered by time then id (``kernel.keyset``): each item's cursor is
    its ``(at, id)``."""
    return connection(
        rows,
        first,
        cursor=lambda r: keyset_cursor(at(r), str(cast(Any, r).id)),
        node=node,
        after=after,
        count=count,
    )


class HandledNode:
    """A node read and changed through handlers in ``info.context`` (see
    :meth:`handlers`; each has ``visible``): ``of`` makes the node of a domain record. It
    reads one by id, resolves a reference from another subgraph and makes a mutation's
    result the same way for every such node (the request kinds, request_kinds.py; the
    duties, duties/common.py)."""

    #: The id argument of the single read.
    id_argument: ClassVar[Any] = IdArg

    @classmethod
    def of(cls, found: Any, info: Info) -> Self:
        raise NotImplementedError

    @classmethod
    def handlers(cls, info: Info) -> Any:
        raise NotImplementedError

    @classmethod
    async def visible(cls, info: Info, id: strawberry.ID) -> Self | None:
        """The node, read-checked: None when absent or not the caller's to see."""
        found = await cls.handlers(info).visible(str(id), info.context.caller())
        return cls.of(found, info) if found else None

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Self | None:
        """A reference from another subgraph (e.g. a clock in notify's work queue),
        read-checked as the single read is: null when absent or not the caller's to see."""
        return await cls.visible(info, id)

    @classmethod
    def read_field(cls, description: str) -> Any:
        """The root field reading one by id (read-checked, null when not visible)."""

        async def read(info: Info, id: Any) -> Any:
            return await cls.visible(info, id)

        read.__annotations__["id"] = cls.id_argument
        return strawberry.field(resolver=read, description=description, graphql_type=cls | None)

    @classmethod
    async def result_of(
        cls, info: Info, act: Callable[[Any, Caller], Awaitable[Any]]
    ) -> Self | UserError:
        """A mutation's answer: ``act`` (given the node's handlers and the caller; it may
        build the command, so a refusal while reading the input is a ``UserError`` too) as
        the node, or the ``UserError`` a refused command becomes (nothing was changed)."""
        caller = info.context.caller()
        handlers = cls.handlers(info)
        return await as_result(lambda: act(handlers, caller), lambda found: cls.of(found, info))
