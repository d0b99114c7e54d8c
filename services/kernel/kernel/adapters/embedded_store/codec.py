"""Value encoding: documents as JSON text in SQLite (see the package docstring's *Values*)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from kernel.store import Document
from kernel.store_language import MISSING, utc_ms

_TAG: Final = "\x01"
_DATE_TAG: Final = "\x01d:"
_STR_TAG: Final = "\x01s:"
# Every encoded datetime sorts inside [_DATE_LOW, _DATE_HIGH) and nothing else does.
_DATE_LOW: Final = _DATE_TAG
_DATE_HIGH: Final = "\x01d;"


def _encode_str(value: str) -> str:
    return _STR_TAG + value if value.startswith(_TAG) else value


def _encode_datetime(value: datetime) -> str:
    v = utc_ms(value)
    # Spelled out rather than strftime: %Y does not zero-pad years before 1000 everywhere,
    # and the fixed width is what makes string order equal time order.
    return (
        f"{_DATE_TAG}{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:"
        f"{v.second:02d}.{v.microsecond // 1000:03d}Z"
    )


def _encode(value: Any) -> Any:
    if isinstance(value, str):
        return _encode_str(value)
    if isinstance(value, datetime):
        return _encode_datetime(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"document keys must be strings, got {key!r}")
            out[key] = _encode(item)
        return out
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    raise ValueError(f"unsupported value type {type(value).__name__}: {value!r}")


def _decode(value: Any) -> Any:
    if isinstance(value, str):
        if value.startswith(_DATE_TAG):
            return datetime.strptime(value[len(_DATE_TAG) :], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                tzinfo=UTC
            )
        if value.startswith(_STR_TAG):
            return value[len(_STR_TAG) :]
        return value
    if isinstance(value, dict):
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


def _dumps(value: Any) -> str:
    # One fixed rendering (compact, non-ASCII kept): equality on sub-documents and arrays
    # compares this text with what SQLite's json_extract returns for the stored value.
    return json.dumps(_encode(value), separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _split_doc(doc: Mapping[str, Any]) -> tuple[str, str]:
    doc_id = doc.get("_id", MISSING) if isinstance(doc, Mapping) else MISSING
    if not isinstance(doc_id, str):
        raise ValueError(f"a document needs a string _id, got {doc_id!r}")
    body = {key: value for key, value in doc.items() if key != "_id"}
    return _encode_str(doc_id), _dumps(body)


def _join_doc(doc_id: str, body: str) -> Document:
    decoded = _decode(json.loads(body))
    return {"_id": _decode(doc_id), **decoded}
