"""A calendar day from a client (issue 18: the String replacements of the deprecated ``Date``
scalar): exactly YYYY-MM-DD and a real day of the calendar, else INVALID_DATE naming the input
field; a replacement and the deprecated input it replaces are reconciled in one place."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from kernel.errors import ValidationFailed
from kernel.graphql import (
    day_input,
    iso_day,
    json_text,
    moved,
    parse_day,
    refusals_at,
    replaced_by,
)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-03-02", date(2026, 3, 2)),
        ("2026-01-01", date(2026, 1, 1)),
        ("2026-12-31", date(2026, 12, 31)),
        ("2028-02-29", date(2028, 2, 29)),  # a leap year has it
        ("2000-02-29", date(2000, 2, 29)),  # divisible by 400: a leap year
    ],
)
def test_a_real_day_written_yyyy_mm_dd_is_read(text: str, day: date) -> None:
    assert parse_day(text, "deadlineDate") == day


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-29",  # 2026 is no leap year
        "2100-02-29",  # divisible by 100, not by 400: no leap year
        "2026-02-30",
        "2026-04-31",
        "2026-13-01",
        "2026-00-10",
        "2026-3-1",  # not zero-padded
        "2026-03-1",
        "26-03-01",
        "20260301",  # ISO basic form: not the form the graph takes
        "2026-03-01T00:00",  # a time: a day has none
        "2026-03-01+08:00",  # an offset: a day has none
        " 2026-03-01",
        "2026-03-01\n",
        "2026/03/01",
        "２０２６-03-01",  # full-width digits
        "",
    ],
)
def test_anything_else_is_refused_with_invalid_date_naming_the_field(text: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_day(text, "tasks.0.deadlineDate")
    assert refused.value.code == "INVALID_DATE"
    assert refused.value.family == "VALIDATION_FAILED"
    assert refused.value.field == "tasks.0.deadlineDate"
    assert "YYYY-MM-DD" in refused.value.message_zh


def _day(old: date | None, new: str | None, *, required: bool = False) -> date | None:
    if required:
        return day_input(old, new, field="deadlineDate", old_field="deadline", required=True)
    return day_input(old, new, field="deadlineDate", old_field="deadline")


def test_the_replacement_or_the_deprecated_input_gives_the_day() -> None:
    assert _day(None, "2026-03-09", required=True) == date(2026, 3, 9)
    assert _day(date(2026, 3, 9), None, required=True) == date(2026, 3, 9)
    assert _day(date(2026, 3, 9), "2026-03-09", required=True) == date(2026, 3, 9)
    assert _day(None, None) is None  # optional: neither given


def test_a_required_day_given_by_neither_is_refused_naming_the_replacement() -> None:
    with pytest.raises(ValidationFailed) as refused:
        _day(None, None, required=True)
    assert (refused.value.code, refused.value.field) == ("REQUIRED", "deadlineDate")


def test_both_given_and_one_day_apart_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        _day(date(2026, 3, 9), "2026-03-10")
    assert (refused.value.code, refused.value.field) == ("INPUTS_DISAGREE", "deadlineDate")


def test_a_malformed_replacement_is_refused_even_beside_a_valid_deprecated_input() -> None:
    with pytest.raises(ValidationFailed) as refused:
        _day(date(2026, 3, 9), "2026-3-9", required=True)
    assert (refused.value.code, refused.value.field) == ("INVALID_DATE", "deadlineDate")


def test_the_deprecation_names_the_replacement_and_the_removal_date() -> None:
    assert replaced_by("deadlineDate") == ("use `deadlineDate`; removed no earlier than 2027-06-30")


def test_the_output_replacements_answer_the_same_value_as_standard_types() -> None:
    day_field, json_field = iso_day("d", "a day"), json_text("j", "a payload")

    row = SimpleNamespace(d=date(2026, 3, 2), j={"a": [1, "二"], "b": None})
    empty = SimpleNamespace(d=None, j=None)

    assert day_field.base_resolver(row) == "2026-03-02"
    assert json_field.base_resolver(row) == '{"a": [1, "二"], "b": null}'
    assert day_field.base_resolver(empty) is None
    assert json_field.base_resolver(empty) is None


async def test_a_domain_refusal_names_the_input_the_client_sent() -> None:
    """The domain names the deprecated input (``deadline``); a client that sent the
    replacement, or neither, reads the replacement's name; one that sent the deprecated input
    reads that. Other fields and the other problems found at once keep theirs."""

    async def refuse() -> None:
        raise ValidationFailed(
            "the task's deadline cannot lie in the past",
            field="deadline",
            code="IN_THE_PAST",
            problems=[
                ValidationFailed("describe it", field="description", code="REQUIRED"),
                ValidationFailed("in the past", field="deadline", code="IN_THE_PAST"),
            ],
        )

    for sent, field in ((None, "deadlineDate"), (date(2026, 3, 1), "deadline")):
        with pytest.raises(ValidationFailed) as refused:
            await refusals_at(refuse(), moved(sent, "deadline", "deadlineDate"))
        fields = [refused.value.field, *(p.field for p in refused.value.problems)]
        assert fields == [field, "description", field]
    assert await refusals_at(_ok(), {"deadline": "deadlineDate"}) == "done"


async def _ok() -> str:
    return "done"
