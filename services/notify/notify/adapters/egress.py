"""Resolving a webhook's host, and a POST that connects to the address that was checked
(notify.domain.egress decides which addresses are allowed)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit, urlunsplit

from notify.domain.egress import EgressRefused, IPAddress


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (a literal address resolves to itself)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (socket.gaierror, UnicodeError) as exc:
        raise EgressRefused(f"{host} cannot be resolved: {exc}") from exc
    out: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        # Scoped IPv6 addresses come back as "fe80::1%eth0".
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in out:
            out.append(address)
    return out


def target(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return host, parts.port or (443 if parts.scheme == "https" else 80)


def pinned(url: str, address: IPAddress) -> tuple[str, dict[str, str], dict[str, str]]:
    """The URL rewritten to connect to ``address``, with the ``Host`` header and (https) the
    TLS server name of the original host, so that certificates are still checked against
    the name: httpx resolves nothing itself, and a rebinding between check and connect has
    nothing to change."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    ip = f"[{address}]" if address.version == 6 else str(address)
    netloc = ip if parts.port is None else f"{ip}:{parts.port}"
    rewritten = urlunsplit(SplitResult(parts.scheme, netloc, parts.path, parts.query, ""))
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    if ":" in host and parts.port is None:
        host_header = f"[{host}]"
    elif ":" in host:
        host_header = f"[{host}]:{parts.port}"
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return rewritten, {"Host": host_header}, extensions
