"""Copy-to rules (R-NTF-01…03) and supervision reports / ratings (R-SUP-02, R-SUP-03):
the pure domain of the notify service."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kernel.errors import Forbidden, ValidationFailed
from notify.domain.copies import (
    ApprovalReport,
    HazardReport,
    approval_copied,
    catalogue_change_announced,
    hazard_reported,
    penalty_copied,
    penalty_copy_addressee,
)
from notify.domain.supervision import (
    DisputeFact,
    RefusalFact,
    compute_report,
    month,
    new_rating,
    outcome,
    quarter,
)
from notify.domain.watch import WatchedDeadline

CHINA = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 3, 10, 10, tzinfo=CHINA)


def approval(**over: object) -> ApprovalReport:
    fields: dict[str, object] = {
        "number": "抚审批〔2026〕12号",
        "matter_code": "330217001",
        "township_id": "fy-hancong",
        "summary": "准予某公司食品经营许可",
        "urgent": False,
    }
    fields.update(over)
    return ApprovalReport(**fields)  # type: ignore[arg-type]


# --- R-NTF-01 --------------------------------------------------------------------------------


def test_R_NTF_01_approval_is_copied_to_the_township_urgent_marked_urgent() -> None:
    valid = approval(urgent=True).validated(reporter_kind="department", township_kind="township")
    item = approval_copied(
        event_id="e1",
        report_id="rep-1",
        report=valid,
        department_name="抚远市市场监督管理局",
        matter_name="食品经营",
        at=AT,
    )
    assert item.agency_id == "fy-hancong" and item.kind == "copy.approval"
    assert item.urgent and item.title.startswith("【紧急】审批抄告")
    assert item.receipt_required and item.unread
    assert "抚审批〔2026〕12号" in item.body and "抚远市市场监督管理局" in item.body
    assert item.id == "e1:fy-hancong"  # derived from the event: a redelivery collides
    ordinary = approval_copied(
        event_id="e2",
        report_id="rep-2",
        report=approval().validated(reporter_kind="approval_bureau", township_kind="township"),
        department_name="行政审批局",
        matter_name="食品经营",
        at=AT,
    )
    assert not ordinary.urgent and "【紧急】" not in ordinary.title


@pytest.mark.parametrize(
    ("over", "reporter", "township", "error", "field"),
    [
        ({}, "township", "township", Forbidden, None),
        ({}, "department", None, ValidationFailed, "input.townshipId"),
        ({"number": "  "}, "department", "township", ValidationFailed, "input.number"),
        ({"summary": ""}, "department", "township", ValidationFailed, "input.summary"),
        ({"matter_code": ""}, "department", "township", ValidationFailed, "input.matterCode"),
    ],
)
def test_R_NTF_01_bad_approval_reports_are_refused_with_the_field(
    over: dict[str, object],
    reporter: str,
    township: str | None,
    error: type[Exception],
    field: str | None,
) -> None:
    with pytest.raises(error) as exc:
        approval(**over).validated(reporter_kind=reporter, township_kind=township)
    assert getattr(exc.value, "field", None) == field


def test_R_NTF_01_township_penalty_decision_goes_to_the_owning_department() -> None:
    # The catalogue names the department that owns the matter ...
    assert (
        penalty_copy_addressee(
            actor_agency_kind="township",
            actor_agency_id="fy-hancong",
            sender_id="fy-market",
            receiver_id="fy-hancong",
            owning_department_id="fy-ecology",
        )
        == "fy-ecology"
    )
    # ... and without it, the other party of the referral.
    assert (
        penalty_copy_addressee(
            actor_agency_kind="township",
            actor_agency_id="fy-hancong",
            sender_id="fy-market",
            receiver_id="fy-hancong",
            owning_department_id=None,
        )
        == "fy-market"
    )
    # A department's own decision is not copied.
    assert (
        penalty_copy_addressee(
            actor_agency_kind="department",
            actor_agency_id="fy-market",
            sender_id="fy-hancong",
            receiver_id="fy-market",
            owning_department_id="fy-market",
        )
        is None
    )
    item = penalty_copied(
        event_id="e3",
        referral_id="r-1",
        department_id="fy-market",
        township_name="寒葱沟镇人民政府",
        matter_code="330217001",
        decision_number="寒罚决〔2026〕3号",
        kinds=["罚款"],
        fine_yuan=2000,
        at=AT,
    )
    assert item.kind == "copy.penalty_decision" and item.agency_id == "fy-market"
    assert "备案" in item.title and "罚款2000元" in item.body and item.receipt_required


# --- R-NTF-02 --------------------------------------------------------------------------------


def test_R_NTF_02_change_of_legal_basis_is_announced_to_the_township() -> None:
    item = catalogue_change_announced(
        event_id="e4",
        township_id="fy-haiqing",
        code="330217001",
        name="食品经营",
        version=3,
        change="legal_basis",
        summary_zh="法律依据调整为《食品安全法》（2021修正）",
        at=AT,
    )
    assert item.agency_id == "fy-haiqing" and item.kind == "notice.catalogue_change"
    assert "依据变更" in item.title and "食品安全法" in item.body and "第3版" in item.body
    assert item.subject_type == "CatalogueEntry" and item.subject_id == "330217001"


# --- R-NTF-03 --------------------------------------------------------------------------------


def test_R_NTF_03_township_hazard_report_goes_to_the_department() -> None:
    report = HazardReport("hotspot", "330217001", "寒葱沟镇集贸市场", "无证摊贩集中", True)
    valid = report.validated(reporter_kind="township")
    item = hazard_reported(
        event_id="e5",
        report_id="h-1",
        report=valid,
        department_id="fy-market",
        township_name="寒葱沟镇人民政府",
        matter_name="食品经营",
        at=AT,
    )
    assert item.agency_id == "fy-market" and item.kind == "report.hotspot" and item.urgent
    assert "违法行为高发" in item.title and "寒葱沟镇集贸市场" in item.body


def test_R_NTF_03_only_townships_report_and_the_kind_is_checked() -> None:
    with pytest.raises(Forbidden):
        HazardReport("hazard", "c", "p", "d", False).validated(reporter_kind="department")
    with pytest.raises(ValidationFailed) as exc:
        HazardReport("fire", "c", "p", "d", False).validated(reporter_kind="township")
    assert exc.value.field == "input.kind"
    with pytest.raises(ValidationFailed) as exc:
        HazardReport("hazard", "c", " ", "d", False).validated(reporter_kind="township")
    assert exc.value.field == "input.place"


# --- R-SUP-02 --------------------------------------------------------------------------------


def clock(
    key: str, kind: str, agency: str, due: datetime, state: str, at: datetime
) -> WatchedDeadline:
    return WatchedDeadline(
        key=key,
        kind=kind,
        subject_type="Referral",
        subject_id=key,
        responsible_agency_id=agency,
        due=due,
        state=state,  # type: ignore[arg-type]
        rule="5个工作日内书面告知受理情况",
        explanation_zh=None,
        event_time=at,
        event_id=f"ev-{key}",
    )


def test_R_SUP_02_periods_are_china_months_and_quarters_and_bad_ones_are_refused() -> None:
    march = month("2026-03")
    assert march.start == datetime(2026, 3, 1, tzinfo=CHINA)
    assert march.end == datetime(2026, 4, 1, tzinfo=CHINA) and march.label_zh == "2026年3月"
    assert month("2026-12").end == datetime(2027, 1, 1, tzinfo=CHINA)
    q4 = quarter(2026, 4)
    assert (q4.start.month, q4.end.year, q4.label) == (10, 2027, "2026-Q4")
    for bad in ("2026-13", "March", "2026-3"):
        with pytest.raises(ValidationFailed) as exc:
            month(bad)
        assert exc.value.field == "month"
    with pytest.raises(ValidationFailed):
        quarter(2026, 5)


def test_R_SUP_02_monthly_figures_on_time_late_overdue_per_agency() -> None:
    due = datetime(2026, 3, 6, 23, 59, 59, tzinfo=CHINA)
    now = datetime(2026, 3, 20, tzinfo=CHINA)
    deadlines = [
        clock("a", "referral.accept", "fy-hancong", due, "met", due - timedelta(days=1)),
        clock("b", "referral.accept", "fy-hancong", due, "met", due + timedelta(days=2)),
        clock("c", "referral.accept", "fy-hancong", due, "open", due),
        clock("d", "referral.send", "fy-market", due, "met", due),
        clock("e", "referral.send", "fy-market", due, "cancelled", due),
        clock("f", "referral.report", "fy-market", now + timedelta(days=5), "open", due),
        clock("g", "referral.accept", "fy-hancong", due + timedelta(days=40), "open", due),
    ]
    assert outcome(deadlines[0], now) == "on_time" and outcome(deadlines[1], now) == "late"
    assert outcome(deadlines[2], now) == "overdue" and outcome(deadlines[4], now) == "cancelled"
    report = compute_report(
        kind="monthly",
        period=month("2026-03"),
        now=now,
        deadlines=deadlines,
        disputes=[],
        refusals=[],
        ratings=[],
        agencies={
            "fy-hancong": ("寒葱沟镇人民政府", "township"),
            "fy-quiet": ("某局", "department"),
        },
    )
    rows = {a.agency_id: a for a in report.agencies}
    township = rows["fy-hancong"]
    accept = township.clocks["accept"]
    assert (accept.on_time, accept.late, accept.overdue, accept.counted) == (1, 1, 1, 3)
    assert accept.rate == pytest.approx(1 / 3, abs=1e-4)
    assert township.overdue == 1 and township.late == 1
    market = rows["fy-market"]
    assert market.clocks["send"].rate == 1.0 and market.clocks["report"].pending == 1
    assert market.clocks["report"].rate is None  # nothing fell due yet
    assert rows["fy-quiet"].overdue == 0  # every known agency gets a row
    # The reminder list: the clocks of the month not met on time (g falls due in April).
    assert [(e.deadline.key, e.outcome) for e in report.overdue] == [
        ("b", "late"),
        ("c", "overdue"),
    ]
    assert report.overdue[1].days_over == pytest.approx(13.0, abs=0.1)


def test_R_SUP_02_quarterly_bulletin_counts_disputes_their_duration_and_refusals() -> None:
    q1 = quarter(2026, 1)
    opened = datetime(2025, 12, 28, tzinfo=CHINA)
    disputes = [
        DisputeFact(
            "d1", ("fy-hancong", "fy-market"), "330217001", opened, opened + timedelta(days=10)
        ),
        DisputeFact(
            "d2", ("fy-hancong", "fy-water"), "330217002", datetime(2026, 2, 1, tzinfo=CHINA), None
        ),
        DisputeFact("d3", ("fy-x", "fy-y"), "1", opened, opened + timedelta(days=1)),  # Q4 only
    ]
    refusals = [
        RefusalFact("r1", "fy-water", datetime(2026, 2, 3, tzinfo=CHINA), "req-1", "无法律依据"),
        RefusalFact("r2", "fy-water", datetime(2026, 4, 3, tzinfo=CHINA), "req-2", "下季度"),
    ]
    report = compute_report(
        kind="quarterly",
        period=q1,
        now=datetime(2026, 4, 5, tzinfo=CHINA),
        deadlines=[],
        disputes=disputes,
        refusals=refusals,
        ratings=[],
        agencies={},
    )
    rows = {a.agency_id: a for a in report.agencies}
    assert [d.dispute_id for d in report.disputes] == ["d1", "d2"]
    township = rows["fy-hancong"]
    assert (township.disputes_opened, township.disputes_ruled) == (1, 1)
    assert township.dispute_days_average == 10.0
    assert rows["fy-market"].disputes_opened == 0 and rows["fy-market"].disputes_ruled == 1
    assert rows["fy-water"].refusals == 1 and [r.event_id for r in report.refusals] == ["r1"]
    assert "fy-x" not in rows


# --- R-SUP-03 --------------------------------------------------------------------------------


def test_R_SUP_03_two_way_ratings_once_per_quarter_per_pair() -> None:
    rating = new_rating(
        direction="township_to_department",
        rater_agency_id="fy-hancong",
        rater_kind="township",
        ratee_agency_id="fy-market",
        ratee_kind="department",
        score=4,
        comment=" 指导及时 ",
        rated_by="p-li",
        at=AT,
    )
    assert rating.period == "2026-Q1" and rating.id == "2026-Q1:fy-hancong:fy-market"
    assert rating.comment == "指导及时"
    back = new_rating(
        direction="department_to_township",
        rater_agency_id="fy-market",
        rater_kind="department",
        ratee_agency_id="fy-hancong",
        ratee_kind="township",
        score=5,
        comment="",
        rated_by="p-wang",
        at=AT,
    )
    assert back.id != rating.id  # the two directions are two pairs
    report = compute_report(
        kind="quarterly",
        period=quarter(2026, 1),
        now=AT,
        deadlines=[],
        disputes=[],
        refusals=[],
        ratings=[rating, back],
        agencies={},
    )
    rows = {a.agency_id: a for a in report.agencies}
    assert rows["fy-market"].rating_average == 4.0 and rows["fy-hancong"].ratings_received == 1


@pytest.mark.parametrize(
    ("direction", "rater", "ratee", "score", "error", "field"),
    [
        ("township_to_department", "department", "department", 3, Forbidden, None),
        (
            "township_to_department",
            "township",
            "township",
            3,
            ValidationFailed,
            "input.departmentId",
        ),
        ("department_to_township", "township", "township", 3, Forbidden, None),
        ("department_to_township", "department", None, 3, ValidationFailed, "input.townshipId"),
        ("township_to_department", "township", "department", 0, ValidationFailed, "input.score"),
        ("township_to_department", "township", "department", 6, ValidationFailed, "input.score"),
    ],
)
def test_R_SUP_03_bad_ratings_are_refused_with_the_field(
    direction: str,
    rater: str,
    ratee: str | None,
    score: int,
    error: type[Exception],
    field: str | None,
) -> None:
    with pytest.raises(error) as exc:
        new_rating(
            direction=direction,  # type: ignore[arg-type]
            rater_agency_id="a",
            rater_kind=rater,
            ratee_agency_id="b",
            ratee_kind=ratee,
            score=score,
            comment="",
            rated_by="p",
            at=AT,
        )
    assert getattr(exc.value, "field", None) == field
