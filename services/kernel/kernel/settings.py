"""Settings shared by every service, read from the environment (prefix ``LIANDONG_``) and an
optional ``.env`` file. Each field is documented in the README's configuration table."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ServiceName = Literal["referral", "coordination", "notify"]
SERVICES: tuple[ServiceName, ...] = ("referral", "coordination", "notify")
DEFAULT_PORTS: dict[str, int] = {"referral": 8101, "coordination": 8102, "notify": 8103}


class Settings(BaseSettings):
    """One deployment serves one district; these settings say which and how."""

    model_config = SettingsConfigDict(env_prefix="LIANDONG_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = Field(
        "development", description="production turns GraphiQL and introspection off"
    )
    district: str = Field("fuyuan", description="the district this deployment serves")
    instance: str = Field(
        "liandong", description="prefix of database and queue names (tests use a unique one)"
    )
    policy_file: Path | None = Field(
        None, description="a district policy YAML to use instead of the shipped one"
    )
    store: Literal["mongo", "embedded"] = Field("embedded", description="document store adapter")
    bus: Literal["rabbitmq", "memory"] = Field("memory", description="event bus adapter")
    mongo_url: str = Field("mongodb://127.0.0.1:27017/", description="MongoDB connection URL")
    amqp_url: str = Field("amqp://guest:guest@127.0.0.1:5672/", description="RabbitMQ URL")
    exchange: str = Field("liandong.events", description="the durable topic exchange")
    data_dir: Path = Field(Path(".liandong"), description="embedded store files and dev keys")
    http_host: str = Field("127.0.0.1", description="address the HTTP server binds")
    http_port: int | None = Field(
        None, description="HTTP port (default per service: 8101, 8102, 8103; suite 8100)"
    )
    gateway_port: int = Field(4000, description="port of the GraphQL gateway")
    jwt_jwks_file: Path | None = Field(
        None, description="JWKS with the public keys that sign tokens (dev keys when unset)"
    )
    jwt_private_key_file: Path | None = Field(
        None, description="PEM private key for `liandong token` (development only)"
    )
    jwt_issuer: str = Field("liandong", description="expected token issuer")
    jwt_audience: str = Field("liandong", description="expected token audience")
    jwt_leeway_seconds: int = Field(
        30, description="clock skew allowed when checking tokens (0..300 seconds)"
    )
    # -- authentication at the edge (kernel.auth, kernel.gateway_signature) ---------------
    jwt_jwks_url: str | None = Field(
        None, description="the identity provider's JWKS URL (instead of jwt_jwks_file)"
    )
    jwt_jwks_cache_seconds: float = Field(
        300.0, description="how long keys fetched from jwt_jwks_url are cached"
    )
    jwt_jwks_refresh_interval_seconds: float = Field(
        30.0, description="least time between refetches caused by an unknown key id"
    )
    gateway_hmac_secret: SecretStr | None = Field(
        None, description="secret the gateway signs subgraph requests with (shared with it)"
    )
    gateway_signature_required: bool | None = Field(
        None,
        description="refuse GraphQL not signed by the gateway (default: only in production)",
    )
    relay_interval_seconds: float = Field(0.5, description="outbox relay polling interval")
    calendar_sync_seconds: float = Field(
        30.0,
        gt=0,
        description="how often each replica installs official holiday schedules another "
        "replica stored (the schedule's event reaches one replica of a service)",
    )
    relay_lease_seconds: float = Field(
        30.0, description="how long a relay owns claimed work or the events a commit handed it"
    )
    relay_sweep_seconds: float = Field(
        5.0,
        description="how often the outbox relay scans for events no commit announced "
        "(a crashed replica's, an expired lease's)",
    )
    consumer_prefetch: int = Field(64, description="messages in flight per consumer")
    consumer_max_deliveries: int = Field(5, description="deliveries before dead-lettering")
    # -- observability and shutdown (kernel.telemetry, kernel.metrics, kernel.logs) --------
    otlp_endpoint: str | None = Field(
        None, description="OTLP/HTTP collector URL for traces (tracing is off when unset)"
    )
    tracing: bool | None = Field(
        None, description="force tracing on/off (default: on iff an OTLP endpoint is set)"
    )
    trace_sample_ratio: float = Field(
        1.0, ge=0, le=1, description="share of new traces sampled (callers' choice is kept)"
    )
    log_format: Literal["json", "plain"] | None = Field(
        None, description="log lines as JSON or plain text (default: JSON in production)"
    )
    log_level: str = Field("INFO", description="level of the root logger")
    metrics_interval_seconds: float = Field(
        15.0, gt=0, description="how often backlog, dead-letter and overdue gauges refresh"
    )
    ready_max_outbox_backlog: int = Field(
        10_000,
        ge=0,
        description="with the bus down, stay ready while fewer aggregates than this have "
        "events waiting in the outbox (0: readiness requires the bus)",
    )
    drain_delay_seconds: float = Field(
        0.0,
        ge=0,
        description="on SIGTERM, report not-ready this long before closing the listener",
    )
    event_loop: Literal["uvloop", "asyncio"] = Field(
        "uvloop",
        description="event loop of a service process: uvloop (uvicorn's own choice) or "
        "asyncio's (liandong.serving)",
    )

    @property
    def tracing_enabled(self) -> bool:
        # An empty endpoint (compose's `${LIANDONG_OTLP_ENDPOINT:-}`) means "not set".
        return self.tracing if self.tracing is not None else bool(self.otlp_endpoint)

    @property
    def effective_log_format(self) -> Literal["json", "plain"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.env == "production" else "plain"

    # -- service identities (R-GRD-01: the referral service fetches a referred dispatch's
    # photos from coordination) -----------------------------------------------------------
    coordination_url: str | None = Field(
        None,
        description="base URL of the coordination service's HTTP routes, for the referral "
        "service (default: http://127.0.0.1 on coordination's port)",
    )
    service_token_file: Path | None = Field(
        None,
        description="file holding this service's token from the identity provider (read at "
        "each use, so a renewed token is picked up); outside production, minted from the dev "
        "keys when unset",
    )
    service_fetch_attempts: int = Field(
        4, ge=1, le=10, description="attempts of a service-to-service fetch before giving up"
    )
    service_fetch_backoff_seconds: float = Field(
        0.5, ge=0, description="first wait between attempts (doubled after each)"
    )

    test_clock_file: Path | None = Field(
        None,
        description="file with an offset (seconds or ISO-8601 duration) added to the time the "
        "services take as now; development and tests only, refused in production",
    )
    # -- webhooks of other bureaus' systems (notify) -------------------------------------
    webhook_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="hosts, addresses or networks (CIDR) webhooks may reach although private",
    )
    webhook_allow_loopback: bool | None = Field(
        None, description="let webhooks reach 127.0.0.1/::1 (default: outside production only)"
    )
    # Issue 16, finding 6: one slow receiver holds its own slots and nobody else's.
    webhook_delivery_deadline_seconds: float = Field(
        15.0,
        gt=0,
        le=300,
        description="total time one webhook delivery attempt may take (connect, send, status "
        "line), whatever the receiver trickles",
    )
    webhook_concurrency_per_endpoint: int = Field(
        2, ge=1, le=64, description="delivery attempts to one webhook at once, per replica"
    )
    webhook_deliveries_in_flight: int = Field(
        16, ge=1, le=1024, description="delivery attempts at once in all, per replica"
    )
    webhook_max_per_agency: int = Field(
        5, ge=1, le=1000, description="active webhooks one agency may register"
    )
    webhook_secret_key_file: Path | None = Field(
        None,
        description="Fernet key(s) encrypting webhook secrets at rest, one per line, newest "
        "first (required in production; elsewhere generated in data_dir)",
    )

    # -- electronic signatures of issued letters (kernel.signing) --------------------------
    letter_signing_keys_dir: Path | None = Field(
        None,
        description="directory of the agencies' letter-signing keys, <agency id>.pem each "
        "(required in production; elsewhere generated in data_dir/keys/letters)",
    )
    audit_signing_key_file: Path | None = Field(
        None,
        description="Ed25519 private key (PEM) notify signs the record's checkpoints with "
        "(required in production; elsewhere generated in data_dir)",
    )
    audit_verify_key_file: Path | None = Field(
        None,
        description="Ed25519 public key (PEM) `liandong audit verify` checks checkpoints "
        "with (default: derived from the signing key)",
    )
    audit_checkpoint_seconds: float = Field(
        300.0,
        gt=0,
        description="how often notify signs and publishes a checkpoint of the record's head",
    )

    def database_name(self, service: str) -> str:
        """One database per service (and per district, so districts never mix)."""
        return f"{self.instance}_{self.district.replace('-', '_')}_{service}"

    def queue_name(self, service: str) -> str:
        """The service's durable queue; replicas of a service share it (competing consumers)."""
        return f"{self.instance}.{self.district}.{service}"

    def port_for(self, service: str) -> int:
        return self.http_port or DEFAULT_PORTS[service]
