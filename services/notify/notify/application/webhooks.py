"""Webhook subscriptions for other bureaus' systems: registration, fan-out of every event of
the district to the matching subscriptions, and the delivery worker (signed POSTs, retried
with exponential backoff, dead-lettered after the limit, replayable).

Destinations are guarded against SSRF (notify.domain.egress) at registration and before every
attempt; signing secrets are stored encrypted (notify.adapters.secret_box) and shown to the
registrant once, at registration or rotation."""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from kernel.authz import Relation
from kernel.bus import PermanentError
from kernel.caller import Caller
from kernel.envelope import CONTENT_TYPE, Envelope
from kernel.errors import InvalidState, NotFound, ValidationFailed
from kernel.store import Document
from notify.adapters import egress
from notify.adapters.repository import AgencyNames
from notify.adapters.secret_box import SecretBox, SecretBoxError
from notify.adapters.webhooks import WebhookRepository
from notify.application import access
from notify.domain.egress import EgressRefused, EgressRule
from notify.domain.record import agencies_named
from notify.domain.webhooks import (
    DELIVERY_ID_HEADER,
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    DeliveryLimits,
    RetryPolicy,
    WebhookFilter,
    redacted,
    sign,
    validate_registration,
)

log = logging.getLogger(__name__)

BUREAU_ROLE = "bureau_system"


def filter_of(doc: Document) -> WebhookFilter:
    return WebhookFilter(
        tuple(doc.get("event_types") or ()),
        tuple(doc.get("agency_ids") or ()),
        tuple(doc.get("matter_codes") or ()),
    )


@dataclass(frozen=True)
class RegisterWebhook:
    """A bureau system's subscription: where to POST, and which events (empty: any)."""

    url: str
    event_types: tuple[str, ...] = ()
    agency_ids: tuple[str, ...] = ()
    matter_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RotateWebhookSecret:
    subscription_id: str


@dataclass(frozen=True)
class ReplayDelivery:
    delivery_id: str


@dataclass(frozen=True)
class RemoveWebhook:
    """The owning bureau system stops a webhook; its pending deliveries die with it."""

    subscription_id: str


class Webhooks:
    def __init__(
        self,
        repo: WebhookRepository,
        district: str,
        clock: Callable[[], datetime],
        *,
        secrets: SecretBox,
        egress_rule: EgressRule,
        agencies: AgencyNames,
        retry: RetryPolicy | None = None,
        timeout: float = 10.0,
        lease: timedelta = timedelta(seconds=60),
        limits: DeliveryLimits | None = None,
    ) -> None:
        self.limits = limits or DeliveryLimits()
        # The lease outlives the longest attempt, so no other replica takes a delivery while
        # an attempt on it may still be running.
        lease = max(lease, self.limits.deadline + timedelta(seconds=15))
        self.repo = repo
        self.secrets = secrets
        self.egress = egress_rule
        self.agencies = agencies
        self.district = district
        self.clock = clock
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.lease = lease
        self.owner = f"webhooks-{uuid.uuid4().hex[:8]}"
        self._client: httpx.AsyncClient | None = None

    # -- commands -----------------------------------------------------------------------

    async def register(self, command: RegisterWebhook, caller: Caller) -> tuple[Document, str]:
        """A new subscription and its secret (returned here only, never again)."""
        principal = caller.principal
        # The registrant's agency owns the new subscription (the receiver of its deliveries).
        access.authorize_on(principal, "registerWebhook", {Relation.RECEIVER})
        clean_url, flt = validate_registration(
            command.url, command.event_types, command.agency_ids, command.matter_codes
        )
        # Issue 16, finding 6: each webhook is a stream of work for the delivery worker.
        owned = await self.repo.count_active_of(principal.agency_id)
        if owned >= self.limits.per_agency:
            raise InvalidState(
                f"an agency has at most {self.limits.per_agency} webhooks and yours has "
                f"{owned}; remove one first (removeWebhook)",
                field="url",
                code="LIMIT_REACHED",
            )
        await self._check_destination(clean_url)
        secret = secrets.token_urlsafe(32)
        doc = {
            "_id": f"wh-{uuid.uuid4().hex[:16]}",
            "owner_agency_id": principal.agency_id,
            "created_by": principal.person_id,
            "url": clean_url,
            "event_types": list(flt.event_types),
            "agency_ids": list(flt.agency_ids),
            "matter_codes": list(flt.matter_codes),
            # Kept to sign deliveries (an HMAC needs the key itself), encrypted; never
            # returned again.
            "secret_sealed": self.secrets.seal(secret),
            "active": True,
            "created_at": self.clock(),
        }
        await self.repo.add_subscription(doc)
        return doc, secret

    async def rotate_secret(
        self, command: RotateWebhookSecret, caller: Caller
    ) -> tuple[Document, str]:
        """A new signing secret for the webhook (the old one stops working at once); returned
        here only, never again. Only the bureau system that owns the webhook rotates it."""
        principal, subscription_id = caller.principal, command.subscription_id
        sub = await self._subscription(subscription_id)
        relations = access.agency_relations(principal, sub["owner_agency_id"])
        access.authorize_on(principal, "rotateWebhookSecret", relations, field="subscriptionId")
        secret = secrets.token_urlsafe(32)
        rotated = await self.repo.set_secret(
            subscription_id, self.secrets.seal(secret), self.clock()
        )
        if rotated is None:
            raise NotFound(f"webhook {subscription_id!r} does not exist", field="subscriptionId")
        return rotated, secret

    async def remove(self, command: RemoveWebhook, caller: Caller) -> Document:
        """The owning bureau system stops its webhook (it no longer counts towards the cap);
        what was not delivered yet is not delivered."""
        principal, subscription_id = caller.principal, command.subscription_id
        sub = await self._subscription(subscription_id)
        relations = access.agency_relations(principal, sub["owner_agency_id"])
        access.authorize_on(principal, "removeWebhook", relations, field="id")
        removed = await self.repo.deactivate(subscription_id, self.clock(), principal.person_id)
        if removed is None:
            raise NotFound(f"webhook {subscription_id!r} does not exist", field="id")
        return removed

    async def _check_destination(self, url: str) -> None:
        """SSRF guard at registration: the host as written and what it resolves to now."""
        host, port = egress.target(url)
        try:
            self.egress.check_host(host)
            if not self.egress.host_allowed(host):
                self.egress.check_addresses(host, await egress.resolve(host, port))
        except EgressRefused as exc:
            raise ValidationFailed(str(exc), field="url") from exc

    def signing_secret(self, sub: Document) -> str:
        sealed = sub.get("secret_sealed")
        if isinstance(sealed, str):
            return self.secrets.open(sealed)
        # Registered before secrets were encrypted; sealed on the next rotation.
        return str(sub["secret"])

    async def replay(self, command: ReplayDelivery, caller: Caller) -> Document:
        principal, delivery_id = caller.principal, command.delivery_id
        delivery = await self.repo.delivery(delivery_id)
        if delivery is None:
            raise NotFound(f"delivery {delivery_id!r} does not exist", field="id")
        sub = await self._subscription(delivery["subscription_id"])
        relations = access.agency_relations(principal, sub["owner_agency_id"])
        access.authorize_on(principal, "replayWebhookDelivery", relations, field="id")
        if not await self.repo.replay(delivery_id, self.clock()):
            raise InvalidState(
                f"delivery is {delivery['state']}; only dead or delivered ones are replayed",
                field="id",
                code="WRONG_STATUS",
            )
        replayed = await self.repo.delivery(delivery_id)
        assert replayed is not None
        return replayed

    async def _subscription(self, subscription_id: str) -> Document:
        sub = await self.repo.subscription(subscription_id)
        if sub is None:
            raise NotFound(f"webhook {subscription_id!r} does not exist", field="subscriptionId")
        return sub

    # -- fan-out ------------------------------------------------------------------------

    @staticmethod
    def _outgoing(envelope: Envelope) -> str:
        """The bytes a bureau receives: the event, with complainants' personal data
        redacted (it never leaves in an event meant for another bureau's system)."""
        data = redacted(envelope.data)
        shown = envelope if data is None else envelope.model_copy(update={"data": data})
        return shown.to_json_bytes().decode()

    async def when_any_event_queue_deliveries(self, envelope: Envelope) -> None:
        if envelope.district != self.district:
            raise PermanentError(
                f"event {envelope.id} belongs to district {envelope.district!r}; "
                f"this deployment serves {self.district!r}"
            )
        agencies = agencies_named(envelope.data)
        matter = envelope.data.get("matter_code")
        body: str | None = None
        now = self.clock()
        kinds: dict[str, str | None] = {}
        for sub in await self.repo.active_subscriptions():
            if not filter_of(sub).matches(
                envelope.type, agencies, matter if isinstance(matter, str) else None
            ):
                continue
            # What the owning bureau may receive is the matrix's, whatever its filter says.
            owner = str(sub["owner_agency_id"])
            if owner not in kinds:
                kinds[owner] = await self.agencies.kind(owner)
            if not access.webhook_may_receive(owner, kinds[owner], envelope.type, agencies):
                continue
            body = body or self._outgoing(envelope)
            await self.repo.add_delivery(
                {
                    "_id": f"{sub['_id']}:{envelope.id}",
                    "subscription_id": sub["_id"],
                    "event_id": envelope.id,
                    "event_type": envelope.type,
                    # The exact bytes that are signed and sent, on every attempt.
                    "body": body,
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )

    # -- delivery -----------------------------------------------------------------------

    async def run_once(self) -> int:
        """Attempt every delivery that is due; returns how many attempts were made.

        Attempts run concurrently: at most ``limits.per_endpoint`` per webhook and
        ``limits.in_flight`` in all. A webhook with its slots taken is left out of the claim,
        so its deliveries wait for it and nobody else's do (issue 16, finding 6); while slow
        attempts run, new work is claimed every ``_POLL`` seconds."""
        attempts = 0
        running: dict[asyncio.Task[None], str] = {}
        while True:
            while len(running) < self.limits.in_flight:
                per_endpoint: dict[str, int] = {}
                for sub_id in running.values():
                    per_endpoint[sub_id] = per_endpoint.get(sub_id, 0) + 1
                busy = [s for s, n in per_endpoint.items() if n >= self.limits.per_endpoint]
                delivery = await self.repo.claim(self.clock(), self.owner, self.lease, busy)
                if delivery is None:
                    break
                task = asyncio.create_task(self._attempt(delivery))
                running[task] = str(delivery["subscription_id"])
                attempts += 1
            if not running:
                return attempts
            done, _ = await asyncio.wait(
                running, timeout=self._POLL, return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                running.pop(task)
                if not task.cancelled() and task.exception() is not None:
                    log.error("webhook attempt failed", exc_info=task.exception())

    _POLL = 0.25

    async def _attempt(self, delivery: Document) -> None:
        sub = await self.repo.subscription(delivery["subscription_id"])
        n = int(delivery.get("attempts") or 0) + 1
        if sub is None or not sub.get("active"):
            await self.repo.close(
                delivery["_id"], self.owner, {"state": "dead", "last_error": "webhook removed"}
            )
            return
        body = delivery["body"].encode()
        timestamp = int(self.clock().timestamp())
        error: str | None = None
        status: int | None = None
        deadline = self.limits.deadline.total_seconds()
        try:
            headers = {
                "Content-Type": CONTENT_TYPE,
                TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: sign(self.signing_secret(sub), timestamp, body),
                EVENT_ID_HEADER: delivery["event_id"],
                DELIVERY_ID_HEADER: delivery["_id"],
            }
            # One deadline for the whole attempt: a receiver trickling its answer a byte at a
            # time passes every per-read timeout.
            async with asyncio.timeout(deadline):
                # Resolved and checked now, not only at registration (DNS rebinding), and the
                # POST goes to the address that was checked.
                host, port = egress.target(sub["url"])
                addresses = await egress.resolve(host, port)
                self.egress.check_addresses(host, addresses)
                url, host_header, extensions = egress.pinned(sub["url"], addresses[0])
                request = self._http().build_request(
                    "POST",
                    url,
                    content=body,
                    headers={**headers, **host_header},
                    extensions=extensions,
                )
                # The status line is the answer; the body is never read (a receiver cannot
                # make us hold an endless one).
                response = await self._http().send(request, stream=True)
                await response.aclose()
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except TimeoutError:
            error = f"no answer within the delivery deadline ({deadline:g} s)"
        except EgressRefused as exc:
            error = f"refused: {exc}"
        except SecretBoxError as exc:
            error = str(exc)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        now = self.clock()
        changes: dict[str, Any] = {"attempts": n, "last_attempt_at": now, "last_status": status}
        if error is None:
            changes.update(state="delivered", delivered_at=now, last_error=None)
        elif n >= self.retry.max_attempts:
            changes.update(state="dead", last_error=error)
            log.warning("webhook delivery %s dead after %d attempts: %s", delivery["_id"], n, error)
        else:
            changes.update(
                state="pending", last_error=error, next_attempt_at=now + self.retry.delay(n)
            )
        await self.repo.close(delivery["_id"], self.owner, changes)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 5.0)),
                follow_redirects=False,
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        await self.repo.stop_following()
