"""What the four duty handler sets share: reading under the matrix, loading for a command,
saving with events, and the agency kinds each duty involves."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Generic, TypeVar

from coordination.application import access
from coordination.application.actors import acting
from coordination.application.cooperation import DEPARTMENT_KINDS, _Base
from coordination.domain import correction as cor
from coordination.domain import joint_ruling as jr
from coordination.domain import onsite as ons
from coordination.domain import participation as par
from coordination.domain.cooperation import Actor
from coordination.domain.model import AgencyKind
from kernel.authz import Relation
from kernel.caller import Caller
from kernel.contracts.deadlines import DeadlineV1
from kernel.envelope import EventPayload
from kernel.errors import InvalidState, NotFound

__all__ = ["CLUE_RECIPIENT_KINDS", "NOTIFIER_KINDS", "ON_SITE_RECEIVER_KINDS", "A", "_DutyHandlers"]

#: Who may tell another agency of an urgent case or hazard (a patrol-only centre finds them
#: too, R-AG-01), and who may be told to send enforcement staff (it enforces).
NOTIFIER_KINDS = {AgencyKind.TOWNSHIP, *DEPARTMENT_KINDS, AgencyKind.MANAGEMENT_CENTRE}
ON_SITE_RECEIVER_KINDS = {AgencyKind.TOWNSHIP, *DEPARTMENT_KINDS}
#: Who receives clues (R-SUP-04, HC #11: 纪委监委、组织部).
CLUE_RECIPIENT_KINDS = {AgencyKind.DISCIPLINE_COMMISSION, AgencyKind.ORGANISATION_DEPARTMENT}

A = TypeVar("A", ons.OnSiteRequest, cor.CorrectionOpinion, par.ParticipationNotice, jr.JointRuling)


class _DutyHandlers(_Base, Generic[A]):
    """Reading under the matrix's read rule, loading for a command, saving with events."""

    read_operation: str
    noun: str
    subject_type: str

    def __init__(self, repository: Any, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.repository = repository

    def _relations(self, actor: Actor, found: A) -> set[Relation]:
        raise NotImplementedError

    async def visible(self, aggregate_id: str, caller: Caller) -> A | None:
        """The aggregate when the caller may read it; None when absent or not its to see."""
        actor = acting(caller)
        found: A | None = await self.repository.get(aggregate_id)
        if found is None:
            return None
        return (
            found if access.may(actor, self.read_operation, self._relations(actor, found)) else None
        )

    async def list_visible(
        self, *, agency_id: str | None, after: str | None, limit: int, caller: Caller
    ) -> list[A]:
        rows: list[A] = await self.repository.list(
            agency_id=agency_id,
            after=after,
            limit=limit,
            party_id=access.own_scope(acting(caller), self.read_operation),
        )
        return rows

    async def count_visible(self, *, agency_id: str | None, caller: Caller) -> int:
        """How many records :meth:`list_visible` pages through, all pages together."""
        count: int = await self.repository.count_listed(
            agency_id=agency_id,
            party_id=access.own_scope(acting(caller), self.read_operation),
        )
        return count

    async def _authorized(self, aggregate_id: str, actor: Actor, operation: str) -> A:
        found: A | None = await self.repository.get(aggregate_id)
        if found is None:
            raise NotFound(f"{self.noun} {aggregate_id!r} does not exist", field="id")
        access.authorize_on(actor, operation, self._relations(actor, found))
        return found

    def _deadlines_of(self, a: A, *kinds: str) -> list[DeadlineV1]:
        return self._deadlines(self.subject_type, a.id, a.clocks, *kinds)

    async def _add(self, a: A, payload: EventPayload, correlation_id: str | None) -> A:
        await self.repository.add(a, [self._event(payload, a.id, correlation_id)])
        return replace(a, version=1)

    async def _save(self, after: A, payload: EventPayload, correlation_id: str | None) -> A:
        version = await self.repository.save(
            after, [self._event(payload, after.id, correlation_id)]
        )
        return replace(after, version=version)

    async def _one_of_kind(self, kind: AgencyKind, field: str, what: str) -> str:
        found = [a for a in await self.agencies.of_kind(kind.value) if not a.internal_unit]
        if not found:
            raise InvalidState(
                f"no {what} is registered in the district", field=field, code="DISTRICT_NOT_SET_UP"
            )
        return found[0].id

    @staticmethod
    def _actor_fields(actor: Actor, before: Any, after: Any) -> dict[str, Any]:
        return dict(
            actor_id=actor.person_id,
            actor_agency_id=actor.agency_id,
            state_before=before.status.value if before is not None else None,
            state_after=after.status.value,
        )
