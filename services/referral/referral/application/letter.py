"""The transfer letter (移送函) of a referral, as an official document (kernel.documents)."""

from __future__ import annotations

from datetime import datetime

from kernel.calendar import SHANGHAI
from kernel.documents import OfficialDocument
from referral.domain.model import MaterialKind, Referral

_KIND_NAMES = {MaterialKind.SOURCE: "案件来源材料", MaterialKind.EVIDENCE: "证据材料"}


def letter_number(referral: Referral, at: datetime) -> str:
    """发文字号: the year of issue and the referral's short id (stable per referral)."""
    return f"移送〔{at.astimezone(SHANGHAI).year}〕{referral.id[:8].upper()}号"


def transfer_letter(
    referral: Referral,
    sender_name: str,
    receiver_name: str,
    at: datetime,
    liaison: str = "",
) -> OfficialDocument:
    """The 移送函: facts, party, place, when found, matter, the materials, sender, date."""
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
        f"{m.name}（{_KIND_NAMES.get(m.kind, '材料')}）"
        for m in referral.materials
        if m.kind is not MaterialKind.TRANSFER_LETTER
    ]
    return OfficialDocument(
        title=f"关于移送{referral.title}的函",
        issuing_agency=sender_name,
        date=at.astimezone(SHANGHAI).date(),
        number=letter_number(referral, at),
        addressees=(receiver_name,),
        body=tuple(body),
        attachments=tuple(materials),
        note=f"（联系人：{liaison}）" if liaison else "",
        metadata={"subject": f"referral {referral.id}", "keywords": "移送函"},
    )
