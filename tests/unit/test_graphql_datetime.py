"""The graph's DateTime (issue 18, item 8): one spelling per instant, Asia/Shanghai (DOMAIN
§0), whether the value was just computed (+08:00) or read back from a store that keeps UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from kernel.graphql.scalars import CHINA, parse_datetime, serialize_datetime


def test_a_stored_utc_time_and_a_fresh_china_time_read_the_same() -> None:
    fresh = datetime(2026, 3, 2, 17, 0, tzinfo=CHINA)
    stored = fresh.astimezone(UTC)
    assert serialize_datetime(fresh) == serialize_datetime(stored) == "2026-03-02T17:00:00+08:00"


def test_a_naive_value_is_a_stored_utc_time() -> None:
    assert serialize_datetime(datetime(2026, 3, 2, 9, 0)) == "2026-03-02T17:00:00+08:00"


def test_other_offsets_are_converted_to_china_time() -> None:
    plus_two = datetime(2026, 3, 2, 11, 0, tzinfo=timezone(timedelta(hours=2)))
    assert serialize_datetime(plus_two) == "2026-03-02T17:00:00+08:00"


def test_an_input_without_offset_is_china_time_and_one_with_offset_is_kept() -> None:
    assert parse_datetime("2026-03-02T17:00:00") == datetime(2026, 3, 2, 17, 0, tzinfo=CHINA)
    with_offset = parse_datetime("2026-03-02T09:00:00+00:00")
    assert with_offset == datetime(2026, 3, 2, 17, 0, tzinfo=CHINA)
    assert with_offset.utcoffset() == timedelta(0)


@pytest.mark.parametrize("bad", ["tomorrow", "2026-13-01T00:00:00", 20260302])
def test_a_bad_input_says_what_was_wrong(bad: object) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_datetime(bad)
