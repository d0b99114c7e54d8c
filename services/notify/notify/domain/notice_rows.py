"""The rows of the notification matrix (R-NTF-04), as data: for every published event type
that addresses an agency, who is addressed, as what kind of notice, with which receipt and
which Chinese text; and, for every event type that addresses nobody, why. The logic that
reads them (addressees, texts, due times, the generated document) is ``notify.domain.notices``.
Pure Python."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Rows whose items a dedicated builder makes (richer text, several clocks per addressee):
#: they are in the matrix for the record and the document; the generic builder skips them.
DEDICATED = "dedicated"


@dataclass(frozen=True)
class NoticeRow:
    event_type: str
    rule: str
    kind: str
    to: tuple[str, ...]
    """Payload fields holding the addressed agencies (an id or a list of ids)."""
    subject_type: str
    subject_field: str
    title: str
    """Chinese; ``{field}`` is the payload's field, ``{field_name}`` the name of the agency
    whose id is in ``field`` (e.g. ``{actor_agency_id_name}``)."""
    body: str = ""
    audience: str = "agency"
    """``agency`` (its staff) or ``leader`` (its head, 负责人)."""
    receipt: bool = True
    built_by: str = ""
    """``DEDICATED`` when a dedicated builder makes the item (named in ``note``)."""
    note: str = ""


def _r(
    event_type: str,
    rule: str,
    kind: str,
    to: str | tuple[str, ...],
    subject: tuple[str, str],
    title: str,
    body: str = "",
    **kw: Any,
) -> NoticeRow:
    return NoticeRow(
        event_type=event_type,
        rule=rule,
        kind=kind,
        to=(to,) if isinstance(to, str) else to,
        subject_type=subject[0],
        subject_field=subject[1],
        title=title,
        body=body,
        **kw,
    )


REFERRAL = ("Referral", "referral_id")
COMPLAINT = ("Complaint", "complaint_id")
DISPUTE = ("Dispute", "dispute_id")
ASSISTANCE = ("AssistanceRequest", "request_id")
TECHNICAL = ("TechnicalSupportRequest", "request_id")
QUERY = ("InformationQuery", "query_id")
JOINT = ("JointOperation", "operation_id")
MEETING = ("Meeting", "meeting_id")
ON_SITE = ("OnSiteRequest", "request_id")
CORRECTION = ("CorrectionOpinion", "opinion_id")
PARTICIPATION = ("ParticipationNotice", "notice_id")
JOINT_RULING = ("JointRuling", "ruling_id")
DISPATCH = ("Dispatch", "dispatch_id")

# The table reads best one row to a call, as written; the formatter would stack each argument.
# fmt: off
MATRIX: tuple[NoticeRow, ...] = (
    # -- referrals (R-REF) ----------------------------------------------------------------
    _r(
        "referral.sent.v1", "R-REF-06", "referral.received", "receiver_id", REFERRAL,
        "收到移送案件：{title}", built_by=DEDICATED,
        note="notify.domain.model.referral_received: the accept-by time in words; none for "
        "route crime (drafted to the police): referral.crime_transferred.v1 is their notice",
    ),
    _r(
        "referral.ongoing_violation_reported.v1", "R-REF-05", "referral.ongoing_violation",
        "receiver_id", REFERRAL, "【立即】违法行为正在发生：{title}",
        "{sender_id_name}发现违法行为正在进行（{place}，{party}），已责令停止：{stop_order}。"
        "告知：{immediate_notice}。案件将立即移送，请立即组织处置。",
    ),
    _r(
        "referral.send_deadline_extended.v1", "R-REF-04", "referral.send_extended",
        "notified_agency_id", REFERRAL, "移送期限延长的事先告知",
        "{actor_agency_id_name}延长案件移送期限{working_days}个工作日，理由：{reason}。",
    ),
    _r(
        "referral.withdrawn.v1", "R-REF-03", "referral.withdrawn", "receiver_id", REFERRAL,
        "移送案件已撤回", "{sender_id_name}撤回移送案件，理由：{reason}。",
    ),
    _r(
        "referral.accepted.v1", "R-REF-06", "referral.accepted", "sender_id", REFERRAL,
        "移送案件已受理", "{receiver_id_name}书面告知受理情况：{statement}",
    ),
    _r(
        "referral.declined.v1", "R-REF-07", "referral.declined", "sender_id", REFERRAL,
        "移送案件不予接收", "{receiver_id_name}不予接收，理由：{reasons}；依据：{catalogue_basis}。"
        "争议已提交协调，期间由{interim_handler_id_name}先行处置。",
    ),
    _r(
        "referral.declined.v1", "R-REF-07", "referral.interim_handler", "interim_handler_id",
        REFERRAL, "指定先行处置：移送案件争议期间由你单位先行协同处置",
        "{receiver_id_name}不予接收{sender_id_name}移送的案件，争议协调期间由你单位先行处置。",
    ),
    _r(
        "referral.reassigned.v1", "R-DSP-03", "referral.reassigned", "receiver_id", REFERRAL,
        "依裁定改由你单位承办的移送案件", "依据：{basis}。请书面告知受理情况。",
    ),
    _r(
        "referral.reassigned.v1", "R-DSP-03", "referral.reassigned_away",
        ("previous_receiver_id", "sender_id"), REFERRAL, "移送案件依裁定改由{receiver_id_name}承办",
        "依据：{basis}。", receipt=False,
    ),
    _r(
        "referral.forwarded.v1", "R-REF-07", "referral.forwarded", "receiver_id", REFERRAL,
        "转来移送案件：{first_receiver_id_name}无管辖权，依法转由你单位办理",
        "{previous_receiver_id_name}认为本案不属其管辖，转由你单位办理，理由：{reasons}。"
        "你单位有管辖权，不得拒绝接受（CQ 四(二)），请书面告知受理情况。",
    ),
    _r(
        "referral.forwarded.v1", "R-REF-07", "referral.forwarded_away", "sender_id", REFERRAL,
        "移送案件已转由{receiver_id_name}办理",
        "{previous_receiver_id_name}无管辖权，已将案件转由{receiver_id_name}办理；"
        "{first_receiver_id_name}为首接负责机关，至其受理时止。", receipt=False,
    ),
    _r(
        "referral.receiver_confirmed.v1", "R-DSP-03", "referral.receiver_confirmed",
        "receiver_id", REFERRAL, "裁定确认由你单位承办移送案件",
        "依据：{basis}。请书面告知受理情况。",
    ),
    _r(
        "referral.returned_to_sender.v1", "R-DSP-03", "referral.returned", "sender_id",
        REFERRAL, "移送案件依裁定退回由你单位办理", "依据：{basis}。",
    ),
    _r(
        "referral.result_reported.v1", "R-REF-08", "referral.result", "sender_id", REFERRAL,
        "移送案件处理结果反馈", "{receiver_id_name}反馈处理结果：{result}",
    ),
    _r(
        "referral.supervised.v1", "R-REF-13", "referral.supervised", "receiver_id", REFERRAL,
        "督办通知", "{actor_agency_id_name}督办：{note}", audience="leader",
    ),
    _r(
        "referral.supervision_answered.v1", "R-REF-13", "referral.supervision_answered",
        "supervising_agency_ids", REFERRAL, "督办答复：{receiver_id_name}",
        "{receiver_id_name}答复督办：{answer}",
    ),
    _r(
        "referral.department_consent_recorded.v1", "R-REF-09", "referral.upward_consent",
        "sender_id", REFERRAL, "上级部门同意接收提级案件", "{receiver_id_name}：{note}",
    ),
    _r(
        "referral.filed_with_justice.v1", "R-REF-09", "referral.justice_filing",
        "justice_bureau_id", REFERRAL, "提级案件备案", "备案号：{filing_number}。",
    ),
    _r(
        "referral.crime_transferred.v1", "R-REF-10", "referral.crime_transfer", "police_id",
        REFERRAL, "涉嫌犯罪案件移送", "{actor_agency_id_name}移送涉嫌犯罪案件，理由：{reason}。",
    ),
    _r(
        "referral.police_decided.v1", "R-REF-10", "referral.police_decision", "agency_id",
        REFERRAL, "公安机关立案审查决定", "{police_id_name}：{note}。{reasons}",
        note="to the transferring agency (R-REF-14): 立案 starts its hand-over clock, 不立案 its "
        "reconsideration window; the reconsideration answer is this event too",
    ),
    _r(
        "referral.crime_reconsideration_requested.v1", "R-REF-14",
        "referral.crime_reconsideration", "police_id", REFERRAL, "不予立案复议申请",
        "{agency_id_name}提请复议：{reason}",
    ),
    _r(
        "referral.crime_supervision_requested.v1", "R-REF-14", "referral.crime_supervision",
        "procuratorate_id", REFERRAL, "建议立案监督：{police_id_name}不予立案的涉嫌犯罪案件",
        "{agency_id_name}建议依法进行立案监督，理由：{reason}。公安机关决定：{police_note}",
        note="the case meanwhile runs the transferring agency's outcome clock "
        "(referral.crime_supervision_outcome; the policy's crime_transfer."
        "supervision_outcome_days, a project default: no law limits the supervision)",
    ),
    _r(
        "referral.crime_supervision_requested.v1", "R-REF-14",
        "referral.crime_supervision_copy", "police_id", REFERRAL, "移送单位已建议检察院立案监督",
        "{agency_id_name}已建议{procuratorate_id_name}依法进行立案监督。", receipt=False,
    ),
    _r(
        "referral.crime_materials_handed_over.v1", "R-REF-14", "referral.crime_handover",
        "police_id", REFERRAL, "涉案物品及有关材料移交", "{agency_id_name}移交：{note}",
    ),
    _r(
        "referral.crime_fine_paid_recorded.v1", "R-REF-14", "referral.crime_fine_paid",
        "police_id", REFERRAL, "移送前已缴纳罚款（依法折抵相应罚金）",
        "{agency_id_name}：处罚决定{decision_number}，已缴纳罚款{amount_yuan}元。",
        receipt=False,
    ),
    _r(
        "referral.crime_case_reopened.v1", "R-REF-10", "referral.crime_case_reopened",
        "police_id", REFERRAL, "不予立案案件已由行政执法机关依法处理",
        "{agency_id_name}：{note}", receipt=False,
    ),
    _r(
        "referral.moved_at_delegation.v1", "R-REF-11", "referral.moved_at_delegation",
        "receiver_id", REFERRAL, "事项下放：移交你单位承办的案件",
        "{previous_receiver_id_name}依据{basis}移交本案，请书面告知受理情况。",
    ),
    _r(
        "referral.penalty_recorded.v1", "R-NTF-01", "copy.penalty", "sender_id", REFERRAL,
        "行政处罚决定抄告", built_by=DEDICATED,
        note="notify.application.copies: the township's decision to the department (备案)",
    ),
    _r(
        "referral.electronic_consent_changed.v1", "R-REF-12", "referral.electronic_consent",
        "sender_id", ("ElectronicConsent", "receiver_id"), "电子移送同意情况变更",
        "{receiver_id_name}已变更接收你单位电子移送的同意（{state_after}）。", receipt=False,
    ),
    # -- complaints (R-CMP) ---------------------------------------------------------------
    _r(
        "complaint.handover_requested.v1", "R-CMP-02", "complaint.handover_requested",
        "to_agency_id", COMPLAINT, "举报投诉转交请求",
        "{actor_agency_id_name}请求你单位接收举报投诉（方式：{mode}），理由：{reason}。",
    ),
    _r(
        "complaint.handover_answered.v1", "R-CMP-02", "complaint.handover_answered",
        "owner_agency_id", COMPLAINT, "举报投诉转交答复", "{actor_agency_id_name}已答复转交请求。",
    ),
    _r(
        "complaint.complainant_notified.v1", "R-CMP-04", "complaint.result_to_agency",
        "to_agency_id", COMPLAINT, "举报投诉办理结果告知", "{text}", receipt=False,
    ),
    # -- disputes (R-DSP) -----------------------------------------------------------------
    _r(
        "dispute.opened.v1", "R-DSP-01", "dispute.opened",
        ("party_ids", "interim_handler_id", "step.decided_by_agency_id"), DISPUTE,
        "管辖争议：{step.name_zh}", "争议事由：{reasons}",
    ),
    _r(
        "dispute.escalated.v1", "R-DSP-02", "dispute.escalated", "step.decided_by_agency_id",
        DISPUTE, "管辖争议提交你单位：{step.name_zh}", "原因：{cause}",
    ),
    _r(
        "dispute.agreement_proposed.v1", "R-DSP-03", "dispute.agreement_proposed", "party_ids",
        DISPUTE, "管辖争议协议待确认", "{actor_agency_id_name}提出协议（第{revision}稿）：{basis}。"
        "协议经各方负责人确认后生效。", audience="leader",
    ),
    _r(
        "dispute.ruled.v1", "R-DSP-03", "dispute.ruled", "responsible_agency_id", DISPUTE,
        "管辖争议裁定：由你单位负责", "依据：{basis}",
    ),
    # -- cooperation (R-AST, R-TEC, R-INF) ---------------------------------------------------
    _r(
        "assistance.requested.v1", "R-AST-01", "assistance.requested", "helper_id", ASSISTANCE,
        "协助执法请求", "{requester_id_name}提请协助执法：{matters}。",
    ),
    _r(
        "assistance.letter_sent.v1", "R-AST-01", "assistance.letter", "helper_id", ASSISTANCE,
        "协助执法函（补送）", "{requester_id_name}补送协助执法函，文号：{letter_number}。",
    ),
    _r(
        "assistance.replied.v1", "R-AST-01", "assistance.replied", "requester_id", ASSISTANCE,
        "协助执法复函", "{helper_id_name}已复函。",
    ),
    _r(
        "assistance.mediation_requested.v1", "R-AST-02", "assistance.mediation_requested",
        "mediator_agency_id", ASSISTANCE, "协助执法争议协调申请",
        "{requester_id_name}与{helper_id_name}就协助执法存在分歧，请予协调。",
        note="due by the legal office's mediation clock (assistance.mediation; the policy's "
        "assistance.mediation_limit_working_days, a project default)",
    ),
    _r(
        "assistance.mediated.v1", "R-AST-02", "assistance.mediated",
        ("requester_id", "helper_id"), ASSISTANCE, "协助执法争议协调结果", "依据：{basis}",
    ),
    _r(
        "assistance.result_reported.v1", "R-AST-01", "assistance.result", "requester_id",
        ASSISTANCE, "协助执法结果反馈", "{helper_id_name}：{summary}",
    ),
    _r(
        "technical_support.requested.v1", "R-TEC-01", "technical_support.requested",
        "department_id", TECHNICAL, "技术支持请求", "{township_id_name}：{question}",
    ),
    _r(
        "technical_support.dispatched.v1", "R-TEC-01", "technical_support.dispatched",
        "township_id", TECHNICAL, "技术人员赴现场", "{department_id_name}已派员赴现场。",
    ),
    _r(
        "technical_support.extended.v1", "R-TEC-01", "technical_support.extended",
        "township_id", TECHNICAL, "技术支持答复期限延长", "{department_id_name}延长答复期限。",
    ),
    _r(
        "technical_support.answered.v1", "R-TEC-01", "technical_support.answered",
        "township_id", TECHNICAL, "技术支持答复", "{department_id_name}已出具答复。",
    ),
    _r(
        "information_query.asked.v1", "R-INF-01", "information_query.asked", "holder_id", QUERY,
        "信息查询请求", "{requester_id_name}：{subject}",
    ),
    _r(
        "information_query.answered.v1", "R-INF-01", "information_query.answered",
        "requester_id", QUERY, "信息查询答复", "{holder_id_name}已答复。",
    ),
    _r(
        "information_query.declined.v1", "R-INF-01", "information_query.declined",
        "requester_id", QUERY, "信息查询不予提供", "{holder_id_name}不予提供，依据见答复。",
    ),
    # -- joint enforcement (R-JNT) -----------------------------------------------------------
    _r(
        "joint.initiated.v1", "R-JNT-01", "joint.initiated", ("lead_id", "cooperating_ids"),
        JOINT, "联合执法：{title}", "{actor_agency_id_name}发起联合执法，依据：{basis}",
    ),
    _r(
        "joint.plan_submitted.v1", "R-JNT-02", "joint.plan_submitted", "cooperating_ids", JOINT,
        "联合执法方案征求意见", "{lead_id_name}提交联合执法方案，请提出意见。",
    ),
    _r(
        "joint.plan_commented.v1", "R-JNT-02", "joint.plan_commented", "lead_id", JOINT,
        "联合执法方案意见", "{agency_id_name}对方案提出意见。", receipt=False,
    ),
    _r(
        "joint.started.v1", "R-JNT-03", "joint.started", "cooperating_ids", JOINT,
        "联合执法开始：{title}", "{lead_id_name}牵头的联合执法已开始。",
    ),
    _r(
        "joint.task_assigned.v1", "R-JNT-04", "joint.task_assigned", "agency_id", JOINT,
        "联合执法任务：{description}", built_by=DEDICATED,
        note="notify.domain.cooperation.joint_task_assigned: task, deadline and report limit",
    ),
    _r(
        "joint.task_reported.v1", "R-JNT-04", "joint.task_reported", "lead_id", JOINT,
        "联合执法任务报告", "{agency_id_name}：{summary}",
    ),
    _r(
        "joint.inability_stated.v1", "R-JNT-04", "joint.inability_stated", "lead_id", JOINT,
        "联合执法任务书面说明无法履行", "{agency_id_name}：{reasons}",
        note="due by the lead's decision clock (joint.inability_decision; the policy's "
        "joint_enforcement.inability_decision_limit_working_days, a project default)",
    ),
    _r(
        "joint.inability_decided.v1", "R-JNT-04", "joint.inability_decided",
        ("agency_id", "reported_to_government_id"), JOINT, "无法履行说明的处理决定",
        "{lead_id_name}已作出决定：{reasons}",
    ),
    # -- meetings (R-MTG) ----------------------------------------------------------------
    _r(
        "meeting.scheduled.v1", "R-MTG-01", "meeting.notice", "attendee_ids", MEETING,
        "会议通知：{title}", built_by=DEDICATED,
        note="notify.domain.cooperation.meeting_notices: time, place, agenda, RSVP limit",
    ),
    _r(
        "meeting.rsvp_recorded.v1", "R-MTG-01", "meeting.rsvp", "convener_id", MEETING,
        "参会回执", "{agency_id_name}已回复参会情况。", receipt=False,
    ),
    _r(
        "meeting.minutes_drafted.v1", "R-MTG-01", "meeting.minutes_to_agree",
        "awaiting_agreement_of", MEETING, "会议纪要征求意见", built_by=DEDICATED,
        note="notify.domain.cooperation.minutes_to_agree: the decided tasks to agree",
    ),
    _r(
        "meeting.minutes_agreed.v1", "R-MTG-01", "meeting.minutes_agreed", "convener_id",
        MEETING, "会议纪要已确认", "{agency_id_name}同意会议纪要。", receipt=False,
    ),
    _r(
        "meeting.minutes_issued.v1", "R-MTG-01", "meeting.task", "attendee_ids", MEETING,
        "会议纪要任务", built_by=DEDICATED,
        note="notify.domain.cooperation.meeting_tasks_assigned: each owner's tasks and dates",
    ),
    _r(
        "meeting.minutes_filed.v1", "R-MTG-01", "meeting.minutes_filed", "filed_with_agency_id",
        MEETING, "会议纪要备案", "{convener_id_name}报送会议纪要备案。",
    ),
    _r(
        "meeting.task_done.v1", "R-MTG-01", "meeting.task_done", "convener_id", MEETING,
        "会议纪要任务完成", "{owner_agency_id_name}已完成会议确定的任务。", receipt=False,
    ),
    # -- copies (R-NTF-01/02/03) ----------------------------------------------------------
    _r(
        "approval.reported.v1", "R-NTF-01", "copy.approval", "township_id",
        ("ApprovalReport", "report_id"), "审批结果抄告", built_by=DEDICATED,
        note="notify.application.copies: the department's approval to the township",
    ),
    _r(
        "hazard.reported.v1", "R-NTF-03", "copy.hazard", "department_id",
        ("HazardReport", "report_id"), "重大隐患报告", built_by=DEDICATED,
        note="notify.application.copies: the township's report to the department",
    ),
    _r(
        "penalty_decision.reported.v1", "R-NTF-01", "copy.penalty_decision", "department_id",
        ("PenaltyDecision", "report_id"), "处罚决定抄告备案", built_by=DEDICATED,
        note="notify.application.copies: a township's own case to the department (备案)",
    ),
    _r(
        "standard_change.announced.v1", "R-NTF-02", "copy.standard_change", "township_ids",
        ("StandardChange", "announcement_id"), "标准或解释变更通告", built_by=DEDICATED,
        note="notify.application.copies: a standard or interpretation to the townships named",
    ),
    _r(
        "catalogue.change_announced.v1", "R-NTF-02", "copy.change", "township_ids",
        ("CatalogueEntry", "code"), "法律依据或标准变更通告", built_by=DEDICATED,
        note="notify.application.copies: the change to the townships concerned",
    ),
    # -- the calendar (issue 20) ------------------------------------------------------------
    _r(
        "deadline.moved.v1", "R-SUP-02", "deadline.moved", "responsible_agency_id",
        ("{subject_type}", "subject_id"), "【期限调整】{kind} 的截止时间已调整",
        "因{notice_zh}公布{year}年节假日安排，{subject_type} {subject_id} 的期限“{kind}”"
        "（{rule}）重新计算，{summary_zh}。",
        note="the owner of the clock publishes it (referral or coordination); the subject "
        "type is the payload's",
    ),
    # -- on-site dispatch (R-REF-15) --------------------------------------------------------
    _r(
        "on_site.requested.v1", "R-REF-15", "on_site.requested", "receiver_id", ON_SITE,
        "立即派员现场处置通知：{place}",
        "{notifier_id_name}通知：{description}。请立即派行政执法人员到达现场处置。",
    ),
    _r(
        "on_site.dispatched.v1", "R-REF-15", "on_site.dispatched", "notifier_id", ON_SITE,
        "已派员赴现场：{place}", "{receiver_id_name}已派员：{staff}。", receipt=False,
    ),
    _r(
        "on_site.arrived.v1", "R-REF-15", "on_site.arrived", "notifier_id", ON_SITE,
        "执法人员已到达现场：{place}", "{receiver_id_name}执法人员已到达现场。", receipt=False,
    ),
    _r(
        "on_site.handled.v1", "R-REF-15", "on_site.handled", "notifier_id", ON_SITE,
        "现场处置情况：{place}", "{receiver_id_name}：{handling}",
    ),
    _r(
        "on_site.explained.v1", "R-REF-15", "on_site.explained", "notifier_id", ON_SITE,
        "未派员处置的理由说明：{place}", "{receiver_id_name}说明理由：{reason}",
    ),
    _r(
        "on_site.reported_to_government.v1", "R-REF-15", "on_site.reported_to_government",
        "government_id", ON_SITE, "接到通知后不说明理由又拒不处理的报告",
        "{notifier_id_name}报告：{receiver_id_name}接到立即派员现场处置通知（{place}）后，"
        "逾期既未派员处理也未说明理由。{text}", audience="leader",
    ),
    # -- correction opinions (R-NTF-05) ------------------------------------------------------
    _r(
        "correction.issued.v1", "R-NTF-05", "correction.opinion", "township_id", CORRECTION,
        "纠正意见：{case_reference}",
        "{department_id_name}提出纠正意见（{document_number}）。存在问题：{problems}。"
        "纠正意见：{opinion}。请予纠正并书面回复纠正情况。",
    ),
    _r(
        "correction.issued.v1", "R-NTF-05", "correction.copy", "justice_bureau_id", CORRECTION,
        "纠正意见抄送：{case_reference}",
        "{department_id_name}向{township_id_name}提出纠正意见（{document_number}）：{opinion}",
    ),
    _r(
        "correction.responded.v1", "R-NTF-05", "correction.responded", "department_id",
        CORRECTION, "纠正意见回复：{opinion_document_number}",
        "{township_id_name}书面回复纠正情况（{document_number}）：{corrected}",
    ),
    _r(
        "correction.responded.v1", "R-NTF-05", "correction.responded_copy", "justice_bureau_id",
        CORRECTION, "纠正情况抄送：{opinion_document_number}",
        "{township_id_name}回复{department_id_name}的纠正意见：{corrected}", receipt=False,
    ),
    # -- written participation notices (R-NTF-06) -------------------------------------------
    _r(
        "participation.notified.v1", "R-NTF-06", "participation.notice", "township_id",
        PARTICIPATION, "参与{purpose_zh}通知：{subject}",
        "{department_id_name}{form_zh}：请你单位参与{purpose_zh}，事项：{subject}，地点：{place}。",
    ),
    _r(
        "participation.written_notice_sent.v1", "R-NTF-06", "participation.written_notice",
        "township_id", PARTICIPATION, "书面通知（电话通知后补办）：{subject}",
        "{department_id_name}补办书面通知，文号：{document_number}。",
    ),
    _r(
        "participation.confirmed.v1", "R-NTF-06", "participation.confirmed", "department_id",
        PARTICIPATION, "参与确认：{subject}", "{township_id_name}确认参与人员：{participants}。",
        receipt=False,
    ),
    # -- joint ruling and clue transfer (R-SUP-04) -----------------------------------------
    _r(
        "joint_ruling.started.v1", "R-SUP-04", "joint_ruling.started",
        ("responsible_agency_id", "participant_ids"), JOINT_RULING, "启动联合裁定程序",
        "{platform_id_name}就{responsible_agency_id_name}落实不力或拒不落实启动联合裁定：{failure}",
        audience="leader",
    ),
    _r(
        "joint_ruling.ruled.v1", "R-SUP-04", "joint_ruling.ruled",
        ("responsible_agency_id", "participant_ids"), JOINT_RULING, "联合裁定结果",
        "{platform_id_name}作出联合裁定（{basis}）：{decision}", audience="leader",
    ),
    _r(
        "joint_ruling.clues_transferred.v1", "R-SUP-04", "joint_ruling.clues", "recipient_id",
        JOINT_RULING, "问题线索移交：{responsible_agency_id_name}",
        "{platform_id_name}移交{responsible_agency_id_name}落实不力或拒不落实的问题线索：{clues}",
    ),
    # -- grid dispatch (R-GRD-01): every step reaches the one who owes the next ------------
    _r(
        "dispatch.reported.v1", "R-GRD-01", "dispatch.reported", "platform_id", DISPATCH,
        "问题上报：{what}", "{place}（{area}）发现：{what}。请及时派单。",
    ),
    _r(
        "dispatch.dispatched.v1", "R-GRD-01", "dispatch.dispatched", "team_id", DISPATCH,
        "派单：{what}", "{platform_id_name}派单：{place}（{area}）{what}。请及时接单、报到、处置。",
    ),
    _r(
        "dispatch.accepted.v1", "R-GRD-01", "dispatch.accepted", "platform_id", DISPATCH,
        "执法队已接单：{what}", "{team_id_name}已接单，将赶赴{place}。",
    ),
    _r(
        "dispatch.arrived.v1", "R-GRD-01", "dispatch.arrived", "platform_id", DISPATCH,
        "执法队已报到：{what}", "{team_id_name}已到达{place}。",
    ),
    _r(
        "dispatch.handled.v1", "R-GRD-01", "dispatch.handled", "platform_id", DISPATCH,
        "处置结果反馈：{what}", "{team_id_name}处置结果：{result}",
    ),
    _r(
        "dispatch.returned.v1", "R-GRD-01", "dispatch.returned", "platform_id", DISPATCH,
        "派单退回：{what}", "{team_id_name}退回派单，理由：{reason}。请重新派单。",
    ),
    _r(
        "referral.drafted_from_dispatch.v1", "R-GRD-01", "referral.drafted_from_dispatch",
        "sender_id", REFERRAL, "派单转为移送草稿：{title}",
        "网格上报问题属{receiver_id_name}职责，已生成移送草稿。请补全事项编码、当事人，"
        "上传移送函和来源材料（现场照片）后报批移送。",
    ),
)
# fmt: on

#: Published events that address no agency, and why (R-NTF-04 applies to what is addressed).
NO_NOTICE: Mapping[str, str] = {
    "dispatch.referred.v1": "the platform's own decision (R-GRD-01); the referral service "
    "drafts the referral from it, and the department is told when the referral is sent",
    "referral.drafted.v1": "the sending agency's own draft; nothing is addressed yet",
    "referral.draft_completed.v1": "the sending agency completes its own draft; nothing is "
    "addressed yet",
    "referral.submitted.v1": "inside the sending agency (to its own leader, who approves in "
    "the graph's work list)",
    "referral.approved.v1": "inside the sending agency; the receiver is told when it is sent",
    "referral.material_changed.v1": "a draft's materials, before anything is sent",
    "referral.handled.v1": "the receiver's own step; the sender is told by the result report",
    "referral.closed.v1": "the sender closes its own file after the result",
    "complaint.registered.v1": "the registering agency owns it (首问); nobody else is addressed",
    "complaint.checked.v1": "the owner's own outcome; a referral born from it is notified as a "
    "referral when sent",
    "agency.registered.v1": "directory data, no request",
    "catalogue.entry_changed.v1": "catalogue data; changes that concern townships are "
    "announced by catalogue.change_announced.v1",
    "assistance.refused.v1": "the refusal is also in assistance.replied.v1, which tells the "
    "requester; this copy serves the accountability lists (R-SUP-03)",
    "information_query.answer_accessed.v1": "the access log of shared data (R-INF-01), read "
    "by the holder on the query",
    "joint.inspection_recorded.v1": "the record of an inspection the operation made itself; "
    "its parties read it on the operation",
    "dispute.agreement_confirmed.v1": "one party's confirmation, kept in the full-process "
    "record; the parties see who is awaited on the dispute, and the last confirmation is "
    "announced by dispute.ruled.v1",
    "deadline.missed.v1": "notify's own deadline watch puts the escalation in the leader's "
    "and the supervising body's inboxes (R-SUP-02); a late grid-dispatch step's first goes to "
    "the dispatching township's leader too, the next to the body dispatch.escalation names "
    "(R-GRD-01)",
    "calendar.schedule_published.v1": "calendar data for every service; the clocks it moves "
    "are announced one by one by deadline.moved.v1",
    "referral.crime_reported.v1": "inside the transferring agency: the written report to "
    "its own head, whose 3-day decision clock (Decree 310) is watched and escalated",
    "referral.crime_transfer_decided.v1": "inside the transferring agency; the police are "
    "told by referral.crime_transferred.v1, within the 24-hour clock this starts",
    "meeting.routine_due.v1": "the routine meeting's clock (R-MTG-01): the convener is "
    "reminded by the deadline watch before the period ends and escalated after (R-SUP-02), "
    "so a new period is not a request of its own",
    "agency.rated.v1": "an assessment (反向考评) read by the justice bureau in the supervision "
    "report, not a request to the rated agency",
    "record.checkpointed.v1": "a signed checkpoint of the full-process record (issue 16): the "
    "justice bureau's system receives it by webhook and the services keep it; nobody acts on it",
}
