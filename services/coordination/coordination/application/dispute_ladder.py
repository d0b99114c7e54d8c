"""The dispute ladder (R-DSP-02): which body decides each step, the step's clock and the
deadline it travels as. ``DisputeHandlers`` plans its steps with it."""

from __future__ import annotations

from datetime import datetime

from coordination.adapters.repository import AgencyRepository
from coordination.contracts.published import DisputeStepV1
from coordination.domain.dispute import Dispute, StepPlan
from coordination.domain.model import AgencyKind
from coordination.policy import LadderStep, policy_of
from kernel.calendar import WorkingCalendar
from kernel.contracts.deadlines import DeadlineState, DeadlineV1
from kernel.errors import InvalidState
from kernel.policy import DistrictPolicy

STEP_KIND = "dispute.step"

# Which registered agency decides a ladder step, by the step's name in the district policy
# (the policy names bodies in words; the register has their ids). The first kind with a
# registered agency wins, so a district without a separate coordination body falls back to
# its justice bureau and then the government. The negotiation step belongs to the parties.
STEP_BODY_KINDS: dict[str, tuple[AgencyKind, ...]] = {
    "coordination_body": (
        AgencyKind.COORDINATION_BODY,
        AgencyKind.JUSTICE_BUREAU,
        AgencyKind.GOVERNMENT,
    ),
    "establishment_and_justice_opinion": (AgencyKind.JUSTICE_BUREAU, AgencyKind.GOVERNMENT),
    "government_decision": (AgencyKind.GOVERNMENT,),
}
DEFAULT_BODY_KINDS = (AgencyKind.COORDINATION_BODY, AgencyKind.GOVERNMENT)


class DisputeLadder:
    """The district's ladder, read from its policy, with the register that names each
    step's deciding body."""

    agencies: AgencyRepository
    policy: DistrictPolicy
    calendar: WorkingCalendar

    @property
    def ladder(self) -> list[LadderStep]:
        return list(policy_of(self.policy).dispute.ladder)

    async def _body_for(
        self, step: LadderStep, parties: tuple[str, ...], opener: str | None
    ) -> str:
        if step.name == "negotiation":
            # The parties negotiate; the clock is kept by the one that raised the dispute
            # (or the first party when the system opened it).
            return opener if opener in parties else parties[0]
        for kind in STEP_BODY_KINDS.get(step.name, DEFAULT_BODY_KINDS):
            found = [a for a in await self.agencies.of_kind(kind.value) if not a.internal_unit]
            if found:
                return found[0].id
        raise InvalidState(
            f"no registered agency can decide step {step.step} ({step.name_zh}); register the "
            "district's coordination body and government first",
            field="step",
            code="DISTRICT_NOT_SET_UP",
        )

    async def _plan(
        self, index: int, parties: tuple[str, ...], opener: str | None, at: datetime
    ) -> StepPlan:
        """Step ``index`` (0-based) of the ladder, its deciding body and its clock (R-DSP-02)."""
        step = self.ladder[index]
        limit = step.time_limit_working_days
        rule = f"第{step.step}步 {step.name_zh}：{limit}个工作日（{step.source}）"
        deadline = self.calendar.add_working_days(at, step.time_limit_working_days, rule=rule)
        return StepPlan(
            number=step.step,
            name=step.name,
            name_zh=step.name_zh,
            decided_by_agency_id=await self._body_for(step, parties, opener),
            started_at=at,
            due=deadline.due,
            rule=rule,
            explanation=deadline.to_dict(),
            advisory=step.advisory,
        )

    def _deadline(self, d: Dispute, state: DeadlineState = "open") -> DeadlineV1:
        step = d.current_step
        return DeadlineV1(
            key=DeadlineV1.key_for("Dispute", d.id, STEP_KIND),
            kind=STEP_KIND,
            subject_type="Dispute",
            subject_id=d.id,
            responsible_agency_id=step.decided_by_agency_id,
            due=step.due,
            state=state,
            rule=step.rule,
            explanation_zh=self.calendar.explain_dict(step.explanation, lang="zh"),
            **DeadlineV1.calendar_fields(step.explanation),
        )

    @staticmethod
    def _step_v1(step: StepPlan) -> DisputeStepV1:
        return DisputeStepV1(
            number=step.number,
            name=step.name,
            name_zh=step.name_zh,
            decided_by_agency_id=step.decided_by_agency_id,
            due=step.due,
        )
