"""The time every service takes "now" from: the system clock in production, and in
development and tests a clock that runs ``offset`` ahead of (or behind) the real time.

Statutory clocks run for days (5 working days to accept a referral, weeks for a dispute's
ladder), so end-to-end tests of the deadline watch must move time. In the embedded suite a
test can hand one callable to every bootstrap; with separate processes (``liandong serve``,
the production topology) it cannot, so the offset lives in a file all processes read
(``LIANDONG_TEST_CLOCK_FILE``). The file holds an ISO-8601 duration (``P6DT2H``, ``-PT30M``)
or a number of seconds; a missing or empty file means no offset. The file is re-read only
when it changes (its mtime, size or inode), so calling the clock stays cheap.

The offset clock is refused when ``LIANDONG_ENV=production``: a deployment whose deadlines
could be moved by writing a file would make every reminder and escalation meaningless.

Real-time mechanics (token expiry, outbox and timer leases, webhook retry backoff) keep the
system clock; only the domain's "now" (when something happened, what is due, what is late)
comes from here.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from kernel.settings import Settings

__all__ = [
    "Clock",
    "OffsetFileClock",
    "clock_from_settings",
    "parse_offset",
    "system_clock",
    "write_offset",
]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
"""Returns the current instant as an aware datetime in UTC."""

_DURATION: TypeAdapter[timedelta] = TypeAdapter(timedelta)
_ISO_DURATION = re.compile(r"^[-+]?P(?=\d|T\d)", re.IGNORECASE)


def system_clock() -> datetime:
    """The real time, aware, in UTC."""
    return datetime.now(UTC)


def parse_offset(text: str) -> timedelta:
    """An offset from the clock file's text: seconds (``86400``, ``-90.5``) or an ISO-8601
    duration (``P5DT9H``, ``-PT30M``); blank means zero. Raises ``ValueError`` otherwise."""
    text = text.strip()
    if not text:
        return timedelta(0)
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):
            raise ValueError(f"clock offset {text!r} is not a finite number of seconds")
        return timedelta(seconds=seconds)
    try:
        # pydantic also takes "5 days, 0:00:00" and the like: only ISO durations are promised.
        if _ISO_DURATION.match(text):
            return _DURATION.validate_python(text)
    except ValidationError:
        pass
    raise ValueError(
        f"clock offset {text!r} is neither a number of seconds nor an ISO-8601 duration "
        "(e.g. P5DT9H or -PT30M)"
    )


def write_offset(path: Path, offset: timedelta) -> None:
    """Set the offset of every :class:`OffsetFileClock` reading ``path`` (tests use this).

    Written to a temporary file and renamed, so a reader never sees half a number, and the
    new inode tells readers the file changed even within one mtime tick."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(f"{offset.total_seconds()!r}\n", encoding="utf-8")
    os.replace(tmp, path)


class OffsetFileClock:
    """The real time plus the offset written in ``path`` (development and tests only)."""

    def __init__(self, path: Path, *, base: Clock = system_clock) -> None:
        self.path = path
        self._base = base
        self._lock = threading.Lock()
        self._seen: tuple[int, int, int] | None = None
        self._offset = timedelta(0)
        # A bad file at start is a mistake in the test or the developer's setup: say so now.
        self._refresh(strict=True)

    @property
    def offset(self) -> timedelta:
        self._refresh(strict=False)
        return self._offset

    def __call__(self) -> datetime:
        return self._base() + self.offset

    def _refresh(self, *, strict: bool) -> None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self._seen, self._offset = None, timedelta(0)
            return
        seen = (st.st_mtime_ns, st.st_size, st.st_ino)
        if seen == self._seen:
            return
        with self._lock:
            if seen == self._seen:
                return
            try:
                offset = parse_offset(self.path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                self._seen, self._offset = None, timedelta(0)
                return
            except ValueError as exc:
                if strict:
                    raise ValueError(f"{self.path}: {exc}") from None
                # A clock that raised would stop every handler; the previous offset is the
                # least surprising value while someone fixes the file.
                log.error("%s: %s; keeping the offset %s", self.path, exc, self._offset)
                self._seen = seen
                return
            self._seen, self._offset = seen, offset


def clock_from_settings(settings: Settings) -> Clock:
    """The clock a deployment runs on: the system clock, or the offset clock of
    ``test_clock_file`` outside production. Raises ``ValueError`` when a production
    deployment names a clock file."""
    path = settings.test_clock_file
    if path is None:
        return system_clock
    if settings.env == "production":
        raise ValueError(
            "LIANDONG_TEST_CLOCK_FILE is set but LIANDONG_ENV=production: a movable clock is "
            "for development and tests only; unset LIANDONG_TEST_CLOCK_FILE"
        )
    return OffsetFileClock(path)
