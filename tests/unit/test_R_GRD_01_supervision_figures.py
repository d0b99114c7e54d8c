"""R-GRD-01 with R-SUP-02: the supervision report gives each team its grid-dispatch figures —
dispatched, accepted in time, arrived in time, handled, returned — from the step clocks the
deadline watch keeps; a step met at its limit is in time, one second after is not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notify.domain import supervision as sup
from notify.domain.dispatch_figures import ACCEPT, ARRIVE, HANDLE, DispatchFigures
from notify.domain.watch import WatchedDeadline

DUE = datetime(2026, 5, 6, 2, 0, tzinfo=UTC)
TEAM = "hc-zhangcun-market"


def clock(
    kind: str, subject: str, state: str, met_after: timedelta = timedelta(0)
) -> WatchedDeadline:
    return WatchedDeadline(
        key=f"Dispatch:{subject}:{kind}",
        kind=kind,
        subject_type="Dispatch",
        subject_id=subject,
        responsible_agency_id=TEAM,
        due=DUE,
        state=state,  # type: ignore[arg-type]
        rule="",
        explanation_zh=None,
        event_time=DUE + met_after,
        event_id=f"e-{subject}-{kind}",
        mode="clock",
    )


def test_R_GRD_01_team_figures_in_the_monthly_report() -> None:
    deadlines = [
        # d1: accepted at the limit, arrived one second late, handled.
        clock(ACCEPT, "d1", "met"),
        clock(ARRIVE, "d1", "met", timedelta(seconds=1)),
        clock(HANDLE, "d1", "met"),
        # d2: returned before accepting (its accept clock cancelled).
        clock(ACCEPT, "d2", "cancelled"),
        # d3: still to accept.
        clock(ACCEPT, "d3", "open"),
    ]
    report = sup.compute_report(
        kind="monthly",
        period=sup.month("2026-05"),
        now=DUE - timedelta(minutes=1),
        deadlines=deadlines,
        disputes=[],
        refusals=[],
        ratings=[],
        agencies={TEAM: ("张村市场监管所", "resident_unit")},
    )
    (row,) = [a for a in report.agencies if a.agency_id == TEAM]
    assert row.dispatch == DispatchFigures(
        dispatched=3, accepted_in_time=1, arrived_in_time=0, handled=1, returned=1
    )
    other = sup.compute_report(
        kind="quarterly",
        period=sup.quarter(2026, 3),
        now=DUE,
        deadlines=deadlines,
        disputes=[],
        refusals=[],
        ratings=[],
        agencies={TEAM: ("张村市场监管所", "resident_unit")},
    )
    assert other.agencies[0].dispatch == DispatchFigures()
