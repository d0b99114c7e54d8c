"""The event loop every ``liandong serve`` process (and P6's bare app) runs on
(``liandong.serving``): uvloop unless ``LIANDONG_EVENT_LOOP=asyncio``."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

import pytest
import uvloop
from pydantic import ValidationError

from kernel.settings import Settings
from liandong.serving import loop_factory, run


async def _loop_type() -> type:
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop())


def test_a_service_runs_on_uvloop_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIANDONG_EVENT_LOOP", raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.event_loop == "uvloop"
    assert run(_loop_type(), loop=settings.event_loop) is uvloop.Loop


def test_asyncio_is_the_operators_way_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIANDONG_EVENT_LOOP", "asyncio")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    loop_type = run(_loop_type(), loop=settings.event_loop)
    assert loop_type is not uvloop.Loop
    assert issubclass(loop_type, asyncio.BaseEventLoop)


def test_an_unknown_loop_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIANDONG_EVENT_LOOP", "trio")
    with pytest.raises(ValidationError, match=r"event_loop\n  Input should be 'uvloop' or"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    bad: Any = "trio"  # what a caller bypassing the settings could pass
    with pytest.raises(ValueError, match=r"event loop 'trio': expected 'uvloop' or 'asyncio'"):
        loop_factory(bad)


def test_run_returns_the_result_and_closes_its_loop() -> None:
    seen: list[asyncio.AbstractEventLoop] = []

    async def work() -> int:
        seen.append(asyncio.get_running_loop())
        return 42

    assert run(work(), loop="uvloop") == 42
    assert seen[0].is_closed()


def test_a_coroutine_never_started_is_closed(recwarn: pytest.WarningsRecorder) -> None:
    bad: Any = "trio"
    coroutine = _loop_type()
    with pytest.raises(ValueError):
        run(coroutine, loop=bad)
    assert coroutine.cr_frame is None  # closed: no "never awaited" warning later
    assert not [w for w in recwarn if "never awaited" in str(w.message)]


def test_the_serve_command_refuses_an_unknown_loop_before_starting() -> None:
    """What an operator sees: the command fails at once, naming the setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIANDONG_")}
    result = subprocess.run(
        [sys.executable, "-m", "liandong.cli", "serve", "referral"],
        env={**env, "LIANDONG_EVENT_LOOP": "trio"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "event_loop" in result.stderr and "'uvloop' or 'asyncio'" in result.stderr
