"""Agencies (执法主体) of a district: who may act externally, and their liaison people.

Pure Python: no I/O, no framework imports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum

from coordination.domain.errors import ValidationFailed


class AgencyKind(StrEnum):
    """R-AG-01: the kinds of agency that take part in enforcement coordination."""

    TOWNSHIP = "township"  # 乡镇人民政府 / 街道办事处
    DEPARTMENT = "department"  # 市级 / 区直 业务主管部门
    APPROVAL_BUREAU = "approval_bureau"  # 集中审批部门 (行政审批局)
    JUSTICE_BUREAU = "justice_bureau"  # 司法局
    COORDINATION_BODY = "coordination_body"  # 执法协调小组 / 综合执法平台 / 政府法制机构
    GOVERNMENT = "government"  # 人民政府
    PUBLIC_SECURITY = "public_security"  # 公安机关
    PROCURATORATE = "procuratorate"  # 检察院
    COURT = "court"  # 法院
    MANAGEMENT_CENTRE = "management_centre"  # 管理服务中心 (patrol only)
    # Receive clues when a responsible unit fails to carry out a ruling or task (R-SUP-04,
    # HC #11: 向纪委监委、组织部移交线索); they take no part in enforcement itself.
    DISCIPLINE_COMMISSION = "discipline_commission"  # 纪委监委
    ORGANISATION_DEPARTMENT = "organisation_department"  # 组织部
    # A department's resident unit (派驻机构: 市场监管所, 综合行政执法中队, 司法所, 畜牧兽医站),
    # under the township's unified command and guided by its department (HC #7: "纳入镇(街道)
    # 统一指挥调度", "业务上接受部门指导"); it takes the township's dispatches (R-GRD-01).
    RESIDENT_UNIT = "resident_unit"


JUDICIAL_KINDS = frozenset({AgencyKind.PUBLIC_SECURITY, AgencyKind.PROCURATORATE, AgencyKind.COURT})


@dataclass(frozen=True)
class Liaison:
    """R-AG-03: a named liaison person (联络员 / 联系人)."""

    name: str
    phone: str
    duty: str = "referral"  # referral | joint | general


@dataclass(frozen=True)
class Agency:
    id: str
    name: str
    kind: AgencyKind
    district: str
    internal_unit: bool = False  # 内设机构 / 直属机构 / 派出机构: never acts externally (R-AG-02)
    parent_id: str | None = None
    liaisons: tuple[Liaison, ...] = field(default_factory=tuple)
    version: int = 0
    # 机关代字: what heads the agency's letter numbers (文号), e.g. 抚市监 in 抚市监〔2026〕12号;
    # "" leaves it to the issuing service's default.
    document_code: str = ""
    # A resident unit (R-AG-01): the township that commands it and the department that guides
    # it; None for every other kind.
    commanded_by_id: str | None = None
    guided_by_id: str | None = None

    @property
    def acts_externally(self) -> bool:
        return not self.internal_unit


# A number that can be dialled: digits, an optional leading +, spaces or hyphens between
# (0454-5430101, 13800000000, +86 454 543 0101), at least 7 characters.
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,}[0-9]$")


_DOCUMENT_CODE = re.compile(r"^[^\s\d〔〕\[\]()（）]{1,12}$")


def check_phone(phone: str, field: str) -> str:
    """A liaison's phone number (R-AG-03, R-JNT-03), or ValidationFailed naming ``field``."""
    text = phone.strip()
    if not _PHONE.match(text):
        raise ValidationFailed(f"{phone!r} is not a phone number", field=field, code="BAD_FORMAT")
    return text


def new_agency(
    *,
    agency_id: str,
    name: str,
    kind: str,
    district: str,
    internal_unit: bool = False,
    parent_id: str | None = None,
    liaisons: tuple[Liaison, ...] = (),
    document_code: str = "",
    commanded_by_id: str | None = None,
    guided_by_id: str | None = None,
) -> Agency:
    """Validate and build an agency; raise ValidationFailed naming the field."""
    if not agency_id.strip():
        raise ValidationFailed("agency id must not be empty", field="id", code="REQUIRED")
    if not name.strip():
        raise ValidationFailed("agency name must not be empty", field="name", code="REQUIRED")
    try:
        agency_kind = AgencyKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in AgencyKind)
        raise ValidationFailed(
            f"unknown agency kind {kind!r}; one of: {allowed}", field="kind", code="UNKNOWN_VALUE"
        ) from None
    if internal_unit and not parent_id:
        raise ValidationFailed(
            "an internal unit must name the agency it belongs to",
            field="parentId",
            code="INTERNAL_UNIT",
        )
    if parent_id == agency_id:
        raise ValidationFailed(
            "an agency cannot be its own parent", field="parentId", code="SELF_ADDRESSED"
        )
    if not liaisons and not internal_unit:
        # R-AG-03: every agency that acts externally names who to call for referrals and joint
        # work (FY (四)1, HL, CQ, HC #2); an internal unit acts through its agency.
        raise ValidationFailed(
            "name at least one liaison (联络员) with a phone number (R-AG-03)",
            field="liaisons",
            code="REQUIRED",
        )
    for i, liaison in enumerate(liaisons):
        if not liaison.name.strip() or not liaison.phone.strip():
            raise ValidationFailed(
                "a liaison needs a name and a phone number", field=f"liaisons.{i}", code="REQUIRED"
            )
        check_phone(liaison.phone, f"liaisons.{i}.phone")
    commanded = (commanded_by_id or "").strip() or None
    guided = (guided_by_id or "").strip() or None
    if agency_kind is AgencyKind.RESIDENT_UNIT:
        if commanded is None:
            raise ValidationFailed(
                "a resident unit (派驻机构) names the township that commands it (HC #7)",
                field="commandedById",
                code="REQUIRED",
            )
        if guided is None:
            raise ValidationFailed(
                "a resident unit (派驻机构) names the department that guides it (HC #7)",
                field="guidedById",
                code="REQUIRED",
            )
    elif commanded is not None or guided is not None:
        raise ValidationFailed(
            "only a resident unit (派驻机构) is commanded by a township and guided by a department",
            field="commandedById" if commanded is not None else "guidedById",
        )
    code = document_code.strip()
    if code and not _DOCUMENT_CODE.match(code):
        raise ValidationFailed(
            f"{document_code!r} is not a 机关代字 (1 to 12 characters, no brackets, digits or "
            "spaces), e.g. 抚市监",
            field="documentCode",
            code="BAD_FORMAT",
        )
    return Agency(
        id=agency_id.strip(),
        name=name.strip(),
        kind=agency_kind,
        district=district,
        internal_unit=internal_unit,
        parent_id=parent_id,
        liaisons=tuple(liaisons),
        document_code=code,
        commanded_by_id=commanded,
        guided_by_id=guided,
    )


def same_registration(a: Agency, b: Agency) -> bool:
    """True when re-registering ``b`` over ``a`` would change nothing."""
    return replace(a, version=0) == replace(b, version=0)
