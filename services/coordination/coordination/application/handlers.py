"""Command handlers of the coordination service (one async function per command)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from coordination.adapters.repository import AgencyRepository
from coordination.application.access import oversight_relations
from coordination.application.matrix import MATRIX
from coordination.contracts.published import AgencyRegisteredV1, LiaisonV1
from coordination.domain.model import (
    Agency,
    AgencyKind,
    Liaison,
    new_agency,
    same_registration,
)
from kernel.caller import Caller
from kernel.envelope import new_envelope
from kernel.errors import ValidationFailed

SERVICE = "coordination"


@dataclass(frozen=True)
class RegisterAgency:
    agency_id: str
    name: str
    kind: str
    internal_unit: bool = False
    parent_id: str | None = None
    liaisons: tuple[Liaison, ...] = ()
    document_code: str = ""  # 机关代字
    commanded_by_id: str | None = None  # resident unit: the commanding township (R-AG-01)
    guided_by_id: str | None = None  # resident unit: the guiding department


class CoordinationHandlers:
    def __init__(self, agencies: AgencyRepository, district: str) -> None:
        self.agencies = agencies
        self.district = district

    async def register_agency(self, cmd: RegisterAgency, caller: Caller) -> Agency:
        """Register an agency, or update its registration; idempotent when nothing changed."""
        # Roles only: registering an agency has no resource to stand in relation to.
        principal = caller.principal
        MATRIX.authorize(principal, "coordination.registerAgency", oversight_relations(principal))
        return await self._register(cmd, caller.correlation_id)

    async def register_agency_as_system(self, cmd: RegisterAgency) -> Agency:
        """``register_agency`` by the system itself (seeding a district's agencies)."""
        return await self._register(cmd, None)

    async def _check_command(self, agency: Agency) -> None:
        """A resident unit's commanding township and guiding department are registered
        agencies of those kinds that act externally (R-AG-01, R-AG-02)."""
        for field, agency_id, kinds in (
            ("commandedById", agency.commanded_by_id, {AgencyKind.TOWNSHIP}),
            ("guidedById", agency.guided_by_id, {AgencyKind.DEPARTMENT}),
        ):
            if agency_id is None:
                continue
            found = await self.agencies.get(agency_id)
            if found is None:
                raise ValidationFailed(
                    f"agency {agency_id!r} is not registered",
                    field=field,
                    code="AGENCY_NOT_REGISTERED",
                )
            if found.kind not in kinds or found.internal_unit:
                raise ValidationFailed(
                    f"{found.name} is not a {'/'.join(k.value for k in kinds)} acting "
                    "externally (R-AG-02)",
                    field=field,
                    code="WRONG_AGENCY_KIND",
                )

    async def _register(self, cmd: RegisterAgency, correlation_id: str | None) -> Agency:
        agency = new_agency(
            agency_id=cmd.agency_id,
            name=cmd.name,
            kind=cmd.kind,
            district=self.district,
            internal_unit=cmd.internal_unit,
            parent_id=cmd.parent_id,
            liaisons=cmd.liaisons,
            document_code=cmd.document_code,
            commanded_by_id=cmd.commanded_by_id,
            guided_by_id=cmd.guided_by_id,
        )
        await self._check_command(agency)
        if agency.parent_id and await self.agencies.get(agency.parent_id) is None:
            raise ValidationFailed(
                f"parent agency {agency.parent_id!r} is not registered",
                field="parentId",
                code="AGENCY_NOT_REGISTERED",
            )
        existing = await self.agencies.get(agency.id)
        if existing is not None and same_registration(existing, agency):
            return existing
        version = existing.version + 1 if existing else 1
        event = new_envelope(
            AgencyRegisteredV1(
                agency_id=agency.id,
                name=agency.name,
                kind=agency.kind.value,
                district=agency.district,
                internal_unit=agency.internal_unit,
                parent_id=agency.parent_id,
                liaisons=[
                    LiaisonV1(name=x.name, phone=x.phone, duty=x.duty) for x in agency.liaisons
                ],
                document_code=agency.document_code,
                version=version,
            ),
            district=self.district,
            service=SERVICE,
            subject=agency.id,
            correlation_id=correlation_id,
        )
        if existing is None:
            await self.agencies.add(agency, [event])
        else:
            await self.agencies.replace(replace(agency, version=existing.version), [event])
        return replace(agency, version=version)
