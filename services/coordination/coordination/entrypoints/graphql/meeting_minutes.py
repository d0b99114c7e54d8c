"""The minutes of a consultation meeting in the graph (会议纪要, R-MTG-01): the draft and its
decided tasks, the attending agencies' agreement or objection, and the filing (备案). The
meeting itself, its notice and its mutations are in meetings.py."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from coordination.domain import meetings as mtg
from coordination.entrypoints.graphql.types import agency_field
from kernel.graphql import day_input, iso_day, mirrored, replaced_by

__all__ = [
    "DraftMeetingMinutesInput",
    "MeetingFiling",
    "MeetingMinutes",
    "MeetingPosition",
    "MeetingTask",
    "MeetingTaskInput",
    "task_id_prefix",
]


def task_id_prefix(meeting_id: str) -> str:
    return f"{meeting_id}/"


def task_id(meeting_id: str, number: str) -> str:
    """A meeting task's id, unique across meetings (the numbers t1, t2 … repeat)."""
    return task_id_prefix(meeting_id) + number


@strawberry.type(description="A task decided by the meeting: owner agency and deadline.")
class MeetingTask:
    id: strawberry.ID = strawberry.field(
        description="unique across meetings: `<meetingId>/<number>` (a client cache's key)"
    )
    number: str = strawberry.field(
        description="the task's number within its meeting (t1, t2 …), as its clock's kind "
        "`meeting.task:<number>` names it"
    )
    description: str = strawberry.field(description="what is to be done")
    owner_agency_id: strawberry.ID = strawberry.field(description="the agency that owns it")
    deadline: date = strawberry.field(
        description="the last day to complete it", deprecation_reason=replaced_by("deadlineDate")
    )
    deadline_date: str = iso_day("deadline", "the last day to complete it")
    done: bool = strawberry.field(description="whether it is done")
    done_at: datetime | None = strawberry.field(description="when it was reported done")
    done_by: str | None = strawberry.field(description="who reported it (person id)")
    result: str = strawberry.field(description="what was done")

    owner = agency_field("owner_agency_id", "the agency that owns it, resolved")

    @classmethod
    def of(cls, meeting_id: str, t: mtg.MinutesTask) -> MeetingTask:
        return mirrored(cls, t, id=task_id(meeting_id, t.id), number=t.id)


@strawberry.type(description="The minutes (会议纪要): draft, then issued after agreement.")
class MeetingMinutes:
    revision: int = strawberry.field(description="the draft's revision (1, 2, …)")
    decisions: str = strawberry.field(description="what the meeting decided")
    tasks: list[MeetingTask] = strawberry.field(
        description="the tasks decided, each with owner and deadline"
    )
    drafted_by: str = strawberry.field(description="who wrote it (person id)")
    drafted_at: datetime = strawberry.field(description="when this draft was written")
    number: str = strawberry.field(description="the minutes' number (文号); empty before issued")
    issued_at: datetime | None = strawberry.field(
        description="when the minutes were issued; null before"
    )

    @classmethod
    def of(cls, meeting_id: str, n: mtg.Minutes) -> MeetingMinutes:
        return mirrored(cls, n, tasks=[MeetingTask.of(meeting_id, t) for t in n.tasks])


@strawberry.type(description="An attending agency's agreement with, or objection to, a draft.")
class MeetingPosition:
    agency_id: strawberry.ID = strawberry.field(description="the attending agency")
    revision: int = strawberry.field(description="the draft answered")
    agrees: bool = strawberry.field(description="it agrees to the draft (false: it objects)")
    comment: str = strawberry.field(description="what must change, when it objects")
    recorded_by: str = strawberry.field(description="who answered (person id)")
    at: datetime = strawberry.field(description="when it answered")

    @classmethod
    def of(cls, p: mtg.Position) -> MeetingPosition:
        return mirrored(cls, p)


@strawberry.type(description="Where the issued minutes were filed (备案), and when.")
class MeetingFiling:
    agency_id: strawberry.ID = strawberry.field(
        description="the office the minutes were filed with"
    )
    filed_at: datetime = strawberry.field(description="when they were filed (+08:00)")
    filed_by: str = strawberry.field(description="who filed them (person id)")

    agency = agency_field("agency_id", "the office the minutes were filed with, resolved")

    @classmethod
    def of(cls, f: mtg.Filing) -> MeetingFiling:
        return mirrored(cls, f)


@strawberry.input(description="A task the minutes decide, with its owner and deadline.")
class MeetingTaskInput:
    description: str = strawberry.field(description="what is to be done")
    owner_agency_id: strawberry.ID = strawberry.field(
        description="the agency that owns the task (the convener or an attendee)"
    )
    deadline: date | None = strawberry.field(
        default=None,
        description="the last day to complete it (required unless `deadlineDate` is given)",
        deprecation_reason=replaced_by("deadlineDate"),
    )
    deadline_date: str | None = strawberry.field(
        default=None,
        description="the last day to complete it, YYYY-MM-DD; required (or the deprecated "
        "`deadline`)",
    )

    def draft(self, at: str) -> mtg.TaskDraft:
        """The task as the minutes' command takes it; ``at`` is this input's dotted path."""
        deadline = day_input(
            self.deadline,
            self.deadline_date,
            field=f"{at}.deadlineDate",
            old_field=f"{at}.deadline",
            required=True,
        )
        return mtg.TaskDraft(self.description, str(self.owner_agency_id), deadline)


@strawberry.input(
    description="A draft of the minutes (会议纪要) with the tasks decided (R-MTG-01)."
)
class DraftMeetingMinutesInput:
    meeting_id: strawberry.ID = strawberry.field(description="the meeting")
    decisions: str = strawberry.field(description="会议议定事项")
    tasks: list[MeetingTaskInput] = strawberry.field(
        description="the tasks decided, each with owner and deadline"
    )
