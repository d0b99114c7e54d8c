"""The graph's China-time ``DateTime`` scalar, domain enums exposed as they are, and the
field and argument declarations every subgraph shares."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.types.base import get_object_definition

from kernel import schema_docs

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


#: The argument every single read shares, described once.
IdArg = Annotated[strawberry.ID, strawberry.argument(description="the object's id")]
#: A mutation's ``input``: its fields are described on the input type.
INPUT = strawberry.argument(description="what the mutation records (see the input type's fields)")


T = TypeVar("T")


def mirrored(cls: type[T], record: Any, **given: Any) -> T:
    """An object of the strawberry type ``cls`` whose stored fields (those without a
    resolver) take the values of ``record``'s attributes of the same names; ``given`` sets
    the fields whose value is not the record's attribute as it is."""
    stored = (f.python_name for f in get_object_definition(cls, strict=True).fields if f.init)
    return cls(**{name: getattr(record, name) for name in stored if name not in given}, **given)
