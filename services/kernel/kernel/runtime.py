"""The pieces one service runs with, started and stopped in one place.

A service's ``bootstrap()`` builds a ``ServiceRuntime`` from adapters (chosen by the
composition root: ``liandong serve`` for production, ``liandong up`` for the embedded suite)
plus its own handlers; the API, the event consumer and the outbox relay all run from it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from kernel.auth import TokenVerifier
from kernel.bus import Bus, SubscriptionSpec
from kernel.outbox import AggregateCollection, OutboxRelay
from kernel.settings import Settings
from kernel.store import DocumentStore, StoreError
from kernel.workers import Worker

__all__ = ["ServiceRuntime"]

log = logging.getLogger(__name__)


@dataclass
class ServiceRuntime:
    name: str
    settings: Settings
    store: DocumentStore
    bus: Bus
    verifier: TokenVerifier
    aggregates: list[AggregateCollection] = field(default_factory=list)
    subscriptions: list[SubscriptionSpec] = field(default_factory=list)
    startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    owns_bus: bool = True
    run_relay: bool = True
    run_consumers: bool = True
    workers: list[Worker] = field(default_factory=list)
    run_workers: bool = True
    relay: OutboxRelay = field(init=False)
    started: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.relay = OutboxRelay(
            [a.collection for a in self.aggregates],
            self.bus,
            owner=f"{self.name}-{id(self):x}",
            lease=timedelta(seconds=self.settings.relay_lease_seconds),
            interval=self.settings.relay_interval_seconds,
        )
        for aggregate in self.aggregates:
            aggregate.set_on_commit(self.relay.wake)

    async def start(self) -> None:
        if self.started:
            return
        if self.owns_bus:
            await self.bus.start()
        for aggregate in self.aggregates:
            await aggregate.ensure_indexes()
        for hook in self.startup:
            await hook()
        if self.run_consumers:
            for spec in self.subscriptions:
                await self.bus.subscribe(spec)
        if self.run_relay:
            self.relay.start()
        if self.run_workers:
            for worker in self.workers:
                worker.start()
        self.started = True
        log.info("%s started (district %s)", self.name, self.settings.district)

    async def stop(self) -> None:
        """Stop taking work: finish the relay's batch, drain consumers, close connections."""
        if not self.started:
            return
        # Workers first: their last pass still needs the store closed below.
        if self.run_workers:
            for worker in self.workers:
                await worker.stop()
        if self.run_relay:
            await self.relay.stop()
        if self.owns_bus:
            await self.bus.close()
        await self.store.close()
        self.started = False

    async def readiness(self) -> dict[str, Any]:
        """Whether the store answers and the bus is connected."""
        checks: dict[str, Any] = {}
        try:
            await asyncio.wait_for(self.store.ping(), timeout=3)
            checks["store"] = "ok"
        except (StoreError, TimeoutError, OSError) as exc:
            checks["store"] = f"unavailable: {exc}"
        checks["bus"] = "ok" if self.bus.is_healthy() else "unavailable"
        checks["ready"] = self.started and all(v == "ok" for k, v in checks.items() if k != "ready")
        return checks
