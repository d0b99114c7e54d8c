"""Graceful shutdown of a real service process (``liandong serve``) over RabbitMQ and the
MongoDB wire-protocol server: SIGTERM in the middle of a stream of events turns readiness
false at once, lets the handlers in flight finish and ack, and loses nothing — whatever the
process did not handle is still queued and a restarted process handles it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aio_pika
import httpx
import pytest
from pymongo import AsyncMongoClient

from kernel.adapters.rabbit_bus import RabbitBus
from kernel.envelope import EventPayload, new_envelope
from kernel.settings import Settings
from liandong.gateway import free_port
from tests import ROOT
from tests.fixtures.settings import server_settings
from tests.infra import Server

EVENTS = 400


class AgencyRegistered(EventPayload):
    """What coordination publishes (only the fields referral reads)."""

    event_type = "agency.registered.v1"
    agency_id: str
    name: str
    kind: str
    version: int


def tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:]


def start_referral(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "liandong.cli", "serve", "referral"],
        env={**env, "LIANDONG_HTTP_PORT": str(port)},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )


async def wait_ready(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 90
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"referral did not become ready:\n{tail(log)}")


async def queue_depth(settings: Settings) -> int:
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(settings.queue_name("referral"), passive=True)
        return int(queue.declaration_result.message_count or 0)


@pytest.mark.infra
async def test_sigterm_mid_stream_drains_acks_and_loses_nothing(
    tmp_path: Path, unique_name: str, mongo_server: Server, rabbitmq_server: Server
) -> None:
    settings = server_settings(
        tmp_path, unique_name, mongo_server, rabbitmq_server, district="fuyuan"
    )
    env = {
        **os.environ,
        "LIANDONG_ENV": "development",
        "LIANDONG_DISTRICT": "fuyuan",
        "LIANDONG_INSTANCE": unique_name,
        "LIANDONG_STORE": "mongo",
        "LIANDONG_BUS": "rabbitmq",
        "LIANDONG_MONGO_URL": mongo_server.url,
        "LIANDONG_AMQP_URL": rabbitmq_server.url,
        "LIANDONG_EXCHANGE": settings.exchange,
        "LIANDONG_DATA_DIR": str(tmp_path),
        "LIANDONG_LOG_FORMAT": "json",
        # Long enough to observe readiness turning false before the listener closes.
        "LIANDONG_DRAIN_DELAY_SECONDS": "2",
        # Few messages in flight, so the stream is still running when SIGTERM arrives.
        "LIANDONG_CONSUMER_PREFETCH": "8",
    }
    log = tmp_path / "referral.log"
    mongo: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongo_server.url)
    directory = mongo[settings.database_name("referral")]["agency_directory"]
    bus = RabbitBus(settings.amqp_url, exchange=settings.exchange)
    port = free_port()
    proc = start_referral(env, port, log)
    try:
        await wait_ready(proc, port, log)
        await bus.start()
        envelopes = [
            new_envelope(
                AgencyRegistered(
                    agency_id=f"gs-{i:04d}", name=f"机构{i}", kind="department", version=1
                ),
                district="fuyuan",
                service="coordination",
            )
            for i in range(EVENTS)
        ]
        await bus.publish(envelopes)

        # SIGTERM once the consumer is well into the stream, but not through it.
        deadline = time.monotonic() + 120
        while await directory.count_documents({}) < 40:
            assert time.monotonic() < deadline and proc.poll() is None, tail(log)
            await asyncio.sleep(0.05)
        proc.send_signal(signal.SIGTERM)

        # Readiness answers 503 (draining) while the listener is still open.
        async with httpx.AsyncClient(timeout=2) as client:
            ready = await client.get(f"http://127.0.0.1:{port}/readyz")
        assert ready.status_code == 503 and ready.json()["draining"] is True, ready.text

        returncode = await asyncio.to_thread(proc.wait, 60)
        # uvicorn re-raises the SIGTERM it handled once it has shut down cleanly.
        assert returncode in (0, -signal.SIGTERM), tail(log)
        handled = await directory.count_documents({})
        left = await queue_depth(settings)
        assert 0 < handled < EVENTS, f"SIGTERM was not mid-stream: handled {handled}"
        # Every handled event was acked (not left to be redelivered) and every other one is
        # still queued: nothing lost, nothing handled twice for want of an ack.
        assert handled + left == EVENTS, (handled, left)
        text = tail(log, 10**9)
        assert '"message": "referral draining: not ready, consumers stopping"' in text
        assert "cancelled" not in text  # no handler had to be cut off

        # A new process takes the rest.
        port = free_port()
        proc = start_referral(env, port, log)
        await wait_ready(proc, port, log)
        deadline = time.monotonic() + 120
        while await directory.count_documents({}) < EVENTS:
            assert time.monotonic() < deadline, tail(log)
            await asyncio.sleep(0.2)
        assert await queue_depth(settings) == 0
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                await asyncio.to_thread(proc.wait, 30)
            except subprocess.TimeoutExpired:
                proc.kill()
        await bus.close()
        await mongo.drop_database(settings.database_name("referral"))
        await mongo.close()
