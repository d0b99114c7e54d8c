"""docs/graph.md's example queries (issue 18) are valid against the committed public schema
(gateway/api.graphql): a renamed field breaks this test, not a frontend team's screen."""

from __future__ import annotations

import re

from graphql import build_schema, parse, validate

from liandong.suite import API_SCHEMA_PATH, REPO_ROOT

GUIDE = REPO_ROOT / "docs" / "graph.md"


def guide_queries() -> dict[str, str]:
    """The guide's ```graphql blocks by operation name."""
    blocks = re.findall(r"```graphql\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
    out: dict[str, str] = {}
    for block in blocks:
        name = re.search(r"query (\w+)", block)
        assert name, f"a guide query has no operation name: {block[:60]!r}"
        out[name.group(1)] = block
    return out


def test_the_guide_has_the_three_screens() -> None:
    assert set(guide_queries()) == {"ClerkQueue", "DepartmentInbox", "SupervisionDashboard"}


def test_every_guide_query_is_valid_against_the_public_schema() -> None:
    schema = build_schema(API_SCHEMA_PATH.read_text(encoding="utf-8"))
    for name, query in guide_queries().items():
        errors = validate(schema, parse(query))
        assert not errors, f"{name}: {[e.message for e in errors]}"


def test_an_invalid_query_would_be_caught() -> None:
    schema = build_schema(API_SCHEMA_PATH.read_text(encoding="utf-8"))
    assert validate(schema, parse("query { viewer { noSuchField } }"))


def test_the_guide_uses_no_deprecated_element() -> None:
    """Issue 18: the guide shows what a frontend written today should use: the String days
    (`deadlineDate`, …) rather than the deprecated `Date` fields, and no other deprecated
    field, argument or input field (the changelog lists them with their replacements)."""
    from graphql import NoDeprecatedCustomRule

    schema = build_schema(API_SCHEMA_PATH.read_text(encoding="utf-8"))
    for name, query in guide_queries().items():
        errors = validate(schema, parse(query), [NoDeprecatedCustomRule])
        assert not errors, f"{name}: {[e.message for e in errors]}"
    old = parse('{ jointOperation(id: "j") { tasks { deadline } } }')
    assert validate(schema, old, [NoDeprecatedCustomRule]), "a deprecated field is caught"
