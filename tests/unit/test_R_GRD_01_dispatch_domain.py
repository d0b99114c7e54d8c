"""R-GRD-01 grid dispatch (派单 / 接单 / 报到 / 处置, HC #3, #7, #10), the pure domain: each
step's limit from the district policy pinned just inside and just outside, every step out of
order refused, a team acting on another team's dispatch refused, return and re-dispatch,
turning it into a referral."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from coordination.domain import dispatch as dsp
from coordination.domain.cooperation import Actor, Clock
from coordination.policy import DispatchPolicy, policy_of
from kernel.calendar import WorkingCalendar
from kernel.errors import Forbidden, InvalidState, ValidationFailed
from kernel.policy import load_policy

POLICY: DispatchPolicy = policy_of(load_policy("huancui")).dispatch
CAL = WorkingCalendar()
FOUND = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)  # a holiday: hour clocks do not stop
AT = FOUND + timedelta(minutes=10)
SECOND = timedelta(seconds=1)

GRID = Actor("p-grid", "hc-zhangcun", ("grid_member",))
PLATFORM = Actor("p-plat", "hc-zhangcun", ("clerk",))
TEAM = Actor("p-team", "hc-zhangcun-market", ("clerk",))  # 张村市场监管所 (resident unit)
OTHER_TEAM = Actor("p-other", "hc-zhangcun-squad", ("clerk",))  # 综合行政执法中队


def clock(kind: str, agency: str, start: datetime) -> Clock:
    hours = {
        dsp.DISPATCH: POLICY.dispatch_limit_hours,
        dsp.ACCEPT: POLICY.accept_limit_hours,
        dsp.ARRIVE: POLICY.arrive_limit_hours,
        dsp.HANDLE: POLICY.handle_limit_hours,
    }[kind]
    d = CAL.add_hours(start, hours, rule=f"{kind} {hours}h")
    return Clock(kind, agency, d.due, d.rule, d.to_dict())


def reported(**over: object) -> dsp.Dispatch:
    args: dict[str, object] = dict(
        dispatch_id="d1",
        platform_id="hc-zhangcun",
        source="grid_member",
        what="占道经营，流动摊贩堵塞消防通道",
        place="张村镇海港路12号",
        area="海港社区第3网格",
        found_at=FOUND,
        coordinates=(37.5, 122.1),
        photo_ids=("m-photo-1",),
        dispatch_clock=clock(dsp.DISPATCH, "hc-zhangcun", AT),
        actor=GRID,
        at=AT,
    )
    args.update(over)
    return dsp.report_problem(**args)  # type: ignore[arg-type]


def dispatched(at: datetime = AT, team: str = "hc-zhangcun-market") -> dsp.Dispatch:
    return reported().dispatch_to(
        team_id=team, next_clock=clock(dsp.ACCEPT, team, at), actor=PLATFORM, at=at
    )


def accepted(at: datetime = AT) -> dsp.Dispatch:
    d = dispatched(AT)
    return d.accept(next_clock=clock(dsp.ARRIVE, TEAM.agency_id or "", at), actor=TEAM, at=at)


def arrived(at: datetime = AT) -> dsp.Dispatch:
    d = accepted(AT)
    return d.arrive(next_clock=clock(dsp.HANDLE, TEAM.agency_id or "", at), actor=TEAM, at=at)


def test_R_GRD_01_policy_limits_are_labelled_defaults_in_hours() -> None:
    assert POLICY.mode == "hours"
    for district in ("chongqing", "fuyuan", "hualong", "huancui", "shangri-la"):
        p = policy_of(load_policy(district)).dispatch
        assert p.accept_limit_hours >= 1 and p.handle_limit_hours >= p.arrive_limit_hours


def test_R_GRD_01_report_opens_the_platform_clock() -> None:
    d = reported()
    assert d.state is dsp.DispatchState.REPORTED
    assert d.report.coordinates == dsp.Coordinates(37.5, 122.1)
    assert d.report.reporter_id == "p-grid" and d.report.photo_ids == ("m-photo-1",)
    assert d.open_clock is not None and d.open_clock.kind == dsp.DISPATCH
    assert d.open_clock.responsible_agency_id == "hc-zhangcun"
    assert d.open_clock.due == AT + timedelta(hours=POLICY.dispatch_limit_hours)


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"what": "  "}, "what"),
        ({"place": ""}, "place"),
        ({"source": "hotline"}, "source"),
        ({"coordinates": (91.0, 122.0)}, "latitude"),
        ({"coordinates": (37.0, -180.5)}, "longitude"),
        ({"found_at": AT + SECOND}, "foundAt"),
        ({"photo_ids": ("m1", "m1")}, "photoIds"),
        ({"photo_ids": (" ",)}, "photoIds.0"),
    ],
)
def test_R_GRD_01_bad_report_names_the_field(over: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as e:
        reported(**over)
    assert e.value.field == field


def test_R_GRD_01_coordinates_optional_and_edges_allowed() -> None:
    assert reported(coordinates=None).report.coordinates is None
    assert reported(coordinates=(-90.0, 180.0)).report.coordinates == dsp.Coordinates(-90, 180)
    assert reported(found_at=AT).report.found_at == AT


def test_R_GRD_01_dispatch_meets_platform_clock_and_opens_accept_clock() -> None:
    d = dispatched()
    assert d.state is dsp.DispatchState.DISPATCHED and d.team_id == "hc-zhangcun-market"
    kinds = {c.kind: c.state for c in d.clocks}
    assert kinds == {dsp.DISPATCH: "met", dsp.ACCEPT: "open"}
    assert d.open_clock is not None
    assert d.open_clock.responsible_agency_id == "hc-zhangcun-market"


def test_R_GRD_01_only_the_platform_dispatches() -> None:
    with pytest.raises(Forbidden):
        reported().dispatch_to(
            team_id="hc-zhangcun-market",
            next_clock=clock(dsp.ACCEPT, "hc-zhangcun-market", AT),
            actor=TEAM,
            at=AT,
        )


@pytest.mark.parametrize(
    ("offset", "late"), [(timedelta(0), False), (SECOND, True)], ids=["at-limit", "past-limit"]
)
def test_R_GRD_01_accept_limit_boundary(offset: timedelta, late: bool) -> None:
    limit = timedelta(hours=POLICY.accept_limit_hours)
    at = AT + limit + offset
    d = dispatched().accept(
        next_clock=clock(dsp.ARRIVE, "hc-zhangcun-market", at), actor=TEAM, at=at
    )
    assert d.state is dsp.DispatchState.ACCEPTED
    assert d.assignments[-1].accepted_late is late
    assert d.assignments[-1].accepted_in_time is not late


@pytest.mark.parametrize(
    ("offset", "late"), [(timedelta(0), False), (SECOND, True)], ids=["at-limit", "past-limit"]
)
def test_R_GRD_01_arrive_limit_boundary(offset: timedelta, late: bool) -> None:
    at = AT + timedelta(hours=POLICY.arrive_limit_hours) + offset
    d = accepted().arrive(next_clock=clock(dsp.HANDLE, "hc-zhangcun-market", at), actor=TEAM, at=at)
    assert d.state is dsp.DispatchState.ARRIVED
    assert d.assignments[-1].arrived_late is late


@pytest.mark.parametrize(
    ("offset", "late"), [(timedelta(0), False), (SECOND, True)], ids=["at-limit", "past-limit"]
)
def test_R_GRD_01_handle_limit_boundary(offset: timedelta, late: bool) -> None:
    at = AT + timedelta(hours=POLICY.handle_limit_hours) + offset
    d = arrived().handle(
        result="已劝离摊贩，通道恢复畅通", photo_ids=("m-after",), actor=TEAM, at=at
    )
    assert d.state is dsp.DispatchState.HANDLED
    assert d.assignments[-1].handled_late is late
    assert d.result_photo_ids == ("m-after",)
    assert d.open_clock is None
    assert all(c.state == "met" for c in d.clocks)


def test_R_GRD_01_overdue_just_inside_and_outside() -> None:
    d = dispatched()
    due = AT + timedelta(hours=POLICY.accept_limit_hours)
    assert not d.overdue(due)
    assert d.overdue(due + SECOND)


def test_R_GRD_01_handle_needs_a_written_result() -> None:
    with pytest.raises(ValidationFailed) as e:
        arrived().handle(result=" ", photo_ids=(), actor=TEAM, at=AT)
    assert e.value.field == "result"


@pytest.mark.parametrize(
    "step",
    [
        "accept_reported",
        "arrive_dispatched",
        "handle_accepted",
        "dispatch_accepted",
        "accept_handled",
    ],
)
def test_R_GRD_01_steps_out_of_order_are_refused(step: str) -> None:
    team = "hc-zhangcun-market"
    with pytest.raises(InvalidState):
        if step == "accept_reported":
            reported().accept(next_clock=clock(dsp.ARRIVE, team, AT), actor=TEAM, at=AT)
        elif step == "arrive_dispatched":
            dispatched().arrive(next_clock=clock(dsp.HANDLE, team, AT), actor=TEAM, at=AT)
        elif step == "handle_accepted":
            accepted().handle(result="x", photo_ids=(), actor=TEAM, at=AT)
        elif step == "dispatch_accepted":
            accepted().dispatch_to(
                team_id="hc-zhangcun-squad",
                next_clock=clock(dsp.ACCEPT, "hc-zhangcun-squad", AT),
                actor=PLATFORM,
                at=AT,
            )
        else:
            d = arrived().handle(result="done", photo_ids=(), actor=TEAM, at=AT)
            d.accept(next_clock=clock(dsp.ARRIVE, team, AT), actor=TEAM, at=AT)


def test_R_GRD_01_another_team_cannot_act_on_the_dispatch() -> None:
    with pytest.raises(Forbidden):
        dispatched().accept(
            next_clock=clock(dsp.ARRIVE, "hc-zhangcun-squad", AT), actor=OTHER_TEAM, at=AT
        )
    with pytest.raises(Forbidden):
        accepted().arrive(
            next_clock=clock(dsp.HANDLE, "hc-zhangcun-squad", AT), actor=OTHER_TEAM, at=AT
        )
    with pytest.raises(Forbidden):
        dispatched().return_to_platform(
            reason="不归我所",
            next_clock=clock(dsp.DISPATCH, "hc-zhangcun", AT),
            actor=OTHER_TEAM,
            at=AT,
        )


def test_R_GRD_01_returned_with_reason_then_dispatched_again() -> None:
    d = accepted()
    with pytest.raises(ValidationFailed) as e:
        d.return_to_platform(
            reason=" ", next_clock=clock(dsp.DISPATCH, "hc-zhangcun", AT), actor=TEAM, at=AT
        )
    assert e.value.field == "reason"
    back = d.return_to_platform(
        reason="涉及消防通道，非市场监管职责",
        next_clock=clock(dsp.DISPATCH, "hc-zhangcun", AT),
        actor=TEAM,
        at=AT,
    )
    assert back.state is dsp.DispatchState.RETURNED and back.current is None
    assert back.assignments[-1].return_reason == "涉及消防通道，非市场监管职责"
    assert {c.kind: c.state for c in back.clocks} == {
        dsp.DISPATCH: "open",
        dsp.ACCEPT: "met",
        dsp.ARRIVE: "cancelled",
    }
    with pytest.raises(ValidationFailed) as e2:
        back.dispatch_to(
            team_id="hc-zhangcun-market",
            next_clock=clock(dsp.ACCEPT, "hc-zhangcun-market", AT),
            actor=PLATFORM,
            at=AT,
        )
    assert e2.value.field == "teamId"
    again = back.dispatch_to(
        team_id="hc-zhangcun-squad",
        next_clock=clock(dsp.ACCEPT, "hc-zhangcun-squad", AT),
        actor=PLATFORM,
        at=AT,
    )
    assert again.state is dsp.DispatchState.DISPATCHED and again.team_id == "hc-zhangcun-squad"
    assert [a.round for a in again.assignments] == [1, 2]
    assert again.parties() == {"hc-zhangcun", "hc-zhangcun-market", "hc-zhangcun-squad"}


def test_R_GRD_01_handled_cannot_be_returned() -> None:
    d = arrived().handle(result="done", photo_ids=(), actor=TEAM, at=AT)
    with pytest.raises(InvalidState):
        d.return_to_platform(
            reason="x", next_clock=clock(dsp.DISPATCH, "hc-zhangcun", AT), actor=TEAM, at=AT
        )


def test_R_GRD_01_becomes_a_referral_only_while_the_platform_holds_it() -> None:
    d = reported().refer(
        receiver_id="hc-natres", reason="违法占地，属自然资源部门职责", actor=PLATFORM, at=AT
    )
    assert d.state is dsp.DispatchState.REFERRED and d.referral_receiver_id == "hc-natres"
    assert d.open_clock is None
    linked = d.link_referral("r-1")
    assert linked.referral_id == "r-1" and linked.link_referral("r-1").referral_id == "r-1"
    with pytest.raises(InvalidState):
        linked.link_referral("r-2")
    with pytest.raises(InvalidState):
        dispatched().refer(receiver_id="hc-natres", reason="x", actor=PLATFORM, at=AT)
    with pytest.raises(Forbidden):
        reported().refer(receiver_id="hc-natres", reason="x", actor=TEAM, at=AT)
    with pytest.raises(ValidationFailed) as e:
        reported().refer(receiver_id="hc-zhangcun", reason="x", actor=PLATFORM, at=AT)
    assert e.value.field == "receiverId"


def test_R_GRD_01_stall_check_every_open_dispatch_has_an_owned_clock() -> None:
    """Each state on the way has an open clock with an owner; a dispatch stripped of its
    clock is a stall; handled and referred ones are finished."""
    from dataclasses import replace

    from coordination.domain.stalls import dispatch_stall

    for d in (reported(), dispatched(), accepted(), arrived()):
        assert dispatch_stall(d) is None
    done = arrived().handle(result="done", photo_ids=(), actor=TEAM, at=AT)
    assert dispatch_stall(done) is None
    stalled = replace(dispatched(), clocks=())
    stall = dispatch_stall(stalled)
    assert stall is not None and stall.agency_ids == ("hc-zhangcun-market", "hc-zhangcun")
