"""Issue 20: how a service follows the district's official holiday schedules on its own
store (kernel.calendar_follow), and the yearly step on the command line
(``liandong calendar import FILE``) against the coordination service's store."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml
from typer.testing import CliRunner

from kernel.adapters.embedded_store import open_embedded_store
from kernel.calendar import WorkingCalendar, parse_schedule
from kernel.calendar_follow import CalendarFollower
from kernel.contracts.calendar import HolidayScheduleV1
from kernel.envelope import new_envelope
from kernel.settings import Settings
from kernel.store import DocumentStore
from liandong.cli import app
from tests.fixtures.schedules import hypothetical_schedule

#: A made-up notice of the first year the ``holidays`` package only forecasts (never a skip).
H = hypothetical_schedule()
YEAR = H.year
AT = datetime(YEAR - 1, 12, 29, 2, 0, tzinfo=UTC)


class Rechecks:
    """A recheck of the clocks that records the years it was asked for (changes nothing)."""

    def __init__(self) -> None:
        self.calls: list[int | None] = []

    async def __call__(self, year: int | None) -> int:
        self.calls.append(year)
        return 0


def published(revision: int, **changes: object) -> HolidayScheduleV1:
    data = {**H.data, **changes}
    return HolidayScheduleV1.of(
        parse_schedule(data),
        revision=revision,
        source=f"{YEAR}.yaml",
        loaded_by="cli",
        loaded_at=AT,
    )


async def test_R_SUP_02_a_service_installs_stored_schedules_at_start_and_rechecks(
    store: DocumentStore,
) -> None:
    """A schedule stored while the service was down (or a ``holidays`` upgrade): at start it
    is installed before anything is computed, and the clocks are checked without a year."""
    recheck = Rechecks()
    calls = recheck.calls
    first = CalendarFollower(store, WorkingCalendar())
    await first.schedules.put(published(1))
    cal = WorkingCalendar()
    await CalendarFollower(store, cal, [recheck]).start()
    assert cal.year_status(YEAR).confirmed and not cal.is_working_day(H.extra_day_off)
    assert calls == [None]


async def test_R_SUP_02_the_newest_revision_wins_whatever_order_events_arrive_in(
    store: DocumentStore,
) -> None:
    recheck = Rechecks()
    calls = recheck.calls
    cal = WorkingCalendar()
    follower = CalendarFollower(store, cal, [recheck])
    newer = published(2, document_number=f"国办发明电〔{YEAR - 1}〕100号")
    older = published(1)
    for event in (newer, older, newer):  # out of order, then redelivered
        await follower.when_schedule_published_recheck_clocks(
            new_envelope(event, district="fuyuan", service="coordination", subject=str(YEAR))
        )
    assert cal.schedules.get(YEAR).document_number == f"国办发明电〔{YEAR - 1}〕100号"  # type: ignore[union-attr]
    stored = await follower.schedules.get(YEAR)
    assert stored is not None and stored.revision == 2
    assert calls == [YEAR, YEAR, YEAR]  # rechecking is idempotent, so each may run it


def test_R_SUP_02_cli_imports_a_schedule_only_when_every_row_is_good(tmp_path: Path) -> None:
    env = {
        "LIANDONG_DATA_DIR": str(tmp_path),
        "LIANDONG_STORE": "embedded",
        "LIANDONG_BUS": "memory",
        "LIANDONG_DISTRICT": "fuyuan",
        "LIANDONG_INSTANCE": "calendar-cli",
    }
    runner = CliRunner()
    good = tmp_path / f"schedule-{YEAR}.yaml"
    good.write_text(yaml.safe_dump(H.data, allow_unicode=True), encoding="utf-8")
    bad_data = {**H.data, "working_days": list(H.data["working_days"])}
    bad_data["days_off"] = list(H.data["days_off"])
    friday = H.extra_day_off + timedelta(days=1)
    next_new_year = date(YEAR + 1, 1, 1)
    bad_data["working_days"].append({"date": friday, "name": "调休上班"})
    bad_data["days_off"].append({"date": next_new_year, "name": "元旦"})  # not in the year
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(bad_data, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["calendar", "import", str(bad)], env=env)
    assert result.exit_code == 1, result.output
    off_row, on_row = len(bad_data["days_off"]) - 1, len(bad_data["working_days"]) - 1
    assert f"days_off[{off_row}] {next_new_year}: not in {YEAR}" in result.output
    assert f"working_days[{on_row}] {friday}: an adjusted working day" in result.output
    assert "nothing loaded" in result.output

    dry = runner.invoke(app, ["calendar", "import", str(good), "--dry-run"], env=env)
    assert dry.exit_code == 0 and "dry run: nothing loaded" in dry.output, dry.output
    loaded = runner.invoke(app, ["calendar", "import", str(good)], env=env)
    assert loaded.exit_code == 0 and "loaded as revision 1" in loaded.output, loaded.output
    again = runner.invoke(app, ["calendar", "import", str(good)], env=env)
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
    assert doc["year"] == YEAR and doc["source"] == good.name
    assert doc["loaded_by"] == "cli" and doc["outbox_n"] == 1
