"""R-GRD-01 with R-SUP-02 in the production topology (separate service processes over RabbitMQ
and the MongoDB wire-protocol server, behind the real gateway, on one movable clock): a
dispatch the resident unit does not accept within the policy's limit (Fuyuan: 1 hour, project
default) is overdue, then escalates to the leader of the township whose platform dispatched it
(an inbox notice the leader signs, 签收) and the team's own leader, then to the body the
policy's ``dispatch.escalation`` names (Fuyuan: the justice bureau, a labelled default), at the
steps of ``reminders.escalation`` (hour clocks: 2 and 8 hours after the limit). Each step is
checked just inside (nothing yet) and just past."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kernel.clock import write_offset
from kernel.settings import Settings
from tests.e2e.conftest import running_production
from tests.e2e.scenario import Gateway, eventually
from tests.e2e.stalls import assert_no_stalls
from tests.e2e.test_new_rules_e2e import _mutate, _sign
from tests.e2e.test_R_GRD_01_dispatch_e2e import (
    DISPATCH,
    ONE,
    REPORT,
    UNIT,
    register_unit,
    report_input,
)

pytestmark = pytest.mark.timeout(900)

INBOX = """
query { myInbox(first: 200) {
  edges { node { id kind title body subjectId audience readAt createdAt } }
} }"""
LEADER_AFTER = timedelta(hours=2)  # fuyuan.yaml reminders.escalation[0].after_hours
OFFICE_AFTER = timedelta(hours=8)  # fuyuan.yaml reminders.escalation[1].after_hours
MARGIN = timedelta(minutes=1)
# Long enough for notify's timer passes to have run after the clock moved (the positive checks
# below wait for their notice instead).
SETTLE = 8.0


async def _items(gw: Gateway, token: str, subject: str) -> list[dict[str, Any]]:
    body = await gw.query(token, INBOX)
    edges = (body.get("data") or {}).get("myInbox", {}).get("edges", [])
    return [e["node"] for e in edges if e["node"]["subjectId"] == subject]


async def _kinds(gw: Gateway, token: str, subject: str) -> list[tuple[str, str]]:
    return sorted((i["kind"], i["audience"]) for i in await _items(gw, token, subject))


async def _until(gw: Gateway, token: str, subject: str, kind: str, audience: str) -> Any:
    async def found() -> dict[str, Any] | None:
        for i in await _items(gw, token, subject):
            if (i["kind"], i["audience"]) == (kind, audience):
                return i
        return None

    return await eventually(found, within=120, what=f"{kind} ({audience}) about {subject}")


async def test_R_GRD_01_R_SUP_02_a_late_accept_escalates_to_the_platform_leader_then_the_justice_bureau_production(  # noqa: E501
    tmp_path: Path, production_env: tuple[dict[str, str], Settings]
) -> None:
    clock_file = production_env[1].test_clock_file
    assert clock_file is not None

    def move_to(instant: datetime) -> None:
        write_offset(clock_file, instant - datetime.now(UTC))

    async with running_production(tmp_path, production_env) as (gw, _):
        await register_unit(gw, gw.mint("fy-gov", ["government"]))
        grid = gw.mint("fy-hancong-grid", ["grid_member"])
        platform = gw.mint("fy-hancong", ["clerk"])
        platform_leader = gw.mint("fy-hancong", ["leader"])
        unit = gw.mint(UNIT, ["clerk"])
        justice = gw.mint("fy-justice", ["clerk"])

        reported = await _mutate(
            gw, grid, REPORT, "reportProblem", **report_input(gw, "占道经营", "中心街第5网格")
        )
        sid = reported["id"]
        dispatched = await _mutate(gw, platform, DISPATCH, "dispatchProblem", id=sid, team=UNIT)
        assert dispatched["state"] == "DISPATCHED", dispatched
        accept = next(
            d
            for d in dispatched["deadlines"]
            if d["kind"] == "dispatch.accept" and d["state"] == "open"
        )
        assert accept["responsibleAgencyId"] == UNIT
        due = datetime.fromisoformat(accept["due"])
        await _until(gw, unit, sid, "dispatch.dispatched", "agency")  # notify watches it now

        async def overdue() -> bool:
            got = (await gw.query(platform, ONE, {"id": sid}))["data"]["dispatch"]
            return bool(got["overdue"])

        # Just inside the accept limit: not overdue, nobody told it is late.
        move_to(due - MARGIN)
        await asyncio.sleep(SETTLE)
        assert await overdue() is False
        for token in (unit, platform, justice):
            kinds = {k for k, _ in await _kinds(gw, token, sid)}
            assert not kinds & {"deadline.missed", "deadline.escalated"}, kinds

        # Just past it, and just inside the leader step: overdue, the team told it missed it,
        # no escalation yet.
        move_to(due + LEADER_AFTER - MARGIN)
        await _until(gw, unit, sid, "deadline.missed", "agency")
        assert await overdue() is True
        await asyncio.sleep(SETTLE)
        assert ("deadline.escalated", "leader") not in await _kinds(gw, platform, sid)

        # Just past the leader step: the township platform's leader (and the team's own), each
        # an inbox notice the leader signs; the justice bureau not yet.
        move_to(due + LEADER_AFTER + MARGIN)
        escalated = await _until(gw, platform_leader, sid, "deadline.escalated", "leader")
        assert "超期督办" in escalated["title"] and escalated["readAt"] is None, escalated
        await _sign(gw, platform_leader, escalated)
        await _until(gw, unit, sid, "deadline.escalated", "leader")
        signed = [i for i in await _items(gw, platform_leader, sid) if i["id"] == escalated["id"]]
        assert signed[0]["readAt"], signed
        move_to(due + OFFICE_AFTER - MARGIN)
        await asyncio.sleep(SETTLE)
        assert await _kinds(gw, justice, sid) == []

        # Just past the next step: the body dispatch.escalation names (Fuyuan: the justice
        # bureau, the labelled default).
        move_to(due + OFFICE_AFTER + MARGIN)
        office = await _until(gw, justice, sid, "deadline.escalated", "agency")
        assert "超期报告" in office["title"] and "寒葱沟市场监管所" in office["title"], office
        assert office["readAt"] is None

        # The scenario left no case without an owner and a running clock (issue 14).
        await assert_no_stalls(gw)
