"""Webhooks of other bureaus' systems: their subscriptions, deliveries, registration, secret
rotation and replay."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from kernel.graphql import (
    INPUT,
    AfterArg,
    Connection,
    FirstArg,
    IdArg,
    UserError,
    encode_cursor,
    page_size,
    paginate,
)
from kernel.store import Document
from notify.application.queries import (
    WebhookDeliveryView,
    WebhookView,
    delivery_view,
    webhook_view,
)
from notify.application.webhooks import (
    RegisterWebhook,
    RemoveWebhook,
    ReplayDelivery,
    RotateWebhookSecret,
)
from notify.entrypoints.graphql.types import Info, answer, refused_as_graphql_error, time_id_cursor


@strawberry.type(description="One delivery of one event to a webhook, with its attempts.")
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(description="the delivery's id")
    event_id: strawberry.ID = strawberry.field(description="the event delivered")
    event_type: str = strawberry.field(description="its type, e.g. referral.sent.v1")
    state: str = strawberry.field(description="pending | delivering | delivered | dead")
    attempts: int = strawberry.field(description="how many times it was posted")
    next_attempt_at: datetime | None = strawberry.field(
        description="when it is posted again; null when delivered or dead"
    )
    last_status: int | None = strawberry.field(
        description="the HTTP status of the last attempt, if any"
    )
    last_error: str | None = strawberry.field(description="the last failure, if any")
    created_at: datetime = strawberry.field(description="when the delivery was queued")
    delivered_at: datetime | None = strawberry.field(
        description="when the endpoint answered 2xx; null until then"
    )

    @classmethod
    def from_view(cls, d: WebhookDeliveryView) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(d.id),
            event_id=strawberry.ID(d.event_id),
            event_type=d.event_type,
            state=d.state,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            last_status=d.last_status,
            last_error=d.last_error,
            created_at=d.created_at,
            delivered_at=d.delivered_at,
        )


def _delivery_cursor(d: WebhookDeliveryView) -> str:
    return encode_cursor([d.created_at.isoformat(), d.id])


@strawberry.type(
    description="A bureau system's subscription to the district's events by HTTP POST "
    "(signed with HMAC-SHA256; see the AsyncAPI document)."
)
class Webhook:
    id: strawberry.ID = strawberry.field(description="the webhook's id")
    owner_agency_id: strawberry.ID = strawberry.field(
        description="the agency whose bureau system registered it"
    )
    url: str = strawberry.field(description="where events are posted")
    event_types: list[str] = strawberry.field(description="the event types delivered")
    agency_ids: list[strawberry.ID] = strawberry.field(
        description="only events about these agencies (empty: all)"
    )
    matter_codes: list[str] = strawberry.field(
        description="only events about these matters (empty: all)"
    )
    active: bool = strawberry.field(description="whether deliveries are made")
    created_at: datetime = strawberry.field(description="when it was registered")

    @strawberry.field(description="Deliveries to this webhook, oldest first.")
    async def deliveries(
        self,
        info: Info,
        state: Annotated[
            str | None,
            strawberry.argument(
                description="only deliveries in this state (pending, delivered, dead)"
            ),
        ] = None,
        first: FirstArg = 50,
        after: AfterArg = None,
    ) -> Connection[WebhookDelivery]:
        last = time_id_cursor(after)
        first = page_size(first)
        rows = await info.context.queries.webhook_deliveries(
            str(self.id), state=state, after=last, limit=first + 1
        )
        connection: Connection[WebhookDelivery] = paginate(
            rows,
            first,
            cursor=_delivery_cursor,
            node=WebhookDelivery.from_view,
            after=after,
            count=lambda: info.context.queries.webhook_deliveries_count(str(self.id), state=state),
        )
        return connection

    @classmethod
    def from_view(cls, w: WebhookView) -> Webhook:
        return cls(
            id=strawberry.ID(w.id),
            owner_agency_id=strawberry.ID(w.owner_agency_id),
            url=w.url,
            event_types=list(w.event_types),
            agency_ids=[strawberry.ID(a) for a in w.agency_ids],
            matter_codes=list(w.matter_codes),
            active=w.active,
            created_at=w.created_at,
        )


@strawberry.type(description="A registered webhook and its signing secret (shown once).")
class WebhookRegistration:
    webhook: Webhook = strawberry.field(description="the webhook as registered")
    secret: str = strawberry.field(
        description="the HMAC key for the signatures; shown this once, stored encrypted by "
        "notify and never shown again; store it safely"
    )

    @classmethod
    def from_result(cls, result: tuple[Document, str]) -> WebhookRegistration:
        doc, secret = result
        return cls(webhook=Webhook.from_view(webhook_view(doc)), secret=secret)


@strawberry.input(description="A bureau system's subscription to the district's events.")
class RegisterWebhookInput:
    url: str = strawberry.field(description="where events are posted (absolute http or https URL)")
    event_types: list[str] = strawberry.field(
        default_factory=list, description="e.g. referral.sent.v1; empty: every type"
    )
    agency_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="events naming one of these agencies; empty: any"
    )
    matter_codes: list[str] = strawberry.field(
        default_factory=list, description="events about one of these matters; empty: any"
    )


RegisterWebhookResult = Annotated[
    WebhookRegistration | UserError,
    strawberry.union(
        "RegisterWebhookResult",
        description="What the mutation answers: the WebhookRegistration as it is now, or the "
        "UserError that refused it (nothing was changed).",
    ),
]
RotateWebhookSecretResult = Annotated[
    WebhookRegistration | UserError,
    strawberry.union(
        "RotateWebhookSecretResult",
        description="What the mutation answers: the WebhookRegistration as it is now, or the "
        "UserError that refused it (nothing was changed).",
    ),
]
RemoveWebhookResult = Annotated[
    Webhook | UserError,
    strawberry.union("RemoveWebhookResult", description="The removed webhook, or why not."),
]
ReplayDeliveryResult = Annotated[
    WebhookDelivery | UserError,
    strawberry.union(
        "ReplayDeliveryResult",
        description="What the mutation answers: the WebhookDelivery as it is now, or the "
        "UserError that refused it (nothing was changed).",
    ),
]


@strawberry.field(description="The webhooks of the caller's agency (all: supervisors).")
async def webhooks(info: Info) -> list[Webhook]:
    p = info.context.principal()
    with refused_as_graphql_error():
        views = await info.context.queries.visible_webhooks(p)
    return [Webhook.from_view(w) for w in views]


@strawberry.mutation(
    description="Register a webhook for a bureau system (role bureau_system); the answer "
    "carries the signing secret, once."
)
async def register_webhook(
    info: Info, input: Annotated[RegisterWebhookInput, INPUT]
) -> RegisterWebhookResult:
    caller = info.context.caller()
    command = RegisterWebhook(
        input.url,
        tuple(input.event_types),
        tuple(str(a) for a in input.agency_ids),
        tuple(input.matter_codes),
    )
    return await answer(
        info.context.webhooks.register(command, caller), WebhookRegistration.from_result
    )


@strawberry.mutation(
    description="A new signing secret for your bureau system's webhook; the old one stops "
    "working at once. The answer carries the new secret, once."
)
async def rotate_webhook_secret(info: Info, id: IdArg) -> RotateWebhookSecretResult:
    caller = info.context.caller()
    return await answer(
        info.context.webhooks.rotate_secret(RotateWebhookSecret(str(id)), caller),
        WebhookRegistration.from_result,
    )


@strawberry.mutation(description="Deliver a dead (or delivered) delivery again.")
async def replay_webhook_delivery(info: Info, id: IdArg) -> ReplayDeliveryResult:
    caller = info.context.caller()
    return await answer(
        info.context.webhooks.replay(ReplayDelivery(str(id)), caller),
        lambda doc: WebhookDelivery.from_view(delivery_view(doc)),
    )


@strawberry.mutation(
    description="Stop your bureau system's webhook: nothing more is delivered to it, and it no "
    "longer counts towards your agency's cap of webhooks."
)
async def remove_webhook(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="the webhook to remove")],
) -> RemoveWebhookResult:
    caller = info.context.caller()
    return await answer(
        info.context.webhooks.remove(RemoveWebhook(str(id)), caller),
        lambda doc: Webhook.from_view(webhook_view(doc)),
    )
