"""Errors every domain raises, each with a stable code that the graph hands to clients.

The codes live in ONE registry, :data:`CODES`: each line names a code, the family it refines
(one of the five broad codes a client may branch on: VALIDATION_FAILED, NOT_FOUND, FORBIDDEN,
INVALID_STATE, CONFLICT) and how an official reads it in Chinese. Adding a code is one line
here; a refusal names it with ``code=`` (``InvalidState("…", code="DEADLINE_PASSED")``).
The graph's ``UserErrorCode`` enum is built from this registry (``kernel.graphql``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
