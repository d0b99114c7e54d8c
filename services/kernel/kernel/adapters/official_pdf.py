"""Chinese official documents (公文) as PDF, laid out after GB/T 9704-2012 党政机关公文格式: the
adapter behind ``kernel.documents.DocumentRenderer`` (``render_pdf``), which each service's
bootstrap injects. The documents themselves are described by ``kernel.documents``.

Layout (GB/T 9704 §5, §7)
    A4; 天头 (top margin) 37 mm, 订口 (left margin) 28 mm, 版心 (type area) 156 × 225 mm.
    Body text 三号 (16 pt) in a 仿宋/宋体-like face, 28 characters per line, 22 lines per
    page: the line pitch is 225 mm / 22 ≈ 29 pt. Title 二号 (22 pt) in a 黑体/小标宋-like
    face, centred. 版头: the issuing agency's mark (发文机关标志) in red, the document number
    (发文字号) centred under it and the red separator line (红色分隔线). Then the addressees
    (主送机关), body paragraphs indented two characters, attachments (附件), the issuing
    agency (落款) and date (成文日期, in Chinese numerals, four characters from the right
    edge), a note (附注, e.g. the contact person) and the 版记 with the copy-to line (抄送) at
    the foot of the last page. Page numbers "— 1 —" in 四号 under the type area, odd pages
    at the right, even pages at the left.

Minutes (纪要, GB/T 9704 §10.3)
    ``MinutesDocument`` has its own 版头: the red 纪要标志 "XX会议纪要" (sized to one line), the
    issue number (期号 / 文号) centred under it, the issuing body at the left and the date at
    the right of the next line, the red separator line. No addressee (主送机关) and no
    signature: the body follows, then, one line below it and two characters in, the
    attendance lines "出席：" / "请假：" / "列席：" (the label in the heading face, the names
    aligned after the colon when they wrap), and the 版记 with the 分送 line at the foot of
    the last page.

Line breaking (禁则)
    A line never starts with closing punctuation (GB/T 15834 标点符号用法: 句号、逗号、顿号、
    分号、冒号、问号、叹号 and closing quotes, brackets and title marks are not set at the
    head of a line): such a mark hangs at the end of the previous line instead. reportlab's
    CJK line breakers do this for the marks in their ``ALL_CANNOT_START`` lists, which lack
    the full-width comma, semicolon, colon, question and exclamation marks, closing quotes
    and 》; they are added once at import (it only makes reportlab's CJK breaking more
    correct, for any other user of reportlab in the process too).

Signature (落款)
    The issuing agency and the date are never left alone on a page: when they do not fit
    under the last paragraph, the paragraph's last lines go over with them (GB/T 9704 7.3.5
    lets the layout be adjusted so that the 落款 stays with the text).

Fonts
    reportlab embeds TrueType outlines only; Debian's widely installed fonts-noto-cjk is CFF
    (OpenType/PostScript), which reportlab cannot embed. So the body uses AR PL SungtiL GB
    (文鼎ＰＬ简报宋, package fonts-arphic-gbsn00lp, GB glyph shapes) and the title and
    headings WenQuanYi Zen Hei (文泉驿正黑, fonts-wqy-zenhei). Characters the body face lacks
    (it has no 〇, needed in every date) are drawn from the heading face. The packages are
    installed by ``scripts/infra/fonts.sh`` and the runtime stage of ``deploy/Dockerfile``.

Output is deterministic (reportlab's invariant mode: no creation time or random document
id), so the same description always gives the same bytes and the SHA-256 of a letter can
stand for its content, e.g. in an electronic signature.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib import textsplit as _reportlab_textsplit
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Paragraph, Spacer
from reportlab.platypus import paragraph as _reportlab_paragraph

from kernel.documents import (
    FontsMissingError,
    Heading,
    MinutesDocument,
    OfficialDocument,
    chinese_date,
)

__all__ = [
    "BODY_FONT_FILES",
    "CANNOT_START_LINE",
    "HEADING_FONT_FILES",
    "render_pdf",
]

# Where Debian puts the packages' files (the first existing one is used).
BODY_FONT_FILES: Final = (Path("/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf"),)
HEADING_FONT_FILES: Final = (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),)
FONT_PACKAGES: Final = ("fonts-arphic-gbsn00lp", "fonts-wqy-zenhei")

BODY: Final = "LiandongSong"
HEADING: Final = "LiandongHei"

# GB/T 9704 measures, in points.
TOP = 37 * mm
LEFT = 28 * mm
TYPE_WIDTH = 156 * mm
TYPE_HEIGHT = 225 * mm
BODY_SIZE = 16.0  # 三号
TITLE_SIZE = 22.0  # 二号
SMALL_SIZE = 14.0  # 四号: page numbers, 版记
LINES_PER_PAGE = 22
CHARS_PER_LINE = 28
LEADING = TYPE_HEIGHT / LINES_PER_PAGE  # ≈ 28.99 pt
# 28 characters exactly fill the line when each one is 156 mm / 28 wide.
CHAR_WIDTH = TYPE_WIDTH / CHARS_PER_LINE
RED = colors.Color(0.85, 0.0, 0.0)


# Marks that never start a line (GB/T 15834-2011 标点符号用法 4.x / 5.1.1 and the usual 禁则
# of Chinese typesetting): they hang at the end of the line before.
CANNOT_START_LINE: Final = "，。、；：？！”’）］｝】》〉」』〕％"
# reportlab's two CJK breakers read a module global at every line break: ``wordSplit`` in
# textsplit (a paragraph in one face) and ``cjkFragSplit`` in paragraph (mixed faces).
for _module in (_reportlab_textsplit, _reportlab_paragraph):
    _module.ALL_CANNOT_START += "".join(
        ch for ch in CANNOT_START_LINE if ch not in _module.ALL_CANNOT_START
    )


def _first_existing(paths: Sequence[Path]) -> Path | None:
    return next((p for p in paths if p.is_file()), None)


@functools.cache
def _fonts() -> frozenset[int]:
    """Register the two faces once; return the code points the body face has."""
    body = _first_existing(BODY_FONT_FILES)
    heading = _first_existing(HEADING_FONT_FILES)
    if body is None or heading is None:
        missing = [str(p) for p in (*BODY_FONT_FILES, *HEADING_FONT_FILES) if not p.is_file()]
        raise FontsMissingError(
            "Chinese TrueType fonts for official documents are missing ("
            + ", ".join(missing)
            + "); install the Debian packages "
            + " ".join(FONT_PACKAGES)
            + " with scripts/infra/fonts.sh (deploy/Dockerfile installs them in the image)"
        )
    body_font = TTFont(BODY, str(body))
    pdfmetrics.registerFont(body_font)
    pdfmetrics.registerFont(TTFont(HEADING, str(heading), subfontIndex=0))
    return frozenset(body_font.face.charToGlyph)


def _markup(text: str, covered: frozenset[int]) -> str:
    """Escaped paragraph markup; characters the body face lacks come from the other face."""
    out: list[str] = []
    for ch in text:
        piece = escape(ch)
        if ord(ch) not in covered and not ch.isspace():
            piece = f'<font face="{HEADING}">{piece}</font>'
        out.append(piece)
    return "".join(out)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle(
        "body",
        fontName=BODY,
        fontSize=BODY_SIZE,
        leading=LEADING,
        alignment=TA_JUSTIFY,
        wordWrap="CJK",
        firstLineIndent=2 * CHAR_WIDTH,
    )
    return {
        "body": base,
        "flush": ParagraphStyle("flush", parent=base, firstLineIndent=0, alignment=TA_LEFT),
        "heading": ParagraphStyle("heading", parent=base, fontName=HEADING),
        "title": ParagraphStyle(
            "title",
            parent=base,
            fontName=HEADING,
            fontSize=TITLE_SIZE,
            leading=LEADING * 1.25,
            alignment=TA_CENTER,
            firstLineIndent=0,
        ),
        "number": ParagraphStyle("number", parent=base, alignment=TA_CENTER, firstLineIndent=0),
        "mark": ParagraphStyle(
            "mark",
            parent=base,
            fontName=HEADING,
            fontSize=30,
            leading=40,
            alignment=TA_CENTER,
            firstLineIndent=0,
            textColor=RED,
        ),
        "right": ParagraphStyle(
            "right",
            parent=base,
            alignment=TA_RIGHT,
            firstLineIndent=0,
            rightIndent=4 * CHAR_WIDTH,
        ),
        "attachment": ParagraphStyle(
            "attachment",
            parent=base,
            alignment=TA_LEFT,
            firstLineIndent=-3 * CHAR_WIDTH,
            leftIndent=5 * CHAR_WIDTH,
        ),
        # 出席：/ 请假：/ 列席： two characters in; wrapped names align after the colon.
        "attendance": ParagraphStyle(
            "attendance",
            parent=base,
            alignment=TA_LEFT,
            firstLineIndent=-3 * CHAR_WIDTH,
            leftIndent=5 * CHAR_WIDTH,
        ),
        "attachment-more": ParagraphStyle(
            "attachment-more",
            parent=base,
            alignment=TA_LEFT,
            firstLineIndent=0,
            leftIndent=5 * CHAR_WIDTH,
        ),
    }


class _Rule(Flowable):  # type: ignore[misc]  # reportlab is untyped
    """A horizontal line across the type area (the red separator line)."""

    def __init__(self, width: float, thickness: float, color: Any, space: float) -> None:
        super().__init__()
        self.width_ = width
        self.thickness = thickness
        self.color = color
        self.space = space

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width_, self.space

    def draw(self) -> None:
        self.canv.setStrokeColor(self.color)
        self.canv.setLineWidth(self.thickness)
        y = self.space / 2
        self.canv.line(0, y, self.width_, y)


class _Colophon(Flowable):  # type: ignore[misc]
    """The 版记 (copy-to line between two rules), pushed to the foot of the page."""

    def __init__(self, copy_to: str, covered: frozenset[int], label: str = "抄送") -> None:
        super().__init__()
        self.para = Paragraph(
            _markup(f"{label}：{copy_to}。", covered),
            ParagraphStyle(
                "colophon",
                fontName=BODY,
                fontSize=SMALL_SIZE,
                leading=SMALL_SIZE * 1.5,
                wordWrap="CJK",
                leftIndent=CHAR_WIDTH * SMALL_SIZE / BODY_SIZE,
                rightIndent=CHAR_WIDTH * SMALL_SIZE / BODY_SIZE,
            ),
        )
        self.block = 0.0
        self.height_ = 0.0

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        _, text_height = self.para.wrap(avail_width, avail_height)
        self.block = text_height + 8
        # Taking all the space left puts the block on the page's last lines; when it does
        # not fit, platypus moves it to a new page, where it again sits at the foot.
        self.height_ = max(avail_height, self.block)
        self.width_ = avail_width
        return avail_width, self.height_

    def draw(self) -> None:
        c = self.canv
        c.setStrokeColor(colors.black)
        c.setLineWidth(0.75)
        c.line(0, self.block, self.width_, self.block)
        c.setLineWidth(0.5)
        c.line(0, 0, self.width_, 0)
        self.para.drawOn(c, 0, 4)


class _KeepTail(Flowable):  # type: ignore[misc]
    """The last paragraph with the 落款 under it, so that the 落款 never stands alone at the
    top of a page: when both do not fit, the paragraph's last lines go to the next page with
    it (at least ``_TAIL_LINES``), the rest stays."""

    def __init__(self, last: Flowable, tail: Sequence[Flowable]) -> None:
        super().__init__()
        self.last = last
        self.tail = list(tail)
        self.last_height = 0.0
        self.tail_height = 0.0

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        _, self.last_height = self.last.wrap(avail_width, avail_height)
        self.tail_height = sum(f.wrap(avail_width, avail_height)[1] for f in self.tail)
        self.width_ = avail_width
        return avail_width, self.last_height + self.tail_height

    def draw(self) -> None:
        y = self.last_height + self.tail_height
        for f in (self.last, *self.tail):
            _, h = f.wrap(self.width_, y)
            y -= h
            f.drawOn(self.canv, 0, y)

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        self.wrap(avail_width, avail_height)
        # The part of the paragraph that may stay here: what leaves room for nothing below,
        # less the lines that must go over with the 落款.
        stays = min(avail_height, self.last_height - _TAIL_LINES * LEADING)
        if stays < LEADING:  # not even one line would stay: all of it moves on
            return []
        parts = self.last.split(avail_width, stays + 1)
        if len(parts) != 2:
            return []
        return [parts[0], _KeepTail(parts[1], self.tail)]


_TAIL_LINES = 2


def _page_number(canvas: Any, doc: Any) -> None:
    """— N — under the type area: odd pages at the right, even pages at the left."""
    n = canvas.getPageNumber()
    text = f"— {n} —"
    canvas.saveState()
    canvas.setFont(BODY, SMALL_SIZE)
    y = A4[1] - TOP - TYPE_HEIGHT - 7 * mm - SMALL_SIZE
    width = canvas.stringWidth(text, BODY, SMALL_SIZE)
    x = LEFT + TYPE_WIDTH - CHAR_WIDTH - width if n % 2 else LEFT + CHAR_WIDTH
    canvas.drawString(x, y, text)
    canvas.restoreState()


def render_pdf(document: OfficialDocument | MinutesDocument) -> bytes:
    """The document as PDF bytes (deterministic for the same description)."""
    covered = _fonts()
    if isinstance(document, MinutesDocument):
        story = _minutes_story(document, covered)
        title = document.metadata.get("title", document.mark)
    else:
        story = _letter_story(document, covered)
        title = document.metadata.get("title", document.title)
    return _build(
        story,
        title=title,
        author=document.issuing_agency,
        subject=document.metadata.get("subject", document.number),
        keywords=document.metadata.get("keywords", ""),
    )


class _Para:
    """Paragraph factory bound to the registered faces and the styles."""

    def __init__(self, covered: frozenset[int]) -> None:
        self.covered = covered
        self.styles = _styles()

    def __call__(self, text: str, style: str | ParagraphStyle) -> Paragraph:
        chosen = self.styles[style] if isinstance(style, str) else style
        return Paragraph(_markup(text, self.covered), chosen)

    def body(self, items: Sequence[str | Heading]) -> list[Flowable]:
        return [
            self(item.text, "heading") if isinstance(item, Heading) else self(item, "body")
            for item in items
        ]


def _letter_story(document: OfficialDocument, covered: frozenset[int]) -> list[Flowable]:
    para = _Para(covered)
    story: list[Flowable] = [
        para(document.agency_mark or document.issuing_agency, "mark"),
        Spacer(1, LEADING * 0.5),
    ]
    if document.number:
        story.append(para(document.number, "number"))
    # GB/T 9704 7.2.5: the red line 4 mm under the number; the title two lines below it.
    story += [_Rule(TYPE_WIDTH, 1.5, RED, 4 * mm * 2), Spacer(1, LEADING)]
    story += [para(document.title, "title"), Spacer(1, LEADING)]
    if document.addressees:
        story.append(para("、".join(document.addressees) + "：", "flush"))
    story += para.body(document.body)
    closing: list[Flowable] = []  # the 附件 note and the 落款, kept with the last paragraph
    if document.attachments:
        closing.append(Spacer(1, LEADING))
        many = len(document.attachments) > 1
        for i, name in enumerate(document.attachments, start=1):
            number = f"{i}. " if many else ""
            if i == 1:
                closing.append(para(f"附件：{number}{name}", "attachment"))
            else:  # later items align with the first one's number
                closing.append(para(f"{number}{name}", "attachment-more"))
    # 落款: the agency centred over the date, the date four characters from the right.
    date_text = chinese_date(document.date)
    agency_width = pdfmetrics.stringWidth(document.issuing_agency, BODY, BODY_SIZE)
    date_width = pdfmetrics.stringWidth(date_text, BODY, BODY_SIZE)
    date_centre = TYPE_WIDTH - 4 * CHAR_WIDTH - date_width / 2
    signer_style = ParagraphStyle(
        "signer-placed",
        parent=para.styles["flush"],
        leftIndent=max(0.0, date_centre - agency_width / 2),
    )
    closing += [
        Spacer(1, LEADING * 2),
        para(document.issuing_agency, signer_style),
        para(date_text, "right"),
    ]
    # The 落款 travels with the last paragraph (never alone at the top of a page).
    if document.body and isinstance(story[-1], Paragraph):
        story[-1] = _KeepTail(story[-1], closing)
    else:
        story += closing
    if document.note:
        story.append(para(document.note, "body"))
    if document.copy_to:
        story.append(_Colophon("，".join(document.copy_to), covered))
    return story


# The 纪要标志 is set in 小初 (36 pt), smaller when the name is long, so that it stays on one
# line (GB/T 9704 §10.3: 居中排布; the size is left to the issuer), but not below the body
# size: a name of more than 27 characters wraps.
_MINUTES_MARK_MAX = 36.0
_MINUTES_MARK_MIN = BODY_SIZE


def _minutes_story(document: MinutesDocument, covered: frozenset[int]) -> list[Flowable]:
    para = _Para(covered)
    base = para.styles["mark"]
    fits = TYPE_WIDTH / (len(document.mark) + 0.5)  # a CJK character is one em wide
    size = max(_MINUTES_MARK_MIN, min(_MINUTES_MARK_MAX, fits))
    mark_style = ParagraphStyle("minutes-mark", parent=base, fontSize=size, leading=size * 1.3)
    story: list[Flowable] = [para(document.mark, mark_style), Spacer(1, LEADING * 0.5)]
    if document.number:
        story.append(para(document.number, "number"))
    # The issuing body at the left, the date at the right, on the line above the red rule.
    story.append(
        _SidesLine(
            para(document.issuing_agency, "flush"),
            para(chinese_date(document.date), "flush"),
            right_width=pdfmetrics.stringWidth(chinese_date(document.date), BODY, BODY_SIZE),
        )
    )
    story += [_Rule(TYPE_WIDTH, 1.5, RED, 4 * mm * 2), Spacer(1, LEADING)]
    story += para.body(document.body)
    attendance = [
        (label, names)
        for label, names in (
            ("出席", document.present),
            ("请假", document.absent),
            ("列席", document.observers),
        )
        if names
    ]
    if attendance:  # GB/T 9704 §10.3: one empty line under the body, two characters in
        story.append(Spacer(1, LEADING))
    for label, names in attendance:
        text = f'<font face="{HEADING}">{label}：</font>' + _markup("，".join(names), covered)
        story.append(Paragraph(text, para.styles["attendance"]))
    if document.distribute_to:
        story.append(_Colophon("，".join(document.distribute_to), covered, label="分送"))
    return story


class _SidesLine(Flowable):  # type: ignore[misc]
    """One line with a text at the left and another flush right (版头 of the minutes)."""

    def __init__(self, left: Paragraph, right: Paragraph, right_width: float) -> None:
        super().__init__()
        self.left = left
        self.right = right
        self.right_width = right_width
        self.width_ = 0.0

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width_ = avail_width
        return avail_width, LEADING

    def draw(self) -> None:
        self.left.wrap(self.width_ - self.right_width - CHAR_WIDTH, LEADING)
        self.left.drawOn(self.canv, 0, 0)
        self.right.wrap(self.right_width + 1, LEADING)
        self.right.drawOn(self.canv, self.width_ - self.right_width - 1, 0)


def _build(story: list[Flowable], *, title: str, author: str, subject: str, keywords: str) -> bytes:
    out = io.BytesIO()
    bottom = A4[1] - TOP - TYPE_HEIGHT
    template = BaseDocTemplate(
        out,
        pagesize=A4,
        leftMargin=LEFT,
        rightMargin=A4[0] - LEFT - TYPE_WIDTH,
        topMargin=TOP,
        bottomMargin=bottom,
        title=title,
        author=author,
        subject=subject,
        keywords=keywords,
        creator="Liandong 联动",
        invariant=1,
    )
    # No frame padding (platypus' default is 6 pt a side): GB/T 9704's type area is exact.
    # The frame is a little taller than 22 lines so that the 22nd line's descenders fit.
    frame = Frame(
        LEFT,
        bottom - 6,
        TYPE_WIDTH,
        TYPE_HEIGHT + 6,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="type-area",
    )
    template.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=_page_number)])
    template.build(story)
    return out.getvalue()
