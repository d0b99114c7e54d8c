"""The referral service's rows of the authorization matrix (授权矩阵): who may read and act on
referrals and complaints, by role and by the caller's agency's relation to the case. The
engine is ``kernel.authz``; ``docs/authorization.md`` is generated from every service's
matrix (``python -m liandong.authorization``)."""

from __future__ import annotations

from kernel.authz import ACTING_STAFF, STAFF, Matrix, Relation, Rule, rule

__all__ = ["MATRIX", "RULES"]

_R = Relation

_GOV_COORD = ("government", "coordinator")
_OVERSEERS = ("government", "supervisor")
_SIDES = (_R.SENDER, _R.RECEIVER, _R.PARTY)

RULES: tuple[Rule, ...] = (
    # -- referral: reads --------------------------------------------------------------------
    rule("referral.referral", STAFF, _SIDES, "the parties of the case"),
    rule("referral.referral", ("government", "coordinator", "supervisor"), [_R.SUPERVISOR]),
    rule(
        "referral.referral",
        ["judicial_observer"],
        [_R.SUPERVISOR],
        "两法衔接 supervision: suspected-crime transfers only",
        tag="crime",
    ),
    rule(
        "referral.Referral.materialContent",
        STAFF,
        _SIDES,
        "material downloadUrl, transferLetterUrl and the file routes; null / 403 otherwise",
    ),
    rule("referral.Referral.materialContent", _OVERSEERS, [_R.SUPERVISOR]),
    rule("referral.complaint", STAFF, [_R.RECEIVER, _R.PARTY], "complainant data inside"),
    rule("referral.complaint", ("government", "coordinator", "supervisor"), [_R.SUPERVISOR]),
    # -- referral: the sender's side --------------------------------------------------------
    rule("referral.draftReferral", ACTING_STAFF, [_R.SENDER], "senderId is the caller's agency"),
    rule(
        "referral.completeReferralDraft",
        ACTING_STAFF,
        [_R.SENDER],
        "the matter and party a draft did not know (R-GRD-01: drafted from a dispatch)",
    ),
    rule("referral.addReferralMaterial", ACTING_STAFF, [_R.SENDER], "also POST materials"),
    rule("referral.generateTransferLetter", ACTING_STAFF, [_R.SENDER]),
    rule("referral.removeReferralMaterial", ACTING_STAFF, [_R.SENDER]),
    rule("referral.extendReferralSendDeadline", ACTING_STAFF, [_R.SENDER]),
    rule("referral.submitReferral", ACTING_STAFF, [_R.SENDER]),
    rule("referral.approveReferral", ["leader"], [_R.SENDER], "R-REF-03"),
    rule("referral.sendReferral", ACTING_STAFF, [_R.SENDER]),
    rule(
        "referral.withdrawReferral",
        ACTING_STAFF,
        [_R.SENDER],
        "a sent referral: leader only (state rule in the domain)",
    ),
    rule("referral.recordReferralJusticeFiling", ACTING_STAFF, [_R.SENDER], "R-REF-09"),
    rule("referral.closeReferral", ACTING_STAFF, [_R.SENDER]),
    # -- referral: the receiver's side ------------------------------------------------------
    rule("referral.acceptReferral", ACTING_STAFF, [_R.RECEIVER], "R-REF-06"),
    rule("referral.declineReferral", ["leader"], [_R.RECEIVER], "R-REF-07"),
    rule(
        "referral.forwardReferral",
        ["leader"],
        [_R.RECEIVER],
        "R-REF-07, CQ 四(二): a receiver without jurisdiction, where the policy says so",
    ),
    rule("referral.consentToUpwardReferral", ["leader"], [_R.RECEIVER], "R-REF-09"),
    rule("referral.recordReferralPenalty", ACTING_STAFF, [_R.RECEIVER]),
    rule("referral.markReferralHandled", ACTING_STAFF, [_R.RECEIVER]),
    rule("referral.reportReferralResult", ACTING_STAFF, [_R.RECEIVER], "R-REF-08"),
    rule(
        "referral.transferReferralToPolice",
        ACTING_STAFF,
        [_R.RECEIVER],
        "R-REF-10/14: after the head's approval; without one a leader only (domain rule)",
    ),
    rule(
        "referral.recordPoliceDecision",
        ACTING_STAFF,
        [_R.PARTY],
        "the police agency the case went to (the domain checks which party)",
    ),
    # -- referral: the crime route (R-REF-14, Decree 310); the transferring agency is the
    # receiver of a case it handles or the sender of a referral drafted to the police; the
    # domain checks which. The procuratorate reads, and acts on none of these.
    rule("referral.reportSuspectedCrime", ACTING_STAFF, [_R.RECEIVER], "书面报告 to the head"),
    rule(
        "referral.decideCrimeTransfer",
        ["leader"],
        [_R.SENDER, _R.RECEIVER],
        "the agency head (正职负责人), within 3 days",
    ),
    rule("referral.requestCrimeReconsideration", ACTING_STAFF, [_R.SENDER, _R.RECEIVER]),
    rule(
        "referral.answerCrimeReconsideration",
        ACTING_STAFF,
        [_R.PARTY],
        "the police agency the case went to (the domain checks which party)",
    ),
    rule(
        "referral.requestProcuratorateSupervision",
        ACTING_STAFF,
        [_R.SENDER, _R.RECEIVER],
        "立案监督: the procuratorate gets an inbox notice",
    ),
    rule("referral.reopenCaseAfterNotFiled", ACTING_STAFF, [_R.SENDER, _R.RECEIVER], "R-REF-10"),
    rule("referral.recordCrimeMaterialsHandover", ACTING_STAFF, [_R.SENDER, _R.RECEIVER]),
    rule(
        "referral.recordCrimeFinePaid",
        ACTING_STAFF,
        [_R.SENDER, _R.RECEIVER],
        "折抵相应罚金 (Decree 310 第十一条)",
    ),
    rule(
        "referral.setElectronicTransferConsent",
        ["leader"],
        [_R.RECEIVER],
        "R-REF-12: the caller's agency is the receiver that consents",
    ),
    rule(
        "referral.transferReferralsAtDelegation",
        ["leader"],
        [_R.RECEIVER],
        "R-REF-11: the department holding the cases",
    ),
    rule("referral.transferReferralsAtDelegation", _GOV_COORD, [_R.SUPERVISOR]),
    # -- referral: supervision --------------------------------------------------------------
    rule("referral.superviseReferral", _GOV_COORD, [_R.SUPERVISOR], "督办, R-REF-13"),
    rule(
        "referral.answerSupervision",
        ACTING_STAFF,
        [_R.RECEIVER],
        "R-REF-13: the receiver's written answer to a 督办 (acting on the case answers too)",
    ),
    rule(
        "referral.referralStalls",
        ("government", "coordinator", "supervisor"),
        [_R.SUPERVISOR],
        "stall check: open cases with no clock and no owner (R-REF-07)",
    ),
    # -- referral: complaints (the owning agency is the receiver) ---------------------------
    rule("referral.registerComplaint", ACTING_STAFF, [_R.RECEIVER], "首问, R-CMP-01"),
    rule("referral.answerComplaint", ACTING_STAFF, [_R.RECEIVER], "R-CMP-03"),
    rule("referral.openCaseFromComplaint", ACTING_STAFF, [_R.RECEIVER], "R-CMP-03"),
    rule("referral.referComplaint", ACTING_STAFF, [_R.RECEIVER], "R-CMP-03"),
    rule("referral.requestComplaintHandover", ACTING_STAFF, [_R.RECEIVER], "R-CMP-02"),
    rule(
        "referral.answerComplaintHandover",
        ACTING_STAFF,
        [_R.PARTY],
        "the agency asked (the domain checks which party)",
    ),
    rule(
        "referral.tellComplainantResult",
        ACTING_STAFF,
        [_R.RECEIVER, _R.PARTY],
        "owner, or the receiver of the referral born from it (R-CMP-04)",
    ),
)

MATRIX = Matrix("referral", RULES)
