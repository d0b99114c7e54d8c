"""Bulk transfer at delegation (R-REF-11): when a matter is delegated to a township, the
department's open referrals of it move there; what stays says why.

Only what the catalogue now gives the township moves: the delegation must be in force there
(an entrustment once approved, R-CAT-05), and the district's delegation policy decides about
open cases — Huancui's 3-month transition keeps with the department every case opened before
its end (HC #12, carried by the catalogue's ``transition_until``), and a case that may end in
a major penalty stays with the department (R-CAT-03)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kernel.authz import Relation
from kernel.calendar import SHANGHAI
from kernel.caller import Caller
from kernel.contracts.catalogue import resolve
from kernel.errors import Conflict, ValidationFailed
from referral.application.access import oversight_relations
from referral.application.commands import TransferAtDelegation
from referral.application.matrix import MATRIX
from referral.application.runner import Runner, actor_of
from referral.contracts.published import ReferralMovedAtDelegationV1
from referral.domain.model import Referral, Status
from referral.domain.model.penalties import canonical_penalty_kinds

_ARCHIVED = (Status.CLOSED, Status.RESULT_REPORTED, Status.WITHDRAWN)


@dataclass(frozen=True)
class DelegationReport:
    """R-REF-11: what moved to the township and what stayed (and why)."""

    moved: list[str]
    stayed: list[tuple[str, str]]


class DelegationHandlers:
    def __init__(self, run: Runner) -> None:
        self.run = run

    async def transfer(self, cmd: TransferAtDelegation, caller: Caller) -> DelegationReport:
        principal = caller.principal
        # The department holds the open cases as their receiver.
        holding = {Relation.RECEIVER} if principal.agency_id == cmd.department_id else set()
        MATRIX.authorize(
            principal,
            "referral.transferReferralsAtDelegation",
            holding | oversight_relations(principal),
        )
        town = await self.run.agency(cmd.township_id)
        if town is None or town.kind != "township" or town.internal_unit:
            raise ValidationFailed(
                f"{cmd.township_id!r} is not a township",
                field="townshipId",
                code="WRONG_AGENCY_KIND",
            )
        basis = cmd.basis.strip()
        if not basis:
            raise ValidationFailed(
                "cite the delegation decision or agreement",
                field="basis",
                code="LEGAL_BASIS_REQUIRED",
            )
        now = self.run.now()
        moved: list[str] = []
        stayed: list[tuple[str, str]] = []
        for r in await self.run.ports.referrals.open_for_delegation(
            cmd.department_id, cmd.matter_code
        ):
            why = self._stays(r, cmd.township_id)
            if why is None:
                why = await self._kept_by_catalogue(r, cmd.township_id, now)
            if why is None:
                why = await self._move(r, cmd.township_id, basis, caller, now)
            if why is None:
                moved.append(r.id)
            else:
                stayed.append((r.id, why))
        return DelegationReport(moved, stayed)

    @staticmethod
    def _stays(r: Referral, township_id: str) -> str | None:
        """Why ``r`` stays with the department, or None when it moves."""
        if r.township_id not in (None, township_id):
            return f"place is in {r.township_id}"
        if r.status in _ARCHIVED:
            return "archived with the department"
        if r.status not in (Status.SENT, Status.ACCEPTED):
            return f"{r.status.value}: not movable now"
        return None

    async def _kept_by_catalogue(self, r: Referral, township_id: str, now: datetime) -> str | None:
        """Why the catalogue keeps ``r`` with the department, or None when it names the
        township (R-CAT-02/03, HC #12)."""
        entry = await self.run.ports.catalogue.get(r.matter_code)
        major = self.run.ports.policy.major_penalty.is_major(
            canonical_penalty_kinds(r.penalty_kinds),
            r.possible_fine_yuan,
        )
        res = resolve(
            entry,
            township_id=township_id,
            on=now.astimezone(SHANGHAI).date(),
            major_penalty=major,
            case_opened_on=r.found_at.astimezone(SHANGHAI).date(),
        )
        if res.agency_id == township_id:
            return None
        return f"{res.reason}: {res.explanation}"

    async def _move(
        self, r: Referral, township_id: str, basis: str, caller: Caller, now: datetime
    ) -> str | None:
        clocks = self.run.clocks
        actor = actor_of(caller.principal)
        after = r.move_at_delegation(
            actor,
            now,
            township_id,
            clocks.accept(now, township_id),
            clocks.report(now, township_id),
            basis,
        )
        payload = ReferralMovedAtDelegationV1(
            **self.run.change(r, after, actor, now), previous_receiver_id=r.receiver_id, basis=basis
        )
        try:
            await self.run.commit(after, [payload], caller.correlation_id)
        except Conflict:
            return "changed meanwhile; run the transfer again"
        return None
