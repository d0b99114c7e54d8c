"""Composition helpers: turn settings into adapters. Used by the composition roots only
(``liandong serve`` and ``liandong up``, and tests); services receive what these build."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kernel.auth import TokenVerifier, ensure_dev_keys
from kernel.bus import Bus
from kernel.calendar import WorkingCalendar
from kernel.clock import Clock, clock_from_settings, system_clock
from kernel.policy import DistrictPolicy, district_policy
from kernel.settings import Settings
from kernel.store import DocumentStore
from kernel.write_guard import guarded

__all__ = ["Deps", "load_district_policy", "load_verifier", "open_bus", "open_store"]


@dataclass
class Deps:
    """What a service's bootstrap needs from the outside world."""

    settings: Settings
    store: DocumentStore
    bus: Bus
    verifier: TokenVerifier
    policy: DistrictPolicy
    calendar: WorkingCalendar
    owns_bus: bool = True
    # The domain's "now" (kernel.clock): the system clock, or a movable one in tests.
    clock: Clock = system_clock


async def open_store(settings: Settings, service: str) -> DocumentStore:
    """The service's database on the configured adapter, guarded: any write inside a dry run
    (``viewerCan``) fails loudly (:mod:`kernel.write_guard`)."""
    store: DocumentStore
    if settings.store == "mongo":
        from kernel.adapters.mongo_store import open_mongo_store

        store = await open_mongo_store(settings.mongo_url, settings.database_name(service))
    else:
        from kernel.adapters.embedded_store import open_embedded_store

        store = open_embedded_store(settings.data_dir / "store", settings.database_name(service))
    return guarded(store)


def open_bus(settings: Settings) -> Bus:
    if settings.bus == "rabbitmq":
        from kernel.adapters.rabbit_bus import RabbitBus

        return RabbitBus(settings.amqp_url, exchange=settings.exchange)
    from kernel.adapters.memory_bus import MemoryBus

    return MemoryBus()


def load_verifier(settings: Settings) -> TokenVerifier:
    """Public keys from the identity provider's ``jwt_jwks_url`` or from ``jwt_jwks_file``;
    outside production, the dev keys when neither is set. Tokens for another district are
    refused by the verifier itself."""
    common: dict[str, Any] = {
        "issuer": settings.jwt_issuer,
        "audience": settings.jwt_audience,
        "leeway": settings.jwt_leeway_seconds,
        "district": settings.district,
    }
    if settings.jwt_jwks_url:
        return TokenVerifier.from_url(
            settings.jwt_jwks_url,
            ttl=settings.jwt_jwks_cache_seconds,
            refresh_interval=settings.jwt_jwks_refresh_interval_seconds,
            **common,
        )
    path = settings.jwt_jwks_file
    if path is None:
        if settings.env == "production":
            raise ValueError(
                "LIANDONG_JWT_JWKS_URL or LIANDONG_JWT_JWKS_FILE must be set in production"
            )
        path = ensure_dev_keys(settings.data_dir).jwks_file
    return TokenVerifier.from_file(path, **common)


def load_district_policy(settings: Settings) -> DistrictPolicy:
    """The kernel's sections of the policy the settings name (each service validates its
    own at boot; ``liandong.policy`` validates the whole file)."""
    return district_policy(settings.district, settings.policy_file)


async def build_deps(
    settings: Settings,
    service: str,
    *,
    bus: Bus | None = None,
    policy: DistrictPolicy | None = None,
) -> Deps:
    """Deps for one service; pass ``bus`` to share one bus between services (embedded), and
    ``policy`` to use one already loaded (the composition root's, validated whole)."""
    # First: a production deployment configured with a test clock must not start at all.
    clock = clock_from_settings(settings)
    if policy is None:
        policy = load_district_policy(settings)
    return Deps(
        settings=settings,
        store=await open_store(settings, service),
        bus=bus if bus is not None else open_bus(settings),
        verifier=load_verifier(settings),
        policy=policy,
        calendar=calendar_for(policy),
        owns_bus=bus is None,
        clock=clock,
    )


def calendar_for(policy: DistrictPolicy) -> WorkingCalendar:
    return policy.working_calendar()
