"""The read side of the referral service: lists filtered, scoped to what the
authorization matrix lets the caller read, sorted and paged by keyset."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kernel.auth import Principal
from kernel.errors import Forbidden
from referral.adapters.repository import (
    ComplaintRepository,
    ReferralFilter,
    ReferralRepository,
    WaitingDispatches,
)

__all__ = ["After", "ReferralFilter", "ReferralQueries"]
from referral.application.access import ReadScope, oversight_relations, read_scope
from referral.application.matrix import MATRIX
from referral.domain.complaint import Complaint
from referral.domain.model import Referral
from referral.domain.stalls import FINISHED, Stall, stall_of, waiting_stall

#: A keyset cursor: the sort value and the id of the last row of the previous page.
After = tuple[Any, str] | None


class ReferralQueries:
    def __init__(
        self,
        referrals: ReferralRepository,
        complaints: ComplaintRepository,
        waiting: WaitingDispatches | None = None,
    ) -> None:
        self.referrals = referrals
        self.complaints = complaints
        self.waiting = waiting

    async def referrals_by_id(self, ids: list[str]) -> list[Referral | None]:
        """The referrals of ``ids`` in that order (None where absent), for a batch loader:
        the caller checks each one's read rule."""
        found = await self.referrals.get_many(ids)
        return [found.get(i) for i in ids]

    async def complaints_by_id(self, ids: list[str]) -> list[Complaint | None]:
        found = await self.complaints.get_many(ids)
        return [found.get(i) for i in ids]

    async def referrals_visible(
        self,
        principal: Principal,
        wanted: ReferralFilter,
        *,
        sort_field: str,
        descending: bool,
        after: After,
        limit: int,
    ) -> list[Referral]:
        """Referrals matching ``wanted`` that the caller may read: staff their agency's
        (sent or received), oversight roles all, judicial observers suspected crimes."""
        return await self.referrals.search(
            self._scoped(principal, wanted),
            sort_field=sort_field,
            descending=descending,
            after=after,
            limit=limit,
        )

    async def referrals_count(
        self, principal: Principal, wanted: ReferralFilter, *, sort_field: str
    ) -> int:
        """How many referrals :meth:`referrals_visible` lists, all pages together."""
        return await self.referrals.count(self._scoped(principal, wanted), sort_field=sort_field)

    @staticmethod
    def _scoped(principal: Principal, wanted: ReferralFilter) -> ReferralFilter:
        scope = read_scope(principal)
        if scope == ReadScope.NOTHING:
            raise Forbidden("your roles may not read referrals (see docs/authorization.md)")
        return replace(
            wanted,
            party_agency_id=principal.agency_id if scope == ReadScope.OWN else None,
            crime_only=scope == ReadScope.CRIME,
        )

    async def stalls(self, principal: Principal | None) -> list[Stall]:
        """The stall check (R-REF-07, issue 14): referrals not finished with no running clock
        and no owner. ``principal`` None: the operator's command line (``liandong audit
        stalls``), which reads the store directly; otherwise a supervising body only."""
        if principal is not None:
            MATRIX.authorize(principal, "referral.referralStalls", oversight_relations(principal))
        found = await self.referrals.without_clock([s.value for s in FINISHED])
        stalled = [s for s in (stall_of(r) for r in found) if s is not None]
        if self.waiting is not None:
            stalled += [waiting_stall(doc) for doc in await self.waiting.all()]
        return stalled

    async def complaints_visible(
        self,
        principal: Principal,
        *,
        status: str | None,
        owner_id: str | None,
        descending: bool,
        after: After,
        limit: int,
    ) -> list[Complaint]:
        """Complaints the caller's agency owns; oversight roles read every agency's."""
        owner = _complaint_owner(principal, owner_id)
        return await self.complaints.search(
            status=status, owner_agency_id=owner, descending=descending, after=after, limit=limit
        )

    async def complaints_count(
        self, principal: Principal, *, status: str | None, owner_id: str | None
    ) -> int:
        """How many complaints :meth:`complaints_visible` lists, all pages together."""
        owner = _complaint_owner(principal, owner_id)
        return await self.complaints.count(status=status, owner_agency_id=owner)


def _complaint_owner(principal: Principal, owner_id: str | None) -> str | None:
    """The owner whose complaints the caller lists: the one asked for (None: all) when its
    role oversees every agency, else its own agency's; a role that reads none is refused."""
    scope = read_scope(principal, "referral.complaint")
    if scope == ReadScope.NOTHING:
        raise Forbidden("your roles may not read complaints (see docs/authorization.md)")
    return owner_id if scope == ReadScope.ALL else principal.agency_id
