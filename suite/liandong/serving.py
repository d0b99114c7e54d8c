"""How every ``liandong serve`` process runs: its uvicorn settings and its event loop, in one
place, so the benchmarks' bare comparison app (P6, ``bench.floor_app``) runs with exactly the
same."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import uvicorn

T = TypeVar("T")


def server_config(app: Any, *, host: str, port: int) -> uvicorn.Config:
    """uvicorn's configuration of a service process serving ``app`` on ``host:port``."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=20,
    )


#: Names the event loop of the service processes (:func:`loop_factory`).
EVENT_LOOP_VARIABLE = "LIANDONG_EVENT_LOOP"


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """The event loop of a service process: uvloop (libuv), as uvicorn itself picks it where
    it is installed (``loop="auto"``), or asyncio's own loop with
    ``LIANDONG_EVENT_LOOP=asyncio`` (an operator's way back, and the benchmarks' comparison).

    A service process runs ``uvicorn.Server.serve()`` inside its own ``main()`` (the store
    and the bus are opened first), so uvicorn's choice never applied: until issue 21's
    session 15 every service ran on asyncio's selector loop."""
    chosen = os.environ.get(EVENT_LOOP_VARIABLE, "uvloop").strip().lower() or "uvloop"
    if chosen == "asyncio":
        return asyncio.new_event_loop
    if chosen != "uvloop":
        raise ValueError(f"{EVENT_LOOP_VARIABLE} is {chosen!r}: expected 'uvloop' or 'asyncio'")
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop has no wheel for this platform
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on a new loop of :func:`loop_factory` (what
    ``asyncio.run`` does, on the service processes' loop)."""
    try:
        factory = loop_factory()
    except BaseException:
        main.close()  # never started: no "coroutine was never awaited" warning
        raise
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
