"""Domain dataclasses ↔ store documents.

The aggregates are frozen dataclasses of plain values (str, int, bool, datetime, enums,
tuples, nested dataclasses, JSON-like dicts), so one codec driven by the type hints maps
them both ways; a field added later with a default reads old documents unchanged.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar, Union

T = TypeVar("T")


def to_document(obj: Any) -> Any:
    """A JSON-like value (datetimes kept) for a dataclass, enum, tuple or plain value."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_document(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, tuple | list):
        return [to_document(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_document(v) for k, v in obj.items()}
    return obj


def _same(value: Any) -> Any:
    return value


@functools.cache
def _decoder(tp: Any) -> Callable[[Any], Any]:
    """The function reading a stored value of type ``tp`` (None stays None), built once per
    type: inspecting the type hints at every value was ~10 % of a referral read's CPU
    (issue 21, P6 profile)."""
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _decoder(inner[0]) if len(inner) == 1 else _same
    if origin is tuple:
        item = _decoder(typing.get_args(tp)[0])
        return lambda v: None if v is None else tuple(item(x) for x in v)
    if origin in (dict, list) or tp is Any or not isinstance(tp, type) or tp is datetime:
        return _same
    if dataclasses.is_dataclass(tp):
        return lambda v: None if v is None else from_document(tp, v)
    if issubclass(tp, Enum):
        return lambda v: None if v is None else tp(v)
    if tp is int:
        return lambda v: v if v is None or isinstance(v, bool) else int(v)
    return _same


@functools.cache
def _field_decoders(cls: type) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((f.name, _decoder(hints[f.name])) for f in dataclasses.fields(cls))


def from_document(cls: type[T], doc: dict[str, Any]) -> T:
    """Build ``cls`` from a document; missing fields take their defaults."""
    fields = _field_decoders(cls)  # type: ignore[arg-type]
    kwargs = {name: decode(doc[name]) for name, decode in fields if name in doc}
    return cls(**kwargs)
