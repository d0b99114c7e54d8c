"""District isolation (§0: one deployment serves one district): a deployment never accepts
another district's events (dead-lettered with the reason, on the real RabbitMQ) nor tokens
(every subgraph refuses them), and its databases and queues are named per district."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
from fastapi import FastAPI
from pymongo import AsyncMongoClient

from coordination.bootstrap import bootstrap as coordination_bootstrap
from coordination.contracts.published import AgencyRegisteredV1
from kernel.adapters.mongo_store import open_mongo_store
from kernel.adapters.rabbit_bus import REASON_HEADER, RabbitBus
from kernel.envelope import new_envelope
from kernel.settings import Settings
from kernel.wiring import build_deps
from liandong.cli import mint_token
from notify.bootstrap import bootstrap as notify_bootstrap
from referral.bootstrap import bootstrap as referral_bootstrap
from tests.infra import Server

HOME, FOREIGN = "fuyuan", "hualong"


async def eventually(check: Callable[[], Awaitable[bool]], what: str, tries: int = 150) -> None:
    """Poll ``check`` (bounded: ``tries`` × 0.1 s) until it holds."""
    for _ in range(tries):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


def on_rabbitmq(
    rabbitmq_server: Server, tmp_path: Path, unique_name: str, *, max_deliveries: int
) -> Settings:
    """One fuyuan service over the real RabbitMQ (its own exchange and queues, named
    ``unique_name``) and the embedded store in ``tmp_path``."""
    return Settings(
        district=HOME,
        instance=unique_name,
        data_dir=tmp_path,
        store="embedded",
        bus="rabbitmq",
        amqp_url=rabbitmq_server.url,
        exchange=unique_name,
        consumer_max_deliveries=max_deliveries,
    )


def agency_event(district: str, agency_id: str) -> Any:
    return new_envelope(
        AgencyRegisteredV1(
            agency_id=agency_id,
            name=f"{agency_id} 人民政府",
            kind="township",
            district=district,
            version=1,
        ),
        district=district,
        service="coordination",
    )


async def test_foreign_district_event_is_dead_lettered_with_the_reason(
    rabbitmq_server: Server, tmp_path: Path, unique_name: str
) -> None:
    """A hualong event put straight into fuyuan's referral queue lands in its dead-letter queue
    with the reason (header x-liandong-reason) and changes nothing, while a fuyuan event on the
    exchange is handled. A hualong event on the exchange never reaches fuyuan's queue at all:
    its bindings name the home district."""
    settings = on_rabbitmq(rabbitmq_server, tmp_path, unique_name, max_deliveries=3)
    service = referral_bootstrap(await build_deps(settings, "referral"))
    await service.runtime.start()
    queue = settings.queue_name("referral")
    assert queue == f"{unique_name}.{HOME}.referral"
    agencies = service.handlers.ports.agencies
    probe = RabbitBus(rabbitmq_server.url, exchange=unique_name)
    connection = await aio_pika.connect_robust(rabbitmq_server.url)
    try:
        foreign = agency_event(FOREIGN, "hl-intruder")
        channel = await connection.channel(publisher_confirms=True)
        # The default exchange routes by queue name: as if a misconfigured shovel or a
        # provincial broker delivered another district's event into this queue.
        await channel.default_exchange.publish(
            aio_pika.Message(foreign.to_json_bytes(), message_id=foreign.id), routing_key=queue
        )
        home = agency_event(HOME, "fy-newtown")
        routed = agency_event(FOREIGN, "hl-routed")
        await probe.publish([home, routed])

        async def home_handled() -> bool:
            return await agencies.get("fy-newtown") is not None

        await eventually(home_handled, "the home-district event was handled")
        dead: list[Any] = []

        async def dead_lettered() -> bool:
            dead.extend(await probe.dead_letters(queue))
            return bool(dead)

        await eventually(dead_lettered, "the foreign event reached the dead-letter queue")
        assert [d.envelope.id for d in dead if d.envelope] == [foreign.id]
        reason = dead[0].reason
        assert f"district '{FOREIGN}'" in reason and f"serves '{HOME}'" in reason, reason
        assert await agencies.get("hl-intruder") is None
        assert await agencies.get("hl-routed") is None
        # The routed foreign event went to the exchange's unrouted queue, not to fuyuan's.
        unrouted = await probe.unrouted()
        assert [u.envelope.id for u in unrouted if u.envelope] == [routed.id]
        # The reason travels as a header a bureau's operator can read with any AMQP client.
        assert REASON_HEADER == "x-liandong-reason"
        print(
            f"\nisolation: sent 3 (1 home, 1 foreign into the queue, 1 foreign on the exchange); "
            f"handled 1, dead-lettered {len(dead)} ({reason!r}), unrouted {len(unrouted)}"
        )
    finally:
        await connection.close()
        await probe.close()
        await service.runtime.stop()


def _app(service: Any) -> FastAPI:
    app: FastAPI = service.create_app(manage_lifecycle=False)
    return app


@pytest.mark.parametrize("name", ["referral", "coordination", "notify"])
async def test_every_subgraph_refuses_another_districts_token(
    name: str, tmp_path: Path, unique_name: str
) -> None:
    settings = Settings(data_dir=tmp_path, instance=unique_name, district=HOME)
    deps = await build_deps(settings, name)
    builders: dict[str, Callable[[Any], Any]] = {
        "referral": referral_bootstrap,
        "coordination": coordination_bootstrap,
        "notify": notify_bootstrap,
    }
    service = builders[name](deps)
    await service.runtime.start()
    try:
        transport = httpx.ASGITransport(app=_app(service))
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            # Same keys, same issuer: only the district claim differs.
            foreign = mint_token(
                settings.model_copy(update={"district": FOREIGN}), "hl-town", ["government"]
            )
            home = mint_token(settings, "fy-gov", ["government"])
            query = {"query": "{ _service { sdl } }"}
            sensitive = {
                "referral": "{ referrals { edges { node { id } } } }",
                "coordination": "{ agencies(first: 1) { edges { node { id } } } }",
                "notify": "{ myInbox { edges { node { id } } } }",
            }[name]
            for token, code in ((foreign, "WRONG_DISTRICT"), (home, None)):
                got = await client.post(
                    "/graphql",
                    json={"query": sensitive},
                    headers={"Authorization": f"Bearer {token}"},
                )
                body = got.json()
                if code is None:
                    assert "errors" not in body, body
                else:
                    assert body["errors"][0]["extensions"]["code"] == code, body
                    assert body.get("data") in (None, {}) or not any(body["data"].values())
            assert (await client.post("/graphql", json=query)).status_code == 200
            if name == "referral":
                got = await client.get(
                    "/referrals/any/letter.pdf", headers={"Authorization": f"Bearer {foreign}"}
                )
                assert got.status_code == 403 and "district" in got.json()["error"]["message"]
    finally:
        await service.runtime.stop()


async def test_database_and_queue_names_are_per_district(
    mongo_server: Server, unique_name: str
) -> None:
    """Two districts' deployments with the same instance name never share a database or a
    queue: a document written by one is not there for the other (a real MongoDB server)."""
    home = Settings(district=HOME, instance=unique_name)
    other = Settings(district="shangri-la", instance=unique_name)
    for service in ("referral", "coordination", "notify"):
        assert home.database_name(service) != other.database_name(service)
        assert home.queue_name(service) != other.queue_name(service)
        assert HOME in home.queue_name(service)
    assert other.database_name("referral") == f"{unique_name}_shangri_la_referral"
    a = await open_mongo_store(mongo_server.url, home.database_name("referral"))
    b = await open_mongo_store(mongo_server.url, other.database_name("referral"))
    try:
        await a.collection("referrals").insert_one({"_id": "r1", "district": HOME})
        assert await b.collection("referrals").find_one({"_id": "r1"}) is None
        assert await a.collection("referrals").find_one({"_id": "r1"}) is not None
    finally:
        await a.close()
        await b.close()
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_server.url)
        for settings in (home, other):
            await client.drop_database(settings.database_name("referral"))
        await client.close()
