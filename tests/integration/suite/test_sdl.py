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
    for internal in ("_Entity", "_Service", "join__", "link__", "_entities"):
        assert internal not in composed, internal


# What of the public schema still has no description (issue 18: every type, field, argument
# and enum value described). The figures may only go down: a new field comes with its
# description, and documenting old ones lowers them here.
UNDESCRIBED_AT_MOST = {
    "types": 4,
    "fields": 0,
    "arguments": 0,
    "input fields": 0,
    "enum values": 0,
}


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
    out: dict[str, list[str]] = {kind: [] for kind in UNDESCRIBED_AT_MOST}
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


def test_the_public_schema_is_not_less_described_than_before() -> None:
    from liandong.suite import API_SCHEMA_PATH

    missing = _undescribed(API_SCHEMA_PATH.read_text(encoding="utf-8"))
    grown = {
        kind: len(names)
        for kind, names in missing.items()
        if len(names) > UNDESCRIBED_AT_MOST[kind]
    }
    assert not grown, (
        f"undescribed elements grew beyond {UNDESCRIBED_AT_MOST}: {grown}; describe what you "
        f"added (strawberry.field(description=...)). Undescribed now: "
        f"{ {k: v[-5:] for k, v in missing.items() if k in grown} }"
    )


def test_the_description_ratchet_catches_an_undescribed_field() -> None:
    described = '"""A."""\ntype Query {\n  """B."""\n  a: Int\n}\n'
    assert _undescribed(described)["fields"] == []
    assert _undescribed(described.replace('  """B."""\n', ""))["fields"] == ["Query.a"]
