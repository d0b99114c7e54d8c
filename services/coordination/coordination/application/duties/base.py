"""What the four duty handler sets share: what every record of a request or a duty shares
(``cooperation._RecordSteps``: reading under the matrix, the command path, saving with
events), their lists, and the agency kinds each duty involves."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from coordination.application import access
from coordination.application.actors import acting
from coordination.application.cooperation import DEPARTMENT_KINDS, _RecordSteps
from coordination.domain import correction as cor
from coordination.domain import joint_ruling as jr
from coordination.domain import onsite as ons
from coordination.domain import participation as par
from coordination.domain.model import AgencyKind
from kernel.caller import Caller
from kernel.errors import InvalidState

__all__ = ["CLUE_RECIPIENT_KINDS", "NOTIFIER_KINDS", "ON_SITE_RECEIVER_KINDS", "A", "_DutyHandlers"]

#: Who may tell another agency of an urgent case or hazard (a patrol-only centre finds them
#: too, R-AG-01), and who may be told to send enforcement staff (it enforces).
NOTIFIER_KINDS = {AgencyKind.TOWNSHIP, *DEPARTMENT_KINDS, AgencyKind.MANAGEMENT_CENTRE}
ON_SITE_RECEIVER_KINDS = {AgencyKind.TOWNSHIP, *DEPARTMENT_KINDS}
#: Who receives clues (R-SUP-04, HC #11: 纪委监委、组织部).
CLUE_RECIPIENT_KINDS = {AgencyKind.DISCIPLINE_COMMISSION, AgencyKind.ORGANISATION_DEPARTMENT}

A = TypeVar("A", ons.OnSiteRequest, cor.CorrectionOpinion, par.ParticipationNotice, jr.JointRuling)


class _DutyHandlers(_RecordSteps[A], Generic[A]):
    """A duty's handlers: :class:`_RecordSteps` (reading one, the command path, the fields
    its events carry from :meth:`_fields`) and its list."""

    def __init__(self, repository: Any, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.repository = repository
        self._repository = repository

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

    async def _one_of_kind(self, kind: AgencyKind, field: str, what: str) -> str:
        found = [a for a in await self.agencies.of_kind(kind.value) if not a.internal_unit]
        if not found:
            raise InvalidState(
                f"no {what} is registered in the district", field=field, code="DISTRICT_NOT_SET_UP"
            )
        return found[0].id
