"""Fuzzing the whole graph through the real gateway with schemathesis (GraphQL mode).

Schemathesis reads the composed schema by introspection and generates valid queries and
mutations with random arguments, for every root field. Whatever it sends, the suite must
answer without a 5xx, every error must carry a stable code (``extensions.code``), and no
internal detail (stack trace, driver message) may leak into an answer.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Err

from tests.e2e.scenario import Gateway
from tests.e2e.stalls import assert_no_stalls

EXAMPLES_PER_OPERATION = 4
LEAKS = re.compile(
    r"Traceback|File \"|pymongo|sqlite3|aiormq|strawberry\.|StoreError|KeyError|TypeError|"
    r"AttributeError|NoneType"
)


def _problems(response: requests.Response) -> list[str]:
    text = response.text
    if response.status_code >= 500:
        return [f"HTTP {response.status_code}: {text[:300]}"]
    problems: list[str] = []
    if LEAKS.search(text):
        problems.append(f"internal detail leaked: {text[:300]}")
    try:
        body: Any = response.json()
    except ValueError:
        return [*problems, f"not JSON (HTTP {response.status_code}): {text[:300]}"]
    errors = body.get("errors") if isinstance(body, dict) else None
    for error in errors or []:
        code = (error.get("extensions") or {}).get("code")
        if not code:
            problems.append(f"error without a stable code: {error}")
    return problems


def fuzz(url: str, token: str) -> tuple[Counter[str], list[str], int]:
    """Runs in a thread: schemathesis and requests are synchronous, and the embedded suite
    serves from the test's event loop."""
    auth = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.graphql.from_url(url, headers=auth, timeout=30)
    session = requests.Session()
    codes: Counter[str] = Counter()
    problems: list[str] = []
    operations = 0

    def fuzz_operation(operation: Any) -> None:
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            response = case.call(session=session, headers=auth, timeout=30)
            codes[str(response.status_code)] += 1
            try:
                for error in response.json().get("errors") or []:
                    codes[str((error.get("extensions") or {}).get("code"))] += 1
            except (ValueError, AttributeError):
                pass
            # Collected, not raised: one list of everything wrong beats shrinking one case.
            problems.extend(f"{operation.label}: {p}" for p in _problems(response))

        run()

    for result in schema.get_all_operations():
        if isinstance(result, Err):
            problems.append(f"operation schemathesis could not build: {result.err()}")
            continue
        operations += 1
        fuzz_operation(result.ok())
    return codes, problems, operations


@pytest.mark.timeout(600)
async def test_fuzz_graph_through_gateway_no_5xx_and_stable_error_codes(
    embedded_gateway: Gateway,
) -> None:
    token = embedded_gateway.mint("fy-market", ["clerk", "leader"])
    started = time.monotonic()
    codes, problems, operations = await asyncio.to_thread(fuzz, embedded_gateway.url, token)
    requests_sent = sum(n for c, n in codes.items() if c.isdigit())
    print(
        f"\n[fuzz] gateway: operations {operations}, requests {requests_sent}, answers "
        f"{dict(sorted(codes.items()))}, problems {len(problems)}, "
        f"{time.monotonic() - started:.1f}s"
    )
    assert operations > 20, "introspection found almost nothing to fuzz"
    assert not problems, "\n".join(problems[:15])
    # Whatever the fuzzer managed to create has an owner and a running clock (issue 14).
    await assert_no_stalls(embedded_gateway)
