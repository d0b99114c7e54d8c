"""How a caller stands to a referral or a complaint, for the authorization matrix
(``kernel.authz``): the one place the referral service turns a principal and a resource into
the relations and tags the matrix is written in."""

from __future__ import annotations

from kernel.auth import Principal
from kernel.authz import OVERSIGHT, Relation
from referral.application.matrix import MATRIX
from referral.domain.complaint import Complaint
from referral.domain.model import Referral, Route

__all__ = [
    "ReadScope",
    "authorize_referral",
    "complaint_relations",
    "may_read_complaint",
    "may_read_material_content",
    "may_read_referral",
    "may_read_referral_complaint",
    "oversight_relations",
    "read_scope",
    "referral_relations",
    "referral_tags",
]

READ = "referral.referral"
READ_CONTENT = "referral.Referral.materialContent"
READ_COMPLAINT = "referral.complaint"


def oversight_relations(p: Principal) -> set[Relation]:
    """A caller acting for a supervising body supervises every case of the district."""
    return {Relation.SUPERVISOR} if OVERSIGHT & set(p.roles) else set()


def referral_relations(p: Principal, r: Referral) -> set[Relation]:
    held = oversight_relations(p)
    if p.agency_id == r.sender_id:
        held.add(Relation.SENDER)
    if p.agency_id == r.receiver_id:
        held.add(Relation.RECEIVER)
    parties = set(r.previous_receivers)
    if r.decline_info is not None:
        parties.add(r.decline_info.interim_handler_id)
    if r.crime is not None:
        parties.add(r.crime.police_id)
    if p.agency_id in parties:
        held.add(Relation.PARTY)
    return held or {Relation.NONE}


def referral_tags(r: Referral) -> set[str]:
    return {"crime"} if r.route is Route.CRIME or r.crime is not None else set()


def complaint_relations(p: Principal, c: Complaint) -> set[Relation]:
    """The owning agency (首问, or the one that took it over) is the receiver; the agency
    that first received it, earlier owners and the agency asked to take it are parties."""
    held = oversight_relations(p)
    if p.agency_id == c.owner_agency_id:
        held.add(Relation.RECEIVER)
    parties = {c.first_agency_id, *c.previous_owners}
    if c.handover is not None:
        parties.add(c.handover.to_agency_id)
    if p.agency_id in parties - {c.owner_agency_id}:
        held.add(Relation.PARTY)
    return held or {Relation.NONE}


def may_read_referral(p: Principal, r: Referral) -> bool:
    return MATRIX.permits(p, READ, referral_relations(p, r), referral_tags(r))


def may_read_material_content(p: Principal, r: Referral) -> bool:
    return MATRIX.permits(p, READ_CONTENT, referral_relations(p, r), referral_tags(r))


def may_read_complaint(p: Principal, c: Complaint) -> bool:
    return MATRIX.permits(p, READ_COMPLAINT, complaint_relations(p, c))


def may_read_referral_complaint(p: Principal, r: Referral, c: Complaint) -> bool:
    """The complaint a referral was made from: its own readers (``referral.complaint``), and
    the staff of the referral's current receiver, which handles the case and tells the
    complainant the result (R-CMP-04). Not an earlier receiver, the police of a crime
    transfer or the procuratorate: they read the case, never the complainant's data."""
    if may_read_complaint(p, c):
        return True
    return (
        not referral_tags(r)
        and Relation.RECEIVER in referral_relations(p, r)
        and MATRIX.permits(p, READ_COMPLAINT, {Relation.RECEIVER})
    )


def authorize_referral(p: Principal, operation: str, r: Referral) -> None:
    MATRIX.authorize(p, f"referral.{operation}", referral_relations(p, r), referral_tags(r))


class ReadScope:
    """What a list query may return, derived from the read rules of the matrix."""

    ALL = "all"  # the whole district
    CRIME = "crime"  # suspected-crime referrals only
    OWN = "own"  # the caller's agency's cases
    NOTHING = "nothing"


def read_scope(p: Principal, operation: str = READ) -> str:
    supervising = oversight_relations(p)
    if supervising and MATRIX.permits(p, operation, supervising):
        return ReadScope.ALL
    if supervising and MATRIX.permits(p, operation, supervising, {"crime"}):
        return ReadScope.CRIME
    sides = {Relation.SENDER, Relation.RECEIVER, Relation.PARTY}
    if any(MATRIX.permits(p, operation, {rel}) for rel in sides):
        return ReadScope.OWN
    return ReadScope.NOTHING
