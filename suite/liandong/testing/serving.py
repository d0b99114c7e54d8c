"""An ASGI app served by uvicorn on a free local port, for tests and benchmarks: in the
running event loop (``LoopServer``) or in a daemon thread for synchronous fixtures
(``ThreadServer``). Both wait until uvicorn says it has started, and fail loudly when it
stops before that."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import uvicorn

from liandong.gateway import free_port
from liandong.serving import until_started

__all__ = ["LoopServer", "ThreadServer"]


def _config(app: Any, port: int, **options: Any) -> uvicorn.Config:
    return uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **options)


class LoopServer:
    """``app`` served as a task of the running event loop on ``port`` (a free one when
    None); ``url`` is its base address. ``start()``/``stop()``, or ``async with``."""

    def __init__(
        self, app: Any, *, port: int | None = None, what: str = "the server", **options: Any
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.what = what
        self._server = uvicorn.Server(_config(app, self.port, **options))
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve())
        if not await until_started(self._server, self._task, what=self.what):
            raise RuntimeError(f"{self.what} did not start")

    async def stop(self) -> None:
        if self._task is not None:
            self._server.should_exit = True
            await self._task
            self._task = None

    async def __aenter__(self) -> LoopServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


class ThreadServer:
    """``app`` served in a daemon thread on a free port, for synchronous fixtures; ``url``
    is its address with ``path``."""

    def __init__(
        self, app: Any, *, path: str = "", what: str = "the server", within: float = 15
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{path}"
        self.what = what
        self.within = within
        self._server = uvicorn.Server(_config(app, self.port))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + self.within
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self.what} at {self.url} did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
