"""Issue 20: how a service follows the district's official holiday schedules on its own
store (kernel.calendar_follow), and the yearly step on the command line
(``liandong calendar import FILE``) against the coordination service's store."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from kernel.adapters.embedded_store import open_embedded_store
from kernel.calendar import WorkingCalendar, national_year_confirmed, parse_schedule
from kernel.calendar_follow import CalendarFollower
from kernel.contracts.calendar import HolidayScheduleV1
from kernel.envelope import new_envelope
from kernel.settings import Settings
from kernel.store import DocumentStore
from liandong.cli import app
from tests.fixtures.schedules import HYPOTHETICAL_2027, schedule_2027_data

pytestmark = pytest.mark.skipif(
    national_year_confirmed(2027), reason="the holidays package already confirms 2027"
)

AT = datetime(2026, 12, 29, 2, 0, tzinfo=UTC)


def published(revision: int, **changes: object) -> HolidayScheduleV1:
    data = {**schedule_2027_data(), **changes}
    return HolidayScheduleV1.of(
        parse_schedule(data), revision=revision, source="2027.yaml", loaded_by="cli", loaded_at=AT
    )


async def test_R_SUP_02_a_service_installs_stored_schedules_at_start_and_rechecks(
    store: DocumentStore,
) -> None:
    """A schedule stored while the service was down (or a ``holidays`` upgrade): at start it
    is installed before anything is computed, and the clocks are checked without a year."""
    calls: list[int | None] = []

    async def recheck(year: int | None) -> int:
        calls.append(year)
        return 0

    first = CalendarFollower(store, WorkingCalendar())
    await first.schedules.put(published(1))
    cal = WorkingCalendar()
    await CalendarFollower(store, cal, [recheck]).start()
    assert cal.year_status(2027).confirmed and not cal.is_working_day(date(2027, 1, 4))
    assert calls == [None]


async def test_R_SUP_02_the_newest_revision_wins_whatever_order_events_arrive_in(
    store: DocumentStore,
) -> None:
    calls: list[int | None] = []

    async def recheck(year: int | None) -> int:
        calls.append(year)
        return 0

    cal = WorkingCalendar()
    follower = CalendarFollower(store, cal, [recheck])
    newer = published(2, document_number="国办发明电〔2026〕100号")
    older = published(1)
    for event in (newer, older, newer):  # out of order, then redelivered
        await follower.when_schedule_published_recheck_clocks(
            new_envelope(event, district="fuyuan", service="coordination", subject="2027")
        )
    assert cal.schedules.get(2027).document_number == "国办发明电〔2026〕100号"  # type: ignore[union-attr]
    stored = await follower.schedules.get(2027)
    assert stored is not None and stored.revision == 2
    assert calls == [2027, 2027, 2027]  # rechecking is idempotent, so each may run it


def test_R_SUP_02_cli_imports_a_schedule_only_when_every_row_is_good(tmp_path: Path) -> None:
    env = {
        "LIANDONG_DATA_DIR": str(tmp_path),
        "LIANDONG_STORE": "embedded",
        "LIANDONG_BUS": "memory",
        "LIANDONG_DISTRICT": "fuyuan",
        "LIANDONG_INSTANCE": "calendar-cli",
    }
    runner = CliRunner()
    bad_data = schedule_2027_data()
    bad_data["working_days"].append({"date": "2027-03-05", "name": "调休上班"})  # a Friday
    bad_data["days_off"].append({"date": "2028-01-01", "name": "元旦"})  # not in 2027
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(bad_data, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["calendar", "import", str(bad)], env=env)
    assert result.exit_code == 1, result.output
    assert "days_off[30] 2028-01-01: not in 2027" in result.output
    assert "working_days[4] 2027-03-05: an adjusted working day" in result.output
    assert "nothing loaded" in result.output

    dry = runner.invoke(app, ["calendar", "import", str(HYPOTHETICAL_2027), "--dry-run"], env=env)
    assert dry.exit_code == 0 and "dry run: nothing loaded" in dry.output, dry.output
    loaded = runner.invoke(app, ["calendar", "import", str(HYPOTHETICAL_2027)], env=env)
    assert loaded.exit_code == 0 and "loaded as revision 1" in loaded.output, loaded.output
    again = runner.invoke(app, ["calendar", "import", str(HYPOTHETICAL_2027)], env=env)
    assert again.exit_code == 0 and "unchanged" in again.output, again.output

    # Stored once, with its source, and its event waits in the outbox for the relay.
    settings = Settings(**{k.removeprefix("LIANDONG_").lower(): v for k, v in env.items()})  # type: ignore[arg-type]

    async def stored() -> list[dict[str, object]]:
        store = open_embedded_store(
            settings.data_dir / "store", settings.database_name("coordination")
        )
        try:
            return await store.collection("holiday_schedules").find({})
        finally:
            await store.close()

    [doc] = asyncio.run(stored())
    assert doc["year"] == 2027 and doc["source"] == HYPOTHETICAL_2027.name
    assert doc["loaded_by"] == "cli" and doc["outbox_n"] == 1
