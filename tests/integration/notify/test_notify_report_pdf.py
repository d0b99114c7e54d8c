"""Supervision reports as PDF with charts (R-SUP-02 月提示 + 季通报, R-SUP-03 ratings in the
bulletin), on both store adapters, with the facts of the .xlsx test."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kernel.caller import Caller
from notify.adapters import pdf
from notify.application.supervision import RateAgency
from notify.bootstrap import NotifyService
from notify.domain.supervision import month, quarter
from notify.policy import policy_of
from tests.fixtures.pdf import pdftotext

from .test_notify_copies_supervision import (
    deliver,
    person,
    refuse_assistance,
    setup,
)
from .test_notify_watch import (
    DUE,
    SENT,
    Harness,
    clock_block,
    eventually,
    harness,
    items,
    local,
    step_event,
)

__all__ = ["harness"]

pytestmark = pytest.mark.timeout(120)


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return pdftotext(path, "-layout")


def page_one_png(tmp_path: Path) -> Path:
    """Page 1 rasterised (poppler), as a check that the PDF renders, not only parses."""
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "40",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(tmp_path / "report.pdf"),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    return tmp_path / "page.png"


async def facts(service: NotifyService, harness: Harness) -> None:
    await setup(service)
    for rid in ("on-time", "late", "never"):
        await deliver(service, step_event(rid, SENT, [clock_block(rid, DUE)]))
    await deliver(
        service, step_event("on-time", local(2026, 3, 5), [clock_block("on-time", DUE, "met")])
    )
    await deliver(service, step_event("late", local(2026, 3, 9), [clock_block("late", DUE, "met")]))
    await refuse_assistance(service)
    harness.clock.now = local(2026, 3, 20, 10)


async def test_R_SUP_02_monthly_list_as_pdf_has_title_agencies_figures_and_charts(
    harness: Harness, tmp_path: Path
) -> None:
    service = await harness.start(workers=False)
    await facts(service, harness)
    report = await service.supervision.report(
        person("fy-gov", "supervisor"), "monthly", month("2026-03")
    )
    data = pdf.render(report)
    assert data.startswith(b"%PDF")
    assert pdf.render(report) == data  # deterministic
    text = pdf_text(data, tmp_path)
    assert "2026年3月行政执法协调监督月度提示" in text
    for name in ("寒葱沟镇人民政府", "抚远市市场监督管理局", "抚远市水务局"):
        assert name in text
    # fy-hancong's accept clocks: 1 on time, 1 late, 1 overdue -> 33.3 %.
    assert "1/1/1" in text and "33.3%" in text
    assert "不属于本部门职责" in text and "超期未办" in text
    # The charts' own labels (drawn by reportlab.graphics, not the tables).
    assert "受理按时率" in text and "超期未办事项数（件）" in text
    assert page_one_png(tmp_path).stat().st_size > 0


async def test_R_SUP_03_quarterly_bulletin_pdf_lists_the_two_way_ratings(
    harness: Harness, tmp_path: Path
) -> None:
    service = await harness.start(workers=False)
    await facts(service, harness)
    await service.supervision.rate(
        RateAgency("township_to_department", "fy-market", 2, "指导不及时"),
        Caller(person("fy-hancong", "leader")),
    )
    bulletin = await service.supervision.report(person("fy-justice"), "quarterly", quarter(2026, 1))
    text = pdf_text(pdf.render(bulletin), tmp_path)
    assert "2026年第1季度行政执法协调监督季度通报" in text
    assert "乡镇评部门（反向考评）" in text and "指导不及时" in text


# --- the monthly push to the justice bureau (R-SUP-02 月提示) -----------------------------


async def _justice_items(
    service: NotifyService, kind: str = "supervision.monthly_report"
) -> list[Any]:
    return [i for i in await items(service, "fy-justice") if i.kind == kind]


async def test_R_SUP_02_monthly_list_is_pushed_to_the_justice_bureau_once_with_two_schedulers(
    harness: Harness,
) -> None:
    clock = harness.clock
    a = await harness.start(workers=True)
    b = await harness.start(workers=True)
    await facts(a, harness)  # leaves the clock on 20 March
    day = policy_of(a.deps.policy).supervision.report_day_of_month
    march = await a.report_timers.get("report.monthly:2026-03")
    assert march is not None and march["state"] == "pending"
    assert march["fire_at"] == local(2026, 4, day, 9)
    assert await _justice_items(a) == []

    clock.now = local(2026, 4, day, 9, 0, 1)
    [pushed] = await eventually(lambda: _justice_items(a), "the March list in the inbox")
    assert pushed.title == "2026年3月行政执法协调监督月度提示"
    assert pushed.links == ("/reports/monthly/2026-03.pdf", "/reports/monthly/2026-03.xlsx")
    assert "超期未办1件" in pushed.body and "拒绝协助1次" in pushed.body
    assert pushed.subject_id == "monthly:2026-03" and not pushed.receipt_required
    # The first quarter's bulletin (季通报) goes out on the same report day.
    [bulletin] = await eventually(
        lambda: _justice_items(a, "supervision.quarterly_report"), "the Q1 bulletin in the inbox"
    )
    assert bulletin.title == "2026年第1季度行政执法协调监督季度通报"
    assert bulletin.links == ("/reports/quarterly/2026-Q1.pdf", "/reports/quarterly/2026-Q1.xlsx")
    assert bulletin.subject_id == "quarterly:2026-Q1" and not bulletin.receipt_required
    assert "超期未办1件" in bulletin.body and "拒绝协助1次" in bulletin.body
    april = await eventually(
        lambda: a.report_timers.get("report.monthly:2026-04"), "April's push scheduled"
    )
    assert april["fire_at"] == local(2026, 5, day, 9) and april["state"] == "pending"

    # A month later: April's list, and still one item per month.
    clock.now = local(2026, 5, day, 10)
    await eventually(lambda: _count(a, 2), "the April list in the inbox")
    await eventually(lambda: _timer_state(a, "report.monthly:2026-04", "fired"), "April fired")
    pushed_items = await _justice_items(a)
    assert sorted(i.subject_id for i in pushed_items) == ["monthly:2026-03", "monthly:2026-04"]
    # The deadline timers are untouched by the report timers (their own collection).
    assert all(t["kind"] != "report.monthly" for t in await a.timers.all())
    # Still one first-quarter bulletin, and the second quarter's is scheduled.
    assert len(await _justice_items(a, "supervision.quarterly_report")) == 1
    q2 = await a.report_timers.get("report.quarterly:2026-Q2")
    assert q2 is not None and q2["fire_at"] == local(2026, 7, day, 9) and q2["state"] == "pending"
    for service in (a, b):
        await harness.stop(service)  # waits for each scheduler's pass in flight
    # March's list, April's list and the first quarter's bulletin: three pushes in all.
    assert a.report_scheduler.fired + b.report_scheduler.fired == 3


async def _count(service: NotifyService, n: int) -> bool:
    return len(await _justice_items(service)) == n


async def _timer_state(service: NotifyService, timer_id: str, state: str) -> bool:
    timer = await service.report_timers.get(timer_id)
    return timer is not None and timer["state"] == state


async def test_R_SUP_02_monthly_push_waits_for_a_known_justice_bureau(harness: Harness) -> None:
    clock = harness.clock
    service = await harness.start(workers=False)
    day = policy_of(service.deps.policy).supervision.report_day_of_month
    clock.now = local(2026, 4, day, 9, 30)
    # March's list and the first quarter's bulletin fall due together.
    assert await service.report_scheduler.run_once() == 2
    for timer_id in ("report.monthly:2026-03", "report.quarterly:2026-Q1"):
        timer = await service.report_timers.get(timer_id)
        assert timer is not None and timer["state"] == "pending"  # released: retried later
        assert timer["fire_at"] == clock.now + timedelta(minutes=5)
    await setup(service)  # coordination's agency events arrive
    clock.now = local(2026, 4, day, 9, 36)
    await service.report_scheduler.run_once()
    assert len(await _justice_items(service)) == 1
    assert await service.report_scheduler.run_once() == 0  # nothing due twice
    assert len(await _justice_items(service)) == 1
    assert len(await _justice_items(service, "supervision.quarterly_report")) == 1
