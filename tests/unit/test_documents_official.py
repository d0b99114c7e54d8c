"""kernel.documents: official-document PDFs (GB/T 9704 layout) for every service's letters."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

import pytest

from kernel import documents
from kernel.documents import FontsMissingError, Heading, OfficialDocument, chinese_date, render_pdf


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
    text = subprocess.run(
        ["pdftotext", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
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
