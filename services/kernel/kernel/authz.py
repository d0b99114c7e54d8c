"""The authorization matrix (授权矩阵): roles × operations × agency relation, as data.

One declarative table, ``RULES``, says who may do what. A service computes the caller's
*relations* to the resource at hand (its agency is the sender, the receiver, another party,
or it supervises the case; none of these: ``NONE``) and asks ``authorize`` before acting. The
human-readable matrix in ``docs/authorization.md`` is generated from this table
(``render_markdown``); a test fails when the document and the table drift apart.

Conventions:

* An operation is ``<service>.<name>``: the GraphQL field name for mutations and queries
  (``referral.acceptReferral``), or a dotted name for a per-field or per-route permission
  (``referral.Referral.materialContent``).
* A rule allows the listed roles when the caller holds *at least one* of the listed
  relations; several rules of one operation are alternatives. No rule, no access: every role
  not named is refused, and the judicial observer (司法观察, the procuratorate) has read rules
  only, so every mutation refuses it.
* ``requires_tag`` narrows a rule to resources carrying that tag (e.g. ``crime``: the
  procuratorate reads suspected-crime transfers only).
* ``enforced`` says whether the owning service already enforces the operation through this
  module; the rows of other services are the agreed matrix they must move to.

This module is pure (no I/O): a domain or application layer may import it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from kernel.auth import ROLES
from kernel.errors import Forbidden

__all__ = [
    "ACTING_STAFF",
    "ENFORCING_SERVICES",
    "OVERSIGHT",
    "ROLE_NAMES",
    "RULES",
    "STAFF",
    "Caller",
    "Relation",
    "Rule",
    "authorize",
    "operations",
    "permits",
    "render_markdown",
    "rules_for",
    "with_generated_matrix",
]


class Relation(StrEnum):
    """How the caller's agency stands to the resource (案件关系)."""

    SENDER = "sender"  # 移送方 / the requesting, initiating or convening agency
    RECEIVER = "receiver"  # 接收方 / the agency asked, holding or owning the matter
    PARTY = "party"  # 其他当事机关: previous receivers, interim handler, police, invitees
    SUPERVISOR = "supervisor"  # 监督方: acts for a supervising body (oversight role)
    NONE = "none"  # no relation to the resource


ROLE_NAMES: dict[str, str] = {
    "clerk": "承办人",
    "leader": "负责人",
    "legal_reviewer": "法制审核",
    "liaison": "联络员",
    "coordinator": "协调",
    "supervisor": "监督 (司法局)",
    "government": "政府",
    "judicial_observer": "司法观察 (检察院)",
    "bureau_system": "外部系统",
}
assert set(ROLE_NAMES) == set(ROLES), "every role of kernel.auth is named in the matrix"

#: Staff of an agency who read its cases.
STAFF = frozenset({"clerk", "leader", "legal_reviewer", "liaison"})
#: Staff who act on a case (the legal reviewer reviews and reads, it does not move cases).
ACTING_STAFF = frozenset({"clerk", "leader", "liaison"})
#: Roles whose holders act for a supervising body of the district: they hold the SUPERVISOR
#: relation to every resource of the district (the identity provider issues these roles only
#: to staff of the government, the coordination body, the justice bureau, the procuratorate).
OVERSIGHT = frozenset({"government", "coordinator", "supervisor", "judicial_observer"})

_R = Relation


class Caller(Protocol):
    """Whoever acts: a ``kernel.auth.Principal``, or a service's own actor value carrying the
    principal's roles (the matrix decides on roles and relations, nothing else)."""

    @property
    def roles(self) -> tuple[str, ...]: ...


#: Services whose handlers call ``authorize`` for every operation of theirs in ``RULES``.
ENFORCING_SERVICES = frozenset({"referral", "coordination", "notify"})


@dataclass(frozen=True)
class Rule:
    """``roles`` may perform ``operation`` when the caller holds one of ``relations``."""

    operation: str
    roles: frozenset[str]
    relations: frozenset[Relation]
    note: str = ""
    requires_tag: str | None = None
    enforced: bool = True

    @property
    def service(self) -> str:
        return self.operation.split(".", 1)[0]


def _rule(
    operation: str,
    roles: Iterable[str],
    relations: Iterable[Relation],
    note: str = "",
    *,
    tag: str | None = None,
) -> Rule:
    enforced = operation.split(".", 1)[0] in ENFORCING_SERVICES
    return Rule(operation, frozenset(roles), frozenset(relations), note, tag, enforced)


_GOV_COORD = ("government", "coordinator")
_OVERSEERS = ("government", "supervisor")
_SIDES = (_R.SENDER, _R.RECEIVER, _R.PARTY)
#: The supervising roles that read cooperation records (not the judicial observer).
_READERS = ("government", "coordinator", "supervisor")

RULES: tuple[Rule, ...] = (
    # -- referral: reads --------------------------------------------------------------------
    _rule("referral.referral", STAFF, _SIDES, "the parties of the case"),
    _rule("referral.referral", ("government", "coordinator", "supervisor"), [_R.SUPERVISOR]),
    _rule(
        "referral.referral",
        ["judicial_observer"],
        [_R.SUPERVISOR],
        "两法衔接 supervision: suspected-crime transfers only",
        tag="crime",
    ),
    _rule(
        "referral.Referral.materialContent",
        STAFF,
        _SIDES,
        "material downloadUrl, transferLetterUrl and the file routes; null / 403 otherwise",
    ),
    _rule("referral.Referral.materialContent", _OVERSEERS, [_R.SUPERVISOR]),
    _rule("referral.complaint", STAFF, [_R.RECEIVER, _R.PARTY], "complainant data inside"),
    _rule("referral.complaint", ("government", "coordinator", "supervisor"), [_R.SUPERVISOR]),
    # -- referral: the sender's side --------------------------------------------------------
    _rule("referral.draftReferral", ACTING_STAFF, [_R.SENDER], "senderId is the caller's agency"),
    _rule("referral.addReferralMaterial", ACTING_STAFF, [_R.SENDER], "also POST materials"),
    _rule("referral.generateTransferLetter", ACTING_STAFF, [_R.SENDER]),
    _rule("referral.removeReferralMaterial", ACTING_STAFF, [_R.SENDER]),
    _rule("referral.extendReferralSendDeadline", ACTING_STAFF, [_R.SENDER]),
    _rule("referral.submitReferral", ACTING_STAFF, [_R.SENDER]),
    _rule("referral.approveReferral", ["leader"], [_R.SENDER], "R-REF-03"),
    _rule("referral.sendReferral", ACTING_STAFF, [_R.SENDER]),
    _rule(
        "referral.withdrawReferral",
        ACTING_STAFF,
        [_R.SENDER],
        "a sent referral: leader only (state rule in the domain)",
    ),
    _rule("referral.recordReferralJusticeFiling", ACTING_STAFF, [_R.SENDER], "R-REF-09"),
    _rule("referral.closeReferral", ACTING_STAFF, [_R.SENDER]),
    # -- referral: the receiver's side ------------------------------------------------------
    _rule("referral.acceptReferral", ACTING_STAFF, [_R.RECEIVER], "R-REF-06"),
    _rule("referral.declineReferral", ["leader"], [_R.RECEIVER], "R-REF-07"),
    _rule("referral.consentToUpwardReferral", ["leader"], [_R.RECEIVER], "R-REF-09"),
    _rule("referral.recordReferralPenalty", ACTING_STAFF, [_R.RECEIVER]),
    _rule("referral.markReferralHandled", ACTING_STAFF, [_R.RECEIVER]),
    _rule("referral.reportReferralResult", ACTING_STAFF, [_R.RECEIVER], "R-REF-08"),
    _rule("referral.transferReferralToPolice", ["leader"], [_R.RECEIVER], "R-REF-10"),
    _rule(
        "referral.recordPoliceDecision",
        ACTING_STAFF,
        [_R.PARTY],
        "the police agency the case went to (the domain checks which party)",
    ),
    _rule(
        "referral.setElectronicTransferConsent",
        ["leader"],
        [_R.RECEIVER],
        "R-REF-12: the caller's agency is the receiver that consents",
    ),
    _rule(
        "referral.transferReferralsAtDelegation",
        ["leader"],
        [_R.RECEIVER],
        "R-REF-11: the department holding the cases",
    ),
    _rule("referral.transferReferralsAtDelegation", _GOV_COORD, [_R.SUPERVISOR]),
    # -- referral: supervision --------------------------------------------------------------
    _rule("referral.superviseReferral", _GOV_COORD, [_R.SUPERVISOR], "督办, R-REF-13"),
    # -- referral: complaints (the owning agency is the receiver) ---------------------------
    _rule("referral.registerComplaint", ACTING_STAFF, [_R.RECEIVER], "首问, R-CMP-01"),
    _rule("referral.answerComplaint", ACTING_STAFF, [_R.RECEIVER], "R-CMP-03"),
    _rule("referral.openCaseFromComplaint", ACTING_STAFF, [_R.RECEIVER], "R-CMP-03"),
    _rule("referral.referComplaint", ACTING_STAFF, [_R.RECEIVER], "R-CMP-03"),
    _rule("referral.requestComplaintHandover", ACTING_STAFF, [_R.RECEIVER], "R-CMP-02"),
    _rule(
        "referral.answerComplaintHandover",
        ACTING_STAFF,
        [_R.PARTY],
        "the agency asked (the domain checks which party)",
    ),
    _rule(
        "referral.tellComplainantResult",
        ACTING_STAFF,
        [_R.RECEIVER, _R.PARTY],
        "owner, or the receiver of the referral born from it (R-CMP-04)",
    ),
    # -- coordination: agencies and the catalogue (roles; the owning department) -------------
    _rule(
        "coordination.registerAgency",
        _GOV_COORD,
        [_R.SUPERVISOR],
        "roles only: no resource relation (seeding runs as the system)",
    ),
    _rule(
        "coordination.defineCatalogueEntry",
        ["leader", "legal_reviewer"],
        [_R.RECEIVER],
        "the original department owning the power (before and after a revision)",
    ),
    _rule("coordination.defineCatalogueEntry", _GOV_COORD, [_R.SUPERVISOR]),
    _rule("coordination.withdrawCatalogueEntry", ["leader", "legal_reviewer"], [_R.RECEIVER]),
    _rule("coordination.withdrawCatalogueEntry", _GOV_COORD, [_R.SUPERVISOR]),
    _rule("coordination.designateResponsibleAgency", _GOV_COORD, [_R.SUPERVISOR], "R-CAT-04"),
    # -- coordination: disputes (parties, interim handler, township, deciding body) ----------
    _rule("coordination.dispute", STAFF, [_R.PARTY], "also the disputes list"),
    _rule("coordination.dispute", ("government", "coordinator", "supervisor"), [_R.SUPERVISOR]),
    _rule("coordination.openDispute", ACTING_STAFF, [_R.PARTY], "one of partyIds, R-DSP-01"),
    _rule("coordination.openDispute", _GOV_COORD, [_R.SUPERVISOR]),
    _rule("coordination.escalateDispute", ACTING_STAFF, [_R.PARTY], "R-DSP-02"),
    _rule("coordination.escalateDispute", _GOV_COORD, [_R.SUPERVISOR]),
    _rule(
        "coordination.ruleDispute",
        ACTING_STAFF,
        [_R.PARTY],
        "R-DSP-03: the domain checks which party or deciding body records which outcome",
    ),
    _rule("coordination.ruleDispute", _GOV_COORD, [_R.SUPERVISOR]),
    _rule(
        "coordination.giveDisputeOpinion",
        ACTING_STAFF,
        [_R.PARTY],
        "R-DSP-02: the advisory step's body; the domain checks it is that step's body",
    ),
    _rule("coordination.requestCaseTransfer", ACTING_STAFF, [_R.SENDER], "R-DSP-04: the township"),
    _rule(
        "coordination.requestCaseTransfer",
        ["government"],
        [_R.SUPERVISOR],
        "the government decides by itself",
    ),
    # -- coordination: assistance, technical support, information ---------------------------
    # Reads: the parties' staff and the supervising roles; the judicial observer does not.
    _rule(
        "coordination.assistanceRequest",
        STAFF,
        _SIDES,
        "requester, helper, mediating legal office; lists, letters (PDF) too",
    ),
    _rule("coordination.assistanceRequest", _READERS, [_R.SUPERVISOR]),
    _rule("coordination.requestAssistance", ACTING_STAFF, [_R.SENDER], "R-AST-01"),
    _rule("coordination.sendAssistanceLetter", ACTING_STAFF, [_R.SENDER]),
    _rule("coordination.replyToAssistance", ACTING_STAFF, [_R.RECEIVER], "R-AST-02"),
    _rule("coordination.referAssistanceToMediation", ACTING_STAFF, [_R.SENDER], "R-AST-02"),
    _rule(
        "coordination.recordAssistanceMediation",
        ACTING_STAFF,
        [_R.PARTY],
        "the mediating legal office",
    ),
    _rule("coordination.recordAssistanceMediation", _GOV_COORD, [_R.SUPERVISOR]),
    _rule("coordination.reportAssistanceResult", ACTING_STAFF, [_R.SENDER, _R.RECEIVER]),
    _rule(
        "coordination.assistanceRefusals",
        STAFF,
        _SIDES,
        "accountability (FY (五)4): the parties' own",
    ),
    _rule("coordination.assistanceRefusals", _READERS, [_R.SUPERVISOR]),
    _rule(
        "coordination.technicalSupportRequest",
        STAFF,
        [_R.SENDER, _R.RECEIVER],
        "the township and the department",
    ),
    _rule("coordination.technicalSupportRequest", _READERS, [_R.SUPERVISOR]),
    _rule("coordination.requestTechnicalSupport", ACTING_STAFF, [_R.SENDER], "R-TEC-01"),
    _rule("coordination.dispatchTechnicalStaff", ACTING_STAFF, [_R.RECEIVER]),
    _rule("coordination.extendTechnicalSupport", ["leader"], [_R.RECEIVER]),
    _rule("coordination.answerTechnicalSupport", ACTING_STAFF, [_R.RECEIVER], "R-TEC-02"),
    _rule(
        "coordination.informationQuery",
        STAFF,
        [_R.SENDER, _R.RECEIVER],
        "the requester and the holder",
    ),
    _rule("coordination.informationQuery", _READERS, [_R.SUPERVISOR]),
    _rule("coordination.askInformation", ACTING_STAFF, [_R.SENDER], "R-INF-01"),
    _rule("coordination.answerInformationQuery", ACTING_STAFF, [_R.RECEIVER]),
    _rule(
        "coordination.declineInformationQuery",
        ACTING_STAFF,
        [_R.RECEIVER],
        "in writing, citing the law (R-INF-01)",
    ),
    _rule(
        "coordination.readInformationAnswer",
        STAFF,
        [_R.SENDER, _R.RECEIVER],
        "every read is logged; a confidential answer: the parties only (R-INF-01, domain)",
    ),
    _rule("coordination.readInformationAnswer", _READERS, [_R.SUPERVISOR]),
    _rule("coordination.informationAnswerAccessLog", STAFF, [_R.RECEIVER], "the data's owner"),
    _rule("coordination.informationAnswerAccessLog", ["supervisor"], [_R.SUPERVISOR]),
    # -- coordination: meetings -------------------------------------------------------------
    _rule(
        "coordination.meeting",
        STAFF | {"coordinator"},
        [_R.SENDER, _R.PARTY],
        "convener (the coordination body convenes too) and invitees; lists, minutes (PDF)",
    ),
    _rule("coordination.meeting", _OVERSEERS, [_R.SUPERVISOR]),
    _rule(
        "coordination.scheduleMeeting",
        ACTING_STAFF | {"coordinator"},
        [_R.SENDER],
        "R-MTG-01: convenerId is the caller's agency",
    ),
    _rule("coordination.rsvpMeeting", ACTING_STAFF, [_R.PARTY]),
    _rule("coordination.draftMeetingMinutes", ACTING_STAFF | {"coordinator"}, [_R.SENDER]),
    _rule("coordination.answerMeetingMinutes", ACTING_STAFF, [_R.PARTY]),
    _rule("coordination.issueMeetingMinutes", ["leader", "coordinator"], [_R.SENDER]),
    _rule("coordination.fileMeetingMinutes", ACTING_STAFF | {"coordinator"}, [_R.SENDER]),
    _rule(
        "coordination.completeMeetingTask",
        ACTING_STAFF,
        [_R.PARTY, _R.SENDER],
        "the task's owner (domain)",
    ),
    # -- coordination: joint enforcement ----------------------------------------------------
    _rule(
        "coordination.jointOperation",
        STAFF,
        [_R.SENDER, _R.PARTY],
        "lead and cooperating; lists and jointTasks too",
    ),
    _rule("coordination.jointOperation", _READERS, [_R.SUPERVISOR]),
    _rule(
        "coordination.initiateJointOperation",
        ["leader", "government", "coordinator", "legal_reviewer"],
        list(_R),
        "roles only, R-JNT-01: the basis decides which role and agency kind (domain)",
    ),
    _rule("coordination.submitJointPlan", ACTING_STAFF, [_R.SENDER], "R-JNT-02"),
    _rule("coordination.commentOnJointPlan", ACTING_STAFF, [_R.PARTY]),
    _rule("coordination.startJointOperation", ["leader"], [_R.SENDER]),
    _rule("coordination.assignJointTask", ACTING_STAFF, [_R.SENDER]),
    _rule("coordination.reportJointTask", ACTING_STAFF, [_R.PARTY], "R-JNT-04"),
    _rule("coordination.stateJointTaskInability", ACTING_STAFF, [_R.PARTY]),
    _rule("coordination.decideJointTaskInability", ["leader"], [_R.SENDER]),
    _rule("coordination.recordJointInspection", ACTING_STAFF, [_R.SENDER, _R.PARTY], "R-JNT-05"),
    # -- notify -------------------------------------------------------------------------------
    _rule(
        "notify.inbox",
        STAFF | {"coordinator"},
        [_R.RECEIVER],
        "an agency's own inbox (myInbox, Agency.inbox, Referral.notices, inboxItemAdded)",
    ),
    _rule("notify.inbox", _OVERSEERS, [_R.SUPERVISOR]),
    _rule(
        "notify.acknowledgeInboxItem",
        STAFF | {"coordinator", "government", "supervisor"},
        [_R.RECEIVER],
        "签收 by the addressed agency, R-NTF-04",
    ),
    _rule(
        "notify.processRecord",
        ("government", "supervisor", "judicial_observer"),
        [_R.SUPERVISOR],
        "full-process record, R-SUP-01: every entry",
    ),
    _rule(
        "notify.processRecord",
        STAFF | {"coordinator"},
        [_R.RECEIVER],
        "the entries naming the caller's agency",
    ),
    _rule("notify.monthlyReminderList", _OVERSEERS, [_R.SUPERVISOR], "R-SUP-02"),
    _rule(
        "notify.monthlyReminderList",
        STAFF,
        [_R.RECEIVER],
        "the justice bureau, to which it is addressed",
    ),
    _rule("notify.quarterlyBulletin", _OVERSEERS, [_R.SUPERVISOR], "R-SUP-02"),
    _rule("notify.quarterlyBulletin", STAFF, [_R.RECEIVER], "the justice bureau"),
    _rule(
        "notify.webhooks",
        STAFF | {"bureau_system"},
        [_R.RECEIVER],
        "the webhooks the caller's agency owns",
    ),
    _rule("notify.webhooks", _OVERSEERS, [_R.SUPERVISOR]),
    _rule(
        "notify.registerWebhook",
        ["bureau_system"],
        [_R.RECEIVER],
        "the caller's agency owns the new webhook",
    ),
    _rule(
        "notify.rotateWebhookSecret",
        ["bureau_system"],
        [_R.RECEIVER],
        "its own webhook; the new secret is shown once",
    ),
    _rule("notify.replayWebhookDelivery", ["bureau_system"], [_R.RECEIVER], "its own webhook"),
    _rule("notify.replayWebhookDelivery", _OVERSEERS, [_R.SUPERVISOR]),
    _rule(
        "notify.reportApproval",
        ACTING_STAFF,
        [_R.SENDER],
        "抄告 in the caller's agency's name, R-NTF-01",
    ),
    _rule("notify.reportHazard", ACTING_STAFF, [_R.SENDER], "R-NTF-03"),
    _rule("notify.rateDepartment", ["leader"], [_R.SENDER], "反向考评, R-SUP-03"),
    _rule("notify.rateTownship", ["leader"], [_R.SENDER], "R-SUP-03"),
)


def rules_for(operation: str) -> list[Rule]:
    return [r for r in RULES if r.operation == operation]


def operations(service: str | None = None) -> list[str]:
    """Every operation of the table (of one service), in table order, once each."""
    seen: dict[str, None] = {}
    for r in RULES:
        if service is None or r.service == service:
            seen.setdefault(r.operation, None)
    return list(seen)


def permits(
    principal: Caller,
    operation: str,
    relations: Iterable[Relation],
    tags: Iterable[str] = (),
) -> bool:
    """True when a rule of ``operation`` allows one of the caller's roles with one of the
    caller's ``relations`` (and the resource carries the rule's required tag)."""
    held = set(relations) or {Relation.NONE}
    tagset = set(tags)
    rules = rules_for(operation)
    if not rules:
        raise KeyError(f"no authorization rule names the operation {operation!r}")
    return any(
        r.roles & set(principal.roles)
        and r.relations & held
        and (r.requires_tag is None or r.requires_tag in tagset)
        for r in rules
    )


def authorize(
    principal: Caller,
    operation: str,
    relations: Iterable[Relation],
    tags: Iterable[str] = (),
    *,
    field: str | None = None,
) -> None:
    """Return when allowed; raise ``Forbidden`` naming what the matrix requires."""
    held = set(relations) or {Relation.NONE}
    if permits(principal, operation, held, tags):
        return
    needs = "; or ".join(
        f"{'/'.join(sorted(r.roles))} as {'/'.join(sorted(r.relations))}"
        + (f" ({r.requires_tag} only)" if r.requires_tag else "")
        for r in rules_for(operation)
    )
    roles = "/".join(principal.roles) or "no role"
    raise Forbidden(
        f"{operation.split('.', 1)[1]} is not allowed for {roles} as "
        f"{'/'.join(sorted(held))}: it needs {needs}",
        field=field,
    )


def render_markdown() -> str:
    """The matrix as Markdown tables, one per service (``docs/authorization.md``)."""
    roles = list(ROLE_NAMES)
    lines: list[str] = []
    for service in ("referral", "coordination", "notify"):
        ops = operations(service)
        enforced = all(r.enforced for r in RULES if r.service == service)
        lines.append(f"### {service}")
        lines.append("")
        lines.append(
            "Enforced through `kernel.authz`."
            if enforced
            else "Agreed matrix; the service does not yet enforce it through `kernel.authz`."
        )
        lines.append("")
        lines.append("| operation | " + " | ".join(roles) + " | note |")
        lines.append("|---|" + "---|" * len(roles) + "---|")
        for op in ops:
            cells = []
            for role in roles:
                held = sorted(
                    {
                        rel.value + (f" ({r.requires_tag})" if r.requires_tag else "")
                        for r in rules_for(op)
                        if role in r.roles
                        for rel in r.relations
                    }
                )
                cells.append(", ".join(held) if held else "—")
            notes = "; ".join(r.note for r in rules_for(op) if r.note)
            lines.append(f"| `{op.split('.', 1)[1]}` | " + " | ".join(cells) + f" | {notes} |")
        lines.append("")
    return "\n".join(lines)


BEGIN_MARK = "<!-- BEGIN GENERATED from kernel.authz.RULES: do not edit by hand -->"
END_MARK = "<!-- END GENERATED -->"


def with_generated_matrix(document: str) -> str:
    """``document`` with the text between the markers replaced by ``render_markdown()``."""
    head, sep, rest = document.partition(BEGIN_MARK)
    _, sep2, tail = rest.partition(END_MARK)
    if not sep or not sep2:
        raise ValueError(f"the document lacks the markers {BEGIN_MARK!r} / {END_MARK!r}")
    return f"{head}{BEGIN_MARK}\n\n{render_markdown()}\n{END_MARK}{tail}"


if __name__ == "__main__":
    # Regenerate the matrix inside docs/authorization.md: python -m kernel.authz <file>
    import sys
    from pathlib import Path

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/authorization.md")
    target.write_text(with_generated_matrix(target.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {target}")
