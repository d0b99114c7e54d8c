"""The next pending timer, looked for up to a horizon (R-SUP-02; issue 21, session 13), on
both store adapters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kernel.store import DocumentStore
from notify.adapters.watch import TimerRepository
from notify.domain.watch import PlannedTimer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_R_SUP_02_the_next_timer_is_found_up_to_and_at_the_horizon(
    store: DocumentStore,
) -> None:
    repo = TimerRepository(store)
    await repo.ensure_indexes()
    for name, at in (("later", T0 + timedelta(minutes=5)), ("first", T0 + timedelta(minutes=1))):
        await repo.schedule(
            PlannedTimer(id=name, kind="deadline.remind", step="before", fire_at=at),
            state="pending",
            fields={},
        )
    await repo.schedule(
        PlannedTimer(id="done", kind="deadline.remind", step="before", fire_at=T0),
        state="sent",
        fields={},
    )
    first = T0 + timedelta(minutes=1)
    assert await repo.next_fire_at(first) == first  # at the horizon: found
    assert await repo.next_fire_at(first - timedelta(milliseconds=1)) is None  # just before
    assert await repo.next_fire_at(T0 + timedelta(days=1)) == first  # the earliest pending
