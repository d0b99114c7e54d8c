from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.bus import clear_under
from tests.infra import Server, find_server, stop_started

pytest_plugins = ["tests.fixtures.gateway", "tests.fixtures.stores"]

TESTS = Path(__file__).resolve().parent

# ``infra`` marks every test that needs a server: the MongoDB wire-protocol server, RabbitMQ
# or the gateway's node process, so ``pytest -m "not infra"`` runs anywhere without them.
# It is applied here to every test using one of these fixtures (directly or through another
# fixture) and to every test of these directories; the mongo half of ``store_kind`` carries it
# as a parameter mark (tests/fixtures/stores.py), as the rabbitmq half of the bus contract does.
SERVER_FIXTURES = frozenset({"mongo_server", "rabbitmq_server", "gateway_installed"})
SERVER_DIRECTORIES = frozenset({"e2e", "fault"})


@pytest.fixture(scope="session")
def mongo_server() -> Iterator[Server]:
    yield find_server("mongo")


@pytest.fixture(scope="session")
def rabbitmq_server() -> Iterator[Server]:
    yield find_server("rabbitmq")


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh name for a database, queue or exchange, so tests never share state.

    On RabbitMQ nothing stays under it: when the test used ``rabbitmq_server``, every queue
    and exchange named ``<name>`` or ``<name>.…`` is deleted at its end, after the fixtures
    that used the name were torn down (``tests/fixtures/bus.py``)."""
    name = "t" + uuid.uuid4().hex[:12]
    yield name
    if "rabbitmq_server" in request.fixturenames:
        clear_under(request.getfixturevalue("rabbitmq_server"), name)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        directory = item.path.relative_to(TESTS).parts[0] if item.path.is_relative_to(TESTS) else ""
        fixtures = getattr(item, "fixturenames", ())
        if directory in SERVER_DIRECTORIES or SERVER_FIXTURES.intersection(fixtures):
            item.add_marker(pytest.mark.infra)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    stop_started()
