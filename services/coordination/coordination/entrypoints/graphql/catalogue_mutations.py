"""The commands that change the matter catalogue in the graph (R-CAT-01…04): defining and
withdrawing entries, designating who handles a matter nobody owns, entrustment reviews.
The catalogue's types and queries: :mod:`coordination.entrypoints.graphql.catalogue`."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from coordination.application.catalogue import (
    ApproveEntrustment,
    DefineEntry,
    DelegationInput,
    DesignateOwner,
    ReviewEntrustment,
    WithdrawEntry,
)
from coordination.entrypoints.graphql.catalogue import (
    CatalogueEntry,
    CatalogueEntryResult,
    DelegationMode,
)
from coordination.entrypoints.graphql.types import (
    Info,
    as_result,
)
from kernel.graphql import (
    INPUT,
    day_input,
    moved,
    refusals_at,
    replaced_by,
)


@strawberry.input(description="A power delegated to one township (下放, R-CAT-02).")
class CatalogueDelegationInput:
    township_id: strawberry.ID = strawberry.field(
        description="the township that receives the power"
    )
    mode: DelegationMode = strawberry.field(description="decision (赋权) or agreement (委托)")
    effective_from: date | None = strawberry.field(
        default=None,
        description="the first day it applies (required unless `effectiveFromDate` is given)",
        deprecation_reason=replaced_by("effectiveFromDate"),
    )
    effective_from_date: str | None = strawberry.field(
        default=None,
        description="the first day it applies, YYYY-MM-DD; required (or the deprecated "
        "`effectiveFrom`)",
    )
    expires_on: date | None = strawberry.field(
        default=None,
        description="an agreement's last day (an agreement has a term)",
        deprecation_reason=replaced_by("expiryDate"),
    )
    expiry_date: str | None = strawberry.field(
        default=None,
        description="an agreement's last day, YYYY-MM-DD (an agreement has a term)",
    )

    def delegation(self, at: str) -> DelegationInput:
        """The delegation as the command takes it; ``at`` is this input's dotted path."""
        return DelegationInput(
            township_id=str(self.township_id),
            mode=self.mode.value,
            effective_from=day_input(
                self.effective_from,
                self.effective_from_date,
                field=f"{at}.effectiveFromDate",
                old_field=f"{at}.effectiveFrom",
                required=True,
            ),
            expires_on=day_input(
                self.expires_on,
                self.expiry_date,
                field=f"{at}.expiryDate",
                old_field=f"{at}.expiresOn",
            ),
        )

    def moved_fields(self, at: str) -> dict[str, str]:
        """The deprecated fields not given, each with its replacement (for ``refusals_at``)."""
        return {
            **moved(self.effective_from, f"{at}.effectiveFrom", f"{at}.effectiveFromDate"),
            **moved(self.expires_on, f"{at}.expiresOn", f"{at}.expiryDate"),
        }


@strawberry.input(description="A catalogue entry as written; defining it again revises it.")
class DefineCatalogueEntryInput:
    code: str = strawberry.field(description="the matter's code (事项编码)")
    name: str = strawberry.field(description="the matter's name")
    original_department_id: strawberry.ID = strawberry.field(
        description="the department that holds the power"
    )
    legal_basis: str = strawberry.field(description="the legal basis (实施依据)")
    penalty_basis: str = strawberry.field(default="", description="the penalty provisions")
    discretion_benchmark: str = strawberry.field(
        default="", description="the discretion benchmark (裁量基准)"
    )
    delegations: list[CatalogueDelegationInput] = strawberry.field(
        default_factory=list, description="the townships the power is delegated to"
    )
    expected_version: int | None = strawberry.field(
        default=None, description="refuse the change if the entry is no longer at this version"
    )


@strawberry.input(description="R-CAT-04: designate who handles a matter nobody owns.")
class DesignateResponsibleAgencyInput:
    matter_code: str = strawberry.field(
        description="the code of the matter nobody owns (a new code when it has none yet)"
    )
    responsible_agency_id: strawberry.ID = strawberry.field(description="the agency designated")
    basis: str = strawberry.field(description="the decision that designates (文号)")
    matter_name: str = strawberry.field(
        default="", description="the matter's name, for a matter not yet in the catalogue"
    )
    township_id: strawberry.ID | None = strawberry.field(
        default=None, description="only at this township (null: everywhere)"
    )
    effective_from: date | None = strawberry.field(
        default=None,
        description="the first day it applies (default today)",
        deprecation_reason=replaced_by("effectiveFromDate"),
    )
    effective_from_date: str | None = strawberry.field(
        default=None, description="the first day it applies, YYYY-MM-DD (default today)"
    )
    major_penalty_exception: bool = strawberry.field(
        default=False,
        description="the government's own decision that the agency handles even cases that "
        "may end in a major penalty (R-CAT-03 exception); only the government may set it",
    )


@strawberry.type
class CatalogueMutation:
    @strawberry.mutation(
        description="Create a catalogue entry or revise it (a new version, announced to the "
        "townships it touches)."
    )
    async def define_catalogue_entry(
        self, info: Info, input: Annotated[DefineCatalogueEntryInput, INPUT]
    ) -> CatalogueEntryResult:
        caller = info.context.caller()
        return await as_result(
            lambda: refusals_at(
                info.context.catalogue_handlers.define_entry(
                    DefineEntry(
                        code=input.code,
                        name=input.name,
                        original_department_id=str(input.original_department_id),
                        legal_basis=input.legal_basis,
                        penalty_basis=input.penalty_basis,
                        discretion_benchmark=input.discretion_benchmark,
                        delegations=tuple(
                            d.delegation(f"delegations.{i}")
                            for i, d in enumerate(input.delegations)
                        ),
                        expected_version=input.expected_version,
                    ),
                    caller,
                ),
                {
                    old: new
                    for i, d in enumerate(input.delegations)
                    for old, new in d.moved_fields(f"delegations.{i}").items()
                },
            ),
            lambda defined: CatalogueEntry.from_model(defined[0]),
        )

    @strawberry.mutation(description="Take a matter off the catalogue (a new version).")
    async def withdraw_catalogue_entry(
        self,
        info: Info,
        code: Annotated[str, strawberry.argument(description="the matter's code")],
        reason: Annotated[str, strawberry.argument(description="why it is withdrawn")],
    ) -> CatalogueEntryResult:
        caller = info.context.caller()
        return await as_result(
            info.context.catalogue_handlers.withdraw_entry(WithdrawEntry(code, reason), caller),
            CatalogueEntry.from_model,
        )

    @strawberry.mutation(
        description="R-CAT-04: the government (or the body it names) designates the agency "
        "that handles a matter; the ruling becomes a routing rule of the entry."
    )
    async def designate_responsible_agency(
        self, info: Info, input: Annotated[DesignateResponsibleAgencyInput, INPUT]
    ) -> CatalogueEntryResult:
        caller = info.context.caller()
        return await as_result(
            lambda: info.context.catalogue_handlers.designate_owner(
                DesignateOwner(
                    matter_code=input.matter_code,
                    responsible_agency_id=str(input.responsible_agency_id),
                    basis=input.basis,
                    matter_name=input.matter_name,
                    township_id=str(input.township_id) if input.township_id else None,
                    effective_from=day_input(
                        input.effective_from,
                        input.effective_from_date,
                        field="effectiveFromDate",
                        old_field="effectiveFrom",
                    ),
                    major_penalty_exception=input.major_penalty_exception,
                ),
                caller,
            ),
            CatalogueEntry.from_model,
        )

    @strawberry.mutation(
        description="R-CAT-05, step 1: the justice bureau reviews an entrustment (委托) to a "
        "township; it is not in force until the government approves it."
    )
    async def review_entrustment(
        self,
        info: Info,
        matter_code: Annotated[str, strawberry.argument(description="the matter entrusted")],
        township_id: Annotated[
            strawberry.ID, strawberry.argument(description="the township it is entrusted to")
        ],
        opinion: Annotated[str, strawberry.argument(description="the review's opinion")],
    ) -> CatalogueEntryResult:
        caller = info.context.caller()
        cmd = ReviewEntrustment(matter_code.strip(), str(township_id), opinion)
        return await as_result(
            info.context.catalogue_handlers.review_entrustment(cmd, caller),
            CatalogueEntry.from_model,
        )

    @strawberry.mutation(
        description="R-CAT-05, step 2: the government approves a reviewed entrustment; from "
        "then on the catalogue routes the matter to the township."
    )
    async def approve_entrustment(
        self,
        info: Info,
        matter_code: Annotated[str, strawberry.argument(description="the matter entrusted")],
        township_id: Annotated[
            strawberry.ID, strawberry.argument(description="the township it is entrusted to")
        ],
        basis: Annotated[str, strawberry.argument(description="the approval's 文号")],
    ) -> CatalogueEntryResult:
        caller = info.context.caller()
        cmd = ApproveEntrustment(matter_code.strip(), str(township_id), basis)
        return await as_result(
            info.context.catalogue_handlers.approve_entrustment(cmd, caller),
            CatalogueEntry.from_model,
        )
