"""Issue 16, finding 7: the referral service's own consumer refuses a ``dispute.ruled.v1``
that does not come from coordination (a process holding referral's, or anyone's, bus
credentials cannot reassign a referral by forging a ruling)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from kernel.consumer import EventRouter, ForgedSourceError, check_source
from kernel.contracts.event_sources import EVENT_SOURCES
from kernel.envelope import Envelope, EventPayload, new_envelope
from kernel.settings import Settings
from kernel.wiring import build_deps
from liandong.asyncapi import render_event_sources
from referral.bootstrap import bootstrap
from referral.contracts.consumed import DisputeRuled


def _ruling(service: str) -> object:
    return new_envelope(
        DisputeRuled(
            dispute_id="d-1",
            referral_id="r-1",
            matter_code="M-1",
            responsible_agency_id="fy-natres",
            outcome_kind="decision",
            basis="抚政决〔2026〕7号",
            rule_id=None,
            ruled_at=datetime(2026, 3, 2, tzinfo=UTC),
        ),
        district="fuyuan",
        service=service,
        subject="d-1",
    )


class _Moved(EventPayload):
    event_type = "deadline.moved.v1"
    key: str


def _moved(service: str) -> Envelope:
    return new_envelope(_Moved(key="k-1"), district="fuyuan", service=service, subject="k-1")


async def _ignore(envelope: Envelope) -> None:
    return None


async def test_issue_16_R_DSP_03_referral_refuses_a_ruling_from_the_wrong_source(
    tmp_path: Path, unique_name: str
) -> None:
    """Failed before: the router handled any ``dispute.ruled.v1`` whatever its source."""
    settings = Settings(store="embedded", bus="memory", data_dir=tmp_path, instance=unique_name)
    service = bootstrap(await build_deps(settings, "referral"))
    try:
        (spec,) = service.runtime.subscriptions
        # Bound to the publisher's key only: a forged key never reaches the queue.
        assert "fuyuan.coordination.dispute.ruled.v1" in spec.bindings
        assert not any(b.startswith("fuyuan.*.") for b in spec.bindings)
        forged = _ruling("referral")
        with pytest.raises(ForgedSourceError, match="only /liandong/fuyuan/coordination publish"):
            await spec.handler(forged)  # type: ignore[arg-type]
        # The source must agree with the service too.
        genuine = _ruling("coordination")
        spoofed = genuine.model_copy(update={"source": "/liandong/fuyuan/referral"})  # type: ignore[attr-defined]
        with pytest.raises(ForgedSourceError):
            check_source(spoofed)
        check_source(genuine)  # type: ignore[arg-type]
    finally:
        await service.runtime.store.close()


def test_issue_16_event_sources_are_generated_from_the_published_events() -> None:
    """The kernel's copy of "who publishes what" is the AsyncAPI catalogue's."""
    from liandong.asyncapi import EVENT_SOURCES_PATH

    assert EVENT_SOURCES_PATH.read_text(encoding="utf-8") == render_event_sources(), (
        "run `uv run python -m liandong.asyncapi` and commit"
    )
    assert EVENT_SOURCES["dispute.ruled.v1"] == ("coordination",)
    assert EVENT_SOURCES["referral.sent.v1"] == ("referral",)
    # A kernel contract both clock owners publish (issue 20): either may, nobody else.
    assert EVENT_SOURCES["deadline.moved.v1"] == ("coordination", "referral")


def test_issue_16_a_type_with_two_publishers_is_refused_from_a_third() -> None:
    """``deadline.moved.v1`` comes from referral or coordination (whoever owns the clock);
    a notify-signed one is forged. The router binds both publishers' keys, no other."""
    for service in ("referral", "coordination"):
        check_source(_moved(service))
    with pytest.raises(ForgedSourceError, match="coordination, /liandong/fuyuan/referral"):
        check_source(_moved("notify"))
    router = EventRouter("fuyuan").on("deadline.moved.v1", _ignore)
    assert router.bindings() == [
        "fuyuan.coordination.deadline.moved.v1",
        "fuyuan.referral.deadline.moved.v1",
    ]
