"""On-site requests (R-REF-15), correction opinions (R-NTF-05), participation notices
(R-NTF-06) and joint rulings (R-SUP-04) in the document store, with the generic mapping of
``adapters.cooperation``."""

from __future__ import annotations

from coordination.adapters.cooperation import RequestRepository
from coordination.domain.correction import CorrectionOpinion
from coordination.domain.joint_ruling import JointRuling
from coordination.domain.onsite import OnSiteRequest
from coordination.domain.participation import ParticipationNotice


class OnSiteRepository(RequestRepository[OnSiteRequest]):
    name = "on_site_requests"
    model = OnSiteRequest
    agency_fields = ("notifier_id", "receiver_id")
    # The government becomes a party once the request is reported to it (HL 四(四)).
    party_fields = ("notifier_id", "receiver_id", "report.government_id")
    indexes = (
        ("by_notifier", (("notifier_id", 1), ("_id", 1))),
        ("by_receiver", (("receiver_id", 1), ("_id", 1))),
    )


class CorrectionRepository(RequestRepository[CorrectionOpinion]):
    name = "correction_opinions"
    model = CorrectionOpinion
    agency_fields = ("department_id", "township_id")
    party_fields = ("department_id", "township_id", "justice_bureau_id")
    indexes = (
        ("by_department", (("department_id", 1), ("_id", 1))),
        ("by_township", (("township_id", 1), ("_id", 1))),
        ("by_justice_bureau", (("justice_bureau_id", 1), ("_id", 1))),
    )


class ParticipationRepository(RequestRepository[ParticipationNotice]):
    name = "participation_notices"
    model = ParticipationNotice
    agency_fields = ("department_id", "township_id")
    party_fields = ("department_id", "township_id")
    indexes = (
        ("by_department", (("department_id", 1), ("_id", 1))),
        ("by_township", (("township_id", 1), ("_id", 1))),
    )


class JointRulingRepository(RequestRepository[JointRuling]):
    name = "joint_rulings"
    model = JointRuling
    agency_fields = ("platform_id", "responsible_agency_id")
    party_fields = (
        "platform_id",
        "responsible_agency_id",
        "participant_ids",
        "transfers.recipient_id",
    )
    indexes = (
        ("by_platform", (("platform_id", 1), ("_id", 1))),
        ("by_responsible", (("responsible_agency_id", 1), ("_id", 1))),
    )
