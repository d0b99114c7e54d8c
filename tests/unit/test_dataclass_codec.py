"""The kernel's one dataclass ↔ document codec (``kernel.dataclass_codec``): every kind of
field both ways, defaults for fields a document lacks, and real aggregates of both services
that store dataclasses through it (issue 21: the compiled reader replaced two interpreted
ones, referral's and coordination's)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum, IntEnum, StrEnum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernel.dataclass_codec import from_document, reader, to_document


class Colour(StrEnum):
    RED = "red"
    EMPTY = ""  # a falsy value must still read as its member


class Level(IntEnum):
    LOW = 1
    HIGH = 2


class Legacy(Enum):
    OLD = "old"

    @classmethod
    def _missing_(cls, value: object) -> Legacy | None:
        return cls.OLD if value == "ancient" else None


@dataclass(frozen=True)
class Leaf:
    name: str
    colour: Colour
    at: datetime


@dataclass(frozen=True)
class Node:
    id: str
    count: int
    flag: bool
    level: Level
    day: date
    amount: Decimal
    leaves: tuple[Leaf, ...]
    tags: tuple[str, ...]
    extra: dict[str, Any]
    items: list[int]
    best: Leaf | None = None
    maybe_day: date | None = None
    either: str | int | None = None
    legacy: Legacy = Legacy.OLD
    notes: tuple[str, ...] = field(default_factory=tuple)
    children: tuple[Node, ...] = ()


AT = datetime(2026, 12, 7, 8, 30, tzinfo=UTC)


def sample() -> Node:
    leaf = Leaf("a", Colour.RED, AT)
    return Node(
        id="n1",
        count=3,
        flag=False,
        level=Level.HIGH,
        day=date(2026, 12, 7),
        amount=Decimal("12.50"),
        leaves=(leaf, Leaf("b", Colour.EMPTY, AT + timedelta(days=1))),
        tags=("x", "y"),
        extra={"k": [1, {"deep": True}]},
        items=[1, 2],
        best=leaf,
        maybe_day=None,
        either=7,
        notes=("one",),
        children=(Node("c", 0, True, Level.LOW, date(2026, 1, 1), Decimal(0), (), (), {}, []),),
    )


def test_a_dataclass_is_written_as_plain_values() -> None:
    doc = to_document(sample())
    assert doc["level"] == 2
    assert doc["day"] == "2026-12-07"
    assert doc["amount"] == "12.50"
    assert doc["leaves"][1] == {"name": "b", "colour": "", "at": AT + timedelta(days=1)}
    assert doc["tags"] == ["x", "y"]
    assert doc["extra"] == {"k": [1, {"deep": True}]}
    assert doc["children"][0]["children"] == []


def test_every_kind_of_field_reads_back_as_it_was_written() -> None:
    node = sample()
    back = from_document(Node, to_document(node))
    assert back == node
    assert type(back.leaves) is tuple and type(back.leaves[0]) is Leaf
    assert back.leaves[1].colour is Colour.EMPTY
    assert back.level is Level.HIGH
    assert type(back.children[0]) is Node


def test_a_field_missing_from_the_document_takes_its_default_and_unknown_keys_are_ignored() -> None:
    doc = to_document(sample())
    for name in ("best", "maybe_day", "either", "legacy", "notes", "children"):
        del doc[name]
    doc["no_such_field"] = "ignored"
    back = from_document(Node, doc)
    assert back.best is None and back.legacy is Legacy.OLD
    assert back.notes == () and back.children == ()


def test_a_required_field_missing_from_the_document_is_an_error_naming_it() -> None:
    doc = to_document(sample())
    del doc["count"]
    with pytest.raises(TypeError, match="count"):
        from_document(Node, doc)


def test_none_stays_none_in_every_kind_of_field() -> None:
    doc = to_document(sample())
    for name in ("best", "maybe_day", "either", "legacy", "leaves", "level", "amount"):
        doc[name] = None
    back = from_document(Node, doc)
    assert back.best is None and back.leaves is None and back.level is None  # type: ignore[comparison-overlap]


def test_numbers_are_coerced_to_int_but_a_bool_is_kept() -> None:
    doc = to_document(sample())
    doc["count"] = 4.0  # a store may hand back a double
    doc["flag"] = True
    back = from_document(Node, doc)
    assert back.count == 4 and type(back.count) is int
    assert back.flag is True
    doc["count"] = True  # never turned into 1
    assert from_document(Node, doc).count is True


def test_a_union_of_several_types_keeps_the_stored_value() -> None:
    doc = to_document(sample())
    doc["either"] = "seven"
    assert from_document(Node, doc).either == "seven"


def test_an_enum_value_not_among_its_members_goes_through_the_enum_itself() -> None:
    doc = to_document(sample())
    doc["legacy"] = "ancient"  # the enum's own _missing_ maps it
    assert from_document(Node, doc).legacy is Legacy.OLD
    doc["level"] = 9
    with pytest.raises(ValueError, match="9"):
        from_document(Node, doc)


@dataclass(frozen=True)
class Checked:
    amount: int

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise ValueError("amount must not be negative")


@dataclass
class Mutable:
    items: list[int] = field(default_factory=list)
    seen: int = field(default=0, init=False)


def test_a_class_with_post_init_is_built_through_its_constructor() -> None:
    assert from_document(Checked, {"amount": 1}) == Checked(1)
    with pytest.raises(ValueError, match="negative"):
        from_document(Checked, {"amount": -1})


def test_a_default_factory_gives_each_instance_its_own_value() -> None:
    first, second = from_document(Mutable, {}), from_document(Mutable, {})
    assert first == Mutable() and first.seen == 0
    first.items.append(1)
    assert second.items == []


def test_the_reader_is_compiled_once_per_class() -> None:
    assert reader(Node) is reader(Node)
    with pytest.raises(TypeError, match="not a dataclass"):
        reader(int)


_leaves = st.builds(
    Leaf,
    name=st.text(max_size=5),
    colour=st.sampled_from(Colour),
    at=st.datetimes(timezones=st.just(UTC)),
)
_nodes = st.builds(
    Node,
    id=st.text(max_size=5),
    count=st.integers(),
    flag=st.booleans(),
    level=st.sampled_from(Level),
    day=st.dates(),
    amount=st.decimals(allow_nan=False, allow_infinity=False),
    leaves=st.lists(_leaves, max_size=3).map(tuple),
    tags=st.lists(st.text(max_size=3), max_size=3).map(tuple),
    extra=st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    items=st.lists(st.integers(), max_size=3),
    best=st.none() | _leaves,
    maybe_day=st.none() | st.dates(),
    either=st.none() | st.text(max_size=3) | st.integers(),
    notes=st.lists(st.text(max_size=3), max_size=2).map(tuple),
)


@given(_nodes)
def test_any_instance_reads_back_equal(node: Node) -> None:
    assert from_document(Node, to_document(node)) == node


def test_a_sent_referral_with_history_materials_and_clocks_reads_back_equal() -> None:
    from referral.adapters.repository import referral_from_document, referral_to_document
    from tests.unit.test_referral_domain import sent

    referral = sent()
    assert referral.history and referral.materials
    assert referral_from_document(referral_to_document(referral)) == referral


def test_a_coordination_assistance_request_reads_back_equal() -> None:
    from coordination.domain.assistance import AssistanceRequest
    from tests.unit.test_coordination_cooperation_domain import assistance, reply

    request = reply(assistance(), agreed_start_on=date(2026, 3, 9))  # a date field, and clocks
    assert request.agreed_start_on and request.clocks
    assert to_document(request)["agreed_start_on"] == "2026-03-09"
    assert from_document(AssistanceRequest, to_document(request)) == request
