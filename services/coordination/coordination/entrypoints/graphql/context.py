"""The coordination subgraph's request context: the verified caller, the handlers and the
read models the resolvers use, and the agency loader."""

from __future__ import annotations

import strawberry
from strawberry.dataloader import DataLoader

from coordination.application.assistance import AssistanceHandlers
from coordination.application.calendar import CalendarHandlers
from coordination.application.catalogue import CatalogueHandlers
from coordination.application.dispatch import DispatchHandlers
from coordination.application.disputes import DisputeHandlers
from coordination.application.duties import Duties
from coordination.application.handlers import CoordinationHandlers
from coordination.application.information import InformationQueryHandlers
from coordination.application.joint import JointHandlers
from coordination.application.meetings import MeetingHandlers
from coordination.application.queries import CoordinationQueries
from coordination.application.technical import TechnicalSupportHandlers
from coordination.domain.model import Agency as AgencyModel
from kernel.auth import TokenVerifier
from kernel.calendar import WorkingCalendar
from kernel.graphql import RequestContext

__all__ = ["CoordinationContext", "Info"]


class CoordinationContext(RequestContext):
    def __init__(
        self,
        verifier: TokenVerifier,
        district: str,
        handlers: CoordinationHandlers,
        queries: CoordinationQueries,
        catalogue_handlers: CatalogueHandlers,
        dispute_handlers: DisputeHandlers,
        calendar: WorkingCalendar,
        assistance: AssistanceHandlers,
        technical_support: TechnicalSupportHandlers,
        information: InformationQueryHandlers,
        *,
        meetings: MeetingHandlers | None = None,
        joint: JointHandlers,
        duties: Duties,
        calendar_admin: CalendarHandlers | None = None,
        dispatch: DispatchHandlers | None = None,
    ) -> None:
        super().__init__(verifier, district)
        self.dispatch = dispatch  # grid dispatch (R-GRD-01)
        self.calendar_admin = calendar_admin  # official holiday schedules (issue 20)
        # On-site dispatch, correction opinions, participation notices, joint rulings
        # (R-REF-15, R-NTF-05, R-NTF-06, R-SUP-04).
        self.duties = duties
        self.joint = joint  # joint enforcement (R-JNT-01…05)
        self.meetings = meetings  # consultation meetings (R-MTG-01)
        self.assistance = assistance
        self.technical_support = technical_support
        self.information = information
        self.handlers = handlers
        self.queries = queries
        self.catalogue_handlers = catalogue_handlers
        self.dispute_handlers = dispute_handlers
        self.calendar = calendar
        self.agency_loader: DataLoader[str, AgencyModel | None] = DataLoader(queries.agencies_by_id)


Info = strawberry.Info[CoordinationContext, None]
