"""How a caller stands to what notify keeps, for the authorization matrix (``kernel.authz``,
docs/authorization.md): the one place notify turns a principal and a resource into the
relations the matrix is written in.

* an inbox (收件箱) and its items: the addressed agency is ``RECEIVER``;
* the full-process record (执法全过程记录): an agency is ``RECEIVER`` of the entries that
  name it;
* the supervision reports (月提示 / 季通报): the justice bureau they are addressed to is
  ``RECEIVER``;
* a webhook subscription: the agency that owns it is ``RECEIVER``; an event fanned out to
  it: the owning agency is ``PARTY`` when the event names it, ``SUPERVISOR`` when it is a
  supervising body of the district (the procuratorate: suspected-crime transfers only);
* what an agency reports or rates in its own name (抄告, hazards, 反向考评): ``SENDER``.

Oversight roles (government, coordinator, supervisor, judicial observer) hold ``SUPERVISOR``
to everything of the district; the matrix decides what that allows.
"""

from __future__ import annotations

from collections.abc import Iterable

from kernel.auth import Principal
from kernel.authz import OVERSIGHT, Relation
from notify.application.matrix import MATRIX

__all__ = [
    "BUREAU_SYSTEM",
    "INBOX",
    "RECORD",
    "WORK_QUEUE",
    "agency_relations",
    "authorize_on",
    "may",
    "oversight_relations",
    "own_name",
    "record_crime_only",
    "record_scope",
    "webhook_may_receive",
]

SERVICE = "notify"
INBOX = "inbox"
RECORD = "processRecord"
WORK_QUEUE = "workQueue"


#: Agency kinds that supervise the district (the justice bureau, the government, the
#: coordination body): their systems receive its events.
SUPERVISING_KINDS = frozenset({"justice_bureau", "government", "coordination_body"})
#: Events of the district's public directory and matter catalogue (R-CAT-02).
PUBLIC_EVENTS = frozenset(
    {"agency.registered.v1", "catalogue.entry_changed.v1", "catalogue.change_announced.v1"}
)
#: The transfers of suspected crimes the procuratorate supervises (两法衔接, R-REF-10).
CRIME_EVENTS = frozenset(
    {
        "referral.crime_transferred.v1",
        "referral.police_decided.v1",
        "referral.crime_reported.v1",
        "referral.crime_transfer_decided.v1",
        "referral.crime_reconsideration_requested.v1",
        "referral.crime_supervision_requested.v1",
        "referral.crime_case_reopened.v1",
        "referral.crime_materials_handed_over.v1",
        "referral.crime_fine_paid_recorded.v1",
    }
)


class _System:
    """A bureau's system as the matrix sees it at fan-out (no person is asking)."""

    roles: tuple[str, ...] = ("bureau_system",)


BUREAU_SYSTEM = _System()


def webhook_may_receive(
    owner_agency_id: str, owner_kind: str | None, event_type: str, named: Iterable[str]
) -> bool:
    """Whether an event goes to a webhook of ``owner_agency_id``, by the matrix's
    ``notify.webhookEvent``: the agency is named in it (a party), or supervises the district
    (the procuratorate: crime transfers only), or the event is public."""
    held: set[Relation] = set()
    if owner_agency_id in set(named):
        held.add(Relation.PARTY)
    if owner_kind in SUPERVISING_KINDS or (
        owner_kind == "procuratorate" and event_type in CRIME_EVENTS
    ):
        held.add(Relation.SUPERVISOR)
    tags = {"public"} if event_type in PUBLIC_EVENTS else set()
    return MATRIX.permits(BUREAU_SYSTEM, f"{SERVICE}.webhookEvent", held, tags)


def oversight_relations(p: Principal) -> set[Relation]:
    return {Relation.SUPERVISOR} if OVERSIGHT & set(p.roles) else set()


def agency_relations(p: Principal, agency_id: str | None) -> set[Relation]:
    """RECEIVER when ``agency_id`` (the addressee, owner) is the caller's agency."""
    held = oversight_relations(p)
    if agency_id is not None and p.agency_id == agency_id:
        held.add(Relation.RECEIVER)
    return held or {Relation.NONE}


def own_name(p: Principal) -> set[Relation]:
    """The caller's agency acts in its own name: it is the sender of what it reports."""
    return {Relation.SENDER, *oversight_relations(p)}


def may(p: Principal, operation: str, relations: Iterable[Relation]) -> bool:
    return MATRIX.permits(p, f"{SERVICE}.{operation}", relations)


def authorize_on(
    p: Principal, operation: str, relations: Iterable[Relation], *, field: str | None = None
) -> None:
    MATRIX.authorize(p, f"{SERVICE}.{operation}", relations, field=field)


def record_crime_only(p: Principal) -> bool:
    """Whether the caller reads only the suspected-crime entries of the record (the
    procuratorate's observers: 两法衔接 supervision, R-REF-14; issue 16, finding 3)."""
    supervising = oversight_relations(p)
    return (
        bool(supervising)
        and not may(p, RECORD, supervising)
        and (MATRIX.permits(p, f"{SERVICE}.{RECORD}", supervising, {"crime"}))
    )


def record_scope(p: Principal) -> str | None:
    """The agency whose entries of the full-process record the caller reads: None for the
    whole district; its own agency otherwise. Raises ``Forbidden`` when it reads none."""
    supervising = oversight_relations(p)
    if supervising and may(p, RECORD, supervising):
        return None
    authorize_on(p, RECORD, {Relation.RECEIVER}, field="filter.agencyId")
    return p.agency_id
