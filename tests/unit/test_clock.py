"""kernel.clock: the movable clock that lets separate processes share one "now" in tests
(R-SUP-02's deadline watch is tested by moving it), and its refusal in production."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kernel.clock import (
    OffsetFileClock,
    clock_from_settings,
    parse_offset,
    system_clock,
    write_offset,
)
from kernel.settings import Settings
from kernel.wiring import build_deps

BASE = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def fixed() -> datetime:
    return BASE


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("", timedelta(0)),
        ("  \n", timedelta(0)),
        ("86400", timedelta(days=1)),
        ("-90.5\n", timedelta(seconds=-90.5)),
        ("P5DT9H", timedelta(days=5, hours=9)),
        ("-PT30M", timedelta(minutes=-30)),
        ("P1W", timedelta(weeks=1)),
    ],
)
def test_parse_offset_seconds_or_iso_duration(text: str, offset: timedelta) -> None:
    assert parse_offset(text) == offset


@pytest.mark.parametrize("text", ["tomorrow", "5 days", "nan", "inf", "P5X"])
def test_parse_offset_refuses_anything_else_with_a_clear_message(text: str) -> None:
    with pytest.raises(ValueError, match=r"ISO-8601 duration|finite"):
        parse_offset(text)


def test_missing_file_means_no_offset(tmp_path: Path) -> None:
    clock = OffsetFileClock(tmp_path / "absent", base=fixed)
    assert clock() == BASE
    assert clock().tzinfo is UTC


def test_offset_is_read_and_follows_every_change_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    path.write_text("P6D")
    clock = OffsetFileClock(path, base=fixed)
    assert clock() == BASE + timedelta(days=6)
    # Rewritten in place with the same size within the same mtime tick would be missed by an
    # mtime check alone: write_offset renames a new file over it, so the inode changes.
    for days in (1, 2, 3):
        write_offset(path, timedelta(days=days))
        assert clock() == BASE + timedelta(days=days)
    write_offset(path, timedelta(hours=-2))
    assert clock() == BASE - timedelta(hours=2)
    path.unlink()
    assert clock() == BASE
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_another_clock_on_the_same_file_agrees(tmp_path: Path) -> None:
    """Two processes (here two instances) reading one file see the same time."""
    path = tmp_path / "clock"
    first, second = OffsetFileClock(path, base=fixed), OffsetFileClock(path, base=fixed)
    write_offset(path, timedelta(days=9, seconds=1))
    assert first() == second() == BASE + timedelta(days=9, seconds=1)


def test_file_is_not_reread_while_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "clock"
    write_offset(path, timedelta(days=1))
    clock = OffsetFileClock(path, base=fixed)
    reads: list[Path] = []
    original = Path.read_text

    def counting(self: Path, *args: object, **kwargs: object) -> str:
        reads.append(self)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", counting)
    for _ in range(100):
        clock()
    assert reads == []
    write_offset(path, timedelta(days=2))
    assert clock() == BASE + timedelta(days=2)
    assert reads == [path]


def test_bad_file_at_start_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    path.write_text("next week")
    with pytest.raises(ValueError, match=str(path)):
        OffsetFileClock(path, base=fixed)


def test_bad_file_later_keeps_the_last_good_offset(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    write_offset(path, timedelta(days=3))
    clock = OffsetFileClock(path, base=fixed)
    assert clock() == BASE + timedelta(days=3)
    tmp = tmp_path / "bad"
    tmp.write_text("half a numb")
    os.replace(tmp, path)
    assert clock() == BASE + timedelta(days=3)
    write_offset(path, timedelta(days=4))
    assert clock() == BASE + timedelta(days=4)


def test_system_clock_without_a_clock_file(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert clock_from_settings(settings) is system_clock
    now = system_clock()
    assert now.tzinfo is UTC
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


def test_clock_file_from_settings_outside_production(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    write_offset(path, timedelta(days=10))
    for env in ("development", "test"):
        clock = clock_from_settings(Settings(env=env, test_clock_file=path, data_dir=tmp_path))
        assert abs(clock() - datetime.now(UTC) - timedelta(days=10)) < timedelta(seconds=5)


def test_clock_file_refused_in_production(tmp_path: Path) -> None:
    settings = Settings(env="production", test_clock_file=tmp_path / "clock", data_dir=tmp_path)
    with pytest.raises(ValueError, match=r"LIANDONG_TEST_CLOCK_FILE.*production"):
        clock_from_settings(settings)


def test_production_deployment_with_a_clock_file_does_not_start(tmp_path: Path) -> None:
    """build_deps (every ``liandong serve`` and ``liandong up``) checks before opening
    anything, so the refusal comes before any store or bus is touched."""
    settings = Settings(
        env="production",
        test_clock_file=tmp_path / "clock",
        data_dir=tmp_path,
        store="embedded",
        bus="memory",
    )
    with pytest.raises(ValueError, match="production"):
        asyncio.run(build_deps(settings, "notify"))
    assert not (tmp_path / "store").exists()


def test_settings_read_the_clock_file_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "clock"
    monkeypatch.setenv("LIANDONG_TEST_CLOCK_FILE", str(path))
    assert Settings().test_clock_file == path


def test_deps_carry_the_clock(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    write_offset(path, timedelta(days=2))
    settings = Settings(test_clock_file=path, data_dir=tmp_path, store="embedded", bus="memory")
    deps = asyncio.run(build_deps(settings, "notify"))
    try:
        assert abs(deps.clock() - datetime.now(UTC) - timedelta(days=2)) < timedelta(seconds=5)
    finally:
        asyncio.run(deps.store.close())
