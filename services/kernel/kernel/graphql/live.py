"""Live reads: what a subscription delivers, polled from the store (and woken by its
change stream where it has one)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from kernel.changes import ChangeSignal

M = TypeVar("M")

# Live reads (subscriptions of every service, e.g. notify's inbox and coordination's
# dispatches): how often the store is polled, and how far back each poll looks again so that
# a row stored by a replica whose clock runs slightly behind is still delivered (what was
# delivered is remembered, so nothing is delivered twice).
POLL_SECONDS = 0.5
LOOKBACK = timedelta(seconds=10)


async def follow(
    info: Any,
    fetch: Callable[[datetime], Awaitable[Sequence[tuple[datetime, str, M]]]],
    start: datetime,
    after: tuple[datetime, str] | None = None,
    changes: ChangeSignal | None = None,
) -> AsyncGenerator[tuple[datetime, str, M], None]:
    """What ``fetch(since)`` finds stored from ``start`` on, each ``(stored at, identity,
    row)`` once, polling for ever; with ``after`` (a resumed subscription's cursor) nothing at
    or before that position is delivered again.

    Polling the store rather than an in-process broadcast: a row stored by another replica
    (or while this one was busy) is seen all the same, on the embedded store too (it has no
    change streams). Where the store streams changes (``changes``, MongoDB), a change ends
    the pause at once (issue 21); the pause stays as long, so the token check below keeps
    its pace. The stream lives no longer than the token that opened it (issue 16,
    finding 9): the token is verified again at every poll."""
    cursor = start
    seen: dict[str, datetime] = {}
    while True:
        for at, ident, row in await fetch(cursor - LOOKBACK):
            if at < start or ident in seen or (after is not None and (at, ident) <= after):
                continue
            seen[ident] = at
            cursor = max(cursor, at)
            yield at, ident, row
        horizon = cursor - LOOKBACK
        for key in [k for k, at in seen.items() if at < horizon]:
            del seen[key]
        if changes is not None and changes.streaming:
            await changes.wait(POLL_SECONDS)
        else:
            await asyncio.sleep(POLL_SECONDS)
        info.context.reauthenticate()
