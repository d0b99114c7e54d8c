"""The AsyncAPI 3.0 document of every event the suite publishes, built from the same pydantic
models the services publish with, so the contract other bureaus read cannot drift from the
code (``tests/integration/notify/test_notify_asyncapi.py`` fails when the committed copy differs).

The committed copy lives in the notify package (``notify/asyncapi.json``), which serves it at
``GET /asyncapi.json``: notify cannot import the other services, so it serves the file this
module writes. Regenerate it with ``uv run python -m liandong.asyncapi``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from coordination.contracts.published import PUBLISHED as COORDINATION_PUBLISHED
from kernel.contracts.catalogue import CatalogueEntryV1
from kernel.envelope import EventPayload
from notify.contracts.published import PUBLISHED as NOTIFY_PUBLISHED
from referral.contracts.published import PUBLISHED as REFERRAL_PUBLISHED

__all__ = [
    "ASYNCAPI_PATH",
    "EVENT_SOURCES_PATH",
    "build_asyncapi",
    "render",
    "render_event_sources",
    "write",
]

ASYNCAPI_PATH = Path(__file__).resolve().parents[2] / "services/notify/notify/asyncapi.json"
#: The kernel's copy of "which service publishes which event type" (issue 16, finding 7):
#: consumers refuse an event whose source is not its type's publisher. Generated with the
#: AsyncAPI document from the same lists, so the two cannot disagree.
EVENT_SOURCES_PATH = (
    Path(__file__).resolve().parents[2] / "services/kernel/kernel/contracts/event_sources.py"
)
EXCHANGE = "liandong.events"


def _payloads(models: Iterable[object]) -> list[type[EventPayload]]:
    # The services' lists are typed loosely (some as list[ModelMetaclass]); keep the payloads.
    return [m for m in models if isinstance(m, type) and issubclass(m, EventPayload)]


def _published() -> dict[str, list[type[EventPayload]]]:
    coordination = _payloads(COORDINATION_PUBLISHED)
    if CatalogueEntryV1 not in coordination:
        coordination.append(CatalogueEntryV1)
    return {
        "referral": _payloads(REFERRAL_PUBLISHED),
        "coordination": coordination,
        "notify": _payloads(NOTIFY_PUBLISHED),
    }


def _pascal(event_type: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in event_type.replace("_", ".").split("."))


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        components.setdefault(name, sub)
    return schema


_ENVELOPE: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0, structured JSON mode (application/cloudevents+json), with "
    "the extensions district and correlationid, and service (the publishing service).",
    "required": [
        "specversion",
        "id",
        "source",
        "type",
        "time",
        "datacontenttype",
        "data",
        "district",
        "correlationid",
        "service",
    ],
    "properties": {
        "specversion": {"const": "1.0"},
        "id": {"type": "string", "description": "unique per event; deduplicate on it"},
        "source": {"type": "string", "examples": ["/liandong/fuyuan/referral"]},
        "type": {"type": "string", "examples": ["referral.sent.v1"]},
        "subject": {"type": ["string", "null"], "description": "the aggregate's id"},
        "time": {"type": "string", "format": "date-time"},
        "datacontenttype": {"const": "application/json"},
        "data": {"type": "object", "description": "the payload (see each message)"},
        "district": {"type": "string", "examples": ["fuyuan"]},
        "correlationid": {
            "type": "string",
            "description": "ties together the events of one user action across services",
        },
        "service": {"type": "string", "enum": ["referral", "coordination", "notify"]},
        "traceparent": {"type": ["string", "null"]},
    },
}


def build_asyncapi() -> dict[str, Any]:
    schemas: dict[str, Any] = {"CloudEventEnvelope": _ENVELOPE}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for service, models in _published().items():
        for model in models:
            event_type: str = model.event_type
            name = _pascal(event_type)
            schemas[name] = _schema(model, schemas)
            messages[name] = {
                "name": event_type,
                "title": event_type,
                "summary": (model.__doc__ or event_type).strip().splitlines()[0],
                "contentType": "application/cloudevents+json",
                "headers": {
                    "type": "object",
                    "description": "AMQP message properties",
                    "properties": {
                        "content_type": {"const": "application/cloudevents+json"},
                        "message_id": {"type": "string", "description": "the CloudEvent id"},
                        "type": {"const": event_type},
                    },
                },
                "payload": {
                    "allOf": [
                        {"$ref": "#/components/schemas/CloudEventEnvelope"},
                        {
                            "type": "object",
                            "properties": {
                                "type": {"const": event_type},
                                "service": {"const": service},
                                "data": {"$ref": f"#/components/schemas/{name}"},
                            },
                        },
                    ]
                },
                "bindings": {"amqp": {"deliveryMode": 2, "bindingVersion": "0.3.0"}},
            }
            channel = f"{service}.{event_type}"
            channels[channel] = {
                "address": f"{{district}}.{service}.{event_type}",
                "title": event_type,
                "description": f"Routing key of {event_type} events published by {service}.",
                "parameters": {"district": {"$ref": "#/components/parameters/district"}},
                "messages": {name: {"$ref": f"#/components/messages/{name}"}},
                "bindings": {
                    "amqp": {
                        "is": "routingKey",
                        "exchange": {
                            "name": EXCHANGE,
                            "type": "topic",
                            "durable": True,
                            "autoDelete": False,
                            "vhost": "/",
                        },
                        "bindingVersion": "0.3.0",
                    }
                },
            }
            operations[f"receive.{channel}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{channel}"},
                "summary": f"A bureau's queue bound to {{district}}.{service}.{event_type}",
                "messages": [{"$ref": f"#/channels/{channel}/messages/{name}"}],
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Liandong (联动) events",
            "version": "1.0.0",
            "description": (
                "Every event the Liandong services publish, on one durable topic exchange "
                f"(`{EXCHANGE}`, configurable per deployment with LIANDONG_EXCHANGE). Routing "
                "key: `<district>.<service>.<event type>`, e.g. "
                "`fuyuan.referral.referral.sent.v1`. Another bureau declares its own durable "
                "queue and binds it with a topic pattern:\n\n"
                "* `fuyuan.#`: everything of the Fuyuan district;\n"
                "* `*.referral.#`: every referral event of every district (a provincial "
                "broker that federates the districts' exchanges);\n"
                "* `fuyuan.*.referral.sent.v1`: one event type.\n\n"
                "Delivery is at least once: deduplicate on the CloudEvent `id`. Payloads are "
                "versioned (`.v1`); a new optional field may appear in a version, so read "
                "tolerantly. The same events are offered as signed webhooks (HTTP POST of the "
                "CloudEvent; headers X-Liandong-Timestamp and X-Liandong-Signature = `v1=` + "
                "hex HMAC-SHA256 with the subscriber's secret over `<timestamp>.` + raw body)."
            ),
        },
        "defaultContentType": "application/cloudevents+json",
        "servers": {
            "district": {
                "host": "rabbitmq:5672",
                "protocol": "amqp",
                "protocolVersion": "0.9.1",
                "description": "The district's RabbitMQ (each district runs its own).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "parameters": {
                "district": {
                    "description": "the district slug, e.g. fuyuan, shangri-la, hualong",
                    "examples": ["fuyuan"],
                }
            },
        },
    }


def render() -> str:
    return json.dumps(build_asyncapi(), ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def _tuple_literal(items: list[str]) -> str:
    """``("a",)`` or ``("a", "b")``: as ruff formats a tuple of strings."""
    quoted = ", ".join(f'"{i}"' for i in items)
    return f"({quoted},)" if len(items) == 1 else f"({quoted})"


def render_event_sources() -> str:
    """``kernel/contracts/event_sources.py``: event type → the services that publish it (one,
    but for a few shared kernel contracts such as ``deadline.moved.v1``)."""
    owners: dict[str, list[str]] = {}
    for service, models in _published().items():
        for model in models:
            if service not in owners.setdefault(model.event_type, []):
                owners[model.event_type].append(service)
    lines = [
        '"""GENERATED by `uv run python -m liandong.asyncapi` from the services\' published',
        "event lists (the AsyncAPI catalogue's source): edit those, not this file.",
        "",
        "Event type → the services allowed to publish it. Consumers refuse (dead-letter) an",
        "event whose envelope names another service (``kernel.consumer``, issue 16, finding 7);",
        "the broker lets each service's user publish only ``<district>.<service>.#``.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "EVENT_SOURCES: dict[str, tuple[str, ...]] = {",
        *(f'    "{t}": {_tuple_literal(sorted(owners[t]))},' for t in sorted(owners)),
        "}",
        "",
    ]
    return "\n".join(lines)


def write(path: Path = ASYNCAPI_PATH) -> Path:
    path.write_text(render(), encoding="utf-8")
    EVENT_SOURCES_PATH.write_text(render_event_sources(), encoding="utf-8")
    return path


if __name__ == "__main__":
    sys.stdout.write(f"wrote {write()} and {EVENT_SOURCES_PATH}\n")
