"""What a receiver may not do with a referral it was sent (R-REF-06, R-REF-07): the checks
of declining it and of passing it on to the agency with jurisdiction. Pure Python; the
aggregate (:meth:`Referral.decline`, :meth:`Referral.forward`) checks its state first and
records the act after."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kernel.errors import Forbidden, InvalidState, ValidationFailed
from referral.domain.model.values import AgencyRef, Competence, Route

if TYPE_CHECKING:
    from referral.domain.model.aggregate import Referral


def check_decline(
    r: Referral,
    *,
    may_refuse: bool,
    reasons: str,
    catalogue_basis: str,
    interim_handler: AgencyRef | None,
    interim_handler_id: str,
) -> AgencyRef:
    """R-REF-07: the district lets the receiver refuse, no binding ruling named it, the
    reasons cite the catalogue, and the interim handler acts externally. Returns that
    handler."""
    if not may_refuse:
        raise Forbidden(
            "in this district the receiving agency may not refuse a referral "
            "(不得拒绝接受, R-REF-06)",
            field="status",
            code="MAY_NOT_REFUSE",
        )
    if r.route is Route.CRIME:
        raise InvalidState(
            "public security records 立案 or 不立案 instead (R-REF-10)", code="WRONG_ROUTE"
        )
    confirmed = [x for x in r.rulings if x.responsible_agency_id == r.receiver_id]
    if confirmed:
        raise Forbidden(
            f"a binding ruling ({confirmed[-1].basis or confirmed[-1].dispute_id}) named "
            "this agency responsible; it cannot decline again (R-DSP-03)",
            field="status",
            code="MAY_NOT_REFUSE",
        )
    if not reasons.strip():
        raise ValidationFailed("state the reasons for declining", field="reasons", code="REQUIRED")
    if not catalogue_basis.strip():
        raise ValidationFailed(
            "cite the catalogue entry (事项清单) the decline rests on (R-REF-07)",
            field="catalogueBasis",
            code="LEGAL_BASIS_REQUIRED",
        )
    if interim_handler is None:
        raise ValidationFailed(
            f"interim handler {interim_handler_id!r} is not a registered agency; name who "
            "acts meanwhile (先予协同处置, R-REF-07)",
            field="interimHandlerId",
            code="AGENCY_NOT_REGISTERED",
        )
    if interim_handler.internal_unit:
        raise ValidationFailed(
            f"{interim_handler.name} is an internal unit (R-AG-02)",
            field="interimHandlerId",
            code="INTERNAL_UNIT",
        )
    return interim_handler


def check_forward(
    r: Referral,
    *,
    may_forward: bool,
    to: AgencyRef | None,
    to_id: str,
    reasons: str,
    competence: Competence,
) -> AgencyRef:
    """R-REF-07, CQ 四(二): only where the district gives the route, only to the agency the
    catalogue names competent, never by that agency itself. Returns the agency it goes to."""
    if not may_forward:
        raise Forbidden(
            "in this district a receiver may not pass a case on to a third agency "
            "(不得再行移送, R-REF-07); decline it instead",
            field="id",
            code="MAY_NOT_REFUSE",
        )
    if r.route is Route.CRIME:
        raise InvalidState(
            "public security records 立案 or 不立案 instead (R-REF-10)", code="WRONG_ROUTE"
        )
    competent = competence.resolved_agency_id
    if competent == r.receiver_id:
        raise Forbidden(
            f"the catalogue names this agency competent ({competence.explanation}); it "
            "may not refuse the case or pass it on (不得拒绝接受, CQ 四(二))",
            field="id",
            code="MAY_NOT_REFUSE",
        )
    if competent is None:
        raise ValidationFailed(
            f"the catalogue names no competent agency ({competence.explanation}); ask the "
            "coordination body to designate one (R-CAT-04)",
            field="toAgencyId",
            code="WRONG_JURISDICTION",
        )
    if to_id != competent:
        raise ValidationFailed(
            f"the case goes to the agency with jurisdiction, {competent!r} per the "
            f"catalogue ({competence.explanation}), not {to_id!r}",
            field="toAgencyId",
            code="WRONG_JURISDICTION",
        )
    if to is None or to.internal_unit:
        raise ValidationFailed(
            f"{to_id!r} is not an agency that acts externally (R-AG-02)",
            field="toAgencyId",
            code="WRONG_AGENCY_KIND",
        )
    if not reasons.strip():
        raise ValidationFailed(
            "state why the case is not this agency's", field="reasons", code="REQUIRED"
        )
    return to
