"""R-SUP-02 (and R-REF-06's accept clock) in the production topology: each service its own
``liandong serve`` process over RabbitMQ and MongoDB, behind the real Hive gateway, all on
one movable clock (kernel.clock: the processes read the offset from one file).

- A referral left unaccepted past its limit produces a reminder before the due time, then
  (missed) an escalation to the receiving agency's leader and, later, to the supervising body
  (the justice bureau), at the working-day steps the district policy names; it appears in the
  monthly reminder list (月提示). Everything is read through the gateway.
- Notify killed (SIGKILL, as a crash) with timers pending, and again while they fire, then
  started again: no reminder or escalation is lost or doubled.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kernel.calendar import WorkingCalendar
from kernel.clock import write_offset
from kernel.settings import Settings
from kernel.wiring import calendar_for, load_district_policy
from tests.e2e.conftest import ServiceProcesses, running_production
from tests.e2e.scenario import Gateway, eventually
from tests.e2e.stalls import assert_no_stalls
from tests.e2e.test_notify_production_e2e import _send_referral

pytestmark = pytest.mark.timeout(900)

CHINA = ZoneInfo("Asia/Shanghai")
# Seconds a process may take to answer /readyz: generous, the machine's cores are shared.
STARTUP = 180


@dataclass
class Topology:
    """The production processes, the gateway in front of them and their shared clock."""

    gw: Gateway
    services: ServiceProcesses
    clock_file: Path
    calendar: WorkingCalendar

    def move_to(self, instant: datetime) -> None:
        """Every process's "now" becomes ``instant`` (and runs on from there)."""
        write_offset(self.clock_file, instant - datetime.now(UTC))

    async def restart(self, name: str) -> None:
        """Start ``name`` again where the gateway expects it."""
        self.services.start(name, port=self.services.ports[name])
        await asyncio.to_thread(self.services.wait_ready, name, STARTUP)


@pytest.fixture
async def topology(
    tmp_path: Path, production_env: tuple[dict[str, str], Settings]
) -> AsyncIterator[Topology]:
    _, settings = production_env
    assert settings.test_clock_file is not None
    async with running_production(tmp_path, production_env) as (gw, services):
        yield Topology(
            gw,
            services,
            settings.test_clock_file,
            calendar_for(load_district_policy(settings)),
        )


REFERRAL = """
query($id: ID!) {
  referral(id: $id) {
    id status
    acceptDeadline { due overdue }
    notices { id kind agencyId audience createdAt dueAt }
  }
}"""

MY_INBOX = """
query { myInbox(first: 100) { edges { node { id kind subjectId audience createdAt } } } }"""

MONTHLY = """
query($m: String!) {
  monthlyReminderList(month: $m) {
    period
    overdue { subjectId kind responsibleAgencyId outcome due }
    agencies { agencyId accept { overdue } }
  }
}"""

RECORD = """
query($f: ProcessRecordFilter) {
  processRecord(filter: $f, first: 100) { edges { node { id type subject } } }
}"""


@dataclass(frozen=True)
class Moments:
    """When to look, from the policy: fuyuan reminds 1 working day before, escalates to the
    agency's leader 1 working day after and to the justice bureau 3 working days after."""

    remind: datetime  # after every reminder time, before every due time
    leader: datetime  # after the leader step, before the supervising body's
    supervisor: datetime  # after the supervising body's step


def moments(calendar: WorkingCalendar, dues: list[datetime]) -> Moments:
    leader = max(calendar.add_working_days(d, 1).due for d in dues)
    supervisor = max(calendar.add_working_days(d, 3).due for d in dues)
    assert leader < min(calendar.add_working_days(d, 3).due for d in dues)
    return Moments(
        remind=min(dues) - timedelta(hours=2),
        leader=leader + timedelta(minutes=1),
        supervisor=supervisor + timedelta(minutes=1),
    )


async def _referral(gw: Gateway, token: str, rid: str) -> dict[str, Any] | None:
    """The referral with every notice about it, or None while a service is unreachable."""
    body = await gw.query(token, REFERRAL, {"id": rid})
    ref = (body.get("data") or {}).get("referral")
    if body.get("errors") or not ref:
        return None
    return dict(ref)


def _kinds(ref: dict[str, Any]) -> Counter[tuple[str, str, str]]:
    return Counter((n["kind"], n["agencyId"], n["audience"]) for n in ref["notices"])


REMINDER = ("deadline.reminder", "fy-hancong", "agency")
MISSED = ("deadline.missed", "fy-hancong", "agency")
LEADER = ("deadline.escalated", "fy-hancong", "leader")
SUPERVISING = ("deadline.escalated", "fy-justice", "agency")


async def _until(gw: Gateway, token: str, rid: str, *wanted: tuple[str, str, str]) -> Any:
    async def present() -> dict[str, Any] | None:
        ref = await _referral(gw, token, rid)
        return ref if ref and all(_kinds(ref)[w] >= 1 for w in wanted) else None

    return await eventually(present, within=90, what=f"{wanted} about {rid}")


async def _received(gw: Gateway, token: str, rid: str) -> dict[str, Any]:
    """The referral once notify put it in the receiver's inbox (its clock is then watched)."""
    ref: dict[str, Any] = await _until(
        gw, token, rid, ("referral.received", "fy-hancong", "agency")
    )
    return ref


async def test_R_SUP_02_unaccepted_referral_reminded_escalated_twice_and_listed_production(
    topology: Topology,
) -> None:
    gw = topology.gw
    supervisor = gw.mint("fy-justice", ["supervisor"])
    justice = gw.mint("fy-justice", ["clerk"])
    rid = await _send_referral(gw, "无证经营（期限监督）")
    sent = await _received(gw, supervisor, rid)
    due = datetime.fromisoformat(sent["acceptDeadline"]["due"])
    assert sent["acceptDeadline"]["overdue"] is False
    at = moments(topology.calendar, [due])

    # Before the due time: the reminder to the receiving township, nothing else yet.
    topology.move_to(at.remind)
    ref = await _until(gw, supervisor, rid, REMINDER)
    [reminder] = [n for n in ref["notices"] if n["kind"] == "deadline.reminder"]
    assert datetime.fromisoformat(reminder["createdAt"]) < due
    assert datetime.fromisoformat(reminder["dueAt"]) == due
    assert not {MISSED, LEADER, SUPERVISING} & set(_kinds(ref))
    # The referral service runs on the same clock: not overdue yet.
    assert ref["acceptDeadline"]["overdue"] is False

    # One working day after the due time: missed, and the township's leader is told.
    topology.move_to(at.leader)
    ref = await _until(gw, supervisor, rid, MISSED, LEADER)
    for n in ref["notices"]:
        if n["kind"] in ("deadline.missed", "deadline.escalated"):
            assert datetime.fromisoformat(n["createdAt"]) > due, n
    assert SUPERVISING not in _kinds(ref)
    assert ref["acceptDeadline"]["overdue"] is True

    # Three working days after: the supervising body (the justice bureau) is told, in its
    # own inbox.
    topology.move_to(at.supervisor)
    ref = await _until(gw, supervisor, rid, SUPERVISING)

    async def in_justice_inbox() -> list[dict[str, Any]]:
        body = await gw.query(justice, MY_INBOX)
        edges = (body.get("data") or {}).get("myInbox", {}).get("edges", [])
        return [
            e["node"]
            for e in edges
            if e["node"]["subjectId"] == rid and e["node"]["kind"] == "deadline.escalated"
        ]

    [escalated] = await eventually(in_justice_inbox, what="the escalation at the justice bureau")
    assert datetime.fromisoformat(escalated["createdAt"]) > at.supervisor - timedelta(minutes=1)

    # Each step once.
    counts = _kinds(ref)
    assert [counts[k] for k in (REMINDER, MISSED, LEADER, SUPERVISING)] == [1, 1, 1, 1], counts

    # The monthly reminder list of the due time's month names it, for the justice bureau.
    month = due.astimezone(CHINA).strftime("%Y-%m")
    body = await gw.query(justice, MONTHLY, {"m": month})
    report = body["data"]["monthlyReminderList"]
    [line] = [o for o in report["overdue"] if o["subjectId"] == rid]
    assert line["kind"] == "referral.accept" and line["outcome"] == "overdue", line
    assert line["responsibleAgencyId"] == "fy-hancong"
    assert datetime.fromisoformat(line["due"]) == due
    [row] = [a for a in report["agencies"] if a["agencyId"] == "fy-hancong"]
    assert row["accept"]["overdue"] >= 1
    await assert_no_stalls(gw)  # issue 14: late is not stalled (the accept clock still runs)


async def test_R_SUP_02_notify_killed_with_pending_timers_loses_and_doubles_nothing_production(
    topology: Topology,
) -> None:
    gw = topology.gw
    supervisor = gw.mint("fy-justice", ["supervisor"])
    rids = [await _send_referral(gw, f"无证经营（重启{n}）") for n in range(1, 4)]
    dues = []
    for rid in rids:
        ref = await _received(gw, supervisor, rid)
        dues.append(datetime.fromisoformat(ref["acceptDeadline"]["due"]))

        async def recorded(rid: str = rid) -> bool:
            # The record and the deadline watch handle the event together: once it is in
            # the record, its timers are stored (or the redelivery will store them).
            body = await gw.query(supervisor, RECORD, {"f": {"subject": rid}})
            edges = (body.get("data") or {}).get("processRecord", {}).get("edges", [])
            return any(e["node"]["type"] == "referral.sent.v1" for e in edges)

        await eventually(recorded, what=f"{rid} in the full-process record")
    at = moments(topology.calendar, dues)

    # Crash with every timer pending; the reminders fall due while notify is down.
    topology.services.kill("notify")
    topology.move_to(at.remind)
    await topology.restart("notify")
    for rid in rids:
        await _until(gw, supervisor, rid, REMINDER)

    # Missed and leader escalations fall due (six timers): crash as soon as the first has
    # fired, so the others are pending or in the middle of firing.
    topology.move_to(at.leader)

    async def first_fired() -> bool:
        refs = [await _referral(gw, supervisor, rid) for rid in rids]
        return any(r and (_kinds(r)[MISSED] or _kinds(r)[LEADER]) for r in refs)

    await eventually(first_fired, what="the first missed-deadline notice")
    topology.services.kill("notify")
    # Past the supervising body's step too, and past the leases the dead process held.
    topology.move_to(at.supervisor)
    await topology.restart("notify")

    for rid in rids:
        ref = await _until(gw, supervisor, rid, MISSED, LEADER, SUPERVISING)
        counts = _kinds(ref)
        assert [counts[k] for k in (REMINDER, MISSED, LEADER, SUPERVISING)] == [1, 1, 1, 1], (
            rid,
            counts,
        )

        async def missed_events(rid: str = rid) -> list[str]:
            body = await gw.query(supervisor, RECORD, {"f": {"subject": rid}})
            edges = (body.get("data") or {}).get("processRecord", {}).get("edges", [])
            return [e["node"]["id"] for e in edges if e["node"]["type"] == "deadline.missed.v1"]

        # deadline.missed.v1 (what coordination escalates disputes on) published once.
        assert len(await eventually(missed_events, what=f"deadline.missed.v1 of {rid}")) == 1
