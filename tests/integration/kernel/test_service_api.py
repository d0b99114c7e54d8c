"""A service's HTTP face: health, readiness that reflects the store, and stable error codes
for callers without a valid token or from another district."""

from __future__ import annotations

from pathlib import Path

import httpx

from coordination.bootstrap import bootstrap
from kernel.adapters.memory_bus import MemoryBus
from kernel.adapters.mongo_store import open_mongo_store
from kernel.settings import Settings
from kernel.wiring import build_deps
from liandong.cli import mint_token

QUERY = {"query": "{ agencies(first: 2) { edges { node { id name } } } }"}


async def _client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")  # type: ignore[arg-type]


async def test_health_readiness_and_auth_errors(tmp_path: Path, unique_name: str) -> None:
    settings = Settings(data_dir=tmp_path, instance=unique_name, store="embedded", bus="memory")
    service = bootstrap(await build_deps(settings, "coordination"), seed_demo=True)
    await service.runtime.start()
    app = service.create_app(manage_lifecycle=False)
    async with await _client(app) as client:
        assert (await client.get("/healthz")).json()["status"] == "ok"
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["store"] == "ok"

        anonymous = (await client.post("/graphql", json=QUERY)).json()
        assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

        garbage = (
            await client.post("/graphql", json=QUERY, headers={"Authorization": "Bearer x.y.z"})
        ).json()
        assert garbage["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

        foreign = mint_token(settings.model_copy(update={"district": "hualong"}), "hl-1", ["clerk"])
        wrong = (
            await client.post(
                "/graphql", json=QUERY, headers={"Authorization": f"Bearer {foreign}"}
            )
        ).json()
        assert wrong["errors"][0]["extensions"]["code"] == "WRONG_DISTRICT"

        ok_token = mint_token(settings, "fy-coord", ["coordinator"])
        ok = (
            await client.post(
                "/graphql", json=QUERY, headers={"Authorization": f"Bearer {ok_token}"}
            )
        ).json()
        assert len(ok["data"]["agencies"]["edges"]) == 2

        # R-AG-01 / R-AG-03: registering an agency validates kind and parent, with a field path.
        bad = (
            await client.post(
                "/graphql",
                json={
                    "query": 'mutation { registerAgency(input: {id: "x", name: "某内设科室", '
                    "kind: DEPARTMENT, internalUnit: true}) { __typename "
                    "... on UserError { code field message } } }"
                },
                headers={"Authorization": f"Bearer {ok_token}"},
            )
        ).json()
        assert bad["data"]["registerAgency"]["code"] == "VALIDATION_FAILED"
        assert bad["data"]["registerAgency"]["field"] == "parentId"
    await service.runtime.stop()


async def test_readiness_reports_an_unreachable_store(tmp_path: Path, unique_name: str) -> None:
    settings = Settings(data_dir=tmp_path, instance=unique_name)
    deps = await build_deps(settings, "coordination", bus=MemoryBus())
    deps.store = await open_mongo_store("mongodb://127.0.0.1:1/", "nowhere", timeout_ms=300)
    service = bootstrap(deps)
    service.runtime.started = True  # as if started earlier; the store then went away
    async with await _client(service.create_app(manage_lifecycle=False)) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["store"].startswith("unavailable")


async def test_issue_19_readiness_survives_a_broker_outage_while_the_outbox_absorbs_it(
    tmp_path: Path, unique_name: str
) -> None:
    """Issue 19 (availability): with RabbitMQ unreachable a service stays ready — its
    requests commit events to the outbox, published when the broker is back — until the
    outbox holds ``ready_max_outbox_backlog`` aggregates; with the limit 0 the bus is
    required as before. Failed before: any bus outage answered 503."""
    settings = Settings(
        data_dir=tmp_path,
        instance=unique_name,
        store="embedded",
        bus="rabbitmq",
        # Nothing listens there: the bus is never connected.
        amqp_url="amqp://guest:guest@127.0.0.1:1/",
        ready_max_outbox_backlog=1,
    )
    service = bootstrap(await build_deps(settings, "coordination"))
    service.runtime.started = True  # as if started earlier; the broker then went away
    app = service.create_app(manage_lifecycle=False)
    async with await _client(app) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.json()
        assert ready.json()["bus"] == "unavailable"
        assert ready.json()["outbox"] == {"backlog": 0, "limit": 1}
        token = mint_token(settings, "fy-coord", ["coordinator"])
        added = (
            await client.post(
                "/graphql",
                json={
                    "query": 'mutation { registerAgency(input: {id: "fy-new", name: "新设局", '
                    'kind: DEPARTMENT, liaisons: [{name: "张明", phone: "0454-5430199"}]}) '
                    "{ __typename } }"
                },
                headers={"Authorization": f"Bearer {token}"},
            )
        ).json()
        assert "errors" not in added, added
        assert added["data"]["registerAgency"]["__typename"] == "Agency", added
        # One aggregate waits in the outbox: the limit is reached.
        full = await client.get("/readyz")
        assert full.status_code == 503
        assert full.json()["outbox"] == {"backlog": 1, "limit": 1}
    bus_required = settings.model_copy(update={"ready_max_outbox_backlog": 0})
    strict = bootstrap(await build_deps(bus_required, "coordination"))
    strict.runtime.started = True
    async with await _client(strict.create_app(manage_lifecycle=False)) as client:
        assert (await client.get("/readyz")).status_code == 503
    await service.runtime.store.close()
    await strict.runtime.store.close()
