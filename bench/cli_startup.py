"""``uv run python -m bench.cli_startup [--runs N]``: how fast the command line starts.

Runs ``liandong --help``, ``liandong token --agency fy-market --role clerk`` and
``liandong calendar add-working-days 2026-12-29 5 --district fuyuan`` N times each, every run
a fresh process of the installed console script, and prints the median and p95 wall time
and the median CPU time (user + system) of each; then the import time of ``liandong.cli``
(``python -X importtime``, N runs) and the number of modules that import loads.

Everything runs twice: once with the environment as it is, once with a bytecode cache (a
private ``PYTHONPYCACHEPREFIX``, filled by a first run that is not counted). The difference
is large when ``PYTHONDONTWRITEBYTECODE`` is set and the environment has no ``.pyc`` files,
for then every run compiles each module it imports from source.

Prints figures, never asserts: wall times on a shared machine are noisy (the CPU time is the
steadier figure). Which modules a command imports is checked by tests/unit/test_cli.py.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, percentile

COMMANDS: dict[str, list[str]] = {
    "--help": ["--help"],
    "token": ["token", "--agency", "fy-market", "--role", "clerk"],
    "calendar": ["calendar", "add-working-days", "2026-12-29", "5", "--district", "fuyuan"],
}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall and CPU seconds of one process, and its standard output."""
    cpu = children_cpu()
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {result.stderr or result.stdout}")
    return wall, children_cpu() - cpu, result.stdout + result.stderr


def import_time_ms(env: dict[str, str]) -> float:
    """Cumulative import time of ``liandong.cli`` reported by ``-X importtime``, in ms."""
    _, _, output = run_once([sys.executable, "-X", "importtime", "-c", "import liandong.cli"], env)
    for line in output.splitlines():
        fields = [f.strip() for f in line.split("|")]
        if len(fields) == 3 and fields[2] == "liandong.cli":
            return int(fields[1]) / 1000
    raise RuntimeError("-X importtime printed no line for liandong.cli")


def modules_loaded(env: dict[str, str]) -> int:
    probe = "import sys; import liandong.cli; print(len(sys.modules))"
    _, _, output = run_once([sys.executable, "-c", probe], env)
    return int(output.split()[-1])


def measure(label: str, env: dict[str, str], runs: int) -> None:
    script = str(Path(sys.executable).with_name("liandong"))
    print(f"\n{label}")
    print(f"  {'command':<10} {'median':>9} {'p95':>9} {'CPU median':>11}")
    for name, args in COMMANDS.items():
        run_once([script, *args], env)  # warm-up: dev keys, bytecode cache, OS file cache
        walls, cpus = [], []
        for _ in range(runs):
            wall, cpu, _ = run_once([script, *args], env)
            walls.append(wall)
            cpus.append(cpu)
        print(
            f"  {name:<10} {statistics.median(walls):>7.3f} s {percentile(walls, 95):>7.3f} s "
            f"{statistics.median(cpus):>9.3f} s"
        )
    imports = [import_time_ms(env) for _ in range(runs)]
    print(
        f"  import liandong.cli: median {statistics.median(imports):.0f} ms, "
        f"p95 {percentile(imports, 95):.0f} ms (-X importtime), "
        f"{modules_loaded(env)} modules loaded"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cli_startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=10, help="runs of each command (10)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    with tempfile.TemporaryDirectory(prefix="cli-startup-") as tmp:
        env = {**os.environ, "LIANDONG_DATA_DIR": str(Path(tmp) / "data")}
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(
            f"liandong CLI startup, {args.runs} runs each; {os.cpu_count()} CPUs, load average "
            f"{load}; PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}"
        )
        measure("as the environment is:", env, args.runs)
        cached = {
            **{k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"},
            "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pycache"),
        }
        measure("with a bytecode cache:", cached, args.runs)


if __name__ == "__main__":
    main()
