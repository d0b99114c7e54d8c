"""Stopping background tasks that may not stop at the first cancellation.

A task waiting in a PyMongo call can swallow its cancellation: on Python 3.11
``asyncio.wait_for`` returns an inner result that finished just as the cancellation came
(fixed in 3.12), and PyMongo sends every command through it. A change stream's task then
carries on with its next getMore, and whoever awaited it after one ``cancel()`` (a close, a
shutdown) waited for ever (CI of stop 27, ``tests/unit/test_stopping_change_streams.py``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

__all__ = ["cancel_and_wait", "copy_exception"]

log = logging.getLogger(__name__)


async def cancel_and_wait(
    tasks: Iterable[asyncio.Task[Any]], *, every: float = 0.5, limit: float = 10.0
) -> set[asyncio.Task[Any]]:
    """Cancel ``tasks`` and wait until they end, cancelling again every ``every`` seconds
    those still running; after ``limit`` seconds give up on the rest (logged). Returns the
    tasks left running. The tasks' own results and exceptions are the caller's to read."""
    pending = {task for task in tasks if not task.done()}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while pending:
        left = deadline - loop.time()
        if left <= 0:
            log.warning(
                "%d task(s) did not stop within %.1f s of being cancelled: %s",
                len(pending),
                limit,
                ", ".join(sorted(task.get_name() for task in pending)),
            )
            break
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=min(every, left))
    return pending


def copy_exception(exc: BaseException) -> BaseException:
    """A fresh exception like ``exc`` for one more waiter of a shared operation (one object
    raised in several tasks would collect all their tracebacks)."""
    try:
        copy = type(exc)(*exc.args)
    except Exception:
        return exc
    copy.__cause__ = exc.__cause__
    return copy
