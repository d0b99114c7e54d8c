"""Requests to a service's ASGI app in this process, with nothing of a client around them.

P2 and P4 time the service (its middleware, FastAPI, strawberry, the resolvers, the store),
not an HTTP client. httpx's ``ASGITransport`` builds a full client request and response
around each call and tries to import ``sniffio`` on every request to learn whether it runs
under trio: about 0.8 ms per request here (issue 21, session 17), a tenth of a P4 page at
10,000 referrals. This caller hands the app the same ASGI messages a server would (one
``http.request`` with the whole body; ``http.disconnect`` once the response is complete) and
collects the response.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
App = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[Message]],
        Callable[[Message], Awaitable[None]],
    ],
    Awaitable[None],
]


class AsgiResponse:
    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status_code = status
        self.headers = headers
        self.content = body

    def json(self) -> Any:
        return json.loads(self.content)


class AsgiCaller:
    """POSTs JSON to ``app`` as an ASGI server would, host ``host``."""

    def __init__(self, app: App, host: str = "service") -> None:
        self._app = app
        self._host = host.encode()

    async def post(
        self, path: str, *, json_body: Any, headers: Mapping[str, str] | None = None
    ) -> AsgiResponse:
        body = json.dumps(json_body).encode()
        raw_headers = [
            (b"host", self._host),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": raw_headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
            "state": {},
        }
        sent_body = False
        status = 0
        response_headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        done = asyncio.Event()

        async def receive() -> Message:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            await done.wait()  # as a server would: the client goes once it has the response
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal status, response_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    done.set()

        await self._app(scope, receive, send)
        if not status:
            raise RuntimeError(f"the app sent no response to POST {path}")
        return AsgiResponse(status, response_headers, b"".join(chunks))
