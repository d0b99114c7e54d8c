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
