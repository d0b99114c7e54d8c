"""Chinese official documents (公文): what a letter or minutes say, and the port that lays them
out. Shared by the services that issue letters: referral (移送函) and coordination (协助执法函,
复函, 会议纪要). A service describes the document (``OfficialDocument``, ``MinutesDocument``)
and hands it to the ``DocumentRenderer`` its bootstrap injects; the layout after GB/T
9704-2012 党政机关公文格式 (reportlab, embedded CJK fonts) is the adapter
``kernel.adapters.official_pdf``. Nothing here knows a referral or a dispute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Final, Protocol

__all__ = [
    "DocumentRenderer",
    "FontsMissingError",
    "Heading",
    "MinutesDocument",
    "OfficialDocument",
    "chinese_date",
]

_DIGITS: Final = "〇一二三四五六七八九"


class FontsMissingError(RuntimeError):
    """The CJK TrueType fonts are not installed."""


@dataclass(frozen=True)
class Heading:
    """A first-level heading inside the body (一、……), set in the heading face."""

    text: str


@dataclass(frozen=True)
class OfficialDocument:
    """What a letter says; a ``DocumentRenderer`` lays it out.

    ``body`` holds paragraphs (str, one per paragraph, without the leading indent) and
    ``Heading``s. ``date`` is the 成文日期, printed in Chinese numerals.
    """

    title: str
    issuing_agency: str
    date: date
    body: Sequence[str | Heading]
    number: str = ""  # 发文字号, e.g. 富市监移〔2026〕12号
    addressees: Sequence[str] = ()  # 主送机关
    attachments: Sequence[str] = ()  # 附件 names
    copy_to: Sequence[str] = ()  # 抄送机关
    note: str = ""  # 附注, e.g. （联系人：张三，电话：…）
    agency_mark: str | None = None  # 发文机关标志; the issuing agency when None
    metadata: dict[str, str] = field(default_factory=dict)  # PDF title/subject/keywords


@dataclass(frozen=True)
class MinutesDocument:
    """Meeting minutes (会议纪要) in the 纪要 form of GB/T 9704 §10.3; a ``DocumentRenderer``
    lays them out.

    ``mark`` is the red 纪要标志, e.g. 违法建设查处专题协调会会议纪要; ``number`` the issue
    line under it (e.g. 第3期 or a 文号). ``present`` / ``absent`` / ``observers`` are the
    出席 / 请假 / 列席 lines, one entry per agency or person; ``distribute_to`` the 分送 line.
    """

    mark: str
    issuing_agency: str
    date: date
    body: Sequence[str | Heading]
    number: str = ""
    present: Sequence[str] = ()  # 出席
    absent: Sequence[str] = ()  # 请假
    observers: Sequence[str] = ()  # 列席
    distribute_to: Sequence[str] = ()  # 分送
    metadata: dict[str, str] = field(default_factory=dict)


def chinese_date(day: date) -> str:
    """二〇二六年十一月二十九日: the year digit by digit, month and day as numbers."""

    def number(n: int) -> str:
        if n < 10:
            return _DIGITS[n]
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")

    year = "".join(_DIGITS[int(d)] for d in f"{day.year:04d}")
    return f"{year}年{number(day.month)}月{number(day.day)}日"


class DocumentRenderer(Protocol):
    """Lays a document out as PDF bytes; the same description always gives the same bytes
    (so the SHA-256 of a letter can stand for its content, e.g. in a signature)."""

    def __call__(self, document: OfficialDocument | MinutesDocument) -> bytes: ...
