"""The monthly push of the reminder list (R-SUP-02 月提示): when it goes out and what it says."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kernel.errors import ValidationFailed
from notify.domain.model import CHINA
from notify.domain.supervision import (
    AgencyFigures,
    OnTime,
    SupervisionReport,
    month,
    month_of,
    monthly_push_at,
    monthly_push_text,
    next_month,
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
