"""The committed subgraph SDL files match the code, and they compose into a supergraph."""

from __future__ import annotations

from pathlib import Path

import pytest

from coordination.entrypoints.graphql.schema import build_schema as coordination_schema
from kernel.settings import SERVICES
from liandong.gateway import compose_supergraph
from liandong.suite import export_sdl, sdl_path
from notify.entrypoints.graphql.schema import build_schema as notify_schema
from referral.entrypoints.graphql.schema import build_schema as referral_schema

BUILDERS = {
    "referral": referral_schema,
    "coordination": coordination_schema,
    "notify": notify_schema,
}


def test_committed_sdl_matches_the_code() -> None:
    stale = [
        name
        for name in SERVICES
        if sdl_path(name).read_text(encoding="utf-8") != export_sdl(name, BUILDERS[name]())
    ]
    assert not stale, f"SDL drifted for {stale}: run `uv run liandong sdl export` and commit"


@pytest.mark.usefixtures("gateway_installed")  # composing runs the gateway's node tools
def test_subgraphs_compose_into_a_supergraph(tmp_path: Path) -> None:
    out = compose_supergraph(
        {name: (f"http://127.0.0.1:1/{name}/graphql", sdl_path(name)) for name in SERVICES},
        tmp_path / "supergraph.graphql",
    )
    text = out.read_text()
    for type_name in ("type Referral", "type Agency", "type InboxItem"):
        assert type_name in text
    # Agency is joined across all three subgraphs by its key.
    assert text.count("@join__type(graph: ") >= 3


@pytest.mark.usefixtures("gateway_installed")  # composing runs the gateway's node tools
def test_committed_api_schema_is_the_composition_of_the_committed_sdl() -> None:
    """gateway/api.graphql (issue 18) is what clients generate code from: the public schema
    the gateway serves from the committed subgraph SDL files, never a hand-edited copy."""
    from liandong.gateway import composed_api_schema
    from liandong.suite import API_SCHEMA_PATH

    composed = composed_api_schema({name: sdl_path(name) for name in SERVICES})
    assert API_SCHEMA_PATH.read_text(encoding="utf-8") == composed, (
        "gateway/api.graphql is stale: run `uv run liandong sdl export` and commit"
    )
    for internal in ("_Entity", "_Service", "join__", "link__", "_entities", "TransportOptions"):
        assert internal not in composed, internal


# Issue 18, docs and codegen: every type, field, argument, input field and enum value of the
# public schema has a description (session 8 left 16 types, 117 fields, 43 arguments, 41 input
# fields and 23 enum values without one; session 9 described them all).
KINDS = ("types", "fields", "arguments", "input fields", "enum values")


def _undescribed(sdl: str) -> dict[str, list[str]]:
    from graphql import (
        GraphQLEnumType,
        GraphQLInputObjectType,
        GraphQLInterfaceType,
        GraphQLObjectType,
        GraphQLScalarType,
        build_schema,
    )

    schema = build_schema(sdl)
    out: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for name, t in schema.type_map.items():
        if name.startswith("__") or (
            isinstance(t, GraphQLScalarType) and name in {"String", "Int", "Float", "Boolean", "ID"}
        ):
            continue
        if not t.description:
            out["types"].append(name)
        if isinstance(t, GraphQLObjectType | GraphQLInterfaceType):
            for fname, field in t.fields.items():
                if not field.description:
                    out["fields"].append(f"{name}.{fname}")
                out["arguments"] += [
                    f"{name}.{fname}({a})" for a, arg in field.args.items() if not arg.description
                ]
        elif isinstance(t, GraphQLInputObjectType):
            out["input fields"] += [
                f"{name}.{f}" for f, field in t.fields.items() if not field.description
            ]
        elif isinstance(t, GraphQLEnumType):
            out["enum values"] += [
                f"{name}.{v}" for v, val in t.values.items() if not val.description
            ]
    return out


def test_every_element_of_the_public_schema_is_described() -> None:
    """What a frontend team reads in its generated client and in GraphiQL: no type, field,
    argument, input field or enum value of gateway/api.graphql without a description."""
    from liandong.suite import API_SCHEMA_PATH

    missing = {
        k: v for k, v in _undescribed(API_SCHEMA_PATH.read_text(encoding="utf-8")).items() if v
    }
    assert not missing, (
        f"undescribed in the public schema: {missing}; describe each where it is defined "
        "(strawberry.field / strawberry.argument / strawberry.enum_value / expose_enum "
        "description=...) and run `uv run liandong sdl export`"
    )


def test_the_description_check_catches_each_kind_of_undescribed_element() -> None:
    described = (
        '"""A."""\ntype Query {\n  """B."""\n  a(\n    """C."""\n    x: Int\n  ): E\n}\n'
        '"""D."""\ninput I {\n  """F."""\n  f: Int\n}\n'
        '"""G."""\nenum E {\n  """H."""\n  V\n}\n'
        '"""J."""\ntype Mutation {\n  """K."""\n  m(\n    """L."""\n    i: I\n  ): Int\n}\n'
    )
    assert not any(_undescribed(described).values())
    for text, kind, name in (
        ('"""A."""\n', "types", "Query"),
        ('  """B."""\n', "fields", "Query.a"),
        ('    """C."""\n', "arguments", "Query.a(x)"),
        ('  """F."""\n', "input fields", "I.f"),
        ('  """H."""\n', "enum values", "E.V"),
    ):
        assert _undescribed(described.replace(text, "", 1))[kind] == [name], kind


# Issue 18, codegen: a client generates its types from gateway/api.graphql with no hand-written
# type map beyond DateTime. The custom scalars Date, Decimal and JSON stay only on deprecated
# elements, each with a standard-typed replacement (a day is a String YYYY-MM-DD, money integer
# fen, a JSON payload a String of JSON text); nothing new may use them.
def _custom_scalar_uses_not_deprecated(sdl: str) -> list[str]:
    """Every field, argument and input field of ``sdl`` whose type is a custom scalar other
    than DateTime and that is not ``@deprecated``."""
    from graphql import (
        GraphQLInputObjectType,
        GraphQLInterfaceType,
        GraphQLObjectType,
        GraphQLScalarType,
        build_schema,
        get_named_type,
    )

    allowed = {"String", "Int", "Float", "Boolean", "ID", "DateTime"}

    def custom(type_: object) -> bool:
        named = get_named_type(type_)  # type: ignore[arg-type]
        return isinstance(named, GraphQLScalarType) and named.name not in allowed

    uses: list[str] = []
    for name, t in build_schema(sdl).type_map.items():
        if isinstance(t, GraphQLObjectType | GraphQLInterfaceType):
            for fname, field in t.fields.items():
                if custom(field.type) and not field.deprecation_reason:
                    uses.append(f"{name}.{fname}")
                uses += [
                    f"{name}.{fname}({a})"
                    for a, arg in field.args.items()
                    if custom(arg.type) and not arg.deprecation_reason
                ]
        elif isinstance(t, GraphQLInputObjectType):
            uses += [
                f"{name}.{f}"
                for f, field in t.fields.items()
                if custom(field.type) and not field.deprecation_reason
            ]
    return uses


def test_custom_scalars_other_than_datetime_serve_only_deprecated_elements() -> None:
    """Issue 18: codegen needs no type map beyond DateTime for anything not deprecated; each
    Date/Decimal/JSON element is deprecated with its replacement (docs/graph.md, changelog)."""
    from liandong.suite import API_SCHEMA_PATH

    uses = _custom_scalar_uses_not_deprecated(API_SCHEMA_PATH.read_text(encoding="utf-8"))
    assert not uses, (
        f"not deprecated, yet typed with a custom scalar other than DateTime: {uses}; use a "
        "String (a day YYYY-MM-DD, JSON text), an Int (fen) or an enum instead"
    )


def test_the_custom_scalar_check_catches_a_field_an_argument_and_an_input_field() -> None:
    base = (
        "scalar Date\nscalar DateTime\nscalar JSON\n"
        'input I {\n  d: Date @deprecated(reason: "use s")\n  s: String\n}\n'
        'type Query {\n  a(on: Date @deprecated(reason: "use x"), x: String, i: I): DateTime\n'
        '  j: JSON @deprecated(reason: "use k")\n  k: String\n}\n'
    )
    assert _custom_scalar_uses_not_deprecated(base) == []
    for deprecated, name in (
        (' @deprecated(reason: "use s")', "I.d"),
        (' @deprecated(reason: "use x")', "Query.a(on)"),
        (' @deprecated(reason: "use k")', "Query.j"),
    ):
        assert _custom_scalar_uses_not_deprecated(base.replace(deprecated, "", 1)) == [name]
