"""Operating resources of the Kubernetes base (rendered by render.py; issues 16 and 19).

* ``network-policies.yaml`` — deny all ingress, then allow only what the topology needs:
  the gateway from outside, each service from the gateway (and the monitoring namespace),
  MongoDB from the three services and its own jobs, RabbitMQ from the services. Together
  with one MongoDB user per service whose role covers only its own database (the Job
  ``mongo-users``), only the owning service reaches its database (issue 16, finding 8).
* ``availability.yaml`` — PodDisruptionBudgets and HorizontalPodAutoscalers (issue 19).
* ``backup.yaml`` — a nightly ``mongodump`` of every database (GridFS included) to the
  ``mongo-backup`` volume with retention (issue 19; restore in docs/operations.md).
* ``monitoring.yaml`` — PodMonitors (services, gateway, RabbitMQ, MongoDB exporter), the
  MongoDB exporter, an OpenTelemetry Collector and the alert rules (PrometheusRule, the
  same groups as ``deploy/prometheus/liandong-rules.yaml`` that ``promtool test rules``
  checks).
* ``ingress.yaml`` — TLS termination for the gateway's ``/graphql`` only (``/metrics`` and
  the health routes stay inside the cluster).
"""

from __future__ import annotations

from typing import Any

PART_OF = {"app.kubernetes.io/part-of": "liandong"}
SERVICES = {"referral": 8101, "coordination": 8102, "notify": 8103}
MONITORING_NAMESPACE = "monitoring"
MONGO_EXPORTER_IMAGE = "docker.io/percona/mongodb_exporter:0.43.1"
OTEL_COLLECTOR_IMAGE = "docker.io/otel/opentelemetry-collector:0.116.1"
BACKUP_RETENTION_DAYS = 14
BACKUP_SCHEDULE = "30 2 * * *"  # 02:30 every night (the cluster's time zone: set timeZone)


def _name(app: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": app}


def _policy(name: str, pods: dict[str, str], ingress: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "labels": PART_OF},
        "spec": {
            "podSelector": {"matchLabels": pods},
            "policyTypes": ["Ingress"],
            "ingress": ingress,
        },
    }


def _from_pods(*apps: str) -> list[dict[str, Any]]:
    return [{"podSelector": {"matchLabels": _name(a)}} for a in apps]


_MONITORING = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": MONITORING_NAMESPACE}}
}


def network_policies() -> list[dict[str, Any]]:
    docs = [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny-ingress", "labels": PART_OF},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
        },
        # The gateway: from anywhere (the ingress controller), on its HTTP port.
        _policy("gateway", _name("gateway"), [{"ports": [{"port": 4000}]}]),
    ]
    # R-GRD-01: the referral service fetches a referred dispatch's photos from coordination
    # (its own identity; coordination's matrix allows it that one route).
    callers = {"coordination": ("gateway", "referral")}
    for service, port in SERVICES.items():
        docs.append(
            _policy(
                service,
                _name(service),
                [
                    {
                        "from": [*_from_pods(*callers.get(service, ("gateway",))), _MONITORING],
                        "ports": [{"port": port}],
                    },
                ],
            )
        )
    docs += [
        _policy(
            "mongo",
            _name("mongo"),
            [
                {
                    # The owning services (each with a user for its own database only), the
                    # replica set members, its init/users jobs, the backup and the exporter.
                    "from": _from_pods(
                        *SERVICES,
                        *(f"migrate-{s}" for s in SERVICES),
                        "mongo",
                        "mongo-init",
                        "mongo-backup",
                        "mongo-exporter",
                    ),
                    "ports": [{"port": 27017}],
                }
            ],
        ),
        _policy(
            "rabbitmq",
            _name("rabbitmq"),
            [
                {"from": _from_pods(*SERVICES), "ports": [{"port": 5672}]},
                # Cluster traffic between the nodes (epmd, distribution, CLI).
                {"from": _from_pods("rabbitmq")},
                # The Cluster and Topology Operators use the management API.
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "rabbitmq-system"}
                            }
                        }
                    ],
                    "ports": [{"port": 15672}],
                },
                {"from": [_MONITORING], "ports": [{"port": 15692}]},
            ],
        ),
        _policy(
            "mongo-exporter",
            _name("mongo-exporter"),
            [{"from": [_MONITORING], "ports": [{"port": 9216}]}],
        ),
        _policy(
            "otel-collector",
            _name("otel-collector"),
            [{"from": _from_pods(*SERVICES, "gateway"), "ports": [{"port": 4318}]}],
        ),
    ]
    return docs


def availability(default_replicas: dict[str, int]) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for app in [*SERVICES, "gateway"]:
        docs.append(
            {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": {"name": app, "labels": PART_OF},
                "spec": {"minAvailable": 1, "selector": {"matchLabels": _name(app)}},
            }
        )
        docs.append(
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": app, "labels": PART_OF},
                "spec": {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app},
                    "minReplicas": default_replicas[app],
                    "maxReplicas": default_replicas[app] * 3,
                    "metrics": [
                        {
                            "type": "Resource",
                            "resource": {
                                "name": "cpu",
                                "target": {"type": "Utilization", "averageUtilization": 70},
                            },
                        }
                    ],
                },
            }
        )
    # A majority of rs0 (two of three members) stays up through a drain.
    docs.append(
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "mongo", "labels": PART_OF},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": _name("mongo")}},
        }
    )
    return docs


def spread(app: str, *, hard: bool) -> list[dict[str, Any]]:
    """Replicas over nodes (a must for the database members) and, where possible, zones."""
    return [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "DoNotSchedule" if hard else "ScheduleAnyway",
            "labelSelector": {"matchLabels": _name(app)},
        },
        {
            "maxSkew": 1,
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": _name(app)},
        },
    ]


CONTAINER_SECURITY = {
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}


def pod_security(uid: int) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "fsGroup": uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def secret_env(name: str, key: str, secret: str = "liandong-secrets") -> dict[str, Any]:
    """An environment variable read from one key of a Kubernetes secret."""
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _mongo_secret(name: str, key: str) -> dict[str, Any]:
    return secret_env(name, key, "liandong-mongo")


BACKUP_SCRIPT = (
    "set -eu\n"
    'stamp="$(date -u +%Y%m%dT%H%M%SZ)"\n'
    'out="/backup/liandong-$LIANDONG_DISTRICT-$stamp.archive.gz"\n'
    "# Every database of the district (GridFS files included), consistent to one point in\n"
    "# time through the oplog; written to a temporary name, renamed when complete.\n"
    'mongodump --uri="mongodb://$MONGO_BACKUP_USER:$MONGO_BACKUP_PASSWORD@$MONGO_HOSTS/'
    '?replicaSet=rs0&authSource=admin&readPreference=secondaryPreferred" \\\n'
    '  --oplog --gzip --archive="$out.partial"\n'
    'mv "$out.partial" "$out"\n'
    'sha256sum "$out" > "$out.sha256"\n'
    f'find /backup -name "liandong-*.archive.gz*" -mtime +{BACKUP_RETENTION_DAYS} -delete\n'
    'echo "backup written: $out"\n'
)


def backup(mongo_image: str, mongo_hosts: str) -> list[dict[str, Any]]:
    labels = {**_name("mongo-backup"), **PART_OF}
    return [
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "mongo-backup", "labels": PART_OF},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "50Gi"}},
            },
        },
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "mongo-backup", "labels": PART_OF},
            "spec": {
                "schedule": BACKUP_SCHEDULE,
                "concurrencyPolicy": "Forbid",
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {
                    "spec": {
                        "backoffLimit": 2,
                        "template": {
                            "metadata": {"labels": labels},
                            "spec": {
                                "restartPolicy": "OnFailure",
                                "securityContext": pod_security(999),
                                "automountServiceAccountToken": False,
                                "containers": [
                                    {
                                        "name": "mongodump",
                                        "image": mongo_image,
                                        "command": ["sh", "-c", BACKUP_SCRIPT],
                                        "env": [
                                            {"name": "MONGO_HOSTS", "value": mongo_hosts},
                                            {"name": "MONGO_BACKUP_USER", "value": "backup"},
                                            _mongo_secret(
                                                "MONGO_BACKUP_PASSWORD", "backup-password"
                                            ),
                                            {
                                                "name": "LIANDONG_DISTRICT",
                                                "valueFrom": {
                                                    "configMapKeyRef": {
                                                        "name": "liandong-settings",
                                                        "key": "LIANDONG_DISTRICT",
                                                    }
                                                },
                                            },
                                        ],
                                        "volumeMounts": [
                                            {"name": "backup", "mountPath": "/backup"},
                                            {"name": "tmp", "mountPath": "/tmp"},
                                        ],
                                        "resources": {
                                            "requests": {"cpu": "100m", "memory": "256Mi"},
                                            "limits": {"cpu": "1", "memory": "1Gi"},
                                        },
                                        "securityContext": CONTAINER_SECURITY,
                                    }
                                ],
                                "volumes": [
                                    {
                                        "name": "backup",
                                        "persistentVolumeClaim": {"claimName": "mongo-backup"},
                                    },
                                    {"name": "tmp", "emptyDir": {}},
                                ],
                            },
                        },
                    }
                },
            },
        },
    ]


# -- monitoring --------------------------------------------------------------------------------

#: Alert rules: one list for the PrometheusRule and the promtool-tested rule file. Every
#: replica reports the same sampled gauges (backlog, dead letters, overdue), so the rules
#: take ``max`` per service, never ``sum``.
ALERT_GROUPS: list[dict[str, Any]] = [
    {
        "name": "liandong.delivery",
        "rules": [
            {
                "alert": "LiandongOutboxBacklog",
                "expr": "max by (namespace, service) (liandong_outbox_backlog) > 100",
                "for": "10m",
                "labels": {"severity": "warning"},
                "annotations": {
                    "summary": "{{ $labels.service }}: {{ $value }} events wait in the outbox",
                    "runbook": "docs/operations.md#outbox-backlog",
                },
            },
            {
                "alert": "LiandongDeadLetters",
                "expr": "max by (namespace, service, queue) (liandong_dead_letter_depth) > 0",
                "for": "1m",
                "labels": {"severity": "warning"},
                "annotations": {
                    "summary": "{{ $value }} dead letters in {{ $labels.queue }}",
                    "runbook": "docs/operations.md#dead-letters",
                },
            },
            {
                "alert": "LiandongBrokerDisconnected",
                "expr": "max by (namespace, service) (liandong_bus_connected) == 0",
                "for": "5m",
                "labels": {"severity": "critical"},
                "annotations": {
                    "summary": "{{ $labels.service }} has no connection to RabbitMQ",
                    "runbook": "docs/operations.md#broker-disconnected",
                },
            },
            {
                "alert": "LiandongConsumeLag",
                "expr": (
                    "histogram_quantile(0.95, sum by (namespace, service, le) "
                    "(rate(liandong_event_consume_lag_seconds_bucket[5m]))) > 60"
                ),
                "for": "10m",
                "labels": {"severity": "warning"},
                "annotations": {
                    "summary": "{{ $labels.service }} handles events {{ $value }}s late (p95)",
                    "runbook": "docs/operations.md#consume-lag",
                },
            },
        ],
    },
    {
        "name": "liandong.health",
        "rules": [
            {
                "alert": "LiandongNotReady",
                "expr": "max by (namespace, service) (liandong_ready) == 0",
                "for": "5m",
                "labels": {"severity": "critical"},
                "annotations": {
                    "summary": "no replica of {{ $labels.service }} is ready",
                    "runbook": "docs/operations.md#not-ready",
                },
            },
            {
                "alert": "LiandongMetricsStale",
                "expr": (
                    "time() - max by (namespace, service) "
                    "(liandong_metrics_sampled_timestamp_seconds) > 300"
                ),
                "for": "5m",
                "labels": {"severity": "warning"},
                "annotations": {
                    "summary": "{{ $labels.service }} has not refreshed its gauges for 5 min",
                    "runbook": "docs/operations.md#metrics-stale",
                },
            },
        ],
    },
    {
        "name": "liandong.business",
        "rules": [
            {
                # The product's core signal (逾期): routed to the supervising body, not to
                # the on-call engineer (label team=supervision in Alertmanager's routes).
                "alert": "LiandongOverdue",
                "expr": "max by (namespace, service, kind, agency) (liandong_overdue) > 0",
                "for": "1h",
                "labels": {"severity": "info", "team": "supervision"},
                "annotations": {
                    "summary": "{{ $labels.agency }}: {{ $value }} {{ $labels.kind }} overdue",
                    "runbook": "docs/operations.md#overdue",
                },
            },
        ],
    },
]


def prometheus_rule() -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "liandong", "labels": PART_OF},
        "spec": {"groups": ALERT_GROUPS},
    }


def _pod_monitor(name: str, app: str, port: str, path: str = "/metrics") -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {"name": name, "labels": PART_OF},
        "spec": {
            "selector": {"matchLabels": _name(app)},
            "podMetricsEndpoints": [{"port": port, "path": path, "interval": "30s"}],
        },
    }


OTEL_CONFIG = """receivers:
  otlp:
    protocols:
      http:
        endpoint: 0.0.0.0:4318
processors:
  batch: {}
  memory_limiter:
    check_interval: 1s
    limit_percentage: 80
exporters:
  # Replace with the district's tracing backend (otlphttp to Tempo, Jaeger, ...).
  debug:
    verbosity: basic
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [debug]
"""


def monitoring(mongo_hosts: str) -> list[dict[str, Any]]:
    exporter_labels = {**_name("mongo-exporter"), **PART_OF}
    collector_labels = {**_name("otel-collector"), **PART_OF}
    docs: list[dict[str, Any]] = [
        *(_pod_monitor(s, s, "http") for s in SERVICES),
        _pod_monitor("gateway", "gateway", "http"),
        # The operator's RabbitMQ pods serve the prometheus plugin on 15692.
        _pod_monitor("rabbitmq", "rabbitmq", "prometheus"),
        _pod_monitor("mongo-exporter", "mongo-exporter", "metrics"),
        prometheus_rule(),
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "mongo-exporter", "labels": PART_OF},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": _name("mongo-exporter")},
                "template": {
                    "metadata": {"labels": exporter_labels},
                    "spec": {
                        "securityContext": pod_security(65534),
                        "automountServiceAccountToken": False,
                        "containers": [
                            {
                                "name": "mongo-exporter",
                                "image": MONGO_EXPORTER_IMAGE,
                                "args": [
                                    "--collect-all",
                                    "--compatible-mode",
                                    "--web.listen-address=:9216",
                                ],
                                "env": [
                                    _mongo_secret("MONGO_PASSWORD", "exporter-password"),
                                    {
                                        "name": "MONGODB_URI",
                                        "value": "mongodb://exporter:$(MONGO_PASSWORD)@"
                                        f"{mongo_hosts}/?replicaSet=rs0&authSource=admin",
                                    },
                                ],
                                "ports": [{"name": "metrics", "containerPort": 9216}],
                                "readinessProbe": {
                                    "httpGet": {"path": "/", "port": "metrics"},
                                    "periodSeconds": 15,
                                },
                                "livenessProbe": {
                                    "httpGet": {"path": "/", "port": "metrics"},
                                    "periodSeconds": 30,
                                },
                                "resources": {
                                    "requests": {"cpu": "50m", "memory": "64Mi"},
                                    "limits": {"cpu": "500m", "memory": "256Mi"},
                                },
                                "securityContext": CONTAINER_SECURITY,
                            }
                        ],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "otel-collector", "labels": PART_OF},
            "data": {"config.yaml": OTEL_CONFIG},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "otel-collector", "labels": PART_OF},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": _name("otel-collector")},
                "template": {
                    "metadata": {"labels": collector_labels},
                    "spec": {
                        "securityContext": pod_security(10001),
                        "automountServiceAccountToken": False,
                        "containers": [
                            {
                                "name": "otel-collector",
                                "image": OTEL_COLLECTOR_IMAGE,
                                "args": ["--config=/etc/otelcol/config.yaml"],
                                "ports": [
                                    {"name": "otlp-http", "containerPort": 4318},
                                    {"name": "health", "containerPort": 13133},
                                ],
                                "volumeMounts": [{"name": "config", "mountPath": "/etc/otelcol"}],
                                "readinessProbe": {
                                    "tcpSocket": {"port": "otlp-http"},
                                    "periodSeconds": 15,
                                },
                                "livenessProbe": {
                                    "tcpSocket": {"port": "otlp-http"},
                                    "periodSeconds": 30,
                                },
                                "resources": {
                                    "requests": {"cpu": "100m", "memory": "128Mi"},
                                    "limits": {"cpu": "1", "memory": "512Mi"},
                                },
                                "securityContext": CONTAINER_SECURITY,
                            }
                        ],
                        "volumes": [{"name": "config", "configMap": {"name": "otel-collector"}}],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "otel-collector", "labels": PART_OF},
            "spec": {
                "selector": _name("otel-collector"),
                "ports": [{"name": "otlp-http", "port": 4318, "targetPort": "otlp-http"}],
            },
        },
    ]
    return docs


def ingress() -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "gateway", "labels": PART_OF},
        "spec": {
            # The district patches host and certificate (docs/operations.md).
            "tls": [{"hosts": ["liandong.example.invalid"], "secretName": "liandong-tls"}],
            "rules": [
                {
                    "host": "liandong.example.invalid",
                    "http": {
                        "paths": [
                            {
                                "path": "/graphql",
                                "pathType": "Exact",
                                "backend": {
                                    "service": {"name": "gateway", "port": {"number": 4000}}
                                },
                            }
                        ]
                    },
                }
            ],
        },
    }


def mongo_users_script() -> str:
    """mongosh: one user per service with readWrite on its own database only, a backup user
    and the exporter's monitoring user; idempotent (passwords updated on every run)."""
    return (
        "const district = process.env.LIANDONG_DISTRICT.replace(/-/g, '_');\n"
        "const admin = db.getSiblingDB('admin');\n"
        "function ensure(user, pwd, roles) {\n"
        "  if (admin.getUser(user)) { admin.updateUser(user, {pwd: pwd, roles: roles}); }\n"
        "  else { admin.createUser({user: user, pwd: pwd, roles: roles}); }\n"
        "}\n"
        "for (const s of ['referral', 'coordination', 'notify']) {\n"
        "  ensure('liandong-' + s, process.env['MONGO_' + s.toUpperCase() + '_PASSWORD'],\n"
        "         [{role: 'readWrite', db: 'liandong_' + district + '_' + s}]);\n"
        "}\n"
        "ensure('backup', process.env.MONGO_BACKUP_PASSWORD,\n"
        "       [{role: 'backup', db: 'admin'}, {role: 'restore', db: 'admin'}]);\n"
        "if (process.env.MONGO_EXPORTER_PASSWORD) {\n"
        "  ensure('exporter', process.env.MONGO_EXPORTER_PASSWORD,\n"
        "         [{role: 'clusterMonitor', db: 'admin'}, {role: 'read', db: 'local'}]);\n"
        "}\n"
        "print('mongo users ensured');\n"
    )
