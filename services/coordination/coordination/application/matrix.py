"""The coordination service's rows of the authorization matrix (授权矩阵): agencies, the
matter catalogue, disputes, assistance, technical support, information queries, meetings and
joint enforcement. The engine is ``kernel.authz``; ``docs/authorization.md`` is generated
from every service's matrix (``python -m liandong.authorization``)."""

from __future__ import annotations

from kernel.authz import ACTING_STAFF, STAFF, Matrix, Relation, Rule, rule

__all__ = ["MATRIX", "RULES"]

_R = Relation

_GOV_COORD = ("government", "coordinator")
_OVERSEERS = ("government", "supervisor")
_SIDES = (_R.SENDER, _R.RECEIVER, _R.PARTY)
#: The supervising roles that read cooperation records (not the judicial observer).
_READERS = ("government", "coordinator", "supervisor")

RULES: tuple[Rule, ...] = (
    # -- coordination: agencies and the catalogue (roles; the owning department) -------------
    rule(
        "coordination.registerAgency",
        _GOV_COORD,
        [_R.SUPERVISOR],
        "roles only: no resource relation (seeding runs as the system)",
    ),
    rule(
        "coordination.defineCatalogueEntry",
        ["leader", "legal_reviewer"],
        [_R.RECEIVER],
        "the original department owning the power (before and after a revision)",
    ),
    rule("coordination.defineCatalogueEntry", _GOV_COORD, [_R.SUPERVISOR]),
    rule("coordination.withdrawCatalogueEntry", ["leader", "legal_reviewer"], [_R.RECEIVER]),
    rule("coordination.withdrawCatalogueEntry", _GOV_COORD, [_R.SUPERVISOR]),
    rule("coordination.designateResponsibleAgency", _GOV_COORD, [_R.SUPERVISOR], "R-CAT-04"),
    rule(
        "coordination.importHolidaySchedule",
        ["coordinator"],
        [_R.SUPERVISOR],
        "the calendar administrator: the coordination body (执法协调小组 / 综合执法平台) loads "
        "the State Council's yearly holiday notice (issue 20); the CLI runs as the system",
    ),
    rule(
        "coordination.reviewEntrustment",
        ["supervisor"],
        [_R.SUPERVISOR],
        "R-CAT-05: the justice bureau (the handler checks the agency's kind)",
    ),
    rule(
        "coordination.approveEntrustment",
        ["government"],
        [_R.SUPERVISOR],
        "R-CAT-05: the government, after the review (the handler checks the agency's kind)",
    ),
    # -- coordination: disputes (parties, interim handler, township, deciding body) ----------
    rule("coordination.dispute", STAFF, [_R.PARTY], "also the disputes list"),
    rule("coordination.dispute", ("government", "coordinator", "supervisor"), [_R.SUPERVISOR]),
    rule(
        "coordination.coordinationStalls",
        _READERS,
        [_R.SUPERVISOR],
        "stall check: disputes, requests and joint tasks with no running clock (issue 14)",
    ),
    rule("coordination.openDispute", ACTING_STAFF, [_R.PARTY], "one of partyIds, R-DSP-01"),
    rule("coordination.openDispute", _GOV_COORD, [_R.SUPERVISOR]),
    rule("coordination.escalateDispute", ACTING_STAFF, [_R.PARTY], "R-DSP-02"),
    rule("coordination.escalateDispute", _GOV_COORD, [_R.SUPERVISOR]),
    rule(
        "coordination.ruleDispute",
        ACTING_STAFF,
        [_R.PARTY],
        "R-DSP-03: the domain checks which party or deciding body records which outcome",
    ),
    rule("coordination.ruleDispute", _GOV_COORD, [_R.SUPERVISOR]),
    rule(
        "coordination.proposeDisputeAgreement",
        ACTING_STAFF,
        [_R.PARTY],
        "R-DSP-03: one of the parties (domain)",
    ),
    rule(
        "coordination.confirmDisputeAgreement",
        ["leader"],
        [_R.PARTY],
        "R-DSP-03: each party's leader; the agreement binds at the last (issue 16)",
    ),
    rule(
        "coordination.giveDisputeOpinion",
        ACTING_STAFF,
        [_R.PARTY],
        "R-DSP-02: the advisory step's body; the domain checks it is that step's body",
    ),
    rule(
        "coordination.requestCaseTransfer",
        ACTING_STAFF,
        [_R.SENDER],
        "R-DSP-04: the township",
    ),
    rule(
        "coordination.requestCaseTransfer",
        ["government"],
        [_R.SUPERVISOR],
        "the government decides by itself",
    ),
    # -- coordination: assistance, technical support, information ---------------------------
    # Reads: the parties' staff and the supervising roles; the judicial observer does not.
    rule(
        "coordination.assistanceRequest",
        STAFF,
        _SIDES,
        "requester, helper, mediating legal office; lists, letters (PDF) too",
    ),
    rule("coordination.assistanceRequest", _READERS, [_R.SUPERVISOR]),
    rule("coordination.requestAssistance", ACTING_STAFF, [_R.SENDER], "R-AST-01"),
    rule("coordination.sendAssistanceLetter", ACTING_STAFF, [_R.SENDER]),
    rule("coordination.replyToAssistance", ACTING_STAFF, [_R.RECEIVER], "R-AST-02"),
    rule("coordination.referAssistanceToMediation", ACTING_STAFF, [_R.SENDER], "R-AST-02"),
    rule(
        "coordination.recordAssistanceMediation",
        ACTING_STAFF,
        [_R.PARTY],
        "the mediating legal office",
    ),
    rule("coordination.recordAssistanceMediation", _GOV_COORD, [_R.SUPERVISOR]),
    rule("coordination.reportAssistanceResult", ACTING_STAFF, [_R.SENDER, _R.RECEIVER]),
    rule(
        "coordination.assistanceRefusals",
        STAFF,
        _SIDES,
        "accountability (FY (五)4): the parties' own",
    ),
    rule("coordination.assistanceRefusals", _READERS, [_R.SUPERVISOR]),
    rule(
        "coordination.technicalSupportRequest",
        STAFF,
        [_R.SENDER, _R.RECEIVER],
        "the township and the department",
    ),
    rule("coordination.technicalSupportRequest", _READERS, [_R.SUPERVISOR]),
    rule("coordination.requestTechnicalSupport", ACTING_STAFF, [_R.SENDER], "R-TEC-01"),
    rule("coordination.dispatchTechnicalStaff", ACTING_STAFF, [_R.RECEIVER]),
    rule("coordination.extendTechnicalSupport", ["leader"], [_R.RECEIVER]),
    rule("coordination.answerTechnicalSupport", ACTING_STAFF, [_R.RECEIVER], "R-TEC-02"),
    rule(
        "coordination.informationQuery",
        STAFF,
        [_R.SENDER, _R.RECEIVER],
        "the requester and the holder",
    ),
    rule("coordination.informationQuery", _READERS, [_R.SUPERVISOR]),
    rule("coordination.askInformation", ACTING_STAFF, [_R.SENDER], "R-INF-01"),
    rule("coordination.answerInformationQuery", ACTING_STAFF, [_R.RECEIVER]),
    rule(
        "coordination.declineInformationQuery",
        ACTING_STAFF,
        [_R.RECEIVER],
        "in writing, citing the law (R-INF-01)",
    ),
    rule(
        "coordination.readInformationAnswer",
        STAFF,
        [_R.SENDER, _R.RECEIVER],
        "every read is logged; a confidential answer: the parties only (R-INF-01, domain)",
    ),
    rule("coordination.readInformationAnswer", _READERS, [_R.SUPERVISOR]),
    rule("coordination.informationAnswerAccessLog", STAFF, [_R.RECEIVER], "the data's owner"),
    rule("coordination.informationAnswerAccessLog", ["supervisor"], [_R.SUPERVISOR]),
    # -- coordination: meetings -------------------------------------------------------------
    rule(
        "coordination.meeting",
        STAFF | {"coordinator"},
        [_R.SENDER, _R.PARTY],
        "convener (the coordination body convenes too) and invitees; lists, minutes (PDF)",
    ),
    rule("coordination.meeting", _OVERSEERS, [_R.SUPERVISOR]),
    rule(
        "coordination.routineMeetingsDue",
        STAFF | {"coordinator"},
        [_R.SENDER],
        "R-MTG-01: the convening agency's own routine meetings due",
    ),
    rule("coordination.routineMeetingsDue", _READERS, [_R.SUPERVISOR]),
    rule(
        "coordination.scheduleMeeting",
        ACTING_STAFF | {"coordinator"},
        [_R.SENDER],
        "R-MTG-01: convenerId is the caller's agency",
    ),
    rule("coordination.rsvpMeeting", ACTING_STAFF, [_R.PARTY]),
    rule("coordination.draftMeetingMinutes", ACTING_STAFF | {"coordinator"}, [_R.SENDER]),
    rule("coordination.answerMeetingMinutes", ACTING_STAFF, [_R.PARTY]),
    rule("coordination.issueMeetingMinutes", ["leader", "coordinator"], [_R.SENDER]),
    rule("coordination.fileMeetingMinutes", ACTING_STAFF | {"coordinator"}, [_R.SENDER]),
    rule(
        "coordination.completeMeetingTask",
        ACTING_STAFF,
        [_R.PARTY, _R.SENDER],
        "the task's owner (domain)",
    ),
    # -- coordination: joint enforcement ----------------------------------------------------
    rule(
        "coordination.jointOperation",
        STAFF,
        [_R.SENDER, _R.PARTY],
        "lead and cooperating; lists and jointTasks too",
    ),
    rule("coordination.jointOperation", _READERS, [_R.SUPERVISOR]),
    rule(
        "coordination.initiateJointOperation",
        ["leader", "government", "coordinator", "legal_reviewer"],
        list(_R),
        "roles only, R-JNT-01: the basis decides which role and agency kind (domain)",
    ),
    rule("coordination.submitJointPlan", ACTING_STAFF, [_R.SENDER], "R-JNT-02"),
    rule("coordination.commentOnJointPlan", ACTING_STAFF, [_R.PARTY]),
    rule("coordination.startJointOperation", ["leader"], [_R.SENDER]),
    rule("coordination.assignJointTask", ACTING_STAFF, [_R.SENDER]),
    rule("coordination.reportJointTask", ACTING_STAFF, [_R.PARTY], "R-JNT-04"),
    rule("coordination.stateJointTaskInability", ACTING_STAFF, [_R.PARTY]),
    rule("coordination.decideJointTaskInability", ["leader"], [_R.SENDER]),
    rule(
        "coordination.recordJointInspection",
        ACTING_STAFF,
        [_R.SENDER, _R.PARTY],
        "R-JNT-05",
    ),
    # -- coordination: on-site dispatch (R-REF-15) --------------------------------------------
    rule(
        "coordination.onSiteRequest",
        STAFF,
        _SIDES,
        "notifier, receiver, and the government once reported to (HL 四(四))",
    ),
    rule("coordination.onSiteRequest", _READERS, [_R.SUPERVISOR]),
    rule("coordination.notifyOnSite", ACTING_STAFF, [_R.SENDER], "R-REF-15: notifierId"),
    rule("coordination.dispatchOnSiteStaff", ACTING_STAFF, [_R.RECEIVER], "R-REF-15"),
    rule("coordination.recordOnSiteArrival", ACTING_STAFF, [_R.RECEIVER]),
    rule("coordination.recordOnSiteHandling", ACTING_STAFF, [_R.RECEIVER]),
    rule(
        "coordination.explainOnSite",
        ["leader", "liaison"],
        [_R.RECEIVER],
        "说明理由 (HL 四(四)): the receiver's head or liaison",
    ),
    rule(
        "coordination.reportOnSiteToGovernment",
        ACTING_STAFF,
        [_R.SENDER],
        "HL 四(四): the notifier, once the limit lapsed unmet (policy flag; domain)",
    ),
    # -- coordination: correction opinions (R-NTF-05) ----------------------------------------
    rule(
        "coordination.correctionOpinion",
        STAFF,
        _SIDES,
        "department, township, the justice bureau copied",
    ),
    rule("coordination.correctionOpinion", _READERS, [_R.SUPERVISOR]),
    rule(
        "coordination.issueCorrectionOpinion",
        ["leader", "legal_reviewer"],
        [_R.SENDER],
        "R-NTF-05: the department's head or legal reviewer (法制审核)",
    ),
    rule("coordination.respondToCorrectionOpinion", ACTING_STAFF, [_R.RECEIVER], "R-NTF-05"),
    # -- coordination: written participation notices (R-NTF-06) ------------------------------
    rule(
        "coordination.participationNotice",
        STAFF,
        [_R.SENDER, _R.RECEIVER],
        "the department and the township",
    ),
    rule("coordination.participationNotice", _READERS, [_R.SUPERVISOR]),
    rule("coordination.notifyParticipation", ACTING_STAFF, [_R.SENDER], "R-NTF-06"),
    rule(
        "coordination.sendParticipationWrittenNotice",
        ACTING_STAFF,
        [_R.SENDER],
        "R-NTF-06: the writing after a phone call",
    ),
    rule("coordination.confirmParticipation", ACTING_STAFF, [_R.RECEIVER], "R-NTF-06"),
    # -- coordination: joint ruling and clue transfer (R-SUP-04) ------------------------------
    rule(
        "coordination.jointRuling",
        STAFF | {"coordinator"},
        _SIDES,
        "platform, responsible unit, participants, clue recipients",
    ),
    rule("coordination.jointRuling", ("government", "supervisor"), [_R.SUPERVISOR]),
    rule(
        "coordination.startJointRuling",
        ["coordinator", "leader"],
        [_R.SENDER],
        "R-SUP-04: platformId is the caller's agency, a coordination body (checked)",
    ),
    rule("coordination.ruleJointRuling", ["coordinator", "leader"], [_R.SENDER], "R-SUP-04"),
    rule(
        "coordination.transferClues",
        ["coordinator", "leader"],
        [_R.SENDER],
        "R-SUP-04: to 纪委监委 / 组织部 only (checked)",
    ),
    # -- coordination: grid dispatch (R-GRD-01) ----------------------------------------------
    # The reporter is SENDER (a grid member: only the reports it made itself), the township
    # whose platform owns the problem is RECEIVER, every team it was dispatched to is PARTY.
    rule(
        "coordination.reportProblem",
        ACTING_STAFF | {"grid_member"},
        [_R.SENDER],
        "R-GRD-01: any reporter is the report's sender; platformId must be a township",
    ),
    rule("coordination.dispatch", ["grid_member"], [_R.SENDER], "the grid member's own reports"),
    rule("coordination.dispatch", STAFF, [_R.RECEIVER, _R.PARTY], "platform and its teams"),
    rule("coordination.dispatch", _READERS, [_R.SUPERVISOR]),
    rule(
        "coordination.dispatchProblem",
        ACTING_STAFF | {"coordinator"},
        [_R.RECEIVER],
        "R-GRD-01 派单: the platform's township; the team is its own or a resident unit",
    ),
    rule(
        "coordination.referDispatch",
        ["leader", "clerk"],
        [_R.RECEIVER],
        "R-GRD-01: the platform turns a problem into a referral to a department",
    ),
    rule(
        "coordination.acceptDispatch",
        ACTING_STAFF,
        [_R.PARTY],
        "R-GRD-01 接单: the current team only (domain)",
    ),
    rule("coordination.arriveDispatch", ACTING_STAFF, [_R.PARTY], "报到: the current team"),
    rule("coordination.handleDispatch", ACTING_STAFF, [_R.PARTY], "处置: the current team"),
    rule("coordination.returnDispatch", ACTING_STAFF, [_R.PARTY], "退回: the current team"),
    rule(
        "coordination.uploadDispatchPhoto",
        ACTING_STAFF | {"grid_member"},
        [_R.SENDER],
        "R-GRD-01: the reporter adds photos to its report",
    ),
    rule(
        "coordination.uploadDispatchPhoto",
        ACTING_STAFF,
        [_R.RECEIVER, _R.PARTY],
        "R-GRD-01: the platform and the teams (photos of the result)",
    ),
    # The referral service's own identity (kernel.auth.service_principal), on the photo
    # download route only: PARTY once the dispatch was referred, NONE before.
    rule(
        "coordination.referredDispatchPhoto",
        ["referral_service"],
        [_R.PARTY],
        "R-GRD-01: the referral service fetches a referred dispatch's report photos as the "
        "referral's source material (GET /dispatches/{id}/photos/{photoId})",
    ),
)

MATRIX = Matrix("coordination", RULES)
