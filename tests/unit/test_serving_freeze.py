"""How a service process serves (``liandong.serving.serve``): once uvicorn has started, what
start-up built is frozen out of the garbage collector's walks (issue 21, session 18: full
collections paused P1's services 100-240 ms); a start-up that fails freezes nothing and
exits non-zero."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from liandong.gateway import free_port
from liandong.serving import run, serve


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    """The test process's heap is never left frozen, and what a test leaves for the collector
    is collected here: the task uvicorn's ``SystemExit`` left behind is finalised (and its
    never-retrieved exception logged) now, not inside a later test's ``ast.parse``, where
    Python 3.11's traceback formatting would parse re-entrantly ("AST constructor recursion
    depth mismatch", python/cpython#106905)."""
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.collect()


def _tracked(obj: object) -> bool:
    """Whether the collector still walks ``obj`` (a frozen object is in no generation)."""
    return any(o is obj for o in gc.get_objects())


def _app(seen: dict[str, Any], *, fail: bool = False) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if fail:
            raise RuntimeError("the store is unreachable")
        seen["built"] = [{"startup": True}]  # what start-up builds and keeps
        seen["frozen at start-up"] = gc.get_freeze_count()
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/state")
    async def state() -> dict[str, Any]:
        made = [{"per": "request"}]
        return {
            "frozen": gc.get_freeze_count(),
            "built tracked": _tracked(seen["built"]),
            "request tracked": _tracked(made),
        }

    return app


def _server(app: FastAPI, port: int) -> uvicorn.Server:
    return uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))


async def test_serve_freezes_the_start_up_heap_once_started_and_keeps_serving() -> None:
    import asyncio

    seen: dict[str, Any] = {}
    port = free_port()
    server = _server(_app(seen), port)
    serving = asyncio.create_task(serve(server, what="the test service"))
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            for _ in range(250):
                if server.started and gc.get_freeze_count():
                    break
                await asyncio.sleep(0.02)
            state = (await client.get(f"http://127.0.0.1:{port}/state")).json()
    finally:
        server.should_exit = True
        await serving
    assert seen["frozen at start-up"] == 0  # not during the lifespan's start-up
    assert state["frozen"] > 1000  # the test process's heap, at least
    assert state["built tracked"] is False  # start-up's objects: skipped by the collector
    assert state["request tracked"] is True  # a request's: collected as usual


def test_a_start_up_that_fails_freezes_nothing_and_exits_non_zero() -> None:
    """uvicorn's own exit (``SystemExit(3)``, which leaves the event loop) ends the process:
    an orchestrator sees a failed start, not a clean stop."""
    seen: dict[str, Any] = {}
    server = _server(_app(seen, fail=True), free_port())
    with pytest.raises(SystemExit) as exited:
        run(serve(server, what="the test service"), loop="asyncio")
    assert exited.value.code == 3
    assert gc.get_freeze_count() == 0
    assert not server.started
