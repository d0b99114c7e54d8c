"""The official holiday schedule as published (国务院办公厅关于××年部分节假日安排的通知).

Coordination keeps the district's calendar (its administrator loads the yearly notice) and
publishes every loaded version as ``calendar.schedule_published.v1``; every service keeps the
latest per year in its own store (a read model) and computes its clocks with it. The payload
is the whole schedule, so a consumer never needs a file or another service's database.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from kernel.calendar.official import OfficialSchedule
from kernel.envelope import EventPayload

__all__ = ["HolidayScheduleV1", "ScheduleDayV1"]


class ScheduleDayV1(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    date: date
    name: str


class HolidayScheduleV1(EventPayload):
    """One version of one year's official schedule, with where it came from."""

    event_type = "calendar.schedule_published.v1"

    year: int
    document_number: str
    """The notice's 文号."""
    title: str = ""
    days_off: list[ScheduleDayV1]
    working_days: list[ScheduleDayV1]
    """Weekend days made working days (调休上班)."""
    digest: str
    """Digest of the content (the same notice loaded twice has the same digest)."""
    revision: int
    """1 for the year's first loaded version, then 2, 3, … (the newest wins)."""
    source: str
    """Where it was loaded from: the file's name (CLI) or ``graphql``."""
    loaded_by: str
    """Who loaded it (person id, or ``cli`` for the command line)."""
    loaded_at: datetime

    def schedule(self) -> OfficialSchedule:
        return OfficialSchedule(
            year=self.year,
            document_number=self.document_number,
            title=self.title,
            days_off={d.date: d.name for d in self.days_off},
            working_days={d.date: d.name for d in self.working_days},
        )

    @classmethod
    def of(
        cls,
        schedule: OfficialSchedule,
        *,
        revision: int,
        source: str,
        loaded_by: str,
        loaded_at: datetime,
    ) -> HolidayScheduleV1:
        return cls(
            year=schedule.year,
            document_number=schedule.document_number,
            title=schedule.title,
            days_off=[ScheduleDayV1(date=d, name=n) for d, n in schedule.days_off.items()],
            working_days=[ScheduleDayV1(date=d, name=n) for d, n in schedule.working_days.items()],
            digest=schedule.version,
            revision=revision,
            source=source,
            loaded_by=loaded_by,
            loaded_at=loaded_at,
        )
