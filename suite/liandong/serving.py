"""How every ``liandong serve`` process runs: its uvicorn settings and its event loop, in one
place, so the benchmarks' bare comparison app (P6, ``bench.floor_app``) runs with exactly the
same."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

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


EventLoop = Literal["uvloop", "asyncio"]


def loop_factory(name: EventLoop) -> Callable[[], asyncio.AbstractEventLoop]:
    """The event loop of a service process (``LIANDONG_EVENT_LOOP``, ``Settings.event_loop``):
    uvloop (libuv), as uvicorn itself picks it where it is installed (``loop="auto"``), or
    asyncio's own loop (an operator's way back, and the benchmarks' comparison).

    A service process runs ``uvicorn.Server.serve()`` inside its own ``main()`` (the store
    and the bus are opened first), so uvicorn's choice never applied: until issue 21's
    session 15 every service ran on asyncio's selector loop."""
    if name == "asyncio":
        return asyncio.new_event_loop
    if name != "uvloop":
        raise ValueError(f"event loop {name!r}: expected 'uvloop' or 'asyncio'")
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop has no wheel for this platform
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T], *, loop: EventLoop) -> T:
    """Run ``main`` to completion on a new event loop of the kind ``loop`` names (what
    ``asyncio.run`` does, on the service processes' loop)."""
    try:
        factory = loop_factory(loop)
    except BaseException:
        main.close()  # never started: no "coroutine was never awaited" warning
        raise
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
