"""Documents stored before the multikey list fields existed (issue 21: ``sides`` and
``readers``, ``kernel.keyset.ListShape.stamp``) are found by the lists once
``ensure_indexes`` has stamped them, on each store adapter."""

from __future__ import annotations

from datetime import UTC, date, datetime

from coordination.adapters.cooperation import InformationQueryRepository
from coordination.adapters.meetings import MeetingRepository
from coordination.domain.information import InformationQuery, QueryStatus
from coordination.domain.meetings import Meeting, MeetingKind, MeetingStatus
from kernel.dataclass_codec import to_document
from kernel.keyset import Direction, ListQuery
from kernel.store import DocumentStore

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _raw(aggregate: object) -> dict[str, object]:
    """The aggregate as an earlier version stored it: no list fields."""
    doc: dict[str, object] = to_document(aggregate)
    doc["_id"] = doc.pop("id")
    doc["version"] = 1
    doc["outbox"], doc["outbox_n"] = [], 0
    return doc


async def test_R_INF_01_a_query_stored_before_the_list_fields_is_listed_after_ensure_indexes(
    store: DocumentStore,
) -> None:
    old = InformationQuery(
        "iq-old", "fy-hancong", "fy-market", "营业执照登记信息", "核实无照经营", False,
        QueryStatus.ASKED, AT,
    )  # fmt: skip
    await store.collection(InformationQueryRepository.name).insert_one(_raw(old))
    repo = InformationQueryRepository(store)
    either = ListQuery(agency_id="fy-hancong")
    assert await repo.search(either, limit=10) == []  # not stamped yet: the one field misses

    await repo.ensure_indexes()
    assert [q.id for q in await repo.search(either, limit=10)] == ["iq-old"]
    assert [q.id for q in await repo.search(ListQuery(), limit=10, party_id="fy-market")] == [
        "iq-old"
    ]
    assert await repo.count(either, party_id="fy-hancong") == 1
    assert await repo.search(ListQuery(), limit=10, party_id="fy-wusu") == []  # not a party
    stored = await store.collection(InformationQueryRepository.name).find_one({"_id": "iq-old"})
    assert stored is not None
    assert stored["sides"] == stored["readers"] == ["fy-hancong", "fy-market"]

    await repo.ensure_indexes()  # once: nothing left to stamp, nothing changes
    assert await repo.count(either) == 1


async def test_R_MTG_01_a_meeting_stored_before_the_list_fields_is_listed_by_attendee(
    store: DocumentStore,
) -> None:
    old = Meeting(
        "mt-old", MeetingKind.SPECIAL, "联合执法协调会", "fy-hancong", AT, "镇政府会议室",
        ("fy-market", "fy-zhifa"), ("议题一",), False, MeetingStatus.SCHEDULED, AT,
        date(2026, 2, 27), False,
    )  # fmt: skip
    await store.collection(MeetingRepository.name).insert_one(_raw(old))
    repo = MeetingRepository(store)
    await repo.ensure_indexes()
    for agency in ("fy-hancong", "fy-zhifa"):
        found = await repo.search(ListQuery(agency_id=agency), limit=10)
        assert [m.id for m in found] == ["mt-old"], agency
    invited = ListQuery(agency_id="fy-zhifa", direction=Direction.RECEIVED)
    assert await repo.count(invited) == 1
    assert await repo.count(ListQuery(agency_id="fy-wusu")) == 0
