"""Issue 16, finding 5: the gateway's cost estimate against this project's composed schema
(the three subgraphs' SDL, composed as in production), not a toy one.

A connection field's `first` sizes the `edges` below it. Before the fix `edges` counted as
LIST_SIZE (20) whatever `first` asked, so
``referrals(first:200){edges{node{sender{inbox(first:200){edges{node{id}}}}}}}`` was estimated
881 and passed the limit (5000) while its answer holds 80,801 objects (200 referrals with
their edges and senders, 40,000 inbox items with their edges, the connections). The estimate
is read from the refusal's message (``operation estimated cost N``); the cost check runs
before any subgraph is called, so no service needs to run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

import httpx
import pytest

from kernel.settings import SERVICES
from liandong.gateway import GatewayProcess, compose_supergraph, free_port
from liandong.suite import sdl_path

pytestmark = pytest.mark.timeout(120)

# Pinned so each boundary below is just inside or just outside it.
MAX_COST: Final = 37

NESTED: Final = (
    "query($outer: Int!, $inner: Int!) { referrals(first: $outer) { edges { node { id "
    "sender { id inbox(first: $inner) { edges { node { id title } } } } } } } }"
)


def objects(outer: int, inner: int) -> int:
    """Objects in the full answer: the referrals connection; per referral its edge, node and
    sender and the sender's inbox connection; per inbox item its edge and node."""
    return 1 + outer * 4 + outer * inner * 2


@pytest.fixture(scope="module")
def gateway(gateway_installed: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("cost")
    nowhere = f"http://127.0.0.1:{free_port()}/graphql"  # never reached: refused before
    supergraph = compose_supergraph(
        {name: (nowhere, sdl_path(name)) for name in SERVICES}, directory / "supergraph.graphql"
    )
    env = {"LIANDONG_DISTRICT": "fuyuan", "LIANDONG_GATEWAY_MAX_COST": str(MAX_COST)}
    with GatewayProcess(supergraph, directory, env=env) as process:
        yield process.url


def _estimate(url: str, query: str, variables: dict[str, Any]) -> int | None:
    """The gateway's estimate when it refuses the query; None when the cost check passed."""
    answer = httpx.post(url, json={"query": query, "variables": variables}, timeout=30).json()
    for error in answer.get("errors", []):
        if error.get("extensions", {}).get("code") == "COST_ESTIMATED_TOO_EXPENSIVE":
            found = re.search(r"estimated cost (\d+)", error["message"])
            assert found, error
            return int(found.group(1))
    return None


def test_issue_16_connection_first_sizes_the_estimate_on_the_projects_schema(
    gateway: str,
) -> None:
    # The finding's query: estimated as the 80,801 objects it returns (881 before the fix).
    assert _estimate(gateway, NESTED, {"outer": 200, "inner": 200}) == objects(200, 200) == 80801
    # Boundaries at MAX_COST 37: 3 × 4 is exactly 37 objects and passes; 3 × 5 (43) does not.
    assert objects(3, 4) == MAX_COST
    assert _estimate(gateway, NESTED, {"outer": 3, "inner": 4}) is None
    assert _estimate(gateway, NESTED, {"outer": 3, "inner": 5}) == objects(3, 5) == 43
    # Literal arguments count as variables do.
    literal = NESTED.replace("$outer", "3").replace("$inner", "5").split(") ", 1)[1]
    assert _estimate(gateway, "query " + literal, {}) == 43


def test_issue_16_a_connection_without_first_counts_its_schema_default(gateway: str) -> None:
    """`referrals` defaults to 50 items and `inbox` to 20 (their SDL): without `first` the
    estimate takes those, not LIST_SIZE."""
    query = "{ referrals { edges { node { id sender { id inbox { edges { node { id } } } } } } } }"
    assert _estimate(gateway, query, {}) == objects(50, 20)


def test_issue_16_fragments_keep_the_connection_size(gateway: str) -> None:
    query = (
        "query($n: Int!) { referrals(first: $n) { ...E } } "
        "fragment E on ReferralConnection { edges { ... on ReferralEdge { node { id } } } }"
    )
    # 1 connection + 30 edges + 30 nodes.
    assert _estimate(gateway, query, {"n": 30}) == 61
