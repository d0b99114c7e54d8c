"""Issue 15, item 8: a township's own cases copy their penalty decisions to the department
for the record (R-NTF-01, not only penalties recorded on referrals), and changes to standards
and interpretations reach the townships concerned as inbox notices (R-NTF-02, not only
changes of legal bases in the catalogue)."""

from __future__ import annotations

import pytest

from kernel.caller import Caller
from kernel.errors import Forbidden, ValidationFailed
from notify.domain.copies import PenaltyDecisionReport, StandardChange

from .test_notify_copies_supervision import person, setup
from .test_notify_watch import Harness, eventually, harness, items

__all__ = ["harness"]  # the fixture, parametrised over both store adapters

pytestmark = pytest.mark.timeout(120)


def _decision(**over: object) -> PenaltyDecisionReport:
    fields: dict[str, object] = {
        "decision_number": "寒罚〔2026〕7号",
        "matter_code": "330217001",
        "party": "某某食杂店",
        "kinds": ("罚款",),
        "fine_yuan": 2000,
        "summary": "经营超过保质期的食品",
    }
    fields.update(over)
    return PenaltyDecisionReport(**fields)  # type: ignore[arg-type]


async def test_R_NTF_01_a_townships_own_penalty_decision_is_copied_for_the_record(
    harness: Harness,
) -> None:
    service = await harness.start(workers=False)
    await setup(service)
    town = Caller(person("fy-hancong"))
    for bad, field in (
        (_decision(matter_code="999"), "input.matterCode"),
        (_decision(decision_number=" "), "input.decisionNumber"),
        (_decision(kinds=()), "input.kinds"),
        (_decision(fine_yuan=-1), "input.fineYuan"),
    ):
        with pytest.raises(ValidationFailed) as exc:
            await service.copies.report_penalty_decision(bad, town)
        assert exc.value.field == field
    with pytest.raises(Forbidden):
        await service.copies.report_penalty_decision(_decision(), Caller(person("fy-market")))
    assert await service.copies.reports.penalties.collection.count({}) == 0

    item = await service.copies.report_penalty_decision(_decision(), town)
    [stored] = await items(service, "fy-market")
    assert stored.id == item.id and stored.kind == "copy.penalty_decision"
    assert stored.title == "处罚决定抄告备案：寒罚〔2026〕7号"
    assert "某某食杂店" in stored.body and "罚款2000元" in stored.body and "备案" in stored.body
    assert await service.timers.get(f"receipt:{stored.id}") is not None  # R-NTF-04
    # The event comes back through notify's own subscription: no second copy.
    await service.runtime.relay.run_once()
    [entry] = await eventually(
        lambda: service.records.search(district="fuyuan", types=["penalty_decision.reported.v1"]),
        "penalty_decision.reported.v1 in the record",
    )
    assert entry.payload["department_id"] == "fy-market" and entry.actor_agency_id == "fy-hancong"
    assert len(await items(service, "fy-market")) == 1


async def test_R_NTF_02_standards_and_interpretations_reach_the_townships_concerned(
    harness: Harness,
) -> None:
    service = await harness.start(workers=False)
    await setup(service)
    change = StandardChange(
        kind="standard",
        title="食品经营违法行为行政处罚裁量基准（2026年修订）",
        summary="对经营超过保质期食品的罚款下限调整为五千元",
        matter_codes=("330217001",),
        township_ids=("fy-hancong", "fy-haiqing", "fy-hancong"),
        effective_on="2026-04-01",
    )
    market = Caller(person("fy-market"))
    with pytest.raises(Forbidden):
        await service.copies.announce_standard_change(change, Caller(person("fy-hancong")))
    for bad, field in (
        (StandardChange("rumour", "t", "s", (), ("fy-hancong",), ""), "input.kind"),
        (StandardChange("standard", "t", "s", (), (), ""), "input.townshipIds"),
        (StandardChange("standard", "t", "s", (), ("fy-market",), ""), "input.townshipIds.0"),
        (StandardChange("interpretation", "t", " ", (), ("fy-hancong",), ""), "input.summary"),
    ):
        with pytest.raises(ValidationFailed) as exc:
            await service.copies.announce_standard_change(bad, market)
        assert exc.value.field == field
    assert await service.copies.reports.standards.collection.count({}) == 0

    notices = await service.copies.announce_standard_change(change, market)
    assert [n.agency_id for n in notices] == ["fy-hancong", "fy-haiqing"]
    for township in ("fy-hancong", "fy-haiqing"):
        [notice] = await items(service, township)
        assert notice.kind == "copy.standard_change"
        assert notice.title.startswith("标准变更通告") and "五千元" in notice.body
        assert "自2026-04-01起施行" in notice.body
        assert await service.timers.get(f"receipt:{notice.id}") is not None
    assert await items(service, "fy-ecology") == []
    # An interpretation announced by the justice bureau (a supervising body).
    answer = StandardChange(
        "interpretation", "关于“保质期”认定的答复", "以标签标注日期为准", (), ("fy-haiqing",), ""
    )
    [notice] = await service.copies.announce_standard_change(
        answer, Caller(person("fy-justice", "supervisor"))
    )
    assert notice.title == "解释变更通告：关于“保质期”认定的答复"
    await service.runtime.relay.run_once()
    assert len(await items(service, "fy-haiqing")) == 2
