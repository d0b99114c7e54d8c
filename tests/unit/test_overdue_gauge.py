"""The ``liandong_overdue`` gauge's counts (``kernel.metrics.OverdueCount``): overdue by the
domain's clock, per responsible agency, counted by the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from kernel.adapters.embedded_store import open_embedded_store
from kernel.metrics import OverdueCount

NOW = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
MS = timedelta(milliseconds=1)


async def test_overdue_is_counted_per_agency_by_the_domain_clock(tmp_path: Path) -> None:
    store = open_embedded_store(tmp_path, "overdue")
    referrals = store.collection("referrals")
    await referrals.insert_many(
        [
            {"_id": "r1", "receiver_id": "fy-market", "open_due": NOW - MS},  # just past
            {"_id": "r2", "receiver_id": "fy-market", "open_due": NOW},  # due now: not yet
            {"_id": "r3", "receiver_id": "fy-market", "open_due": NOW - timedelta(days=9)},
            {"_id": "r4", "receiver_id": "fy-ecology", "open_due": NOW - timedelta(hours=1)},
            {"_id": "r5", "receiver_id": "fy-ecology", "open_due": None},  # no running clock
            {"_id": "r6", "open_due": NOW - MS},  # no receiver recorded
            {"_id": "r7", "receiver_id": "", "open_due": NOW - MS},
        ]
    )
    now = NOW
    gauge = OverdueCount("referral", referrals, "receiver_id", "open_due", clock=lambda: now)
    try:
        assert await gauge.counts() == {"fy-market": 2, "fy-ecology": 1, "unknown": 2}
        # The movable clock, not the wall clock, decides: 1 ms later r2 is overdue too.
        now = NOW + MS
        assert (await gauge.counts())["fy-market"] == 3
        # Before every due date nothing is overdue and no agency appears.
        now = NOW - timedelta(days=10)
        assert await gauge.counts() == {}
    finally:
        await store.close()
