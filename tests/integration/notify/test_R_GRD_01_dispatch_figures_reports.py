"""R-GRD-01 with R-SUP-02: the per-team grid-dispatch figures (派单数, 按时接单, 按时报到,
已处置, 退回) are in the monthly spreadsheet and the quarterly PDF bulletin, read back from the
generated files for a seeded set of step clocks: a team with dispatches (one accepted at the
limit, one arrived a second past it), a resident unit with none (zeros), the township's own
centre; a department that was dispatched nothing has no row."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

from openpyxl import load_workbook

from notify.adapters import pdf, xlsx
from notify.domain import supervision as sup
from notify.domain.dispatch_figures import ACCEPT, ARRIVE, HANDLE
from tests.integration.notify.test_notify_report_pdf import pdf_text
from tests.unit.test_R_GRD_01_supervision_figures import DUE, TEAM, clock

IDLE = "hc-zhangcun-squad"
AGENCIES = {
    TEAM: ("张村市场监管所", "resident_unit"),
    IDLE: ("张村综合执法中队", "resident_unit"),
    "hc-zhangcun": ("张村镇人民政府", "township"),
    "hc-market": ("环翠区市场监管局", "department"),
}
DEADLINES = [
    clock(ACCEPT, "d1", "met"),  # at the limit: in time
    clock(ARRIVE, "d1", "met", timedelta(seconds=1)),  # one second past: not in time
    clock(HANDLE, "d1", "met"),
    clock(ACCEPT, "d2", "cancelled"),  # returned
    clock(ACCEPT, "d3", "open"),
]
HEADERS = ["派单数", "按时接单", "按时报到", "已处置", "退回"]


def _report(kind: str) -> sup.SupervisionReport:
    return sup.compute_report(
        kind=kind,  # type: ignore[arg-type]
        period=sup.month("2026-05") if kind == "monthly" else sup.quarter(2026, 2),
        now=DUE + timedelta(days=1),
        deadlines=DEADLINES,
        disputes=[],
        refusals=[],
        ratings=[],
        agencies=AGENCIES,
    )


def test_R_GRD_01_R_SUP_02_the_monthly_spreadsheet_lists_each_teams_dispatch_figures() -> None:
    wb = load_workbook(io.BytesIO(xlsx.render(_report("monthly"))))
    ws = wb["网格派单"]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0] == ["机关编号", "机关名称", "类别", *HEADERS]
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id[TEAM] == [TEAM, "张村市场监管所", "派驻机构", 3, 1, 0, 1, 1]
    assert by_id[IDLE] == [IDLE, "张村综合执法中队", "派驻机构", 0, 0, 0, 0, 0]
    assert by_id["hc-zhangcun"][3:] == [0, 0, 0, 0, 0]
    assert "hc-market" not in by_id  # not a team, nothing dispatched to it


def test_R_GRD_01_R_SUP_02_the_quarterly_bulletin_prints_each_teams_dispatch_figures(
    tmp_path: Path,
) -> None:
    text = pdf_text(pdf.render(_report("quarterly")), tmp_path)
    section = text[text.index("七、网格派单（按执法队）") :]
    header = next(line for line in section.splitlines() if "机关名称" in line and "退回" in line)
    assert re.findall(r"\S+", header)[-5:] == HEADERS

    def figures(name: str) -> list[str]:
        line = next(line for line in section.splitlines() if name in line)
        return re.findall(r"\S+", line)[-5:]

    assert figures("张村市场监管所") == ["3", "1", "0", "1", "1"]
    assert figures("张村综合执法中队") == ["0", "0", "0", "0", "0"]
    assert figures("张村镇人民政府") == ["0", "0", "0", "0", "0"]
    assert "环翠区市场监管局" not in section
