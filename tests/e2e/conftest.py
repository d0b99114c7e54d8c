"""Fixtures that run the suite for real: the embedded topology in this process, or the
production topology as separate processes over RabbitMQ and MongoDB;
both behind the real gateway.

Two production fixtures (issue 14: the e2e tests took most of the CI time, each starting
three service processes and a gateway):

* ``shared_production_gateway`` — one topology per district for the whole session, started
  by the first test that asks for it and stopped at the end. Use it for a scenario that
  (a) creates its own cases (referrals, disputes, requests: fresh ids every run) and reads
  only those, or reads lists filtered to them; (b) does not move the test clock
  (``LIANDONG_TEST_CLOCK_FILE``) nor stop, kill or restart a service; (c) leaves no stalled
  case behind (``tests/e2e/stalls.py::assert_no_stalls`` checks the whole district, so one
  test's stall shows in the next one's check). The demo agencies (fy-market, fy-hancong,
  ...) are shared: never assert on an agency's whole inbox or list, only on items of your
  own subjects. Another district: ``@pytest.mark.parametrize("production_district",
  ["chongqing"])``, exactly as for ``production_gateway``.
* ``production_gateway`` / ``running_production`` — a topology of the test's own, for a
  test that moves the clock, restarts a service or needs a pristine district.

Adopting the shared one is a change of the fixture name in the test's signature.

What a shared test must not change: **the demo catalogue**. A ruled jurisdiction dispute
becomes a catalogue routing rule (R-DSP-03); ruled on the demo matter FY-SCJG-001 at 寒葱沟镇
it names another agency for it, and every later draft fy-market → fy-hancong of that matter
is refused (VALIDATION_FAILED on receiverId, "the catalogue names … for this matter"). That
was why 11 of 15 tests failed when they were first moved here (issue 14): the referral
service's agency read model was full; the drafts were refused by the catalogue check, after
the dispute-settlement test had ruled on the demo matter. A test that rules a dispute on the
demo matter keeps a topology of its own (or rules on a matter it defines itself, as
``test_coordination_e2e`` does).

Private, and why (issue 14): the clock is moved (crime route, calendar, dispute escalation,
notify deadlines, routine meetings, the 督办 escalation, Hualong's R-REF-15); the meetings
scenario reaches the coordination process's own routes through ``running_production`` (it
could read ``Gateway.coordination`` instead: not yet moved); the demo catalogue is changed
by a ruling on FY-SCJG-001 (dispute settlement, the referral decline path, the new rules'
R-SUP-04 path); whole lists of the demo agencies are asserted (the complaint path);
webhooks and the demo agencies' own settings outlive the test (the webhook scenario, the red
team); another district is served by that test alone (Chongqing forwarding, Huancui
reservations: a shared topology would only stay up longer).

``LIANDONG_E2E_PRIVATE_TOPOLOGIES=1`` gives every shared test a topology of its own again
(to compare the two, or to tell a test's failure from another's leftovers)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kernel.auth import ensure_dev_keys
from kernel.clock import clock_from_settings
from kernel.settings import SERVICES, Settings
from liandong.cli import mint_token
from liandong.gateway import GatewayProcess, compose_supergraph, free_port
from liandong.suite import build_suite, sdl_path
from liandong.testing.processes import ServiceProcesses
from liandong.testing.serving import LoopServer
from tests.e2e.scenario import Gateway
from tests.fixtures.bus import clear_under
from tests.fixtures.settings import drop_databases, server_settings
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


@asynccontextmanager
async def serving_behind_gateway(
    app: Any, run_dir: Path
) -> AsyncIterator[tuple[str, GatewayProcess]]:
    """The suite's ``app`` served in this event loop on a free port, and the gateway started
    in front of its subgraphs; yields the app's base URL and the gateway, both stopped after."""
    async with LoopServer(app, what="the suite") as server:
        urls: dict[str, str] = {name: f"{server.url}/{name}/graphql" for name in SERVICES}
        gateway = await asyncio.to_thread(start_gateway, urls, run_dir)
        try:
            yield server.url, gateway
        finally:
            await asyncio.to_thread(gateway.stop)


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
    async with serving_behind_gateway(built.create_app(), tmp_path / "run") as (base, gateway):
        yield EmbeddedSuite(settings, built, base, gateway.url)


@pytest.fixture
async def embedded_gateway(tmp_path: Path, unique_name: str) -> AsyncIterator[Gateway]:
    async with serving_embedded_suite(tmp_path, unique_name) as served:
        yield Gateway(served.gateway_url, served.token, files=f"{served.base_url}/referral")


@pytest.fixture
def production_district() -> str:
    """The district the production topology serves; a test that needs another one says
    ``@pytest.mark.parametrize("production_district", ["chongqing"])``."""
    return "fuyuan"


def _production_env(
    tmp_path: Path,
    unique_name: str,
    mongo_server: Server,
    rabbitmq_server: Server,
    production_district: str,
) -> tuple[dict[str, str], Settings]:
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
    settings = server_settings(
        tmp_path,
        unique_name,
        mongo_server,
        rabbitmq_server,
        district=production_district,
        test_clock_file=tmp_path / "clock-offset",
    )
    return env, settings


@pytest.fixture
def production_env(
    tmp_path: Path,
    unique_name: str,
    mongo_server: Server,
    rabbitmq_server: Server,
    production_district: str,
) -> Iterator[tuple[dict[str, str], Settings]]:
    env, settings = _production_env(
        tmp_path, unique_name, mongo_server, rabbitmq_server, production_district
    )
    yield env, settings
    asyncio.run(drop_databases(settings))


@pytest.fixture
async def production_gateway(
    tmp_path: Path, production_env: tuple[dict[str, str], Settings]
) -> AsyncIterator[Gateway]:
    async with running_production(tmp_path, production_env) as (gateway, _):
        yield gateway


def _start_production(
    env: dict[str, str], settings: Settings, run_dir: Path
) -> tuple[ServiceProcesses, GatewayProcess, Gateway]:
    """The three service processes (consumers first, so their queues exist before
    coordination publishes its agencies) and the gateway in front of them; blocking."""
    # Coordination's port is chosen first: the referral service fetches a referred
    # dispatch's photos from it (R-GRD-01, kernel.service_identity).
    coordination_port = free_port()
    env = {**env, "LIANDONG_COORDINATION_URL": f"http://127.0.0.1:{coordination_port}"}
    services = ServiceProcesses(env, run_dir, cwd=ROOT)
    try:
        services.start("referral")
        services.start("notify")
        services.wait_ready("referral")
        services.wait_ready("notify")
        services.start("coordination", "--seed-demo", port=coordination_port)
        services.wait_ready("coordination")
        urls = {name: services.url(name) for name in SERVICES}
        gateway = start_gateway(urls, run_dir / "run")
    except BaseException:
        services.stop()
        raise
    front = Gateway(
        gateway.url,
        lambda agency, roles: mint_token(settings, agency, roles),
        now=clock_from_settings(settings),
        files=services.url("referral").removesuffix("/graphql"),
        coordination=services.url("coordination").removesuffix("/graphql"),
    )
    return services, gateway, front


class SharedTopologies:
    """One production topology per district for the session (see the module docstring)."""

    def __init__(self, base: Path, mongo_server: Server, rabbitmq_server: Server) -> None:
        self.base = base
        self.mongo_server = mongo_server
        self.rabbitmq_server = rabbitmq_server
        self._running: dict[str, tuple[ServiceProcesses, GatewayProcess, Gateway, Settings]] = {}
        self._env: dict[str, dict[str, str]] = {}

    def gateway(self, district: str) -> Gateway:
        if district not in self._running:
            run_dir = self.base / district
            run_dir.mkdir(parents=True, exist_ok=True)
            name = "s" + uuid.uuid4().hex[:12]
            env, settings = _production_env(
                run_dir, name, self.mongo_server, self.rabbitmq_server, district
            )
            self._running[district] = (*_start_production(env, settings, run_dir), settings)
            self._env[district] = env
        return self._running[district][2]

    def env(self, district: str) -> tuple[dict[str, str], Settings]:
        """The started topology's environment and settings (e.g. for ``liandong audit``)."""
        self.gateway(district)
        return self._env[district], self._running[district][3]

    def close(self) -> None:
        for services, gateway, _, settings in self._running.values():
            try:
                gateway.stop()
            finally:
                services.stop()
                asyncio.run(drop_databases(settings))
                clear_under(self.rabbitmq_server, settings.instance)
        self._running.clear()


@pytest.fixture(scope="session")
def shared_topologies(
    tmp_path_factory: pytest.TempPathFactory, mongo_server: Server, rabbitmq_server: Server
) -> Iterator[SharedTopologies]:
    topologies = SharedTopologies(
        tmp_path_factory.mktemp("shared-production"), mongo_server, rabbitmq_server
    )
    try:
        yield topologies
    finally:
        topologies.close()


#: Set (to anything) to give every test of the shared fixtures a topology of its own, as
#: before issue 14: to compare the two, or to tell a test's failure from another's leftovers.
PRIVATE_TOPOLOGIES = "LIANDONG_E2E_PRIVATE_TOPOLOGIES"


@pytest.fixture
async def shared_production_gateway(
    request: pytest.FixtureRequest, shared_topologies: SharedTopologies, production_district: str
) -> AsyncIterator[Gateway]:
    """The session's production topology of ``production_district`` (started on first use)."""
    if os.environ.get(PRIVATE_TOPOLOGIES):
        tmp_path: Path = request.getfixturevalue("tmp_path")
        env: tuple[dict[str, str], Settings] = request.getfixturevalue("production_env")
        async with running_production(tmp_path, env) as (gateway, _):
            yield gateway
        return
    yield await asyncio.to_thread(shared_topologies.gateway, production_district)


@pytest.fixture
async def shared_production_env(
    request: pytest.FixtureRequest, shared_topologies: SharedTopologies, production_district: str
) -> tuple[dict[str, str], Settings]:
    """The environment and settings of ``shared_production_gateway``'s topology."""
    if os.environ.get(PRIVATE_TOPOLOGIES):
        private: tuple[dict[str, str], Settings] = request.getfixturevalue("production_env")
        return private
    return await asyncio.to_thread(shared_topologies.env, production_district)


@asynccontextmanager
async def running_production(
    tmp_path: Path, production_env: tuple[dict[str, str], Settings]
) -> AsyncIterator[tuple[Gateway, ServiceProcesses]]:
    """The production topology behind the real gateway; the processes too, for tests that
    need a service's own routes (e.g. a PDF download) or kill and restart one."""
    env, settings = production_env
    services, gateway, front = await asyncio.to_thread(_start_production, env, settings, tmp_path)
    try:
        yield front, services
    finally:
        try:
            await asyncio.to_thread(gateway.stop)
        finally:
            await asyncio.to_thread(services.stop)
