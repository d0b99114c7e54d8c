"""SQL translation: filters to WHERE clauses, sorts to ORDER BY, and the quoting and JSON
paths that queries, tables and index definitions share (see the package docstring's
*Filters and sorts*)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from kernel.adapters.embedded_store.codec import (
    _DATE_HIGH,
    _DATE_LOW,
    _dumps,
    _encode,
    _encode_datetime,
    _encode_str,
)
from kernel.store import Filter, SortSpec
from kernel.store_language import COMPARISONS, is_number, is_operator_doc, normalize, split_path


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _json_path(segments: Sequence[str]) -> str:
    """A SQL literal of the JSON path of ``segments``. Index definitions and queries use
    this same rendering so that SQLite recognises the indexed expressions."""
    return _sql_literal("$" + "".join(f'."{s}"' for s in segments))


def _value_expr(path: str, src: str = "d.doc", id_col: str = "d.id") -> str:
    if path == "_id":
        return id_col
    return f"json_extract({src}, {_json_path(split_path(path))})"


class _Leaf:
    """A condition on one candidate value, rendered against a value and a type expression
    (``json_extract``/``json_type`` of a path, or ``value``/``type`` of a json_each row)."""

    def __init__(self, render: Callable[[str, str], str], *, matches_missing: bool) -> None:
        self.render = render
        self.matches_missing = matches_missing


class _SqlFilter:
    """Builds a WHERE clause (with named parameters) for a filter on table alias ``d``."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self._aliases = 0

    def param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def _alias(self) -> str:
        self._aliases += 1
        return f"e{self._aliases}"

    def where(self, filter: Filter) -> str:
        parts: list[str] = []
        for key, cond in filter.items():
            if key == "$and":
                parts.append("(" + " AND ".join(self.where(sub) for sub in cond) + ")")
            elif key == "$or":
                parts.append("(" + " OR ".join(self.where(sub) for sub in cond) + ")")
            elif is_operator_doc(cond):
                parts.extend(self._operator(key, op, arg) for op, arg in cond.items())
            else:
                parts.append(self._positive(key, self._eq_leaf(cond)))
        return " AND ".join(parts) if parts else "1"

    def _operator(self, path: str, op: str, arg: Any) -> str:
        if op == "$eq":
            return self._positive(path, self._eq_leaf(arg))
        if op == "$ne":
            return self._negative(path, self._eq_leaf(arg))
        if op == "$in":
            return self._positive(path, self._in_leaf(arg))
        if op == "$nin":
            return self._negative(path, self._in_leaf(arg))
        if op == "$exists":
            leaf = _Leaf(lambda v, t: f"{t} IS NOT NULL", matches_missing=False)
            return self._positive(path, leaf) if arg else self._negative(path, leaf)
        if op in COMPARISONS:
            return self._positive(path, self._compare_leaf(op, arg))
        raise ValueError(f"unsupported filter operator {op!r}")

    def _negative(self, path: str, leaf: _Leaf) -> str:
        # COALESCE: a positive condition may come out NULL (SQL's "unknown") where it means
        # false; NOT NULL would then drop documents MongoDB keeps (e.g. $ne on a missing
        # field).
        return f"NOT COALESCE({self._positive(path, leaf)}, 0)"

    def _positive(self, path: str, leaf: _Leaf) -> str:
        if path == "_id":
            return leaf.render("d.id", "'text'")
        return self._at("d.doc", split_path(path), leaf)

    def _at(self, src: str, segments: list[str], leaf: _Leaf) -> str:
        """True when some candidate value of ``segments`` in JSON ``src`` satisfies
        ``leaf``; the SQL twin of ``path_candidates``."""
        path = _json_path(segments)
        value, kind = f"json_extract({src}, {path})", f"json_type({src}, {path})"
        direct = leaf.render(value, kind)
        if leaf.matches_missing and len(segments) > 1:
            # With an array on the way, the JSON path finds nothing, which must not read
            # as "missing": the array branches below decide instead.
            guards = " AND ".join(
                f"json_type({src}, {_json_path(segments[:k])}) IS NOT 'array'"
                for k in range(1, len(segments))
            )
            direct = f"({direct} AND {guards})"
        alternatives = [direct]
        element = self._alias()
        alternatives.append(
            f"({kind} = 'array' AND EXISTS (SELECT 1 FROM json_each({src}, {path}) AS {element}"
            f" WHERE {leaf.render(f'{element}.value', f'{element}.type')}))"
        )
        for k in range(1, len(segments)):
            prefix = _json_path(segments[:k])
            element = self._alias()
            # CASE: only objects are parsed as JSON (a string element is not JSON text),
            # and SQLite does not promise to evaluate AND terms left to right.
            inner = f"(CASE WHEN {element}.type = 'object' THEN {element}.value END)"
            alternatives.append(
                f"(json_type({src}, {prefix}) = 'array' AND EXISTS (SELECT 1 FROM "
                f"json_each({src}, {prefix}) AS {element} WHERE {element}.type = 'object' "
                f"AND {self._at(inner, segments[k:], leaf)}))"
            )
        return "(" + " OR ".join(alternatives) + ")"

    def _eq_leaf(self, value: Any) -> _Leaf:
        value = normalize(value)
        if value is None:
            return _Leaf(lambda v, t: f"({t} IS NULL OR {t} = 'null')", matches_missing=True)
        if isinstance(value, bool):
            literal = "'true'" if value else "'false'"
            return _Leaf(lambda v, t: f"{t} = {literal}", matches_missing=False)
        if is_number(value):
            p = self.param(value)
            return _Leaf(
                lambda v, t: f"({v} = {p} AND {t} IN ('integer', 'real'))", matches_missing=False
            )
        if isinstance(value, str | datetime):
            p = self.param(_encode(value))
            return _Leaf(lambda v, t: f"({v} = {p} AND {t} = 'text')", matches_missing=False)
        kind = "'array'" if isinstance(value, list) else "'object'"
        p = self.param(_dumps(value))
        return _Leaf(lambda v, t: f"({v} = {p} AND {t} = {kind})", matches_missing=False)

    def _in_leaf(self, values: Sequence[Any]) -> _Leaf:
        texts = [_encode(normalize(v)) for v in values if isinstance(v, str | datetime)]
        numbers = [v for v in values if is_number(v)]
        others = [
            self._eq_leaf(v) for v in values if not (isinstance(v, str | datetime) or is_number(v))
        ]
        text_params = ", ".join(self.param(v) for v in texts)
        number_params = ", ".join(self.param(v) for v in numbers)

        def render(v: str, t: str) -> str:
            # Grouped IN lists keep the common case ($in over strings) an index lookup.
            terms = []
            if texts:
                terms.append(f"({v} IN ({text_params}) AND {t} = 'text')")
            if numbers:
                terms.append(f"({v} IN ({number_params}) AND {t} IN ('integer', 'real'))")
            terms.extend(leaf.render(v, t) for leaf in others)
            return "(" + " OR ".join(terms) + ")" if terms else "0"

        return _Leaf(render, matches_missing=any(v is None for v in values))

    def _compare_leaf(self, op: str, value: Any) -> _Leaf:
        sql_op = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}[op]
        if value is None:
            if op in ("$gte", "$lte"):
                return self._eq_leaf(None)
            return _Leaf(lambda v, t: "0", matches_missing=False)
        if isinstance(value, bool):
            p = self.param(int(value))
            return _Leaf(
                lambda v, t: f"({v} {sql_op} {p} AND {t} IN ('true', 'false'))",
                matches_missing=False,
            )
        if is_number(value):
            p = self.param(value)
            return _Leaf(
                lambda v, t: f"({v} {sql_op} {p} AND {t} IN ('integer', 'real'))",
                matches_missing=False,
            )
        low, high = self.param(_DATE_LOW), self.param(_DATE_HIGH)
        if isinstance(value, datetime):
            p = self.param(_encode_datetime(value))
            return _Leaf(
                lambda v, t: (
                    f"({v} {sql_op} {p} AND {t} = 'text' AND {v} >= {low} AND {v} < {high})"
                ),
                matches_missing=False,
            )
        if isinstance(value, str):
            p = self.param(_encode_str(value))
            return _Leaf(
                lambda v, t: (
                    f"({v} {sql_op} {p} AND {t} = 'text' AND NOT ({v} >= {low} AND {v} < {high}))"
                ),
                matches_missing=False,
            )
        raise ValueError(f"{op} needs a number, string, boolean, datetime or None")


def _order_by(sort: SortSpec | None) -> str:
    terms = [
        f"{_value_expr(path)} {'ASC' if direction == 1 else 'DESC'}"
        for path, direction in sort or ()
    ]
    terms.append("d.rowid ASC")  # ties (and no sort at all) in insertion order
    return ", ".join(terms)


def _table(collection: str) -> str:
    return _quote_ident(f"c:{collection}")
