"""How a caller stands to a coordination resource, for the authorization matrix
(``kernel.authz``, docs/authorization.md): the one place the coordination service turns an
actor and an aggregate into the relations the matrix is written in.

* dispute (争议): every party, the interim handler, the township where it arose and the body
  deciding the current step are ``PARTY`` (the domain then tells which of them may record
  which outcome);
* assistance (协助执法) / technical support (技术支持) / information query (信息查询): the
  requester (the township, for technical support) is ``SENDER``, the agency asked (helper,
  department, holder) is ``RECEIVER``, the legal office mediating a refusal is ``PARTY``;
* meeting (协调会商): the convener is ``SENDER``, the invited agencies are ``PARTY``;
* joint operation (联合执法): the lead agency is ``SENDER``, the cooperating agencies ``PARTY``;
* a catalogue entry (事项清单): its original department is ``RECEIVER`` (it owns the power);
  registering agencies and designating owners have no resource relation — roles only.

Callers holding an oversight role (government, coordinator, supervisor, judicial observer)
hold ``SUPERVISOR`` to every resource of the district; the matrix decides what that allows.
"""

from __future__ import annotations

from collections.abc import Iterable

from coordination.application.matrix import MATRIX
from coordination.domain.assistance import AssistanceRequest
from coordination.domain.dispute import Actor, Dispute
from coordination.domain.information import InformationQuery
from coordination.domain.joint import JointOperation
from coordination.domain.meetings import Meeting
from coordination.domain.technical import TechnicalSupportRequest
from kernel.authz import OVERSIGHT, Caller, Relation

__all__ = [
    "Scope",
    "assistance_relations",
    "authorize_on",
    "dispute_relations",
    "information_relations",
    "joint_relations",
    "list_scope",
    "may",
    "meeting_relations",
    "oversight_relations",
    "own_scope",
    "relations_to",
    "technical_relations",
]

SERVICE = "coordination"


def oversight_relations(actor: Caller) -> set[Relation]:
    """A caller acting for a supervising body supervises every resource of the district."""
    return {Relation.SUPERVISOR} if OVERSIGHT & set(actor.roles) else set()


def relations_to(
    actor: Actor,
    *,
    sender: Iterable[str | None] = (),
    receiver: Iterable[str | None] = (),
    party: Iterable[str | None] = (),
) -> set[Relation]:
    """The caller's relations given who sends, receives and takes part (agency ids)."""
    held = oversight_relations(actor)
    agency = actor.agency_id
    if agency:
        for relation, ids in (
            (Relation.SENDER, sender),
            (Relation.RECEIVER, receiver),
            (Relation.PARTY, party),
        ):
            if agency in set(ids):
                held.add(relation)
    return held or {Relation.NONE}


def dispute_relations(actor: Actor, d: Dispute) -> set[Relation]:
    return relations_to(
        actor,
        party=(
            *d.parties,
            d.interim_handler_id,
            d.township_id,
            d.current_step.decided_by_agency_id,
        ),
    )


def assistance_relations(actor: Actor, r: AssistanceRequest) -> set[Relation]:
    mediator = (r.mediation.mediator_agency_id,) if r.mediation else ()
    return relations_to(actor, sender=[r.requester_id], receiver=[r.helper_id], party=mediator)


def technical_relations(actor: Actor, r: TechnicalSupportRequest) -> set[Relation]:
    return relations_to(actor, sender=[r.township_id], receiver=[r.department_id])


def information_relations(actor: Actor, q: InformationQuery) -> set[Relation]:
    return relations_to(actor, sender=[q.requester_id], receiver=[q.holder_id])


def meeting_relations(actor: Actor, m: Meeting) -> set[Relation]:
    return relations_to(actor, sender=[m.convener_id], party=m.attendee_ids)


def joint_relations(actor: Actor, o: JointOperation) -> set[Relation]:
    return relations_to(actor, sender=[o.lead_id], party=o.cooperating_ids)


def authorize_on(
    actor: Actor, operation: str, relations: Iterable[Relation], *, field: str | None = None
) -> None:
    """``authorize`` for ``coordination.<operation>``; raises ``Forbidden``."""
    MATRIX.authorize(actor, f"{SERVICE}.{operation}", relations, field=field)


def may(actor: Actor, operation: str, relations: Iterable[Relation]) -> bool:
    return MATRIX.permits(actor, f"{SERVICE}.{operation}", relations)


class Scope:
    """What a list query may return, from the read rule of the matrix."""

    ALL = "all"  # the whole district
    OWN = "own"  # resources the caller's agency takes part in
    NOTHING = "nothing"


def list_scope(actor: Actor, operation: str) -> str:
    supervising = oversight_relations(actor)
    if supervising and may(actor, operation, supervising):
        return Scope.ALL
    if actor.agency_id and any(
        may(actor, operation, {rel}) for rel in (Relation.SENDER, Relation.RECEIVER, Relation.PARTY)
    ):
        return Scope.OWN
    return Scope.NOTHING


def own_scope(actor: Actor, operation: str) -> str | None:
    """The party filter a list query runs with: None (no restriction) when the caller reads
    the whole district, its own agency when it reads the resources it takes part in, ``""``
    (no agency: nothing) when it reads nothing."""
    scope = list_scope(actor, operation)
    if scope == Scope.ALL:
        return None
    return (actor.agency_id or "") if scope == Scope.OWN else ""
