"""Subprocess consumer and relay for the kill tests (``python -m tests.fault.workers ...``).

Each runs until it is killed. Both use the embedded store in a directory the test shares
with them (SQLite with ``BEGIN IMMEDIATE``: the outbox claims stay atomic across processes)
and RabbitMQ.

``relay --die-after N``: a relay whose bus SIGKILLs its own process right after the broker
confirmed the batch that brings its total to N or more, i.e. between the confirm and the
relay's bookkeeping (removing the confirmed events from the outbox). The hook lives here,
in the test's own bus wrapper, not in production code. Before dying it writes the ids of
that batch to ``--report``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from kernel.adapters.embedded_store import open_embedded_store
from kernel.adapters.rabbit_bus import RabbitBus
from kernel.bus import SubscriptionSpec
from kernel.envelope import Envelope
from kernel.outbox import OutboxRelay
from tests.fault.conftest import RecordingEffect


class DyingBus(RabbitBus):
    """Dies (SIGKILL) right after ``publish`` was confirmed, once ``die_after`` events were
    confirmed in all."""

    def __init__(self, url: str, *, exchange: str, die_after: int, report: Path) -> None:
        super().__init__(url, exchange=exchange, confirm_timeout=5)
        self.die_after = die_after
        self.report = report
        self.confirmed = 0

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        await super().publish(envelopes)
        self.confirmed += len(envelopes)
        if self.confirmed >= self.die_after:
            self.report.write_text(json.dumps([e.id for e in envelopes]))
            os.kill(os.getpid(), signal.SIGKILL)


async def consumer(args: argparse.Namespace) -> None:
    store = open_embedded_store(Path(args.store), args.db)
    effect = RecordingEffect(store, worker=args.name)
    effect.delay = args.delay
    bus = RabbitBus(args.amqp, exchange=args.exchange)
    await bus.subscribe(SubscriptionSpec(args.queue, ["fuyuan.#"], effect, prefetch=args.prefetch))
    await asyncio.to_thread(Path(args.ready).write_text, "ready")
    await asyncio.Event().wait()


async def relay(args: argparse.Namespace) -> None:
    store = open_embedded_store(Path(args.store), args.db)
    bus = DyingBus(
        args.amqp, exchange=args.exchange, die_after=args.die_after, report=Path(args.report)
    )
    await bus.start()
    worker = OutboxRelay(
        [store.collection("counters")],
        bus,
        owner=args.name,
        interval=0.1,
        batch_size=args.batch,
        lease=timedelta(seconds=args.lease),
    )
    worker.start()
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["consumer", "relay"])
    parser.add_argument("--amqp", required=True)
    parser.add_argument("--exchange", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--queue", default="")
    parser.add_argument("--ready", default="")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--prefetch", type=int, default=32)
    parser.add_argument("--die-after", type=int, default=1)
    parser.add_argument("--report", default="")
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--lease", type=float, default=2.0)
    args = parser.parse_args()
    asyncio.run(consumer(args) if args.role == "consumer" else relay(args))


if __name__ == "__main__":
    main()
