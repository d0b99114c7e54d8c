"""A loopback TCP proxy for fault injection (asyncio, no dependencies).

The services under test connect to the proxy instead of the server; the test then cuts every
connection, refuses new ones for a while, or adds latency and a bandwidth limit, and watches
the services cope. It runs in the test's own event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

__all__ = ["ProxyStats", "TcpProxy"]

_CHUNK = 65536


@dataclass
class ProxyStats:
    accepted: int = 0  # connections forwarded to the target
    refused: int = 0  # connections closed at once while refusing
    cut: int = 0  # connections aborted by cut()
    bytes_up: int = 0  # client → server
    bytes_down: int = 0  # server → client


class _Link:
    """One client connection and its connection to the target."""

    def __init__(
        self,
        client: asyncio.StreamWriter,
        server: asyncio.StreamWriter,
        pumps: list[asyncio.Task[None]],
    ):
        self.client = client
        self.server = server
        self.pumps = pumps

    def abort(self) -> None:
        # abort(), not close(): a cut cable sends no polite FIN after pending data.
        for writer in (self.client, self.server):
            writer.transport.abort()
        for pump in self.pumps:
            pump.cancel()


class TcpProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target_host:target_port``.

    ``latency`` (seconds) delays every chunk in both directions; ``rate`` (bytes per second,
    0 = unlimited) throttles each direction of each connection.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.latency = 0.0
        self.rate = 0
        self.stats = ProxyStats()
        self._refuse_until = 0.0
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()

    async def start(self, port: int = 0) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    @property
    def connections(self) -> int:
        return len(self._links)

    def cut(self) -> int:
        """Abort every open connection; returns how many were cut."""
        links = list(self._links)
        for link in links:
            link.abort()
        self._links.clear()
        self.stats.cut += len(links)
        return len(links)

    def refuse(self, seconds: float) -> None:
        """Close new connections at once for ``seconds`` (like a server that is down)."""
        self._refuse_until = time.monotonic() + seconds

    def outage(self, seconds: float) -> int:
        """Cut every connection and refuse new ones for ``seconds``."""
        self.refuse(seconds)
        return self.cut()

    def slow(self, latency: float = 0.0, rate: int = 0) -> None:
        """Set per-chunk latency and a per-direction bandwidth limit (0 = none)."""
        self.latency = latency
        self.rate = rate

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if time.monotonic() < self._refuse_until:
            self.stats.refused += 1
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            self.stats.refused += 1
            writer.transport.abort()
            return
        self.stats.accepted += 1
        pumps: list[asyncio.Task[None]] = []
        link = _Link(writer, up_writer, pumps)
        pumps.append(asyncio.create_task(self._pump(reader, up_writer, link, up=True)))
        pumps.append(asyncio.create_task(self._pump(up_reader, writer, link, up=False)))
        self._links.add(link)

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, link: _Link, *, up: bool
    ) -> None:
        try:
            while True:
                data = await reader.read(_CHUNK)
                if not data:
                    break
                if self.latency:
                    await asyncio.sleep(self.latency)
                writer.write(data)
                await writer.drain()
                if up:
                    self.stats.bytes_up += len(data)
                else:
                    self.stats.bytes_down += len(data)
                if self.rate:
                    await asyncio.sleep(len(data) / self.rate)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            # Either side closing ends the link, as it would for a direct connection.
            self._links.discard(link)
            for w in (link.client, link.server):
                with contextlib.suppress(Exception):
                    w.transport.abort()
