"""The pushes of the monthly reminder list and the quarterly bulletin (R-SUP-02 月提示 +
季通报): when they go out and what they say."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kernel.errors import ValidationFailed
from notify.domain.model import CHINA
from notify.domain.supervision import (
    AgencyFigures,
    DisputeFact,
    OnTime,
    Rating,
    SupervisionReport,
    month,
    month_of,
    monthly_push_at,
    monthly_push_text,
    next_month,
    next_quarter,
    quarter,
    quarter_label,
    quarter_of,
    quarterly_push_at,
    quarterly_push_text,
    report_paths,
)


def test_R_SUP_02_monthly_list_goes_out_on_the_report_day_of_the_following_month() -> None:
    march = month("2026-03")
    assert monthly_push_at(march, 5) == datetime(2026, 4, 5, 9, tzinfo=CHINA)
    december = month("2026-12")
    assert next_month(december).label == "2027-01"
    assert monthly_push_at(december, 28) == datetime(2027, 1, 28, 9, tzinfo=CHINA)
    # China time decides the month: 31 March 20:00 UTC is already April in Fuyuan.
    assert month_of(datetime(2026, 3, 31, 20, tzinfo=UTC)).label == "2026-04"
    assert report_paths("monthly", march) == (
        "/reports/monthly/2026-03.pdf",
        "/reports/monthly/2026-03.xlsx",
    )
    with pytest.raises(ValidationFailed) as exc:
        month("2026-13")
    assert exc.value.field == "month"


def test_R_SUP_02_monthly_push_text_sums_the_agencies_figures() -> None:
    clocks = {
        "send": OnTime(on_time=2),
        "accept": OnTime(on_time=1, late=1, overdue=1),
        "report": OnTime(),
    }
    row = AgencyFigures(
        "fy-hancong", "寒葱沟镇人民政府", "township", clocks, 1, 1, 0, 0, None, 0, 0, None
    )
    report = SupervisionReport(
        "monthly", month("2026-03"), datetime(2026, 4, 5, 1, tzinfo=UTC), [row], [], [], []
    )
    title, body = monthly_push_text(report, "抚远市司法局")
    assert title == "2026年3月行政执法协调监督月度提示"
    assert body.startswith("抚远市司法局：")
    assert "共5件" in body and "按时办结3件（按时率60.0%）" in body


def test_R_SUP_02_quarterly_bulletin_goes_out_on_the_report_day_after_the_quarter() -> None:
    q1 = quarter_label("2026-Q1")
    assert q1 == quarter(2026, 1)
    assert quarterly_push_at(q1, 5) == datetime(2026, 4, 5, 9, tzinfo=CHINA)
    q4 = quarter(2026, 4)
    assert next_quarter(q4).label == "2027-Q1"
    assert quarterly_push_at(q4, 28) == datetime(2027, 1, 28, 9, tzinfo=CHINA)
    # China time decides the quarter: 31 March 20:00 UTC is already the second quarter.
    assert quarter_of(datetime(2026, 3, 31, 20, tzinfo=UTC)).label == "2026-Q2"
    for bad in ("2026-Q5", "2026Q1", "Q1-2026"):
        with pytest.raises(ValidationFailed) as exc:
            quarter_label(bad)
        assert exc.value.field == "quarter"


def test_R_SUP_02_R_SUP_03_quarterly_text_adds_disputes_and_ratings() -> None:
    clocks = {"send": OnTime(on_time=3), "accept": OnTime(overdue=1), "report": OnTime()}
    row = AgencyFigures(
        "fy-hancong", "寒葱沟镇人民政府", "township", clocks, 1, 1, 0, 0, None, 0, 0, None
    )
    at = datetime(2026, 2, 1, tzinfo=UTC)
    disputes = [
        DisputeFact("d-1", ("fy-hancong", "fy-market"), "X", at, datetime(2026, 2, 4, tzinfo=UTC)),
        DisputeFact("d-2", ("fy-hancong", "fy-market"), "X", at, None),
    ]
    ratings = [
        Rating(
            f"r-{n}", "2026-Q1", "township_to_department", "fy-hancong", "fy-market", n, "", "p", at
        )
        for n in (3, 4)
    ]
    report = SupervisionReport("quarterly", quarter(2026, 1), at, [row], [], disputes, [], ratings)
    title, body = quarterly_push_text(report, "抚远市司法局")
    assert title == "2026年第1季度行政执法协调监督季度通报"
    assert "共4件" in body and "按时办结3件（按时率75.0%）" in body and "超期未办1件" in body
    assert "管辖争议2起，已裁决的平均历时3.0天" in body
    assert "双向考评2条，平均3.50分" in body and "拒绝协助0次" in body
