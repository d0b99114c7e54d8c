"""The list shape of ``kernel.keyset`` (issue 21): "either side" and the read scope are one
equality on a multikey field each (stamped onto every stored document), so an index
``(field, time, _id)`` serves them without an in-memory sort; a chosen side stays its own
field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kernel.keyset import Direction, ListQuery, ListShape, field_values

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
    assert query["$and"][:3] == [{"readers": "b"}, {"sides": "a"}, {"status": "open"}]


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
