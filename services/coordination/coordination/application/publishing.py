"""What coordination's handlers share: how an event of theirs is wrapped for the bus, and
the check that every agency a command names is registered and acts externally (R-AG-02)."""

from __future__ import annotations

from coordination.adapters.repository import AgencyRepository
from coordination.domain.model import AgencyKind
from kernel.envelope import Envelope, EventPayload, new_envelope
from kernel.errors import ValidationFailed

SERVICE = "coordination"


class Publishing:
    """Mixed into a handler class that has ``district`` and ``agencies``."""

    district: str
    agencies: AgencyRepository

    def _event(
        self, payload: EventPayload, subject: str, correlation_id: str | None = None
    ) -> Envelope:
        return new_envelope(
            payload,
            district=self.district,
            service=SERVICE,
            subject=subject,
            correlation_id=correlation_id,
        )

    async def _external(
        self,
        ids: dict[str, str],
        kinds: set[AgencyKind] | None = None,
        *,
        acting: str = "act externally",
    ) -> None:
        """Every named agency exists and acts externally (R-AG-02), and is of one of
        ``kinds`` when given; ``ids``: field → id; ``acting`` says what an internal unit
        cannot do."""
        known = await self.agencies.get_many([i for i in ids.values() if i])
        for field, agency_id in ids.items():
            agency = known.get(agency_id)
            if agency is None:
                raise ValidationFailed(
                    f"agency {agency_id!r} is not registered",
                    field=field,
                    code="AGENCY_NOT_REGISTERED",
                )
            if agency.internal_unit:
                raise ValidationFailed(
                    f"{agency.name} is an internal unit and cannot {acting} (R-AG-02)",
                    field=field,
                    code="INTERNAL_UNIT",
                )
            if kinds is not None and agency.kind not in kinds:
                allowed = ", ".join(sorted(k.value for k in kinds))
                raise ValidationFailed(
                    f"{agency.name} is a {agency.kind.value}; expected {allowed}",
                    field=field,
                    code="WRONG_AGENCY_KIND",
                )
