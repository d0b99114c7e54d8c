"""Issue 5 in the production topology (each service its own process over RabbitMQ and
MongoDB, behind the real Hive gateway): a webhook subscriber (R-SUP-01's push to other
bureaus' systems) that is down while events flow receives, once it is back, every matching
event exactly once; and a GraphQL subscription receives a new inbox item (R-NTF-04's
notices reach the addressee as they arrive). The events come from driving the real referral
workflow through the gateway.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from liandong.gateway import free_port
from liandong.testing.serving import LoopServer
from tests.e2e.scenario import DRAFT, STEP, Gateway, draft_input, eventually
from tests.e2e.stalls import assert_no_stalls
from tests.e2e.test_notify_live_inbox import _events

pytestmark = pytest.mark.timeout(420)

REGISTER = """
mutation($input: RegisterWebhookInput!) {
  registerWebhook(input: $input) {
    __typename
    ... on WebhookRegistration { webhook { id } }
    ... on UserError { code field message }
  }
}"""

RECORD = """
query($f: ProcessRecordFilter) {
  processRecord(filter: $f, first: 50) { edges { node { id type subject } } }
}"""


class Receiver:
    """A real HTTP endpoint for the webhook: records the event id header of every POST."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[tuple[str, str]] = []  # (event id, CloudEvent type)
        self._serving: LoopServer | None = None

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        event_type = json.loads(body).get("type", "")
        self.received.append((headers.get("x-liandong-event-id", ""), event_type))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> None:
        self._serving = LoopServer(self, port=self.port, what="the receiver")
        await self._serving.start()

    async def stop(self) -> None:
        if self._serving is not None:
            await self._serving.stop()


async def _mutate(gw: Gateway, token: str, query: str, field: str, **variables: Any) -> Any:
    body = await gw.query(token, query, variables)
    assert body.get("data"), body
    return body["data"][field]


async def _send_referral(gw: Gateway, title: str) -> str:
    """Draft, complete, approve and send a referral from 市场监管局 to 寒葱沟镇."""
    clerk = gw.mint("fy-market", ["clerk"])
    leader = gw.mint("fy-market", ["leader"])

    async def drafted() -> Any:
        # Succeeds once referral's read models (fed by coordination's events) are ready.
        r = await _mutate(
            gw,
            clerk,
            DRAFT,
            "draftReferral",
            input=draft_input("fy-market", "fy-hancong", title, now=gw.now),
        )
        return r if r["__typename"] == "Referral" else None

    rid: str = (await eventually(drafted, within=60, what="referral's read models"))["id"]
    # R-REF-02: the letter generated, a source material uploaded as a file.
    r = await _mutate(gw, clerk, STEP % "generateTransferLetter", "generateTransferLetter", id=rid)
    assert r["__typename"] == "Referral", r
    await gw.upload(clerk, rid)
    for token, step in ((clerk, "submitReferral"), (leader, "approveReferral")):
        r = await _mutate(gw, token, STEP % step, step, id=rid)
        assert r["__typename"] == "Referral", r
    r = await _mutate(gw, clerk, STEP % "sendReferral", "sendReferral", id=rid)
    assert r == {"__typename": "Referral", "id": rid, "status": "SENT"}, r
    return rid


async def test_R_SUP_01_webhook_down_then_back_gets_each_event_once_and_live_inbox_production(
    production_gateway: Gateway,
) -> None:
    gw = production_gateway
    # The township's own system subscribes to what is addressed to it.
    bureau = gw.mint("fy-hancong", ["bureau_system"])
    receiver = Receiver(free_port())  # not listening yet: the subscriber is down
    # Issue 16, finding 2: the police's system subscribes to everything, with no filter; it
    # is named in none of these referrals, so nothing of them may reach it.
    police = Receiver(free_port())
    await police.start()
    snooping = await _mutate(
        gw,
        gw.mint("fy-police", ["bureau_system"]),
        REGISTER,
        "registerWebhook",
        input={"url": police.url},
    )
    assert snooping["__typename"] == "WebhookRegistration", snooping
    registered = await _mutate(
        gw,
        bureau,
        REGISTER,
        "registerWebhook",
        input={
            "url": receiver.url,
            "eventTypes": ["referral.sent.v1"],
            "agencyIds": ["fy-hancong"],
        },
    )
    assert registered["__typename"] == "WebhookRegistration", registered

    # The live inbox of the receiving township, through the gateway's subscription.
    live: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    listening = asyncio.create_task(
        _events(gw, gw.mint("fy-hancong", ["clerk"]), "fy-hancong", live)
    )
    try:
        # Events flow while the subscriber is down. The subscription delivers what arrives
        # after it started: referrals are sent until one arrives on it (at least two, so
        # the webhook has several events to catch up on).
        sent: list[str] = []
        item: dict[str, Any] | None = None
        for n in range(1, 6):
            sent.append(await _send_referral(gw, f"无证经营（生产拓扑{n}）"))
            if n < 2:
                continue
            try:
                message = await asyncio.wait_for(live.get(), timeout=15)
            except TimeoutError:
                continue
            item = message["data"]["inboxItemAdded"]
            break
        assert item is not None, "the subscription delivered nothing"
        assert item["subjectId"] in sent and item["kind"] == "referral.received", item
        assert item["agencyId"] == "fy-hancong" and item["unread"] is True
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)

    # The ids of the matching events, from the full-process record.
    supervisor = gw.mint("fy-justice", ["supervisor"])
    expected: set[str] = set()
    for rid in sent:

        async def recorded(rid: str = rid) -> list[str]:
            body = await gw.query(supervisor, RECORD, {"f": {"subject": rid}})
            edges = body["data"]["processRecord"]["edges"]
            return [e["node"]["id"] for e in edges if e["node"]["type"] == "referral.sent.v1"]

        expected |= set(await eventually(recorded, within=60, what=f"{rid} in the record"))
    assert len(expected) == len(sent)
    assert receiver.received == []

    # The subscriber comes back: the retries (10 s, then 20 s, ... backoff) reach it.
    await receiver.start()
    try:

        async def caught_up() -> bool:
            return {event_id for event_id, _ in receiver.received} >= expected

        await eventually(caught_up, within=180, what="every matching event at the webhook")
        # One more referral while it is up arrives at once and also only once.
        sent.append(await _send_referral(gw, "无证经营（恢复后）"))

        async def latest() -> bool:
            return len(receiver.received) >= len(expected) + 1

        await eventually(latest, within=60, what="the event sent while the webhook is up")
        counts = Counter(event_id for event_id, _ in receiver.received)
        assert all(n == 1 for n in counts.values()), counts
        assert {t for _, t in receiver.received} == {"referral.sent.v1"}
        assert len(counts) == len(sent)
        # Everything the township's system received, the police's did not (the fan-out asks
        # the matrix, notify.webhookEvent, whatever a subscription's filter says).
        assert police.received == [], police.received
        await assert_no_stalls(gw)  # issue 14: every referral sent has its accept clock
    finally:
        await receiver.stop()
        await police.stop()
