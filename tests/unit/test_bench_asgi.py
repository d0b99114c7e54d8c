"""``bench.asgi``: P2 and P4 call the service's ASGI app as a server would (issue 21,
session 17); what the app receives and what the caller returns."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bench.asgi import AsgiCaller


class EchoApp:
    """Answers with what it was sent, in two body chunks; records what it received."""

    def __init__(self) -> None:
        self.scope: dict[str, Any] = {}
        self.messages: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scope = dict(scope)
        first = await receive()
        self.messages.append(first)
        body = json.loads(first["body"])
        await send({"type": "http.response.start", "status": 201, "headers": [(b"x-a", b"1")]})
        await send({"type": "http.response.body", "body": b'{"got": ', "more_body": True})
        # A client that has its whole response is gone; until then it is not.
        waiting = asyncio.ensure_future(receive())
        await asyncio.sleep(0)
        assert not waiting.done()
        await send({"type": "http.response.body", "body": json.dumps(body).encode() + b"}"})
        self.messages.append(await waiting)


async def test_the_app_gets_a_servers_messages_and_the_caller_the_whole_response() -> None:
    app = EchoApp()
    response = await AsgiCaller(app, host="referral").post(
        "/graphql", json_body={"query": "{ x }"}, headers={"Authorization": "Bearer t"}
    )
    assert response.status_code == 201
    assert response.json() == {"got": {"query": "{ x }"}}
    assert (b"x-a", b"1") in response.headers
    assert app.scope["method"] == "POST" and app.scope["path"] == "/graphql"
    headers = dict(app.scope["headers"])
    assert headers[b"authorization"] == b"Bearer t"
    assert headers[b"host"] == b"referral"
    assert headers[b"content-length"] == str(len(json.dumps({"query": "{ x }"}))).encode()
    assert app.messages[0]["more_body"] is False
    assert app.messages[1] == {"type": "http.disconnect"}


async def test_an_app_that_sends_nothing_is_an_error() -> None:
    async def silent(scope: Any, receive: Any, send: Any) -> None:
        return None

    with pytest.raises(RuntimeError, match="no response"):
        await AsgiCaller(silent).post("/graphql", json_body={})
