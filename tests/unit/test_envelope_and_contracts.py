"""The CloudEvents envelope, and the published payloads read by their consumers' tolerant
readers (old consumers keep reading new payloads)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from coordination.contracts.published import AgencyRegisteredV1
from kernel.envelope import Envelope, EnvelopeError, EventPayload, new_envelope
from notify.contracts.consumed import AgencyRegistered as NotifyAgencyRegistered
from notify.contracts.consumed import ReferralSent as NotifyReferralSent
from referral.contracts.consumed import AgencyRegistered as ReferralAgencyRegistered
from referral.contracts.published import ReferralSentV1


def _sent() -> ReferralSentV1:
    return ReferralSentV1(
        referral_id="r1",
        sender_id="fy-market",
        receiver_id="fy-hancong",
        matter_code="330217001",
        title="无证经营",
        urgent=True,
        sent_at=datetime(2026, 2, 13, 1, 0, tzinfo=UTC),
        accept_due=datetime(2026, 2, 27, 15, 59, 59, tzinfo=UTC),
        actor_id="p1",
    )


def test_envelope_round_trips_through_cloudevents_json() -> None:
    env = new_envelope(
        _sent(), district="fuyuan", service="referral", subject="r1", correlation_id="c-1"
    )
    body = env.to_json_bytes()
    doc = json.loads(body)
    assert doc["specversion"] == "1.0"
    assert doc["type"] == "referral.sent.v1"
    assert doc["source"] == "/liandong/fuyuan/referral"
    assert doc["district"] == "fuyuan" and doc["correlationid"] == "c-1"
    back = Envelope.from_json_bytes(body)
    assert back == env
    assert back.routing_key == "fuyuan.referral.referral.sent.v1"


def test_malformed_body_is_an_envelope_error() -> None:
    with pytest.raises(EnvelopeError):
        Envelope.from_json_bytes(b"{not json")
    with pytest.raises(EnvelopeError, match="district"):
        Envelope.from_json_bytes(
            json.dumps(
                {"specversion": "1.0", "id": "1", "source": "/x", "type": "t.v1", "data": {}}
            ).encode()
        )


def test_payload_of_wrong_type_or_shape_is_refused() -> None:
    env = new_envelope(_sent(), district="fuyuan", service="referral")
    with pytest.raises(EnvelopeError, match=r"not agency\.registered\.v1"):
        env.payload(ReferralAgencyRegistered)
    broken = env.model_copy(update={"data": {"referral_id": "r1"}})
    with pytest.raises(EnvelopeError, match="invalid payload"):
        broken.payload(NotifyReferralSent)


def test_consumers_read_what_producers_publish() -> None:
    sent = new_envelope(_sent(), district="fuyuan", service="referral")
    read = sent.payload(NotifyReferralSent)
    assert read.receiver_id == "fy-hancong" and read.accept_due == _sent().accept_due

    registered = new_envelope(
        AgencyRegisteredV1(
            agency_id="fy-hancong",
            name="寒葱沟镇人民政府",
            kind="township",
            district="fuyuan",
            version=3,
        ),
        district="fuyuan",
        service="coordination",
    )
    assert registered.payload(ReferralAgencyRegistered).version == 3
    assert registered.payload(NotifyAgencyRegistered).name == "寒葱沟镇人民政府"


def test_old_consumer_reads_a_newer_payload_with_extra_fields() -> None:
    class ReferralSentV1Newer(EventPayload):
        event_type = "referral.sent.v1"
        referral_id: str
        sender_id: str
        receiver_id: str
        title: str
        sent_at: datetime
        priority_lane: str  # a field added later

    env = new_envelope(
        ReferralSentV1Newer(
            referral_id="r1",
            sender_id="a",
            receiver_id="b",
            title="t",
            sent_at=datetime(2026, 1, 5, tzinfo=UTC),
            priority_lane="fast",
        ),
        district="fuyuan",
        service="referral",
    )
    assert env.payload(NotifyReferralSent).urgent is False
