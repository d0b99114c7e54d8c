"""The shape in which the MongoDB adapter sends a filter (issue 21, session 13): a top-level
``$or`` beside other conditions goes inside ``$and``, which means the same and which
SecantusDB plans with the other conditions' index instead of a collection scan."""

from __future__ import annotations

import pytest

from kernel.adapters.mongo_store import sent_filter
from kernel.store_language import matches

LEASE = [{"lease": None}, {"lease": {"$lt": 5}}]


def test_a_top_level_or_beside_other_conditions_goes_inside_and() -> None:
    assert sent_filter({"_id": "a", "n": {"$gt": 0}, "$or": LEASE}) == {
        "_id": "a",
        "n": {"$gt": 0},
        "$and": [{"$or": LEASE}],
    }


def test_an_and_already_there_keeps_its_clauses_and_gets_the_or_last() -> None:
    sent = sent_filter({"_id": "a", "$and": [{"n": 1}], "$or": LEASE})
    assert sent == {"_id": "a", "$and": [{"n": 1}, {"$or": LEASE}]}


@pytest.mark.parametrize(
    "filter",
    [{"$or": LEASE}, {"_id": "a"}, {}, {"$and": [{"_id": "a"}, {"$or": LEASE}]}],
)
def test_other_filters_are_sent_as_they_are(filter: dict[str, object]) -> None:
    assert sent_filter(filter) is filter


@pytest.mark.parametrize(
    "doc",
    [
        {"_id": "a", "n": 1},
        {"_id": "a", "n": 1, "lease": 3},
        {"_id": "a", "n": 1, "lease": 9},
        {"_id": "a", "n": 0, "lease": None},
        {"_id": "b", "n": 2},
    ],
)
def test_the_sent_shape_matches_the_same_documents(doc: dict[str, object]) -> None:
    given = {"_id": "a", "n": {"$gt": 0}, "$or": LEASE}
    assert matches(doc, sent_filter(given)) == matches(doc, given)


def test_a_bad_filter_is_refused_before_it_is_reshaped() -> None:
    with pytest.raises(ValueError, match="regex"):
        sent_filter({"_id": "a", "$or": [{"n": {"$regex": "x"}}]})
