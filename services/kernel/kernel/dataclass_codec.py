"""Frozen domain dataclasses ↔ store documents, one codec for every service.

The aggregates are frozen dataclasses of plain values (str, int, bool, datetime, date,
Decimal, enums, tuples, nested dataclasses, JSON-like dicts and lists), so one mapping driven
by the type hints serves them all:

- writing: a dataclass becomes a dict of its fields, an enum its value, a tuple a list, a
  ``date`` its ISO string and a ``Decimal`` its string (the store port keeps datetimes
  only); datetimes, dicts and plain values stay as they are;
- reading: each field is rebuilt from its annotation; a field missing from the document
  takes its default (a field added later reads old documents unchanged), keys the class
  does not have are ignored, ``None`` stays ``None``.

Reading is the hot path of every list (a page of 21 referrals is 21 × ~14 dataclasses), so
each dataclass gets a reader compiled once from its type hints, the way ``dataclasses``
compiles ``__init__``: the field lookups, enum lookups and nested readers inline, no
per-value dispatch, and the instance's fields set as its own ``__init__`` would set them
(issue 21, P4: one stored referral read in 91 µs by the interpreted reader, 37–55 µs
compiled through the constructor, 13–16 µs compiled as it is now; figures in
docs/benchmarks.md, session 17).
"""

from __future__ import annotations

import dataclasses
import itertools
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar, Union

__all__ = ["from_document", "reader", "to_document"]

T = TypeVar("T")

_MISSING: Any = object()


def to_document(value: Any) -> Any:
    """A store value for a dataclass (or a value inside one)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_document(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | list):
        return [to_document(v) for v in value]
    if isinstance(value, dict):
        return {k: to_document(v) for k, v in value.items()}
    return value


def from_document(cls: type[T], doc: Mapping[str, Any]) -> T:
    """Build dataclass ``cls`` from a document written by :func:`to_document`."""
    return reader(cls)(doc)


_readers: dict[type, Callable[[Mapping[str, Any]], Any]] = {}
_compiling: set[type] = set()
_names = itertools.count()


def reader(cls: type[T]) -> Callable[[Mapping[str, Any]], T]:
    """The compiled reader of dataclass ``cls`` (made at its first use, then kept)."""
    found = _readers.get(cls)
    if found is None:
        found = _readers[cls] = _compile(cls)
    return found


def _compile(cls: type) -> Callable[[Mapping[str, Any]], Any]:
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    _compiling.add(cls)
    try:
        lines, namespace = _source(cls)
        source = "\n".join(lines)
        exec(compile(source, f"<reader of {cls.__qualname__}>", "exec"), namespace)
        compiled: Callable[[Mapping[str, Any]], Any] = namespace["read"]
        compiled.__qualname__ = f"reader[{cls.__qualname__}]"
        return compiled
    finally:
        _compiling.discard(cls)


def _source(cls: type) -> tuple[list[str], dict[str, Any]]:
    """The reader's source lines and the namespace they run in.

    Where the dataclass-made ``__init__`` only stores its arguments (:func:`_plain`), the
    reader fills the new instance's ``__dict__`` as that ``__init__`` would: a missing field
    takes its default (or its factory's value), a missing required field is a
    ``TypeError`` naming it. Otherwise it calls the constructor with what the document has."""
    hints = typing.get_type_hints(cls)
    namespace: dict[str, Any] = {
        "_cls": cls,
        "_MISSING": _MISSING,
        "_new": object.__new__,
        "isinstance": isinstance,
    }
    direct = _plain(cls)
    target = "d" if direct else "kw"
    lines = ["def read(doc):"]
    lines += ["    obj = _new(_cls)", "    d = obj.__dict__"] if direct else ["    kw = {}"]
    for f in dataclasses.fields(cls):
        if not f.init:
            if direct:
                lines.append(f"    d[{f.name!r}] = {_bind(namespace, f.default)}")
            continue
        lines += [
            f"    v = doc.get({f.name!r}, _MISSING)",
            "    if v is not _MISSING:",
            f"        {target}[{f.name!r}] = {_expression(hints[f.name], 'v', namespace, 0)}",
        ]
        if not direct:
            continue
        if f.default is not dataclasses.MISSING:
            missing = f"d[{f.name!r}] = {_bind(namespace, f.default)}"
        elif f.default_factory is not dataclasses.MISSING:
            missing = f"d[{f.name!r}] = {_bind(namespace, f.default_factory)}()"
        else:
            message = f"{cls.__qualname__}.__init__() missing required argument: {f.name!r}"
            missing = f"raise TypeError({message!r})"
        lines += ["    else:", f"        {missing}"]
    lines.append("    return obj" if direct else "    return _cls(**kw)")
    return lines, namespace


def _plain(cls: type) -> bool:
    """Whether the ``__init__`` of ``cls`` is the one ``dataclasses`` made and only stores
    its arguments (a frozen dataclass's sets each field through ``object.__setattr__``: two
    thirds of a referral's read, issue 21). Not for a class with ``__post_init__``, slots, a
    field neither initialised nor defaulted, or an ``__init__`` of its own."""
    params = getattr(cls, "__dataclass_params__", None)
    init = vars(cls).get("__init__")
    return (
        params is not None
        and params.init
        and init is not None
        and getattr(init, "__qualname__", "") == f"{cls.__qualname__}.__init__"
        and init.__code__.co_filename.startswith("<")  # made by dataclasses, not in a file
        and not hasattr(cls, "__post_init__")
        and not hasattr(cls, "__slots__")
        and all(f.init or f.default is not dataclasses.MISSING for f in dataclasses.fields(cls))
    )


def _bind(namespace: dict[str, Any], value: Any) -> str:
    """A fresh name for ``value`` in the reader's namespace."""
    name = f"_{next(_names)}"
    namespace[name] = value
    return name


def _expression(tp: Any, var: str, namespace: dict[str, Any], depth: int) -> str:
    """Python source reading the stored value in variable ``var`` as type ``tp``."""
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        # One type besides None reads as that type; a union of several keeps the value.
        return _expression(inner[0], var, namespace, depth) if len(inner) == 1 else var
    if origin is tuple:
        item = f"x{depth}"
        each = _expression(typing.get_args(tp)[0], item, namespace, depth + 1)
        if each == item:
            return f"(None if {var} is None else tuple({var}))"
        return f"(None if {var} is None else tuple([{each} for {item} in {var}]))"
    if origin is not None or tp is Any or not isinstance(tp, type) or tp is datetime:
        return var  # dict, list, Any, datetime: as stored
    if dataclasses.is_dataclass(tp):
        if tp in _compiling:  # a type that contains itself: looked up when read
            nested = _bind(namespace, lambda v, tp=tp: reader(tp)(v))
        else:
            nested = _bind(namespace, reader(tp))
        return f"(None if {var} is None else {nested}({var}))"
    if issubclass(tp, Enum):
        members = _bind(namespace, tp._value2member_map_)
        enum = _bind(namespace, tp)
        return (
            f"(None if {var} is None else {members}[{var}] if {var} in {members} "
            f"else {enum}({var}))"
        )
    if tp is bool:
        return var
    if tp is int:
        return f"({var} if {var} is None or isinstance({var}, bool) else int({var}))"
    if tp is date:
        parse = _bind(namespace, date.fromisoformat)
        return f"(None if {var} is None else {parse}({var}))"
    if tp is Decimal:
        decimal = _bind(namespace, Decimal)
        return f"(None if {var} is None else {decimal}({var}))"
    return var
