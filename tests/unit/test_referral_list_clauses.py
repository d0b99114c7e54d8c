"""The store filter of a referral list (``ReferralRepository._clauses``): the caller's read
scope (``party_agency_id``: sender or receiver) is a clause of its own unless the filter
already names the agency as sender or receiver, which implies it (issue 21, P4)."""

from __future__ import annotations

from referral.adapters.repository import ReferralFilter, ReferralRepository


def clauses(f: ReferralFilter) -> list[dict[str, object]]:
    return ReferralRepository._clauses(f, "created_at")


def test_a_clerks_received_list_needs_no_party_clause() -> None:
    f = ReferralFilter(receiver_id="fy-wusu", statuses=("sent",), party_agency_id="fy-wusu")
    assert clauses(f) == [{"status": "sent"}, {"receiver_id": "fy-wusu"}]


def test_a_clerks_sent_list_needs_no_party_clause() -> None:
    f = ReferralFilter(sender_id="fy-market", party_agency_id="fy-market")
    assert clauses(f) == [{"sender_id": "fy-market"}]


def test_another_receiver_keeps_the_scope_the_caller_must_be_the_sender() -> None:
    """A clerk of fy-market asking for what fy-wusu received sees only what fy-market sent
    it: the scope clause stays."""
    f = ReferralFilter(receiver_id="fy-wusu", party_agency_id="fy-market")
    assert clauses(f) == [{"receiver_id": "fy-wusu"}, {"parties": "fy-market"}]


def test_another_sender_keeps_the_scope() -> None:
    f = ReferralFilter(sender_id="fy-natres", party_agency_id="fy-wusu")
    assert clauses(f) == [{"sender_id": "fy-natres"}, {"parties": "fy-wusu"}]


def test_the_scope_alone_is_a_party_clause() -> None:
    assert clauses(ReferralFilter(party_agency_id="fy-wusu")) == [{"parties": "fy-wusu"}]


def test_no_scope_no_party_clause() -> None:
    assert clauses(ReferralFilter(receiver_id="fy-wusu")) == [{"receiver_id": "fy-wusu"}]
