"""The transfer letter (移送函) of a referral, as an official document (kernel.documents)."""

from __future__ import annotations

from datetime import datetime

from kernel.calendar import SHANGHAI
from kernel.documents import OfficialDocument
from referral.domain.model import MaterialKind, Referral

# Extensions a material's file name carries that the 附件 line leaves out.
_EXTENSIONS = {
    ".pdf",
    ".jpg",
    ".jpeg",
    ".png",
    ".tif",
    ".tiff",
    ".mp4",
    ".mp3",
    ".doc",
    ".docx",
    ".ofd",
    ".txt",
}


def default_document_code(agency_name: str) -> str:
    """The 机关代字 when the agency's registration names none: the first two characters of
    its name and 移 (移送), e.g. 抚远移 for 抚远市市场监督管理局. An agency sets its own
    (e.g. 抚市监) in its registration (``documentCode``)."""
    return f"{agency_name.strip()[:2]}移"


def letter_number(document_code: str, year: int, number: int | None) -> str:
    """发文字号: 机关代字〔年份〕序号号, e.g. 抚市监〔2026〕12号. A draft's letter has no number
    yet (the sequence is drawn when it is issued at sending): 抚市监〔2026〕  号."""
    return f"{document_code}〔{year}〕{number if number is not None else '  '}号"


def attachment_name(name: str) -> str:
    """A material's name as the 附件 line lists it: without the file extension."""
    stem, dot, ext = name.rpartition(".")
    return stem if dot and stem and f".{ext.lower()}" in _EXTENSIONS else name


def transfer_letter(
    referral: Referral,
    sender_name: str,
    receiver_name: str,
    at: datetime,
    liaison: str = "",
    *,
    number: str = "",
) -> OfficialDocument:
    """The 移送函: facts, party, place, when found, matter, the 附件 (the referral's source
    and evidence materials, in the order they were added), sender, date. ``number`` is the
    发文字号 (blank on a draft)."""
    found = referral.found_at.astimezone(SHANGHAI)
    found_text = f"{found.year}年{found.month}月{found.day}日"
    body: list[str] = [
        f"{found_text}，我单位在{referral.place}发现{referral.party}涉嫌违法的案件线索"
        f"（事项编码：{referral.matter_code}）。经初步核查，基本事实如下：",
        referral.facts.strip(),
    ]
    if referral.ongoing is not None:
        body.append("该违法行为处于持续状态，我单位已依法责令停止违法行为并即时告知你单位。")
    body.append(
        "根据相关法律法规及本地区行政执法协调联动有关规定，该案件不属于我单位管辖，"
        "现移送你单位依法处理。请在规定期限内书面告知受理情况，并将处理结果反馈我单位。"
    )
    materials = [
        attachment_name(m.name)
        for m in referral.materials
        if m.kind is not MaterialKind.TRANSFER_LETTER
    ]
    return OfficialDocument(
        title=f"关于移送{referral.title}的函",
        issuing_agency=sender_name,
        date=at.astimezone(SHANGHAI).date(),
        number=number,
        addressees=(receiver_name,),
        body=tuple(body),
        attachments=tuple(materials),
        note=f"（联系人：{liaison}）" if liaison else "",
        metadata={"subject": f"referral {referral.id}", "keywords": "移送函"},
    )
