"""Smoke test of the benchmark command: ``python -m bench --quick --no-write`` runs every
benchmark against the real servers and the real gateway, prints every figure, and every
figure is a finite number. Never a timing assertion: whether a target is met is a figure the
command reports, not something a test may decide on a shared machine."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests import ROOT, run_module
from tests.infra import Server

# The figures each benchmark must print (names as the command prints them; the sizes in P3's
# and P4's names depend on the mode, so these are prefixes).
EXPECTED = {
    "P1": [
        "one-subgraph query, direct to referral: throughput",
        "one-subgraph query via gateway: throughput",
        "throughput ratio gateway / direct",
        "three-subgraph query via gateway: p95",
        "p95 ratio three-subgraph / one-subgraph",
    ],
    "P2": [
        "page of 100 via /graphql: throughput",
        "page of 100 via plain FastAPI route: throughput",
        "throughput ratio graphql / plain",
        "profile: one GraphQL page of 100, in process",
    ],
    "P3": [
        "outbox → relay → RabbitMQ → side effect",
        "raw aio-pika publish with confirms + consume",
        "ratio outbox path / raw",
        "profile: store time per event",
    ],
    "P4": [
        "load to 50: insert rate",
        "50: receiver + status list (GraphQL) p95",
        "50: overdue list (GraphQL) p95",
        "100: receiver + status list (GraphQL) p95",
        "100: overdue list (GraphQL) p95",
        "receiver + status: p95 growth 50 → 100",
        "overdue: p95 growth 50 → 100",
        "100: receiver + status, raw-driver floor p95",
        "100: overdue, raw-driver floor p95",
        "100: receiver + status, the server's point reads per page",
        "100: overdue, the server's point reads per page",
    ],
    "P5": [
        "events committed",
        "store requests per event",
        "commit-to-inbox p95",
        "missing after the drain",
        "RSS growth: notify",
        "RSS growth: coordination",
    ],
    "P6": [
        "referral(id) straight to the referral service: throughput",
        "bare strawberry + FastAPI { hello }: throughput",
        "service floor ratio referral / bare",
    ],
}


@pytest.mark.timeout(2400)
def test_quick_run_prints_every_figure_finite(
    tmp_path: Path, mongo_server: Server, rabbitmq_server: Server
) -> None:
    out = tmp_path / "figures.json"
    docs = ROOT / "docs" / "benchmarks.md"
    results_before = _results_block(docs)
    report = run_module(
        ["bench", "--quick", "--no-write", "--json", str(out)],
        timeout=2300,
        env={
            "LIANDONG_TEST_MONGO_URL": mongo_server.url,
            "LIANDONG_TEST_AMQP_URL": rabbitmq_server.url,
            "COLUMNS": "200",
        },
    )
    figures = json.loads(out.read_text(encoding="utf-8"))["figures"]
    for bench, names in EXPECTED.items():
        mine = [f for f in figures if f["bench"] == bench]
        for name in names:
            found = [f for f in mine if f["name"].startswith(name)]
            assert found, (
                f"{bench} did not report {name!r}; it reported {[f['name'] for f in mine]}"
            )
    for figure in figures:
        assert math.isfinite(figure["value"]), figure
        # Printed too, not only in the JSON: the table has one line per figure name.
        assert figure["name"] in report, figure["name"]
    # --no-write leaves the recorded results alone.
    assert _results_block(docs) == results_before


def _results_block(docs: Path) -> str:
    text = docs.read_text(encoding="utf-8")
    start = text.index("<!-- bench:results:start")
    return text[start : text.index("<!-- bench:results:end -->", start)]


@pytest.mark.timeout(600)
def test_backends_bench_measures_every_operation(tmp_path: Path, mongo_server: Server) -> None:
    """``python -m bench.backends`` (FerretDB's backends side by side) at a tiny size against
    the one server there is: every operation measured, every latency finite."""
    out = tmp_path / "backends.json"
    report = run_module(
        [
            "bench.backends",
            "--sizes",
            "40",
            "--reps",
            "2",
            "--min-reps",
            "1",
            "--urls",
            mongo_server.url,
            "--json",
            str(out),
        ],
        timeout=540,
    )
    result = json.loads(out.read_text(encoding="utf-8"))
    (column,) = result["columns"]
    assert column["loaded"] == 40 and not column["stopped"], column
    assert set(column["ops"]) == set(result["operations"])
    for name, op in column["ops"].items():
        assert op["reps"] >= 1 and math.isfinite(op["mean_ms"]), (name, op)
    assert "find_one({_id})" in report


@pytest.mark.timeout(600)
def test_p4_layers_splits_a_page_into_segments_that_add_up(mongo_server: Server) -> None:
    """``python -m bench.p4_layers`` at a tiny size: every segment of the page and the floor
    printed, finite, and the segments add up to the page (they are consecutive marks inside
    one request; only the caller's own microseconds are outside them)."""
    from bench.p4_layers import SEGMENTS

    report = run_module(
        ["bench.p4_layers", "--url", mongo_server.url, "--size", "60", "--rounds", "3"],
        timeout=540,
    )
    means: dict[str, float] = {}
    for line in report.splitlines():
        for name in [s[0] for s in SEGMENTS] + ["our page", "raw-driver floor"]:
            if line.startswith(name.ljust(34)):  # the report's name column
                means[name] = float(line[34:].split()[0])
    assert set(means) == {s[0] for s in SEGMENTS} | {"our page", "raw-driver floor"}, report
    assert all(math.isfinite(v) and v >= 0 for v in means.values()), means
    segments = sum(means[s[0]] for s in SEGMENTS)
    assert segments <= means["our page"] <= segments + 1.0, means
