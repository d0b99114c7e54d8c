"""Issue 13 (the leak of session 10): a test on the tests' RabbitMQ leaves no queue or
exchange under its name, and clearing one test's names touches nobody else's
(``tests/fixtures/bus.py``; no domain rule: this is the suite's own hygiene)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from kernel.adapters.rabbit_bus import RabbitBus
from kernel.bus import SubscriptionSpec
from kernel.envelope import Envelope
from tests import run_module
from tests.fixtures.bus import BrokerNames, delete_names, delete_under, names_under
from tests.infra import Server

pytestmark = [pytest.mark.timeout(180), pytest.mark.infra]


async def declare(url: str, prefix: str) -> BrokerNames:
    """What a service declares, under ``prefix``: its exchange and the alternate, a
    subscription's queue with its dead-letter exchange and queue; what that is by name."""
    bus = RabbitBus(url, exchange=prefix, confirm_timeout=5.0)

    async def ignore(envelope: Envelope) -> None:
        return None

    try:
        await bus.subscribe(SubscriptionSpec(f"{prefix}.q", ["fuyuan.#"], ignore))
    finally:
        await bus.close()
    return BrokerNames(
        queues=tuple(sorted([f"{prefix}.q", f"{prefix}.q.dlq", f"{prefix}.unrouted"])),
        exchanges=tuple(sorted([prefix, f"{prefix}.q.dlx", f"{prefix}.unrouted"])),
    )


INNER_TEST = """
import asyncio
from pathlib import Path

from tests.fixtures.bus import names_under
from tests.integration.suite.test_no_broker_leftovers import declare


async def declared(server, name):
    expected = await declare(server.url, name)
    return await names_under(server, name) == expected


def test_declares_under_its_name(rabbitmq_server, unique_name):
    Path(__file__).with_name("name.txt").write_text(unique_name)
    assert asyncio.run(declared(rabbitmq_server, unique_name))
"""


async def test_issue_13_nothing_a_test_declared_under_its_name_outlives_it(
    rabbitmq_server: Server, tmp_path: Path
) -> None:
    """A test run with the suite's fixtures (in a pytest of its own, so this one can look
    after it ended) declares an exchange and a subscription under its ``unique_name``; once
    it ended, no queue or exchange under that name is left."""
    inner = tmp_path / "test_inner.py"
    inner.write_text(INNER_TEST, encoding="utf-8")
    args = ["pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest", str(inner)]
    env = {"LIANDONG_TEST_AMQP_URL": rabbitmq_server.url}
    written = tmp_path / "name.txt"  # the inner test's unique_name
    try:
        await asyncio.to_thread(run_module, args, timeout=150, env=env)
        name = written.read_text(encoding="utf-8")
        assert await names_under(rabbitmq_server, name) == BrokerNames()
    finally:
        if written.exists():
            await delete_under(rabbitmq_server, written.read_text(encoding="utf-8"))


async def test_issue_13_clearing_a_prefix_leaves_other_names_alone(
    rabbitmq_server: Server, unique_name: str
) -> None:
    """Clearing ``<name>`` deletes its exchanges and queues and none of ``<name>x`` (a name
    it is a string prefix of) or of another test's name; clearing again, or deleting a name
    already gone, is no error."""
    neighbours = [unique_name + "x", "t" + os.urandom(6).hex()]
    try:
        mine = await declare(rabbitmq_server.url, unique_name)
        theirs = [await declare(rabbitmq_server.url, n) for n in neighbours]
        assert await delete_under(rabbitmq_server, unique_name) == mine
        assert await names_under(rabbitmq_server, unique_name) == BrokerNames()
        for neighbour, declared in zip(neighbours, theirs, strict=True):
            assert await names_under(rabbitmq_server, neighbour) == declared
        assert await delete_under(rabbitmq_server, unique_name) == BrokerNames()
        await delete_names(rabbitmq_server.url, mine)
    finally:
        for neighbour in neighbours:
            await delete_under(rabbitmq_server, neighbour)
