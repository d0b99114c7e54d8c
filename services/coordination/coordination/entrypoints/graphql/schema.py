"""The coordination subgraph: composes the feature modules' root fields into one schema.
Agency (types.py) is the entity other subgraphs extend; Dispute is the other one; Referral
(the referral service's) gains its disputes here."""

from __future__ import annotations

import strawberry
from strawberry.federation import Schema

from coordination.entrypoints.graphql.agencies import AgencyMutation, AgencyQuery
from coordination.entrypoints.graphql.assistance import AssistanceMutation, AssistanceQuery
from coordination.entrypoints.graphql.calendar import CalendarMutation, CalendarQuery
from coordination.entrypoints.graphql.catalogue import CatalogueQuery
from coordination.entrypoints.graphql.catalogue_mutations import CatalogueMutation
from coordination.entrypoints.graphql.context import CoordinationContext, Info
from coordination.entrypoints.graphql.dispatch import (
    Dispatch,
    DispatchMutation,
    DispatchQuery,
    DispatchSubscription,
)
from coordination.entrypoints.graphql.dispute_mutations import DisputeMutation
from coordination.entrypoints.graphql.disputes import Dispute, DisputeQuery
from coordination.entrypoints.graphql.duties import DutyMutation, DutyQuery
from coordination.entrypoints.graphql.information import (
    InformationMutation,
    InformationQueries,
)
from coordination.entrypoints.graphql.joint import JointQuery
from coordination.entrypoints.graphql.joint_inspections import JointInspectionMutation
from coordination.entrypoints.graphql.joint_mutations import JointMutation
from coordination.entrypoints.graphql.meetings import MeetingMutation, MeetingQuery, RoutineQuery
from coordination.entrypoints.graphql.referrals import Referral
from coordination.entrypoints.graphql.stalls import StallQuery
from coordination.entrypoints.graphql.technical import (
    TechnicalSupportMutation,
    TechnicalSupportQuery,
)
from coordination.entrypoints.graphql.types import Agency
from kernel import schema_docs
from kernel.graphql import UserError, schema_config, schema_extensions

__all__ = ["CoordinationContext", "Info", "build_schema"]


# The order of the bases is the order of the root fields in the SDL.
@strawberry.type(description=schema_docs.QUERY)
class Query(
    AgencyQuery,
    CatalogueQuery,
    DisputeQuery,
    AssistanceQuery,
    TechnicalSupportQuery,
    InformationQueries,
    MeetingQuery,
    JointQuery,
    CalendarQuery,
    DutyQuery,
    StallQuery,
    RoutineQuery,
    DispatchQuery,
):
    pass


@strawberry.type(description=schema_docs.MUTATION)
class Mutation(
    AgencyMutation,
    CatalogueMutation,
    DisputeMutation,
    AssistanceMutation,
    TechnicalSupportMutation,
    InformationMutation,
    MeetingMutation,
    JointMutation,
    JointInspectionMutation,
    CalendarMutation,
    DutyMutation,
    DispatchMutation,
):
    pass


@strawberry.type(description=schema_docs.SUBSCRIPTION)
class Subscription(DispatchSubscription):
    pass


def build_schema(production: bool = False) -> Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Agency, Dispute, Dispatch, Referral, UserError],
        federation_version="2.9",
        extensions=schema_extensions(production),
        config=schema_config(),
    )
