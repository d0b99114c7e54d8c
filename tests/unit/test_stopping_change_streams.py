"""Stopping what follows a change stream, when the driver swallows a cancellation.

CI of stop 27 failed on ``test_read_cache``: ``ChangeSignal.close()`` waited 60 s for its
stream task. A trace showed why: the task had been cancelled, PyMongo's getMore raised
``CancelledError`` inside, and ``AsyncCommandCursor._refresh`` still returned normally, so the
change stream went on with its next getMore and the close waited for ever. On Python 3.11
``asyncio.wait_for`` returns an inner result that finished just as the cancellation came
(fixed in 3.12); PyMongo sends every command through it. A service's shutdown (the relay's
followers, the read cache's stream) would hang the same way.

Here a fake stream absorbs the first cancellations as that driver does, and the stoppers
must still stop it: they cancel again until the task ends, within a limit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from kernel.adapters.embedded_store import open_embedded_store
from kernel.adapters.memory_bus import MemoryBus
from kernel.changes import ChangeSignal
from kernel.outbox import OutboxRelay
from kernel.store import Collection
from kernel.tasks import cancel_and_wait

pytestmark = pytest.mark.timeout(30)


class SwallowingStream:
    """A change stream that absorbs its first ``swallow`` cancellations and waits on."""

    def __init__(self, swallow: float) -> None:
        self.swallow = swallow
        self.opened = 0
        self.absorbed = 0

    async def changed_ids(
        self, match: Mapping[str, Any], on_open: Callable[[], None] | None = None
    ) -> AsyncIterator[str]:
        self.opened += 1
        if on_open is not None:
            on_open()
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if self.absorbed >= self.swallow:
                    raise
                self.absorbed += 1
            if False:  # an async generator that never yields a change
                yield ""


class StreamingCollection:
    """An embedded collection with ``stream`` as its change stream (MongoDB's shape)."""

    def __init__(self, inner: Collection, stream: SwallowingStream) -> None:
        self._inner = inner
        self.changed_ids = stream.changed_ids

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


async def _stops_within(seconds: float, stopping: Any, stream: SwallowingStream) -> bool:
    """Whether ``stopping`` (a close or stop) returns within ``seconds``. Not through
    ``wait_for``: its cancellation at the timeout would be a second cancel of the stream's
    task, which is exactly what a stopper that awaits once lacks."""
    task = asyncio.create_task(stopping)
    await asyncio.wait({task}, timeout=seconds)
    if task.done():
        task.result()
        return True
    stream.swallow = 0  # the stopper is stuck: release it, then say so
    task.cancel()
    await asyncio.wait({task})
    return False


async def _first_change(stream: SwallowingStream) -> str:
    async for changed in stream.changed_ids({}):
        return changed
    return ""


async def _running(stream: SwallowingStream, opened: int = 1) -> None:
    while stream.opened < opened:
        await asyncio.sleep(0.001)
    await asyncio.sleep(0.01)  # inside its wait


async def test_a_change_signal_closes_although_the_driver_swallows_a_cancellation() -> None:
    stream = SwallowingStream(swallow=1)
    signal = ChangeSignal(StreamingCollection(None, stream), {})  # type: ignore[arg-type]
    signal.follow()
    await _running(stream)
    assert signal.live
    assert await _stops_within(5, signal.close(), stream)
    assert stream.absorbed == 1  # the first cancellation was lost, a second one stopped it
    assert not signal.live


async def test_a_closed_change_signal_stays_closed() -> None:
    """A read after the close (the read cache's ``many`` calls ``follow``) must not open the
    stream again: nothing would close it, and the cache would trust it."""
    stream = SwallowingStream(swallow=0)
    signal = ChangeSignal(StreamingCollection(None, stream), {})  # type: ignore[arg-type]
    signal.follow()
    await _running(stream)
    await signal.close()
    signal.follow()
    await signal.wait(0.02)
    assert stream.opened == 1
    assert not signal.live


async def test_the_relay_stops_although_the_driver_swallows_a_cancellation(
    tmp_path: Path,
) -> None:
    store = open_embedded_store(tmp_path, "relay")
    stream = SwallowingStream(swallow=1)
    streaming = StreamingCollection(store.collection("cases"), stream)
    relay = OutboxRelay([streaming], MemoryBus())
    try:
        relay.start()
        await _running(stream)
        assert await _stops_within(5, relay.stop(), stream)
        assert stream.absorbed == 1
    finally:
        await store.close()


async def test_cancel_and_wait_cancels_again_until_the_task_ends() -> None:
    stream = SwallowingStream(swallow=3)
    task = asyncio.create_task(_first_change(stream))
    await _running(stream)
    assert await cancel_and_wait([task], every=0.01, limit=5) == set()
    assert task.cancelled()
    assert stream.absorbed == 3


async def test_cancel_and_wait_gives_up_at_its_limit_and_says_which_task(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Just past the limit: a task that never ends is left (logged), the caller goes on."""
    stream = SwallowingStream(swallow=float("inf"))
    task = asyncio.create_task(_first_change(stream), name="stubborn-stream")
    await _running(stream)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with caplog.at_level(logging.WARNING, logger="kernel.tasks"):
        assert await cancel_and_wait([task], every=0.01, limit=0.2) == {task}
    assert 0.2 <= loop.time() - started < 5
    assert not task.done()
    assert "stubborn-stream" in caplog.text
    stream.swallow = 0  # let it end now
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_cancel_and_wait_returns_a_task_that_ended_by_itself_untouched() -> None:
    async def quick() -> int:
        return 7

    task = asyncio.create_task(quick())
    await task
    assert await cancel_and_wait([task]) == set()
    assert task.result() == 7
