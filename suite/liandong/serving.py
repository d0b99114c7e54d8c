"""How every ``liandong serve`` process runs: its uvicorn settings and its event loop, in one
place, so the benchmarks' bare comparison app (P6, ``bench.floor_app``) runs with exactly the
same."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

import uvicorn

T = TypeVar("T")

log = logging.getLogger("liandong.serving")


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


async def until_started(
    server: uvicorn.Server, serving: asyncio.Task[None], *, what: str = "the server"
) -> bool:
    """Wait until uvicorn says ``server`` has started (its lifespan's start-up done, its socket
    bound). A start-up that fails, or a port in use, uvicorn logs and ends with
    ``SystemExit(3)``, which leaves the event loop at once (the process exits with 3); any
    other exception of ``serving`` (the task running ``server.serve()``) is raised here.
    False when it ended quietly before starting."""
    while not server.started:
        if serving.done():
            serving.result()
            log.info("%s stopped before it started", what)
            return False
        await asyncio.sleep(0.02)
    return True


def freeze_startup_heap() -> int:
    """Collect, then move every object alive now to the collector's permanent generation
    (``gc.freeze``); returns how many.

    A service process holds some 200,000 objects once started (its GraphQL schema,
    graphql-core's and strawberry's type maps, the drivers, the catalogue): none of them
    become garbage while it serves, but every full (oldest-generation) collection walks all
    of them. Measured on P1's topology under load (issue 21, session 18): such a collection
    paused a service 100-240 ms, several times a minute, and a request that needs three
    services waits for any of them. Frozen, those objects are skipped by every collection;
    what start-up built and later drops is still freed by reference counting; only a cycle
    of frozen objects that becomes garbage later would stay (start-up's own garbage is
    collected before the freeze)."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


async def serve(server: uvicorn.Server, *, what: str = "the service") -> None:
    """Serve until uvicorn shuts down (SIGINT, SIGTERM); once it has started, freeze the
    start-up heap (:func:`freeze_startup_heap`)."""
    serving = asyncio.create_task(server.serve())
    if await until_started(server, serving, what=what):
        log.info("%s started; %d start-up objects frozen", what, freeze_startup_heap())
    await serving
