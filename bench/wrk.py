"""``wrk`` (the Debian package) as the load generator of the throughput ratios: a C client
that is not the limit where the Python one (``bench.loadgen``) would be (issue 21: the
Python client measured 373 req/s where wrk measured 432 against the same app)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import percentile

__all__ = ["WrkResult", "have_wrk", "parse_output", "run_wrk"]

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


@dataclass
class WrkResult:
    requests: int
    seconds: float
    throughput: float  # requests per second, as wrk reports it
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int
    p95_ms: float = float("nan")  # from the script's done() hook (wrk prints no p95)

    def p(self, q: float) -> float:
        """The q-th percentile in ms where wrk gives it (50, 95, 99), as ``LoadResult.p``."""
        return {50: self.p50_ms, 95: self.p95_ms, 99: self.p99_ms}[int(q)]


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


async def run_wrk(
    url: str,
    body: dict[str, Any] | None,
    headers: dict[str, str],
    *,
    connections: int,
    duration: float,
    threads: int = 1,
) -> WrkResult:
    """POST ``body`` as JSON to ``url`` (GET ``url`` when ``body`` is None) over
    ``connections`` keep-alive connections for ``duration`` seconds."""
    if body is None:
        all_headers = dict(headers)
        script = "wrk.method = 'GET'\n"
    else:
        all_headers = {"Content-Type": "application/json", **headers}
        script = "wrk.method = 'POST'\nwrk.body = " + json.dumps(json.dumps(body)) + "\n"
    for name, value in all_headers.items():
        script += f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}\n"
    # wrk's --latency table has no p95; the done() hook prints it (in microseconds).
    script += (
        "done = function(summary, latency, requests)\n"
        '  io.write(string.format("p95_us %d\\n", latency:percentile(95)))\n'
        "end\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        lua = Path(f.name)
    try:
        proc = await asyncio.create_subprocess_exec(
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration:.0f}s",
            "--latency",
            "-s",
            str(lua),
            url,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out_b, err = await asyncio.wait_for(proc.communicate(), timeout=duration + 60)
    finally:
        await asyncio.to_thread(lua.unlink, missing_ok=True)
    out = out_b.decode()
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {err.decode()[-500:]} {out[-500:]}")
    return parse_output(out)


def parse_output(out: str) -> WrkResult:
    """wrk's report (with the script's ``p95_us`` line) as figures."""
    # wrk spells the run's length in its own unit: "10.01s", but "1.00m" from a minute on.
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)\b", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not done or not rate:
        raise RuntimeError(f"cannot read wrk's output: {out}")
    seconds = float(done.group(2)) * _UNITS[done.group(3)] / 1000
    pct = dict(re.findall(r"^\s+(\d+)%\s+([\d.]+(?:us|ms|s|m|h))\b", out, re.M))
    p95 = re.search(r"^p95_us (\d+)", out, re.M)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    return WrkResult(
        requests=int(done.group(1)),
        seconds=seconds,
        throughput=float(rate.group(1)),
        p50_ms=_ms(pct["50"]) if "50" in pct else percentile([], 50),
        p99_ms=_ms(pct["99"]) if "99" in pct else percentile([], 99),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=sum(int(g) for g in socket_errors.groups()) if socket_errors else 0,
        p95_ms=int(p95.group(1)) / 1000 if p95 else percentile([], 95),
    )
