"""Where the MongoDB wire-protocol server spends its CPU on a list page (issue 21, P4): the
server's own stacks, sampled by Linux ``perf`` while one query shape runs in a loop.

P4's lists grow with the collection on SecantusDB although ``explain`` reports an index scan
(docs/benchmarks.md). This loads ``--size`` documents, either shaped as in
``bench.repro_index_walk`` (the two list indexes of the referral service, ``--pad`` bytes of
padding so that a document is about a referral's size) or, with ``--referrals``, P4's own:
clones of a referral sent through the real service (``bench.template``) with every index of
the referral repository, queried with the filters the repository builds for a clerk's
received list and a coordinator's overdue list. Then for each query shape:

* counts the documents its filter matches (what a server that applies the limit after
  fetching and sorting has to read: all of them) and the point reads a page makes in the
  storage engine (WiredTiger's ``cursor search calls``: on SecantusDB one per document
  fetched, so a page that reads more than its filter matches shows here),
* runs pages of 21 for ``--seconds`` while ``perf record --call-graph dwarf`` samples the
  server process, and prints the page's p50, its time per matched document, and the
  server functions with the largest inclusive share of the samples.

Raw PyMongo only, nothing of Liandong's code. It needs ``perf`` (Debian: ``linux-perf``)
and the right to trace the server (root, or ``kernel.perf_event_paranoid`` ≤ 1), a server
binary with symbols (``secantusd-rs`` as ``cargo install`` builds it) and a private server,
since it loads up to hundreds of megabytes and drops its database at the end::

    LIANDONG_MONGO_PORT=27019 scripts/infra/mongo.sh up
    uv run python -m bench.server_profile --url mongodb://127.0.0.1:27019/ --size 100000

A development tool: never on the production path.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pymongo import ASCENDING, MongoClient

from bench.common import point_reads, server_process
from bench.repro_index_walk import PAGE, documents, fetch_page, percentile, shapes
from bench.template import Cloner, sent_referral_document

#: The shapes profiled by default: the service's two P4 lists and a narrow window of the
#: overdue index, which shows that the cost follows the matches, not the collection.
DEFAULT_SHAPES = (
    "overdue: $ne null + $lt (the service's)",
    "receiver: point bounds, sort created_at",
    "narrow window: 2 days of keys (~0.5 %)",
)
#: Frames every sample passes through (the server's accept loop, the dispatch, the unknown
#: caller of a thread's first frame): no information, left out of the list.
_GENERIC = re.compile(
    r"^(0x[0-9a-f]+|secantus_server::|secantus_commands::(dispatch|run_handler|session::run)"
    r"|tokio::|std::|<std::|core::ops::function|<tokio|start_thread|clone3?|__clone)"
)
_REPORT_LINE = re.compile(r"^\s+([\d.]+)%\s+([\d.]+)%\s+\[(.)\]\s+(.*\S)\s*$")


def referral_shapes() -> dict[str, dict[str, Any]]:
    """P4's two lists as the referral repository asks for them, and the received list with
    the scope clause the repository sent before session 15 (``parties``)."""
    from kernel.keyset import after_clause, keyset_sort, with_clauses
    from referral.adapters.repository import ReferralFilter, ReferralRepository

    receiver = "fy-hancong"  # bench.p4_scale.RECEIVER
    received = ReferralFilter(receiver_id=receiver, statuses=("sent",), party_agency_id=receiver)
    clauses = ReferralRepository._clauses(received, "created_at")
    overdue = ReferralFilter(overdue_at=datetime.now(UTC))
    # A cursor before every referral: the shape of a second page, matching as the first.
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    after = after_clause("created_at", False, (long_ago, ""))
    return {
        "referrals: receiver + status (a clerk's received list)": {
            "filter": with_clauses(clauses),
            "sort": keyset_sort("created_at", False),
        },
        "referrals: receiver + status + parties (the same list before session 15)": {
            "filter": with_clauses([*clauses, {"parties": receiver}]),
            "sort": keyset_sort("created_at", False),
        },
        "referrals: receiver + status, a page after a cursor": {
            "filter": with_clauses([*clauses, after]),
            "sort": keyset_sort("created_at", False),
        },
        "referrals: receiver + status, a page after a cursor, separate conjuncts (before "
        "session 16)": {
            "filter": {"$and": [*clauses, after]},
            "sort": keyset_sort("created_at", False),
        },
        "referrals: overdue (a coordinator's list)": {
            "filter": with_clauses(ReferralRepository._clauses(overdue, "open_due")),
            "sort": keyset_sort("open_due", False),
        },
    }


def referral_batches(size: int) -> Iterator[list[dict[str, Any]]]:
    """Clones of P4's template referral, in batches of 1,000."""
    cloner = Cloner(asyncio.run(sent_referral_document()), seed=4)
    for start in range(0, size, 1000):
        yield [cloner.clone(n) for n in range(start, min(size, start + 1000))]


def synthetic_batches(size: int, pad: int) -> Iterator[list[dict[str, Any]]]:
    text = "x" * pad
    for start in range(0, size, 2000):
        yield documents(start, min(2000, size - start), text)


def perf_report(data: Path) -> list[tuple[float, float, str]]:
    """(inclusive %, own %, symbol) of user-space frames, largest inclusive share first."""
    out = subprocess.run(
        ["perf", "report", "-i", str(data), "--stdio", "--children", "--sort", "sym"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = []
    for line in out.splitlines():
        m = _REPORT_LINE.match(line)
        if m and m.group(3) == ".":
            rows.append((float(m.group(1)), float(m.group(2)), m.group(4)))
    return sorted(rows, reverse=True)


def run_pages(coll: Any, shape: dict[str, Any], seconds: float) -> list[float]:
    laps = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        laps.append(fetch_page(coll, shape))
    return laps


def reads_per_page(coll: Any, shape: dict[str, Any], pages: int = 5) -> float | None:
    """The storage engine's point reads per page of ``shape``: on SecantusDB one per
    document fetched by record id, so what a page reads, whatever ``explain`` says; on
    MongoDB about the page's own documents. None where the server reports no WiredTiger
    counters. Nothing else may use the server meanwhile."""

    def count() -> int | None:
        return point_reads(coll.database.client.admin.command("serverStatus"))

    start, before = count(), count()
    if start is None or before is None:
        return None
    own = before - start  # what asking for the counter reads itself
    for _ in range(pages):
        fetch_page(coll, shape)
    after = count()
    return None if after is None else (after - before - own) / pages


def profile_shape(
    coll: Any, pid: int, label: str, shape: dict[str, Any], seconds: float, top: int
) -> None:
    matched = coll.count_documents(shape["filter"])
    run_pages(coll, shape, min(2.0, seconds))  # warm the cache, as the lists are
    reads = reads_per_page(coll, shape)
    with tempfile.TemporaryDirectory(prefix="liandong-perf-") as tmp:
        data = Path(tmp) / "perf.data"
        recorder = subprocess.Popen(
            [
                "perf",
                "record",
                "-F",
                "299",
                "--call-graph",
                "dwarf,16384",
                "-p",
                str(pid),
                "-o",
                str(data),
                "--",
                "sleep",
                str(seconds),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        laps = run_pages(coll, shape, seconds)
        _, err = recorder.communicate(timeout=seconds + 120)
        if recorder.returncode != 0:
            raise SystemExit(f"perf record failed ({recorder.returncode}): {err.strip()}")
        rows = perf_report(data)
    p50 = percentile(laps, 50)
    per_match = p50 * 1000 / matched if matched else float("nan")
    print(
        f"\n== {label}\n   {matched:,} documents match; {len(laps)} pages of {PAGE}; "
        f"p50 {p50:.1f} ms, p95 {percentile(laps, 95):.1f} ms; "
        f"{per_match:.1f} µs per matched document; "
        + (f"{reads:,.0f} point reads per page" if reads is not None else "point reads unknown")
    )
    print(f"   {'incl %':>7} {'own %':>6}  server function (perf, {len(rows)} frames)")
    shown = 0
    for inclusive, own, symbol in rows:
        if _GENERIC.match(symbol):
            continue
        print(f"   {inclusive:7.1f} {own:6.1f}  {symbol[:110]}")
        shown += 1
        if shown == top:
            break


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url", default=os.environ.get("LIANDONG_TEST_MONGO_URL", "mongodb://127.0.0.1:27017")
    )
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--pad", type=int, default=8000, help="bytes of padding per document")
    parser.add_argument("--seconds", type=float, default=8.0, help="sampled per shape")
    parser.add_argument("--top", type=int, default=16, help="functions listed per shape")
    parser.add_argument(
        "--referrals",
        action="store_true",
        help="P4's referral documents, indexes and list filters instead of the synthetic ones",
    )
    parser.add_argument(
        "--shape",
        action="append",
        help="a shape by the start of its label (repeatable)",
    )
    args = parser.parse_args()
    if shutil.which("perf") is None:
        raise SystemExit("perf is not installed (Debian: apt-get install linux-perf)")
    parts = urlsplit(args.url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"{args.url}: only a server on this machine can be sampled")
    proc = server_process(parts.port or 27017)
    if proc is None:
        raise SystemExit(f"no process visible listening on port {parts.port or 27017}")
    all_shapes = referral_shapes() if args.referrals else shapes()
    chosen: list[tuple[str, dict[str, Any]]] = []
    for prefix in args.shape or (list(all_shapes) if args.referrals else DEFAULT_SHAPES):
        found = [(k, v) for k, v in all_shapes.items() if k.startswith(prefix)]
        if not found:
            raise SystemExit(f"--shape {prefix!r}: none of {sorted(all_shapes)}")
        chosen.append(found[0])
    client: MongoClient[dict[str, Any]] = MongoClient(args.url)
    name = f"server_profile_{uuid.uuid4().hex[:8]}"
    coll = client[name]["docs"]
    batches: Callable[[], Iterator[list[dict[str, Any]]]]
    if args.referrals:
        from referral.adapters.repository import INDEXES

        indexes = list(INDEXES)
        batches, kind = partial(referral_batches, args.size), "P4's referral clones"
    else:
        indexes = [
            ("by_open_due", [("open_due", ASCENDING), ("_id", ASCENDING)]),
            ("by_receiver", [("receiver_id", 1), ("status", 1), ("created_at", 1), ("_id", 1)]),
        ]
        batches = partial(synthetic_batches, args.size, args.pad)
        kind = f"synthetic documents of ~{args.pad / 1000:.0f} KB"
    try:
        for index_name, keys in indexes:
            coll.create_index(keys, name=index_name)
        started = time.perf_counter()
        for batch in batches():
            coll.insert_many(batch, ordered=False)
        print(
            f"server {args.url} (pid {proc.pid}, {proc.name()}), version "
            f"{client.server_info().get('version', '?')}; {args.size:,} {kind} loaded in "
            f"{time.perf_counter() - started:.0f} s"
        )
        for label, shape in chosen:
            profile_shape(coll, proc.pid, label, shape, args.seconds, args.top)
    finally:
        client.drop_database(name)
        client.close()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
