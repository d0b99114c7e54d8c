"""The notify subgraph: inbox items, and the inbox fields it adds to Agency and Referral;
webhooks, the full-process record and supervision. The fields live with their types in
inbox.py, webhooks.py, record.py and supervision.py; this module lists them in the order the
subgraph's SDL has them."""

from __future__ import annotations

import strawberry
from strawberry.federation import Schema

from kernel import schema_docs
from kernel.graphql import UserError, schema_config, schema_extensions
from notify.entrypoints.graphql import inbox, record, supervision, work
from notify.entrypoints.graphql import webhooks as hooks
from notify.entrypoints.graphql.entities import Referral
from notify.entrypoints.graphql.inbox import Agency
from notify.entrypoints.graphql.types import InboxItem, NotifyContext

__all__ = ["NotifyContext", "build_schema"]


@strawberry.type(description=schema_docs.QUERY)
class Query:
    viewer = inbox.viewer
    my_inbox = inbox.my_inbox
    webhooks = hooks.webhooks
    process_record = record.process_record
    monthly_reminder_list = supervision.monthly_reminder_list
    quarterly_bulletin = supervision.quarterly_bulletin


@strawberry.type(description=schema_docs.SUBSCRIPTION)
class Subscription:
    inbox_item_added = inbox.inbox_item_added
    work_queue_changed = work.work_queue_changed


@strawberry.type(description=schema_docs.MUTATION)
class Mutation:
    acknowledge_inbox_item = inbox.acknowledge_inbox_item
    register_webhook = hooks.register_webhook
    rotate_webhook_secret = hooks.rotate_webhook_secret
    replay_webhook_delivery = hooks.replay_webhook_delivery
    remove_webhook = hooks.remove_webhook
    report_approval = inbox.report_approval
    report_hazard = inbox.report_hazard
    report_penalty_decision = inbox.report_penalty_decision
    announce_standard_change = inbox.announce_standard_change
    rate_department = supervision.rate_department
    rate_township = supervision.rate_township


def build_schema(production: bool = False) -> Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Agency, Referral, InboxItem, UserError],
        federation_version="2.9",
        extensions=schema_extensions(production),
        config=schema_config(),
    )
