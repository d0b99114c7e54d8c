"""The read side of the coordination service for the graph: the agency directory and the
matter catalogue (public within the district, R-CAT-02), and disputes scoped to what the
authorization matrix lets the caller read. The request lists (assistance, technical support,
information) read through their handlers' ``list_visible``."""

from __future__ import annotations

from coordination.adapters.repository import (
    AgencyRepository,
    CatalogueRepository,
    DisputeRepository,
)
from coordination.application import access
from coordination.application.actors import acting
from coordination.application.stalls import StallCheck
from coordination.domain.catalogue import CatalogueEntry
from coordination.domain.dispute import Dispute
from coordination.domain.model import Agency
from kernel.caller import Caller
from kernel.keyset import ListQuery

__all__ = ["CoordinationQueries"]


class CoordinationQueries:
    def __init__(
        self,
        agencies: AgencyRepository,
        catalogue: CatalogueRepository,
        disputes: DisputeRepository,
        stalls: StallCheck | None = None,
    ) -> None:
        self.stall_check = stalls
        self._agencies = agencies
        self._catalogue = catalogue
        self._disputes = disputes

    async def agencies_by_id(self, ids: list[str]) -> list[Agency | None]:
        """The agencies of ``ids`` in that order (None where unknown), for a batch loader."""
        found = await self._agencies.read_many(ids)
        return [found.get(i) for i in ids]

    async def agencies(self, *, kind: str | None, after: str | None, limit: int) -> list[Agency]:
        return await self._agencies.list(kind=kind, after=after, limit=limit)

    async def agencies_count(self, *, kind: str | None) -> int:
        """How many agencies :meth:`agencies` pages through, all pages together."""
        return await self._agencies.count(kind=kind)

    async def catalogue_entry(self, code: str) -> CatalogueEntry | None:
        return await self._catalogue.get(code)

    async def catalogue_entries(
        self,
        *,
        township_id: str | None,
        department_id: str | None,
        include_withdrawn: bool,
        after: str | None,
        limit: int,
    ) -> list[CatalogueEntry]:
        return await self._catalogue.list(
            township_id=township_id,
            department_id=department_id,
            include_withdrawn=include_withdrawn,
            after=after,
            limit=limit,
        )

    async def catalogue_entries_count(
        self, *, township_id: str | None, department_id: str | None, include_withdrawn: bool
    ) -> int:
        """How many entries :meth:`catalogue_entries` pages through, all pages together."""
        return await self._catalogue.count(
            township_id=township_id,
            department_id=department_id,
            include_withdrawn=include_withdrawn,
        )

    async def dispute(self, dispute_id: str, caller: Caller) -> Dispute | None:
        """The dispute, or None when it is absent or not the caller's to see: both read the
        same (the matrix, coordination.dispute), by id and through a federation reference."""
        actor = acting(caller)
        found = await self._disputes.get(dispute_id)
        if found is None or not access.may(
            actor, "dispute", access.dispute_relations(actor, found)
        ):
            return None
        return found

    async def disputes_of_referral(self, referral_id: str, caller: Caller) -> list[Dispute]:
        """The disputes about a referral that the caller may see (the same check as
        :meth:`dispute`)."""
        actor = acting(caller)
        return [
            d
            for d in await self._disputes.of_referral(referral_id)
            if access.may(actor, "dispute", access.dispute_relations(actor, d))
        ]

    async def disputes(self, caller: Caller, q: ListQuery, *, limit: int) -> list[Dispute]:
        """Disputes by status, party and opening time; only those the caller's agency takes
        part in unless its role supervises."""
        scope = access.own_scope(acting(caller), "dispute")
        return await self._disputes.search(q, limit=limit, party_id=scope)

    async def disputes_count(self, caller: Caller, q: ListQuery) -> int:
        """How many disputes :meth:`disputes` lists for ``q``, all pages together."""
        return await self._disputes.count(q, party_id=access.own_scope(acting(caller), "dispute"))
