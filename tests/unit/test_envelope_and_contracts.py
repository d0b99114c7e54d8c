"""The CloudEvents envelope, and the published payloads read by their consumers' tolerant
readers (old consumers keep reading new payloads)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

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


# -- the wire form without the SDK's event object (issue 21, P3) ------------------------------

BEIJING = timezone(timedelta(hours=8))


def _envelopes() -> list[Envelope]:
    base = new_envelope(
        _sent(), district="fuyuan", service="referral", subject="r1", correlation_id="c-1"
    )
    return [
        base,
        base.model_copy(update={"subject": None}),
        base.model_copy(
            update={
                "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                "tracestate": "congo=t61rcWkgMzE",
            }
        ),
        base.model_copy(update={"time": datetime(2026, 2, 13, 9, 0, tzinfo=BEIJING)}),
        base.model_copy(update={"time": datetime(2026, 2, 13, 1, 0, 0, 1, tzinfo=UTC)}),
        base.model_copy(
            update={
                "data": {
                    "title": '无证经营 "引号" \\ \u2028',
                    "nested": {"list": [1, 2.5, None, True, "街道"]},
                    "at": datetime(2026, 2, 13, 1, 0, tzinfo=UTC),
                }
            }
        ),
        base.model_copy(update={"data": {}}),
    ]


@pytest.mark.parametrize("index", range(7))
def test_the_wire_form_is_byte_for_byte_what_the_cloudevents_sdk_writes(index: int) -> None:
    envelope = _envelopes()[index]
    assert envelope.to_json_bytes() == envelope.to_json_bytes_by_sdk()


@pytest.mark.parametrize("index", range(7))
def test_our_own_bodies_are_read_without_the_sdk_and_alike(
    index: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    envelope = _envelopes()[index]
    body = envelope.to_json_bytes()
    by_sdk = Envelope.from_json_bytes_by_sdk(body)

    def no_sdk(cls: type[Envelope], body: bytes) -> Envelope:
        raise AssertionError("the SDK path was taken for a body of our own shape")

    monkeypatch.setattr(Envelope, "from_json_bytes_by_sdk", classmethod(no_sdk))
    fast = Envelope.from_json_bytes(body)
    assert fast == by_sdk
    # Not only equal: the same instant in the same offset, the same payload.
    assert fast.time.utcoffset() == by_sdk.time.utcoffset()
    assert fast.model_dump() == by_sdk.model_dump()


def _body(**changes: object) -> dict[str, object]:
    body: dict[str, object] = json.loads(_envelopes()[0].to_json_bytes())
    for key, value in changes.items():
        if value is _DROP:
            body.pop(key, None)
        else:
            body[key] = value
    return body


_DROP = object()

# Bodies of another shape: each is read by the SDK, and the result (an envelope or an
# EnvelopeError) is the same as the SDK path's own.
OTHER_BODIES = {
    "another producer's extension": _body(priority="high"),
    "no correlationid": _body(correlationid=_DROP),
    "empty correlationid": _body(correlationid=""),
    "no service": _body(service=_DROP),
    "no datacontenttype": _body(datacontenttype=_DROP),
    "text datacontenttype": _body(datacontenttype="text/plain"),
    "data_base64": _body(data=_DROP, data_base64="eyJhIjogMX0="),
    "no data": _body(data=_DROP),
    "data is a list": _body(data=[1, 2]),
    "null subject": _body(subject=None),
    "empty subject": _body(subject=""),
    "null traceparent": _body(traceparent=None),
    "empty id": _body(id=""),
    "numeric id": _body(id=7),
    "no district": _body(district=_DROP),
    "specversion 0.3": _body(specversion="0.3"),
    "naive time": _body(time="2026-02-13T01:00:00"),
    "numeric time": _body(time=1770944400),
    "time with a space": _body(time="2026-02-13 01:00:00Z"),
    "dataschema": _body(dataschema="https://example.org/schema"),
}


@pytest.mark.parametrize("name", sorted(OTHER_BODIES))
def test_bodies_of_another_shape_read_as_the_sdk_reads_them(name: str) -> None:
    raw = json.dumps(OTHER_BODIES[name]).encode()
    try:
        expected: Envelope | str = Envelope.from_json_bytes_by_sdk(raw)
    except EnvelopeError as exc:
        expected = f"EnvelopeError: {exc}"
    try:
        got: Envelope | str = Envelope.from_json_bytes(raw)
    except EnvelopeError as exc:
        got = f"EnvelopeError: {exc}"
    assert got == expected


@pytest.mark.parametrize(
    "raw", [b"{not json", b"\xff\xfe", b"[]", b"null", b'"text"', b""], ids=repr
)
def test_malformed_bodies_are_envelope_errors_on_both_paths(raw: bytes) -> None:
    with pytest.raises(EnvelopeError):
        Envelope.from_json_bytes_by_sdk(raw)
    with pytest.raises(EnvelopeError):
        Envelope.from_json_bytes(raw)
