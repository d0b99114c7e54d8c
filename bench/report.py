"""Printing the figures (a rich table) and rewriting the results table in docs/benchmarks.md."""

from __future__ import annotations

import json
import math
import platform
import re
import subprocess
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.common import ROOT, Figure
from kernel.settings import Settings
from liandong.serving import loop_factory

DOCS = ROOT / "docs" / "benchmarks.md"
START = "<!-- bench:results:start (written by `uv run python -m bench`; do not edit) -->"
END = "<!-- bench:results:end -->"


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return ""


def machine() -> dict[str, str]:
    """CPU model, cores and RAM from /proc; Python and Node versions; date and commit."""
    cpuinfo = _read("/proc/cpuinfo")
    models = [
        line.split(":", 1)[1].strip()
        for line in cpuinfo.splitlines()
        if line.startswith("model name")
    ]
    mem_kb = 0
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    try:
        node = subprocess.run(
            ["node", "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
    except OSError:
        node = "not installed"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
            cwd=ROOT,
        ).stdout.strip()
        # The page an earlier run rewrote is not a change to the code measured (a run with
        # ``--only`` after a full one read as "uncommitted changes", session 13).
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", ".", ":(exclude)docs/benchmarks.md"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
            cwd=ROOT,
        ).stdout.strip()
        if dirty:
            commit += " (with uncommitted changes)"
    except OSError:
        commit = "unknown"
    load = _read("/proc/loadavg").split()
    return {
        "cpu": models[0] if models else platform.processor() or "unknown",
        "cores": str(len(models) or "?"),
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "python": platform.python_version(),
        "node": node or "unknown",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit or "unknown",
        "load": " ".join(load[:3]) if load else "unknown",
        "loop": event_loop_name(),
    }


def event_loop_name() -> str:
    """The event loop the bench process and the service processes run on
    (``liandong.serving``, ``LIANDONG_EVENT_LOOP``)."""
    factory = loop_factory(Settings().event_loop)
    if factory.__module__.split(".")[0] == "uvloop":
        from importlib.metadata import version

        return f"uvloop {version('uvloop')}"
    return "asyncio"


def _value(f: Figure) -> str:
    if math.isnan(f.value):
        return "n/a"
    if abs(f.value) >= 100 or f.value == int(f.value):
        return f"{f.value:,.0f}"
    return f"{f.value:.3g}" if abs(f.value) < 1 else f"{f.value:.2f}"


def _met(f: Figure) -> str:
    if f.met is None:
        # A target not judged in this run (its note says why), or no target at all.
        return "n/a" if f.target else ""
    return "met" if f.met else "NOT met"


def print_table(
    figures: Sequence[Figure], info: dict[str, str], mode: str, notes: Sequence[str]
) -> None:
    console = Console(width=220)
    table = Table(title=f"Liandong benchmarks ({mode} mode)", show_lines=False)
    # Names and values stay on one line each (people grep the output); notes wrap.
    table.add_column("Bench", no_wrap=True)
    table.add_column("Figure", no_wrap=True)
    table.add_column("Value", no_wrap=True, justify="right")
    for column in ("Unit", "Target", "Met"):
        table.add_column(column, no_wrap=True)
    table.add_column("Note", overflow="fold", max_width=80)
    for f in figures:
        style = "red" if f.met is False else ("green" if f.met else None)
        table.add_row(f.bench, f.name, _value(f), f.unit, f.target, _met(f), f.note, style=style)
    console.print(table)
    console.print(
        f"machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM; Python "
        f"{info['python']} ({info['loop']}), Node {info['node']}; {info['date']}; "
        f"commit {info['commit']}; "
        f"load average at the end {info['load']}"
    )
    for note in notes:
        console.print(f"note: {note}")


def markdown(
    figures: Sequence[Figure],
    info: dict[str, str],
    mode: str,
    notes: Sequence[str],
    runs: dict[str, str] | None = None,
) -> str:
    lines = [
        f"Run of {info['date']}, mode **{mode}**, commit `{info['commit']}`.",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM; Python "
        f"{info['python']} on {info['loop']}; Node {info['node']}; load average at the end "
        "of the run "
        f"{info['load']}.",
    ]
    if runs and len(set(runs.values())) > 1:
        lines += ["", "Rows by run (a run with `--only` replaces its benchmarks' rows only): "]
        lines[-1] += "; ".join(f"{bench}: {label}" for bench, label in sorted(runs.items())) + "."
    lines += [
        "",
        "| Bench | Figure | Value | Unit | Target | Met | Note |",
        "|---|---|---:|---|---|---|---|",
    ]
    for f in figures:
        cells = [f.bench, f.name, _value(f), f.unit, f.target, _met(f), f.note]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    if notes:
        lines.append("")
        lines.extend(f"- {n}" for n in notes)
    return "\n".join(lines)


_DATA = re.compile(r"<!-- bench:data (.*?) -->", re.S)


def _previous(block: str) -> dict[str, Any]:
    """The figures, runs and notes of the last recorded run(s), kept in a comment."""
    found = _DATA.search(block)
    if not found:
        return {"figures": [], "runs": {}, "notes": []}
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def write_docs(
    figures: Sequence[Figure],
    info: dict[str, str],
    mode: str,
    notes: Sequence[str],
    chosen: Sequence[str],
) -> Path:
    """Replace what lies between the markers in docs/benchmarks.md (the rest is prose).

    Rows of benchmarks not run this time (``--only``) are kept from the recorded data, with
    the run they come from named above the table."""
    text = DOCS.read_text(encoding="utf-8")
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise RuntimeError(f"{DOCS} lacks the result markers {START!r} … {END!r}")
    previous = _previous(text[start:end])
    label = f"{info['date']}, {mode}"
    runs = {b: r for b, r in previous["runs"].items() if b not in chosen}
    runs.update({b: label for b in chosen})
    kept = [Figure(**f) for f in previous["figures"] if f["bench"] not in chosen]
    merged = sorted([*kept, *figures], key=lambda f: f.bench)  # stable: keeps row order
    all_notes = [n for n in previous["notes"] if n.split(":", 1)[0] not in chosen]
    all_notes += list(notes)
    data = json.dumps(
        {"figures": [asdict(f) for f in merged], "runs": runs, "notes": all_notes},
        ensure_ascii=False,
        allow_nan=True,
    ).replace("-->", "--\\u003e")
    body = markdown(merged, info, mode, all_notes, runs) + f"\n<!-- bench:data {data} -->"
    DOCS.write_text(text[: start + len(START)] + "\n" + body + "\n" + text[end:], encoding="utf-8")
    return DOCS


def write_json(path: Path, figures: Sequence[Figure], info: dict[str, str], mode: str) -> None:
    path.write_text(
        json.dumps(
            {"mode": mode, "machine": info, "figures": [asdict(f) for f in figures]},
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
