"""Copy-to rules (抄告, R-NTF-01…03): what a reported or published fact puts in whose inbox.
Pure Python.

Every copy is an ordinary inbox item, so it has a receipt (签收) and, unread past the
notice limit, escalates like any other notice (R-NTF-04). Item ids derive from the event
that carried the fact, so a redelivered event (or a mutation repaired by its own event)
collides instead of duplicating.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from kernel.errors import Forbidden, ValidationFailed
from notify.domain.model import CHINA, InboxItem, item_id

# Agency kinds (coordination's AgencyKind values) allowed to report approvals: departments
# and the centralised approval bureau (行政审批局).
APPROVING_KINDS = frozenset({"department", "approval_bureau"})
HazardKind = Literal["hazard", "hotspot"]
HAZARD_KINDS: tuple[HazardKind, ...] = ("hazard", "hotspot")
_TEXT_LIMIT = 2000


def _required(value: str, field: str, what: str) -> str:
    text = value.strip()
    if not text:
        raise ValidationFailed(f"{what} is required", field=field, code="REQUIRED")
    if len(text) > _TEXT_LIMIT:
        raise ValidationFailed(
            f"{what} is longer than {_TEXT_LIMIT} characters", field=field, code="TOO_LONG"
        )
    return text


def _when(at: datetime) -> str:
    return at.astimezone(CHINA).strftime("%Y年%m月%d日 %H:%M")


# -- R-NTF-01: approvals (行政审批) ------------------------------------------------------------


@dataclass(frozen=True)
class ApprovalReport:
    """A department's administrative approval, reported to be copied to the township."""

    number: str
    matter_code: str
    township_id: str
    summary: str
    urgent: bool

    def validated(self, *, reporter_kind: str | None, township_kind: str | None) -> ApprovalReport:
        if reporter_kind not in APPROVING_KINDS:
            raise Forbidden(
                "only a department or the approval bureau reports approvals",
                code="AGENCY_KIND_NOT_ALLOWED",
            )
        if township_kind != "township":
            raise ValidationFailed(
                f"{self.township_id!r} is not a known township",
                field="input.townshipId",
                code="AGENCY_NOT_REGISTERED",
            )
        return ApprovalReport(
            number=_required(self.number, "input.number", "the approval number"),
            matter_code=_required(self.matter_code, "input.matterCode", "the matter code"),
            township_id=self.township_id,
            summary=_required(self.summary, "input.summary", "the summary"),
            urgent=self.urgent,
        )


def approval_copied(
    *,
    event_id: str,
    report_id: str,
    report: ApprovalReport,
    department_name: str,
    matter_name: str,
    at: datetime,
) -> InboxItem:
    prefix = "【紧急】" if report.urgent else ""
    urgency = "，情况紧急，请立即签收并跟进监管" if report.urgent else "，请签收并做好属地监管衔接"
    return InboxItem(
        id=item_id(event_id, report.township_id),
        agency_id=report.township_id,
        kind="copy.approval",
        title=f"{prefix}审批抄告：{matter_name}（{report.number}）",
        body=(
            f"{department_name}于{_when(at)}作出行政审批（{report.number}，事项{report.matter_code}"
            f"“{matter_name}”）：{report.summary}。现抄告你单位{urgency}。"
        ),
        subject_type="ApprovalReport",
        subject_id=report_id,
        source_event_id=event_id,
        created_at=at,
        urgent=report.urgent,
    )


# -- R-NTF-01: penalty decisions copied for the record (备案) --------------------------------


def penalty_copied(
    *,
    event_id: str,
    referral_id: str,
    department_id: str,
    township_name: str,
    matter_code: str,
    decision_number: str,
    kinds: list[str],
    fine_yuan: int | None,
    at: datetime,
) -> InboxItem:
    what = "、".join(kinds) if kinds else "行政处罚"
    fine = f"，罚款{fine_yuan}元" if fine_yuan else ""
    return InboxItem(
        id=item_id(event_id, department_id),
        agency_id=department_id,
        kind="copy.penalty_decision",
        title=f"处罚决定抄告备案：{decision_number}",
        body=(
            f"{township_name}于{_when(at)}作出行政处罚决定（{decision_number}，事项{matter_code}，"
            f"{what}{fine}），现抄告你单位备案。"
        ),
        subject_type="Referral",
        subject_id=referral_id,
        source_event_id=event_id,
        created_at=at,
    )


def penalty_copy_addressee(
    *,
    actor_agency_kind: str | None,
    actor_agency_id: str,
    sender_id: str,
    receiver_id: str,
    owning_department_id: str | None,
) -> str | None:
    """The department a township's penalty decision is copied to; None when no copy is due
    (the decision is not a township's, or there is nobody else to copy it to)."""
    if actor_agency_kind != "township":
        return None
    if owning_department_id and owning_department_id != actor_agency_id:
        return owning_department_id
    # The catalogue does not know the matter: the other party of the referral is the
    # department the case came from or went to.
    other = receiver_id if actor_agency_id == sender_id else sender_id
    return other if other and other != actor_agency_id else None


@dataclass(frozen=True)
class PenaltyDecisionReport:
    """R-NTF-01: a township's penalty decision on a case of its own (not born from a
    referral), reported so that it is copied to the department for the record (备案)."""

    decision_number: str
    matter_code: str
    party: str
    kinds: tuple[str, ...]
    fine_yuan: int | None
    summary: str

    def validated(self, *, reporter_kind: str | None) -> PenaltyDecisionReport:
        if reporter_kind != "township":
            raise Forbidden(
                "only a township copies its own penalty decisions for the record",
                code="AGENCY_KIND_NOT_ALLOWED",
            )
        if self.fine_yuan is not None and self.fine_yuan < 0:
            raise ValidationFailed(
                "a fine cannot be negative", field="input.fineYuan", code="OUT_OF_RANGE"
            )
        kinds = tuple(k.strip() for k in self.kinds if k.strip())
        if not kinds:
            raise ValidationFailed(
                "name the kinds of penalty decided (e.g. 警告, 罚款)",
                field="input.kinds",
                code="REQUIRED",
            )
        return PenaltyDecisionReport(
            decision_number=_required(
                self.decision_number, "input.decisionNumber", "the decision number (文号)"
            ),
            matter_code=_required(self.matter_code, "input.matterCode", "the matter code"),
            party=_required(self.party, "input.party", "the party (当事人)"),
            kinds=kinds,
            fine_yuan=self.fine_yuan,
            summary=self.summary.strip()[:_TEXT_LIMIT],
        )


def penalty_decision_reported(
    *,
    event_id: str,
    report_id: str,
    report: PenaltyDecisionReport,
    department_id: str,
    township_name: str,
    matter_name: str,
    at: datetime,
) -> InboxItem:
    """The department's copy (抄告备案) of a township's own penalty decision."""
    fine = f"，罚款{report.fine_yuan}元" if report.fine_yuan else ""
    summary = f"。案情：{report.summary}" if report.summary else ""
    return InboxItem(
        id=item_id(event_id, department_id),
        agency_id=department_id,
        kind="copy.penalty_decision",
        title=f"处罚决定抄告备案：{report.decision_number}",
        body=(
            f"{township_name}于{_when(at)}对{report.party}作出行政处罚决定（{report.decision_number}，"
            f"事项{report.matter_code}“{matter_name}”，{'、'.join(report.kinds)}{fine}）"
            f"{summary}，现抄告你单位备案。"
        ),
        subject_type="PenaltyDecision",
        subject_id=report_id,
        source_event_id=event_id,
        created_at=at,
    )


# -- R-NTF-02: changes of legal bases announced to the townships ------------------------------


def catalogue_change_announced(
    *,
    event_id: str,
    township_id: str,
    code: str,
    name: str,
    version: int,
    change: str,
    summary_zh: str,
    at: datetime,
) -> InboxItem:
    return InboxItem(
        id=item_id(event_id, township_id),
        agency_id=township_id,
        kind="notice.catalogue_change",
        title=f"依据变更通知：{name}（{code}）",
        body=(
            f"事项{code}“{name}”的法律依据、标准或解释已变更（第{version}版，{change}）："
            f"{summary_zh}。请签收并按新依据执行。"
        ),
        subject_type="CatalogueEntry",
        subject_id=code,
        source_event_id=event_id,
        created_at=at,
    )


# -- R-NTF-03: hazards and hot spots reported by a township -----------------------------------


@dataclass(frozen=True)
class HazardReport:
    kind: str
    matter_code: str
    place: str
    description: str
    urgent: bool

    def validated(self, *, reporter_kind: str | None) -> HazardReport:
        if reporter_kind != "township":
            raise Forbidden(
                "only a township reports hazards and hot spots to a department",
                code="AGENCY_KIND_NOT_ALLOWED",
            )
        if self.kind not in HAZARD_KINDS:
            raise ValidationFailed(
                f"kind must be one of {', '.join(HAZARD_KINDS)}",
                field="input.kind",
                code="UNKNOWN_VALUE",
            )
        return HazardReport(
            kind=self.kind,
            matter_code=_required(self.matter_code, "input.matterCode", "the matter code"),
            place=_required(self.place, "input.place", "the place"),
            description=_required(self.description, "input.description", "the description"),
            urgent=self.urgent,
        )


def hazard_reported(
    *,
    event_id: str,
    report_id: str,
    report: HazardReport,
    department_id: str,
    township_name: str,
    matter_name: str,
    at: datetime,
) -> InboxItem:
    what = "重大安全隐患" if report.kind == "hazard" else "违法行为高发情况"
    prefix = "【紧急】" if report.urgent else ""
    return InboxItem(
        id=item_id(event_id, department_id),
        agency_id=department_id,
        kind=f"report.{report.kind}",
        title=f"{prefix}{township_name}报告{what}：{matter_name}",
        body=(
            f"{township_name}于{_when(at)}报告{what}（事项{report.matter_code}“{matter_name}”，"
            f"地点：{report.place}）：{report.description}。请及时研判处置并反馈。"
        ),
        subject_type="HazardReport",
        subject_id=report_id,
        source_event_id=event_id,
        created_at=at,
        urgent=report.urgent,
    )


# -- R-NTF-02: changes of standards and interpretations ----------------------------------------

ChangeKind = Literal["legal_basis", "standard", "interpretation"]
CHANGE_KINDS: dict[str, str] = {
    "legal_basis": "法律依据",
    "standard": "标准",
    "interpretation": "解释",
}


@dataclass(frozen=True)
class StandardChange:
    """R-NTF-02: a change to a standard (标准, e.g. a discretion benchmark 裁量基准 or a
    technical standard) or an interpretation (解释 / 答复) that the townships concerned must
    learn of, announced by the department that issued it or by a supervising body."""

    kind: str
    title: str
    summary: str
    matter_codes: tuple[str, ...]
    township_ids: tuple[str, ...]
    effective_on: str  # ISO date as written

    def validated(self, *, township_kinds: dict[str, str | None]) -> StandardChange:
        if self.kind not in CHANGE_KINDS:
            raise ValidationFailed(
                f"kind must be one of {', '.join(CHANGE_KINDS)}",
                field="input.kind",
                code="UNKNOWN_VALUE",
            )
        townships = tuple(dict.fromkeys(t.strip() for t in self.township_ids if t.strip()))
        if not townships:
            raise ValidationFailed(
                "name the townships concerned", field="input.townshipIds", code="REQUIRED"
            )
        for i, t in enumerate(townships):
            if township_kinds.get(t) != "township":
                raise ValidationFailed(
                    f"{t!r} is not a known township",
                    field=f"input.townshipIds.{i}",
                    code="AGENCY_NOT_REGISTERED",
                )
        return StandardChange(
            kind=self.kind,
            title=_required(self.title, "input.title", "the title"),
            summary=_required(self.summary, "input.summary", "what changed"),
            matter_codes=tuple(dict.fromkeys(c.strip() for c in self.matter_codes if c.strip())),
            township_ids=townships,
            effective_on=self.effective_on.strip(),
        )


def standard_change_announced(
    *,
    event_id: str,
    announcement_id: str,
    change: StandardChange,
    township_id: str,
    issuer_name: str,
    at: datetime,
) -> InboxItem:
    what = CHANGE_KINDS[change.kind]
    matters = f"（涉及事项：{'、'.join(change.matter_codes)}）" if change.matter_codes else ""
    since = f"，自{change.effective_on}起施行" if change.effective_on else ""
    return InboxItem(
        id=item_id(event_id, township_id),
        agency_id=township_id,
        kind="copy.standard_change",
        title=f"{what}变更通告：{change.title}",
        body=f"{issuer_name}通告{what}变更{matters}{since}：{change.summary}",
        subject_type="StandardChange",
        subject_id=announcement_id,
        source_event_id=event_id,
        created_at=at,
    )
