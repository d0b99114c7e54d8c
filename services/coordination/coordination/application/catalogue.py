"""Command and query handlers of the matter catalogue (事项清单, R-CAT-01…04)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from coordination.adapters.repository import AgencyRepository, CatalogueRepository
from coordination.application import access
from coordination.application.actors import SYSTEM, acting
from coordination.application.publishing import Publishing
from coordination.contracts.published import CatalogueChangeAnnouncedV1
from coordination.domain.catalogue import (
    CatalogueEntry,
    Delegation,
    EntryContent,
    RoutingRule,
    SignOff,
    carry_sign_offs,
    define_entry,
    new_content,
    new_delegation,
)
from coordination.domain.dispute import Actor
from coordination.domain.model import AgencyKind
from coordination.policy import policy_of
from kernel.authz import Relation
from kernel.caller import Caller
from kernel.contracts.catalogue import (
    CatalogueEntryV1,
    DelegationV1,
    Resolution,
    RoutingRuleV1,
    resolve,
)
from kernel.errors import Forbidden, NotFound, ValidationFailed
from kernel.policy import DistrictPolicy

CHINA = ZoneInfo("Asia/Shanghai")

# Agencies that may own a power in the catalogue: departments and the centralized approval
# bureau (which took over departments' approvals, R-AG-01).
OWNER_KINDS = {AgencyKind.DEPARTMENT, AgencyKind.APPROVAL_BUREAU}


def local_date(at: datetime) -> date:
    return at.astimezone(CHINA).date()


@dataclass(frozen=True)
class DelegationInput:
    township_id: str
    mode: str  # decision (赋权) | agreement (委托)
    effective_from: date
    expires_on: date | None = None


@dataclass(frozen=True)
class DefineEntry:
    """Create a catalogue entry or revise it (a new version)."""

    code: str
    name: str
    original_department_id: str
    legal_basis: str
    penalty_basis: str = ""
    discretion_benchmark: str = ""
    delegations: tuple[DelegationInput, ...] = ()
    expected_version: int | None = None
    """When given, the change is refused if the entry moved on meanwhile (optimistic lock)."""


@dataclass(frozen=True)
class WithdrawEntry:
    """Take a matter off the catalogue (a new version)."""

    code: str
    reason: str


@dataclass(frozen=True)
class DesignateOwner:
    """R-CAT-04: the government (or the body it names) designates who handles a matter."""

    matter_code: str
    responsible_agency_id: str
    basis: str
    matter_name: str = ""
    township_id: str | None = None
    effective_from: date | None = None
    major_penalty_exception: bool = False
    """The government decides that the agency handles even the cases that may end in a major
    penalty (the only exception to R-CAT-03); only an agency of kind government may."""


@dataclass(frozen=True)
class ReviewEntrustment:
    """R-CAT-05: the justice bureau reviews an entrustment (委托) to a township."""

    matter_code: str
    township_id: str
    opinion: str


@dataclass(frozen=True)
class ApproveEntrustment:
    """R-CAT-05: the government approves a reviewed entrustment; it takes effect then."""

    matter_code: str
    township_id: str
    basis: str


@dataclass(frozen=True)
class JurisdictionAnswer:
    resolution: Resolution
    matter_code: str
    township_id: str
    on: date
    major_penalty: bool
    entry_version: int | None


def to_contract(entry: CatalogueEntry) -> CatalogueEntryV1:
    """The entry as the shared contract (kernel.contracts.catalogue) that referral reads."""
    c = entry.content
    return CatalogueEntryV1(
        code=c.code,
        name=c.name,
        original_department_id=c.original_department_id,
        legal_basis=c.legal_basis,
        penalty_basis=c.penalty_basis,
        discretion_benchmark=c.discretion_benchmark,
        delegations=[
            DelegationV1(
                township_id=d.township_id,
                mode=d.mode.value,
                effective_from=d.effective_from,
                expires_on=d.expires_on,
                transition_until=d.transition_until,
                reviewed_on=d.review.on if d.review else None,
                approved_on=d.approval.on if d.approval else None,
            )
            for d in c.delegations
        ],
        routing_rules=[
            RoutingRuleV1(
                rule_id=r.rule_id,
                responsible_agency_id=r.responsible_agency_id,
                effective_from=r.effective_from,
                township_id=r.township_id,
                dispute_id=r.dispute_id,
                basis=r.basis,
                major_penalty_exception=r.major_penalty_exception,
            )
            for r in entry.routing_rules
        ],
        withdrawn=entry.withdrawn,
        version=entry.catalogue_version,
    )


class CatalogueHandlers(Publishing):
    def __init__(
        self,
        catalogue: CatalogueRepository,
        agencies: AgencyRepository,
        policy: DistrictPolicy,
        district: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.catalogue = catalogue
        self.agencies = agencies
        self.policy = policy
        self.district = district
        self.clock = clock

    # -- validation ------------------------------------------------------------------

    async def build_content(self, cmd: DefineEntry) -> EntryContent:
        """Validate a command against the domain rules and the agency register."""
        months = policy_of(self.policy).delegation.transition_period_months
        delegations: list[Delegation] = []
        for i, d in enumerate(cmd.delegations):
            delegations.append(
                new_delegation(
                    township_id=d.township_id,
                    mode=d.mode,
                    effective_from=d.effective_from,
                    expires_on=d.expires_on,
                    transition_months=months,
                    field_prefix=f"delegations.{i}",
                )
            )
        content = new_content(
            code=cmd.code,
            name=cmd.name,
            original_department_id=cmd.original_department_id,
            legal_basis=cmd.legal_basis,
            penalty_basis=cmd.penalty_basis,
            discretion_benchmark=cmd.discretion_benchmark,
            delegations=tuple(delegations),
        )
        wanted = [content.original_department_id, *(d.township_id for d in content.delegations)]
        known = await self.agencies.get_many(wanted)
        dept = known.get(content.original_department_id)
        if dept is None:
            raise ValidationFailed(
                f"agency {content.original_department_id!r} is not registered",
                field="originalDepartmentId",
                code="AGENCY_NOT_REGISTERED",
            )
        if dept.kind not in OWNER_KINDS or dept.internal_unit:
            raise ValidationFailed(
                f"{dept.name} is not a department that can own a power (it is "
                f"{'an internal unit' if dept.internal_unit else dept.kind.value}, R-AG-02)",
                field="originalDepartmentId",
                code="INTERNAL_UNIT",
            )
        for i, d in enumerate(cmd.delegations):
            township = known.get(d.township_id.strip())
            if township is None:
                raise ValidationFailed(
                    f"agency {d.township_id!r} is not registered",
                    field=f"delegations.{i}.townshipId",
                    code="AGENCY_NOT_REGISTERED",
                )
            if township.kind is not AgencyKind.TOWNSHIP or township.internal_unit:
                raise ValidationFailed(
                    f"{township.name} cannot hold a delegated power: powers go to a township "
                    "or street office in its own name, never to an internal unit (R-AG-02)",
                    field=f"delegations.{i}.townshipId",
                    code="INTERNAL_UNIT",
                )
        return content

    @staticmethod
    def _authorize_change(actor: Actor, operation: str, department_ids: Sequence[str]) -> None:
        """The matrix (``coordination.<operation>``): the coordination body or the government,
        or the department that owns the power (the receiver: it keeps its own list, through
        a leader or its legal reviewer) — the owner before and after a revision alike."""
        if actor is SYSTEM or actor.agency_id is None:
            return  # seeding, the import command: the system itself
        relations = access.oversight_relations(actor)
        if department_ids and all(actor.agency_id == d for d in department_ids):
            relations.add(Relation.RECEIVER)
        access.authorize_on(actor, operation, relations or {Relation.NONE})

    # -- commands --------------------------------------------------------------------

    async def _commit(
        self,
        before: CatalogueEntry | None,
        after: CatalogueEntry,
        actor: Actor,
        correlation_id: str | None,
    ) -> CatalogueEntry:
        """Save the new version with its snapshot and the announcement (one write)."""
        snapshot = to_contract(after)
        events = [self._event(snapshot, after.code, correlation_id)]
        touched = after.townships_touched(before)
        if touched:
            last = after.history[-1]
            events.append(
                self._event(
                    CatalogueChangeAnnouncedV1(
                        township_ids=touched,
                        code=after.code,
                        name=after.content.name,
                        version=after.catalogue_version,
                        change=last.change,
                        summary_zh=last.summary_zh,
                        actor_id=actor.person_id,
                        actor_agency_id=actor.agency_id,
                        state_before=(
                            None
                            if before is None
                            else ("withdrawn" if before.withdrawn else "in_force")
                        ),
                        state_after="withdrawn" if after.withdrawn else "in_force",
                    ),
                    after.code,
                    correlation_id,
                )
            )
        if before is None:
            await self.catalogue.add(after, events)
            return replace(after, version=1)
        version = await self.catalogue.save(after, events)
        return replace(after, version=version)

    async def define_entry(self, cmd: DefineEntry, caller: Caller) -> tuple[CatalogueEntry, bool]:
        """Create or revise an entry (R-CAT-01). Returns the entry and whether it changed;
        re-defining an entry exactly as it is changes and publishes nothing."""
        return await self._define_entry(cmd, acting(caller), caller.correlation_id)

    async def define_entry_as_system(self, cmd: DefineEntry) -> tuple[CatalogueEntry, bool]:
        """``define_entry`` by the system itself (the catalogue import, the demo seed)."""
        return await self._define_entry(cmd, SYSTEM, None)

    async def _define_entry(
        self, cmd: DefineEntry, actor: Actor, correlation_id: str | None
    ) -> tuple[CatalogueEntry, bool]:
        # Authorized before the content is validated (issue 16): an outsider learns nothing
        # of which agencies or entries exist from the validation messages.
        existing = await self.catalogue.get(cmd.code.strip()) if cmd.code.strip() else None
        owners = [cmd.original_department_id.strip()]
        if existing is not None:
            owners.append(existing.content.original_department_id)
        self._authorize_change(actor, "defineCatalogueEntry", owners)
        content = await self.build_content(cmd)
        if (
            cmd.expected_version is not None
            and existing is not None
            and existing.catalogue_version != cmd.expected_version
        ):
            raise ValidationFailed(
                f"the entry is at version {existing.catalogue_version}, not "
                f"{cmd.expected_version}; reload it and try again",
                field="expectedVersion",
            )
        if existing is not None:
            # An entrustment revised with the same terms keeps its sign-offs (R-CAT-05).
            content = carry_sign_offs(existing.content, content)
        now = self.clock()
        if existing is None:
            entry = define_entry(
                content, actor_id=actor.person_id, actor_agency_id=actor.agency_id, at=now
            )
            return await self._commit(None, entry, actor, correlation_id), True
        revised = existing.revise(
            content, actor_id=actor.person_id, actor_agency_id=actor.agency_id, at=now
        )
        if revised is None:
            return existing, False
        return await self._commit(existing, revised, actor, correlation_id), True

    async def withdraw_entry(self, cmd: WithdrawEntry, caller: Caller) -> CatalogueEntry:
        actor = acting(caller)
        existing = await self._load(cmd.code)
        self._authorize_change(
            actor, "withdrawCatalogueEntry", [existing.content.original_department_id]
        )
        moved = existing.withdraw(
            reason=cmd.reason,
            actor_id=actor.person_id,
            actor_agency_id=actor.agency_id,
            at=self.clock(),
        )
        return await self._commit(existing, moved, actor, caller.correlation_id)

    async def _load(self, code: str) -> CatalogueEntry:
        entry = await self.catalogue.get(code.strip())
        if entry is None:
            raise NotFound(f"matter {code!r} is not in the catalogue", field="code")
        return entry

    async def add_routing_rule(
        self,
        *,
        matter_code: str,
        rule: RoutingRule,
        matter_name: str,
        actor: Actor,
        correlation_id: str | None = None,
    ) -> CatalogueEntry:
        """Add a binding ruling to the entry (R-CAT-04, R-DSP-03); idempotent by rule id.
        Not a command of its own: ``designate_owner`` (a caller's) and a ruled dispute (an
        event, the ruling's recorded actor) use it, so it takes the domain actor.

        A matter with no entry yet (a new kind of situation) gets one, owned by the agency the
        ruling names, so the catalogue answers for it from now on.
        """
        now = self.clock()
        existing = await self.catalogue.get(matter_code)
        if existing is None:
            content = new_content(
                code=matter_code,
                name=matter_name or matter_code,
                original_department_id=rule.responsible_agency_id,
                legal_basis=f"{rule.basis}（指定承办）",
            )
            created = define_entry(
                content, actor_id=actor.person_id, actor_agency_id=actor.agency_id, at=now
            )
            entry = created.add_routing_rule(
                rule, actor_id=actor.person_id, actor_agency_id=actor.agency_id, at=now
            )
            assert entry is not None  # a fresh entry has no rules yet
            return await self._commit(None, entry, actor, correlation_id)
        moved = existing.add_routing_rule(
            rule, actor_id=actor.person_id, actor_agency_id=actor.agency_id, at=now
        )
        if moved is None:
            return existing
        return await self._commit(existing, moved, actor, correlation_id)

    async def designate_owner(self, cmd: DesignateOwner, caller: Caller) -> CatalogueEntry:
        """R-CAT-04: the government, or the coordination body it names, designates who
        handles a matter nobody owns; the designation becomes a routing rule."""
        actor = acting(caller)
        access.authorize_on(actor, "designateResponsibleAgency", access.oversight_relations(actor))
        if not cmd.matter_code.strip():
            raise ValidationFailed("name the matter", field="matterCode", code="REQUIRED")
        if not cmd.basis.strip():
            raise ValidationFailed(
                "cite the decision that designates the owner",
                field="basis",
                code="LEGAL_BASIS_REQUIRED",
            )
        agency = await self.agencies.get(cmd.responsible_agency_id)
        if agency is None or agency.internal_unit:
            raise ValidationFailed(
                f"{cmd.responsible_agency_id!r} is not an agency that acts externally (R-AG-02)",
                field="responsibleAgencyId",
                code="WRONG_AGENCY_KIND",
            )
        if cmd.township_id is not None:
            township = await self.agencies.get(cmd.township_id)
            if township is None or township.kind is not AgencyKind.TOWNSHIP:
                raise ValidationFailed(
                    f"{cmd.township_id!r} is not a township",
                    field="townshipId",
                    code="WRONG_AGENCY_KIND",
                )
        if cmd.major_penalty_exception:
            await self._acting_as(
                actor,
                AgencyKind.GOVERNMENT,
                "majorPenaltyException",
                (
                    "only the government's own decision makes an exception to the major-penalty "
                    "reservation (R-CAT-03/R-CAT-04)"
                ),
            )
        now = self.clock()
        rule = RoutingRule(
            rule_id=f"designation-{cmd.matter_code.strip()}-{now.strftime('%Y%m%d%H%M%S%f')}",
            responsible_agency_id=agency.id,
            effective_from=cmd.effective_from or local_date(now),
            township_id=cmd.township_id,
            basis=cmd.basis.strip(),
            major_penalty_exception=cmd.major_penalty_exception,
        )
        return await self.add_routing_rule(
            matter_code=cmd.matter_code.strip(),
            rule=rule,
            matter_name=cmd.matter_name,
            actor=actor,
            correlation_id=caller.correlation_id,
        )

    async def _acting_as(self, actor: Actor, kind: AgencyKind, field: str, why: str) -> None:
        """The caller acts for an agency of ``kind`` (the agency register says so)."""
        agency = await self.agencies.get(actor.agency_id) if actor.agency_id else None
        if agency is None or agency.kind is not kind or agency.internal_unit:
            raise Forbidden(
                f"{why}; the caller does not act for a {kind.value}",
                field=field,
                code="AGENCY_KIND_NOT_ALLOWED",
            )

    async def review_entrustment(self, cmd: ReviewEntrustment, caller: Caller) -> CatalogueEntry:
        """R-CAT-05, step 1: the justice bureau (司法局) reviews the entrustment."""
        return await self._sign_off(cmd.matter_code, cmd.township_id, "review", cmd.opinion, caller)

    async def approve_entrustment(self, cmd: ApproveEntrustment, caller: Caller) -> CatalogueEntry:
        """R-CAT-05, step 2: the government (人民政府) approves it; it takes effect that day
        (or on its own start date, if later)."""
        return await self._sign_off(cmd.matter_code, cmd.township_id, "approval", cmd.basis, caller)

    async def _sign_off(
        self, matter_code: str, township_id: str, step: str, text: str, caller: Caller
    ) -> CatalogueEntry:
        actor = acting(caller)
        operation = "reviewEntrustment" if step == "review" else "approveEntrustment"
        access.authorize_on(actor, operation, access.oversight_relations(actor) or {Relation.NONE})
        kind = AgencyKind.JUSTICE_BUREAU if step == "review" else AgencyKind.GOVERNMENT
        await self._acting_as(
            actor,
            kind,
            "townshipId",
            "an entrustment is reviewed by the justice bureau and approved by the government "
            "(R-CAT-05)",
        )
        existing = await self._load(matter_code)
        now = self.clock()
        assert actor.agency_id is not None  # _acting_as found the agency
        moved = existing.sign_off_entrustment(
            township_id.strip(),
            step,
            SignOff(actor.agency_id, actor.person_id, local_date(now), text.strip()),
            actor_agency_id=actor.agency_id,
            at=now,
        )
        return await self._commit(existing, moved, actor, caller.correlation_id)

    # -- queries ---------------------------------------------------------------------

    async def jurisdiction(
        self,
        *,
        matter_code: str,
        township_id: str,
        on: date | None = None,
        major_penalty: bool = False,
        penalty_kinds: Sequence[str] = (),
        fine_yuan: int | None = None,
        case_opened_on: date | None = None,
    ) -> JurisdictionAnswer:
        """Who handles matter M at township P on date D (R-CAT-02…04), computed by the one
        resolver every service shares (kernel.contracts.catalogue.resolve)."""
        township = await self.agencies.get(township_id)
        if township is None or township.kind is not AgencyKind.TOWNSHIP or township.internal_unit:
            raise ValidationFailed(
                f"{township_id!r} is not a township or street office of the district",
                field="townshipId",
                code="WRONG_AGENCY_KIND",
            )
        # R-CAT-03: the district's criteria (HC: penalty kinds, fines from 50,000 yuan) make a
        # case major even when the caller did not say so.
        major = major_penalty or self.policy.major_penalty.is_major(penalty_kinds, fine_yuan)
        day = on or local_date(self.clock())
        entry = await self.catalogue.get(matter_code.strip())
        resolution = resolve(
            to_contract(entry) if entry else None,
            township_id=township_id,
            on=day,
            major_penalty=major,
            case_opened_on=case_opened_on,
        )
        return JurisdictionAnswer(
            resolution=resolution,
            matter_code=matter_code.strip(),
            township_id=township_id,
            on=day,
            major_penalty=major,
            entry_version=entry.catalogue_version if entry else None,
        )
