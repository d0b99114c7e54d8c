"""Command handlers of four duties between agencies that each reach an addressee with a
clock: on-site dispatch (立即派员现场处置, R-REF-15), correction opinions (纠正意见, R-NTF-05),
written participation notices (书面通知, R-NTF-06) and the platform's joint ruling with clue
transfer (联合裁定 / 移交线索, R-SUP-04). Each command loads the aggregate, lets the domain
decide, and writes the new state with its events in one conditional update (the outbox);
notify's notification matrix puts the events in the addressees' inboxes."""

from __future__ import annotations

from dataclasses import dataclass

from coordination.adapters.duties import (
    CorrectionRepository,
    JointRulingRepository,
    OnSiteRepository,
    ParticipationRepository,
)
from coordination.application.duties.corrections import (
    CorrectionHandlers,
    IssueCorrectionOpinion,
    RespondToCorrectionOpinion,
)
from coordination.application.duties.joint_rulings import (
    JointRulingHandlers,
    RuleJointRuling,
    StartJointRuling,
    TransferClues,
)
from coordination.application.duties.on_site import (
    DispatchOnSiteStaff,
    ExplainOnSite,
    NotifyOnSite,
    OnSiteHandlers,
    RecordOnSiteArrival,
    RecordOnSiteHandling,
    ReportOnSiteToGovernment,
    on_site_id_for_referral,
)
from coordination.application.duties.participation import (
    ConfirmParticipation,
    NotifyParticipation,
    ParticipationHandlers,
    PhoneNoticeInput,
    SendParticipationWrittenNotice,
)

__all__ = [
    "ConfirmParticipation",
    "CorrectionHandlers",
    "DispatchOnSiteStaff",
    "Duties",
    "ExplainOnSite",
    "IssueCorrectionOpinion",
    "JointRulingHandlers",
    "NotifyOnSite",
    "NotifyParticipation",
    "OnSiteHandlers",
    "ParticipationHandlers",
    "PhoneNoticeInput",
    "RecordOnSiteArrival",
    "RecordOnSiteHandling",
    "ReportOnSiteToGovernment",
    "RespondToCorrectionOpinion",
    "RuleJointRuling",
    "SendParticipationWrittenNotice",
    "StartJointRuling",
    "TransferClues",
    "on_site_id_for_referral",
]


@dataclass
class Duties:
    """The four handler sets, as the graph's context and the bootstrap hold them."""

    on_site: OnSiteHandlers
    corrections: CorrectionHandlers
    participation: ParticipationHandlers
    joint_rulings: JointRulingHandlers

    def repositories(
        self,
    ) -> tuple[
        OnSiteRepository, CorrectionRepository, ParticipationRepository, JointRulingRepository
    ]:
        return (
            self.on_site.requests,
            self.corrections.opinions,
            self.participation.notices,
            self.joint_rulings.rulings,
        )
