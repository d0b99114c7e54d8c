"""The catalogue's answer to "whose case is it" for a referral (R-CAT-02/03): the
competence assessed at drafting and forwarding, and the reservation of major-penalty
cases to the department checked at acceptance and at the penalty."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from kernel.calendar import SHANGHAI
from kernel.contracts.catalogue import CatalogueEntryV1, resolve
from kernel.errors import Forbidden
from referral.application.runner import Runner
from referral.domain.model import (
    Competence,
    Referral,
)
from referral.domain.model.drafting import DEPARTMENT_KINDS
from referral.domain.model.penalties import canonical_penalty_kinds

# Receivers outside the catalogue: the catalogue names no power of theirs to check.
OUTSIDE_CATALOGUE = ("public_security", "procuratorate", "court")


class CompetenceChecks:
    def __init__(self, run: Runner) -> None:
        self.run = run
        self.ports = run.ports
        self.clocks = run.clocks

    async def assess_competence(
        self,
        matter_code: str,
        township_id: str | None,
        on: datetime,
        penalty_kinds: tuple[str, ...],
        fine_yuan: int | Decimal | None,
        found_at: datetime | None = None,
    ) -> Competence:
        """R-CAT-02/03: who the catalogue names for matter, place, date and severity.

        ``found_at`` is when the case arose (its own data, not a caller's say): a case open
        before the delegation took effect or during its transition stays with the department
        (HC #12)."""
        entry: CatalogueEntryV1 | None = await self.ports.catalogue.get(matter_code)
        major = self.ports.policy.major_penalty.is_major(
            canonical_penalty_kinds(penalty_kinds), fine_yuan
        )
        res = resolve(
            entry,
            township_id=township_id or "",
            on=on.astimezone(SHANGHAI).date(),
            major_penalty=major,
            case_opened_on=found_at.astimezone(SHANGHAI).date() if found_at else None,
        )
        return Competence(res.agency_id, res.reason, res.explanation, major, on, res.rule_id)

    async def check_reservation(
        self,
        r: Referral,
        on: datetime,
        *,
        kinds: tuple[str, ...] | None = None,
        fine_yuan: int | Decimal | None = None,
        doing: str,
    ) -> None:
        """R-CAT-03: a case that may end (or ends) in a major penalty is the department's; the
        receiver may not accept it, nor record such a penalty, unless the catalogue names it
        (the government's designation, R-CAT-04). ``kinds``/``fine_yuan`` given: the penalty
        being recorded; otherwise the severity the referral was drafted with."""
        receiver = await self.run.agency(r.receiver_id)
        if receiver is None or receiver.kind in OUTSIDE_CATALOGUE:
            return
        if receiver.kind in DEPARTMENT_KINDS:
            return  # the reservation keeps cases from townships, not between departments
        if kinds is None:
            kinds, fine_yuan = canonical_penalty_kinds(r.penalty_kinds), r.possible_fine_yuan
        assessed = await self.assess_competence(
            r.matter_code, r.township_id, on, kinds, fine_yuan, r.found_at
        )
        if (
            assessed.reason == "major_penalty"
            and assessed.resolved_agency_id is not None
            and assessed.resolved_agency_id != r.receiver_id
        ):
            raise Forbidden(
                f"{doing}: a case that may end in a major penalty is reserved to "
                f"{assessed.resolved_agency_id} ({assessed.explanation}); decline it citing the "
                "catalogue, or pass it up to the department (R-REF-09); only the government's "
                "designation (R-CAT-04) makes an exception",
                field="kinds" if doing.startswith("record") else "status",
            )
