"""The live inbox through the real gateway: a subscriber of ``inboxItemAdded`` receives the
item a newly sent referral puts in the receiver's inbox (R-NTF-04's notices reach the
addressee as they arrive); a stranger to the agency is refused.

The suite runs embedded behind the real Hive gateway, as the ``embedded_gateway`` fixture
runs it, but this fixture keeps the suite's bus so the test can put ``referral.sent.v1`` on
it exactly as the referral service's relay does; the referral workflow itself is tested by
the referral service's own end-to-end tests.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kernel.envelope import EventPayload, new_envelope
from liandong.cli import mint_token
from liandong.suite import Suite
from tests.e2e.conftest import serving_embedded_suite
from tests.e2e.scenario import Gateway, eventually, subscription_events
from tests.e2e.stalls import assert_no_stalls


class ReferralSentV1(EventPayload):
    """What the referral service publishes when a referral leaves the sender (the fields of
    its contract that notify reads)."""

    event_type = "referral.sent.v1"
    referral_id: str
    sender_id: str
    receiver_id: str
    matter_code: str
    title: str
    urgent: bool
    sent_at: datetime
    accept_due: datetime | None = None
    actor_id: str


@pytest.fixture
async def live_suite(tmp_path: Path, unique_name: str) -> AsyncIterator[tuple[Gateway, Suite]]:
    # The webhook's example host is named, not resolved: the test machine may have no DNS.
    async with serving_embedded_suite(
        tmp_path, unique_name, webhook_allowed_hosts=["police.example"]
    ) as served:
        yield Gateway(served.gateway_url, served.token), served.built


SUBSCRIBE = """
subscription($agencyId: ID!) {
  inboxItemAdded(agencyId: $agencyId) { id agencyId kind title subjectId unread audience }
}"""


async def _events(gw: Gateway, token: str, agency: str, out: asyncio.Queue[dict[str, Any]]) -> None:
    """Reads the server-sent events of one inbox subscription into ``out`` until cancelled."""
    await subscription_events(gw, token, SUBSCRIBE, {"agencyId": agency}, out)


INBOX = """query { myInbox { edges { node { id subjectId } } } }"""


async def test_R_NTF_04_subscriber_receives_new_inbox_item_through_gateway(
    live_suite: tuple[Gateway, Suite],
) -> None:
    gw, suite = live_suite
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    stranger: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    listening = asyncio.create_task(
        _events(gw, gw.mint("fy-hancong", ["clerk"]), "fy-hancong", received)
    )
    refused = asyncio.create_task(
        _events(gw, gw.mint("fy-market", ["clerk"]), "fy-hancong", stranger)
    )
    try:
        clerk = gw.mint("fy-hancong", ["clerk"])
        # The subscription delivers what arrives after it started; referrals are sent until
        # one arrives (the first may be stored before the gateway has opened the stream).
        item: dict[str, Any] | None = None
        for n in range(1, 11):
            now = gw.now()
            rid = f"live-{n}"
            await suite.bus.publish(
                [
                    new_envelope(
                        ReferralSentV1(
                            referral_id=rid,
                            sender_id="fy-market",
                            receiver_id="fy-hancong",
                            matter_code="330217001",
                            title=f"无证经营{n}",
                            urgent=False,
                            sent_at=now,
                            accept_due=now + timedelta(days=7),
                            actor_id="p-test",
                        ),
                        district="fuyuan",
                        service="referral",
                        subject=rid,
                    )
                ]
            )

            async def stored(rid: str = rid) -> bool:
                body = await gw.query(clerk, INBOX)
                edges = body["data"]["myInbox"]["edges"]
                return any(e["node"]["subjectId"] == rid for e in edges)

            await eventually(stored, what=f"inbox item of {rid}")
            try:
                message = await asyncio.wait_for(received.get(), timeout=5)
            except TimeoutError:
                continue
            item = message["data"]["inboxItemAdded"]
            break
        assert item is not None, "the subscription delivered nothing"
        assert item["subjectId"] == rid, item
        assert item["agencyId"] == "fy-hancong" and item["kind"] == "referral.received"
        assert item["unread"] is True and item["audience"] == "agency"
        assert f"无证经营{n}" in item["title"]

        denial = await asyncio.wait_for(stranger.get(), timeout=30)
        assert denial.get("data") is None, denial
        assert "only staff of this agency" in json.dumps(denial["errors"], ensure_ascii=False)

        # The scenario left no case without an owner and a running clock (issue 14).
        await assert_no_stalls(gw)
    finally:
        for task in (listening, refused):
            task.cancel()
        await asyncio.gather(listening, refused, return_exceptions=True)


RECORD = """
query($f: ProcessRecordFilter) {
  processRecord(filter: $f, first: 50) {
    edges { cursor node { id seq type subject actorId stateBefore agencyIds payload } }
    pageInfo { hasNextPage endCursor }
  }
}"""

REGISTER = """
mutation($input: RegisterWebhookInput!) {
  registerWebhook(input: $input) {
    __typename
    ... on WebhookRegistration { secret webhook { id url eventTypes } }
    ... on UserError { code field message }
  }
}"""


async def test_R_SUP_01_process_record_and_webhook_registration_through_gateway(
    live_suite: tuple[Gateway, Suite],
) -> None:
    gw, suite = live_suite
    now = gw.now()
    event = new_envelope(
        ReferralSentV1(
            referral_id="rec-1",
            sender_id="fy-market",
            receiver_id="fy-hancong",
            matter_code="330217001",
            title="记录",
            urgent=False,
            sent_at=now,
            actor_id="p-li",
        ),
        district="fuyuan",
        service="referral",
        subject="rec-1",
    )
    await suite.bus.publish([event])
    supervisor = gw.mint("fy-justice", ["supervisor"])

    async def recorded() -> list[dict[str, Any]]:
        body = await gw.query(supervisor, RECORD, {"f": {"subject": "rec-1"}})
        return list(body["data"]["processRecord"]["edges"])

    [edge] = await eventually(recorded, what="the record entry of rec-1")
    node = edge["node"]
    assert node["id"] == event.id and node["type"] == "referral.sent.v1"
    assert node["actorId"] == "p-li" and node["stateBefore"] is None
    assert {"fy-market", "fy-hancong"} <= set(node["agencyIds"])
    assert node["payload"]["title"] == "记录"

    # Staff see what concerns their agency only; asking for another agency is refused.
    other = gw.mint("fy-haiqing", ["clerk"])
    body = await gw.query(other, RECORD, {"f": {"subject": "rec-1"}})
    assert body["data"]["processRecord"]["edges"] == []
    body = await gw.query(other, RECORD, {"f": {"agencyId": "fy-market"}})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await gw.query(
        supervisor,
        RECORD,
        {"f": {"timeFrom": now.isoformat(), "timeTo": (now - timedelta(hours=1)).isoformat()}},
    )
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"

    bureau = gw.mint("fy-police", ["bureau_system"])
    bad = await gw.query(bureau, REGISTER, {"input": {"url": "ftp://nowhere"}})
    assert bad["data"]["registerWebhook"]["__typename"] == "UserError"
    assert bad["data"]["registerWebhook"]["code"] == "VALIDATION_FAILED"
    assert bad["data"]["registerWebhook"]["field"] == "url"
    refused = await gw.query(
        gw.mint("fy-market", ["clerk"]), REGISTER, {"input": {"url": "https://x.example/h"}}
    )
    assert refused["data"]["registerWebhook"]["code"] == "FORBIDDEN"
    body = await gw.query(bureau, "{ webhooks { id } }")
    assert body["data"]["webhooks"] == []  # nothing was registered by the refused calls
    good = await gw.query(
        bureau,
        REGISTER,
        {"input": {"url": "https://police.example/hook", "eventTypes": ["referral.sent.v1"]}},
    )
    registration = good["data"]["registerWebhook"]
    assert registration["__typename"] == "WebhookRegistration", registration
    assert len(registration["secret"]) > 20
    body = await gw.query(bureau, "{ webhooks { id url } }")
    assert body["data"]["webhooks"] == [
        {"id": registration["webhook"]["id"], "url": "https://police.example/hook"}
    ]


async def test_subscription_ends_when_its_token_expires(
    live_suite: tuple[Gateway, Suite],
) -> None:
    """A subscription lives no longer than the token that opened it (issue 16, finding 9):
    a token 25 s past its expiry is still inside the 30 s leeway when the stream opens, and
    the stream ends with UNAUTHENTICATED a few seconds later instead of running on."""
    gw, suite = live_suite
    settings = suite.services["notify"].runtime.settings
    expiring = mint_token(settings, "fy-hancong", ["clerk"], hours=-25 / 3600)
    ending: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = time.monotonic()
    await asyncio.wait_for(_events(gw, expiring, "fy-hancong", ending), timeout=60)
    assert time.monotonic() - started < 30
    last = ending.get_nowait()
    while not ending.empty():
        last = ending.get_nowait()
    assert last["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", last
