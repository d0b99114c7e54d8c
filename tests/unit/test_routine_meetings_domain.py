"""R-MTG-01: the periods routine meetings are held on (FY every six months; HC weekly,
monthly, quarterly), pinned at their boundaries. Pure domain."""

from __future__ import annotations

from datetime import date

import pytest

from coordination.domain.routine import next_period, period_of
from coordination.policy import policy_of
from kernel.policy import load_policy


@pytest.mark.parametrize(
    ("recurrence", "day", "label", "start", "end"),
    [
        ("half_yearly", date(2026, 6, 30), "2026-H1", date(2026, 1, 1), date(2026, 6, 30)),
        ("half_yearly", date(2026, 7, 1), "2026-H2", date(2026, 7, 1), date(2026, 12, 31)),
        ("quarterly", date(2026, 12, 31), "2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("monthly", date(2028, 2, 29), "2028-02", date(2028, 2, 1), date(2028, 2, 29)),
        ("weekly", date(2026, 12, 6), "2026-W49", date(2026, 11, 30), date(2026, 12, 6)),
        ("weekly", date(2026, 12, 7), "2026-W50", date(2026, 12, 7), date(2026, 12, 13)),
        ("yearly", date(2026, 1, 1), "2026", date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_R_MTG_01_periods_at_their_boundaries(
    recurrence: str, day: date, label: str, start: date, end: date
) -> None:
    p = period_of(recurrence, day)
    assert (p.label, p.start, p.end) == (label, start, end)
    assert next_period(recurrence, p).start == date.fromordinal(end.toordinal() + 1)


def test_R_MTG_01_the_seed_policies_name_period_and_convener() -> None:
    fy = policy_of(load_policy("fuyuan")).meetings.routine
    assert [(m.recurrence, m.convener_kind) for m in fy] == [("half_yearly", "department")]
    hc = policy_of(load_policy("huancui")).meetings.routine
    assert [m.recurrence for m in hc] == ["weekly", "monthly", "quarterly"]
    assert {m.convener_kind for m in hc} == {"coordination_body"}
    with pytest.raises(ValueError):
        period_of("unspecified", date(2026, 1, 1))
