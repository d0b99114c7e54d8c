"""``liandong migrate SERVICE``: build the service's indexes (and run its other idempotent
store preparations) without serving — the Kubernetes Job ``migrate-<service>`` runs it
before a rollout, so large index builds do not happen inside the pods' startup probe window
(issue 19). Starting the service afterwards finds them built (``create_index`` on an
existing index is a no-op)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer


async def migrate(service: str) -> int:
    """Prepare ``service``'s store; returns how many preparation steps ran."""
    from kernel.adapters.memory_bus import MemoryBus
    from kernel.settings import Settings
    from liandong.suite import build_service

    settings = Settings()
    # No broker is needed to build indexes: an in-process bus that is never started.
    built = await build_service(service, settings, bus=MemoryBus())
    runtime = built.runtime
    steps = 0
    try:
        for aggregate in runtime.aggregates:
            await aggregate.ensure_indexes()
            steps += 1
        for hook in runtime.startup:
            await hook()
            steps += 1
    finally:
        await runtime.store.close()
    return steps


def migrate_command(
    service: Annotated[str, typer.Argument(help="referral, coordination or notify")],
) -> None:
    """Build SERVICE's indexes before a rollout (settings from LIANDONG_*)."""
    steps = asyncio.run(migrate(service))
    typer.echo(f"{service}: store prepared ({steps} steps)")
