"""The database at fault, through the real referral service: its SecantusDB restarted in the
middle of GraphQL mutations, and concurrent accept and decline of the same referral."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from kernel.adapters.memory_bus import MemoryBus
from kernel.adapters.mongo_store import open_mongo_store
from kernel.auth import TokenIssuer, ensure_dev_keys, service_principal
from kernel.bus import SubscriptionSpec
from kernel.caller import Caller
from kernel.clock import system_clock
from kernel.envelope import Envelope
from kernel.errors import Conflict, DomainError, InvalidState
from kernel.gateway_signature import signed_extensions
from kernel.policy import load_policy
from kernel.settings import Settings
from kernel.signing import SigningKeys
from kernel.wiring import build_deps
from liandong.cli import mint_token
from referral.adapters.repository import AgencyDirectory, CatalogueReadModel
from referral.application.commands import AcceptReferral
from referral.bootstrap import bootstrap
from tests.e2e.scenario import DRAFT, STEP, draft_input
from tests.fault.conftest import PrivateSecantus, drop_database, eventually
from tests.infra import Server
from tests.integration.referral.test_referral_service import (
    MATTER,
    TOWN_CLERK,
    Service,
    seed_directory,
)
from tests.integration.referral.test_referral_service import decline as town_declines

CLIENTS = 4
GATEWAY_SECRET = "fault-test-gateway-secret"


async def _seed(store: Any) -> None:
    await seed_directory(AgencyDirectory(store), CatalogueReadModel(store))


def _errors_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(body.get("errors") or [])


@pytest.mark.timeout(240)
async def test_database_restart_mid_writes_clean_errors_and_consistent_aggregates(
    private_secantus: PrivateSecantus, tmp_path: Path, unique_name: str
) -> None:
    # Production settings: errors are masked there, and that is what clients would see.
    keys = ensure_dev_keys(tmp_path)
    # Production boots only with the referral service's own token (kernel.service_identity).
    service_token = tmp_path / "referral-service-token"
    service_token.write_text(
        TokenIssuer(
            keys.private_key_file.read_bytes(), kid=keys.kid, issuer="liandong", audience="liandong"
        ).issue(service_principal("referral", "fuyuan"))
    )
    settings = Settings(
        data_dir=tmp_path,
        store="mongo",
        mongo_url=private_secantus.url,
        bus="memory",
        instance=unique_name,
        district="fuyuan",
        env="production",
        jwt_jwks_file=keys.jwks_file,
        jwt_private_key_file=keys.private_key_file,
        gateway_hmac_secret=GATEWAY_SECRET,
        # Production signs letters only with keys the deployment provides (kernel.signing).
        letter_signing_keys_dir=tmp_path / "letter-keys",
        service_token_file=service_token,
    )
    SigningKeys(tmp_path / "letter-keys", generate_missing=True).private_key("fy-market")
    bus = MemoryBus()
    await bus.start()
    published: dict[str, Envelope] = {}

    async def record(env: Envelope) -> None:
        published[env.id] = env  # at least once: keyed by id

    await bus.subscribe(SubscriptionSpec("recorder", ["fuyuan.#"], record))
    deps = await build_deps(settings, "referral", bus=bus)
    service = bootstrap(deps)
    await service.runtime.start()
    await _seed(deps.store)
    app = service.create_app(manage_lifecycle=False)
    clerk = mint_token(settings, "fy-market", ["clerk"])
    leader = mint_token(settings, "fy-market", ["leader"])
    outcomes: Counter[str] = Counter()
    bad_errors: list[Any] = []
    last_errors: list[Any] = []
    finished: list[str] = []
    stop = asyncio.Event()
    started = time.monotonic()

    async def call(client: httpx.AsyncClient, token: str, query: str, variables: Any) -> Any:
        """One mutation; returns the payload on success, None on a (checked) failure."""
        try:
            response = await client.post(
                "/graphql",
                # Signed as the gateway signs what it forwards (production refuses the rest).
                json={
                    "query": query,
                    "variables": variables,
                    "extensions": signed_extensions(GATEWAY_SECRET, query, variables),
                },
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
        except httpx.HTTPError as exc:
            bad_errors.append(f"transport: {exc!r}")
            return None
        text = response.text
        if response.status_code >= 500 or "Traceback" in text or 'File "' in text:
            bad_errors.append(f"{response.status_code}: {text[:500]}")
            return None
        body = response.json()
        errors = _errors_of(body)
        if errors:
            for error in errors:
                code = (error.get("extensions") or {}).get("code")
                outcomes[f"error {code}"] += 1
                if not code:
                    bad_errors.append(error)
            return None
        (result,) = body["data"].values()
        if result["__typename"] == "UserError":
            last_errors.append(result)
            outcomes[f"user error {result['code']}"] += 1
            return None
        outcomes["ok"] += 1
        return result

    async def upload(client: httpx.AsyncClient, token: str, rid: str) -> Any:
        """R-REF-02: the source material's file, on the service's own route."""
        try:
            response = await client.post(
                f"/referrals/{rid}/materials",
                headers={"Authorization": f"Bearer {token}"},
                files={"file": ("记录.jpg", b"\xff\xd8\xff\xe0 record", "image/jpeg")},
                data={"kind": "source"},
                timeout=30,
            )
        except httpx.HTTPError as exc:
            bad_errors.append(f"transport: {exc!r}")
            return None
        if response.status_code == 201:
            outcomes["ok"] += 1
            return response.json()
        code = (response.json().get("error") or {}).get("code")
        outcomes[f"upload error {code}"] += 1
        if not code or "Traceback" in response.text:
            bad_errors.append(f"{response.status_code}: {response.text[:500]}")
        return None

    # The matter this test's catalogue delegates to 寒葱沟镇 (see _seed).
    # A production deployment runs on the system clock, and so does this one.
    new_case = draft_input(
        "fy-market", "fy-hancong", "无证经营", now=system_clock, matterCode=MATTER
    )

    async def client_loop(n: int) -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://referral") as client:
            while not stop.is_set():
                draft = await call(client, clerk, DRAFT, {"input": new_case})
                if draft is None:
                    await asyncio.sleep(0.2)
                    continue
                rid = draft["id"]
                steps: list[tuple[str, str, Any]] = [
                    (clerk, STEP % "generateTransferLetter", {"id": rid}),
                    (clerk, UPLOAD, {"id": rid}),
                    (clerk, STEP % "submitReferral", {"id": rid}),
                    (leader, STEP % "approveReferral", {"id": rid}),
                    (clerk, STEP % "sendReferral", {"id": rid}),
                ]
                for token, query, variables in steps:
                    # A failed step abandons this referral: whether it committed before the
                    # answer was lost is exactly what the final check finds out.
                    if query is UPLOAD:
                        done = await upload(client, token, variables["id"])
                    else:
                        done = await call(client, token, query, variables)
                    if done is None:
                        break
                else:
                    finished.append(rid)

    try:
        clients = [asyncio.create_task(client_loop(n)) for n in range(CLIENTS)]

        async def some_done() -> bool:
            return len(finished) >= 3

        try:
            await eventually(some_done, 90, "a few referrals sent before the restart")
        except AssertionError:
            print(f"outcomes {dict(outcomes)}; errors {bad_errors[:3]}; log {last_errors[-3:]}")
            raise
        before = outcomes["ok"]
        # Down longer than the store's 5 s server-selection timeout, so some mutations fail.
        away = await asyncio.to_thread(private_secantus.restart, 7.0)
        after_restart = outcomes["ok"]

        async def recovered() -> bool:
            return outcomes["ok"] >= after_restart + 12

        await eventually(recovered, 90, "mutations succeeding again after the restart")
        stop.set()
        await asyncio.gather(*clients)

        async def relayed() -> bool:
            return await _outbox_empty(deps.store)

        await eventually(relayed, 60, "the outbox drained")
        docs = await deps.store.collection("referrals").find({})
        by_subject: dict[str, list[Envelope]] = {}
        for env in published.values():
            if env.type.startswith("referral."):
                by_subject.setdefault(env.subject or "", []).append(env)
        inconsistent: list[str] = []
        for doc in docs:
            events = sorted(by_subject.pop(doc["_id"], []), key=lambda e: e.time)
            states = [e.data.get("state_after") for e in events]
            # Every committed write carries exactly one event, so the version counts them;
            # the last event names the stored state.
            if len(events) != doc["version"] or (states and states[-1] != doc["status"]):
                inconsistent.append(
                    f"{doc['_id']}: version {doc['version']} status {doc['status']} "
                    f"events {[e.type for e in events]}"
                )
        orphans = sorted(by_subject)  # events of an aggregate that was never stored
        print(
            f"\n[fault] database restarted mid-writes: mutations {sum(outcomes.values())} "
            f"({dict(sorted(outcomes.items()))}), referrals {len(docs)}, fully sent "
            f"{len(finished)}, events {len(published)}, aggregates inconsistent "
            f"{len(inconsistent)}, events without aggregate {len(orphans)}, unclean errors "
            f"{len(bad_errors)}, ok before restart {before}, database away {away:.1f}s, "
            f"{time.monotonic() - started:.1f}s"
        )
        assert not bad_errors, json.dumps(bad_errors[:5], ensure_ascii=False, default=str)
        assert not inconsistent, inconsistent[:5]
        assert not orphans, orphans[:5]
        failures = sum(n for k, n in outcomes.items() if k != "ok")
        assert failures >= 1, "the restart produced no failed mutation; it proved nothing"
    finally:
        stop.set()
        await service.runtime.stop()
        await deps.store.close()
        await bus.close()


async def _outbox_empty(store: Any) -> bool:
    pending: int = await store.collection("referrals").count({"outbox_n": {"$gt": 0}})
    return pending == 0


# The upload step of a client's round (not a GraphQL query).
UPLOAD = "POST /referrals/{id}/materials"


ROUNDS = 6


@pytest.mark.timeout(240)
async def test_concurrent_accept_and_decline_exactly_one_wins(
    mongo_server: Server, unique_name: str
) -> None:
    store = await open_mongo_store(mongo_server.url, unique_name)
    svc = await Service(store, load_policy("fuyuan")).setup()
    started = time.monotonic()
    wins: Counter[str] = Counter()
    losers: Counter[str] = Counter()
    try:
        for n in range(ROUNDS):
            r = await svc.sent()
            accept = svc.h.referrals.accept(
                AcceptReferral(r.id, "经审查，本案属于本镇管辖，决定受理。"), Caller(TOWN_CLERK)
            )
            decline = town_declines(svc, r)
            # Alternate who starts first, so both orders of the race are exercised.
            pair = (accept, decline) if n % 2 == 0 else (decline, accept)
            results = list(await asyncio.gather(*pair, return_exceptions=True))
            if n % 2:
                results.reverse()
            accepted, declined = results
            ok = [x for x in (accepted, declined) if not isinstance(x, BaseException)]
            failed = [x for x in (accepted, declined) if isinstance(x, BaseException)]
            assert len(ok) == 1 and len(failed) == 1, results
            loser = failed[0]
            assert isinstance(loser, Conflict | InvalidState), repr(loser)
            # The broad code (a precise one may refine it, issue 18).
            assert isinstance(loser, DomainError)
            assert loser.stable_code in ("CONFLICT", "INVALID_STATE"), loser
            losers[loser.stable_code] += 1
            raw = await svc.raw(r.id)
            winner = "accepted" if not isinstance(accepted, BaseException) else "declined"
            wins[winner] += 1
            assert raw["status"] == winner
            types = [e["type"] for e in raw["outbox"]]
            assert ("referral.accepted.v1" in types) != ("referral.declined.v1" in types), types
            assert types[-1] == f"referral.{winner}.v1"
        print(
            f"\n[fault] concurrent accept/decline: rounds {ROUNDS}, winners "
            f"{dict(wins)}, losers {dict(losers)}, double wins 0, "
            f"{time.monotonic() - started:.1f}s"
        )
    finally:
        await store.close()
        await drop_database(mongo_server.url, unique_name)
