"""How a caller stands to what notify keeps, for the authorization matrix (``kernel.authz``,
docs/authorization.md): the one place notify turns a principal and a resource into the
relations the matrix is written in.

* an inbox (收件箱) and its items: the addressed agency is ``RECEIVER``;
* the full-process record (执法全过程记录): an agency is ``RECEIVER`` of the entries that
  name it;
* the supervision reports (月提示 / 季通报): the justice bureau they are addressed to is
  ``RECEIVER``;
* a webhook subscription: the agency that owns it is ``RECEIVER``;
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
    "INBOX",
    "RECORD",
    "agency_relations",
    "authorize_on",
    "may",
    "oversight_relations",
    "own_name",
    "record_scope",
]

SERVICE = "notify"
INBOX = "inbox"
RECORD = "processRecord"


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


def record_scope(p: Principal) -> str | None:
    """The agency whose entries of the full-process record the caller reads: None for the
    whole district; its own agency otherwise. Raises ``Forbidden`` when it reads none."""
    supervising = oversight_relations(p)
    if supervising and may(p, RECORD, supervising):
        return None
    authorize_on(p, RECORD, {Relation.RECEIVER}, field="filter.agencyId")
    return p.agency_id
