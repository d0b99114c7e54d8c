"""The store port's query and update language in pure Python.

Both store adapters use it: the embedded store to apply updates (its filters mostly run as
SQL), the MongoDB adapter to check requests before sending them. Semantics follow MongoDB's
for the subset ``kernel.store`` documents.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from kernel.store import Document, Filter, IndexKeys, SortSpec, StoreError, Update

FIELD_OPERATORS: Final = frozenset(
    {"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists"}
)
LOGICAL_OPERATORS: Final = frozenset({"$and", "$or"})
UPDATE_OPERATORS: Final = frozenset({"$set", "$unset", "$inc", "$push", "$pull", "$setOnInsert"})
COMPARISONS: Final = frozenset({"$gt", "$gte", "$lt", "$lte"})


class _Missing:
    """Marks a path that leads nowhere (distinct from a present ``null``)."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Final = _Missing()


def split_path(path: str) -> list[str]:
    if not isinstance(path, str) or not path:
        raise ValueError(f"field path must be a non-empty string, got {path!r}")
    segments = path.split(".")
    for segment in segments:
        # Empty segments and "$" names are rejected by MongoDB too; a double quote cannot
        # be written inside a quoted SQLite JSON path.
        if not segment or segment.startswith("$") or '"' in segment:
            raise ValueError(f"invalid field path {path!r}")
    return segments


def is_operator_doc(value: Any) -> bool:
    return isinstance(value, Mapping) and any(
        isinstance(k, str) and k.startswith("$") for k in value
    )


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def utc_ms(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime truncated to milliseconds (BSON precision)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def normalize(value: Any) -> Any:
    """A deep copy of ``value`` in the port's value space (tuples → lists, UTC datetimes)."""
    if isinstance(value, datetime):
        return utc_ms(value)
    if isinstance(value, Mapping):
        return {str(k): normalize(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalize(v) for v in value]
    return value


def validate_filter(filter: Filter) -> None:
    """Raise ``ValueError`` unless ``filter`` stays inside the port's filter language."""
    if not isinstance(filter, Mapping):
        raise ValueError(f"a filter must be a mapping, got {type(filter).__name__}")
    for key, cond in filter.items():
        if not isinstance(key, str):
            raise ValueError(f"filter keys must be strings, got {key!r}")
        if key.startswith("$"):
            if key not in LOGICAL_OPERATORS:
                raise ValueError(
                    f"unsupported filter operator {key!r} (supported at top level: $and, $or)"
                )
            if not isinstance(cond, list | tuple) or not cond:
                raise ValueError(f"{key} needs a non-empty list of filters")
            for sub in cond:
                validate_filter(sub)
            continue
        split_path(key)
        if is_operator_doc(cond):
            _validate_field_condition(key, cond)


def _validate_field_condition(path: str, cond: Mapping[str, Any]) -> None:
    for op, arg in cond.items():
        if not isinstance(op, str) or not op.startswith("$"):
            raise ValueError(f"filter on {path!r} mixes operators and plain fields: {dict(cond)!r}")
        if op not in FIELD_OPERATORS:
            raise ValueError(
                f"unsupported filter operator {op!r} on {path!r} "
                f"(supported: {', '.join(sorted(FIELD_OPERATORS))})"
            )
        if op in ("$in", "$nin") and not isinstance(arg, list | tuple):
            raise ValueError(f"{op} on {path!r} needs a list, got {arg!r}")
        if op in COMPARISONS and not (
            arg is None or isinstance(arg, str | int | float | bool | datetime)
        ):
            raise ValueError(f"{op} on {path!r} needs a number, string, boolean, datetime or None")


def validate_update(update: Update) -> None:
    """Raise ``ValueError`` unless ``update`` stays inside the port's update language.

    Also rejects what MongoDB rejects at run time: replacement documents, changing
    ``_id`` and two operators touching the same path (or a path and its prefix).
    """
    if not isinstance(update, Mapping) or not update:
        raise ValueError("an update must be a non-empty mapping of update operators")
    seen: list[tuple[str, list[str]]] = []
    for op, fields in update.items():
        if not isinstance(op, str) or not op.startswith("$"):
            raise ValueError(
                f"updates must use operators ({', '.join(sorted(UPDATE_OPERATORS))}); "
                f"replacement documents are not supported (got key {op!r})"
            )
        if op not in UPDATE_OPERATORS:
            raise ValueError(
                f"unsupported update operator {op!r} "
                f"(supported: {', '.join(sorted(UPDATE_OPERATORS))})"
            )
        if not isinstance(fields, Mapping):
            raise ValueError(f"{op} needs a mapping of field paths, got {fields!r}")
        for path, arg in fields.items():
            segments = split_path(path)
            if segments[0] == "_id" and op != "$setOnInsert":
                raise ValueError(f"{op} cannot change the immutable field '_id'")
            for other, other_segments in seen:
                shorter = min(len(segments), len(other_segments))
                if segments[:shorter] == other_segments[:shorter]:
                    raise ValueError(f"update paths {other!r} and {path!r} conflict")
            seen.append((path, segments))
            if op == "$inc" and not is_number(arg):
                raise ValueError(f"$inc on {path!r} needs a number, got {arg!r}")
            if (
                op == "$push"
                and is_operator_doc(arg)
                and (set(arg) != {"$each"} or not isinstance(arg["$each"], list | tuple))
            ):
                raise ValueError(
                    f"$push on {path!r} supports only {{'$each': [...]}} as a modifier"
                )
            if op == "$pull" and isinstance(arg, Mapping):
                if is_operator_doc(arg):
                    _validate_field_condition(path, arg)
                else:
                    validate_filter(arg)


def validate_sort(sort: SortSpec | None) -> None:
    """Raise ``ValueError`` unless ``sort`` is a sequence of ``(path, 1 | -1)`` pairs."""
    if sort is None:
        return
    for item in sort:
        if not (isinstance(item, tuple | list) and len(item) == 2 and item[1] in (1, -1)):
            raise ValueError(f"sort items must be (field, 1 | -1) pairs, got {item!r}")
        split_path(item[0])


def validate_projection(projection: Sequence[str] | None) -> None:
    """Raise ``ValueError`` unless ``projection`` is a sequence of field paths."""
    if projection is None:
        return
    if isinstance(projection, str):
        raise ValueError("projection must be a sequence of field paths, not a string")
    for path in projection:
        split_path(path)


def count_by_key(field: str, value: Any) -> str | None:
    """The key under which ``count_by`` counts a document whose ``field`` holds ``value``
    (None when missing); ``ValueError`` for anything but a string or None."""
    if value is None or value is MISSING:
        return None
    if isinstance(value, str):
        return value
    raise ValueError(
        f"count_by groups by a string field: {field!r} holds a non-string value "
        f"({type(value).__name__}: {value!r}) in a matching document"
    )


def default_index_name(keys: IndexKeys) -> str:
    """MongoDB's default index name for ``keys``, e.g. ``status_1_due_at_-1``."""
    return "_".join(f"{path}_{direction}" for path, direction in keys)


def index_request(
    keys: IndexKeys, *, unique: bool, name: str | None, partial: Filter | None
) -> str:
    """Check a ``create_index`` request as every store does; returns the index's name."""
    if not keys:
        raise ValueError("an index needs at least one key")
    validate_sort(keys)
    if partial is not None:
        if unique:
            raise ValueError(
                "a partial index cannot be unique: a store may index more than the partial "
                "filter asks, and uniqueness would then differ between stores"
            )
        if not partial or any(str(key).startswith("$") for key in partial):
            raise ValueError(
                "a partial index needs field conditions (e.g. {'n': {'$gt': 0}}), "
                f"got {partial!r}"
            )
        validate_filter(partial)
    return name or default_index_name(keys)


def path_candidates(node: Any, segments: Sequence[str]) -> Iterator[Any]:
    """The values a dotted path reaches, MongoDB-style (``MISSING`` where it ends).

    An array on the way is traversed into its sub-documents; an array at the end yields
    itself and each element (so equality with an array field means "any element").
    ``_SqlFilter._at`` builds the same set in SQL; keep the two in step.
    """
    if not segments:
        yield node
        if isinstance(node, list):
            yield from node
        return
    if isinstance(node, dict):
        if segments[0] in node:
            yield from path_candidates(node[segments[0]], segments[1:])
        else:
            yield MISSING
    elif isinstance(node, list):
        for element in node:
            if isinstance(element, dict):
                yield from path_candidates(element, segments)
    else:
        yield MISSING


def _equal(a: Any, b: Any) -> bool:
    """MongoDB equality: no bool/number mixing, documents compare with field order."""
    if b is None:
        return a is None
    if isinstance(b, bool) or isinstance(a, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_number(b):
        return is_number(a) and bool(a == b)
    if isinstance(b, str):
        return isinstance(a, str) and a == b
    if isinstance(b, datetime):
        return isinstance(a, datetime) and utc_ms(a) == utc_ms(b)
    if isinstance(b, list | tuple):
        return (
            isinstance(a, list)
            and len(a) == len(b)
            and all(_equal(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(b, Mapping):
        return isinstance(a, dict) and list(a) == list(b) and all(_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def _equal_or_missing(candidate: Any, value: Any) -> bool:
    if value is None:
        return candidate is MISSING or candidate is None
    return candidate is not MISSING and _equal(candidate, value)


def _compare(candidate: Any, op: str, value: Any) -> bool:
    """Type-bracketed comparison, as MongoDB does it (a number never compares to a string)."""
    if value is None:
        return op in ("$gte", "$lte") and _equal_or_missing(candidate, None)
    if candidate is MISSING or candidate is None:
        return False
    if isinstance(value, bool) or isinstance(candidate, bool):
        if not (isinstance(value, bool) and isinstance(candidate, bool)):
            return False
    elif is_number(value):
        if not is_number(candidate):
            return False
    elif isinstance(value, str):
        if not isinstance(candidate, str):
            return False
    elif isinstance(value, datetime):
        if not isinstance(candidate, datetime):
            return False
        candidate, value = utc_ms(candidate), utc_ms(value)
    else:
        return False
    if op == "$gt":
        return bool(candidate > value)
    if op == "$gte":
        return bool(candidate >= value)
    if op == "$lt":
        return bool(candidate < value)
    return bool(candidate <= value)


def _condition_holds(candidates: list[Any], cond: Any) -> bool:
    """Whether a field condition (operator document or plain value) holds for the
    candidate values of one path."""
    if not is_operator_doc(cond):
        return any(_equal_or_missing(c, cond) for c in candidates)
    for op, arg in cond.items():
        if op == "$eq":
            ok = any(_equal_or_missing(c, arg) for c in candidates)
        elif op == "$ne":
            ok = not any(_equal_or_missing(c, arg) for c in candidates)
        elif op == "$in":
            ok = any(_equal_or_missing(c, a) for c in candidates for a in arg)
        elif op == "$nin":
            ok = not any(_equal_or_missing(c, a) for c in candidates for a in arg)
        elif op == "$exists":
            ok = any(c is not MISSING for c in candidates) == bool(arg)
        elif op in COMPARISONS:
            ok = any(_compare(c, op, arg) for c in candidates)
        else:
            raise ValueError(f"unsupported filter operator {op!r}")
        if not ok:
            return False
    return True


def matches(doc: Mapping[str, Any], filter: Filter) -> bool:
    """Whether ``doc`` matches ``filter``, evaluated in Python with the port's semantics."""
    for key, cond in filter.items():
        if key == "$and":
            if not all(matches(doc, sub) for sub in cond):
                return False
        elif key == "$or":
            if not any(matches(doc, sub) for sub in cond):
                return False
        elif key.startswith("$"):
            raise ValueError(f"unsupported filter operator {key!r}")
        elif not _condition_holds(list(path_candidates(doc, split_path(key))), cond):
            return False
    return True


def _pull_matches(element: Any, cond: Any) -> bool:
    # MongoDB: an operator document is a condition on the element itself; a plain
    # document is a query on the element's fields; anything else is an equal value.
    if is_operator_doc(cond):
        return _condition_holds(list(path_candidates(element, [])), cond)
    if isinstance(cond, Mapping):
        return isinstance(element, dict) and matches(element, cond)
    return _equal(element, cond)


def _parent(doc: dict[str, Any], path: str, *, create: bool) -> tuple[dict[str, Any], str] | None:
    """The sub-document holding ``path``'s last segment (created on the way if asked)."""
    segments = split_path(path)
    node = doc
    for depth, segment in enumerate(segments[:-1]):
        child = node.get(segment, MISSING)
        if child is MISSING and create:
            child = node[segment] = {}
        if not isinstance(child, dict):
            if not create:
                return None
            where = ".".join(segments[: depth + 1])
            raise StoreError(
                f"cannot update {path!r}: {where!r} holds {type(child).__name__}, not a document"
            )
        node = child
    return node, segments[-1]


def apply_update(doc: Mapping[str, Any], update: Update, *, inserting: bool = False) -> Document:
    """A new document: ``doc`` with ``update`` applied (``$setOnInsert`` only when
    ``inserting``). Raises ``StoreError`` when the document's data does not allow the update
    (``$inc`` on a string, ``$push`` onto a non-array, a path through a scalar)."""
    result: Document = copy.deepcopy(dict(doc))
    for op, fields in update.items():
        if op == "$setOnInsert" and not inserting:
            continue
        for path, arg in fields.items():
            value = normalize(arg)
            if op in ("$set", "$setOnInsert"):
                parent = _parent(result, path, create=True)
                assert parent is not None
                parent[0][parent[1]] = value
            elif op == "$unset":
                parent = _parent(result, path, create=False)
                if parent is not None:
                    parent[0].pop(parent[1], None)
            elif op == "$inc":
                parent = _parent(result, path, create=True)
                assert parent is not None
                node, key = parent
                current = node.get(key, MISSING)
                if current is MISSING:
                    node[key] = value
                elif is_number(current):
                    node[key] = current + value
                else:
                    raise StoreError(
                        f"cannot $inc {path!r}: it holds {type(current).__name__}, not a number"
                    )
            elif op == "$push":
                parent = _parent(result, path, create=True)
                assert parent is not None
                node, key = parent
                items = value["$each"] if is_operator_doc(arg) else [value]
                current = node.get(key, MISSING)
                if current is MISSING:
                    node[key] = list(items)
                elif isinstance(current, list):
                    current.extend(items)
                else:
                    raise StoreError(
                        f"cannot $push to {path!r}: it holds {type(current).__name__}, not an array"
                    )
            elif op == "$pull":
                parent = _parent(result, path, create=False)
                if parent is None or parent[1] not in parent[0]:
                    continue
                node, key = parent
                current = node[key]
                if not isinstance(current, list):
                    raise StoreError(
                        f"cannot $pull from {path!r}: it holds {type(current).__name__}, "
                        "not an array"
                    )
                node[key] = [e for e in current if not _pull_matches(e, value)]
            else:
                raise ValueError(f"unsupported update operator {op!r}")
    return result


def _collect_equalities(filter: Filter, into: Document) -> None:
    for key, cond in filter.items():
        if key == "$and":
            for sub in cond:
                _collect_equalities(sub, into)
        elif key.startswith("$"):
            continue  # $or: MongoDB takes no equality from it either
        elif not is_operator_doc(cond):
            parent = _parent(into, key, create=True)
            assert parent is not None
            parent[0][parent[1]] = normalize(cond)
        elif "$eq" in cond:
            parent = _parent(into, key, create=True)
            assert parent is not None
            parent[0][parent[1]] = normalize(cond["$eq"])


def upsert_document(filter: Filter, update: Update) -> Document:
    """The document an upsert inserts when nothing matches: the equality conditions of
    ``filter`` (including those inside ``$and``), then ``update`` with ``$setOnInsert``.

    Raises ``ValueError`` when the result has no string ``_id`` (the port's ids are chosen
    by the caller, never generated)."""
    seed: Document = {}
    _collect_equalities(filter, seed)
    doc = apply_update(seed, update, inserting=True)
    if not isinstance(doc.get("_id"), str):
        raise ValueError("an upsert needs a string _id: put it in the filter or in $setOnInsert")
    return {"_id": doc.pop("_id"), **doc}


def project(doc: Document, fields: Sequence[str]) -> Document:
    """``doc`` reduced to ``_id`` and ``fields`` (dotted paths keep their sub-documents)."""

    def pick(node: Any, segments: list[str]) -> Any:
        if isinstance(node, list):
            picked = [pick(e, segments) for e in node if isinstance(e, dict | list)]
            return [p for p in picked if p is not MISSING]
        if not isinstance(node, dict) or segments[0] not in node:
            return MISSING
        if len(segments) == 1:
            return {segments[0]: node[segments[0]]}
        inner = pick(node[segments[0]], segments[1:])
        return MISSING if inner is MISSING else {segments[0]: inner}

    def merge(into: dict[str, Any], part: dict[str, Any]) -> None:
        for key, value in part.items():
            if isinstance(value, dict) and isinstance(into.get(key), dict):
                merge(into[key], value)
            else:
                into[key] = value

    result: Document = {"_id": doc["_id"]}
    for path in fields:
        part = pick(doc, split_path(path))
        if isinstance(part, dict):
            merge(result, part)
    return result
