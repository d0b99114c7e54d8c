from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.infra import Server, find_server, stop_started

pytest_plugins = ["tests.fixtures.stores"]


@pytest.fixture(scope="session")
def mongo_server() -> Iterator[Server]:
    yield find_server("mongo")


@pytest.fixture(scope="session")
def rabbitmq_server() -> Iterator[Server]:
    yield find_server("rabbitmq")


@pytest.fixture
def unique_name() -> str:
    """A fresh name for a database, queue or exchange, so tests never share state."""
    return "t" + uuid.uuid4().hex[:12]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    stop_started()
