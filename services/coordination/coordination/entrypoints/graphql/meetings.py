"""Consultation meetings in the graph (协调会商 / 联席会议, R-MTG-01): notice, RSVP, minutes,
agreement, issue, filing and task completion. Mutations return ``Result | UserError``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated

import strawberry

from coordination.application import access
from coordination.application.actions import meeting_actions
from coordination.application.actors import acting
from coordination.application.meetings import (
    AnswerMinutes,
    CompleteMeetingTask,
    DraftMinutes,
    FileMinutes,
    IssueMinutes,
    MeetingHandlers,
    RsvpMeeting,
    ScheduleMeeting,
)
from coordination.domain import meetings as mtg
from coordination.entrypoints.graphql.meeting_minutes import (
    DraftMeetingMinutesInput,
    MeetingFiling,
    MeetingMinutes,
    MeetingPosition,
    task_id_prefix,
)
from coordination.entrypoints.graphql.types import (
    AfterArg,
    Agency,
    CooperationDeadline,
    CooperationTransition,
    FirstArg,
    Info,
    OrderArg,
    RequestListFilter,
    actions_of,
    agency_field,
    as_result,
    clocks_and_history,
    list_query,
    load_agency,
    time_connection,
)
from coordination.entrypoints.http.paths import minutes_path
from kernel.errors import DomainError
from kernel.graphql import (
    INPUT,
    Connection,
    IdArg,
    ListOrder,
    UserError,
    expose_enum,
    graphql_error,
    iso_day,
    mirrored,
    moved,
    page_size,
    refusals_at,
    replaced_by,
)

expose_enum(
    mtg.MeetingKind,
    "MeetingKind",
    "routine (例行) or special (专题)",
    {"routine": "例行: on the district's period", "special": "专题: called for a matter"},
)
expose_enum(
    mtg.MeetingStatus,
    "MeetingStatus",
    "Where a joint meeting (联席会议) stands (R-MTG-01)",
    {
        "scheduled": "notice sent; attendees answer (回执)",
        "minutes_drafted": "a draft of the minutes (会议纪要) awaits every attendee's agreement",
        "minutes_issued": "agreed and issued; the decided tasks run",
        "filed": "filed (备案) with the government or legal office; tasks run",
        "completed": "filed and every task done",
    },
)
MeetingKind = mtg.MeetingKind
MeetingStatus = mtg.MeetingStatus


MeetingIdArg = Annotated[strawberry.ID, strawberry.argument(description="the meeting's id")]


def _handlers(info: Info) -> MeetingHandlers:
    handlers = info.context.meetings
    if handlers is None:  # wired in bootstrap; only a bare context lacks it
        raise graphql_error("meetings are not available in this deployment", "INTERNAL")
    return handlers


@strawberry.type(description="An attendee's answer to the notice (参会回执).")
class MeetingRsvp:
    agency_id: strawberry.ID = strawberry.field(description="the invited agency")
    attending: bool = strawberry.field(description="true: it attends; false: it sends apologies")
    delegate: str = strawberry.field(description="who attends for it")
    answered_by: str = strawberry.field(description="who answered (person id)")
    at: datetime = strawberry.field(description="when it answered")
    late: bool = strawberry.field(description="answered after the RSVP limit")


@strawberry.federation.type(
    keys=["id"], description="A consultation meeting (协调会商 / 联席会议, R-MTG-01)."
)
class Meeting:
    id: strawberry.ID = strawberry.field(description="the meeting's id")
    kind: MeetingKind = strawberry.field(description="routine (例行) or special (专题)")
    routine_name: str | None = strawberry.field(
        description="the district's routine meeting it is, if routine"
    )
    title: str = strawberry.field(description="its title, as the notice gives it")
    convener_id: strawberry.ID = strawberry.field(description="the agency that convenes it")
    starts_at: datetime = strawberry.field(description="when it starts")
    place: str = strawberry.field(description="where it is held")
    attendee_ids: list[strawberry.ID] = strawberry.field(description="the invited agencies")
    agenda: list[str] = strawberry.field(description="the items to discuss")
    urgent: bool = strawberry.field(description="called at short notice (special meetings only)")
    status: MeetingStatus = strawberry.field(description="where the meeting stands")
    notice_sent_at: datetime = strawberry.field(description="when the notice went out")
    notice_latest_on: date = strawberry.field(
        description="last day for a timely notice",
        deprecation_reason=replaced_by("noticeLatestDate"),
    )
    notice_latest_date: str = iso_day("notice_latest_on", "the last day for a timely notice")
    late_notice: bool = strawberry.field(description="only an urgent special meeting may")
    rsvps: list[MeetingRsvp] = strawberry.field(description="the invited agencies' answers")
    minutes: MeetingMinutes | None = strawberry.field(
        description="the minutes (会议纪要); null before drafted"
    )
    positions: list[MeetingPosition] = strawberry.field(
        description="each attending agency's agreement or objection to a draft"
    )
    awaiting_agreement_of: list[strawberry.ID] = strawberry.field(
        description="the attending agencies that have not agreed to the current draft"
    )
    filing: MeetingFiling | None = strawberry.field(
        description="where and when the minutes were filed; null before"
    )
    deadlines: list[CooperationDeadline] = strawberry.field(
        description="its clocks (answers to the notice, tasks)"
    )
    history: list[CooperationTransition] = strawberry.field(
        description="every step taken on the meeting, oldest first"
    )
    minutes_pdf_url: str | None = strawberry.field(
        description="会议纪要 PDF on the coordination service (Bearer token), once issued"
    )

    convener = agency_field("convener_id", "the convening agency")

    @strawberry.field(description="the invited agencies, resolved")
    async def attendees(self, info: Info) -> list[Agency]:
        found = [await load_agency(info, str(a)) for a in self.attendee_ids]
        return [a for a in found if a is not None]

    viewer_can, available_actions = actions_of(meeting_actions, "meetings", "meeting")

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Meeting | None:
        """A reference from another subgraph, read-checked as ``meeting(id)``: null when
        absent or not the caller's to see."""
        try:
            m = await _handlers(info).get(str(id), info.context.caller())
        except DomainError:
            return None
        return cls.of(m, info) if m else None

    @classmethod
    def of(cls, m: mtg.Meeting, info: Info) -> Meeting:
        n = m.minutes
        return mirrored(
            cls,
            m,
            rsvps=[mirrored(MeetingRsvp, r) for r in m.rsvps],
            minutes=MeetingMinutes.of(m.id, n) if n else None,
            positions=[MeetingPosition.of(p) for p in m.positions],
            awaiting_agreement_of=list(m.pending_agreement())
            if m.status is mtg.MeetingStatus.MINUTES_DRAFTED
            else [],
            filing=MeetingFiling.of(m.filing) if m.filing else None,
            **clocks_and_history(m, info),
            minutes_pdf_url=minutes_path(m.id) if n is not None and n.issued_at else None,
        )


MeetingResult = Annotated[
    Meeting | UserError,
    strawberry.union(
        "MeetingResult",
        description="What the mutation answers: the Meeting as it is now, or the "
        "UserError that refused it (nothing was changed).",
    ),
]


@strawberry.input(description="A meeting notice (会议通知) (R-MTG-01).")
class ScheduleMeetingInput:
    kind: MeetingKind = strawberry.field(description="routine (例行) or special (专题)")
    title: str = strawberry.field(description="the meeting's title")
    convener_id: strawberry.ID = strawberry.field(description="the convening agency (yours)")
    starts_at: datetime = strawberry.field(description="when it starts")
    place: str = strawberry.field(description="where it is held")
    attendee_ids: list[strawberry.ID] = strawberry.field(description="the agencies invited")
    agenda: list[str] = strawberry.field(description="the items to discuss")
    urgent: bool = strawberry.field(
        default=False, description="special meetings only: a notice later than the lead time"
    )
    routine_name: str | None = strawberry.field(
        default=None, description="routine meetings: the district's routine meeting name"
    )


async def _run(
    info: Info, action: Awaitable[mtg.Meeting] | Callable[[], Awaitable[mtg.Meeting]]
) -> Meeting | UserError:
    return await as_result(action, lambda m: Meeting.of(m, info))


@strawberry.input(description="What a list of meetings shows; all optional, combined.")
class MeetingFilter(RequestListFilter):
    statuses: list[MeetingStatus] | None = strawberry.field(
        default=None, description="only those in any of these statuses"
    )


@strawberry.type
class MeetingQuery:
    @strawberry.field(description="One meeting (parties and supervising roles only).")
    async def meeting(self, info: Info, id: IdArg) -> Meeting | None:
        caller = info.context.caller()
        try:
            m = await _handlers(info).get(str(id), caller)
        except DomainError as exc:
            raise graphql_error(exc.message, exc.stable_code) from exc
        return Meeting.of(m, info) if m else None

    @strawberry.field(
        description="Meetings (联席会议) the agency convenes (SENT) or is invited to (RECEIVED), "
        "latest start first; your own agency's unless your role supervises."
    )
    async def meetings(
        self,
        info: Info,
        agency_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="only those this agency convenes or is invited to"),
        ] = None,
        first: FirstArg = 50,
        after: AfterArg = None,
        filter: Annotated[
            MeetingFilter | None,
            strawberry.argument(description="statuses, convened or invited, time range"),
        ] = None,
        order_by: OrderArg = ListOrder.NEWEST_FIRST,
    ) -> Connection[Meeting]:
        caller = info.context.caller()
        first = page_size(first)
        q = list_query(agency_id, filter, order_by, after)
        handlers = _handlers(info)
        try:
            rows = await handlers.list(q, caller=caller, limit=first + 1)
        except DomainError as exc:
            raise graphql_error(exc.message, exc.stable_code) from exc
        return time_connection(
            rows,
            first,
            at=lambda m: m.starts_at,
            node=lambda m: Meeting.of(m, info),
            after=after,
            count=lambda: handlers.count(q, caller=caller),
        )


@strawberry.type(
    description="The next routine meeting a convening agency owes on the district's period "
    "(例行会议, R-MTG-01): its clock runs to the period's end; scheduling one meets it."
)
class RoutineMeetingDue:
    name: str = strawberry.field(description="the routine meeting's name in the policy")
    name_zh: str = strawberry.field(description="its Chinese name")
    convener_id: strawberry.ID = strawberry.field(description="the agency that convenes it")
    period: str = strawberry.field(description="e.g. 2026-H2, 2026-Q4, 2026-12, 2026-W49")
    due: datetime = strawberry.field(description="the end of the period it is due in")
    rule: str = strawberry.field(description="the policy's recurrence, as the clock cites it")
    met_by_meeting_id: strawberry.ID | None = strawberry.field(
        description="the routine meeting that met the previous period's clock"
    )

    convener = agency_field("convener_id", "the convening agency")


@strawberry.type
class RoutineQuery:
    @strawberry.field(
        description="Routine meetings due (R-MTG-01): your agency's as convener; the "
        "supervising roles see every convener's."
    )
    async def routine_meetings_due(
        self,
        info: Info,
        convener_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="the convener; your own agency when left out"),
        ] = None,
    ) -> list[RoutineMeetingDue]:
        caller = info.context.caller()
        actor = acting(caller)
        routine = _handlers(info).routine
        if routine is None:
            raise graphql_error("routine meetings are not wired in this deployment", "INTERNAL")
        wanted = str(convener_id) if convener_id else actor.agency_id
        relations = access.relations_to(actor, sender=[wanted])
        try:
            access.authorize_on(actor, "routineMeetingsDue", relations, field="convenerId")
        except DomainError as exc:
            raise graphql_error(exc.message, exc.stable_code, field=exc.field) from exc
        scope = None if convener_id is None and access.oversight_relations(actor) else wanted
        return [
            RoutineMeetingDue(
                name=d.name,
                name_zh=d.name_zh,
                convener_id=strawberry.ID(d.convener_id),
                period=d.period,
                due=d.clock.due,
                rule=d.clock.rule,
                met_by_meeting_id=strawberry.ID(d.met_by_meeting_id)
                if d.met_by_meeting_id
                else None,
            )
            for d in await routine.list(scope)
        ]


@strawberry.type
class MeetingMutation:
    @strawberry.mutation(description="Send a meeting notice (R-MTG-01).")
    async def schedule_meeting(
        self, info: Info, input: Annotated[ScheduleMeetingInput, INPUT]
    ) -> MeetingResult:
        caller = info.context.caller()
        cmd = ScheduleMeeting(
            kind=input.kind.value,
            title=input.title,
            convener_id=str(input.convener_id),
            starts_at=input.starts_at,
            place=input.place,
            attendee_ids=tuple(str(a) for a in input.attendee_ids),
            agenda=tuple(input.agenda),
            urgent=input.urgent,
            routine_name=input.routine_name,
        )
        return await _run(
            info,
            _handlers(info).schedule(cmd, caller),
        )

    @strawberry.mutation(description="An attendee's answer to the notice; late ones are marked.")
    async def rsvp_meeting(
        self,
        info: Info,
        meeting_id: MeetingIdArg,
        attending: Annotated[bool, strawberry.argument(description="the agency attends")],
        delegate: Annotated[str, strawberry.argument(description="who attends for it")] = "",
    ) -> MeetingResult:
        caller = info.context.caller()
        return await _run(
            info,
            _handlers(info).rsvp(
                RsvpMeeting(str(meeting_id), attending=attending, delegate=delegate), caller
            ),
        )

    @strawberry.mutation(description="Draft (or revise) the minutes with the decided tasks.")
    async def draft_meeting_minutes(
        self, info: Info, input: Annotated[DraftMeetingMinutesInput, INPUT]
    ) -> MeetingResult:
        caller = info.context.caller()
        return await _run(
            info,
            lambda: refusals_at(
                _handlers(info).draft_minutes(
                    DraftMinutes(
                        meeting_id=str(input.meeting_id),
                        decisions=input.decisions,
                        tasks=tuple(t.draft(f"tasks.{i}") for i, t in enumerate(input.tasks)),
                    ),
                    caller,
                ),
                {
                    old: new
                    for i, t in enumerate(input.tasks)
                    for old, new in moved(
                        t.deadline, f"tasks.{i}.deadline", f"tasks.{i}.deadlineDate"
                    ).items()
                },
            ),
        )

    @strawberry.mutation(description="Agree to a draft, or object (agrees: false, comment).")
    async def answer_meeting_minutes(
        self,
        info: Info,
        meeting_id: MeetingIdArg,
        revision: Annotated[int, strawberry.argument(description="the draft answered")],
        agrees: Annotated[
            bool, strawberry.argument(description="the agency agrees (false: it objects)")
        ],
        comment: Annotated[
            str, strawberry.argument(description="what must change, when objecting")
        ] = "",
    ) -> MeetingResult:
        caller = info.context.caller()
        return await _run(
            info,
            _handlers(info).record_position(
                AnswerMinutes(str(meeting_id), revision=revision, agrees=agrees, comment=comment),
                caller,
            ),
        )

    @strawberry.mutation(description="Issue the agreed minutes; their tasks' clocks start.")
    async def issue_meeting_minutes(
        self,
        info: Info,
        meeting_id: MeetingIdArg,
        number: Annotated[str, strawberry.argument(description="the minutes' number (文号)")],
    ) -> MeetingResult:
        caller = info.context.caller()
        return await _run(
            info,
            _handlers(info).issue_minutes(IssueMinutes(str(meeting_id), number), caller),
        )

    @strawberry.mutation(description="File issued minutes with the government or legal office.")
    async def file_meeting_minutes(
        self,
        info: Info,
        meeting_id: MeetingIdArg,
        with_agency_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="the government or legal office the minutes are filed with"
            ),
        ],
    ) -> MeetingResult:
        caller = info.context.caller()
        return await _run(
            info,
            _handlers(info).file_minutes(FileMinutes(str(meeting_id), str(with_agency_id)), caller),
        )

    @strawberry.mutation(description="The owner agency reports a decided task done.")
    async def complete_meeting_task(
        self,
        info: Info,
        meeting_id: MeetingIdArg,
        task_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="the task's `id` (`<meetingId>/t1`) or its `number` (`t1`)"
            ),
        ],
        result: Annotated[str, strawberry.argument(description="what was done")],
    ) -> MeetingResult:
        caller = info.context.caller()
        prefix = task_id_prefix(str(meeting_id))
        if str(task_id).startswith(prefix):
            task_id = strawberry.ID(str(task_id)[len(prefix) :])
        return await _run(
            info,
            _handlers(info).complete_task(
                CompleteMeetingTask(str(meeting_id), str(task_id), result), caller
            ),
        )
