"""Webhook security on a running notify (both store adapters): destinations are checked
against SSRF at registration and again at delivery (DNS rebinding), deliveries connect to the
address that was checked, and signing secrets are encrypted at rest, shown once at
registration or rotation."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from coordination.contracts.published import TechnicalSupportRequestedV1
from kernel.auth import Principal, ensure_dev_keys
from kernel.caller import Caller
from kernel.envelope import Envelope, new_envelope
from kernel.errors import Forbidden, ValidationFailed
from kernel.settings import Settings
from kernel.wiring import build_deps
from liandong.gateway import free_port
from notify.adapters import egress
from notify.adapters.secret_box import SecretBox, SecretBoxError, load_secret_box
from notify.application.webhooks import RegisterWebhook, RotateWebhookSecret
from notify.bootstrap import NotifyService, bootstrap
from notify.domain.egress import IPAddress
from notify.domain.webhooks import RetryPolicy
from referral.contracts.published import ComplainantNotifiedV1
from tests.infra import Server

from .test_notify_watch import deliver, eventually, register_agencies
from .test_notify_webhooks import BUREAU, Receiver, sent

pytestmark = pytest.mark.timeout(120)

FAST = RetryPolicy(base=timedelta(milliseconds=50), cap=timedelta(milliseconds=200))
OTHER_BUREAU = Principal("sys-tax", "税务局接口", "fy-tax", "fuyuan", ("bureau_system",))


@pytest.fixture
async def base(
    store_kind: str, request: pytest.FixtureRequest, tmp_path: Path, unique_name: str
) -> AsyncIterator[Settings]:
    common = {"data_dir": tmp_path, "instance": unique_name, "relay_interval_seconds": 0.05}
    if store_kind == "embedded":
        yield Settings(store="embedded", bus="memory", **common)  # type: ignore[arg-type]
        return
    server: Server = request.getfixturevalue("mongo_server")
    s = Settings(store="mongo", bus="memory", mongo_url=server.url, **common)  # type: ignore[arg-type]
    yield s
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(s.mongo_url)
    await client.drop_database(s.database_name("notify"))
    await client.close()


Start = Callable[..., Awaitable[NotifyService]]


@pytest.fixture
async def start(base: Settings) -> AsyncIterator[Start]:
    started: list[NotifyService] = []

    async def _start(**overrides: object) -> NotifyService:
        settings = base.model_copy(update=overrides)
        service = bootstrap(await build_deps(settings, "notify"), webhook_retry=FAST)
        await service.runtime.start()
        started.append(service)
        return service

    yield _start
    for service in started:
        await service.runtime.stop()


INTERNAL = [
    "http://127.0.0.1:8080/hook",
    "http://[::1]/hook",
    "http://localhost/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://10.1.2.3/hook",
    "https://192.168.0.10/hook",
    "http://2130706433/hook",  # 127.0.0.1 written as a number: caught once resolved
]


async def test_registration_refuses_internal_destinations_and_stores_nothing(
    start: Start,
) -> None:
    service = await start(webhook_allow_loopback=False)
    for url in INTERNAL:
        with pytest.raises(ValidationFailed) as refused:
            await service.webhooks.register(RegisterWebhook(url), Caller(BUREAU))
        assert refused.value.field == "url", url
        message = refused.value.message
        assert "not allowed" in message or "resolve" in message, (url, message)
    assert await service.webhooks.repo.subscriptions_of(None) == []


async def test_unresolvable_host_is_refused_with_a_clear_error(start: Start) -> None:
    service = await start()
    with pytest.raises(ValidationFailed, match="cannot be resolved") as refused:
        await service.webhooks.register(
            RegisterWebhook("http://no-such-host.invalid/hook"), Caller(BUREAU)
        )
    assert refused.value.field == "url"


async def test_district_allowlist_lets_a_named_private_host_through(start: Start) -> None:
    service = await start(webhook_allow_loopback=False, webhook_allowed_hosts=["127.0.0.1"])
    receiver = Receiver(free_port())
    await receiver.start()
    try:
        _, receiver.secret = await service.webhooks.register(
            RegisterWebhook(receiver.url), Caller(BUREAU)
        )
        event = sent("r-allow", "fy-hancong")
        await deliver(service, event)

        async def received() -> bool:
            return event.id in receiver.received

        await eventually(received, "the delivery to the allowed host")
    finally:
        await receiver.stop()


async def test_dns_rebinding_after_registration_is_refused_at_delivery(
    start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name resolved to a public address when registered; by the delivery it points at
    loopback (where notify's own database listens): nothing is sent, the attempt fails."""
    service = await start(webhook_allow_loopback=False)
    receiver = Receiver(free_port())
    await receiver.start()
    answers: dict[str, list[IPAddress]] = {
        "rebind.example": [ipaddress.ip_address("93.184.216.34")]
    }
    real = egress.resolve

    async def fake_dns(host: str, port: int) -> list[IPAddress]:
        return answers[host] if host in answers else await real(host, port)

    monkeypatch.setattr(egress, "resolve", fake_dns)
    try:
        url = f"http://rebind.example:{receiver.port}/hook"
        hook, receiver.secret = await service.webhooks.register(
            RegisterWebhook(url), Caller(BUREAU)
        )
        answers["rebind.example"] = [ipaddress.ip_address("127.0.0.1")]
        await deliver(service, sent("r-rebind", "fy-hancong"))
        repo = service.webhooks.repo

        async def refused() -> list[object]:
            rows = await repo.list_deliveries(hook["_id"], state=None, after=None, limit=10)
            return [r for r in rows if "refused" in str(r.get("last_error"))]

        [row] = await eventually(refused, "a refused attempt")
        assert "loopback" in str(row["last_error"])  # type: ignore[index]
        assert receiver.received == [] and receiver.bad_signatures == 0
    finally:
        await receiver.stop()


async def test_delivery_connects_to_the_checked_address_not_a_new_lookup(
    start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``receiver.test`` exists only in notify's checked answer (the system resolver does not
    know it): the POST arrives, so it went to the checked address, with the name as Host."""
    service = await start()  # development: loopback allowed
    receiver = Receiver(free_port())
    await receiver.start()
    real = egress.resolve

    async def fake_dns(host: str, port: int) -> list[IPAddress]:
        if host == "receiver.test":
            return [ipaddress.ip_address("127.0.0.1")]
        return await real(host, port)

    monkeypatch.setattr(egress, "resolve", fake_dns)
    try:
        url = f"http://receiver.test:{receiver.port}/hook"
        _, receiver.secret = await service.webhooks.register(RegisterWebhook(url), Caller(BUREAU))
        event = sent("r-pinned", "fy-hancong")
        await deliver(service, event)

        async def received() -> bool:
            return event.id in receiver.received

        await eventually(received, "the delivery through the pinned address")
        assert receiver.bad_signatures == 0
    finally:
        await receiver.stop()


async def test_secret_encrypted_at_rest_shown_once_and_rotated(start: Start) -> None:
    service = await start()
    receiver = Receiver(free_port())
    await receiver.start()
    try:
        hook, secret = await service.webhooks.register(
            RegisterWebhook(receiver.url), Caller(BUREAU)
        )
        stored = await service.webhooks.repo.subscription(hook["_id"])
        assert stored is not None
        assert "secret" not in stored and secret not in str(stored)
        assert service.webhooks.secrets.open(stored["secret_sealed"]) == secret
        # Another key (a stolen dump opened elsewhere) cannot read it.
        with pytest.raises(SecretBoxError):
            SecretBox([Fernet.generate_key()]).open(stored["secret_sealed"])

        receiver.secret = secret
        first = sent("r-s1", "fy-hancong")
        await deliver(service, first)

        async def got(event_id: str) -> bool:
            return event_id in receiver.received

        await eventually(lambda: got(first.id), "the delivery signed with the first secret")

        # Only the owning bureau system rotates; nothing changes otherwise.
        with pytest.raises(Forbidden):
            await service.webhooks.rotate_secret(
                RotateWebhookSecret(hook["_id"]), Caller(OTHER_BUREAU)
            )
        assert await service.webhooks.repo.subscription(hook["_id"]) == stored
        rotated, new_secret = await service.webhooks.rotate_secret(
            RotateWebhookSecret(hook["_id"]), Caller(BUREAU)
        )
        assert new_secret != secret and "secret" not in rotated
        assert new_secret not in str(rotated)

        # The receiver still checks with the old secret: refused (401) until it learns the
        # new one, then the same delivery goes through.
        second = sent("r-s2", "fy-hancong")
        await deliver(service, second)

        async def rejected() -> bool:
            return receiver.bad_signatures > 0

        await eventually(rejected, "a delivery signed with the new secret")
        receiver.secret = new_secret
        await eventually(lambda: got(second.id), "the delivery accepted with the new secret")
    finally:
        await receiver.stop()


async def test_legacy_plaintext_secret_still_signs_and_is_sealed_on_rotation(
    start: Start,
) -> None:
    service = await start()
    hook, _ = await service.webhooks.register(
        RegisterWebhook("http://127.0.0.1:9/hook"), Caller(BUREAU)
    )
    repo = service.webhooks.repo
    await repo.subscriptions.update_one(
        {"_id": hook["_id"]}, {"$set": {"secret": "old-plain"}, "$unset": {"secret_sealed": ""}}
    )
    legacy = await repo.subscription(hook["_id"])
    assert legacy is not None and service.webhooks.signing_secret(legacy) == "old-plain"
    rotated, new_secret = await service.webhooks.rotate_secret(
        RotateWebhookSecret(hook["_id"]), Caller(BUREAU)
    )
    assert "secret" not in rotated
    assert service.webhooks.signing_secret(rotated) == new_secret


def test_key_file_required_in_production_and_generated_once_elsewhere(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="LIANDONG_WEBHOOK_SECRET_KEY_FILE"):
        load_secret_box(Settings(env="production", data_dir=tmp_path))
    first = load_secret_box(Settings(data_dir=tmp_path))
    sealed = first.seal("s3cret")
    # A second process on the same data directory gets the same key.
    assert load_secret_box(Settings(data_dir=tmp_path)).open(sealed) == "s3cret"
    key = tmp_path / "webhook-secrets.key"
    assert key.stat().st_mode & 0o777 == 0o600

    # Rotation of the key itself: a new key first, the old one after, still opens.
    rotated = tmp_path / "rotated.key"
    rotated.write_text(Fernet.generate_key().decode() + "\n" + key.read_text())
    box = load_secret_box(Settings(env="production", webhook_secret_key_file=rotated))
    assert box.open(sealed) == "s3cret"
    resealed = box.rotate(sealed)
    assert box.open(resealed) == "s3cret"
    with pytest.raises(SecretBoxError):
        SecretBox.from_file(key).open(resealed)
    bad = tmp_path / "bad.key"
    bad.write_text("not-a-key\n")
    with pytest.raises(ValueError, match="not a Fernet key"):
        load_secret_box(Settings(webhook_secret_key_file=bad))


async def test_production_notify_does_not_start_without_a_key(tmp_path: Path) -> None:
    settings = Settings(
        env="production",
        data_dir=tmp_path,
        store="embedded",
        bus="memory",
        jwt_jwks_file=ensure_dev_keys(tmp_path).jwks_file,
    )
    deps = await build_deps(settings, "notify")
    try:
        with pytest.raises(ValueError, match="LIANDONG_WEBHOOK_SECRET_KEY_FILE"):
            bootstrap(deps)
    finally:
        await deps.store.close()


POLICE_SYSTEM = Principal("sys-police", "公安局接口", "fy-police", "fuyuan", ("bureau_system",))
JUSTICE_SYSTEM = Principal("sys-justice", "司法局接口", "fy-justice", "fuyuan", ("bureau_system",))


def _technical_request() -> Envelope:
    return new_envelope(
        TechnicalSupportRequestedV1(
            request_id="ts-9",
            township_id="fy-hancong",
            department_id="fy-market",
            kind="identification",
            question="涉案食品是否过期",
            document_number="寒政函〔2026〕9号",
            urgent=False,
            evidence_at_risk=False,
            requested_at=datetime.now(UTC),
            actor_id="p-li",
            actor_agency_id="fy-hancong",
        ),
        district="fuyuan",
        service="coordination",
        subject="ts-9",
    )


def _complainant_told() -> Envelope:
    return new_envelope(
        ComplainantNotifiedV1(
            complaint_id="c-9",
            owner_agency_id="fy-hancong",
            actor_id="p-li",
            actor_agency_id="fy-hancong",
            state_after="answered",
            at=datetime.now(UTC),
            kind="answer",
            text="经核查，未发现违法行为。",
            contact="13800000000",
        ),
        district="fuyuan",
        service="referral",
        subject="c-9",
    )


async def test_issue_16_a_bureau_receives_only_what_its_agency_may_read(start: Start) -> None:
    """Finding 2 (HIGH): a bureau_system webhook with no filter received every event of the
    district, complainants' phone numbers included. Now the fan-out asks the matrix
    (notify.webhookEvent): the township named in the events receives them, the justice bureau
    supervises and receives them, the police (named in neither) receives nothing; a
    complainant's contact never leaves."""
    service = await start()
    await register_agencies(service)  # fy-justice is the district's justice bureau
    receivers = {
        who.agency_id: Receiver(free_port()) for who in (BUREAU, POLICE_SYSTEM, JUSTICE_SYSTEM)
    }
    for r in receivers.values():
        await r.start()
    try:
        for who in (BUREAU, POLICE_SYSTEM, JUSTICE_SYSTEM):
            _, receivers[who.agency_id].secret = await service.webhooks.register(
                RegisterWebhook(receivers[who.agency_id].url), Caller(who)
            )
        events = [_technical_request(), _complainant_told()]
        for e in events:
            await deliver(service, e)
        ids = {e.id for e in events}

        async def delivered() -> bool:
            return all(ids <= set(receivers[a].received) for a in ("fy-hancong", "fy-justice"))

        await eventually(delivered, "the party's and the supervisor's deliveries")
        for agency in ("fy-hancong", "fy-justice"):
            told = receivers[agency].bodies[events[1].id]["data"]
            assert told["contact"] == "[已隐去]" and "13800000000" not in str(told), agency
            assert told["text"] == "经核查，未发现违法行为。"
        # The police's system got nothing: no delivery was even queued for it.
        rows = await service.webhooks.repo.list_deliveries(
            (await _hook_of(service, "fy-police")), state=None, after=None, limit=10
        )
        assert rows == [] and receivers["fy-police"].received == []
    finally:
        for r in receivers.values():
            await r.stop()


async def _hook_of(service: NotifyService, agency: str) -> str:
    [hook] = [
        h
        for h in await service.webhooks.repo.active_subscriptions()
        if h["owner_agency_id"] == agency
    ]
    return str(hook["_id"])
