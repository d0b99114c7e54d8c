"""The referral clocks read from the district policy and the working-day calendar.

Each clock is stored with how it was computed (kernel.calendar's record) so it explains
itself later, even after the holiday data or the policy has changed.
"""

from __future__ import annotations

from datetime import datetime

from kernel.calendar import WorkingCalendar
from kernel.contracts.deadlines import DeadlineV1
from kernel.policy import DistrictPolicy
from referral.domain.model import CRIME_CLOCK_OF, CrimeStage, DeadlineInfo
from referral.policy import policy_of


class ReferralClocks:
    def __init__(self, policy: DistrictPolicy, calendar: WorkingCalendar) -> None:
        self.policy = policy
        self.sections = policy_of(policy)
        self.calendar = calendar

    def send(
        self, found_at: datetime, urgent: bool, working_days: int | None = None
    ) -> DeadlineInfo:
        """R-REF-04: from discovery; urgent cases on the 24 h clock (or at once)."""
        s = self.sections.send
        if urgent:
            if s.urgent.immediately:
                # DOMAIN §0: "immediately" is an alert now and a clock of a few hours, so
                # an urgent case is not late the moment it is found.
                hours = self.policy.immediately.limit_hours
                rule = f"情况紧急，立即移送（{hours}小时内）"
                d = self.calendar.add_hours(found_at, hours, rule=rule)
            else:
                hours = s.urgent.hours or 24
                rule = f"情况紧急，{hours}小时内移送"
                d = self.calendar.add_hours(found_at, hours, rule=rule)
        else:
            n = working_days or s.limit_working_days
            rule = f"发现之日起{n}个工作日内移送"
            if working_days:
                rule += f"（经事先告知延长，最长{s.extension_max_working_days}个工作日）"
            d = self.calendar.add_working_days(found_at, n, rule=rule)
        return DeadlineInfo("send", d.due, d.to_dict(), rule=rule)

    def accept(self, start: datetime, receiver_id: str) -> DeadlineInfo | None:
        """R-REF-06: the receiver states acceptance in writing within the limit."""
        days = self.sections.acceptance_limit_working_days()
        if days is None:
            return None
        rule = f"{days}个工作日内书面告知受理情况"
        d = self.calendar.add_working_days(start, days, rule=rule)
        return DeadlineInfo(
            "accept", d.due, d.to_dict(), rule=rule, responsible_agency_id=receiver_id
        )

    def first_receiver(self, accept: DeadlineInfo | None, start: datetime) -> DeadlineInfo:
        """CQ 四(二) 首接负责: the first receiver that forwarded the case answers for it until
        the competent agency accepts — the same due time as that agency's accept clock."""
        if accept is not None:
            due, explanation = accept.due, accept.explanation
        else:
            d = self.calendar.add_working_days(start, self.sections.acceptance.limit_working_days)
            due, explanation = d.due, d.to_dict()
        rule = "首接负责：至有管辖权的机关书面受理时止（CQ 四(二)）"
        return DeadlineInfo("first_receiver", due, explanation, rule=rule)

    def supervision(self, start: datetime, receiver_id: str) -> DeadlineInfo:
        """R-REF-13: the 督办's own clock, from the policy (its source named in the rule)."""
        sp = self.sections.supervision_answer
        n = sp.answer_limit_working_days
        rule = f"督办：{n}个工作日内书面答复或依法办理（{sp.basis_zh}）"
        d = self.calendar.add_working_days(start, n, rule=rule)
        return DeadlineInfo(
            "supervision", d.due, d.to_dict(), rule=rule, responsible_agency_id=receiver_id
        )

    def report(self, start: datetime, receiver_id: str) -> DeadlineInfo:
        """R-REF-08: the result is reported within the policy's days (日) of the written
        acceptance, the last day rolled over past a holiday (DOMAIN §0)."""
        rr = self.sections.result_report
        rule = f"自受理之日起{rr.limit_days}日内通报处理结果（{rr.basis_zh}）"
        d = self.calendar.add_calendar_days(start, rr.limit_days, rule=rule)
        return DeadlineInfo(
            "report", d.due, d.to_dict(), rule=rule, responsible_agency_id=receiver_id
        )

    def crime(self, stage: CrimeStage, start: datetime, responsible: str) -> DeadlineInfo:
        """R-REF-14: the clock of a stage of the crime route, from the policy's
        ``crime_transfer`` (Decree 310): days (日) with the last day rolled over past a
        holiday, the transfer in clock hours. After a final 不立案 the administrative case's
        new report clock (R-REF-10)."""
        if stage is CrimeStage.CLOSED_NOT_FILED:
            return self.report(start, responsible)
        c = self.sections.crime_transfer
        if stage is CrimeStage.SUPERVISION:
            # No law gives the procuratorate's supervision a limit: the policy's default.
            days = c.supervision_outcome_days
            rule = (
                f"{days}日内记录立案监督结果：公安机关依通知立案，或接受不立案决定"
                f"（{c.supervision_outcome_basis_zh}）"
            )
            d = self.calendar.add_calendar_days(start, days, rule=rule)
        elif stage is CrimeStage.APPROVED:
            rule = f"批准移送后{c.transfer_hours}小时内向公安机关移送（{c.basis_zh}第五条）"
            d = self.calendar.add_hours(start, c.transfer_hours, rule=rule)
        else:
            steps: dict[CrimeStage, tuple[int, str, str]] = {
                CrimeStage.REPORTED: (c.head_decision_days, "作出批准或者不批准移送的决定", "五"),
                CrimeStage.TRANSFERRED: (c.police_decision_days, "作出立案或者不立案的决定", "八"),
                CrimeStage.NOT_FILED: (c.reconsideration_request_days, "提请复议", "九"),
                CrimeStage.RECONSIDERATION: (c.reconsideration_answer_days, "作出复议决定", "九"),
                CrimeStage.UPHELD: (c.supervision_request_days, "建议人民检察院立案监督", "九"),
                CrimeStage.FILED: (c.handover_days, "移交涉案物品及有关材料", "十二"),
            }
            days, what, n = steps[stage]
            article = f"第{n}条"
            rule = f"{days}日内{what}（{c.basis_zh}{article}）"
            d = self.calendar.add_calendar_days(start, days, rule=rule)
        kind = CRIME_CLOCK_OF[stage]
        return DeadlineInfo(kind, d.due, d.to_dict(), rule=rule, responsible_agency_id=responsible)

    def explain(self, d: DeadlineInfo) -> str:
        return self.calendar.explain_dict(d.explanation, lang="zh") if d.explanation else ""

    def to_event(self, d: DeadlineInfo, subject_id: str) -> DeadlineV1:
        return DeadlineV1(
            key=d.key or DeadlineV1.key_for("Referral", subject_id, f"referral.{d.kind}"),
            kind=f"referral.{d.kind}",
            subject_type="Referral",
            subject_id=subject_id,
            responsible_agency_id=d.responsible_agency_id,
            due=d.due,
            state="met" if d.state == "met" else "cancelled" if d.state == "cancelled" else "open",
            rule=d.rule,
            explanation_zh=self.explain(d) or None,
            **DeadlineV1.calendar_fields(d.explanation),
        )
