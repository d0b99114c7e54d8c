"""Notify's full-process record (R-SUP-01), deadline watch (R-SUP-02) and unread-notice
escalation (R-NTF-04) on both store adapters, with a fake clock that the tests move.

Timers are documents: the restart test stops a notify runtime in the middle of pending
timers and starts a new one on the same store; the two-replica test runs two schedulers on
one store. In both, every timer fires exactly once (counted by the schedulers themselves,
and by the side effects, which are keyed by the timer id)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import Field

from kernel.auth import Principal
from kernel.caller import Caller
from kernel.contracts.deadlines import DeadlineState, DeadlineV1
from kernel.envelope import Envelope, EventPayload, new_envelope
from kernel.settings import Settings
from kernel.wiring import build_deps
from notify.application.handlers import AcknowledgeInboxItem
from notify.bootstrap import NotifyService, bootstrap
from tests.fixtures.clock import MovableClock
from tests.fixtures.settings import embedded_settings, mongo_settings
from tests.infra import Server

CHINA = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.timeout(120)


FakeClock = MovableClock


class ReferralStep(EventPayload):
    """A producer's state change as notify sees it (any type will do; notify reads tolerantly)."""

    event_type = "referral.accepted.v1"

    referral_id: str
    actor_id: str | None = None
    actor_agency_id: str | None = None
    state_before: str | None = None
    state_after: str | None = None
    deadlines: list[DeadlineV1] = Field(default_factory=list)


class AgencyRegistered(EventPayload):
    event_type = "agency.registered.v1"
    agency_id: str
    name: str
    kind: str
    district: str = "fuyuan"
    version: int = 1


class ReferralSent(EventPayload):
    event_type = "referral.sent.v1"
    referral_id: str
    sender_id: str
    receiver_id: str
    title: str
    urgent: bool = False
    sent_at: datetime
    accept_due: datetime | None = None


def referral_sent(
    rid: str, receiver: str = "fy-hancong", *, urgent: bool = False, at: datetime | None = None
) -> Envelope:
    """referral.sent.v1 of a referral ``rid`` from the market bureau to ``receiver``, sent
    ``at`` (the envelope's time too), or now."""
    payload = ReferralSent(
        referral_id=rid,
        sender_id="fy-market",
        receiver_id=receiver,
        title=f"案件{rid}",
        urgent=urgent,
        sent_at=at or datetime.now(UTC),
    )
    when = {"time": at} if at is not None else {}
    return new_envelope(payload, district="fuyuan", service="referral", subject=rid, **when)


def clock_block(
    referral_id: str, due: datetime, state: DeadlineState = "open", agency: str = "fy-hancong"
) -> DeadlineV1:
    return DeadlineV1(
        key=DeadlineV1.key_for("Referral", referral_id, "referral.accept"),
        kind="referral.accept",
        subject_type="Referral",
        subject_id=referral_id,
        responsible_agency_id=agency,
        due=due,
        state=state,
        rule="5个工作日内书面告知受理情况",
    )


def step_event(referral_id: str, at: datetime, blocks: list[DeadlineV1], **fields: Any) -> Envelope:
    return new_envelope(
        ReferralStep(referral_id=referral_id, deadlines=blocks, **fields),
        district="fuyuan",
        service="referral",
        subject=referral_id,
        time=at,
    )


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA)  # type: ignore[misc]


# Monday 2 March 2026 to Friday 6 March 2026 are working days; the accept clock of a referral
# sent on Monday ends at 24:00 on Friday.
SENT = local(2026, 3, 2, 10)
DUE = local(2026, 3, 6, 23, 59, 59)


@dataclass
class Harness:
    settings: Settings
    clock: FakeClock
    services: list[NotifyService]

    async def start(self, *, workers: bool) -> NotifyService:
        deps = await build_deps(self.settings, "notify")
        service = bootstrap(deps, clock=self.clock, run_workers=workers)
        await service.runtime.start()
        self.services.append(service)
        return service

    async def stop(self, service: NotifyService) -> None:
        await service.runtime.stop()
        self.services.remove(service)


@pytest.fixture
async def harness(
    store_kind: str, request: pytest.FixtureRequest, tmp_path: Path, unique_name: str
) -> AsyncIterator[Harness]:
    if store_kind == "embedded":
        settings = embedded_settings(tmp_path, unique_name)
    else:
        server: Server = request.getfixturevalue("mongo_server")
        settings = mongo_settings(tmp_path, unique_name, server)
    h = Harness(settings, FakeClock(SENT), [])
    yield h
    for service in list(h.services):
        await service.runtime.stop()
    if store_kind == "mongo":
        from pymongo import AsyncMongoClient

        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(settings.mongo_url)
        await client.drop_database(settings.database_name("notify"))
        await client.close()


async def deliver(service: NotifyService, envelope: Envelope) -> None:
    """Hand an event to every subscription of the service whose bindings match it, as the
    bus does (the bus itself is exercised by the gateway tests)."""
    from kernel.bus import topic_matches

    for spec in service.runtime.subscriptions:
        if any(topic_matches(b, envelope.routing_key) for b in spec.bindings):
            await spec.handler(envelope)


#: The agencies most notify tests register: (id, name, kind).
THREE_AGENCIES = (
    ("fy-hancong", "寒葱沟镇人民政府", "township"),
    ("fy-market", "抚远市市场监督管理局", "department"),
    ("fy-justice", "抚远市司法局", "justice_bureau"),
)


async def register_agencies(
    service: NotifyService,
    agencies: Sequence[tuple[str, str, str]] = THREE_AGENCIES,
    at: datetime | None = None,
) -> None:
    """Each of ``agencies`` registered, as coordination announces it (at ``at``)."""
    for agency_id, name, kind in agencies:
        env = new_envelope(
            AgencyRegistered(agency_id=agency_id, name=name, kind=kind),
            district="fuyuan",
            service="coordination",
            subject=agency_id,
            time=at,
        )
        await deliver(service, env)


async def items(service: NotifyService, agency: str) -> list[Any]:
    return await service.inbox.for_agency(agency, unread_only=False, before=None, limit=500)


async def eventually(check: Callable[[], Awaitable[Any]], what: str, within: float = 30) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


# --- R-SUP-01 --------------------------------------------------------------------------------


async def test_R_SUP_01_every_event_is_recorded_once_with_actor_agency_and_states(
    harness: Harness,
) -> None:
    service = await harness.start(workers=False)
    first = step_event(
        "r-1",
        SENT,
        [],
        actor_id="p-li",
        actor_agency_id="fy-hancong",
        state_before="SENT",
        state_after="ACCEPTED",
    )
    bare = new_envelope(
        ReferralSent(
            referral_id="r-2",
            sender_id="fy-market",
            receiver_id="fy-hancong",
            title="无证经营",
            sent_at=SENT,
        ),
        district="fuyuan",
        service="referral",
        subject="r-2",
        time=SENT + timedelta(minutes=1),
    )
    for env in (first, bare, first):  # the third is a redelivery
        await deliver(service, env)

    entries = await service.records.search(district="fuyuan", limit=10)
    assert [e.event_id for e in entries] == [first.id, bare.id]
    assert [e.seq for e in entries] == [1, 2]
    one = entries[0]
    assert (one.actor_id, one.actor_agency_id) == ("p-li", "fy-hancong")
    assert (one.state_before, one.state_after) == ("SENT", "ACCEPTED")
    assert one.correlation_id == first.correlationid and one.subject == "r-1"
    assert one.time == first.time and one.type == "referral.accepted.v1"
    # Absent fields read as null; the agencies the payload names make it findable by agency.
    two = entries[1]
    assert (two.actor_id, two.state_before, two.state_after) == (None, None, None)
    assert set(two.agency_ids) == {"fy-market", "fy-hancong"}
    assert two.payload["title"] == "无证经营"

    by_subject = await service.records.search(district="fuyuan", subject="r-2")
    assert [e.event_id for e in by_subject] == [bare.id]
    by_agency = await service.records.search(district="fuyuan", agency_id="fy-market")
    assert [e.event_id for e in by_agency] == [bare.id]
    by_type = await service.records.search(district="fuyuan", types=["referral.accepted.v1"])
    assert [e.event_id for e in by_type] == [first.id]
    in_range = await service.records.search(
        district="fuyuan", time_from=SENT + timedelta(seconds=30), time_to=SENT + timedelta(hours=1)
    )
    assert [e.event_id for e in in_range] == [bare.id]
    page2 = await service.records.search(district="fuyuan", after_seq=1)
    assert [e.seq for e in page2] == [2]


async def test_R_SUP_01_seq_is_unique_across_concurrent_appenders(harness: Harness) -> None:
    a = await harness.start(workers=False)
    b = await harness.start(workers=False)
    events = [step_event(f"r-{i}", SENT + timedelta(seconds=i), []) for i in range(20)]
    await asyncio.gather(
        *(deliver(a if i % 2 else b, e) for i, e in enumerate(events)),
        *(deliver(b if i % 2 else a, e) for i, e in enumerate(events)),  # redeliveries
    )
    entries = await a.records.search(district="fuyuan", limit=100)
    assert sorted(e.event_id for e in entries) == sorted(e.id for e in events)
    seqs = [e.seq for e in entries]
    assert len(set(seqs)) == len(seqs) == 20
    assert seqs == sorted(seqs)


# --- R-SUP-02 --------------------------------------------------------------------------------


async def test_R_SUP_02_reminder_before_escalation_after_to_leader_then_justice_bureau(
    harness: Harness,
) -> None:
    clock = harness.clock
    service = await harness.start(workers=False)
    await register_agencies(service)
    await deliver(service, step_event("r-1", SENT, [clock_block("r-1", DUE)]))

    clock.set(2026, 3, 5, 8, 59)
    assert await service.scheduler.run_once() == 0
    clock.set(2026, 3, 5, 9, 0)  # one working day before the due day, at office hours
    assert await service.scheduler.run_once() == 1
    [reminder] = await items(service, "fy-hancong")
    assert reminder.kind == "deadline.reminder" and reminder.audience == "agency"
    assert "期限提醒" in reminder.title and reminder.due_at == DUE

    # An extension moves the pending timers to the new due time (Friday 13 March) ...
    moved_due = local(2026, 3, 13, 23, 59, 59)
    await deliver(
        service, step_event("r-1", local(2026, 3, 5, 10), [clock_block("r-1", moved_due)])
    )
    # ... and an older event about the same clock arriving late changes nothing.
    await deliver(service, step_event("r-1", local(2026, 3, 4, 10), [clock_block("r-1", DUE)]))
    current = await service.deadlines.get(DeadlineV1.key_for("Referral", "r-1", "referral.accept"))
    assert current is not None and current.due == moved_due

    clock.set(2026, 3, 7, 12, 0)  # the old due time has passed; the new one has not
    assert await service.scheduler.run_once() == 0

    clock.set(2026, 3, 14, 0, 0, 1)
    assert await service.scheduler.run_once() == 1
    missed = [i for i in await items(service, "fy-hancong") if i.kind == "deadline.missed"]
    assert len(missed) == 1 and "已超期" in missed[0].title
    # deadline.missed.v1 leaves through the outbox and comes back into the record.
    await service.runtime.relay.run_once()
    record = await eventually(
        lambda: service.records.search(district="fuyuan", types=["deadline.missed.v1"]),
        "deadline.missed.v1 in the record",
    )
    assert record[0].payload["key"] == "Referral:r-1:referral.accept"
    assert datetime.fromisoformat(record[0].payload["due"]) == moved_due
    assert record[0].payload["responsible_agency_id"] == "fy-hancong"

    clock.set(2026, 3, 16, 23, 59, 59)  # one working day after the due day: the leader
    assert await service.scheduler.run_once() == 1
    leader = [i for i in await items(service, "fy-hancong") if i.audience == "leader"]
    assert len(leader) == 1 and leader[0].kind == "deadline.escalated"
    assert await items(service, "fy-justice") == []

    clock.set(2026, 3, 18, 23, 59, 59)  # three working days after: the supervising body
    assert await service.scheduler.run_once() == 1
    [supervised] = await items(service, "fy-justice")
    assert supervised.kind == "deadline.escalated" and "寒葱沟镇人民政府" in supervised.body

    clock.set(2026, 4, 30, 0, 0)
    assert await service.scheduler.run_once() == 0
    states = {t["step"]: t["state"] for t in await service.timers.all()}
    assert states == {
        "remind-1wd": "fired",
        "missed": "fired",
        "escalate-agency_leader": "fired",
        "escalate-supervising_body": "fired",
    }


async def test_R_SUP_02_immediately_clock_alerts_at_once_and_escalates_in_hours(
    harness: Harness,
) -> None:
    """DOMAIN §0: an urgent CQ-style "immediately" clock started on the eve of the Spring
    Festival (Friday 13 February 2026, 18:00) alerts the addressee at once, is due 2 hours
    later, and goes to the leader 2 hours and to the supervising body 8 hours after that,
    not after the holiday week."""
    clock = harness.clock
    service = await harness.start(workers=False)
    await register_agencies(service)
    start = local(2026, 2, 13, 18, 0)
    due = start + timedelta(hours=2)
    block = clock_block("r-9", due).model_copy(update={"rule": "情况紧急，立即移送（2小时内）"})
    clock.now = start
    await deliver(service, step_event("r-9", start, [block]))
    assert await service.scheduler.run_once() == 1  # the alert, at once
    [alert] = await items(service, "fy-hancong")
    assert alert.kind == "deadline.reminder" and "立即办理" in alert.title
    assert alert.due_at == due

    clock.now = due
    assert await service.scheduler.run_once() == 0  # the 4-hour reminder is too late
    clock.now = due + timedelta(seconds=1)
    assert await service.scheduler.run_once() == 1  # missed
    clock.now = due + timedelta(hours=2) - timedelta(seconds=1)
    assert await service.scheduler.run_once() == 0
    clock.now = due + timedelta(hours=2)
    assert await service.scheduler.run_once() == 1
    leader = [i for i in await items(service, "fy-hancong") if i.audience == "leader"]
    assert len(leader) == 1 and leader[0].kind == "deadline.escalated"
    clock.now = due + timedelta(hours=8) - timedelta(seconds=1)
    assert await service.scheduler.run_once() == 0
    assert await items(service, "fy-justice") == []
    clock.now = due + timedelta(hours=8)
    assert await service.scheduler.run_once() == 1
    [supervised] = await items(service, "fy-justice")
    assert supervised.kind == "deadline.escalated"


async def test_R_SUP_02_met_cancels_and_paused_suspends_the_timers(harness: Harness) -> None:
    clock = harness.clock
    service = await harness.start(workers=False)
    await register_agencies(service)
    await deliver(service, step_event("met", SENT, [clock_block("met", DUE)]))
    await deliver(service, step_event("paused", SENT, [clock_block("paused", DUE)]))
    later = SENT + timedelta(hours=1)
    await deliver(service, step_event("met", later, [clock_block("met", DUE, "met")]))
    await deliver(service, step_event("paused", later, [clock_block("paused", DUE, "paused")]))

    clock.set(2026, 3, 20, 0, 0)
    assert await service.scheduler.run_once() == 0
    assert await items(service, "fy-hancong") == []
    states = {(t["deadline_key"].split(":")[1], t["state"]) for t in await service.timers.all()}
    assert states == {("met", "cancelled"), ("paused", "paused")}

    # The paused clock resumes with a new due time: its timers come back, moved.
    resumed_due = local(2026, 3, 27, 23, 59, 59)
    await deliver(
        service,
        step_event("paused", local(2026, 3, 20, 1), [clock_block("paused", resumed_due)]),
    )
    assert await service.scheduler.run_once() == 0
    clock.set(2026, 3, 26, 9, 0)
    assert await service.scheduler.run_once() == 1  # the reminder, one working day before
    clock.set(2026, 3, 28, 0, 0, 1)
    assert await service.scheduler.run_once() == 1  # missed
    kinds = sorted(i.kind for i in await items(service, "fy-hancong"))
    assert kinds == ["deadline.missed", "deadline.reminder"]


# --- R-NTF-04 --------------------------------------------------------------------------------


async def test_R_NTF_04_unread_notice_past_its_limit_is_escalated_signed_one_is_not(
    harness: Harness,
) -> None:
    clock = harness.clock
    service = await harness.start(workers=False)
    await register_agencies(service)

    def sent(rid: str, urgent: bool) -> Envelope:
        return referral_sent(rid, urgent=urgent, at=SENT)

    for env in (sent("unread", False), sent("signed", False), sent("urgent", True)):
        await deliver(service, env)
        await deliver(service, env)  # redelivered: still one item, one timer
    signed = next(i for i in await items(service, "fy-hancong") if i.subject_id == "signed")
    clerk = Principal(
        person_id="p-wang",
        person_name="王芳",
        agency_id="fy-hancong",
        district="fuyuan",
        roles=("clerk",),
    )
    await service.handlers.acknowledge(AcknowledgeInboxItem(signed.id), Caller(clerk))

    clock.set(2026, 3, 2, 12, 0, 1)  # the urgent limit (2 hours) has passed
    assert await service.scheduler.run_once() == 1
    clock.set(2026, 3, 4, 0, 0)  # one working day after Monday: the ordinary limit passed
    assert await service.scheduler.run_once() == 1
    escalated = [
        i for i in await items(service, "fy-hancong") if i.kind == "notice.unread_escalated"
    ]
    assert sorted(i.subject_id for i in escalated) == ["unread", "urgent"]
    assert all(i.audience == "leader" and "逾期未签收" in i.title for i in escalated)
    by_item = {t["item_id"]: t["state"] for t in await service.timers.all()}
    assert by_item[signed.id] == "cancelled"
    assert sorted(by_item.values()) == ["cancelled", "fired", "fired"]


# --- restart and replicas ------------------------------------------------------------------


async def _many_clocks(service: NotifyService, n: int) -> None:
    await register_agencies(service)
    for i in range(n):
        await deliver(service, step_event(f"r-{i}", SENT, [clock_block(f"r-{i}", DUE)]))


async def _all_fired(service: NotifyService, expected: int) -> bool:
    timers = await service.timers.all()
    return len(timers) == expected and all(t["state"] == "fired" for t in timers)


async def _side_effects_once(service: NotifyService, timers: int) -> None:
    everything = await items(service, "fy-hancong") + await items(service, "fy-justice")
    sources = [i.source_event_id for i in everything]
    assert len(sources) == len(set(sources)) == timers


async def test_R_SUP_02_restart_in_the_middle_of_pending_timers_loses_and_duplicates_nothing(
    harness: Harness,
) -> None:
    clock = harness.clock
    first = await harness.start(workers=True)
    await _many_clocks(first, 5)  # 5 clocks x 4 timers (reminder, missed, leader, justice)

    clock.set(2026, 3, 5, 9, 0)
    await eventually(lambda: _count_state(first, "fired", 5), "reminders fired by the first")
    clock.set(2026, 3, 7, 12, 0)  # missed is due; the escalations are not yet
    await eventually(lambda: _count_state(first, "fired", 10), "missed fired by the first")
    await harness.stop(first)  # waits for the scheduler's pass in flight
    fired_before = first.scheduler.fired

    second = await harness.start(workers=True)
    clock.set(2026, 3, 20, 0, 0)
    await eventually(lambda: _all_fired(second, 20), "every timer fired after the restart")
    await _side_effects_once(second, 20)
    await harness.stop(second)
    assert fired_before + second.scheduler.fired == 20


async def test_R_SUP_02_two_schedulers_on_one_store_fire_each_timer_once(
    harness: Harness,
) -> None:
    clock = harness.clock
    a = await harness.start(workers=True)
    b = await harness.start(workers=True)
    await _many_clocks(a, 8)
    clock.set(2026, 3, 5, 9, 0)
    await eventually(lambda: _count_state(a, "fired", 8), "reminders fired")
    clock.set(2026, 3, 20, 0, 0)
    await eventually(lambda: _all_fired(a, 32), "every timer fired")
    await _side_effects_once(a, 32)
    for service in (a, b):
        await harness.stop(service)  # waits for each scheduler's pass in flight
    assert a.scheduler.fired + b.scheduler.fired == 32


async def _count_state(service: NotifyService, state: str, n: int) -> bool:
    return sum(1 for t in await service.timers.all() if t["state"] == state) == n


HUANCUI_AGENCIES = (
    ("hc-zhangcun", "张村镇人民政府", "township"),
    ("hc-justice", "威海市环翠区司法局", "justice_bureau"),
    ("hc-platform", "环翠区综合执法平台办公室", "coordination_body"),
)


async def huancui_service(
    tmp_path: Path, instance: str, clock: FakeClock, *more: tuple[str, str, str]
) -> NotifyService:
    """A started notify of Huancui (embedded store) that knows its township, justice bureau,
    district platform office and ``more`` agencies (id, name, kind)."""
    settings = embedded_settings(tmp_path, instance, district="huancui")
    service = bootstrap(await build_deps(settings, "notify"), clock=clock, run_workers=False)
    await service.runtime.start()
    for agency_id, name, kind in (*HUANCUI_AGENCIES, *more):
        registered = AgencyRegistered(agency_id=agency_id, name=name, kind=kind)
        await deliver(
            service,
            new_envelope(registered, district="huancui", service="coordination", subject=agency_id),
        )
    return service


async def test_R_SUP_02_supervising_body_is_the_one_the_district_policy_names(
    tmp_path: Path, unique_name: str
) -> None:
    """Huancui escalates past-due clocks to its district enforcement platform office (a
    coordination body, HC #2, #11), not to the justice bureau (issue 15, item 8)."""
    clock = FakeClock(SENT)
    service = await huancui_service(tmp_path, unique_name, clock)
    try:
        step = ReferralStep(
            referral_id="r-hc", deadlines=[clock_block("r-hc", DUE, "open", "hc-zhangcun")]
        )
        await deliver(
            service,
            new_envelope(step, district="huancui", service="referral", subject="r-hc", time=SENT),
        )
        clock.set(2026, 3, 11, 23, 59, 59)  # 3 working days after the due day
        assert await service.scheduler.run_once() == 4  # reminder, missed, leader, platform
        [escalated] = await items(service, "hc-platform")
        assert escalated.kind == "deadline.escalated" and "张村镇人民政府" in escalated.body
        assert await items(service, "hc-justice") == []
    finally:
        await service.runtime.stop()
