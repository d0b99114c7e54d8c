"""Issue 19, item 1, on the real broker: the consumers' queue settings are the RabbitMQ policy
``liandong-consumers`` that the rendered ``rabbitmq-users.sh policies`` applies, not queue
arguments; changing a value takes effect on a live queue with no redeclaration; a queue that
an older release declared with the settings as arguments is used as it is.

Each test works in a virtual host of its own (policies are per virtual host), deleted after.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import aio_pika
import pytest

from kernel.adapters.rabbit_bus import RabbitBus
from kernel.bus import SubscriptionSpec
from kernel.envelope import Envelope
from tests import ROOT
from tests.contract.test_bus_contract import make_envelope

pytestmark = [pytest.mark.timeout(120), pytest.mark.infra]

SCRIPT = ROOT / "deploy" / "compose" / "fuyuan" / "rabbitmq-users.sh"
#: The script every district's rabbitmq-users.sh runs; the policies are written there once.
COMMON = ROOT / "deploy" / "compose" / "rabbitmq-users-common.sh"
PATH = os.environ.get("PATH", "") + ":/usr/sbin:/usr/lib/rabbitmq/bin"
RABBITMQCTL = shutil.which("rabbitmqctl", path=PATH)
EXCHANGE = "liandong.events"
QUEUE = "liandong.fuyuan.referral"  # Settings.queue_name("referral") of district fuyuan


def _ctl(*args: str) -> str:
    if RABBITMQCTL is None:
        pytest.fail("rabbitmqctl is not on PATH: start the broker with `scripts/infra.sh up`")
    done = subprocess.run(
        [RABBITMQCTL, "-q", *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, f"rabbitmqctl {args}: {done.stderr or done.stdout}"
    return done.stdout


def _policies(vhost: str) -> None:
    done = subprocess.run(
        ["sh", str(SCRIPT), "policies"],
        env={**os.environ, "PATH": PATH, "RABBITMQ_VHOST": vhost},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture
def vhost_url(rabbitmq_server: Any) -> Iterator[tuple[str, str]]:
    parts = urlsplit(rabbitmq_server.url)
    vhost = f"t-policy-{uuid.uuid4().hex[:8]}"
    _ctl("add_vhost", vhost)
    try:
        _ctl("set_permissions", "-p", vhost, parts.username or "guest", ".*", ".*", ".*")
        yield vhost, urlunsplit(parts._replace(path="/" + quote(vhost, safe="")))
    finally:
        _ctl("delete_vhost", vhost)


@pytest.fixture
async def bus(vhost_url: tuple[str, str]) -> AsyncIterator[RabbitBus]:
    made = RabbitBus(vhost_url[1], exchange=EXCHANGE, confirm_timeout=5.0)
    try:
        yield made
    finally:
        await made.close()


def _json(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)


class Failing:
    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    async def __call__(self, envelope: Envelope) -> None:
        self.calls[envelope.id] = self.calls.get(envelope.id, 0) + 1
        raise RuntimeError("the handler fails every time")


async def _dead_letter(bus: RabbitBus) -> str:
    for _ in range(200):
        letters = await bus.dead_letters(QUEUE)
        if letters:
            [letter] = letters
            return letter.reason
        await asyncio.sleep(0.1)
    raise AssertionError(f"nothing reached {QUEUE}.dlq")


def _effective(vhost: str) -> dict[str, tuple[str, dict[str, Any], dict[str, Any]]]:
    """Queue name → (policy applied, that policy's definition, the queue's own arguments)."""
    definitions = {
        p["name"]: p["definition"]
        for p in json.loads(_ctl("list_policies", "-p", vhost, "--formatter", "json"))
    }
    out = _ctl(
        "list_queues",
        "-p",
        vhost,
        "name",
        "policy",
        "arguments",
        "--formatter",
        "json",
    )
    return {
        q["name"]: (
            q["policy"],
            _json(definitions.get(q["policy"], {})),
            {a[0]: a[-1] for a in q["arguments"]},
        )
        for q in json.loads(out)
    }


async def test_consumer_queue_settings_come_from_the_policy_and_change_without_redeclaring(
    vhost_url: tuple[str, str], bus: RabbitBus
) -> None:
    """The queue carries only x-queue-type and its dead-letter address; the broker
    dead-letters a message after the policy's delivery-limit + 1 deliveries; lowering the
    limit with ``set_policy`` applies to the same, still consumed queue."""
    vhost = vhost_url[0]
    _policies(vhost)
    handler = Failing()
    # The subscription's own limit is set far above the policy's, so what stops the
    # redelivery below is the broker applying the policy.
    await bus.subscribe(SubscriptionSpec(QUEUE, ("fuyuan.#",), handler, max_deliveries=100))

    queues = _effective(vhost)
    policy, definition, arguments = queues[QUEUE]
    assert policy == "liandong-consumers"
    assert definition["delivery-limit"] == 4
    assert definition["overflow"] == "reject-publish"
    assert set(arguments) == {
        "x-queue-type",
        "x-dead-letter-exchange",
        "x-dead-letter-routing-key",
    }
    assert queues[f"{QUEUE}.dlq"][0] == "liandong-parked"
    assert queues[f"{EXCHANGE}.unrouted"][0] == "liandong-parked"

    first = make_envelope()
    await bus.publish([first])
    reason = await _dead_letter(bus)
    assert reason.startswith("delivery_limit: redelivery limit of queue"), reason
    assert handler.calls[first.id] == 5  # delivery-limit 4 → five deliveries

    # An operator changes the value; nobody redeclares or restarts anything.
    _ctl(
        "set_policy",
        "-p",
        vhost,
        "--apply-to",
        "queues",
        "--priority",
        "5",
        "liandong-consumers",
        _effective_pattern(),
        json.dumps(
            {
                "delivery-limit": 1,
                "dead-letter-strategy": "at-least-once",
                "overflow": "reject-publish",
            }
        ),
    )
    second = make_envelope()
    await bus.publish([second])
    reason = await _dead_letter(bus)
    assert reason.startswith("delivery_limit"), reason
    assert handler.calls[second.id] == 2  # delivery-limit 1 → two deliveries


def _effective_pattern() -> str:
    text = COMMON.read_text(encoding="utf-8")
    line = text.split("liandong-consumers \\\n", 1)[1].splitlines()[0]
    return line.strip().split("'")[1]


async def test_a_queue_declared_with_the_old_arguments_is_used_as_it_is(
    vhost_url: tuple[str, str], bus: RabbitBus
) -> None:
    """A queue an older release declared (x-delivery-limit, x-overflow and the dead-letter
    strategy as arguments) does not stop the service: the subscription consumes from it and
    still dead-letters at its own limit."""
    vhost, url = vhost_url
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue(
            QUEUE,
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-delivery-limit": 4,
                "x-dead-letter-exchange": f"{EXCHANGE}.dlx",
                "x-dead-letter-routing-key": f"{QUEUE}.dlq",
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        )
    handler = Failing()
    await bus.subscribe(SubscriptionSpec(QUEUE, ("fuyuan.#",), handler, max_deliveries=2))
    assert "x-delivery-limit" in _effective(vhost)[QUEUE][2]  # the old queue, kept
    envelope = make_envelope()
    await bus.publish([envelope])
    reason = await _dead_letter(bus)
    assert reason.startswith("delivery_limit: delivered 2 times"), reason
    assert handler.calls[envelope.id] == 2


def test_the_rendered_policies_are_the_same_for_every_district() -> None:
    """One policy text for all districts, so scripts/infra/rabbitmq.sh can apply any: every
    district's script runs the one common script, and its policies name no district."""
    scripts = sorted((ROOT / "deploy" / "compose").glob("*/rabbitmq-users.sh"))
    assert len(scripts) == 5
    for script in scripts:
        text = script.read_text(encoding="utf-8")
        assert f"LIANDONG_DISTRICT={script.parent.name}\n" in text, script
        assert 'exec sh "$(dirname "$0")/../rabbitmq-users-common.sh" "$@"' in text, script
    body = COMMON.read_text(encoding="utf-8").split("policies() {", 1)[1].split("\n}\n", 1)[0]
    assert "liandong-consumers" in body and "liandong-parked" in body
    for script in scripts:
        assert script.parent.name not in body
    assert Path(SCRIPT).exists()
