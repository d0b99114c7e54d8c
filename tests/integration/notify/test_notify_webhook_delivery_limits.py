"""Issue 16, finding 6: one slow webhook receiver must not stall deliveries to every other
bureau. Against real HTTP receivers on loopback ports: a trickling one (it answers the status
line, then one header byte every 0.2 s, each read well inside httpx's per-read timeout, for
far longer than any delivery may take) and a prompt one.

Before the fix deliveries ran one at a time per replica with per-read timeouts only: the
trickling attempt lived on, and the prompt bureau received nothing while it did. Now each
attempt has a total deadline, each webhook at most ``per_endpoint`` attempts at once, and an
agency at most ``webhook_max_per_agency`` webhooks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from kernel.auth import Principal
from kernel.caller import Caller
from kernel.errors import DomainError, Forbidden
from kernel.wiring import build_deps
from liandong.gateway import free_port
from notify.application.webhooks import RegisterWebhook, RemoveWebhook
from notify.bootstrap import NotifyService, bootstrap
from notify.domain.webhooks import RetryPolicy
from tests.fixtures.settings import embedded_settings

from .test_notify_watch import deliver, eventually, referral_sent, register_agencies
from .test_notify_webhooks import Receiver

pytestmark = pytest.mark.timeout(120)

DEADLINE = 1.5  # seconds, the whole attempt
PER_ENDPOINT = 2
PER_AGENCY = 2


def bureau(agency_id: str) -> Caller:
    return Caller(
        Principal(
            f"sys-{agency_id}", f"{agency_id} 系统接口", agency_id, "fuyuan", ("bureau_system",)
        )
    )


@dataclass
class Trickler:
    """A receiver that never finishes its answer: the status line at once, then a byte of a
    header every ``every`` seconds, for ``lasts`` seconds."""

    port: int
    every: float = 0.2
    lasts: float = 60.0
    accepted_at: list[float] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted_at.append(time.monotonic())
        self._writers.append(writer)
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            await writer.drain()
            end = time.monotonic() + self.lasts
            while time.monotonic() < end:
                await asyncio.sleep(self.every)
                writer.write(b"a")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        for w in self._writers:
            w.close()
        if self._server is not None:
            self._server.close()


@pytest.fixture
async def service(tmp_path: Path, unique_name: str) -> AsyncIterator[NotifyService]:
    settings = embedded_settings(
        tmp_path,
        unique_name,
        webhook_delivery_deadline_seconds=DEADLINE,
        webhook_concurrency_per_endpoint=PER_ENDPOINT,
        webhook_max_per_agency=PER_AGENCY,
    )
    retry = RetryPolicy(base=timedelta(seconds=30), cap=timedelta(seconds=30), max_attempts=3)
    notify = bootstrap(await build_deps(settings, "notify"), webhook_retry=retry)
    await notify.runtime.start()
    await register_agencies(notify)
    try:
        yield notify
    finally:
        await notify.runtime.stop()


async def test_issue_16_a_trickling_receiver_stalls_nobody_else(service: NotifyService) -> None:
    slow = Trickler(free_port())
    prompt = Receiver(free_port())
    await slow.start()
    await prompt.start()
    try:
        slow_hook, _ = await service.webhooks.register(
            RegisterWebhook(slow.url, ("referral.sent.v1",)), bureau("fy-market")
        )
        prompt_hook, prompt.secret = await service.webhooks.register(
            RegisterWebhook(prompt.url, ("referral.sent.v1",)), bureau("fy-hancong")
        )
        # Referrals from the market to the township: both bureaus are named in them.
        events = [referral_sent(f"r-{i}") for i in range(6)]
        for env in events:
            await deliver(service, env)

        # The prompt bureau has every event well before the trickler's first attempts end.
        async def prompt_has_all() -> bool:
            return len(prompt.received) == len(events)

        await eventually(prompt_has_all, "the prompt bureau's deliveries", within=DEADLINE)
        assert sorted(prompt.received) == sorted(e.id for e in events)

        # At most PER_ENDPOINT attempts to the trickler at once, though six are due: the
        # others wait in the store for its slots, not in anybody's way.
        repo = service.webhooks.repo

        async def trickler_busy() -> bool:
            return len(slow.accepted_at) >= PER_ENDPOINT

        await eventually(trickler_busy, "the trickler's first connections", within=10)
        rows = await repo.list_deliveries(slow_hook["_id"], state=None, after=None, limit=50)
        states = sorted(str(r["state"]) for r in rows)
        assert states == ["delivering"] * PER_ENDPOINT + ["pending"] * (6 - PER_ENDPOINT), states

        # The trickler's attempts end at the deadline, not when it stops talking (60 s).

        async def slow_attempts_ended() -> list[dict[str, object]] | None:
            rows = await repo.list_deliveries(slow_hook["_id"], state=None, after=None, limit=50)
            failed = [r for r in rows if r.get("last_error")]
            return failed if len(failed) >= PER_ENDPOINT else None

        failed = await eventually(slow_attempts_ended, "the trickler's deadline", within=10)
        # Measured from the first attempt's connection: not cut before the deadline, and
        # ended soon after it (the machine may be busy).
        lasted = time.monotonic() - slow.accepted_at[0]
        assert DEADLINE * 0.5 <= lasted < DEADLINE + 2, lasted
        assert all("deadline" in str(r["last_error"]) for r in failed), failed
        assert all(r["state"] == "pending" for r in failed)  # retried later, not lost
        assert prompt_hook["_id"] != slow_hook["_id"]
    finally:
        await slow.stop()
        await prompt.stop()


async def test_issue_16_an_agency_registers_at_most_its_cap_of_webhooks(
    service: NotifyService,
) -> None:
    market = bureau("fy-market")
    hooks = [
        (await service.webhooks.register(RegisterWebhook(f"http://127.0.0.1:9/h{i}"), market))[0]
        for i in range(PER_AGENCY)
    ]
    with pytest.raises(DomainError) as err:  # one over the cap
        await service.webhooks.register(RegisterWebhook("http://127.0.0.1:9/more"), market)
    assert err.value.code == "LIMIT_REACHED" and err.value.family == "INVALID_STATE"
    assert err.value.stable_code == "INVALID_STATE" and err.value.field == "url"
    # Another agency's cap is its own.
    await service.webhooks.register(RegisterWebhook("http://127.0.0.1:9/t"), bureau("fy-hancong"))
    # Only the owner removes its webhook; then there is room again.
    with pytest.raises(Forbidden):
        await service.webhooks.remove(RemoveWebhook(hooks[0]["_id"]), bureau("fy-hancong"))
    removed = await service.webhooks.remove(RemoveWebhook(hooks[0]["_id"]), market)
    assert removed["active"] is False
    await service.webhooks.register(RegisterWebhook("http://127.0.0.1:9/again"), market)
