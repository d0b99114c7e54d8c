"""The referral (案件移送) model: the aggregate, its value objects and the drafting rules.

``aggregate`` holds :class:`Referral` and its transitions, ``states`` its states
(:class:`Status`) and the record of an act, ``refusals`` the checks of a decline or a
forward, ``upward`` the upward transfer's consent and filing (R-REF-09), ``supervision``
督办 and its answer (R-REF-13); ``values`` the records it keeps (actors, agencies,
materials, clocks, competence, decline, ruling, ...) with the checks of a single record (a
material, an extension, an upward transfer); ``drafting`` how a referral starts
(:func:`draft_referral`: parties and route) and the competence check; ``crime`` the crime
route (R-REF-10, R-REF-14, Decree 310; the acts after the transfer in ``crime_police``,
their shared checks in ``crime_steps``). Import from ``referral.domain.model`` (the crime
route's acts from ``referral.domain.model.crime``).
"""

from __future__ import annotations

from referral.domain.model.aggregate import (
    JUDICIAL_KINDS,
    MOVABLE_AT_DELEGATION,
    OPEN_AFTER_SENDING,
    Referral,
    Status,
    Transition,
)
from referral.domain.model.crime import ENDED as CRIME_ENDED
from referral.domain.model.drafting import check_competence, draft_referral
from referral.domain.model.values import (
    ALLOWED_MEDIA_TYPES,
    CRIME_CLOCK_OF,
    CRIME_CLOCKS,
    MAX_MATERIAL_BYTES,
    Actor,
    AgencyRef,
    Competence,
    CrimeStage,
    CrimeTransfer,
    DeadlineInfo,
    Decline,
    Extension,
    FinePaid,
    Material,
    MaterialKind,
    OngoingViolation,
    Penalty,
    Route,
    Ruling,
    Signature,
    Supervision,
    UpwardTransfer,
)

__all__ = [
    "ALLOWED_MEDIA_TYPES",
    "CRIME_CLOCKS",
    "CRIME_CLOCK_OF",
    "CRIME_ENDED",
    "JUDICIAL_KINDS",
    "MAX_MATERIAL_BYTES",
    "MOVABLE_AT_DELEGATION",
    "OPEN_AFTER_SENDING",
    "Actor",
    "AgencyRef",
    "Competence",
    "CrimeStage",
    "CrimeTransfer",
    "DeadlineInfo",
    "Decline",
    "Extension",
    "FinePaid",
    "Material",
    "MaterialKind",
    "OngoingViolation",
    "Penalty",
    "Referral",
    "Route",
    "Ruling",
    "Signature",
    "Status",
    "Supervision",
    "Transition",
    "UpwardTransfer",
    "check_competence",
    "draft_referral",
]
