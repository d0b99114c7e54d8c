"""Grid dispatch in the graph (派单 / 接单 / 报到 / 处置, R-GRD-01): report, dispatch, accept,
arrive, handle, return, refer; the platform's list filtered by state, team, area and overdue;
a live view of dispatches changing state. Mutations return ``Dispatch | UserError`` (a refused
command changes nothing)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry

from coordination.application.dispatch import (
    AcceptDispatch,
    ArriveDispatch,
    DispatchHandlers,
    DispatchProblem,
    HandleDispatch,
    ListDispatches,
    ReferDispatch,
    ReportProblem,
    ReturnDispatch,
)
from coordination.domain import dispatch as dsp
from coordination.entrypoints.graphql.types import (
    CooperationDeadline,
    CooperationTransition,
    Info,
    agency_field,
    as_result,
    clocks_and_history,
    connection,
)
from kernel.errors import DomainError
from kernel.graphql import Connection, UserError, follow, graphql_error, mirrored, page_size


@strawberry.enum(
    description="reported (上报) → dispatched (派单) → accepted (接单) → arrived (报到) → "
    "handled (处置); returned (退回) goes back to the platform; referred (转为移送)"
)
class DispatchState(Enum):
    REPORTED = strawberry.enum_value("reported", description="上报: awaiting the platform")
    DISPATCHED = strawberry.enum_value("dispatched", description="派单: awaiting the team")
    ACCEPTED = strawberry.enum_value("accepted", description="接单: the team is on its way")
    ARRIVED = strawberry.enum_value("arrived", description="报到: the team is on site")
    HANDLED = strawberry.enum_value("handled", description="处置: done, with a result")
    RETURNED = strawberry.enum_value("returned", description="退回: awaiting a new dispatch")
    REFERRED = strawberry.enum_value("referred", description="转为移送: a department's case")


@strawberry.enum(description="Who found the problem (R-GRD-01, HC #3, #10)")
class ProblemSource(Enum):
    GRID_MEMBER = strawberry.enum_value("grid_member", description="网格员")
    GRID_PLATFORM = strawberry.enum_value("grid_platform", description="网格化平台")
    CITY_PLATFORM = strawberry.enum_value("city_platform", description="数字城管平台")
    PATROL = strawberry.enum_value("patrol", description="巡查")


def _id(description: str) -> Any:
    return strawberry.argument(description=description)


DispatchId = Annotated[strawberry.ID, _id("the dispatch")]


def _handlers(info: Info) -> DispatchHandlers:
    handlers = info.context.dispatch
    if handlers is None:  # wired in bootstrap; only a bare context lacks it
        raise graphql_error("grid dispatch is not available in this deployment", "INTERNAL")
    return handlers


@strawberry.type(description="A problem as reported to the township's platform (R-GRD-01).")
class ProblemReport:
    source: ProblemSource = strawberry.field(description="who found it")
    reporter_id: str = strawberry.field(description="the person who reported it")
    what: str = strawberry.field(description="what was found")
    place: str = strawberry.field(description="where (地点), in words")
    area: str = strawberry.field(description="the grid or community of the place (网格)")
    found_at: datetime = strawberry.field(description="when it was found")
    latitude: float | None = strawberry.field(description="WGS-84 latitude, when given")
    longitude: float | None = strawberry.field(description="WGS-84 longitude, when given")
    photo_ids: list[strawberry.ID] = strawberry.field(description="photos, as material ids")


@strawberry.type(description="One dispatch of the problem to a team, and how far it took it.")
class DispatchAssignment:
    round: int = strawberry.field(description="1 for the first dispatch, 2 after a return, …")
    team_id: strawberry.ID = strawberry.field(description="the team it was dispatched to")
    dispatched_at: datetime = strawberry.field(description="when the platform dispatched it")
    accepted_at: datetime | None = strawberry.field(description="接单")
    accepted_late: bool = strawberry.field(description="accepted after the policy's limit")
    arrived_at: datetime | None = strawberry.field(description="报到")
    arrived_late: bool = strawberry.field(description="arrived after the policy's limit")
    handled_at: datetime | None = strawberry.field(description="处置")
    handled_late: bool = strawberry.field(description="handled after the policy's limit")
    returned_at: datetime | None = strawberry.field(description="退回, when the team returned it")
    return_reason: str = strawberry.field(description="the team's reason for returning it")

    team = agency_field("team_id", "the team (its own centre or a resident unit 派驻机构)")


@strawberry.federation.type(
    keys=["id"],
    description="A problem on the township's comprehensive enforcement platform and its "
    "dispatch to an enforcement team (派单 / 接单 / 报到 / 处置, R-GRD-01).",
)
class Dispatch:
    id: strawberry.ID = strawberry.field(description="the dispatch's id (派单编号)")
    platform_id: strawberry.ID = strawberry.field(description="the township whose platform")
    state: DispatchState = strawberry.field(description="where the dispatch stands")
    report: ProblemReport = strawberry.field(description="the problem as reported")
    reported_at: datetime = strawberry.field(description="when the platform received it")
    team_id: strawberry.ID | None = strawberry.field(description="the team now in charge")
    assignments: list[DispatchAssignment] = strawberry.field(description="every dispatch")
    result: str = strawberry.field(description="the team's written result (处置结果)")
    result_photo_ids: list[strawberry.ID] = strawberry.field(description="photos of the result")
    referral_id: strawberry.ID | None = strawberry.field(
        description="the referral drafted from it, once the referral service linked it"
    )
    referral_receiver_id: strawberry.ID | None = strawberry.field(
        description="the department it was referred to"
    )
    overdue: bool = strawberry.field(description="the open step is past its limit now")
    deadlines: list[CooperationDeadline] = strawberry.field(description="the step clocks")
    history: list[CooperationTransition] = strawberry.field(description="who did what, when")

    platform = agency_field("platform_id", "the township whose platform owns the problem")

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Dispatch | None:
        try:
            d = await _handlers(info).get(str(id), info.context.caller())
        except DomainError:
            return None
        return cls.of(d, info) if d else None

    @classmethod
    def of(cls, d: dsp.Dispatch, info: Info) -> Dispatch:
        r = d.report
        return cls(
            id=strawberry.ID(d.id),
            platform_id=strawberry.ID(d.platform_id),
            state=DispatchState(d.state.value),
            report=ProblemReport(
                source=ProblemSource(r.source.value),
                reporter_id=r.reporter_id,
                what=r.what,
                place=r.place,
                area=r.area,
                found_at=r.found_at,
                latitude=r.coordinates.latitude if r.coordinates else None,
                longitude=r.coordinates.longitude if r.coordinates else None,
                photo_ids=[strawberry.ID(p) for p in r.photo_ids],
            ),
            reported_at=d.reported_at,
            team_id=strawberry.ID(d.team_id) if d.team_id else None,
            assignments=[mirrored(DispatchAssignment, a) for a in d.assignments],
            result=d.result,
            result_photo_ids=[strawberry.ID(p) for p in d.result_photo_ids],
            referral_id=strawberry.ID(d.referral_id) if d.referral_id else None,
            referral_receiver_id=strawberry.ID(d.referral_receiver_id)
            if d.referral_receiver_id
            else None,
            overdue=d.overdue(_handlers(info).clock()),
            **clocks_and_history(d, info),
        )


DispatchResult = Annotated[
    Dispatch | UserError,
    strawberry.union(
        "DispatchResult", description="The dispatch after the step, or why it was refused"
    ),
]


@strawberry.input(description="A problem found, reported to the township's platform.")
class ReportProblemInput:
    platform_id: strawberry.ID = strawberry.field(description="the township whose platform")
    source: ProblemSource = strawberry.field(description="who found it")
    what: str = strawberry.field(description="what was found")
    place: str = strawberry.field(description="where, in words (地点)")
    area: str = strawberry.field(default="", description="the grid or community (网格)")
    found_at: datetime = strawberry.field(description="when it was found, with its offset")
    latitude: float | None = strawberry.field(default=None, description="WGS-84 latitude")
    longitude: float | None = strawberry.field(default=None, description="WGS-84 longitude")
    photo_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="photos already uploaded, as material ids"
    )


async def _run(info: Info, action: Awaitable[dsp.Dispatch]) -> Dispatch | UserError:
    return await as_result(action, lambda d: Dispatch.of(d, info))


@strawberry.type
class DispatchQuery:
    @strawberry.field(description="One dispatch (its reporter, platform, teams, supervisors).")
    async def dispatch(
        self, info: Info, id: Annotated[strawberry.ID, _id("the dispatch")]
    ) -> Dispatch | None:
        try:
            d = await _handlers(info).get(str(id), info.context.caller())
        except DomainError as exc:
            raise graphql_error(exc.message, exc.code) from exc
        return Dispatch.of(d, info) if d else None

    @strawberry.field(
        description="The platform's list (R-GRD-01), by id: filter by state, team, area and "
        "overdue; a grid member sees its own reports, staff their agency's."
    )
    async def dispatches(
        self,
        info: Info,
        platform_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="the township's platform")
        ] = None,
        state: Annotated[
            DispatchState | None, strawberry.argument(description="only in this state")
        ] = None,
        team_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="only this team's current")
        ] = None,
        area: Annotated[
            str | None, strawberry.argument(description="only this grid or community")
        ] = None,
        overdue: Annotated[
            bool | None,
            strawberry.argument(description="true: open step past its limit; false: not"),
        ] = None,
        first: Annotated[int, _id("page size")] = 50,
        after: Annotated[str | None, _id("the cursor to continue after")] = None,
    ) -> Connection[Dispatch]:
        first = page_size(first)
        handlers, caller = _handlers(info), info.context.caller()
        q = ListDispatches(
            platform_id=str(platform_id) if platform_id else None,
            state=str(state.value) if state else None,
            team_id=str(team_id) if team_id else None,
            area=area,
            overdue=overdue,
            after=after,
            limit=first + 1,
        )
        try:
            rows = await handlers.search(q, caller)
        except DomainError as exc:
            raise graphql_error(exc.message, exc.code, field=exc.field) from exc
        return connection(
            rows,
            first,
            cursor=lambda d: d.id,
            node=lambda d: Dispatch.of(d, info),
            after=after,
            count=lambda: handlers.count(q, caller),
        )


@strawberry.type
class DispatchMutation:
    @strawberry.mutation(description="上报: report a problem to the township's platform.")
    async def report_problem(
        self, info: Info, input: Annotated[ReportProblemInput, _id("the problem found")]
    ) -> DispatchResult:
        cmd = ReportProblem(
            platform_id=str(input.platform_id),
            source=str(input.source.value),
            what=input.what,
            place=input.place,
            area=input.area,
            found_at=input.found_at,
            latitude=input.latitude,
            longitude=input.longitude,
            photo_ids=tuple(str(p) for p in input.photo_ids),
        )
        return await _run(info, _handlers(info).report(cmd, info.context.caller()))

    @strawberry.mutation(description="派单: the platform sends the problem to a team.")
    async def dispatch_problem(
        self,
        info: Info,
        dispatch_id: DispatchId,
        team_id: Annotated[strawberry.ID, _id("the team: the township itself or a resident unit")],
    ) -> DispatchResult:
        cmd = DispatchProblem(str(dispatch_id), str(team_id))
        return await _run(info, _handlers(info).dispatch(cmd, info.context.caller()))

    @strawberry.mutation(description="接单: the team takes the dispatch.")
    async def accept_dispatch(self, info: Info, dispatch_id: DispatchId) -> DispatchResult:
        cmd = AcceptDispatch(str(dispatch_id))
        return await _run(info, _handlers(info).accept(cmd, info.context.caller()))

    @strawberry.mutation(description="报到: the team is on site.")
    async def arrive_dispatch(self, info: Info, dispatch_id: DispatchId) -> DispatchResult:
        cmd = ArriveDispatch(str(dispatch_id))
        return await _run(info, _handlers(info).arrive(cmd, info.context.caller()))

    @strawberry.mutation(description="处置: the team reports what it did, with photos.")
    async def handle_dispatch(
        self,
        info: Info,
        dispatch_id: DispatchId,
        result: Annotated[str, _id("what was done (处置结果), in writing")],
        photo_ids: Annotated[
            list[strawberry.ID] | None, _id("photos of the result, as material ids")
        ] = None,
    ) -> DispatchResult:
        cmd = HandleDispatch(str(dispatch_id), result, tuple(str(p) for p in photo_ids or ()))
        return await _run(info, _handlers(info).handle(cmd, info.context.caller()))

    @strawberry.mutation(description="退回: the team cannot take it; give the reason.")
    async def return_dispatch(
        self,
        info: Info,
        dispatch_id: DispatchId,
        reason: Annotated[str, _id("why the team cannot take it (退回理由)")],
    ) -> DispatchResult:
        cmd = ReturnDispatch(str(dispatch_id), reason)
        return await _run(info, _handlers(info).return_(cmd, info.context.caller()))

    @strawberry.mutation(
        description="Turn the problem into a referral (转为移送) to the department it belongs "
        "to; the referral service drafts it with the report's photos as source material."
    )
    async def refer_dispatch(
        self,
        info: Info,
        dispatch_id: DispatchId,
        receiver_id: Annotated[strawberry.ID, _id("the department it belongs to")],
        reason: Annotated[str, _id("why it belongs to the department")],
    ) -> DispatchResult:
        cmd = ReferDispatch(str(dispatch_id), str(receiver_id), reason)
        return await _run(info, _handlers(info).refer(cmd, info.context.caller()))


@strawberry.type
class DispatchSubscription:
    @strawberry.subscription(
        description="Dispatches changing state from now on (the platform's live view), those "
        "the caller may read, each as it stands after the change (changes within one poll "
        "of half a second arrive as the latest); optionally one platform's."
    )
    async def dispatch_changed(
        self,
        info: Info,
        platform_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="only this platform's")
        ] = None,
    ) -> AsyncGenerator[Dispatch, None]:
        handlers = _handlers(info)
        caller = info.context.caller()
        platform = str(platform_id) if platform_id else None

        async def stored(since: datetime) -> list[tuple[datetime, str, dsp.Dispatch]]:
            return [
                (d.history[-1].at, f"{d.id}:{len(d.history)}", d)
                for d in await handlers.changed_since(since, platform, caller)
            ]

        async for _, _, d in follow(info, stored, handlers.clock()):
            yield Dispatch.of(d, info)
