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


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _decode(inner[0], value) if len(inner) == 1 else value
    if origin is tuple:
        (item, *_rest) = typing.get_args(tp)
        return tuple(_decode(item, v) for v in value)
    if origin in (dict, list) or tp is Any:
        return value
    if isinstance(tp, type):
        if dataclasses.is_dataclass(tp):
            return from_document(tp, value)
        if issubclass(tp, Enum):
            return tp(value)
        if tp is datetime:
            return value
        if tp is int and not isinstance(value, bool):
            return int(value)
    return value


def from_document(cls: type[T], doc: dict[str, Any]) -> T:
    """Build ``cls`` from a document; missing fields take their defaults."""
    hints = _hints(cls)  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in doc:
            kwargs[f.name] = _decode(hints[f.name], doc[f.name])
    return cls(**kwargs)
