"""The district's calendar in the graph (issue 20): the official holiday schedules loaded,
and loading one (the calendar administrator)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import strawberry

from coordination.application.calendar import ImportHolidaySchedule, ScheduleImport
from coordination.entrypoints.graphql.types import Info, as_result
from kernel.contracts.calendar import HolidayScheduleV1
from kernel.errors import Forbidden
from kernel.graphql import UserError, iso_day, replaced_by


@strawberry.type(description="A day of an official holiday schedule.")
class HolidayScheduleDay:
    date: date = strawberry.field(
        description="the calendar day (YYYY-MM-DD, China)", deprecation_reason=replaced_by("day")
    )
    day: str = iso_day("date", "the calendar day")
    name: str = strawberry.field(description="the festival it belongs to, or a note")


@strawberry.type(
    description="One loaded version of a year's official holiday schedule "
    "(国务院办公厅关于××年部分节假日安排的通知)."
)
class HolidaySchedule:
    year: int = strawberry.field(description="the year the schedule is for")
    document_number: str = strawberry.field(description="the notice's 文号")
    title: str = strawberry.field(description="the notice's title")
    days_off: list[HolidayScheduleDay] = strawberry.field(
        description="statutory holidays and the days off around them (放假)"
    )
    working_days: list[HolidayScheduleDay] = strawberry.field(
        description="weekend days made working days (调休上班)"
    )
    revision: int = strawberry.field(description="1, 2, … per year; the newest is in force")
    digest: str = strawberry.field(description="digest of the content")
    source: str = strawberry.field(description="the file it was loaded from, or graphql")
    loaded_by: str = strawberry.field(description="who loaded it (person id)")
    loaded_at: datetime = strawberry.field(description="when it was loaded")

    @classmethod
    def of(cls, s: HolidayScheduleV1) -> HolidaySchedule:
        return cls(
            year=s.year,
            document_number=s.document_number,
            title=s.title,
            days_off=[HolidayScheduleDay(date=d.date, name=d.name) for d in s.days_off],
            working_days=[HolidayScheduleDay(date=d.date, name=d.name) for d in s.working_days],
            revision=s.revision,
            digest=s.digest,
            source=s.source,
            loaded_by=s.loaded_by,
            loaded_at=s.loaded_at,
        )


@strawberry.type(description="What loading a schedule did.")
class HolidayScheduleImport:
    outcome: str = strawberry.field(
        description="loaded (a new version, published) | unchanged (that version is in force)"
    )
    schedule: HolidaySchedule = strawberry.field(description="the version now in force")

    @classmethod
    def of(cls, r: ScheduleImport) -> HolidayScheduleImport:
        return cls(outcome=r.outcome, schedule=HolidaySchedule.of(r.schedule))


@strawberry.input(description="A day of the schedule: the date and the festival (or a note).")
class HolidayScheduleDayInput:
    date: str = strawberry.field(description="YYYY-MM-DD")
    name: str = strawberry.field(default="", description="the festival, or a note")


@strawberry.input(description="One year's official schedule, as the notice states it.")
class HolidayScheduleInput:
    year: int = strawberry.field(description="the year the schedule is for")
    document_number: str = strawberry.field(description="the notice's 文号")
    title: str = strawberry.field(default="", description="the notice's title")
    days_off: list[HolidayScheduleDayInput] = strawberry.field(
        description="the days off (放假), each inside the year"
    )
    working_days: list[HolidayScheduleDayInput] = strawberry.field(
        default_factory=list,
        description="weekend days made working days (调休上班), each a Saturday or Sunday",
    )


ImportHolidayScheduleResult = Annotated[
    HolidayScheduleImport | UserError,
    strawberry.union(
        "ImportHolidayScheduleResult",
        description="The import, or why nothing was loaded.",
    ),
]


def _rows(days: list[HolidayScheduleDayInput]) -> list[dict[str, Any]]:
    return [{"date": d.date, "name": d.name} for d in days]


@strawberry.type
class CalendarQuery:
    @strawberry.field(
        description="Loaded versions of the official holiday schedules, newest first per year."
    )
    async def holiday_schedules(
        self,
        info: Info,
        year: Annotated[
            int | None, strawberry.argument(description="only this year's versions")
        ] = None,
    ) -> list[HolidaySchedule]:
        info.context.principal()
        admin = info.context.calendar_admin
        if admin is None:
            raise Forbidden("the calendar is not served here")
        return [HolidaySchedule.of(s) for s in await admin.schedules.versions(year)]


@strawberry.type
class CalendarMutation:
    @strawberry.mutation(
        description="Load a year's official holiday schedule (the calendar administrator): "
        "every row is validated and nothing is loaded unless all are good; open clocks "
        "across the year are then computed again."
    )
    async def import_holiday_schedule(
        self,
        info: Info,
        input: Annotated[
            HolidayScheduleInput, strawberry.argument(description="the schedule as notified")
        ],
    ) -> ImportHolidayScheduleResult:
        caller = info.context.caller()
        admin = info.context.calendar_admin
        if admin is None:
            raise Forbidden("the calendar is not served here")
        data = {
            "year": input.year,
            "document_number": input.document_number,
            "title": input.title,
            "days_off": _rows(input.days_off),
            "working_days": _rows(input.working_days),
        }
        return await as_result(
            admin.import_schedule(ImportHolidaySchedule(data, "graphql"), caller),
            HolidayScheduleImport.of,
        )
