"""Kinds of administrative penalty (行政处罚的种类) a referral names, and the reservation of
major ones to the department (R-CAT-03).

The vocabulary is the law's, not a district's: 《中华人民共和国行政处罚法》（2021年修订）第九条
lists the kinds; a kind is written as its code or its Chinese name, and both mean the same, so
that "吊销许可证件" typed by a clerk is as major as ``revoke_licence`` (HC #13). Which kinds are
major is the district policy's list (kernel.policy.MajorPenaltyCriteria), never this module's.
"""

from __future__ import annotations

from collections.abc import Iterable

from kernel.errors import ValidationFailed

__all__ = ["PENALTY_KINDS", "canonical_penalty_kinds", "normalize_penalty_kinds"]

#: 行政处罚法第九条: code → Chinese name. The major kinds' codes are kernel.policy.PenaltyKind's.
PENALTY_KINDS: dict[str, str] = {
    "warning": "警告",
    "public_criticism": "通报批评",
    "fine": "罚款",
    "confiscate_illegal_gains": "没收违法所得",
    "confiscate_illegal_property": "没收非法财物",
    "suspend_licence": "暂扣许可证件",
    "lower_qualification": "降低资质等级",
    "revoke_licence": "吊销许可证件",
    "restrict_business_activities": "限制开展生产经营活动",
    "order_suspend_production_or_business": "责令停产停业",
    "order_close": "责令关闭",
    "restrict_practice": "限制从业",
    "administrative_detention": "行政拘留",
    "other_by_law": "法律、行政法规规定的其他行政处罚",
}
_BY_NAME = {zh: code for code, zh in PENALTY_KINDS.items()}


def normalize_penalty_kinds(kinds: Iterable[str], *, field: str = "kinds") -> tuple[str, ...]:
    """The kinds as the law's codes (a Chinese name becomes its code); an unknown kind is a
    clear error naming the accepted ones, so a major penalty cannot hide under a spelling."""
    codes: list[str] = []
    for i, raw in enumerate(kinds):
        kind = raw.strip()
        code = kind if kind in PENALTY_KINDS else _BY_NAME.get(kind)
        if code is None:
            raise ValidationFailed(
                f"{raw!r} is not a kind of administrative penalty (行政处罚法第九条); one of: "
                + ", ".join(f"{c} ({zh})" for c, zh in PENALTY_KINDS.items()),
                field=f"{field}.{i}",
                code="UNKNOWN_VALUE",
            )
        if code not in codes:
            codes.append(code)
    return tuple(codes)


def canonical_penalty_kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    """The kinds as codes where known, as written otherwise: for reading what was stored
    before kinds were checked (a stored record is never refused)."""
    return tuple(
        k.strip() if k.strip() in PENALTY_KINDS else _BY_NAME.get(k.strip(), k.strip())
        for k in kinds
    )
