"""R-REF-13: a 督办 has its own clock, answered in writing or by acting on the case; the
policy names the limit and its source. Pure domain."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kernel.errors import InvalidState, ValidationFailed
from kernel.policy import load_policy
from referral.domain.model import Actor, DeadlineInfo
from referral.policy import policy_of
from tests.unit.test_referral_domain import NOW
from tests.unit.test_referral_forward_domain import sent

GOV = Actor("g1", "市政府督查室", "fy-gov", ("government",))
TOWN = Actor("t1", "镇长", "fy-hancong", ("leader",))


def clock() -> DeadlineInfo:
    return DeadlineInfo("supervision", NOW + timedelta(days=7), {}, rule="督办：5个工作日")


def supervised():
    return sent().supervise(GOV, NOW, "请于5个工作日内办结并报告", clock())


def test_R_REF_13_supervision_starts_its_own_clock_for_the_receiver() -> None:
    r = supervised()
    s = r.supervisions[-1]
    assert s.due == NOW + timedelta(days=7) and s.answered_at is None
    running = [d for d in r.open_clocks() if d.kind == "supervision"]
    assert [d.responsible_agency_id for d in running] == ["fy-hancong"]


def test_R_REF_13_a_written_answer_stops_the_clock_and_nothing_else() -> None:
    r = supervised().answer_supervision(TOWN, NOW, "已组织核查，三日内办结")
    assert not [d for d in r.open_clocks() if d.kind == "supervision"]
    assert [d.kind for d in r.open_clocks()] == ["accept"]
    assert r.supervisions[-1].answer == "已组织核查，三日内办结"
    with pytest.raises(InvalidState):
        r.answer_supervision(TOWN, NOW, "again")
    with pytest.raises(ValidationFailed) as err:
        supervised().answer_supervision(TOWN, NOW, " ")
    assert err.value.field == "answer"


def test_R_REF_13_acting_on_the_case_answers_the_supervision() -> None:
    r = supervised().accept(TOWN, NOW, "受理", DeadlineInfo("report", NOW + timedelta(90), {}))
    assert {d.kind for d in r.open_clocks()} == {"report"}
    assert r.supervisions[-1].answered_at == NOW


def test_R_REF_13_the_limit_lives_in_every_policy_with_its_source() -> None:
    for district in ("fuyuan", "hualong", "huancui", "shangri-la", "chongqing"):
        sp = policy_of(load_policy(district)).supervision_answer
        assert sp.answer_limit_working_days == 5 and "项目默认" in sp.basis_zh, district
