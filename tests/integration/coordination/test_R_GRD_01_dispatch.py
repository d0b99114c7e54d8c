"""R-GRD-01 grid dispatch through the handlers on both store adapters: a grid member reports,
the platform dispatches to a resident unit (派驻机构) it commands, the team accepts, arrives and
handles, each step an event with its ``deadlines`` block; a return and re-dispatch; a referral;
the platform's list by state, team, area and overdue; bad input changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from coordination.adapters.dispatch import DispatchRepository
from coordination.adapters.repository import AgencyRepository
from coordination.application.dispatch import (
    AcceptDispatch,
    ArriveDispatch,
    DispatchHandlers,
    DispatchProblem,
    HandleDispatch,
    ListDispatches,
    ReferDispatch,
    ReportProblem,
    ReturnDispatch,
    UploadDispatchPhoto,
)
from coordination.application.handlers import CoordinationHandlers, RegisterAgency
from coordination.application.stalls import StallCheck
from coordination.domain import dispatch as dsp
from coordination.domain.model import Liaison
from coordination.policy import policy_of
from kernel.auth import Principal
from kernel.caller import Caller
from kernel.contracts.deadlines import deadlines_of
from kernel.envelope import new_envelope
from kernel.errors import DomainError, Forbidden, InvalidState, ValidationFailed
from kernel.policy import load_policy
from kernel.store import DocumentStore
from kernel.wiring import calendar_for
from referral.contracts.published import ReferralDraftedFromDispatchV1
from tests.fixtures.coordination import StoredDocs, unchanged

POLICY = load_policy("huancui")
LIMITS = policy_of(POLICY).dispatch
NOW = datetime(2026, 5, 6, 1, 0, tzinfo=UTC)


def _caller(person_id: str, agency_id: str, roles: tuple[str, ...]) -> Caller:
    return Caller(Principal(person_id, person_id, agency_id, "huancui", roles))


GRID = _caller("p-grid", "hc-zhangcun", ("grid_member",))
PLATFORM = _caller("p-plat", "hc-zhangcun", ("clerk",))
MARKET_UNIT = _caller("p-mu", "hc-zhangcun-market", ("clerk",))
SQUAD = _caller("p-sq", "hc-zhangcun-squad", ("clerk",))
COORDINATOR = _caller("p-co", "hc-platform", ("coordinator",))

AGENCIES = (
    RegisterAgency("hc-zhangcun", "张村镇人民政府", "township"),
    RegisterAgency("hc-market", "环翠区市场监管局", "department"),
    RegisterAgency("hc-natres", "环翠区自然资源局", "department"),
    RegisterAgency("hc-platform", "区级综合执法平台办公室", "coordination_body"),
    RegisterAgency(
        "hc-zhangcun-market",
        "张村市场监管所",
        "resident_unit",
        commanded_by_id="hc-zhangcun",
        guided_by_id="hc-market",
    ),
    RegisterAgency(
        "hc-zhangcun-squad",
        "张村综合行政执法中队",
        "resident_unit",
        commanded_by_id="hc-zhangcun",
        guided_by_id="hc-natres",
    ),
)


@dataclass
class World:
    store: DocumentStore
    handlers: DispatchHandlers
    now: list[datetime]

    async def raw(self, doc_id: str) -> dict[str, Any]:
        return await StoredDocs(self.store).raw("dispatches", doc_id)

    async def events(self, doc_id: str) -> list[dict[str, Any]]:
        return await StoredDocs(self.store).outbox("dispatches", doc_id)


@pytest.fixture
async def world(store: DocumentStore) -> World:
    agencies = AgencyRepository(store)
    register = CoordinationHandlers(agencies, "huancui")
    for cmd in AGENCIES:
        await register.register_agency_as_system(
            RegisterAgency(**{**cmd.__dict__, "liaisons": (Liaison("联络员", "0631-5200000"),)})
        )
    now = [NOW]
    handlers = DispatchHandlers(
        DispatchRepository(store),
        agencies,
        POLICY,
        calendar_for(POLICY),
        "huancui",
        clock=lambda: now[0],
        files=store.files(),
    )
    await handlers.dispatches.ensure_indexes()
    await handlers.dispatches.aggregates.ensure_indexes()
    return World(store, handlers, now)


def _report(**over: Any) -> ReportProblem:
    args: dict[str, Any] = dict(
        platform_id="hc-zhangcun",
        source="grid_member",
        what="流动摊贩占道经营，堵塞消防通道",
        place="张村镇海港路12号",
        area="海港社区第3网格",
        found_at=NOW - timedelta(minutes=5),
        latitude=37.5,
        longitude=122.1,
    )
    args.update(over)
    return ReportProblem(**args)


async def _photo(h: DispatchHandlers, who: Caller, dispatch_id: str | None = None) -> str:
    """A photo uploaded through the handlers (the HTTP route's path), its id."""

    async def content() -> AsyncIterator[bytes]:
        yield b"\xff\xd8\xff\xe0 photo bytes"

    stored = await h.upload_photo(
        UploadDispatchPhoto(dispatch_id, "现场.jpg", "image/jpeg", content()), who
    )
    return stored.id


async def _unchanged(w: World, doc_id: str, call: Any) -> DomainError:
    """``call`` fails with a DomainError and leaves the dispatch exactly as it was."""
    return await unchanged(lambda: w.raw(doc_id), call)


async def test_R_GRD_01_report_dispatch_accept_arrive_handle_on_time(world: World) -> None:
    h = world.handlers
    d = await h.report(_report(), GRID)
    assert d.state is dsp.DispatchState.REPORTED
    d = await h.dispatch(DispatchProblem(d.id, "hc-zhangcun-market"), PLATFORM)
    world.now[0] += timedelta(hours=LIMITS.accept_limit_hours)  # just inside
    d = await h.accept(AcceptDispatch(d.id), MARKET_UNIT)
    world.now[0] += timedelta(hours=LIMITS.arrive_limit_hours)
    d = await h.arrive(ArriveDispatch(d.id), MARKET_UNIT)
    world.now[0] += timedelta(hours=LIMITS.handle_limit_hours)
    after = await _photo(h, MARKET_UNIT, d.id)
    d = await h.handle(HandleDispatch(d.id, "已劝离摊贩，通道畅通", (after,)), MARKET_UNIT)
    assert d.result_photo_ids == (after,)
    assert d.state is dsp.DispatchState.HANDLED
    a = d.assignments[-1]
    assert a.accepted_in_time and a.arrived_in_time and not a.handled_late
    events = await world.events(d.id)
    assert [e["type"] for e in events] == [
        "dispatch.reported.v1",
        "dispatch.dispatched.v1",
        "dispatch.accepted.v1",
        "dispatch.arrived.v1",
        "dispatch.handled.v1",
    ]
    first = deadlines_of(events[0]["data"])
    assert [(x.kind, x.state, x.responsible_agency_id, x.mode) for x in first] == [
        (dsp.DISPATCH, "open", "hc-zhangcun", "clock")
    ]
    second = {(x.kind, x.state) for x in deadlines_of(events[1]["data"])}
    assert second == {(dsp.DISPATCH, "met"), (dsp.ACCEPT, "open")}
    last = {(x.kind, x.state) for x in deadlines_of(events[-1]["data"])}
    assert last == {(dsp.HANDLE, "met")}
    raw = await world.raw(d.id)
    assert raw["open_due"] is None and raw["team_id"] == "hc-zhangcun-market"


async def test_R_GRD_01_accept_one_second_late_is_recorded_late(world: World) -> None:
    h = world.handlers
    d = await h.report(_report(), GRID)
    d = await h.dispatch(DispatchProblem(d.id, "hc-zhangcun-market"), PLATFORM)
    world.now[0] += timedelta(hours=LIMITS.accept_limit_hours, seconds=1)
    d = await h.accept(AcceptDispatch(d.id), MARKET_UNIT)
    assert d.assignments[-1].accepted_late
    assert (await world.events(d.id))[-1]["data"]["late"] is True


async def test_R_GRD_01_bad_input_changes_nothing(world: World) -> None:
    h = world.handlers
    d = await h.report(_report(), GRID)
    # A grid member may not dispatch.
    e = await _unchanged(world, d.id, h.dispatch(DispatchProblem(d.id, "hc-zhangcun-market"), GRID))
    assert isinstance(e, Forbidden)
    # A team not under the township's command (a department).
    e = await _unchanged(world, d.id, h.dispatch(DispatchProblem(d.id, "hc-market"), PLATFORM))
    assert isinstance(e, ValidationFailed) and e.field == "teamId"
    # A step out of order.
    e = await _unchanged(world, d.id, h.accept(AcceptDispatch(d.id), MARKET_UNIT))
    assert isinstance(e, Forbidden | InvalidState)
    d = await h.dispatch(DispatchProblem(d.id, "hc-zhangcun-market"), PLATFORM)
    e = await _unchanged(world, d.id, h.arrive(ArriveDispatch(d.id), MARKET_UNIT))
    assert isinstance(e, InvalidState)
    # Another team accepting.
    e = await _unchanged(world, d.id, h.accept(AcceptDispatch(d.id), SQUAD))
    assert isinstance(e, Forbidden)
    # A grid member cannot accept either.
    e = await _unchanged(world, d.id, h.accept(AcceptDispatch(d.id), GRID))
    assert isinstance(e, Forbidden)


async def test_R_GRD_01_bad_reports_name_the_field(world: World) -> None:
    h = world.handlers
    for over, field in (
        ({"platform_id": "hc-market"}, "platformId"),
        ({"latitude": None}, "latitude"),
        ({"what": " "}, "what"),
        # R-GRD-01: only photos the reporter uploaded for a new report.
        ({"photo_ids": ("m-never-uploaded",)}, "photoIds.0"),
    ):
        with pytest.raises(ValidationFailed) as e:
            await h.report(_report(**over), GRID)
        assert e.value.field == field
    assert await world.store.collection("dispatches").count({}) == 0


async def test_R_GRD_01_returned_redispatched_and_referred(world: World) -> None:
    h = world.handlers
    d = await h.report(_report(), GRID)
    d = await h.dispatch(DispatchProblem(d.id, "hc-zhangcun-market"), PLATFORM)
    d = await h.return_(ReturnDispatch(d.id, "消防通道不属市场监管职责"), MARKET_UNIT)
    assert d.state is dsp.DispatchState.RETURNED
    d = await h.dispatch(DispatchProblem(d.id, "hc-zhangcun-squad"), PLATFORM)
    assert d.team_id == "hc-zhangcun-squad" and len(d.assignments) == 2

    photo = await _photo(h, GRID)
    other = await h.report(
        _report(what="耕地上违法建房", area="海港社区第5网格", photo_ids=(photo,)), GRID
    )
    e = await _unchanged(
        world, other.id, h.refer(ReferDispatch(other.id, "hc-zhangcun-squad", "x"), PLATFORM)
    )
    assert isinstance(e, ValidationFailed) and e.field == "receiverId"
    other = await h.refer(ReferDispatch(other.id, "hc-natres", "违法占地属自然资源部门"), PLATFORM)
    assert other.state is dsp.DispatchState.REFERRED
    referred = (await world.events(other.id))[-1]["data"]
    assert referred["receiver_id"] == "hc-natres" and referred["photo_ids"] == [photo]
    # The referral service's event (its own contract class) links the draft back, once
    # however often it is delivered.
    drafted = new_envelope(
        ReferralDraftedFromDispatchV1(
            referral_id="r-42",
            sender_id="hc-zhangcun",
            receiver_id="hc-natres",
            actor_id="system:referral",
            dispatch_id=other.id,
            title="耕地上违法建房",
        ),
        district="huancui",
        service="referral",
        subject="r-42",
    )
    await h.when_referral_drafted_link_it(drafted)
    await h.when_referral_drafted_link_it(drafted)  # redelivered
    linked = await world.handlers.dispatches.get(other.id)
    assert linked is not None and linked.referral_id == "r-42"
    assert linked.state is dsp.DispatchState.REFERRED
    # A referral drafted for a dispatch another district owns changes nothing.
    await h.when_referral_drafted_link_it(
        new_envelope(
            ReferralDraftedFromDispatchV1(
                referral_id="r-43",
                sender_id="hc-zhangcun",
                actor_id="system:referral",
                dispatch_id="elsewhere",
                title="x",
            ),
            district="huancui",
            service="referral",
            subject="r-43",
        )
    )
    # The stall check: every unfinished dispatch has an open clock with an owner.
    stalls = await StallCheck.over(world.store).stalls(None)
    assert [s for s in stalls if s.subject_type == "Dispatch"] == []


async def test_R_GRD_01_platform_list_filters_and_visibility(world: World) -> None:
    h = world.handlers
    a = await h.report(_report(), GRID)
    b = await h.report(_report(area="海港社区第5网格"), GRID)
    await h.dispatch(DispatchProblem(b.id, "hc-zhangcun-squad"), PLATFORM)
    mine = await h.report(_report(), PLATFORM)

    async def ids(caller: Caller, **q: Any) -> set[str]:
        return {d.id for d in await h.search(ListDispatches(**q), caller)}

    assert await ids(PLATFORM) == {a.id, b.id, mine.id}
    assert await ids(PLATFORM, state="dispatched") == {b.id}
    assert await ids(PLATFORM, team_id="hc-zhangcun-squad") == {b.id}
    assert await ids(PLATFORM, area="海港社区第5网格") == {b.id}
    # Overdue, each open clock just inside then just outside its limit: b's accept clock
    # (the squad owes it), then a's and mine's dispatch clocks (the platform owes them).
    world.now[0] = NOW + timedelta(hours=LIMITS.accept_limit_hours)
    assert await ids(PLATFORM, overdue=True) == set()
    world.now[0] += timedelta(seconds=1)
    assert await ids(PLATFORM, overdue=True) == {b.id}
    assert await ids(PLATFORM, overdue=False) == {a.id, mine.id}
    world.now[0] = NOW + timedelta(hours=LIMITS.dispatch_limit_hours)
    assert await ids(PLATFORM, overdue=True) == {b.id}
    world.now[0] += timedelta(seconds=1)
    assert await ids(PLATFORM, overdue=True) == {a.id, b.id, mine.id}
    assert await ids(PLATFORM, overdue=True, team_id="hc-zhangcun-squad") == {b.id}
    # A grid member reads its own reports only; the squad only what it was sent.
    assert await ids(GRID) == {a.id, b.id}
    assert await ids(SQUAD) == {b.id}
    assert await ids(COORDINATOR) == {a.id, b.id, mine.id}
    assert await h.get(mine.id, GRID) is None
    with pytest.raises(ValidationFailed):
        await h.search(ListDispatches(state="lost"), PLATFORM)


async def test_R_GRD_01_live_view_follows_changes_of_state(world: World) -> None:
    """The subscription's poll (kernel.graphql.follow over ``changed_since``): each change of
    state once, visible to the platform, not to another township's staff."""
    import asyncio
    from types import SimpleNamespace

    from coordination.entrypoints.graphql.dispatch import DispatchSubscription

    h = world.handlers

    def info(caller: Caller) -> Any:
        context = SimpleNamespace(
            dispatch=h,
            calendar=h.calendar,
            caller=lambda: caller,
            reauthenticate=lambda: caller.principal,
        )
        return SimpleNamespace(context=context)

    resolver = DispatchSubscription.dispatch_changed  # type: ignore[attr-defined]
    stream = resolver(None, info(PLATFORM), None)
    d = await h.report(_report(), GRID)
    first = await asyncio.wait_for(stream.__anext__(), timeout=10)
    assert (str(first.id), first.state.value) == (d.id, "reported")
    world.now[0] += timedelta(seconds=1)
    await h.dispatch(DispatchProblem(d.id, "hc-zhangcun-market"), PLATFORM)
    second = await asyncio.wait_for(stream.__anext__(), timeout=10)
    assert second.state.value == "dispatched"
    await stream.aclose()


async def test_R_GRD_01_photos_only_those_uploaded_for_the_report_or_dispatch(
    world: World,
) -> None:
    h = world.handlers
    mine = await _photo(h, GRID)
    # Another reporter's upload is not this reporter's to name.
    theirs = await _photo(h, PLATFORM)
    with pytest.raises(ValidationFailed) as e:
        await h.report(_report(photo_ids=(mine, theirs)), GRID)
    assert e.value.field == "photoIds.1" and e.value.stable_code == "VALIDATION_FAILED"
    assert await world.store.collection("dispatches").count({}) == 0
    d = await h.report(_report(photo_ids=(mine,)), GRID)
    assert d.report.photo_ids == (mine,)
    d = await h.dispatch(DispatchProblem(d.id, "hc-zhangcun-market"), PLATFORM)
    d = await h.accept(AcceptDispatch(d.id), MARKET_UNIT)
    d = await h.arrive(ArriveDispatch(d.id), MARKET_UNIT)
    # A result names photos uploaded for this dispatch, not the report's draft uploads.
    stray = await _photo(h, MARKET_UNIT)
    e2 = await _unchanged(
        world, d.id, h.handle(HandleDispatch(d.id, "已处置", (stray,)), MARKET_UNIT)
    )
    assert isinstance(e2, ValidationFailed) and e2.field == "photoIds.0"
    # Another team may not upload for this dispatch (refused before any content).
    with pytest.raises(Forbidden):
        await h.check_photo_upload(d.id, SQUAD)
