"""``uv run python -m bench [--only P1,P3] [--quick | --full] [--no-write] [--json FILE]``

Runs the benchmarks of issue 7 in one process (each against private names on the shared
servers), prints every figure and ratio side by side, and rewrites the results table in
docs/benchmarks.md unless ``--no-write``. Exits 1 when a benchmark could not run (its error
is printed and shown in the table); a target that is not met is a figure, not a failure.
"""

from __future__ import annotations

import argparse
import math
import shutil
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench import p1_gateway, p2_graphql_cost, p3_event_path, p4_scale, p5_soak, p6_floor
from bench.common import Figure, Mode, server_urls
from bench.report import machine, print_table, write_docs, write_json
from kernel.settings import Settings
from liandong.serving import run as run_on_service_loop

BENCHES: dict[str, Callable[[Mode], Awaitable[list[Figure]]]] = {
    "P1": p1_gateway.run,
    "P2": p2_graphql_cost.run,
    "P3": p3_event_path.run,
    "P4": p4_scale.run,
    "P5": p5_soak.run,
    "P6": p6_floor.run,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", default="", help="comma-separated subset, e.g. P1,P3")
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--quick", action="store_true", help="small sizes, short durations")
    sizes.add_argument("--full", action="store_true", help="the issue's sizes (the default)")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite the docs")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument(
        "--p4-load-budget",
        type=float,
        default=3600.0,
        help="seconds P4 may spend loading referrals before it stops at the sizes reached",
    )
    parser.add_argument(
        "--p5-rate", type=float, help="P5's commit rate in events/s (quick: 5, full: 200)"
    )
    parser.add_argument(
        "--p5-seconds", type=float, help="how long P5 commits, in seconds (quick: 20, full: 600)"
    )
    parser.add_argument(
        "--p5-elsewhere",
        action="store_true",
        help="P5's commits reach the relay as another replica's would: through the change "
        "stream (or the sweep), not the in-process hint",
    )
    args = parser.parse_args(argv)
    for name in ("p5_rate", "p5_seconds"):
        value = getattr(args, name)
        if value is not None and not (0 < value <= 100_000):
            parser.error(f"--{name.replace('_', '-')} must be a positive number, got {value}")
    chosen = [s.strip().upper() for s in args.only.split(",") if s.strip()] or list(BENCHES)
    unknown = [c for c in chosen if c not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {', '.join(BENCHES)}")
    args.chosen = chosen
    return args


async def run_all(chosen: list[str], mode: Mode) -> tuple[list[Figure], bool]:
    figures: list[Figure] = []
    ok = True
    for name in chosen:
        started = time.monotonic()
        print(f"[bench] {name} …", flush=True)
        try:
            got = await BENCHES[name](mode)
        except Exception as exc:
            ok = False
            traceback.print_exc()
            got = [Figure(name, "benchmark failed", math.nan, "", note=f"{exc!r}"[:300])]
        figures.extend(got)
        print(f"[bench] {name} done in {time.monotonic() - started:.0f}s", flush=True)
    return figures, ok


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode_name = "quick" if args.quick else "full"
    mongo, amqp = server_urls()
    run_dir = Path(tempfile.mkdtemp(prefix="liandong-bench-"))
    mode = Mode(
        mode_name,
        run_dir,
        mongo,
        amqp,
        p4_load_budget=args.p4_load_budget,
        p5_rate=args.p5_rate,
        p5_seconds=args.p5_seconds,
        p5_elsewhere=args.p5_elsewhere,
    )
    # On the service processes' event loop: P3's outbox side and P5's referral runtime run
    # in this process as they do in a service.
    figures, ok = run_on_service_loop(run_all(args.chosen, mode), loop=Settings().event_loop)
    if ok:
        shutil.rmtree(run_dir, ignore_errors=True)
    else:
        # Console only: a temporary path means nothing in the docs.
        print(f"logs of the failed run kept in {run_dir}")
    info = machine()
    print_table(figures, info, mode_name, mode.notes)
    if args.json:
        write_json(args.json, figures, info, mode_name)
    if not args.no_write:
        print(f"results written to {write_docs(figures, info, mode_name, mode.notes, args.chosen)}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
