"""Structured logs: every line carries the service, the district, the correlation id and the
trace id of the work it belongs to.

The ids live in context variables, set by the HTTP middleware (``kernel.http``) for a request
and by the consumer wrapper (``kernel.runtime``) for an event, so any ``log.info`` deep in a
handler is tagged without passing anything around. ``configure_logging`` installs one handler
on the root logger, writing JSON (python-json-logger) in production and plain text otherwise.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter

__all__ = [
    "ContextFilter",
    "bind",
    "configure_logging",
    "current_correlation_id",
    "current_service",
]

_correlation_id: ContextVar[str | None] = ContextVar("liandong_correlation_id", default=None)
_service: ContextVar[str | None] = ContextVar("liandong_service", default=None)
# Set when no OpenTelemetry span is recording (tracing off): the trace id of an incoming
# ``traceparent`` header or event attribute, so logs still join the caller's trace.
_trace_id: ContextVar[str | None] = ContextVar("liandong_trace_id", default=None)

#: Name of the handler ``configure_logging`` installs (so a second call replaces it).
_HANDLER_NAME = "liandong"
_PLAIN = (
    "%(asctime)s %(levelname)s %(name)s [%(service)s %(district)s "
    "corr=%(correlation_id)s trace=%(trace_id)s] %(message)s"
)
_JSON_FIELDS = (
    "%(asctime)s %(levelname)s %(name)s %(message)s "
    "%(service)s %(district)s %(correlation_id)s %(trace_id)s %(span_id)s"
)


def current_correlation_id() -> str | None:
    """The correlation id of the request or event being handled, if any."""
    return _correlation_id.get()


def current_service() -> str | None:
    return _service.get()


def trace_id_from_traceparent(traceparent: str | None) -> str | None:
    """The trace id of a W3C ``traceparent`` (``00-<trace id>-<span id>-<flags>``)."""
    if not traceparent:
        return None
    parts = traceparent.split("-")
    if len(parts) != 4 or len(parts[1]) != 32:
        return None
    return parts[1]


@contextmanager
def bind(
    *,
    correlation_id: str | None = None,
    service: str | None = None,
    traceparent: str | None = None,
) -> Iterator[None]:
    """Tag log lines written inside the block (values given as None keep the outer ones)."""
    tokens = []
    if correlation_id is not None:
        tokens.append((_correlation_id, _correlation_id.set(correlation_id)))
    if service is not None:
        tokens.append((_service, _service.set(service)))
    trace_id = trace_id_from_traceparent(traceparent)
    if trace_id is not None:
        tokens.append((_trace_id, _trace_id.set(trace_id)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class ContextFilter(logging.Filter):
    """Adds ``service``, ``district``, ``correlation_id``, ``trace_id`` and ``span_id`` to every
    record (``-`` when unknown, so plain-text formats never fail on a missing field)."""

    def __init__(self, district: str, default_service: str = "-") -> None:
        super().__init__()
        self.district = district
        self.default_service = default_service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = _service.get() or self.default_service
        record.district = self.district
        record.correlation_id = _correlation_id.get() or "-"
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            record.trace_id = f"{context.trace_id:032x}"
            record.span_id = f"{context.span_id:016x}"
        else:
            record.trace_id = _trace_id.get() or "-"
            record.span_id = "-"
        return True


def configure_logging(
    *,
    district: str,
    service: str = "-",
    fmt: Literal["json", "plain"] = "plain",
    level: str = "INFO",
) -> logging.Handler:
    """Install (or replace) the process's log handler on the root logger and route uvicorn's
    loggers through it, so every line of the process has one shape."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == _HANDLER_NAME:
            root.removeHandler(existing)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(ContextFilter(district, service))
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                _JSON_FIELDS,
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                timestamp=False,
            )
        )
    else:
        handler.setFormatter(logging.Formatter(_PLAIN))
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn configures its own handlers; ours carry the context fields instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uv = logging.getLogger(name)
        uv.handlers.clear()
        uv.propagate = True
    return handler
