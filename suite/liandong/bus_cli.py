"""``liandong bus redrive``: move dead letters back to their queue (docs/operations.md)."""

from __future__ import annotations

from typing import Annotated

import typer

bus_app = typer.Typer(help="The event bus (RabbitMQ): dead-letter redrive.")


@bus_app.command("redrive")
def redrive(
    queue: Annotated[str, typer.Option(help="the subscription's queue (its .dlq is drained)")],
    limit: Annotated[int, typer.Option(help="at most this many messages")] = 1000,
) -> None:
    """Move up to LIMIT messages of QUEUE.dlq back to QUEUE. Needs the district's RabbitMQ
    administrator in LIANDONG_AMQP_URL (no service's user may publish to a queue)."""
    import asyncio

    from kernel.adapters.rabbit_bus import RabbitBus
    from kernel.settings import Settings

    settings = Settings()

    async def run() -> int:
        bus = RabbitBus(settings.amqp_url, exchange=settings.exchange)
        try:
            return await bus.redrive(queue, limit=limit)
        finally:
            await bus.close()

    moved = asyncio.run(run())
    typer.echo(f"moved {moved} messages from {queue}.dlq back to {queue}")
