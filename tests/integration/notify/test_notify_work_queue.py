"""The work queue's store reads (R-SUP-02, issue 18), on both adapters: an agency's open
clocks soonest first, paged by ``(due, key)`` without skipping or repeating a clock that
shares a due time, counts of the whole filter, and the bounds just inside and outside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kernel.store import DocumentStore
from notify.adapters.watch import DeadlineRepository
from notify.domain.watch import WatchedDeadline

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _clock(
    key: str,
    due: datetime,
    *,
    agency: str = "fy-housing",
    state: str = "open",
    subject_type: str = "TechnicalSupportRequest",
) -> WatchedDeadline:
    return WatchedDeadline(
        key=key,
        kind="reply",
        subject_type=subject_type,
        subject_id=f"s-{key}",
        responsible_agency_id=agency,
        due=due,
        state=state,  # type: ignore[arg-type]
        rule="3个工作日内",
        explanation_zh=None,
        event_time=T0,
        event_id=f"e-{key}",
    )


async def test_R_SUP_02_work_queue_pages_soonest_first_and_counts_the_whole_filter(
    store: DocumentStore,
) -> None:
    repo = DeadlineRepository(store)
    await repo.ensure_indexes()
    clocks = [
        _clock("c", T0 + timedelta(days=1)),
        _clock("a", T0 + timedelta(days=1)),  # same due time as "c": the key orders them
        _clock("b", T0 + timedelta(hours=2), subject_type="InformationQuery"),
        _clock("d", T0 + timedelta(days=3)),
        _clock("x", T0, agency="fy-market"),  # another agency's
        _clock("m", T0, state="met"),  # met: not work any more
        _clock("p", T0 + timedelta(days=2), state="paused"),
    ]
    for c in clocks:
        assert await repo.put(c)

    seen: list[str] = []
    after = None
    while True:
        page = await repo.queue_page("fy-housing", "open", after=after, limit=2)
        seen += [d.key for d in page]
        if len(page) < 2:
            break
        after = (page[-1].due, page[-1].key)
    assert seen == ["b", "a", "c", "d"]
    assert await repo.queue_count("fy-housing", "open") == 4
    assert [d.key for d in await repo.queue_page("fy-housing", "paused", limit=5)] == ["p"]

    # due_before is exclusive: a clock due exactly at the bound is not before it.
    day1 = T0 + timedelta(days=1)
    assert await repo.queue_count("fy-housing", "open", due_before=day1) == 1
    assert await repo.queue_count("fy-housing", "open", due_before=day1 + timedelta(seconds=1)) == 3
    bounded = await repo.queue_page(
        "fy-housing", "open", due_before=day1 + timedelta(seconds=1), after=(day1, "a"), limit=5
    )
    assert [d.key for d in bounded] == ["c"]
    only = await repo.queue_page("fy-housing", "open", subject_types=["InformationQuery"], limit=5)
    assert [d.key for d in only] == ["b"]
    assert await repo.queue_count("fy-housing", "open", subject_types=["JointTask"]) == 0
