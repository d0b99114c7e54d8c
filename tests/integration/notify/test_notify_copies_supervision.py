"""Copy-to rules (R-NTF-01…03), supervision reports (R-SUP-02) and ratings (R-SUP-03) of
the notify service on both store adapters, with the fake clock of the watch tests.

Events are handed to the service's subscriptions as the bus does (``deliver``); events
notify publishes itself leave through its outbox relay and come back over the in-memory bus.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook
from pydantic import Field

from kernel.auth import Principal
from kernel.caller import Caller
from kernel.envelope import Envelope, EventPayload, new_envelope
from kernel.errors import Conflict, Forbidden, ValidationFailed
from notify.adapters import xlsx
from notify.application.supervision import RateAgency
from notify.bootstrap import NotifyService
from notify.domain.copies import ApprovalReport, HazardReport
from notify.domain.supervision import month, quarter
from notify.policy import policy_of

from .test_notify_watch import (
    DUE,
    SENT,
    Harness,
    clock_block,
    deliver,
    eventually,
    harness,
    items,
    local,
    register_agencies,
    step_event,
)

__all__ = ["harness"]  # the fixture, parametrised over both store adapters

pytestmark = pytest.mark.timeout(120)


class CatalogueEntryChanged(EventPayload):
    event_type = "catalogue.entry_changed.v1"
    code: str
    name: str
    original_department_id: str
    version: int


class PenaltyRecorded(EventPayload):
    event_type = "referral.penalty_recorded.v1"
    referral_id: str
    sender_id: str
    receiver_id: str
    matter_code: str
    decision_number: str
    kinds: list[str] = Field(default_factory=list)
    fine_yuan: int | None = None
    actor_id: str
    actor_agency_id: str


class ChangeAnnounced(EventPayload):
    event_type = "catalogue.change_announced.v1"
    township_ids: list[str]
    code: str
    name: str
    version: int
    change: str
    summary_zh: str
    actor_id: str = "p-legal"


class DisputeOpened(EventPayload):
    event_type = "dispute.opened.v1"
    dispute_id: str
    matter_code: str
    township_id: str
    party_ids: list[str]
    opened_at: datetime
    actor_id: str = "p-li"


class DisputeRuled(EventPayload):
    event_type = "dispute.ruled.v1"
    dispute_id: str
    matter_code: str
    township_id: str
    responsible_agency_id: str
    ruled_at: datetime
    actor_id: str = "p-gov"


class AssistanceRefused(EventPayload):
    event_type = "assistance.refused.v1"
    request_id: str
    requester_id: str
    helper_id: str
    grounds: str
    legal_provision: str
    refused_at: datetime
    actor_id: str = "p-water"
    actor_agency_id: str = "fy-water"


AGENCIES = (
    ("fy-hancong", "寒葱沟镇人民政府", "township"),
    ("fy-haiqing", "海青镇人民政府", "township"),
    ("fy-market", "抚远市市场监督管理局", "department"),
    ("fy-ecology", "抚远市生态环境局", "department"),
    ("fy-water", "抚远市水务局", "department"),
    ("fy-approval", "抚远市行政审批局", "approval_bureau"),
    ("fy-justice", "抚远市司法局", "justice_bureau"),
)


def event(payload: EventPayload, service: str, at: datetime, subject: str = "") -> Envelope:
    return new_envelope(payload, district="fuyuan", service=service, subject=subject, time=at)


async def refuse_assistance(service: NotifyService) -> None:
    """水务局 refuses 寒葱沟镇's assistance request a-1 on Monday 16 March (R-AST-02)."""
    refused_at = local(2026, 3, 16, 10)
    await deliver(
        service,
        event(
            AssistanceRefused(
                request_id="a-1",
                requester_id="fy-hancong",
                helper_id="fy-water",
                grounds="不属于本部门职责",
                legal_provision="无",
                refused_at=refused_at,
            ),
            "coordination",
            refused_at,
            "a-1",
        ),
    )


def person(agency: str, *roles: str) -> Principal:
    return Principal(f"p-{agency}", "某某", agency, "fuyuan", roles or ("clerk",))


async def setup(service: NotifyService) -> None:
    await register_agencies(service, AGENCIES, SENT)
    await deliver(
        service,
        event(
            CatalogueEntryChanged(
                code="330217001", name="食品经营", original_department_id="fy-market", version=1
            ),
            "coordination",
            SENT,
        ),
    )


async def by_kind(service: NotifyService, agency: str, kind: str) -> list[Any]:
    return [i for i in await items(service, agency) if i.kind == kind]


# --- R-NTF-01 --------------------------------------------------------------------------------


async def test_R_NTF_01_township_penalty_is_copied_to_the_owning_department_once(
    harness: Harness,
) -> None:
    service = await harness.start(workers=False)
    await setup(service)
    township = event(
        PenaltyRecorded(
            referral_id="r-1",
            sender_id="fy-ecology",  # the case came from another department ...
            receiver_id="fy-hancong",
            matter_code="330217001",  # ... but the catalogue says the market bureau owns it
            decision_number="寒罚决〔2026〕3号",
            kinds=["罚款"],
            fine_yuan=3000,
            actor_id="p-li",
            actor_agency_id="fy-hancong",
        ),
        "referral",
        SENT,
        "r-1",
    )
    department = event(
        PenaltyRecorded(
            referral_id="r-2",
            sender_id="fy-hancong",
            receiver_id="fy-market",
            matter_code="330217001",
            decision_number="市监罚〔2026〕8号",
            actor_id="p-wang",
            actor_agency_id="fy-market",
        ),
        "referral",
        SENT,
        "r-2",
    )
    unknown_matter = event(
        PenaltyRecorded(
            referral_id="r-3",
            sender_id="fy-water",
            receiver_id="fy-haiqing",
            matter_code="999",
            decision_number="海罚决〔2026〕1号",
            actor_id="p-zhao",
            actor_agency_id="fy-haiqing",
        ),
        "referral",
        SENT,
        "r-3",
    )
    for env in (township, township, department, unknown_matter):  # the second: a redelivery
        await deliver(service, env)

    [copy] = await by_kind(service, "fy-market", "copy.penalty_decision")
    assert copy.subject_id == "r-1" and "寒罚决〔2026〕3号" in copy.title and copy.unread
    assert "寒葱沟镇人民政府" in copy.body and "备案" in copy.body
    assert await by_kind(service, "fy-ecology", "copy.penalty_decision") == []
    assert await by_kind(service, "fy-hancong", "copy.penalty_decision") == []  # dept's own
    [fallback] = await by_kind(service, "fy-water", "copy.penalty_decision")
    assert fallback.subject_id == "r-3"  # not in the catalogue: the referral's other party

    # The copy has a receipt; unread past the limit it escalates to the leader (R-NTF-04).
    timer = await service.timers.get(f"receipt:{copy.id}")
    assert timer is not None and timer["state"] == "pending"
    harness.clock.now = timer["fire_at"] + timedelta(seconds=1)
    assert await service.scheduler.run_once() == 2  # both copies went unread
    [escalated] = await by_kind(service, "fy-market", "notice.unread_escalated")
    assert escalated.audience == "leader" and "逾期未签收" in escalated.title


async def test_R_NTF_01_reported_approval_is_copied_to_the_township_at_once(
    harness: Harness,
) -> None:
    clock = harness.clock
    service = await harness.start(workers=False)
    await setup(service)
    clock.now = local(2026, 3, 3, 15)
    item = await service.copies.report_approval(
        ApprovalReport("抚审批〔2026〕12号", "330217001", "fy-hancong", "准予食品经营许可", True),
        Caller(person("fy-approval")),
    )
    [stored] = await items(service, "fy-hancong")
    assert stored.id == item.id and stored.kind == "copy.approval" and stored.urgent
    assert stored.created_at == clock.now and "抚远市行政审批局" in stored.body
    # Urgent: the receipt clock of urgent notices (hours, not working days).
    timer = await service.timers.get(f"receipt:{item.id}")
    assert timer is not None
    hours = policy_of(service.deps.policy).notices.urgent_receipt_limit_hours
    assert timer["fire_at"] == clock.now + timedelta(hours=hours)

    # The report's event leaves through the outbox, is recorded, and copying it again on
    # its way back changes nothing.
    await service.runtime.relay.run_once()
    [entry] = await eventually(
        lambda: service.records.search(district="fuyuan", types=["approval.reported.v1"]),
        "approval.reported.v1 in the record",
    )
    assert entry.actor_agency_id == "fy-approval" and entry.state_after == "reported"
    assert entry.payload["township_id"] == "fy-hancong"
    await eventually(lambda: service.inbox.get(item.id), "the copy")
    assert len(await items(service, "fy-hancong")) == 1


async def test_R_NTF_01_bad_approval_report_changes_nothing(harness: Harness) -> None:
    service = await harness.start(workers=False)
    await setup(service)
    good = ApprovalReport("抚审批〔2026〕1号", "330217001", "fy-hancong", "准予", False)
    with pytest.raises(Forbidden):
        await service.copies.report_approval(good, Caller(person("fy-haiqing")))
    with pytest.raises(ValidationFailed) as exc:
        await service.copies.report_approval(
            ApprovalReport("", "330217001", "fy-hancong", "准予", False),
            Caller(person("fy-market")),
        )
    assert exc.value.field == "input.number"
    with pytest.raises(ValidationFailed) as exc:
        await service.copies.report_approval(
            ApprovalReport("1号", "330217001", "fy-market", "准予", False),
            Caller(person("fy-market")),
        )
    assert exc.value.field == "input.townshipId"
    assert await items(service, "fy-hancong") == [] and await items(service, "fy-market") == []
    assert await service.copies.reports.approvals.collection.count({}) == 0
    assert await service.timers.all() == []


# --- R-NTF-02 --------------------------------------------------------------------------------


async def test_R_NTF_02_change_of_legal_basis_reaches_each_township_named(
    harness: Harness,
) -> None:
    service = await harness.start(workers=False)
    await setup(service)
    announced = event(
        ChangeAnnounced(
            township_ids=["fy-hancong", "fy-haiqing", "fy-hancong"],
            code="330217001",
            name="食品经营",
            version=2,
            change="legal_basis",
            summary_zh="处罚依据调整为《食品安全法》第一百二十二条",
        ),
        "coordination",
        SENT,
        "330217001",
    )
    await deliver(service, announced)
    await deliver(service, announced)
    for township in ("fy-hancong", "fy-haiqing"):
        [notice] = await items(service, township)
        assert notice.kind == "notice.catalogue_change" and "第一百二十二条" in notice.body
        assert await service.timers.get(f"receipt:{notice.id}") is not None
    assert await items(service, "fy-market") == []


# --- R-NTF-03 --------------------------------------------------------------------------------


async def test_R_NTF_03_township_hazard_goes_to_the_competent_department(
    harness: Harness,
) -> None:
    service = await harness.start(workers=False)
    await setup(service)
    with pytest.raises(ValidationFailed) as exc:
        await service.copies.report_hazard(
            HazardReport("hazard", "999", "某地", "某事", False), Caller(person("fy-hancong"))
        )
    assert exc.value.field == "input.matterCode"
    with pytest.raises(Forbidden):
        await service.copies.report_hazard(
            HazardReport("hazard", "330217001", "某地", "某事", False), Caller(person("fy-market"))
        )
    assert await service.copies.reports.hazards.collection.count({}) == 0

    item = await service.copies.report_hazard(
        HazardReport("hazard", "330217001", "寒葱沟镇集贸市场", "冷库氨气泄漏隐患", True),
        Caller(person("fy-hancong")),
    )
    [stored] = await items(service, "fy-market")
    assert stored.id == item.id and stored.kind == "report.hazard" and stored.urgent
    assert "重大安全隐患" in stored.title and "冷库氨气泄漏隐患" in stored.body
    await service.runtime.relay.run_once()
    [entry] = await eventually(
        lambda: service.records.search(district="fuyuan", types=["hazard.reported.v1"]),
        "hazard.reported.v1 in the record",
    )
    assert entry.payload["department_id"] == "fy-market" and entry.payload["kind"] == "hazard"
    assert entry.actor_agency_id == "fy-hancong"
    assert len(await items(service, "fy-market")) == 1


# --- R-SUP-02 / R-SUP-03 ---------------------------------------------------------------------


async def test_R_SUP_02_monthly_list_and_quarterly_bulletin_with_xlsx(harness: Harness) -> None:
    clock = harness.clock
    service = await harness.start(workers=False)
    await setup(service)
    # Three accept clocks of fy-hancong due on Friday 6 March: one met on time, one met
    # late, one never met; a send clock of fy-market met on time.
    for rid in ("on-time", "late", "never"):
        await deliver(service, step_event(rid, SENT, [clock_block(rid, DUE)]))
    await deliver(
        service, step_event("on-time", local(2026, 3, 5), [clock_block("on-time", DUE, "met")])
    )
    await deliver(service, step_event("late", local(2026, 3, 9), [clock_block("late", DUE, "met")]))
    send = clock_block("sent", DUE, "met", agency="fy-market").model_copy(
        update={"kind": "referral.send", "key": "Referral:sent:referral.send"}
    )
    await deliver(service, step_event("sent", local(2026, 3, 4), [send]))
    # A dispute opened and ruled in March, a refusal to cooperate.
    opened, ruled = local(2026, 3, 10, 9), local(2026, 3, 13, 9)
    await deliver(
        service,
        event(
            DisputeOpened(
                dispute_id="d-1",
                matter_code="330217001",
                township_id="fy-hancong",
                party_ids=["fy-hancong", "fy-market"],
                opened_at=opened,
            ),
            "coordination",
            opened,
            "d-1",
        ),
    )
    await deliver(
        service,
        event(
            DisputeRuled(
                dispute_id="d-1",
                matter_code="330217001",
                township_id="fy-hancong",
                responsible_agency_id="fy-market",
                ruled_at=ruled,
            ),
            "coordination",
            ruled,
            "d-1",
        ),
    )
    await refuse_assistance(service)
    clock.now = local(2026, 3, 20, 10)

    supervisor = person("fy-gov", "supervisor")
    report = await service.supervision.report(supervisor, "monthly", month("2026-03"))
    rows = {a.agency_id: a for a in report.agencies}
    accept = rows["fy-hancong"].clocks["accept"]
    assert (accept.on_time, accept.late, accept.overdue) == (1, 1, 1)
    assert rows["fy-hancong"].overdue == 1 and rows["fy-hancong"].late == 1
    assert rows["fy-market"].clocks["send"].rate == 1.0
    assert [(e.deadline.subject_id, e.outcome) for e in report.overdue] == [
        ("late", "late"),
        ("never", "overdue"),
    ]
    assert rows["fy-hancong"].disputes_opened == 1 and rows["fy-market"].disputes_ruled == 1
    assert rows["fy-market"].dispute_days_average == 3.0
    assert rows["fy-water"].refusals == 1
    assert report.refusals[0].reason.startswith("不属于本部门职责")
    # April has none of it.
    april = await service.supervision.report(supervisor, "monthly", month("2026-04"))
    assert april.overdue == [] and all(a.refusals == 0 for a in april.agencies)

    # Justice-bureau staff read it too; a township clerk does not.
    await service.supervision.report(person("fy-justice"), "monthly", month("2026-03"))
    with pytest.raises(Forbidden):
        await service.supervision.report(person("fy-hancong"), "monthly", month("2026-03"))

    # R-SUP-03 in the quarterly bulletin: two-way ratings, once per quarter per pair.
    await service.supervision.rate(
        RateAgency("township_to_department", "fy-market", 2, "指导不及时"),
        Caller(person("fy-hancong", "leader")),
    )
    await service.supervision.rate(
        RateAgency("department_to_township", "fy-hancong", 5, "配合良好"),
        Caller(person("fy-market", "leader")),
    )
    bulletin = await service.supervision.report(supervisor, "quarterly", quarter(2026, 1))
    q_rows = {a.agency_id: a for a in bulletin.agencies}
    assert q_rows["fy-market"].rating_average == 2.0 and q_rows["fy-hancong"].rating_average == 5.0
    assert q_rows["fy-hancong"].clocks["accept"].overdue == 1

    workbook = load_workbook(BytesIO(xlsx.render(bulletin)))
    assert workbook.sheetnames == [
        "季度通报汇总",
        "超期事项",
        "管辖争议",
        "拒绝协助",
        "双向考评",
        "网格派单",  # R-GRD-01: the teams' dispatch figures
    ]
    summary = workbook["季度通报汇总"]
    headers = [c.value for c in summary[1]]
    lines = {
        r[0]: dict(zip(headers, r, strict=False))
        for r in summary.iter_rows(min_row=2, values_only=True)
        if r[0]
    }
    assert lines["fy-hancong"]["受理超期未办"] == 1 and lines["fy-hancong"]["受理按时"] == 1
    assert lines["fy-hancong"]["受理按时率"] == pytest.approx(1 / 3, abs=1e-4)
    assert lines["fy-market"]["平均得分"] == 2.0 and lines["fy-water"]["拒绝协助次数"] == 1
    ratings = list(workbook["双向考评"].iter_rows(min_row=2, values_only=True))
    assert {(r[2], r[3], r[4]) for r in ratings} == {
        ("fy-hancong", "fy-market", 2),
        ("fy-market", "fy-hancong", 5),
    }


async def test_R_SUP_03_second_rating_in_the_quarter_is_a_conflict_and_changes_nothing(
    harness: Harness,
) -> None:
    clock = harness.clock
    service = await harness.start(workers=False)
    await setup(service)
    first = await service.supervision.rate(
        RateAgency("township_to_department", "fy-market", 4, "指导到位"),
        Caller(person("fy-hancong", "leader")),
    )
    clock.now = SENT + timedelta(days=10)
    with pytest.raises(Conflict) as exc:
        await service.supervision.rate(
            RateAgency("township_to_department", "fy-market", 1, "改主意"),
            Caller(person("fy-hancong", "leader")),
        )
    assert exc.value.field == "input.departmentId"
    with pytest.raises(ValidationFailed) as exc2:
        await service.supervision.rate(
            RateAgency("township_to_department", "fy-market", 9, ""),
            Caller(person("fy-haiqing", "leader")),
        )
    assert exc2.value.field == "input.score"
    stored = await service.supervision.ratings.between(local(2026, 1, 1), local(2026, 4, 1))
    assert [(r.id, r.score) for r in stored] == [(first.id, 4)]
    # The next quarter is a new period: the pair may rate again.
    clock.now = local(2026, 4, 2, 10)
    again = await service.supervision.rate(
        RateAgency("township_to_department", "fy-market", 3, ""),
        Caller(person("fy-hancong", "leader")),
    )
    assert again.period == "2026-Q2"
    await service.runtime.relay.run_once()
    entries = await eventually(
        lambda: service.records.search(district="fuyuan", types=["agency.rated.v1"]),
        "agency.rated.v1 in the record",
    )
    assert {e.payload["period"] for e in entries} <= {"2026-Q1", "2026-Q2"}
