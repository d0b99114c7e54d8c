"""Supervision figures of grid dispatch per team (R-GRD-01 with R-SUP-02): how many problems a
team was dispatched, how many it accepted and arrived at in time, handled, and returned.

Read from the step clocks the deadline watch keeps (coordination's ``dispatch.*`` blocks, one
open at a time): every dispatch opens the team's accept clock; accepting meets it and opens the
arrive clock, arriving the handle clock; a return cancels the team's open clock. So a team's
figures of a period are counts over its clocks falling due in it. Pure Python.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from notify.domain.watch import WatchedDeadline

__all__ = ["ACCEPT", "ARRIVE", "HANDLE", "TEAM_KINDS", "DispatchFigures", "dispatch_figures"]

ACCEPT = "dispatch.accept"
ARRIVE = "dispatch.arrive"
HANDLE = "dispatch.handle"
_TEAM_CLOCKS = (ACCEPT, ARRIVE, HANDLE)
#: Agency kinds that are enforcement teams (HC #7): a township's own centre and the resident
#: units (派驻机构) it commands. The reports list every one of them, with zeros when none
#: was dispatched anything.
TEAM_KINDS = frozenset({"township", "resident_unit"})


@dataclass(frozen=True)
class DispatchFigures:
    """One team's dispatches in a period (派单 / 接单 / 报到 / 处置 / 退回)."""

    dispatched: int = 0
    accepted_in_time: int = 0
    arrived_in_time: int = 0
    handled: int = 0
    returned: int = 0

    @property
    def any(self) -> bool:
        return any((self.dispatched, self.handled, self.returned))


def _in_time(d: WatchedDeadline) -> bool:
    return d.state == "met" and d.event_time <= d.due


def dispatch_figures(
    deadlines: Iterable[WatchedDeadline], contains: Callable[[datetime], bool]
) -> dict[str, DispatchFigures]:
    """Per team (the clocks' responsible agency), over the clocks whose due time ``contains``
    accepts (the report's period)."""
    out: dict[str, DispatchFigures] = {}
    for d in deadlines:
        if d.kind not in _TEAM_CLOCKS or not contains(d.due):
            continue
        f = out.get(d.responsible_agency_id, DispatchFigures())
        if d.kind == ACCEPT:
            f = replace(
                f, dispatched=f.dispatched + 1, accepted_in_time=f.accepted_in_time + _in_time(d)
            )
        elif d.kind == ARRIVE:
            f = replace(f, arrived_in_time=f.arrived_in_time + _in_time(d))
        elif d.state == "met":
            f = replace(f, handled=f.handled + 1)
        if d.state == "cancelled":
            f = replace(f, returned=f.returned + 1)
        out[d.responsible_agency_id] = f
    return out
