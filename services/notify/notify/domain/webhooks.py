"""Webhook subscriptions of other bureaus' systems: the filter, the signature, the retry
schedule. Pure Python.

Signature scheme (documented for receivers): each delivery is a POST of the CloudEvent in
structured JSON (``Content-Type: application/cloudevents+json``) with the headers

* ``X-Liandong-Timestamp``: Unix seconds when the attempt was made;
* ``X-Liandong-Signature``: ``v1=`` followed by the lowercase hex HMAC-SHA256, keyed with the
  subscriber's secret, of ``<timestamp>.`` followed by the raw request body bytes;
* ``X-Liandong-Event-Id`` and ``X-Liandong-Delivery-Id``: the CloudEvent id (deduplicate on
  it: delivery is at least once) and the delivery's id.

A receiver recomputes the HMAC over the exact bytes it received, compares in constant time,
and rejects timestamps far from its clock (e.g. more than 5 minutes) to refuse replays.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from kernel.errors import ValidationFailed

SIGNATURE_HEADER = "X-Liandong-Signature"
TIMESTAMP_HEADER = "X-Liandong-Timestamp"
EVENT_ID_HEADER = "X-Liandong-Event-Id"
DELIVERY_ID_HEADER = "X-Liandong-Delivery-Id"


@dataclass(frozen=True)
class WebhookFilter:
    """Empty lists match everything; non-empty ones must all match."""

    event_types: tuple[str, ...] = ()
    agency_ids: tuple[str, ...] = ()
    matter_codes: tuple[str, ...] = ()

    def matches(self, event_type: str, agencies: Iterable[str], matter_code: str | None) -> bool:
        if self.event_types and event_type not in self.event_types:
            return False
        if self.agency_ids and not set(self.agency_ids) & set(agencies):
            return False
        return not self.matter_codes or matter_code in self.matter_codes


def _clean(values: Sequence[str], field: str) -> tuple[str, ...]:
    out: list[str] = []
    for i, v in enumerate(values):
        v = v.strip()
        if not v:
            raise ValidationFailed("must not contain empty values", field=f"{field}.{i}")
        if v not in out:
            out.append(v)
    return tuple(out)


def validate_registration(
    url: str, event_types: Sequence[str], agency_ids: Sequence[str], matter_codes: Sequence[str]
) -> tuple[str, WebhookFilter]:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed("must be an absolute http(s) URL", field="url", code="BAD_FORMAT")
    return url.strip(), WebhookFilter(
        _clean(event_types, "eventTypes"),
        _clean(agency_ids, "agencyIds"),
        _clean(matter_codes, "matterCodes"),
    )


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(secret: str, timestamp: int, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: ``base * 2**(attempt-1)``, at most ``cap``; dead-lettered after
    ``max_attempts`` failed attempts."""

    base: timedelta = timedelta(seconds=10)
    cap: timedelta = timedelta(hours=1)
    max_attempts: int = 12

    def delay(self, failed_attempts: int) -> timedelta:
        grown: timedelta = self.base * (2 ** max(0, failed_attempts - 1))
        return min(grown, self.cap)


@dataclass(frozen=True)
class DeliveryLimits:
    """How much one receiver may hold up (issue 16, finding 6).

    ``deadline`` bounds a whole attempt (resolving, connecting, sending, the status line and
    headers): per-read timeouts let a receiver that trickles a byte at a time keep an attempt
    alive forever. ``per_endpoint`` attempts to one webhook run at once in a replica, and
    ``in_flight`` in all, so a slow receiver holds its own slots and no one else's.
    ``per_agency`` webhooks may an agency register (each one is a stream of work for us)."""

    deadline: timedelta = timedelta(seconds=15)
    per_endpoint: int = 2
    in_flight: int = 16
    per_agency: int = 5

    def __post_init__(self) -> None:
        if self.deadline <= timedelta(0):
            raise ValueError("webhook delivery deadline must be positive")
        if min(self.per_endpoint, self.in_flight, self.per_agency) < 1:
            raise ValueError("webhook delivery limits must be at least 1")


#: Payload fields that hold a complainant's personal data (R-CMP): they never leave the
#: suite in an event meant for another bureau's system.
PERSONAL_FIELDS = ("contact", "complainant_name", "complainant_contact")
REDACTED = "[已隐去]"


def redacted(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The payload with complainants' personal data replaced, or None when it has none."""
    found = [k for k in PERSONAL_FIELDS if data.get(k)]
    if not found:
        return None
    return {**data, **{k: REDACTED for k in found}}
