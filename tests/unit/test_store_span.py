"""``kernel.telemetry.store_span``: a client span per store write when tracing is on, and
nothing at all (not even OpenTelemetry's no-op span made current) when it is off."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import kernel.telemetry as telemetry


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    # A provider of this test's own: the process-wide one is left alone.
    provider = TracerProvider()
    spans = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    monkeypatch.setattr(telemetry, "tracer", lambda: provider.get_tracer("test"))
    return spans


def test_with_tracing_on_each_store_write_is_a_client_span(
    exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telemetry, "_mongo_spans", True)
    with telemetry.store_span("insert", "referrals") as span:
        assert span.is_recording()
        assert trace.get_current_span() is span
    (finished,) = exporter.get_finished_spans()
    assert finished.name == "store.insert referrals"
    assert finished.kind == trace.SpanKind.CLIENT
    assert dict(finished.attributes or {}) == {
        "db.operation.name": "insert",
        "db.collection.name": "referrals",
    }


def test_with_tracing_off_nothing_is_started_or_made_current(
    exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telemetry, "_mongo_spans", False)
    before = trace.get_current_span()
    for _ in range(2):  # the shared no-op context can be entered again
        with telemetry.store_span("insert", "referrals") as span:
            assert span is trace.INVALID_SPAN
            assert not span.is_recording()
            assert trace.get_current_span() is before
    assert exporter.get_finished_spans() == ()
