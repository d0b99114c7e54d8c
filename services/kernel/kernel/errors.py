"""Errors every domain raises, each with a stable code that the graph hands to clients.

The codes live in ONE registry, :data:`CODES`: each line names a code, the family it refines
(one of the five broad codes a client may branch on: VALIDATION_FAILED, NOT_FOUND, FORBIDDEN,
INVALID_STATE, CONFLICT) and how an official reads it in Chinese. Adding a code is one line
here; a refusal names it with ``code=`` (``InvalidState("…", code="DEADLINE_PASSED")``).
The graph's ``UserErrorCode`` enum is built from this registry (``kernel.graphql``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

__all__ = [
    "CODES",
    "Code",
    "Conflict",
    "DomainError",
    "Forbidden",
    "InvalidState",
    "NotFound",
    "Problems",
    "ValidationFailed",
]


@dataclass(frozen=True)
class Code:
    """A refusal's stable code: its family (the broad code) and its Chinese wording."""

    name: str
    family: str
    zh: str
    en: str


_FAMILIES = ("VALIDATION_FAILED", "NOT_FOUND", "FORBIDDEN", "INVALID_STATE", "CONFLICT")

#: Every code a refusal may carry: name, family, Chinese wording, English meaning.
CODES: dict[str, Code] = {
    c.name: c
    for c in (
        # The five families (a refusal without a finer code carries its family's).
        Code("VALIDATION_FAILED", "VALIDATION_FAILED", "输入不符合要求", "the input is not valid"),
        Code("NOT_FOUND", "NOT_FOUND", "对象不存在", "the object does not exist"),
        Code("FORBIDDEN", "FORBIDDEN", "无权进行此操作", "your agency or role may not do this"),
        Code(
            "INVALID_STATE", "INVALID_STATE", "当前状态不允许此操作", "the state does not allow it"
        ),
        Code(
            "CONFLICT", "CONFLICT", "已被他人修改，请刷新后重试", "changed meanwhile; reload, retry"
        ),
        # Finer codes, one line each.
        Code("REQUIRED", "VALIDATION_FAILED", "必填内容为空", "a required input is empty"),
        Code(
            "WRONG_AGENCY_KIND",
            "VALIDATION_FAILED",
            "机关类型不符",
            "the agency is of the wrong kind",
        ),
        Code("LEADER_REQUIRED", "FORBIDDEN", "须由机关负责人决定", "only the agency's leader may"),
        Code("NOT_YOUR_AGENCY", "FORBIDDEN", "只能以本机关名义办理", "only for your own agency"),
        Code(
            "WRONG_STATUS",
            "INVALID_STATE",
            "当前环节不能办理此事项",
            "not in a status that allows it",
        ),
        Code("DEADLINE_PASSED", "INVALID_STATE", "法定期限已过", "a statutory deadline has passed"),
        Code("ALREADY_DONE", "INVALID_STATE", "此事项已办理", "this was already done"),
        Code(
            "MATERIAL_CONTENT_MISSING",
            "INVALID_STATE",
            "材料文件缺失",
            "a material's file is missing",
        ),
        Code(
            "PHOTO_ALREADY_USED",
            "VALIDATION_FAILED",
            "该照片已用于另一件上报",
            "the photo already belongs to another report",
        ),
        Code("SIGNING_KEY_MISSING", "INVALID_STATE", "本机关尚无签章密钥", "no signing key yet"),
        # Issue 18: the refusals of notify, referral and coordination, worded per kind.
        Code(
            "AGENCY_NOT_REGISTERED",
            "VALIDATION_FAILED",
            "所指机关未在本区登记",
            "the named agency is not registered in the district",
        ),
        Code(
            "INTERNAL_UNIT",
            "VALIDATION_FAILED",
            "内设机构不能以自己的名义对外执法",
            "an internal unit does not act in its own name (R-AG-02)",
        ),
        Code(
            "UNKNOWN_VALUE",
            "VALIDATION_FAILED",
            "取值不在允许范围内",
            "not one of the allowed values",
        ),
        Code("BAD_FORMAT", "VALIDATION_FAILED", "格式不正确", "not in the expected format"),
        Code(
            "INVALID_DATE",
            "VALIDATION_FAILED",
            "日期应为YYYY-MM-DD格式的真实日期",
            "not a calendar day written YYYY-MM-DD",
        ),
        Code(
            "INPUTS_DISAGREE",
            "VALIDATION_FAILED",
            "新字段与其替代的旧字段取值不一致",
            "a field and the deprecated field it replaces disagree",
        ),
        Code("TOO_LONG", "VALIDATION_FAILED", "内容超过长度限制", "longer than allowed"),
        Code(
            "OUT_OF_RANGE", "VALIDATION_FAILED", "数值超出允许范围", "a number outside its limits"
        ),
        Code(
            "IN_THE_FUTURE",
            "VALIDATION_FAILED",
            "时间不能晚于当前",
            "a time that lies in the future",
        ),
        Code(
            "IN_THE_PAST", "VALIDATION_FAILED", "时间不能早于当前", "a time that lies in the past"
        ),
        Code(
            "SELF_ADDRESSED",
            "VALIDATION_FAILED",
            "不能向本机关自身发起",
            "an agency cannot address itself",
        ),
        Code(
            "LEGAL_BASIS_REQUIRED",
            "VALIDATION_FAILED",
            "须写明依据（法律规定、事项清单或决定文号）",
            "cite the basis (law, catalogue entry or decision)",
        ),
        Code(
            "WRONG_JURISDICTION",
            "VALIDATION_FAILED",
            "与事项清单确定的管辖不符",
            "the catalogue gives the matter to another agency",
        ),
        Code("NOT_YET", "INVALID_STATE", "前一步骤尚未完成", "an earlier step is not done yet"),
        Code(
            "DISTRICT_NOT_SET_UP",
            "INVALID_STATE",
            "本区尚未登记相关机关或未作此项规定",
            "the district has not registered or provided for it",
        ),
        Code(
            "STALE_REVISION",
            "INVALID_STATE",
            "所答复的稿本已被新稿替换，请刷新",
            "that draft was replaced by a newer one",
        ),
        Code("LIMIT_REACHED", "INVALID_STATE", "已达数量上限", "the allowed number is reached"),
        Code(
            "WRONG_ROUTE",
            "INVALID_STATE",
            "此移送方式不适用该操作",
            "not an act of this referral's route",
        ),
        Code(
            "AGREEMENT_PENDING",
            "INVALID_STATE",
            "尚待各方同意",
            "waiting for every party's agreement",
        ),
        Code(
            "MAY_NOT_REFUSE",
            "FORBIDDEN",
            "依规定不得拒绝或再行移送",
            "the rules forbid refusing or passing it on",
        ),
        Code(
            "AGENCY_KIND_NOT_ALLOWED",
            "FORBIDDEN",
            "本类机关不能办理此事项",
            "agencies of your kind may not do this",
        ),
        Code(
            "NOT_A_PARTY", "FORBIDDEN", "本机关不是该事项的当事方", "your agency is no party to it"
        ),
        Code(
            "ELECTRONIC_CONSENT_MISSING",
            "FORBIDDEN",
            "接收机关未同意电子移送",
            "the receiver has not consented to electronic transfer (R-REF-12)",
        ),
        Code(
            "CRIME_ROUTE_PENDING",
            "INVALID_STATE",
            "涉嫌犯罪案件移送公安期间，不得以罚代刑",
            "a crime transfer is pending",
        ),
        # Issue 18, session 9: dispatch, disputes, joint operations, the crime route.
        Code(
            "TEAM_NOT_UNDER_COMMAND",
            "VALIDATION_FAILED",
            "所派执法队不在本乡镇统一指挥之下",
            "the team is not under the township's command (HC #7)",
        ),
        Code(
            "TEAM_RETURNED_IT",
            "VALIDATION_FAILED",
            "该执法队已退回此问题，请改派其他执法队",
            "that team returned it; dispatch to another",
        ),
        Code(
            "PLATFORM_ONLY",
            "FORBIDDEN",
            "只有乡镇综合执法平台可以办理此步骤",
            "only the township's platform may take this step",
        ),
        Code(
            "DISPATCHED_TO_ANOTHER_TEAM",
            "FORBIDDEN",
            "此问题已派给其他执法队",
            "the dispatch went to another team",
        ),
        Code(
            "PHOTO_NOT_UPLOADED",
            "VALIDATION_FAILED",
            "照片尚未为此上传，请先上传",
            "the photo was not uploaded for this",
        ),
        Code(
            "LISTED_TWICE", "VALIDATION_FAILED", "同一项被重复列出", "the same item is listed twice"
        ),
        Code(
            "MEDIA_TYPE_NOT_ACCEPTED",
            "VALIDATION_FAILED",
            "不接受此文件类型",
            "the file type is not accepted",
        ),
        Code(
            "FILE_TOO_LARGE",
            "VALIDATION_FAILED",
            "文件超过大小限制",
            "the file is larger than allowed",
        ),
        Code("FILE_EMPTY", "VALIDATION_FAILED", "文件为空", "the file is empty"),
        Code(
            "DISPUTE_OPENED_BY_DECLINE",
            "VALIDATION_FAILED",
            "移送争议在拒绝接收移送时自动提起，不能另行提起",
            "a referral's dispute is opened by its decline",
        ),
        Code(
            "DISPUTE_ALREADY_OPEN",
            "CONFLICT",
            "该事项的争议已在处理中",
            "a dispute about it is already open",
        ),
        Code(
            "DISPUTE_AT_LAST_STEP",
            "INVALID_STATE",
            "争议已到最后一级，等待该级作出决定",
            "the dispute is at its last step",
        ),
        Code(
            "DISPUTE_STEP_SKIPPED",
            "INVALID_STATE",
            "争议只能逐级提交上一级",
            "a dispute goes up one step at a time",
        ),
        Code(
            "DISPUTE_STEP_DECIDES",
            "INVALID_STATE",
            "该级负责作出决定，不再提出处理意见",
            "this step decides; it gives no opinion",
        ),
        Code(
            "DISPUTE_STEP_ADVISES",
            "INVALID_STATE",
            "该级只提出处理意见，不能作出决定",
            "this step only gives an opinion (R-DSP-02)",
        ),
        Code(
            "NOT_THE_DECIDING_BODY",
            "FORBIDDEN",
            "须由该级负责处理争议的机关办理",
            "only that step's body may",
        ),
        Code(
            "AGREEMENT_BY_CONFIRMATION",
            "VALIDATION_FAILED",
            "协议须由一方提出、各方负责人确认后生效",
            "an agreement binds once each party's leader confirms it",
        ),
        Code(
            "NOT_EVERY_PARTY_AGREED",
            "VALIDATION_FAILED",
            "并非各方当事机关均参会并同意纪要",
            "not every party took part and agreed",
        ),
        Code(
            "MEETING_BEFORE_DISPUTE",
            "VALIDATION_FAILED",
            "会议早于争议提起，其纪要不能解决该争议",
            "the meeting was held before the dispute",
        ),
        Code(
            "MINUTES_NOT_ISSUED",
            "VALIDATION_FAILED",
            "会议纪要尚未印发",
            "the meeting's minutes are not issued (R-MTG-01)",
        ),
        Code(
            "RESPONSIBLE_NOT_A_PARTY",
            "VALIDATION_FAILED",
            "责任机关须为争议当事方之一，只有政府可以指定其他机关",
            "the responsible agency must be a party",
        ),
        Code(
            "TOO_FEW_PARTIES",
            "VALIDATION_FAILED",
            "争议至少有两方当事机关",
            "a dispute has at least two parties",
        ),
        Code(
            "REFERENCE_NOT_FOUND",
            "VALIDATION_FAILED",
            "所引用的对象不存在",
            "the object the input names does not exist",
        ),
        Code(
            "LEAD_AGENCY_ONLY",
            "FORBIDDEN",
            "只有牵头单位可以办理",
            "only the lead agency (牵头单位) may",
        ),
        Code(
            "COOPERATING_AGENCY_ONLY",
            "FORBIDDEN",
            "只有配合单位可以办理",
            "only a cooperating agency (配合单位) may",
        ),
        Code(
            "NOT_ASSIGNED_AGENCY",
            "FORBIDDEN",
            "只有承办该任务的机关可以办理",
            "only the agency the task was assigned to may",
        ),
        Code(
            "NOT_COOPERATING",
            "VALIDATION_FAILED",
            "所指机关不是该行动的配合单位",
            "the agency is no cooperating agency of it",
        ),
        Code(
            "LEAD_ALSO_COOPERATING",
            "VALIDATION_FAILED",
            "牵头单位不能同时为配合单位",
            "the lead agency cannot also cooperate",
        ),
        Code(
            "COMMENTS_PENDING",
            "INVALID_STATE",
            "尚有配合单位未对方案提出意见",
            "a cooperating agency has not commented yet",
        ),
        Code(
            "LIAISONS_MISSING",
            "INVALID_STATE",
            "尚有单位未指定联络员",
            "an agency has named no liaison yet",
        ),
        Code(
            "REPORT_ONLY_WHEN_REJECTED",
            "VALIDATION_FAILED",
            "只有不予认可的理由才报告政府",
            "only a rejected reason is reported",
        ),
        Code(
            "GOVERNMENT_REPORT_REQUIRED",
            "VALIDATION_FAILED",
            "本区规定不予认可的理由须报告政府",
            "the district requires a report to the government",
        ),
        Code(
            "NOT_APPLICABLE",
            "VALIDATION_FAILED",
            "此项不适用于本情形，请勿填写",
            "this input does not apply here",
        ),
        Code(
            "NOT_THE_APPROVED_POLICE",
            "VALIDATION_FAILED",
            "负责人批准移送的不是该公安机关",
            "the head approved another police agency",
        ),
        Code(
            "PAID_MORE_THAN_FINED",
            "VALIDATION_FAILED",
            "缴纳金额超过罚款决定的金额",
            "more paid than the decision fined",
        ),
        Code(
            "TRANSFERRING_AGENCY_ONLY",
            "FORBIDDEN",
            "只有移送案件的机关可以办理",
            "only the transferring agency may",
        ),
        Code(
            "RECEIVING_POLICE_ONLY",
            "FORBIDDEN",
            "只有接受移送的公安机关可以记录其决定",
            "only the receiving police agency may",
        ),
    )
}
assert all(c.family in _FAMILIES for c in CODES.values()), "every code refines a family"


class DomainError(Exception):
    """A command was refused. ``field`` names the input at fault as a dotted path; ``code``
    a finer code of the registry within the class's family; ``zh`` the refusal in Chinese for
    officials (else the code's wording); ``problems`` the other refusals found at once (a
    validation that finds several problems reports them all)."""

    code = "DOMAIN_ERROR"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        zh: str | None = None,
        problems: Sequence[DomainError] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.zh = zh
        self.problems = tuple(problems)
        if code is not None:
            known = CODES.get(code)
            if known is None or known.family != self.family:
                raise ValueError(
                    f"{code!r} is no code of the family {self.family} in kernel.errors.CODES"
                )
            self.code = code

    @property
    def stable_code(self) -> str:
        """The code query errors and HTTP answers carry (``extensions.code``): the class's,
        unchanged by a finer ``code`` (those codes stay as they were)."""
        return str(type(self).code)

    @property
    def family(self) -> str:
        """The broad code this refusal refines (its nearest class among the five)."""
        for cls in type(self).__mro__:
            family = cls.__dict__.get("code")
            if family in _FAMILIES:
                return str(family)
        return "INVALID_STATE"

    @property
    def message_zh(self) -> str:
        """The refusal as an official reads it: the site's Chinese, else the code's wording
        with the specifics (the English detail) in brackets."""
        if self.zh:
            return self.zh
        wording = CODES[self.code].zh if self.code in CODES else "操作被拒绝"
        return f"{wording}（{self.message}）"


class ValidationFailed(DomainError):
    code = "VALIDATION_FAILED"


E = TypeVar("E", bound=Enum)


def one_of(kind: type[E], value: str, *, field: str, what: str) -> E:
    """``value`` as a member of the enum ``kind``, or ``ValidationFailed``
    (``UNKNOWN_VALUE``) naming ``what`` was given and the values allowed, in order."""
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(str(m.value) for m in kind)
        raise ValidationFailed(
            f"unknown {what} {value!r}; one of {allowed}", field=field, code="UNKNOWN_VALUE"
        ) from None


class NotFound(DomainError):
    code = "NOT_FOUND"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class InvalidState(DomainError):
    """The aggregate's state does not allow this command now."""

    code = "INVALID_STATE"


class Conflict(DomainError):
    """Someone else changed the aggregate first; reload and retry."""

    code = "CONFLICT"


class Problems:
    """Collects the validation problems of one input so that all are reported at once:
    ``add`` each, then ``raise_if_any`` raises the first with the others as its
    ``problems`` (nothing was changed)."""

    def __init__(self) -> None:
        self._found: list[DomainError] = []

    def add(self, error: DomainError) -> None:
        self._found.append(error)

    def raise_if_any(self) -> None:
        if self._found:
            first, *rest = self._found
            first.problems = tuple(rest)
            raise first
