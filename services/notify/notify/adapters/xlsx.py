"""Supervision reports as .xlsx workbooks (openpyxl): Chinese headers, one sheet per
section, figures as numbers (rates as percentages) so that the justice bureau can sort and
chart them in a spreadsheet."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from notify.domain.model import CHINA
from notify.domain.supervision import AgencyFigures, SupervisionReport

KIND_ZH = {
    "township": "乡镇（街道）",
    "department": "部门",
    "approval_bureau": "审批部门",
    "justice_bureau": "司法局",
    "resident_unit": "派驻机构",
}
#: The per-team grid-dispatch figures (R-GRD-01), in the spreadsheet and the bulletin.
DISPATCH_HEADERS = ("派单数", "按时接单", "按时报到", "已处置", "退回")
CLOCK_ZH = {"send": "移送", "accept": "受理", "report": "结果通报"}
#: An agency's totals, disputes, refusals and ratings, in the spreadsheet and the bulletin.
TOTALS_HEADERS = (
    "超期未办合计",
    "超期办结合计",
    "新发争议",
    "裁决争议",
    "争议平均历时（天）",
    "拒绝协助次数",
    "收到评价数",
    "平均得分",
)
OUTCOME_ZH = {"overdue": "超期未办", "late": "超期办结"}
DIRECTION_ZH = {
    "township_to_department": "乡镇评部门（反向考评）",
    "department_to_township": "部门评乡镇",
}


def _local(at: datetime | None) -> str:
    return at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if at else ""


def _sheet(wb: Workbook, title: str, headers: Sequence[str], rows: list[list[Any]]) -> Worksheet:
    ws = wb.create_sheet(title)
    ws.append(list(headers))
    for row in rows:
        ws.append(row)
    ws.freeze_panes = "A2"
    for i, header in enumerate(headers, start=1):
        letter = ws.cell(row=1, column=i).column_letter
        ws.column_dimensions[letter].width = max(10, 2 * len(header) + 2)
    return ws


def summary_headers() -> list[str]:
    headers = ["机关编号", "机关名称", "类别"]
    for zh in CLOCK_ZH.values():
        headers += [f"{zh}按时", f"{zh}超期办结", f"{zh}超期未办", f"{zh}按时率"]
    return [*headers, *TOTALS_HEADERS]


def totals_row(a: AgencyFigures) -> list[int | float | None]:
    """An agency's totals, disputes, refusals and ratings (TOTALS_HEADERS' order)."""
    return [
        a.overdue,
        a.late,
        a.disputes_opened,
        a.disputes_ruled,
        a.dispute_days_average,
        a.refusals,
        a.ratings_received,
        a.rating_average,
    ]


def dispatch_row(a: AgencyFigures) -> list[int]:
    """派单数, 按时接单, 按时报到, 已处置, 退回 of one team (DISPATCH_HEADERS' order)."""
    f = a.dispatch
    return [f.dispatched, f.accepted_in_time, f.arrived_in_time, f.handled, f.returned]


def render(report: SupervisionReport) -> bytes:
    wb = Workbook()
    default = wb.active
    if default is not None:
        wb.remove(default)
    title = "月度提示" if report.kind == "monthly" else "季度通报"
    rate_columns: list[int] = []
    rows: list[list[Any]] = []
    for a in report.agencies:
        row: list[Any] = [a.agency_id, a.name, KIND_ZH.get(a.kind, a.kind)]
        for short in CLOCK_ZH:
            c = a.clocks[short]
            row += [c.on_time, c.late, c.overdue, c.rate]
            rate_columns.append(len(row))
        row += totals_row(a)
        rows.append(row)
    summary = _sheet(wb, f"{title}汇总", summary_headers(), rows)
    for col in set(rate_columns):
        for r in range(2, len(rows) + 2):
            summary.cell(row=r, column=col).number_format = "0.0%"
    summary.append([])
    summary.append([f"统计期间：{report.period.label_zh}；生成时间：{_local(report.generated_at)}"])

    _sheet(
        wb,
        "超期事项",
        ["承办机关", "期限类型", "对象", "对象编号", "到期时间", "情况", "超期天数", "期限依据"],
        [
            [
                e.deadline.responsible_agency_id,
                e.deadline.kind,
                e.deadline.subject_type,
                e.deadline.subject_id,
                _local(e.deadline.due),
                OUTCOME_ZH.get(e.outcome, e.outcome),
                e.days_over,
                e.deadline.rule,
            ]
            for e in report.overdue
        ],
    )
    _sheet(
        wb,
        "管辖争议",
        ["争议编号", "事项编码", "争议各方", "提出时间", "裁决时间", "历时（天）"],
        [
            [
                d.dispute_id,
                d.matter_code,
                "、".join(d.party_ids),
                _local(d.opened_at),
                _local(d.ruled_at),
                d.days,
            ]
            for d in report.disputes
        ],
    )
    _sheet(
        wb,
        "拒绝协助",
        ["机关编号", "时间", "对象", "理由", "事件编号"],
        [
            [r.agency_id, _local(r.at), r.subject or "", r.reason, r.event_id]
            for r in report.refusals
        ],
    )
    _sheet(
        wb,
        "双向考评",
        ["考评期", "方向", "评价机关", "被评机关", "得分", "意见", "评价时间"],
        [
            [
                r.period,
                DIRECTION_ZH.get(r.direction, r.direction),
                r.rater_agency_id,
                r.ratee_agency_id,
                r.score,
                r.comment,
                _local(r.rated_at),
            ]
            for r in report.ratings
        ],
    )
    _sheet(
        wb,
        "网格派单",
        ["机关编号", "机关名称", "类别", *DISPATCH_HEADERS],
        [
            [a.agency_id, a.name, KIND_ZH.get(a.kind, a.kind), *dispatch_row(a)]
            for a in report.dispatch_teams()
        ],
    )
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
