"""Where webhook deliveries may go: a guard against server-side request forgery (SSRF).
Pure Python (resolution is the caller's: the adapter resolves, this decides).

A webhook URL is chosen by another bureau's system, and notify POSTs to it from inside the
district's network. Without a guard, a registration could point notify at the cloud's
metadata service (169.254.169.254, whose answers include credentials), at the MongoDB or
RabbitMQ ports on loopback, or at any internal host. So only public (globally routable)
addresses are allowed, except:

* hosts the district's configuration names (``webhook_allowed_hosts``: host names, IP
  addresses or networks such as ``10.20.0.0/16`` of other bureaus reached over a private
  government network);
* loopback, when the deployment allows it (``webhook_allow_loopback``; by default outside
  production only, so that development and tests can run a receiver on 127.0.0.1).

The host is checked when the webhook is registered and again, on the addresses it resolves
to, before every delivery: a name that resolved to a public address at registration can be
re-pointed at an internal one later (DNS rebinding), so the delivery then connects to the
very address that was checked.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Names that reach the machine itself or a cloud metadata service whatever DNS says.
_LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_METADATA_NAMES = ("metadata", "metadata.google.internal", "metadata.goog", "instance-data")


class EgressRefused(ValueError):
    """The destination is not allowed; the message says why, for the registrant."""


@dataclass(frozen=True)
class EgressRule:
    allow_loopback: bool = False
    allowed_hosts: tuple[str, ...] = ()
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def of(cls, allow_loopback: bool, allowed: Iterable[str]) -> EgressRule:
        """``allowed`` mixes host names, addresses and networks (CIDR); raises ValueError on
        an entry that is none of them."""
        hosts: list[str] = []
        networks: list[IPNetwork] = []
        for entry in allowed:
            entry = entry.strip().lower().rstrip(".")
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                if "/" in entry or not all(part for part in entry.split(".")):
                    raise ValueError(
                        f"webhook_allowed_hosts: {entry!r} is not a host name, "
                        "an address or a network"
                    ) from None
                hosts.append(entry)
        return cls(allow_loopback, tuple(hosts), tuple(networks))

    def host_allowed(self, host: str) -> bool:
        """The district allows this host explicitly (whatever it resolves to)."""
        return _norm(host) in self.allowed_hosts

    def check_host(self, host: str) -> None:
        """At registration: the host as written (a literal address, or a name)."""
        name = _norm(host)
        if self.host_allowed(name):
            return
        literal = _literal(name)
        if literal is not None:
            self.check_address(name, literal)
            return
        if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
            if not self.allow_loopback:
                raise EgressRefused(f"{host} is this machine (loopback); not allowed")
            return
        if name in _METADATA_NAMES:
            raise EgressRefused(f"{host} is a cloud metadata service; not allowed")

    def check_addresses(self, host: str, addresses: Sequence[IPAddress]) -> None:
        """Before a delivery: every address the host resolves to must be allowed."""
        if not addresses:
            raise EgressRefused(f"{host} does not resolve to any address")
        if self.host_allowed(host):
            return
        for address in addresses:
            self.check_address(host, address)

    def check_address(self, host: str, address: IPAddress) -> None:
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            # ::ffff:127.0.0.1 is 127.0.0.1; a NAT64 or 6to4 address reaches the IPv4
            # address inside it through a translator or relay: judge that address.
            address = embedded
        if any(address in net for net in self.allowed_networks):
            return
        if address.is_loopback:
            if self.allow_loopback:
                return
            raise EgressRefused(f"{host} is this machine ({address}, loopback); not allowed")
        if address.is_link_local:
            # 169.254.169.254 and fe80::/10: the metadata service lives here.
            raise EgressRefused(f"{host} is a link-local address ({address}); not allowed")
        if address.is_multicast or address.is_unspecified or not address.is_global:
            raise EgressRefused(
                f"{host} is a private or reserved address ({address}); not allowed unless the "
                "district allows it (webhook_allowed_hosts)"
            )


# NAT64 prefixes: the well-known one (RFC 6052) and the local-use one (RFC 8215); the IPv4
# address is the last 32 bits in both (a /96 layout, which is how translators use them).
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries and leads to, if any: IPv4-mapped
    (``::ffff:a.b.c.d``), 6to4 (``2002:AABB:CCDD::/48``, RFC 3056) or NAT64."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in net for net in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _norm(host: str) -> str:
    return host.strip().lower().rstrip(".").removeprefix("[").removesuffix("]")


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None
