"""The referral (案件移送) model: the aggregate, its value objects and the drafting rules.

``aggregate`` holds :class:`Referral`, its states (:class:`Status`) and its transitions;
``values`` the records it keeps (actors, agencies, materials, clocks, competence, decline,
ruling, ...) with the checks of a single record (a material, an extension, an upward
transfer); ``drafting`` how a referral starts (:func:`draft_referral`: parties and route)
and the competence check. Import from ``referral.domain.model``.
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
from referral.domain.model.drafting import check_competence, draft_referral
from referral.domain.model.values import (
    ALLOWED_MEDIA_TYPES,
    MAX_MATERIAL_BYTES,
    Actor,
    AgencyRef,
    Competence,
    CrimeTransfer,
    DeadlineInfo,
    Decline,
    Extension,
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
    "JUDICIAL_KINDS",
    "MAX_MATERIAL_BYTES",
    "MOVABLE_AT_DELEGATION",
    "OPEN_AFTER_SENDING",
    "Actor",
    "AgencyRef",
    "Competence",
    "CrimeTransfer",
    "DeadlineInfo",
    "Decline",
    "Extension",
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
