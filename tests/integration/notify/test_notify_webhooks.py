"""Webhook subscriptions for other bureaus' systems, against a real HTTP receiver on a
loopback port, on both store adapters: signed deliveries (HMAC-SHA256), retries with backoff
while the receiver is down, every matching event exactly once when it is back, dead letters
after the limit, and replay."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kernel.auth import Principal
from kernel.caller import Caller
from kernel.envelope import Envelope, new_envelope
from kernel.errors import Forbidden, NotFound, ValidationFailed
from kernel.settings import Settings
from kernel.wiring import build_deps
from liandong.gateway import free_port
from liandong.testing.serving import LoopServer
from notify.application.webhooks import RegisterWebhook, ReplayDelivery
from notify.bootstrap import NotifyService, bootstrap
from notify.domain.webhooks import RetryPolicy, verify
from tests.fixtures.settings import embedded_settings, mongo_settings
from tests.infra import Server

from .test_notify_watch import ReferralSent, deliver, eventually, referral_sent

pytestmark = pytest.mark.timeout(120)

# The township's own system: it receives what is addressed to the township (issue 16: a
# bureau receives only events its agency is named in, or supervises).
BUREAU = Principal(
    person_id="sys-hancong",
    person_name="寒葱沟镇政务系统接口",
    agency_id="fy-hancong",
    district="fuyuan",
    roles=("bureau_system",),
)


@dataclass
class Receiver:
    """A bureau's endpoint: records every event id it accepted and checks each signature."""

    port: int
    secret: str = ""
    status: int = 200
    received: list[str] = field(default_factory=list)
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)
    bad_signatures: int = 0
    _serving: LoopServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        ok = verify(
            self.secret,
            int(request.headers["x-liandong-timestamp"]),
            body,
            request.headers["x-liandong-signature"],
        )
        if not ok:
            self.bad_signatures += 1
            return Response(status_code=401)
        if self.status >= 300:
            return Response(status_code=self.status)
        event = json.loads(body)
        assert request.headers["content-type"] == "application/cloudevents+json"
        assert request.headers["x-liandong-event-id"] == event["id"]
        self.received.append(event["id"])
        self.bodies[event["id"]] = event
        return Response(status_code=204)

    async def start(self) -> None:
        app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])
        self._serving = LoopServer(app, port=self.port, what="receiver")
        await self._serving.start()

    async def stop(self) -> None:
        if self._serving is not None:
            await self._serving.stop()


@pytest.fixture
async def settings(
    store_kind: str, request: pytest.FixtureRequest, tmp_path: Path, unique_name: str
) -> AsyncIterator[Settings]:
    if store_kind == "embedded":
        yield embedded_settings(tmp_path, unique_name)
        return
    server: Server = request.getfixturevalue("mongo_server")
    s = mongo_settings(tmp_path, unique_name, server)
    yield s
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(s.mongo_url)
    await client.drop_database(s.database_name("notify"))
    await client.close()


async def start_notify(settings: Settings, retry: RetryPolicy) -> NotifyService:
    service = bootstrap(await build_deps(settings, "notify"), webhook_retry=retry)
    await service.runtime.start()
    return service


def sent(rid: str, receiver: str, matter: str = "330217001") -> Envelope:
    env = referral_sent(rid, receiver)
    # matter_code is part of the real referral.sent.v1; the test payload adds it to the data.
    return env.model_copy(update={"data": {**env.data, "matter_code": matter}})


async def test_receiver_down_for_a_while_gets_every_matching_event_exactly_once(
    settings: Settings,
) -> None:
    retry = RetryPolicy(
        base=timedelta(milliseconds=50), cap=timedelta(milliseconds=300), max_attempts=10_000
    )
    service = await start_notify(settings, retry)
    receiver = Receiver(free_port())
    try:
        webhook, secret = await service.webhooks.register(
            RegisterWebhook(
                receiver.url,
                event_types=("referral.sent.v1",),
                agency_ids=("fy-hancong",),
                matter_codes=(),
            ),
            Caller(BUREAU),
        )
        receiver.secret = secret
        matching = [sent(f"m-{i}", "fy-hancong") for i in range(5)]
        other_agency = sent("x-1", "fy-haiqing")
        other_type = new_envelope(
            ReferralSent(
                referral_id="x-2",
                sender_id="fy-market",
                receiver_id="fy-hancong",
                title="x",
                sent_at=datetime.now(UTC),
            ),
            district="fuyuan",
            service="referral",
        ).model_copy(update={"type": "referral.drafted.v1"})
        for env in [*matching, other_agency, other_type, matching[0]]:  # with a redelivery
            await deliver(service, env)

        repo = service.webhooks.repo

        async def failing_for_a_while() -> bool:
            rows = await repo.list_deliveries(webhook["_id"], state=None, after=None, limit=50)
            return len(rows) == 5 and all(int(r.get("attempts") or 0) >= 3 for r in rows)

        await eventually(failing_for_a_while, "several failed attempts while the receiver is down")
        rows = await repo.list_deliveries(webhook["_id"], state=None, after=None, limit=50)
        assert all(r["state"] in ("pending", "delivering") and r["last_error"] for r in rows)

        await receiver.start()

        async def all_delivered() -> bool:
            done = await repo.list_deliveries(
                webhook["_id"], state="delivered", after=None, limit=50
            )
            return len(done) == 5

        await eventually(all_delivered, "every delivery delivered after the receiver came back")
        assert sorted(receiver.received) == sorted(e.id for e in matching)
        assert receiver.bad_signatures == 0
        assert other_agency.id not in receiver.received and other_type.id not in receiver.received
    finally:
        await service.runtime.stop()
        await receiver.stop()


async def test_dead_lettered_after_the_limit_then_replayed(settings: Settings) -> None:
    retry = RetryPolicy(
        base=timedelta(milliseconds=20), cap=timedelta(milliseconds=50), max_attempts=3
    )
    service = await start_notify(settings, retry)
    receiver = Receiver(free_port(), status=503)
    await receiver.start()
    try:
        webhook, receiver.secret = await service.webhooks.register(
            RegisterWebhook(
                receiver.url, event_types=(), agency_ids=(), matter_codes=("330217001",)
            ),
            Caller(BUREAU),
        )
        env = sent("d-1", "fy-hancong")
        await deliver(service, env)
        await deliver(service, sent("d-2", "fy-hancong", matter="999"))  # another matter
        repo = service.webhooks.repo

        async def dead() -> list[dict[str, object]]:
            return await repo.list_deliveries(webhook["_id"], state="dead", after=None, limit=5)

        [dead_one] = await eventually(dead, "the delivery dead-lettered")
        assert dead_one["attempts"] == 3 and dead_one["last_status"] == 503
        assert receiver.received == []

        receiver.status = 200
        replayed = await service.webhooks.replay(
            ReplayDelivery(str(dead_one["_id"])), Caller(BUREAU)
        )
        assert replayed["state"] == "pending" and replayed["attempts"] == 0

        async def delivered() -> bool:
            d = await repo.delivery(str(dead_one["_id"]))
            return d is not None and d["state"] == "delivered"

        await eventually(delivered, "the replayed delivery delivered")
        assert receiver.received == [env.id]
        with pytest.raises(NotFound):
            await service.webhooks.replay(ReplayDelivery("nope"), Caller(BUREAU))
    finally:
        await service.runtime.stop()
        await receiver.stop()


async def test_registration_is_refused_for_bad_input_and_other_roles(settings: Settings) -> None:
    service = await start_notify(settings, RetryPolicy())
    try:
        with pytest.raises(ValidationFailed) as bad_url:
            await service.webhooks.register(RegisterWebhook("ftp://example"), Caller(BUREAU))
        assert bad_url.value.field == "url"
        with pytest.raises(ValidationFailed) as blank:
            await service.webhooks.register(
                RegisterWebhook("https://example.org/h", ("", "x")), Caller(BUREAU)
            )
        assert blank.value.field == "eventTypes.0"
        clerk = Principal(
            person_id="p",
            person_name="p",
            agency_id="fy-market",
            district="fuyuan",
            roles=("clerk",),
        )
        with pytest.raises(Forbidden):
            await service.webhooks.register(RegisterWebhook("https://example.org/h"), Caller(clerk))
        assert await service.webhooks.repo.subscriptions_of(None) == []  # nothing changed
    finally:
        await service.runtime.stop()
