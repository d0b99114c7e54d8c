"""The gateway-signature middleware reads a GraphQL body whole before it can check it: it
reads at most its limit, chunked bodies included (issue 16, finding 9)."""

from __future__ import annotations

import json
from typing import Any

from kernel.gateway_signature import GatewaySignatureMiddleware

LIMIT = 1000


async def _post(chunks: list[bytes], *, required: bool = False) -> tuple[int, list[bytes], int]:
    """Sends ``chunks`` as one chunked POST to /graphql; returns the status, what the app
    received and how many chunks the middleware pulled."""
    reached: list[bytes] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        reached.append(message.get("body", b""))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    pending = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    pulled = 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    middleware = GatewaySignatureMiddleware(
        app, secret="s" if required else None, required=required, max_body_bytes=LIMIT
    )
    scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": []}
    await middleware(scope, receive, send)
    return sent[0]["status"], reached, pulled


async def test_a_body_at_the_limit_reaches_the_service() -> None:
    status, reached, _ = await _post([b"x" * 600, b"y" * 400])
    assert status == 200 and reached == [b"x" * 600]


async def test_a_chunked_body_over_the_limit_is_refused_before_the_rest_is_read() -> None:
    status, reached, pulled = await _post([b"x" * 600, b"y" * 401, b"z" * 10_000])
    assert status == 413 and reached == []
    assert pulled == 2  # the third chunk was never read


async def test_the_refusal_is_a_graphql_error_with_a_stable_code() -> None:
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover
        raise AssertionError("the app must not be called")

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"x" * (LIMIT + 1), "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    middleware = GatewaySignatureMiddleware(app, secret=None, required=False, max_body_bytes=LIMIT)
    await middleware({"type": "http", "method": "POST", "path": "/graphql"}, receive, send)
    body = json.loads(sent[1]["body"])
    assert sent[0]["status"] == 413
    assert body["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"
