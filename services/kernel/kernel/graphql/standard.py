"""Standard-typed replacements of the graph's custom scalars (issue 18: a client generates
its types without a hand-written map beyond ``DateTime``).

A calendar day (日期) is a ``String`` in ISO 8601, ``YYYY-MM-DD``: a day of the China
calendar, with no time and no offset; a JSON payload is a ``String`` holding JSON text; money
is integer fen (分). The old ``Date``/``Decimal``/``JSON`` elements stay, deprecated with the
replacement and :data:`REMOVAL_DATE` (:func:`replaced_by`). An output replacement is a field
derived from the old one (:func:`iso_day`, :func:`json_text`); an input replacement is read
with :func:`day_input`, which parses strictly (:func:`parse_day`) and reconciles it with the
deprecated input it replaces; a refusal the domain reports at the deprecated input's name
names the replacement the client gave (:func:`refusals_at`)."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from typing import Any, Literal, TypeVar, overload

import strawberry

from kernel.errors import DomainError, ValidationFailed

__all__ = [
    "REMOVAL_DATE",
    "day_input",
    "iso_day",
    "json_text",
    "moved",
    "parse_day",
    "refusals_at",
    "replaced_by",
]

T = TypeVar("T")

#: The first day a deprecated element may be removed from the public schema.
REMOVAL_DATE = "2027-06-30"

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def replaced_by(replacement: str, note: str = "") -> str:
    """The ``@deprecated`` reason of an element with a standard-typed ``replacement``."""
    how = f" ({note})" if note else ""
    return f"use `{replacement}`{how}; removed no earlier than {REMOVAL_DATE}"


def parse_day(value: str, field: str) -> date:
    """A client's calendar day, exactly ``YYYY-MM-DD`` and a real day of the calendar
    (``2026-02-30``, ``2026-3-1`` and ``2026-03-01T00:00`` are refused): else a
    ``ValidationFailed`` with the code INVALID_DATE naming ``field``."""
    if _DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationFailed(
        f"{value!r} is not a calendar day written YYYY-MM-DD", field=field, code="INVALID_DATE"
    )


@overload
def day_input(
    old: date | None, new: str | None, *, field: str, old_field: str, required: Literal[True]
) -> date: ...


@overload
def day_input(
    old: date | None,
    new: str | None,
    *,
    field: str,
    old_field: str,
    required: Literal[False] = False,
) -> date | None: ...


def day_input(
    old: date | None,
    new: str | None,
    *,
    field: str,
    old_field: str,
    required: bool = False,
) -> date | None:
    """The day a mutation or query was given, by the string ``new`` (at ``field``) or by the
    deprecated ``Date`` input ``old`` it replaces (at ``old_field``). Both may be given only
    when they name the same day (else INPUTS_DISAGREE); a ``required`` day given by neither is
    refused with REQUIRED at ``field``."""
    day = None if new is None else parse_day(new, field)
    if day is not None and old is not None and day != old:
        raise ValidationFailed(
            f"{field} ({day}) and the deprecated {old_field} ({old}) name different days; "
            f"give {field} only",
            field=field,
            code="INPUTS_DISAGREE",
        )
    day = old if day is None else day
    if day is None and required:
        raise ValidationFailed(f"{field} is required", field=field, code="REQUIRED")
    return day


def moved(old: object, old_field: str, new_field: str) -> dict[str, str]:
    """``{old_field: new_field}`` unless the client gave the deprecated input (its value
    ``old``): a refusal names the input the client used, or the replacement when it gave
    neither (for :func:`refusals_at`)."""
    return {} if old is not None else {old_field: new_field}


async def refusals_at(action: Awaitable[T], fields: Mapping[str, str]) -> T:
    """Await ``action`` (a command); a refusal the domain reports at a deprecated input's
    field (a key of ``fields``, see :func:`moved`) names its replacement instead, so the
    ``field`` of a ``UserError`` never names a deprecated input the client did not send."""
    try:
        return await action
    except DomainError as exc:
        for refusal in (exc, *exc.problems):
            if refusal.field is not None:
                refusal.field = fields.get(refusal.field, refusal.field)
        raise


def _derived(source: str, convert: Callable[[Any], str], description: str) -> Any:
    """A field answering ``convert`` of the object's attribute ``source`` (null stays null);
    its type is the one annotated on the class (``str`` or ``str | None``)."""

    def resolve(root: Any) -> str | None:
        value = getattr(root, source)
        return None if value is None else convert(value)

    return strawberry.field(resolver=resolve, description=description)


def iso_day(source: str, description: str) -> Any:
    """The ``String`` replacement of a ``Date`` field ``source``: the same day, YYYY-MM-DD."""
    return _derived(
        source, date.isoformat, f"{description}; YYYY-MM-DD, a day of the China calendar"
    )


def json_text(source: str, description: str) -> Any:
    """The ``String`` replacement of a ``JSON`` field ``source``: the same value as JSON text."""
    return _derived(
        source,
        lambda value: json.dumps(value, ensure_ascii=False),
        f"{description}, as JSON text (parse it to get the object)",
    )
