"""RabbitMQ users, permissions and queue policies of one district (rendered by render.py).

Issue 16, finding 7: every service has a RabbitMQ user of its own whose *topic permissions*
let it publish only its own routing keys ``<district>.<service>.<type>`` on the events
exchange, and bind only keys of its district. Consumers check the rest (``kernel.consumer``:
an event's ``service`` must be its type's publisher; ``kernel.adapters.rabbit_bus``: the
routing key must agree with the envelope).

Issue 16, finding 2 (AMQP part): a bureau's system that reads events over AMQP gets a user of
its own that may declare and bind only queues named ``bureau.<agency>.*`` and whose topic
read permission lists the exact routing keys its profile may bind (a ``#`` or ``*`` binding
is refused by the broker because the binding key itself must match):

* ``public`` — the district's agency directory and matter catalogue (any bureau);
* ``procuratorate`` — public plus the transfers of suspected crimes (两法衔接, R-REF-10);
* ``supervising`` — justice bureau, government, coordination body: every event type of the
  district except those carrying complainants' personal data (AMQP cannot redact; those go
  to webhooks, which do).

The event types and their publishers come from the AsyncAPI catalogue
(``services/notify/notify/asyncapi.json``), so this file needs no service code.

Issue 19, item 4: queue length limits as a policy (the unrouted queue and every dead-letter
queue: at most ``MAX_PARKED`` messages, further publishes refused, so nothing is dropped
silently — the outbox keeps an unroutable event, a handler's message stays in its queue).

Issue 19, item 1: the consumers' queue settings as a policy too (``liandong-consumers``:
``delivery-limit``, ``dead-letter-strategy``, ``overflow``), so that changing one needs no
redeclaration; the application declares only the queue type and the dead-letter exchange and
routing key, which follow from the names (``RabbitBus._declare_consumer_queue``).

Two renderings of the same table: a shell script of ``rabbitmqctl`` commands for compose (and
any broker an operator reaches with ``rabbitmqctl``; the tests run it against the real broker)
and Messaging Topology Operator resources for Kubernetes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kernel.settings import Settings
from notify.application.access import CRIME_EVENTS as _NOTIFY_CRIME_EVENTS
from notify.application.access import PUBLIC_EVENTS as _NOTIFY_PUBLIC_EVENTS

REPO = Path(__file__).resolve().parent.parent
ASYNCAPI = REPO / "services" / "notify" / "notify" / "asyncapi.json"
EXCHANGE = "liandong.events"
INSTANCE = "liandong"
SERVICES = ("referral", "coordination", "notify")
#: Length limit of the unrouted and dead-letter queues.
MAX_PARKED = 100_000
#: Payload fields with a complainant's personal data (notify redacts them in webhooks).
PERSONAL_FIELDS = frozenset({"contact", "complainant_name", "complainant_contact"})
#: The events every bureau may read, and those the procuratorate may read besides: notify's
#: own lists (the webhook fan-out's), so the AMQP route and webhooks never differ.
PUBLIC_EVENTS = tuple(sorted(_NOTIFY_PUBLIC_EVENTS))
CRIME_EVENTS = tuple(sorted(_NOTIFY_CRIME_EVENTS))
BUREAU_PROFILES = ("public", "procuratorate", "supervising")


@dataclass(frozen=True)
class Access:
    user: str  # without the deployment's prefix
    configure: str
    write: str
    read: str
    topic_write: str
    topic_read: str


def _e(text: str) -> str:
    return re.escape(text)


def catalogue() -> dict[str, tuple[str, bool]]:
    """Event type → (publishing service, carries personal data), from the AsyncAPI file."""
    doc = json.loads(ASYNCAPI.read_text(encoding="utf-8"))
    schemas = doc["components"]["schemas"]

    def fields(ref: str, seen: set[str]) -> set[str]:
        schema = schemas[ref.rsplit("/", 1)[-1]]
        found = set(schema.get("properties", {}))
        for sub in re.findall(r'"\$ref": "([^"]+)"', json.dumps(schema)):
            if sub not in seen:
                seen.add(sub)
                found |= fields(sub, seen)
        return found

    out: dict[str, tuple[str, bool]] = {}
    for message in doc["components"]["messages"].values():
        extra = message["payload"]["allOf"][1]["properties"]
        data_ref = extra["data"]["$ref"]
        personal = bool(fields(data_ref, set()) & PERSONAL_FIELDS)
        out[message["name"]] = (extra["service"]["const"], personal)
    return out


def _queues(service: str, district: str) -> str:
    return rf"{_e(INSTANCE)}\.{_e(district)}\.{_e(service)}(\.[a-z0-9_.-]+)?"


def service_access(district: str) -> list[Access]:
    """One user per service: its queues and their dead-letter exchanges (`<queue>.dlx`, issue
    16: none of them shared), the main exchange and its alternate, its own routing keys."""
    x = _e(EXCHANGE)
    shared = rf"{x}|{x}\.unrouted"
    return [
        Access(
            user=service,
            configure=rf"^({shared}|{_queues(service, district)})$",
            write=rf"^({shared}|{_queues(service, district)})$",
            read=rf"^({shared}|{_queues(service, district)})$",
            topic_write=rf"^{_e(district)}\.{_e(service)}\.[a-z0-9_]+(\.[a-z0-9_]+)+$",
            topic_read=rf"^{_e(district)}\.[a-z0-9_.*#]+$",
        )
        for service in SERVICES
    ]


def bureau_keys(district: str, profile: str) -> list[str]:
    """The routing keys a bureau of ``profile`` may bind (exact keys, no wildcards)."""
    types = catalogue()
    if profile == "public":
        chosen = list(PUBLIC_EVENTS)
    elif profile == "procuratorate":
        chosen = [*PUBLIC_EVENTS, *CRIME_EVENTS]
    elif profile == "supervising":
        chosen = [t for t, (_, personal) in types.items() if not personal]
    else:
        raise ValueError(f"unknown bureau profile {profile!r}; one of {BUREAU_PROFILES}")
    return sorted(f"{district}.{types[t][0]}.{t}" for t in chosen)


def bureau_topic_read(district: str, profile: str) -> str:
    return "^(" + "|".join(_e(k) for k in bureau_keys(district, profile)) + ")$"


def _parked_policy() -> dict[str, Any]:
    return {"max-length": MAX_PARKED, "overflow": "reject-publish"}


PARKED_PATTERN = rf"^{_e(EXCHANGE)}\.unrouted$|\.dlq$"
#: Every service's subscription queues (``Settings.queue_name`` and its suffixes); their
#: ``.dlq`` also match, but ``liandong-parked`` has the higher priority there.
CONSUMERS_PATTERN = rf"^{_e(INSTANCE)}\.[a-z0-9-]+\.({'|'.join(SERVICES)})(\.[a-z0-9_.-]+)?$"


def _consumers_policy() -> dict[str, Any]:
    # The broker's backstop for a message whose handler never returns (a crash loop): the
    # subscription dead-letters a failing message itself after consumer_max_deliveries
    # deliveries, with the error as the reason (kernel.adapters.rabbit_bus).
    max_deliveries = Settings.model_fields["consumer_max_deliveries"].default
    return {
        "delivery-limit": max_deliveries - 1,
        # at-least-once keeps a dead letter until the DLQ confirms it; it needs reject-publish.
        "dead-letter-strategy": "at-least-once",
        "overflow": "reject-publish",
    }


#: name → (pattern, priority, definition), in the order rabbitmqctl applies them.
def policies() -> dict[str, tuple[str, int, dict[str, Any]]]:
    return {
        "liandong-parked": (PARKED_PATTERN, 10, _parked_policy()),
        "liandong-consumers": (CONSUMERS_PATTERN, 5, _consumers_policy()),
    }


# -- compose (and any broker reached with rabbitmqctl) ------------------------------------------


#: Stands for the district while the common script is rendered; the script puts the
#: district's escaped name (``$D``) in its place when it runs.
_DISTRICT = "districtplaceholder"


def render_script(district: str) -> str:
    """A district's ``rabbitmq-users.sh``: names the district and runs the common script
    (``render_common_script``), which every district shares."""
    return "\n".join(
        [
            "#!/bin/sh",
            "# GENERATED by `python deploy/render.py` (deploy/render_rabbitmq.py): edit the"
            " script.",
            f"# RabbitMQ users and permissions of district {district} (issue 16, findings 2"
            " and 7):",
            "# ../rabbitmq-users-common.sh for this district (usage there).",
            f"LIANDONG_DISTRICT={district}",
            "export LIANDONG_DISTRICT",
            'exec sh "$(dirname "$0")/../rabbitmq-users-common.sh" "$@"',
            "",
        ]
    )


def render_common_script() -> str:
    """The script every district's ``rabbitmq-users.sh`` runs, for ``$LIANDONG_DISTRICT``."""
    # Every place the district stands is inside a single-quoted word: close the quote, put
    # the escaped district, open it again.
    return _render_common(_DISTRICT).replace(_e(_DISTRICT), "'\"$D\"'")


def _render_common(district: str) -> str:
    lines = [
        "#!/bin/sh",
        "# GENERATED by `python deploy/render.py` (deploy/render_rabbitmq.py): edit the script.",
        "# RabbitMQ users and permissions of the district LIANDONG_DISTRICT names (issue 16,",
        "# findings 2 and 7); each district's rabbitmq-users.sh names it and runs this.",
        "#",
        "#   rabbitmq-users.sh services          one user per service (passwords from",
        "#                                       RABBITMQ_REFERRAL_PASSWORD, ..._COORDINATION_,",
        "#                                       ..._NOTIFY_) and the queue policies",
        "#   rabbitmq-users.sh policies          only the queue policies (liandong-parked,",
        "#                                       liandong-consumers); change a value here",
        "#   rabbitmq-users.sh bureau AGENCY PROFILE   a bureau's read-only user (password from",
        "#                                       BUREAU_PASSWORD); PROFILE: "
        + " | ".join(BUREAU_PROFILES),
        "#",
        "# RABBITMQ_VHOST (default /) and RABBITMQ_USER_PREFIX (default liandong-) select where.",
        "# Idempotent: run it again after a password change or an upgrade.",
        "set -eu",
        'case "${LIANDONG_DISTRICT:-}" in ""|*[!a-z0-9-]*)',
        '  echo "LIANDONG_DISTRICT: [a-z0-9-]+" >&2; exit 2;; esac',
        "# The district as a regular expression (re.escape: of [a-z0-9-], the hyphen).",
        "D=$(printf '%s' \"$LIANDONG_DISTRICT\" | sed 's/-/\\\\-/g')",
        'VHOST="${RABBITMQ_VHOST:-/}"',
        'PREFIX="${RABBITMQ_USER_PREFIX:-liandong-}"',
        'ctl() { rabbitmqctl -q "$@"; }',
        "user() {",
        '  if ctl list_users --no-table-headers | cut -f1 | grep -qx "$1"; then',
        '    ctl change_password "$1" "$2"',
        "  else",
        '    ctl add_user "$1" "$2"',
        "  fi",
        "}",
        "services() {",
    ]
    for access in service_access(district):
        var = f"RABBITMQ_{access.user.upper()}_PASSWORD"
        u = f'"${{PREFIX}}{access.user}"'
        lines += [
            f'  user {u} "${{{var}:?set {var}}}"',
            f'  ctl set_permissions -p "$VHOST" {u} \\',
            f"    '{access.configure}' \\",
            f"    '{access.write}' \\",
            f"    '{access.read}'",
            f'  ctl set_topic_permissions -p "$VHOST" {u} {EXCHANGE} \\',
            f"    '{access.topic_write}' '{access.topic_read}'",
        ]
    lines += ["  policies", "}", "policies() {"]
    for name, (pattern, priority, definition) in policies().items():
        lines += [
            f'  ctl set_policy -p "$VHOST" --apply-to queues --priority {priority} {name} \\',
            f"    '{pattern}' '{json.dumps(definition, separators=(',', ':'))}'",
        ]
    lines += [
        "}",
        "bureau() {",
        '  agency="$1"; profile="$2"',
        '  case "$agency" in ""|*[!a-z0-9-]*) echo "agency id: [a-z0-9-]+" >&2; exit 2;; esac',
        '  case "$profile" in',
    ]
    for profile in BUREAU_PROFILES:
        lines.append(f"    {profile}) keys='{bureau_topic_read(district, profile)}';;")
    lines += [
        '    *) echo "profile: ' + " | ".join(BUREAU_PROFILES) + '" >&2; exit 2;;',
        "  esac",
        '  u="${PREFIX}bureau-$agency"',
        '  user "$u" "${BUREAU_PASSWORD:?set BUREAU_PASSWORD}"',
        '  own="bureau\\\\.$agency\\\\.[a-z0-9_.-]+"',
        f'  ctl set_permissions -p "$VHOST" "$u" "^$own\\$" "^$own\\$" "^({_e(EXCHANGE)}|$own)\\$"',
        f'  ctl set_topic_permissions -p "$VHOST" "$u" {EXCHANGE} \'^$\' "$keys"',
        "}",
        'case "${1:-services}" in',
        "  services) services;;",
        "  policies) policies;;",
        '  bureau) shift; bureau "${1:-}" "${2:-}";;',
        '  *) echo "usage: $0 services | policies | bureau AGENCY PROFILE" >&2; exit 2;;',
        "esac",
        "",
    ]
    return "\n".join(lines)


# -- kubernetes: Messaging Topology Operator ----------------------------------------------------


def topology(district: str) -> list[dict[str, Any]]:
    cluster = {"name": "rabbitmq"}
    labels = {"app.kubernetes.io/part-of": "liandong"}
    docs: list[dict[str, Any]] = []
    for access in service_access(district):
        name = f"liandong-{access.user}"
        meta = {"name": name, "labels": labels}
        docs += [
            {
                "apiVersion": "rabbitmq.com/v1beta1",
                "kind": "User",
                "metadata": meta,
                "spec": {
                    "rabbitmqClusterReference": cluster,
                    # Keys username and password, created with the district's secrets
                    # (docs/operations.md); the service builds its AMQP URL from them.
                    "importCredentialsSecret": {"name": f"liandong-amqp-{access.user}"},
                },
            },
            {
                "apiVersion": "rabbitmq.com/v1beta1",
                "kind": "Permission",
                "metadata": meta,
                "spec": {
                    "vhost": "/",
                    "userReference": {"name": name},
                    "permissions": {
                        "configure": access.configure,
                        "write": access.write,
                        "read": access.read,
                    },
                    "rabbitmqClusterReference": cluster,
                },
            },
            {
                "apiVersion": "rabbitmq.com/v1beta1",
                "kind": "TopicPermission",
                "metadata": meta,
                "spec": {
                    "vhost": "/",
                    "userReference": {"name": name},
                    "permissions": {
                        "exchange": EXCHANGE,
                        "write": access.topic_write,
                        "read": access.topic_read,
                    },
                    "rabbitmqClusterReference": cluster,
                },
            },
        ]
    for name, (pattern, priority, definition) in policies().items():
        docs.append(
            {
                "apiVersion": "rabbitmq.com/v1beta1",
                "kind": "Policy",
                "metadata": {"name": name, "labels": labels},
                "spec": {
                    "name": name,
                    "vhost": "/",
                    "pattern": pattern,
                    "applyTo": "queues",
                    "priority": priority,
                    "definition": definition,
                    "rabbitmqClusterReference": cluster,
                },
            }
        )
    return docs
