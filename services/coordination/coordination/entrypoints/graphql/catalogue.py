"""The matter catalogue in the graph: entries with their versions and the jurisdiction query
(R-CAT-01…04). The commands that change it are in
:mod:`coordination.entrypoints.graphql.catalogue_mutations`."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

import strawberry

from coordination.application.catalogue import (
    JurisdictionAnswer,
)
from coordination.domain.catalogue import MODE_ZH, EntryVersion
from coordination.domain.catalogue import CatalogueEntry as EntryModel
from coordination.domain.catalogue import DelegationMode as DomainDelegationMode
from coordination.entrypoints.graphql.types import (
    Info,
    agency_field,
    as_result,
    connection,
)
from kernel.graphql import (
    AfterArg,
    Connection,
    FirstArg,
    UserError,
    day_input,
    expose_enum,
    iso_day,
    page_size,
    replaced_by,
)

expose_enum(
    DomainDelegationMode,
    "DelegationMode",
    "赋权 (decision: by a decision, no term) or 委托 (agreement: with a term)",
    {
        "decision": "赋权: by a government decision, without a term",
        "agreement": "委托: by an agreement, with a term",
    },
)
DelegationMode = DomainDelegationMode


class JurisdictionReason(StrEnum):
    UNKNOWN_MATTER = "unknown_matter"
    ROUTING_RULE = "routing_rule"
    MAJOR_PENALTY = "major_penalty"
    NOT_DELEGATED = "not_delegated"
    DELEGATED = "delegated"
    TRANSITION_PERIOD = "transition_period"
    OPENED_BEFORE_DELEGATION = "opened_before_delegation"
    AGREEMENT_EXPIRED = "agreement_expired"
    ENTRUSTMENT_PENDING = "entrustment_pending"


expose_enum(
    JurisdictionReason,
    "JurisdictionReason",
    "Why the jurisdiction query named this agency (R-CAT-02…04).",
    {
        "unknown_matter": "the matter is not in the catalogue",
        "routing_rule": "a dispute ruling decided it (R-DSP-03)",
        "major_penalty": "a possible major penalty stays with the department (R-CAT-03)",
        "not_delegated": "not delegated to the township: the original department",
        "delegated": "delegated to the township (R-CAT-02)",
        "transition_period": "in the transition period after a delegation",
        "opened_before_delegation": "the case was opened before the delegation took effect",
        "agreement_expired": "the entrustment agreement has expired",
        "entrustment_pending": "the entrustment awaits review and approval",
    },
)


@strawberry.type(description="A power delegated to one township (下放).")
class CatalogueDelegation:
    township_id: strawberry.ID = strawberry.field(description="the township holding the power")
    mode: DelegationMode = strawberry.field(description="decision (赋权) or agreement (委托)")
    mode_zh: str = strawberry.field(description="赋权 or 委托")
    effective_from: date = strawberry.field(
        description="the day the delegation applies from",
        deprecation_reason=replaced_by("effectiveFromDate"),
    )
    expires_on: date | None = strawberry.field(
        description="last day of an agreement's term", deprecation_reason=replaced_by("expiryDate")
    )
    transition_until: date | None = strawberry.field(
        description="last day of the transition period: the department stays responsible",
        deprecation_reason=replaced_by("transitionEndDate"),
    )
    reviewed_on: date | None = strawberry.field(
        default=None,
        description="R-CAT-05: the justice bureau reviewed the entrustment (委托)",
        deprecation_reason=replaced_by("reviewedDate"),
    )
    approved_on: date | None = strawberry.field(
        default=None,
        description="R-CAT-05: the government approved the entrustment; in force from then",
        deprecation_reason=replaced_by("approvedDate"),
    )
    effective_from_date: str = iso_day("effective_from", "the day the delegation applies from")
    expiry_date: str | None = iso_day(
        "expires_on", "the last day of an agreement's term (null: no term)"
    )
    transition_end_date: str | None = iso_day(
        "transition_until",
        "the last day of the transition period, in which the department stays responsible "
        "(null: none)",
    )
    reviewed_date: str | None = iso_day(
        "reviewed_on",
        "R-CAT-05: the day the justice bureau reviewed the entrustment (委托); null: not yet",
    )
    approved_date: str | None = iso_day(
        "approved_on",
        "R-CAT-05: the day the government approved the entrustment, in force from then; "
        "null: not yet",
    )

    township = agency_field("township_id", "the township, resolved")


@strawberry.type(description="A binding ruling in the catalogue (R-CAT-04, R-DSP-03).")
class CatalogueRoutingRule:
    rule_id: str = strawberry.field(description="the rule's id")
    responsible_agency_id: strawberry.ID = strawberry.field(description="the agency it names")
    effective_from: date = strawberry.field(
        description="the day it applies from", deprecation_reason=replaced_by("effectiveFromDate")
    )
    effective_from_date: str = iso_day("effective_from", "the day it applies from")
    township_id: strawberry.ID | None = strawberry.field(description="None: the whole district")
    dispute_id: strawberry.ID | None = strawberry.field(description="the dispute that ruled it")
    basis: str = strawberry.field(description="the ruling's basis")
    major_penalty_exception: bool = strawberry.field(
        default=False,
        description="the government decided that the agency handles even cases that may end "
        "in a major penalty (R-CAT-04 over R-CAT-03)",
    )

    responsible_agency = agency_field("responsible_agency_id", "the agency it names, resolved")
    township = agency_field("township_id", "the place it applies to; null: the whole district")


@strawberry.type(description="One version of a catalogue entry: what changed, who, when.")
class CatalogueEntryVersion:
    version: int = strawberry.field(description="the version number")
    at: datetime = strawberry.field(description="when the change was made (+08:00)")
    actor_id: str = strawberry.field(description="who changed it (person id)")
    actor_agency_id: strawberry.ID | None = strawberry.field(
        description="the agency that changed it"
    )
    change: str = strawberry.field(
        description="created | revised | withdrawn | routing_rule_added | entrustment_reviewed | "
        "entrustment_approved"
    )
    summary_zh: str = strawberry.field(description="what changed, in Chinese")


@strawberry.type(description="A matter in the catalogue (事项清单, R-CAT-01).")
class CatalogueEntry:
    code: str = strawberry.field(description="the matter's code (事项编码)")
    name: str = strawberry.field(description="the matter's name")
    legal_basis: str = strawberry.field(description="实施依据")
    penalty_basis: str = strawberry.field(description="处罚依据")
    discretion_benchmark: str = strawberry.field(description="裁量基准")
    original_department_id: strawberry.ID = strawberry.field(
        description="the department that held the power originally"
    )
    delegations: list[CatalogueDelegation] = strawberry.field(
        description="the townships the power is delegated to"
    )
    routing_rules: list[CatalogueRoutingRule] = strawberry.field(
        description="who handles it where, as rulings decided (R-DSP-03)"
    )
    withdrawn: bool = strawberry.field(description="the matter is withdrawn from the catalogue")
    version: int = strawberry.field(description="catalogue version of this snapshot (1 = first)")
    latest_version: int = strawberry.field(description="the entry's current version")
    history: list[CatalogueEntryVersion] = strawberry.field(
        description="every version of the entry, oldest first"
    )

    original_department = agency_field(
        "original_department_id", "the department that held the power originally, resolved"
    )

    @classmethod
    def from_snapshot(cls, snap: dict[str, Any], version: int, model: EntryModel) -> CatalogueEntry:
        return cls(
            code=snap["code"],
            name=snap["name"],
            legal_basis=snap.get("legal_basis", ""),
            penalty_basis=snap.get("penalty_basis", ""),
            discretion_benchmark=snap.get("discretion_benchmark", ""),
            original_department_id=strawberry.ID(snap["original_department_id"]),
            delegations=[
                CatalogueDelegation(
                    township_id=strawberry.ID(d["township_id"]),
                    mode=DelegationMode(d["mode"]),
                    mode_zh=MODE_ZH[DelegationMode(d["mode"])],
                    effective_from=date.fromisoformat(d["effective_from"]),
                    expires_on=_date(d.get("expires_on")),
                    transition_until=_date(d.get("transition_until")),
                    reviewed_on=_date((d.get("review") or {}).get("on")),
                    approved_on=_date((d.get("approval") or {}).get("on")),
                )
                for d in snap.get("delegations", [])
            ],
            routing_rules=[
                CatalogueRoutingRule(
                    rule_id=r["rule_id"],
                    responsible_agency_id=strawberry.ID(r["responsible_agency_id"]),
                    effective_from=date.fromisoformat(r["effective_from"]),
                    township_id=strawberry.ID(r["township_id"]) if r.get("township_id") else None,
                    dispute_id=strawberry.ID(r["dispute_id"]) if r.get("dispute_id") else None,
                    basis=r.get("basis", ""),
                    major_penalty_exception=bool(r.get("major_penalty_exception", False)),
                )
                for r in snap.get("routing_rules", [])
            ],
            withdrawn=bool(snap.get("withdrawn", False)),
            version=version,
            latest_version=model.catalogue_version,
            history=[_version(h) for h in model.history],
        )

    @classmethod
    def from_model(cls, model: EntryModel, version: int | None = None) -> CatalogueEntry:
        if version is None or version == model.catalogue_version:
            return cls.from_snapshot(model.snapshot(), model.catalogue_version, model)
        record = model.history[version - 1]
        return cls.from_snapshot(record.snapshot, version, model)


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _version(h: EntryVersion) -> CatalogueEntryVersion:
    return CatalogueEntryVersion(
        version=h.version,
        at=h.at,
        actor_id=h.actor_id,
        actor_agency_id=strawberry.ID(h.actor_agency_id) if h.actor_agency_id else None,
        change=h.change,
        summary_zh=h.summary_zh,
    )


@strawberry.type(description="Who handles a matter at a township on a date, and why.")
class Jurisdiction:
    matter_code: str = strawberry.field(description="the matter asked about")
    township_id: strawberry.ID = strawberry.field(description="the township asked about")
    on: date = strawberry.field(
        description="the date asked about", deprecation_reason=replaced_by("onDate")
    )
    on_date: str = iso_day("on", "the day asked about")
    major_penalty: bool = strawberry.field(
        description="whether the case was treated as one that may end in a major penalty"
    )
    agency_id: strawberry.ID | None = strawberry.field(
        description="None: nobody owns the matter yet; the government designates (R-CAT-04)"
    )
    reason: JurisdictionReason = strawberry.field(
        description="why, as a code (e.g. DELEGATED, NOT_DELEGATED, ROUTING_RULE)"
    )
    explanation: str = strawberry.field(description="why, in Chinese")
    rule_id: str | None = strawberry.field(description="the routing rule applied, if any")
    entry_version: int | None = strawberry.field(description="the catalogue version answered from")

    agency = agency_field("agency_id", "the competent agency, resolved")

    @classmethod
    def from_answer(cls, a: JurisdictionAnswer) -> Jurisdiction:
        r = a.resolution
        return cls(
            matter_code=a.matter_code,
            township_id=strawberry.ID(a.township_id),
            on=a.on,
            major_penalty=a.major_penalty,
            agency_id=strawberry.ID(r.agency_id) if r.agency_id else None,
            reason=JurisdictionReason(r.reason),
            explanation=r.explanation,
            rule_id=r.rule_id,
            entry_version=a.entry_version,
        )


JurisdictionResult = Annotated[
    Jurisdiction | UserError,
    strawberry.union(
        "JurisdictionResult",
        description="What the mutation answers: the Jurisdiction as it is now, or the "
        "UserError that refused it (nothing was changed).",
    ),
]
CatalogueEntryResult = Annotated[
    CatalogueEntry | UserError,
    strawberry.union(
        "CatalogueEntryResult",
        description="What the mutation answers: the CatalogueEntry as it is now, or the "
        "UserError that refused it (nothing was changed).",
    ),
]


@strawberry.type
class CatalogueQuery:
    @strawberry.field(description="One catalogue entry by code; `version` for an older one.")
    async def catalogue_entry(
        self,
        info: Info,
        code: Annotated[str, strawberry.argument(description="the matter's code")],
        version: Annotated[
            int | None, strawberry.argument(description="this version (default: the latest)")
        ] = None,
    ) -> CatalogueEntry | None:
        info.context.principal()
        model = await info.context.queries.catalogue_entry(code)
        if model is None:
            return None
        if version is not None and not 1 <= version <= model.catalogue_version:
            return None
        return CatalogueEntry.from_model(model, version)

    @strawberry.field(description="Catalogue entries by code, filtered, cursor-paginated.")
    async def catalogue_entries(
        self,
        info: Info,
        township_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="only the matters delegated to this township"),
        ] = None,
        department_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="only the matters of this department"),
        ] = None,
        include_withdrawn: Annotated[
            bool, strawberry.argument(description="also the withdrawn matters")
        ] = False,
        first: FirstArg = 50,
        after: AfterArg = None,
    ) -> Connection[CatalogueEntry]:
        info.context.principal()
        first = page_size(first)
        where: dict[str, Any] = {
            "township_id": str(township_id) if township_id else None,
            "department_id": str(department_id) if department_id else None,
            "include_withdrawn": include_withdrawn,
        }
        queries = info.context.queries
        rows = await queries.catalogue_entries(**where, after=after, limit=first + 1)
        return connection(
            rows,
            first,
            cursor=lambda e: e.code,
            node=CatalogueEntry.from_model,
            after=after,
            count=lambda: queries.catalogue_entries_count(**where),
        )

    @strawberry.field(
        description=(
            "Who handles matter M at township P on date D (default today), with or without a "
            "possible major penalty (R-CAT-02…04); says why."
        )
    )
    async def jurisdiction(
        self,
        info: Info,
        matter_code: Annotated[
            str, strawberry.argument(description="the matter's code in the catalogue (R-CAT-01)")
        ],
        township_id: Annotated[
            strawberry.ID, strawberry.argument(description="the township where it happened")
        ],
        on: Annotated[
            date | None,
            strawberry.argument(
                description="the day asked about (default today)",
                deprecation_reason=replaced_by("onDate"),
            ),
        ] = None,
        on_date: Annotated[
            str | None,
            strawberry.argument(description="the day asked about, YYYY-MM-DD (default today)"),
        ] = None,
        major_penalty: Annotated[
            bool, strawberry.argument(description="the case may end in a major penalty")
        ] = False,
        penalty_kinds: Annotated[
            list[str] | None,
            strawberry.argument(description="the kinds of penalty the case may end in"),
        ] = None,
        fine_yuan: Annotated[
            int | None, strawberry.argument(description="the fine the case may end in, in yuan")
        ] = None,
        case_opened_on: Annotated[
            date | None,
            strawberry.argument(
                description="the day the case was opened, if it was (a case opened earlier stays)",
                deprecation_reason=replaced_by("caseOpenedDate"),
            ),
        ] = None,
        case_opened_date: Annotated[
            str | None,
            strawberry.argument(
                description="the day the case was opened, YYYY-MM-DD, if it was (a case opened "
                "earlier stays)"
            ),
        ] = None,
    ) -> JurisdictionResult:
        info.context.principal()
        return await as_result(
            lambda: info.context.catalogue_handlers.jurisdiction(
                matter_code=matter_code,
                township_id=str(township_id),
                on=day_input(on, on_date, field="onDate", old_field="on"),
                major_penalty=major_penalty,
                penalty_kinds=penalty_kinds or [],
                fine_yuan=fine_yuan,
                case_opened_on=day_input(
                    case_opened_on,
                    case_opened_date,
                    field="caseOpenedDate",
                    old_field="caseOpenedOn",
                ),
            ),
            Jurisdiction.from_answer,
        )
