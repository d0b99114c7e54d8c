"""R-REF-07 / CQ 四(二): forwarding by a receiver without jurisdiction (首接负责), and the
refusals that change nothing. Pure domain."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from kernel.errors import Forbidden, ValidationFailed
from kernel.policy import load_policy
from referral.domain.model import Actor, AgencyRef, Competence, DeadlineInfo, Status
from referral.policy import policy_of
from tests.unit.test_referral_domain import NOW, draft

AIC = AgencyRef("fy-aic", "工商局", "department", False)
HEALTH_LEADER = Actor("p3", "卫生局局长", "fy-hancong", ("leader",))


def sent():
    r = draft()
    return replace(
        r._start_clock(DeadlineInfo("accept", NOW + timedelta(days=7), {}, rule="5个工作日")),
        status=Status.SENT,
    )


def competence(agency: str | None) -> Competence:
    return Competence(agency, "original", "事项清单 CQ-GS-001", False, NOW)


def forward(r, *, may: bool = True, to: AgencyRef | None = AIC, to_id: str = "fy-aic", **kw):
    args = dict(
        may_forward=may,
        to=to,
        to_id=to_id,
        reasons="不属本单位管辖",
        competence=competence("fy-aic"),
        accept_clock=DeadlineInfo(
            "accept", NOW + timedelta(days=9), {}, rule="5个工作日", responsible_agency_id="fy-aic"
        ),
        first_receiver_clock=DeadlineInfo("first_receiver", NOW + timedelta(days=9), {}),
    )
    args.update(kw)
    return r.forward(HEALTH_LEADER, NOW, **args)


def test_R_REF_07_CQ_forward_moves_the_case_and_the_first_receiver_keeps_a_clock() -> None:
    moved = forward(sent())
    assert moved.status is Status.SENT and moved.receiver_id == "fy-aic"
    assert moved.first_receiver_id == "fy-hancong" and moved.previous_receivers == ("fy-hancong",)
    open_ = {(d.kind, d.responsible_agency_id) for d in moved.open_clocks()}
    assert open_ == {("accept", "fy-aic"), ("first_receiver", "fy-hancong")}
    accepted = moved.accept(
        Actor("p4", "x", "fy-aic", ("clerk",)),
        NOW,
        "受理",
        DeadlineInfo("report", NOW + timedelta(days=90), {}),
    )
    assert {d.kind for d in accepted.open_clocks()} == {"report"}


@pytest.mark.parametrize(
    ("kw", "error", "field"),
    [
        ({"may": False}, Forbidden, "id"),  # FY/HL: 不得再行移送
        ({"competence": competence("fy-hancong")}, Forbidden, "id"),  # competent: 不得拒绝接受
        ({"competence": competence(None)}, ValidationFailed, "toAgencyId"),
        ({"to_id": "fy-other", "to": None}, ValidationFailed, "toAgencyId"),
        ({"reasons": "  "}, ValidationFailed, "reasons"),
    ],
)
def test_R_REF_07_CQ_forward_refusals_have_stable_codes(kw, error, field) -> None:
    r = sent()
    with pytest.raises(error) as err:
        forward(r, **kw)
    assert err.value.field == field


def test_R_REF_07_only_chongqing_forwards() -> None:
    for district in ("fuyuan", "hualong", "huancui", "shangri-la", "chongqing"):
        forwards = policy_of(load_policy(district)).acceptance.forward_when_not_competent
        assert forwards is (district == "chongqing"), district
