"""The SSRF guard of webhook deliveries (notify.domain.egress): only public addresses,
except what the district allows; loopback only where the deployment allows it."""

from __future__ import annotations

import ipaddress

import pytest

from notify.domain.egress import EgressRefused, EgressRule

STRICT = EgressRule.of(False, [])


@pytest.mark.parametrize(
    ("host", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("[::1]", "loopback"),
        ("localhost", "loopback"),
        ("LOCALHOST.", "loopback"),
        ("api.localhost", "loopback"),
        ("169.254.169.254", "link-local"),  # the cloud metadata service
        ("fe80::1", "link-local"),
        ("metadata.google.internal", "metadata"),
        ("10.0.0.5", "private"),
        ("172.16.3.4", "private"),
        ("192.168.1.1", "private"),
        ("100.100.100.200", "private"),  # Alibaba Cloud's metadata, in 100.64.0.0/10
        ("fd00:ec2::254", "private"),  # AWS's IPv6 metadata, unique-local
        ("0.0.0.0", "private"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("224.0.0.1", "private"),
        # IPv4 inside IPv6: NAT64 (RFC 6052, RFC 8215) and 6to4 (RFC 3056) reach the embedded
        # IPv4 address through a translator or relay (issue 16, finding 9).
        ("64:ff9b::7f00:1", "loopback"),
        ("64:ff9b::a9fe:a9fe", "link-local"),
        ("64:ff9b::a00:5", "private"),
        ("64:ff9b:1::a00:5", "private"),
        ("2002:7f00:1::", "loopback"),
        ("2002:a9fe:a9fe::1", "link-local"),
        ("2002:c0a8:101::1", "private"),
    ],
)
def test_private_loopback_link_local_and_metadata_hosts_are_refused(host: str, why: str) -> None:
    with pytest.raises(EgressRefused, match=why):
        STRICT.check_host(host)


@pytest.mark.parametrize(
    "host",
    [
        "93.184.216.34",
        "2606:4700::1111",
        "bureau.example.cn",
        "64:ff9b::5db8:d822",  # NAT64 of 93.184.216.34, a public address
        "2002:5db8:d822::1",  # 6to4 of the same
    ],
)
def test_public_addresses_and_names_pass_the_registration_check(host: str) -> None:
    STRICT.check_host(host)


def test_loopback_when_the_deployment_allows_it_but_never_metadata() -> None:
    dev = EgressRule.of(True, [])
    for host in ("127.0.0.1", "::1", "localhost"):
        dev.check_host(host)
    for host in ("169.254.169.254", "10.0.0.1", "metadata.google.internal"):
        with pytest.raises(EgressRefused):
            dev.check_host(host)


def test_the_district_allows_named_hosts_and_networks() -> None:
    rule = EgressRule.of(False, ["gaj.fuyuan.gov.internal", "10.20.0.0/16", " 192.168.7.7 "])
    rule.check_host("GAJ.fuyuan.gov.internal")
    # An allowed name may resolve to a private address (a government network).
    rule.check_addresses("gaj.fuyuan.gov.internal", [ipaddress.ip_address("10.99.0.1")])
    rule.check_addresses("x.example", [ipaddress.ip_address("10.20.3.4")])
    rule.check_host("192.168.7.7")
    with pytest.raises(EgressRefused):
        rule.check_addresses("x.example", [ipaddress.ip_address("10.21.0.1")])


def test_every_resolved_address_must_pass() -> None:
    """A name resolving to a public and a private address is refused: the connection could
    go to either."""
    with pytest.raises(EgressRefused, match=r"10\.0\.0\.1"):
        STRICT.check_addresses(
            "mixed.example",
            [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.0.0.1")],
        )
    with pytest.raises(EgressRefused, match="does not resolve"):
        STRICT.check_addresses("nothing.example", [])


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "bad/host", "a..b"])
def test_a_bad_allowlist_entry_is_a_configuration_error(entry: str) -> None:
    with pytest.raises(ValueError, match="webhook_allowed_hosts"):
        EgressRule.of(False, [entry])
