"""The event loop every ``liandong serve`` process (and P6's bare app) runs on
(``liandong.serving``): uvloop unless ``LIANDONG_EVENT_LOOP=asyncio``."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
import uvloop

from liandong.serving import EVENT_LOOP_VARIABLE, loop_factory, run


async def _loop_type() -> type:
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop())


def test_a_service_runs_on_uvloop_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(EVENT_LOOP_VARIABLE, raising=False)
    assert run(_loop_type()) is uvloop.Loop


@pytest.mark.parametrize("value", ["uvloop", " UVLOOP ", ""])
def test_uvloop_named_or_left_empty_is_uvloop(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(EVENT_LOOP_VARIABLE, value)
    assert run(_loop_type()) is uvloop.Loop


def test_asyncio_is_the_operators_way_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EVENT_LOOP_VARIABLE, "asyncio")
    loop_type = run(_loop_type())
    assert loop_type is not uvloop.Loop
    assert issubclass(loop_type, asyncio.BaseEventLoop)


def test_an_unknown_loop_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EVENT_LOOP_VARIABLE, "trio")
    with pytest.raises(ValueError, match=r"LIANDONG_EVENT_LOOP is 'trio': expected 'uvloop' or"):
        loop_factory()


def test_run_returns_the_result_and_closes_its_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(EVENT_LOOP_VARIABLE, raising=False)
    seen: list[asyncio.AbstractEventLoop] = []

    async def work() -> int:
        seen.append(asyncio.get_running_loop())
        return 42

    assert run(work()) == 42
    assert seen[0].is_closed()


def test_the_serve_command_refuses_an_unknown_loop_before_starting() -> None:
    """What an operator sees: the command fails at once, naming the variable."""
    result = subprocess.run(
        [sys.executable, "-m", "liandong.cli", "serve", "referral"],
        env={**_base_env(), EVENT_LOOP_VARIABLE: "trio"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "LIANDONG_EVENT_LOOP is 'trio'" in result.stderr


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("LIANDONG_")}
