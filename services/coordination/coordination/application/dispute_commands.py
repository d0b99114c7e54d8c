"""The commands of the dispute ladder (R-DSP-01 … R-DSP-04)."""

from __future__ import annotations

from dataclasses import dataclass


def dispute_id_for_referral(referral_id: str) -> str:
    """One dispute per declined referral: the id is derived from the referral's, so a
    redelivered decline (or a second opening by hand) collides instead of duplicating."""
    return f"dsp-ref-{referral_id}"


@dataclass(frozen=True)
class OpenDispute:
    matter_code: str
    township_id: str
    party_ids: tuple[str, ...]
    reasons: str
    interim_handler_id: str | None
    referral_id: str | None = None
    matter_name: str = ""


@dataclass(frozen=True)
class EscalateDispute:
    """R-DSP-02: a party takes the dispute one step up."""

    dispute_id: str


@dataclass(frozen=True)
class GiveDisputeOpinion:
    """R-DSP-02: an advisory step's body gives its opinion; the next step decides."""

    dispute_id: str
    opinion: str


@dataclass(frozen=True)
class RuleDispute:
    """R-DSP-03: minutes (from ``meeting_id``) or a decision. An agreement is proposed and
    confirmed instead (``ProposeDisputeAgreement``, ``ConfirmDisputeAgreement``)."""

    dispute_id: str
    outcome_kind: str  # minutes | decision (agreement: refused, see above)
    basis: str
    responsible_agency_id: str
    meeting_id: str | None = None
    """MINUTES: the consultation meeting whose agreed, issued minutes settle it (R-MTG-01)."""


@dataclass(frozen=True)
class ProposeDisputeAgreement:
    """R-DSP-03: a party proposes the agreement (协议) that settles the dispute."""

    dispute_id: str
    basis: str
    responsible_agency_id: str


@dataclass(frozen=True)
class ConfirmDisputeAgreement:
    """R-DSP-03: a party's leader confirms revision ``revision`` of the proposed agreement."""

    dispute_id: str
    revision: int


@dataclass(frozen=True)
class RequestCaseTransfer:
    """R-DSP-04: a township asks that a case go to the original department."""

    matter_code: str
    township_id: str
    reason: str  # major | complex | recusal
    explanation: str
    department_id: str | None = None
    referral_id: str | None = None
    decision_basis: str = ""
    """When the government decides by itself (no request first), its decision's 文号."""
