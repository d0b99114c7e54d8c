"""kernel.documents and its PDF adapter (kernel.adapters.official_pdf): official-document
PDFs (GB/T 9704 layout) for every service's letters."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

import pytest

from kernel.adapters import official_pdf as documents
from kernel.adapters.official_pdf import render_pdf
from kernel.documents import FontsMissingError, Heading, OfficialDocument, chinese_date
from tests.fixtures.pdf import pdftotext


def _letter(**over: object) -> OfficialDocument:
    base: dict[str, object] = {
        "title": "关于请求协助调查取证的函",
        "issuing_agency": "寒葱沟镇人民政府",
        "date": date(2026, 11, 29),
        "number": "寒政协〔2026〕3号",
        "addressees": ("抚远市自然资源局",),
        "body": (
            "我镇在查处一起非法占用耕地案件中，需你局协助认定土地性质。",
            Heading("一、协助事项"),
            "请于五个工作日内出具书面认定意见。" * 20,
        ),
        "attachments": ("现场勘验笔录", "位置示意图"),
        "copy_to": ("抚远市司法局",),
        "note": "（联系人：王五，电话：0454-1234567）",
    }
    base.update(over)
    return OfficialDocument(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (date(2026, 11, 29), "二〇二六年十一月二十九日"),
        (date(2026, 1, 10), "二〇二六年一月十日"),
        (date(2030, 12, 31), "二〇三〇年十二月三十一日"),
        (date(2027, 10, 5), "二〇二七年十月五日"),
    ],
)
def test_dates_are_written_in_chinese_numerals(day: date, text: str) -> None:
    assert chinese_date(day) == text


def test_a_letter_renders_as_a4_pdf_with_its_text(tmp_path: Path) -> None:
    pdf = render_pdf(_letter())
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True)
    assert "(A4)" in info.stdout
    text = pdftotext(path)
    flat = "".join(text.split())
    for part in (
        "寒葱沟镇人民政府",
        "寒政协〔2026〕3号",
        "关于请求协助调查取证的函",
        "抚远市自然资源局：",
        "一、协助事项",
        "附件：1.现场勘验笔录",
        "2.位置示意图",
        "二〇二六年十一月二十九日",  # 〇 comes from the heading face (the body face lacks it)
        "（联系人：王五，电话：0454-1234567）",
        "抄送：抚远市司法局。",
        "—1—",
    ):
        assert part in flat, (part, text)


def test_output_is_deterministic_so_its_hash_can_be_signed() -> None:
    assert render_pdf(_letter()) == render_pdf(_letter())
    assert render_pdf(_letter()) != render_pdf(_letter(number="寒政协〔2026〕4号"))


def test_body_lines_hold_28_characters_on_a_156_mm_type_area() -> None:
    # GB/T 9704: 28 characters of 三号 per line, 22 lines per page.
    assert pytest.approx(156 * 72 / 25.4) == documents.CHARS_PER_LINE * documents.CHAR_WIDTH
    assert pytest.approx(225 * 72 / 25.4) == documents.LINES_PER_PAGE * documents.LEADING
    assert documents.BODY_SIZE == 16.0


def test_missing_fonts_name_the_install_script(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "BODY_FONT_FILES", (Path("/nonexistent/song.ttf"),))
    documents._fonts.cache_clear()
    try:
        with pytest.raises(FontsMissingError) as err:
            render_pdf(_letter())
        assert "scripts/infra/fonts.sh" in str(err.value)
        assert "fonts-arphic-gbsn00lp" in str(err.value)
    finally:
        monkeypatch.undo()
        documents._fonts.cache_clear()


def _text(pdf: bytes, tmp_path: Path, *pages: int) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    select = ["-f", str(pages[0]), "-l", str(pages[-1])] if pages else []
    return pdftotext(path, *select)


def _pages(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True)
    return int(next(x for x in info.stdout.splitlines() if x.startswith("Pages:")).split()[1])


@pytest.mark.parametrize("mark", list("，。；：、）」？！”》"))
def test_no_line_starts_with_closing_punctuation(mark: str, tmp_path: Path) -> None:
    """禁则: 25 characters fill the first line after the two-character indent, so the mark
    would start the second line; it hangs at the end of the first instead (in a one-face
    paragraph and in one that mixes faces, which reportlab breaks with another routine)."""
    body = ("一" * 25 + mark + "二" * 10, "〇" + "三" * 24 + mark + "四" * 10)
    lines = _text(render_pdf(_letter(body=body)), tmp_path).splitlines()
    assert "一" * 25 + mark in lines and "〇" + "三" * 24 + mark in lines, lines
    assert not [line for line in lines if line and line[0] in documents.CANNOT_START_LINE], lines


@pytest.mark.parametrize("attachments", [(), ("现场勘验笔录", "位置示意图")])
def test_signature_never_stands_alone_on_a_page(
    attachments: tuple[str, ...], tmp_path: Path
) -> None:
    """For every length of body around a page break, the page carrying the 落款 (and the
    附件 note before it) also carries body text: the last lines move over with it."""
    broke = False
    for n in range(8, 22):
        paragraphs = tuple(f"第{k}段" + "文" * 20 for k in range(n))
        letter = _letter(body=paragraphs, attachments=attachments, copy_to=(), note="")
        pdf = render_pdf(letter)
        pages = _pages(pdf, tmp_path)
        last = "".join(_text(pdf, tmp_path, pages).split())
        assert "寒葱沟镇人民政府" in last, (n, last)
        assert f"第{n - 1}段" in last, (n, last)  # the last paragraph is there too
        broke = broke or pages > 1
    assert broke, "no length crossed a page break; the test proves nothing"


def test_signature_keeps_the_last_lines_of_a_long_last_paragraph(tmp_path: Path) -> None:
    """A last paragraph that ends near the foot of page 1: it is split and its last lines go
    over with the 落款, the rest stays on page 1."""
    for n in range(30, 60, 3):
        body = ("开头。", "长" * (26 + 27 * n // 4) + "尾。")
        pdf = render_pdf(_letter(body=body, attachments=(), copy_to=(), note=""))
        pages = _pages(pdf, tmp_path)
        last = "".join(_text(pdf, tmp_path, pages).split())
        assert "尾。" in last and "寒葱沟镇人民政府" in last
        if pages > 1:
            assert last.index("长") < last.index("寒葱沟镇人民政府"), last


def _minutes(**over: object) -> documents.MinutesDocument:
    base: dict[str, object] = {
        "mark": "城郊违法建设查处专题协调会会议纪要",
        "issuing_agency": "抚远市市场监督管理局",
        "date": date(2026, 3, 16),
        "number": "抚市监纪〔2026〕3号",
        "body": (
            "2026年3月16日，抚远市市场监督管理局召开城郊违法建设查处专题协调会。",
            Heading("一、议定事项"),
            "会议明确由住房和城乡建设局牵头查处，自然资源局配合测量。",
        ),
        "present": ("抚远市市场监督管理局", "抚远市住房和城乡建设局（张三）"),
        "absent": ("抚远市自然资源局",),
        "observers": ("抚远市司法局（王五）",),
        "distribute_to": ("抚远市住房和城乡建设局", "抚远市人民政府"),
    }
    base.update(over)
    return documents.MinutesDocument(**base)  # type: ignore[arg-type]


def test_R_MTG_01_minutes_in_the_gbt_9704_minutes_form(tmp_path: Path) -> None:
    """纪要 form: the red "XX会议纪要" mark on one line, the issue number, the issuing body and
    the date, no addressee, the body, then 出席 / 请假 / 列席, and 分送 in the 版记."""
    pdf = render_pdf(_minutes())
    (tmp_path / "minutes.pdf").write_bytes(pdf)
    text = _text(pdf, tmp_path)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines[0] == "城郊违法建设查处专题协调会会议纪要", lines  # one line, first
    assert lines[1] == "抚市监纪〔2026〕3号"
    path = tmp_path / "minutes.pdf"
    layout = pdftotext(path, "-layout")
    # The issuing body at the left and the date at the right of one line.
    sides = next(line for line in layout.splitlines() if "二〇二六年三月十六日" in line)
    assert sides.split() == ["抚远市市场监督管理局", "二〇二六年三月十六日"], sides
    flat = "".join(text.split())
    order = [
        "城郊违法建设查处专题协调会会议纪要",
        "抚市监纪〔2026〕3号",
        "一、议定事项",
        "出席：抚远市市场监督管理局，抚远市住房和城乡建设局（张三）",
        "请假：抚远市自然资源局",
        "列席：抚远市司法局（王五）",
        "分送：抚远市住房和城乡建设局，抚远市人民政府。",
    ]
    positions = [flat.index(part) for part in order]
    assert positions == sorted(positions), positions
    # No addressee line (主送机关) and no 抄送: minutes are distributed (分送).
    assert not [line for line in lines if line.endswith("：") and "出席" not in line]
    assert "抄送" not in flat
    assert render_pdf(_minutes()) == pdf  # deterministic


def test_R_MTG_01_minutes_attendance_wraps_under_the_first_name(tmp_path: Path) -> None:
    """出席 names that do not fit one line continue aligned after the colon, and a long mark
    still takes one line."""
    many = tuple(f"抚远市第{i}局（某某）" for i in range(8))
    mark = "抚远市城乡违法建设综合治理工作联席会议第三次会议纪要"
    pdf = render_pdf(_minutes(present=many, absent=(), observers=(), mark=mark))
    path = tmp_path / "att.pdf"
    path.write_bytes(pdf)
    layout = pdftotext(path, "-layout").splitlines()
    assert any(line.strip() == mark for line in layout), layout[:3]
    first = next(i for i, line in enumerate(layout) if "出席：" in line)
    head, cont = layout[first], layout[first + 1]
    assert cont.strip() and "：" not in cont
    # The continuation starts under the first name, right of the label.
    assert len(cont) - len(cont.lstrip()) >= head.index("出席：") + 2, (head, cont)
