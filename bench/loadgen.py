"""Closed-loop HTTP load generator, run as its own process (``python -m bench.loadgen``).

Reads a JSON spec on stdin (url, method, body, headers, workers, duration, warmup) and
writes a JSON result on stdout: completed requests, errors, measured seconds and every
latency in milliseconds. ``workers`` tasks share one keep-alive connection pool and each
sends its next request when the previous answer arrived. A request counts as an error when
the status is not 200 or a GraphQL answer carries ``errors``; only the measured window (after
the warm-up) is reported.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import httpx


def _failed(response: httpx.Response) -> str:
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:300]}"
    if b'"errors"' in response.content:
        body = response.json()
        if isinstance(body, dict) and body.get("errors"):
            return json.dumps(body["errors"], ensure_ascii=False)[:500]
    return ""


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    url: str = spec["url"]
    method: str = spec.get("method", "POST")
    body = spec.get("body")
    headers: dict[str, str] = spec.get("headers") or {}
    workers = int(spec["workers"])
    duration = float(spec["duration"])
    warmup = float(spec.get("warmup", 0))
    latencies: list[float] = []
    errors = 0
    first_error = ""
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        start = time.perf_counter()
        measure_from = start + warmup
        stop_at = measure_from + duration

        async def worker() -> None:
            nonlocal errors, first_error
            while True:
                t0 = time.perf_counter()
                if t0 >= stop_at:
                    return
                try:
                    response = await client.request(method, url, json=body, headers=headers)
                    problem = _failed(response)
                except httpx.HTTPError as exc:
                    problem = repr(exc)
                t1 = time.perf_counter()
                # Requests that started in the warm-up or ended after the window do not count.
                if t0 < measure_from or t1 > stop_at:
                    continue
                if problem:
                    errors += 1
                    first_error = first_error or problem
                else:
                    latencies.append((t1 - t0) * 1000)

        await asyncio.gather(*(worker() for _ in range(workers)))
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": duration,
        "latencies_ms": latencies,
        "first_error": first_error,
    }


def main() -> None:
    spec = json.loads(sys.stdin.read())
    json.dump(asyncio.run(run(spec)), sys.stdout)


if __name__ == "__main__":
    main()
