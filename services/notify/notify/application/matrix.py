"""The notify service's rows of the authorization matrix (授权矩阵): inboxes, the process
record, supervision reports, subscriptions, copies and ratings. The engine is
``kernel.authz``; ``docs/authorization.md`` is generated from every service's matrix
(``python -m liandong.authorization``)."""

from __future__ import annotations

from kernel.authz import ACTING_STAFF, STAFF, Matrix, Relation, Rule, rule

__all__ = ["MATRIX", "RULES"]

_R = Relation

_OVERSEERS = ("government", "supervisor")

RULES: tuple[Rule, ...] = (
    # -- notify -------------------------------------------------------------------------------
    rule(
        "notify.inbox",
        STAFF | {"coordinator"},
        [_R.RECEIVER],
        "an agency's own inbox (myInbox, Agency.inbox, Referral.notices, inboxItemAdded)",
    ),
    rule("notify.inbox", _OVERSEERS, [_R.SUPERVISOR]),
    rule(
        "notify.workQueue",
        STAFF | {"coordinator"},
        [_R.RECEIVER],
        "what is due for the agency: every open clock it is responsible for (viewer.workQueue, "
        "Agency.workQueue)",
    ),
    rule("notify.workQueue", _OVERSEERS, [_R.SUPERVISOR]),
    rule(
        "notify.inbox",
        ["judicial_observer"],
        [_R.RECEIVER],
        "the procuratorate's own inbox: supervision requests (立案监督, R-REF-14)",
    ),
    rule(
        "notify.acknowledgeInboxItem",
        ["judicial_observer"],
        [_R.RECEIVER],
        "签收 of a supervision request addressed to the procuratorate; it changes no case",
    ),
    rule(
        "notify.acknowledgeInboxItem",
        STAFF | {"coordinator", "government", "supervisor"},
        [_R.RECEIVER],
        "签收 by the addressed agency, R-NTF-04",
    ),
    rule(
        "notify.processRecord",
        ("government", "supervisor"),
        [_R.SUPERVISOR],
        "full-process record, R-SUP-01: every entry",
    ),
    rule(
        "notify.processRecord",
        ["judicial_observer"],
        [_R.SUPERVISOR],
        "the procuratorate: the entries of suspected-crime transfers only (R-REF-14, issue 16)",
        tag="crime",
    ),
    rule(
        "notify.processRecord",
        STAFF | {"coordinator"},
        [_R.RECEIVER],
        "the entries naming the caller's agency",
    ),
    rule("notify.monthlyReminderList", _OVERSEERS, [_R.SUPERVISOR], "R-SUP-02"),
    rule(
        "notify.monthlyReminderList",
        STAFF,
        [_R.RECEIVER],
        "the justice bureau, to which it is addressed",
    ),
    rule("notify.quarterlyBulletin", _OVERSEERS, [_R.SUPERVISOR], "R-SUP-02"),
    rule("notify.quarterlyBulletin", STAFF, [_R.RECEIVER], "the justice bureau"),
    rule(
        "notify.webhooks",
        STAFF | {"bureau_system"},
        [_R.RECEIVER],
        "the webhooks the caller's agency owns",
    ),
    rule("notify.webhooks", _OVERSEERS, [_R.SUPERVISOR]),
    rule(
        "notify.registerWebhook",
        ["bureau_system"],
        [_R.RECEIVER],
        "the caller's agency owns the new webhook",
    ),
    rule(
        "notify.rotateWebhookSecret",
        ["bureau_system"],
        [_R.RECEIVER],
        "its own webhook; the new secret is shown once",
    ),
    rule("notify.replayWebhookDelivery", ["bureau_system"], [_R.RECEIVER], "its own webhook"),
    rule(
        "notify.removeWebhook",
        ["bureau_system"],
        [_R.RECEIVER],
        "its own webhook (an agency has at most the cap of active webhooks, issue 16)",
    ),
    rule(
        "notify.webhookEvent",
        ["bureau_system"],
        [_R.PARTY, _R.SUPERVISOR],
        "fan-out (issue 16): an event reaches a webhook when the owning agency is named in it "
        "or supervises the district; complainants' personal data is redacted",
    ),
    rule(
        "notify.webhookEvent",
        ["bureau_system"],
        [_R.NONE],
        "the district's agency directory and matter catalogue are public",
        tag="public",
    ),
    rule("notify.replayWebhookDelivery", _OVERSEERS, [_R.SUPERVISOR]),
    rule(
        "notify.reportApproval",
        ACTING_STAFF,
        [_R.SENDER],
        "抄告 in the caller's agency's name, R-NTF-01",
    ),
    rule("notify.reportHazard", ACTING_STAFF, [_R.SENDER], "R-NTF-03"),
    rule(
        "notify.reportPenaltyDecision",
        ACTING_STAFF,
        [_R.SENDER],
        "R-NTF-01: a township's own case, copied to the department for the record",
    ),
    rule(
        "notify.announceStandardChange",
        ACTING_STAFF,
        [_R.SENDER],
        "R-NTF-02: the issuing department or a supervising body (agency kind checked)",
    ),
    rule("notify.announceStandardChange", _OVERSEERS, [_R.SUPERVISOR], "R-NTF-02"),
    rule("notify.rateDepartment", ["leader"], [_R.SENDER], "反向考评, R-SUP-03"),
    rule("notify.rateTownship", ["leader"], [_R.SENDER], "R-SUP-03"),
)

MATRIX = Matrix("notify", RULES)
