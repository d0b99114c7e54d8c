"""Fixtures that run the suite for real: the embedded topology in this process, or the
production topology as separate processes over RabbitMQ and MongoDB;
both behind the real gateway."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from kernel.auth import ensure_dev_keys
from kernel.clock import clock_from_settings
from kernel.settings import SERVICES, Settings
from liandong.cli import mint_token
from liandong.gateway import GatewayProcess, compose_supergraph, free_port
from liandong.suite import build_suite, sdl_path
from liandong.testing.processes import ServiceProcesses
from tests.e2e.scenario import Gateway
from tests.infra import Server

ROOT = Path(__file__).resolve().parents[2]


# The gateway signs every subgraph request with it (kernel.gateway_signature); the production
# topology's services require the signature, the embedded suite's accept it unchecked.
E2E_GATEWAY_HMAC_SECRET = "e2e-gateway-hmac-secret"


def start_gateway(
    urls: dict[str, str], run_dir: Path, *, data_dir: Path | None = None
) -> GatewayProcess:
    """Compose and start the gateway in front of ``urls``. It checks tokens against the
    services' development keys, found in ``data_dir`` (by the fixtures' convention the run
    directory is ``<data_dir>/run``, the default)."""
    supergraph = compose_supergraph(
        {name: (url, sdl_path(name)) for name, url in urls.items()},
        run_dir / "supergraph.graphql",
    )
    keys = ensure_dev_keys(data_dir or run_dir.parent)
    env = {
        "LIANDONG_GATEWAY_JWKS_FILE": str(keys.jwks_file),
        "LIANDONG_GATEWAY_HMAC_SECRET": E2E_GATEWAY_HMAC_SECRET,
    }
    return GatewayProcess(supergraph=supergraph, log_dir=run_dir, env=env).start()


@dataclass
class EmbeddedSuite:
    """The embedded suite served in this process, behind a started gateway."""

    settings: Settings
    built: Any  # liandong.suite's Suite: its services, to reach into one
    base_url: str  # where the suite's HTTP routes are (no gateway in between)
    gateway_url: str

    def token(self, agency: str, roles: list[str]) -> str:
        return mint_token(self.settings, agency, roles)


@asynccontextmanager
async def serving_embedded_suite(
    tmp_path: Path, unique_name: str, **more_settings: Any
) -> AsyncIterator[EmbeddedSuite]:
    """The embedded suite with the demo district of fuyuan (and ``more_settings``), served on
    a free port, and the gateway in front of it; both stopped after."""
    settings = Settings(
        data_dir=tmp_path,
        store="embedded",
        bus="memory",
        instance=unique_name,
        district="fuyuan",
        **more_settings,
    )
    built = await build_suite(settings, seed_demo=True)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(built.create_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "the suite did not start"
        await asyncio.sleep(0.05)
    urls = {name: f"http://127.0.0.1:{port}/{name}/graphql" for name in SERVICES}
    gateway = await asyncio.to_thread(start_gateway, urls, tmp_path / "run")
    try:
        yield EmbeddedSuite(settings, built, f"http://127.0.0.1:{port}", gateway.url)
    finally:
        await asyncio.to_thread(gateway.stop)
        server.should_exit = True
        await serving


@pytest.fixture
async def embedded_gateway(tmp_path: Path, unique_name: str) -> AsyncIterator[Gateway]:
    async with serving_embedded_suite(tmp_path, unique_name) as served:
        yield Gateway(served.gateway_url, served.token, files=f"{served.base_url}/referral")


async def _drop_everything(mongo_url: str, amqp_url: str, settings: Settings) -> None:
    import aio_pika
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongo_url)
    try:
        for name in SERVICES:
            await client.drop_database(settings.database_name(name))
    finally:
        await client.close()
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for name in SERVICES:
            for suffix in ("", ".record", ".webhooks"):
                queue = settings.queue_name(name) + suffix
                for q in (queue, queue + ".dlq"):
                    await channel.queue_delete(q)
        for exchange in (
            settings.exchange,
            f"{settings.exchange}.dlx",
            f"{settings.exchange}.unrouted",
        ):
            await channel.exchange_delete(exchange)
        await channel.queue_delete(f"{settings.exchange}.unrouted")


@pytest.fixture
def production_district() -> str:
    """The district the production topology serves; a test that needs another one says
    ``@pytest.mark.parametrize("production_district", ["chongqing"])``."""
    return "fuyuan"


@pytest.fixture
def production_env(
    tmp_path: Path,
    unique_name: str,
    mongo_server: Server,
    rabbitmq_server: Server,
    production_district: str,
) -> Iterator[tuple[dict[str, str], Settings]]:
    env = {
        **os.environ,
        "LIANDONG_ENV": "development",
        "LIANDONG_DISTRICT": production_district,
        "LIANDONG_INSTANCE": unique_name,
        "LIANDONG_STORE": "mongo",
        "LIANDONG_BUS": "rabbitmq",
        "LIANDONG_MONGO_URL": mongo_server.url,
        "LIANDONG_AMQP_URL": rabbitmq_server.url,
        "LIANDONG_EXCHANGE": f"{unique_name}.events",
        "LIANDONG_DATA_DIR": str(tmp_path),
        # As in production: the services answer GraphQL only when the gateway signed it.
        "LIANDONG_GATEWAY_HMAC_SECRET": E2E_GATEWAY_HMAC_SECRET,
        "LIANDONG_GATEWAY_SIGNATURE_REQUIRED": "true",
        # One movable clock for every process (kernel.clock); no file yet means the real time.
        "LIANDONG_TEST_CLOCK_FILE": str(tmp_path / "clock-offset"),
    }
    settings = Settings(
        district=production_district,
        instance=unique_name,
        exchange=f"{unique_name}.events",
        data_dir=tmp_path,
        store="mongo",
        bus="rabbitmq",
        mongo_url=mongo_server.url,
        amqp_url=rabbitmq_server.url,
        test_clock_file=tmp_path / "clock-offset",
    )
    yield env, settings
    asyncio.run(_drop_everything(mongo_server.url, rabbitmq_server.url, settings))


@pytest.fixture
async def production_gateway(
    tmp_path: Path, production_env: tuple[dict[str, str], Settings]
) -> AsyncIterator[Gateway]:
    async with running_production(tmp_path, production_env) as (gateway, _):
        yield gateway


@asynccontextmanager
async def running_production(
    tmp_path: Path, production_env: tuple[dict[str, str], Settings]
) -> AsyncIterator[tuple[Gateway, ServiceProcesses]]:
    """The production topology behind the real gateway; the processes too, for tests that
    need a service's own routes (e.g. a PDF download) or kill and restart one."""
    env, settings = production_env
    services = ServiceProcesses(env, tmp_path, cwd=ROOT)
    try:
        # Consumers first, so their queues exist before coordination publishes its agencies.
        services.start("referral")
        services.start("notify")
        await asyncio.to_thread(services.wait_ready, "referral")
        await asyncio.to_thread(services.wait_ready, "notify")
        services.start("coordination", "--seed-demo")
        await asyncio.to_thread(services.wait_ready, "coordination")
        urls = {name: services.url(name) for name in SERVICES}
        gateway = await asyncio.to_thread(start_gateway, urls, tmp_path / "run")
        try:
            yield (
                Gateway(
                    gateway.url,
                    lambda agency, roles: mint_token(settings, agency, roles),
                    now=clock_from_settings(settings),
                    files=services.url("referral").removesuffix("/graphql"),
                ),
                services,
            )
        finally:
            await asyncio.to_thread(gateway.stop)
    finally:
        await asyncio.to_thread(services.stop)
