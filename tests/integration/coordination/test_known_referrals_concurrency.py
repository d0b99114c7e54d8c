"""Coordination's record of a referral (issue 16, finding 1; R-DSP-04) when the bus hands it
several changes of one referral at once: a consumer runs up to ``consumer_prefetch``
messages concurrently, and after an outage the backlog of one referral arrives together.

Each change was read, merged and written back (get, then put): two changes read the same
record and the later write dropped the other's party and could set an older state. A
township the referral was reassigned to was then "not a party" and could not ask for a case
transfer. The record is now written by one atomic step per change."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from coordination.adapters.known_referrals import KnownReferrals
from coordination.application.known_referrals import ReferralFollower
from coordination.domain.known_referrals import KnownReferral
from kernel.store import DocumentStore
from tests.integration.coordination.test_coordination_service import NOW, _referral_event


async def test_R_DSP_04_a_backlog_of_one_referrals_changes_read_at_once_loses_no_party(
    store: DocumentStore,
) -> None:
    known = KnownReferrals(store)
    follower = ReferralFollower(known)
    day = timedelta(days=1)
    backlog = [
        _referral_event("referral.sent.v1", "ref-1", "sent"),
        _referral_event("referral.accepted.v1", "ref-1", "accepted", at=NOW + day),
        _referral_event(
            "referral.reassigned.v1",
            "ref-1",
            "sent",
            at=NOW + 2 * day,
            receiver_id="fy-nongqiao",
        ),
        _referral_event(
            "referral.reassigned.v1",
            "ref-1",
            "sent",
            at=NOW + 3 * day,
            receiver_id="fy-yanjiang",
        ),
    ]
    for _ in range(2):  # and once more, redelivered: nothing changes
        await asyncio.gather(*(follower.when_referral_changed_remember_it(e) for e in backlog))
        record = await known.get("ref-1")
        assert record is not None
        assert set(record.parties) == {"fy-market", "fy-hancong", "fy-nongqiao", "fy-yanjiang"}
        assert (record.receiver_id, record.state, record.at) == (
            "fy-yanjiang",
            "sent",
            NOW + 3 * day,
        )


async def test_R_DSP_04_a_late_older_change_adds_its_party_and_keeps_the_newer_state(
    store: DocumentStore,
) -> None:
    """Just inside and outside the ``at`` order: an equal time applies, an older one only
    adds its party."""
    known = KnownReferrals(store)
    follower = ReferralFollower(known)
    later = NOW + timedelta(hours=1)
    await follower.when_referral_changed_remember_it(
        _referral_event("referral.accepted.v1", "ref-2", "accepted", at=later)
    )
    older = _referral_event("referral.sent.v1", "ref-2", "sent", receiver_id="fy-nongqiao")
    await follower.when_referral_changed_remember_it(older)
    record = await known.get("ref-2")
    assert record is not None
    assert (record.state, record.receiver_id, record.at) == ("accepted", "fy-hancong", later)
    assert set(record.parties) == {"fy-market", "fy-hancong", "fy-nongqiao"}
    same_time = _referral_event("referral.handled.v1", "ref-2", "handled", at=later)
    await follower.when_referral_changed_remember_it(same_time)
    record = await known.get("ref-2")
    assert record is not None and record.state == "handled"


async def test_R_DSP_04_a_record_stored_before_versions_is_merged_into(
    store: DocumentStore,
) -> None:
    """Records written by the previous release carry no version: they read as version 1 and
    the next change merges into them (it is not refused for ever)."""
    await store.collection(KnownReferrals.name).insert_one(
        {
            "_id": "ref-3",
            "sender_id": "fy-market",
            "receiver_id": "fy-hancong",
            "state": "sent",
            "at": NOW,
            "parties": ["fy-market", "fy-hancong"],
        }
    )
    follower = ReferralFollower(KnownReferrals(store))
    await follower.when_referral_changed_remember_it(
        _referral_event("referral.accepted.v1", "ref-3", "accepted", at=NOW + timedelta(hours=1))
    )
    record, version = await KnownReferrals(store).get_versioned("ref-3")
    assert record is not None and record.state == "accepted"
    assert version == 2


class _CountingReads(KnownReferrals):
    def __init__(self, store: DocumentStore) -> None:
        super().__init__(store)
        self.reads = 0

    async def get_versioned(self, referral_id: str) -> tuple[KnownReferral | None, int]:
        self.reads += 1
        return await super().get_versioned(referral_id)


async def test_R_DSP_04_a_referrals_first_sending_is_recorded_without_a_read(
    store: DocumentStore,
) -> None:
    """Issue 21 (P5: coordination read its record before every change, one store request
    per ``referral.sent.v1`` that finds nothing): the first sending creates the record at
    once; a second sending of the same referral (redelivered, or sent again after its
    return) finds it stored, reads it and merges as before; any other change reads first."""
    known = _CountingReads(store)
    follower = ReferralFollower(known)
    sent = _referral_event("referral.sent.v1", "ref-4", "sent")
    await follower.when_referral_changed_remember_it(sent)
    assert known.reads == 0
    record = await known.get("ref-4")
    assert record is not None and (record.state, record.receiver_id) == ("sent", "fy-hancong")
    known.reads = 0
    await follower.when_referral_changed_remember_it(sent)  # redelivered: nothing changes
    assert known.reads == 1
    assert await known.get_versioned("ref-4") == (record, 1)
    again = _referral_event(
        "referral.sent.v1", "ref-4", "sent", at=NOW + timedelta(days=1), receiver_id="fy-nongqiao"
    )
    await follower.when_referral_changed_remember_it(again)
    merged = await known.get("ref-4")
    assert merged is not None and merged.receiver_id == "fy-nongqiao"
    assert set(merged.parties) == {"fy-market", "fy-hancong", "fy-nongqiao"}
    known.reads = 0
    await follower.when_referral_changed_remember_it(
        _referral_event("referral.accepted.v1", "ref-5", "accepted")
    )
    assert known.reads == 1
