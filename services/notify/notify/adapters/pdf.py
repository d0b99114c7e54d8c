"""Supervision reports (月提示 / 季通报, R-SUP-02) as PDF with charts, for the justice bureau
to print and circulate.

kernel.adapters.official_pdf lays out official letters (公文: one column of body text after
GB/T 9704); a report is tables and charts, which it does not offer, so this module builds on
reportlab directly (platypus tables, reportlab.graphics.charts) with the same two faces the
kernel registers for Chinese: AR PL SungtiL GB for body text and WenQuanYi Zen Hei for
headings, tables and chart labels (Zen Hei covers every character the body face lacks, e.g.
〇, so data of any origin renders). The pages are landscape A4: the per-agency tables are wide.

Output is deterministic (reportlab's invariant mode), like the kernel's letters.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from kernel.adapters.official_pdf import BODY_FONT_FILES, HEADING_FONT_FILES
from kernel.documents import FontsMissingError
from notify.adapters.xlsx import (
    CLOCK_ZH,
    DIRECTION_ZH,
    DISPATCH_HEADERS,
    KIND_ZH,
    OUTCOME_ZH,
    TOTALS_HEADERS,
    dispatch_row,
    totals_row,
)
from notify.domain.model import CHINA
from notify.domain.supervision import AgencyFigures, SupervisionReport

# Registered under notify's own names so that nothing depends on the kernel's private
# registration order; the files are the kernel's.
SONG: Final = "NotifyReportSong"
HEI: Final = "NotifyReportHei"
PAGE = landscape(A4)
MARGIN = 15 * mm
WIDTH = PAGE[0] - 2 * MARGIN
# Rates per clock (send, accept, report) in the chart, in this order.
SERIES_COLOURS = (
    colors.HexColor("#2f5597"),
    colors.HexColor("#70ad47"),
    colors.HexColor("#ed7d31"),
)
OVERDUE_COLOUR = colors.HexColor("#c00000")
GRID = colors.HexColor("#999999")
HEADER_FILL = colors.HexColor("#dde5f0")


@functools.cache
def _fonts() -> frozenset[int]:
    """Register the two faces once; return the code points the body face has."""
    song = next((p for p in BODY_FONT_FILES if p.is_file()), None)
    hei = next((p for p in HEADING_FONT_FILES if p.is_file()), None)
    if song is None or hei is None:
        raise FontsMissingError(
            "Chinese TrueType fonts are missing; install fonts-arphic-gbsn00lp and "
            "fonts-wqy-zenhei (scripts/infra/fonts.sh)"
        )
    body = TTFont(SONG, str(song))
    pdfmetrics.registerFont(body)
    pdfmetrics.registerFont(TTFont(HEI, str(hei), subfontIndex=0))
    return frozenset(body.face.charToGlyph)


def _markup(text: str, covered: frozenset[int]) -> str:
    """Escaped paragraph markup; characters the body face lacks come from Zen Hei."""
    out: list[str] = []
    for ch in text:
        piece = escape(ch)
        if ord(ch) not in covered and not ch.isspace():
            piece = f'<font face="{HEI}">{piece}</font>'
        out.append(piece)
    return "".join(out)


def _local(at: datetime | None) -> str:
    return at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if at else ""


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def title_of(report: SupervisionReport) -> str:
    """The report's title, e.g. 2026年3月行政执法协调监督月度提示."""
    kind = "月度提示" if report.kind == "monthly" else "季度通报"
    return f"{report.period.label_zh}行政执法协调监督{kind}"


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=SONG, fontSize=11, leading=16)
    return {
        "title": ParagraphStyle(
            "title", parent=body, fontName=HEI, fontSize=20, leading=28, alignment=1
        ),
        "subtitle": ParagraphStyle("subtitle", parent=body, alignment=1),
        "heading": ParagraphStyle(
            "heading", parent=body, fontName=HEI, fontSize=14, leading=22, spaceBefore=8
        ),
        "body": body,
        "cell": ParagraphStyle("cell", fontName=HEI, fontSize=8.5, leading=11),
    }


def _table(
    headers: Sequence[str], rows: list[list[str]], widths: Sequence[float], cell: ParagraphStyle
) -> Table:
    """A grid with a repeated header row; cells are paragraphs so that long text wraps."""
    data = [[Paragraph(escape(h), cell) for h in headers]]
    data += [[Paragraph(escape(v), cell) for v in row] for row in rows]
    if not rows:
        data.append([Paragraph("（无）", cell)] + [Paragraph("", cell)] * (len(headers) - 1))
    table = Table(data, colWidths=list(widths), repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, GRID),
                ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def _chart_height(n: int) -> float:
    return max(120.0, 20.0 * n + 60)


def rates_chart(agencies: Sequence[AgencyFigures]) -> Drawing:
    """On-time rates (%) of sending, accepting and reporting per agency, horizontal bars
    (agency names are long Chinese strings: they read best on the category axis)."""
    height = _chart_height(len(agencies))
    drawing = Drawing(WIDTH, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 190, 40
    chart.width, chart.height = WIDTH - 330, height - 70
    # Bars top to bottom in the table's order (the category axis runs bottom-up).
    ordered = list(reversed(agencies))
    chart.data = [[100 * (a.clocks[short].rate or 0.0) for a in ordered] for short in CLOCK_ZH]
    chart.categoryAxis.categoryNames = [a.name for a in ordered]
    chart.categoryAxis.labels.fontName = HEI
    chart.categoryAxis.labels.fontSize = 8
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 20
    chart.valueAxis.labels.fontName = HEI
    chart.valueAxis.labelTextFormat = "%d%%"
    chart.barSpacing = 1
    for i, colour in enumerate(SERIES_COLOURS):
        chart.bars[i].fillColor = colour
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = WIDTH - 120, height - 30
    legend.fontName = HEI
    legend.fontSize = 9
    legend.colorNamePairs = [
        (c, f"{zh}按时率") for c, zh in zip(SERIES_COLOURS, CLOCK_ZH.values(), strict=True)
    ]
    drawing.add(legend)
    drawing.add(String(190, 12, "按时率（%）；期内无到期事项的计为 0", fontName=HEI, fontSize=8))
    return drawing


def overdue_chart(agencies: Sequence[AgencyFigures]) -> Drawing:
    """Clocks still open past due, per agency."""
    height = _chart_height(len(agencies))
    drawing = Drawing(WIDTH, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 190, 40
    chart.width, chart.height = WIDTH - 330, height - 70
    ordered = list(reversed(agencies))
    chart.data = [[a.overdue for a in ordered]]
    chart.categoryAxis.categoryNames = [a.name for a in ordered]
    chart.categoryAxis.labels.fontName = HEI
    chart.categoryAxis.labels.fontSize = 8
    chart.categoryAxis.labels.boxAnchor = "e"
    top = max([a.overdue for a in agencies] + [1])
    chart.valueAxis.valueMin, chart.valueAxis.valueMax = 0, top
    chart.valueAxis.valueStep = max(1, (top + 4) // 5)
    chart.valueAxis.labels.fontName = HEI
    chart.bars[0].fillColor = OVERDUE_COLOUR
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = HEI
    chart.barLabels.fontSize = 8
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    drawing.add(chart)
    drawing.add(String(190, 12, "超期未办事项数（件）", fontName=HEI, fontSize=8))
    return drawing


def _figure_rows(report: SupervisionReport) -> tuple[list[str], list[list[str]]]:
    headers = ["机关名称", "类别"]
    for zh in CLOCK_ZH.values():
        headers += [f"{zh}（按时/超期办结/超期未办）", f"{zh}按时率"]
    rows = []
    for a in report.agencies:
        row = [a.name, KIND_ZH.get(a.kind, a.kind)]
        for short in CLOCK_ZH:
            c = a.clocks[short]
            row += [f"{c.on_time}/{c.late}/{c.overdue}", _percent(c.rate)]
        rows.append(row)
    return headers, rows


def _other_rows(report: SupervisionReport) -> tuple[list[str], list[list[str]]]:
    headers = ["机关名称", *TOTALS_HEADERS]
    rows = [
        [a.name, *(str(v) if isinstance(v, int) else _number(v) for v in totals_row(a))]
        for a in report.agencies
    ]
    return headers, rows


def render(report: SupervisionReport) -> bytes:
    covered = _fonts()
    s = _styles()
    names = {a.agency_id: a.name for a in report.agencies}

    def name(agency_id: str) -> str:
        return names.get(agency_id, agency_id)

    def para(text: str, style: str) -> Paragraph:
        return Paragraph(_markup(text, covered), s[style])

    title = title_of(report)
    story: list[Flowable] = [
        para(title, "title"),
        para(
            f"统计期间：{report.period.label_zh}（{_local(report.period.start)} 至 "
            f"{_local(report.period.end)}，不含）；生成时间：{_local(report.generated_at)}",
            "subtitle",
        ),
        Spacer(1, 6 * mm),
        para("一、各机关按时率", "heading"),
        para(
            "按期限到期时间归入统计期间；按时率 = 按时办结数 ÷（按时办结 + 超期办结 + 超期未办）。",
            "body",
        ),
        Spacer(1, 2 * mm),
    ]
    headers, rows = _figure_rows(report)
    first = 62 * mm
    rest = (WIDTH - first - 26 * mm) / 6
    story.append(_table(headers, rows, [first, 26 * mm] + [rest] * 6, s["cell"]))
    story += [
        Spacer(1, 4 * mm),
        KeepTogether(
            [para("图1  各机关移送、受理、结果通报按时率", "heading"), rates_chart(report.agencies)]
        ),
        PageBreak(),
    ]

    story.append(para("二、超期、争议、拒绝协助与考评", "heading"))
    headers, rows = _other_rows(report)
    rest = (WIDTH - first) / 8
    story.append(_table(headers, rows, [first] + [rest] * 8, s["cell"]))
    story += [
        Spacer(1, 4 * mm),
        KeepTogether(
            [para("图2  各机关超期未办事项数", "heading"), overdue_chart(report.agencies)]
        ),
        PageBreak(),
    ]

    story.append(para("三、超期事项清单", "heading"))
    story.append(
        _table(
            ["承办机关", "期限类型", "对象编号", "到期时间", "情况", "超期天数", "期限依据"],
            [
                [
                    name(e.deadline.responsible_agency_id),
                    e.deadline.kind,
                    e.deadline.subject_id,
                    _local(e.deadline.due),
                    OUTCOME_ZH.get(e.outcome, e.outcome),
                    f"{e.days_over:g}",
                    e.deadline.rule,
                ]
                for e in report.overdue
            ],
            [55 * mm, 32 * mm, 40 * mm, 32 * mm, 20 * mm, 18 * mm, WIDTH - 197 * mm],
            s["cell"],
        )
    )
    story.append(para("四、管辖争议", "heading"))
    story.append(
        _table(
            ["争议编号", "事项编码", "争议各方", "提出时间", "裁决时间", "历时（天）"],
            [
                [
                    d.dispute_id,
                    d.matter_code,
                    "、".join(name(p) for p in d.party_ids),
                    _local(d.opened_at),
                    _local(d.ruled_at),
                    _number(d.days),
                ]
                for d in report.disputes
            ],
            [40 * mm, 30 * mm, WIDTH - 152 * mm, 32 * mm, 32 * mm, 18 * mm],
            s["cell"],
        )
    )
    story.append(para("五、拒绝协助", "heading"))
    story.append(
        _table(
            ["机关", "时间", "对象", "理由"],
            [[name(r.agency_id), _local(r.at), r.subject or "", r.reason] for r in report.refusals],
            [55 * mm, 32 * mm, 40 * mm, WIDTH - 127 * mm],
            s["cell"],
        )
    )
    story.append(para("六、双向考评", "heading"))
    story.append(
        _table(
            ["考评期", "方向", "评价机关", "被评机关", "得分", "意见"],
            [
                [
                    r.period,
                    DIRECTION_ZH.get(r.direction, r.direction),
                    name(r.rater_agency_id),
                    name(r.ratee_agency_id),
                    str(r.score),
                    r.comment,
                ]
                for r in report.ratings
            ],
            [20 * mm, 42 * mm, 50 * mm, 50 * mm, 14 * mm, WIDTH - 176 * mm],
            s["cell"],
        )
    )
    story.append(para("七、网格派单（按执法队）", "heading"))
    story.append(
        para(
            "派单数按接单期限到期时间归入统计期间；按时接单、按时报到为在期限内完成的件数；"
            "退回为执法队退回平台的件数（R-GRD-01）。",
            "body",
        )
    )
    story.append(
        _table(
            ["机关名称", "类别", *DISPATCH_HEADERS],
            [
                [a.name, KIND_ZH.get(a.kind, a.kind), *map(str, dispatch_row(a))]
                for a in report.dispatch_teams()
            ],
            [first, 26 * mm] + [(WIDTH - first - 26 * mm) / 5] * 5,
            s["cell"],
        )
    )

    out = io.BytesIO()
    doc: Any = SimpleDocTemplate(
        out,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author="Liandong 联动",
        creator="Liandong 联动",
        invariant=1,
    )
    doc.build(story)
    return out.getvalue()
