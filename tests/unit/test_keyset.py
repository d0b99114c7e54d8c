"""The list shape of ``kernel.keyset`` (issue 21): "either side" and the read scope are one
equality on a multikey field each (stamped onto every stored document), so an index
``(field, time, _id)`` serves them without an in-memory sort; a chosen side stays its own
field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kernel.keyset import Direction, ListQuery, ListShape, field_values, with_clauses
from kernel.store_language import matches

# The assistance list (R-AST-02: the legal office reads a refusal sent to it for mediation).
ASSISTANCE = ListShape(
    "requested_at",
    ("requester_id",),
    ("helper_id",),
    reader_fields=("requester_id", "helper_id", "mediation.mediator_agency_id"),
)
# A meeting's list (R-MTG-01): convened (sent) or invited to (received, a list of agencies).
MEETINGS = ListShape("starts_at", ("convener_id",), ("attendee_ids",))
# A dispute's list (R-DSP-01): parties, no receiver; the scope adds the handler and township.
DISPUTES = ListShape(
    "opened_at",
    ("parties",),
    (),
    reader_fields=("parties", "interim_handler_id", "township_id"),
)


def test_issue_21_either_side_is_one_equality_on_the_sides_field() -> None:
    assert ASSISTANCE.clauses(ListQuery(agency_id="a")) == [{"sides": "a"}]
    assert MEETINGS.clauses(ListQuery(agency_id="a")) == [{"sides": "a"}]
    assert DISPUTES.clauses(ListQuery(agency_id="a")) == [{"sides": "a"}]


def test_issue_21_a_chosen_side_uses_that_side_field() -> None:
    sent = ListQuery(agency_id="a", direction=Direction.SENT)
    received = ListQuery(agency_id="a", direction=Direction.RECEIVED)
    assert ASSISTANCE.clauses(sent) == [{"requester_id": "a"}]
    assert ASSISTANCE.clauses(received) == [{"helper_id": "a"}]
    assert MEETINGS.clauses(received) == [{"attendee_ids": "a"}]
    assert DISPUTES.clauses(sent) == [{"parties": "a"}]


def test_R_DSP_01_a_list_without_a_receiving_side_refuses_direction_received() -> None:
    with pytest.raises(ValueError, match="no received side"):
        DISPUTES.clauses(ListQuery(agency_id="a", direction=Direction.RECEIVED))


def test_R_INF_01_the_read_scope_is_one_equality_on_the_readers_field() -> None:
    assert ASSISTANCE.scope(None) == []
    assert ASSISTANCE.scope("a") == [{"readers": "a"}]
    assert DISPUTES.scope("a") == [{"readers": "a"}]
    with pytest.raises(ValueError, match="no readers"):
        MEETINGS.scope("a")  # meetings have no read scope to restrict by


def test_issue_21_page_combines_scope_filter_and_cursor_under_the_time_order() -> None:
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    q = ListQuery(agency_id="a", statuses=("open",), after=(at, "x"))
    query, sort = ASSISTANCE.page(q, ASSISTANCE.scope("b"))
    assert sort == [("requested_at", -1), ("_id", -1)]
    assert query == {
        "$and": [
            {"readers": "b", "sides": "a", "status": "open", "requested_at": {"$lte": at}},
            {"$or": [{"requested_at": {"$lt": at}}, {"requested_at": at, "_id": {"$lt": "x"}}]},
        ]
    }


def test_R_AST_02_stamp_flattens_dotted_paths_and_lists_and_skips_missing() -> None:
    doc = {
        "_id": "as-1",
        "requester_id": "t-1",
        "helper_id": "d-1",
        "mediation": {"mediator_agency_id": "legal"},
    }
    assert ASSISTANCE.stamp(doc) is doc
    assert doc["sides"] == ["d-1", "t-1"]
    assert doc["readers"] == ["d-1", "legal", "t-1"]

    unmediated = ASSISTANCE.stamp({"requester_id": "t-1", "helper_id": "d-1", "mediation": None})
    assert unmediated["readers"] == ["d-1", "t-1"]

    meeting = MEETINGS.stamp({"convener_id": "t-1", "attendee_ids": ["d-2", "d-1", "t-1"]})
    assert meeting["sides"] == ["d-1", "d-2", "t-1"]
    assert "readers" not in meeting  # no reader fields: no readers field

    dispute = DISPUTES.stamp(
        {"parties": ["d-1", "d-2"], "interim_handler_id": None, "township_id": "t-1"}
    )
    assert dispute["sides"] == ["d-1", "d-2"]
    assert dispute["readers"] == ["d-1", "d-2", "t-1"]


def test_field_values_walks_lists_of_documents_along_a_dotted_path() -> None:
    doc = {"transfers": [{"recipient_id": "a"}, {"recipient_id": None}, {"other": 1}]}
    assert list(field_values(doc, "transfers.recipient_id")) == ["a"]
    assert list(field_values({"x": "v"}, "x.y")) == []  # a scalar has no sub-fields
    assert list(field_values({}, "missing")) == []


def test_issue_21_indexes_serve_the_sides_and_readers_fields_by_time() -> None:
    named = dict(ASSISTANCE.indexes())
    order = (("requested_at", 1), ("_id", 1))
    assert named["by_sides_time"] == (("sides", 1), *order)
    assert named["by_readers_time"] == (("readers", 1), *order)
    assert "by_readers_time" not in dict(MEETINGS.indexes())


AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_issue_21_with_clauses_of_none_one_and_several() -> None:
    assert with_clauses([]) == {}
    assert with_clauses([{"status": "sent"}]) == {"status": "sent"}
    assert with_clauses([{"status": "sent"}, {"receiver_id": "r"}]) == {
        "status": "sent",
        "receiver_id": "r",
    }


def test_issue_21_with_clauses_joins_the_cursor_bound_to_the_equalities_it_follows() -> None:
    """A clerk's received list, a page after a cursor: status, receiver and the cursor's
    bound in one document (what SecantusDB routes through ``by_receiver``), the ``$or``
    of the tie-break after it."""
    tie = {"$or": [{"created_at": {"$gt": AT}}, {"created_at": AT, "_id": {"$gt": "ref-9"}}]}
    after = {"$and": [{"created_at": {"$gte": AT}}, tie]}
    assert with_clauses([{"status": "sent"}, {"receiver_id": "r"}, after]) == {
        "$and": [{"status": "sent", "receiver_id": "r", "created_at": {"$gte": AT}}, tie]
    }


def test_issue_21_with_clauses_joins_the_two_ends_of_a_range() -> None:
    later = datetime(2026, 3, 9, tzinfo=UTC)
    assert with_clauses(
        [{"open_due": {"$ne": None, "$lt": later}}, {"open_due": {"$gte": AT}}]
    ) == {"open_due": {"$ne": None, "$lt": later, "$gte": AT}}


def test_issue_21_with_clauses_keeps_apart_what_cannot_join() -> None:
    """The same operator twice (two upper bounds), an equality beside a condition on the
    same field, two equalities: each stays a conjunct of its own, in order."""
    later = datetime(2026, 3, 9, tzinfo=UTC)
    assert with_clauses([{"due": {"$lt": later}}, {"due": {"$lt": AT}}]) == {
        "$and": [{"due": {"$lt": later}}, {"due": {"$lt": AT}}]
    }
    assert with_clauses([{"status": "sent"}, {"status": {"$in": ["sent", "accepted"]}}]) == {
        "$and": [{"status": "sent"}, {"status": {"$in": ["sent", "accepted"]}}]
    }
    assert with_clauses([{"sides": "a"}, {"sides": "b"}]) == {
        "$and": [{"sides": "a"}, {"sides": "b"}]
    }
    # An embedded document is a value to equal, not operators to join.
    assert with_clauses([{"place": {"city": "x"}}, {"place": {"$ne": None}}]) == {
        "$and": [{"place": {"city": "x"}}, {"place": {"$ne": None}}]
    }


def test_issue_21_with_clauses_of_operators_alone() -> None:
    either = {"$or": [{"route": "crime"}, {"crime": {"$ne": None}}]}
    assert with_clauses([either]) == either
    assert with_clauses([either, either]) == {"$and": [either, either]}
    assert with_clauses([{"$and": [{"$and": [{"a": 1}]}, either]}]) == {"$and": [{"a": 1}, either]}


_values = st.one_of(st.integers(0, 3), st.integers(0, 3), st.none())  # None: "no value"
_fields = st.sampled_from(["a", "b"])
_operators = st.dictionaries(
    st.sampled_from(["$lt", "$lte", "$gt", "$gte", "$ne", "$eq"]), _values, min_size=1, max_size=2
)
_conditions = st.one_of(
    _operators,
    _values,
    st.builds(lambda xs: {"$in": xs}, st.lists(_values, max_size=3)),
)
_leaves = st.dictionaries(_fields, _conditions, min_size=1, max_size=2)
_nested = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.builds(lambda xs: {"$and": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda xs: {"$or": xs}, st.lists(inner, min_size=1, max_size=3)),
    ),
    max_leaves=5,
)
# Mostly one field's operators each (what a list's clauses are), some nested.
_single = st.builds(
    lambda f, op, v: {f: {op: v}}, _fields, st.sampled_from(["$lt", "$gt", "$ne"]), _values
)
_clauses = st.one_of(_single, _single, st.dictionaries(_fields, _operators, max_size=1), _nested)
_documents = st.dictionaries(_fields, st.one_of(_values, st.lists(_values, max_size=3)))


@settings(max_examples=500, deadline=None, database=None)
@example([{"a": {"$lt": 1}}, {"a": {"$lt": 3}}], [{"a": 2}])  # one bound, not the other
@example([{"a": {"$gt": 2}}, {"a": {"$lt": 1}}], [{"a": [0, 3]}])  # a list meets each end
@given(st.lists(_clauses, max_size=6), st.lists(_documents, min_size=1, max_size=10))
def test_issue_21_with_clauses_matches_what_the_plain_conjunction_matches(
    clauses: list[dict[str, Any]], docs: list[dict[str, Any]]
) -> None:
    """Joined or not, the filter matches the same documents, list fields included (a
    field's operators hold independently on a list)."""
    plain: dict[str, Any] = {"$and": clauses} if clauses else {}
    shaped = with_clauses(clauses)
    for doc in docs:
        assert matches(doc, shaped) == matches(doc, plain), (doc, shaped, plain)
