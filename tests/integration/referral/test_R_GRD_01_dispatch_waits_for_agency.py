"""R-GRD-01 (转为移送) on the real RabbitMQ: a dispatch referred to a department the referral
service's agency directory does not know yet is not refused and dead-lettered (as it was,
with no retry once the agency registered); it waits, parked, and is drafted as the
township's referral when ``agency.registered.v1`` for that department arrives — once,
however often either event is delivered (idempotent), and no message is lost (nothing in
the dead-letter queue)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from coordination.contracts.dispatch import DispatchReferredV1
from coordination.contracts.published import AgencyRegisteredV1
from kernel.adapters.rabbit_bus import RabbitBus
from kernel.envelope import Envelope, new_envelope
from kernel.wiring import build_deps
from referral.adapters.repository import ReferralFilter
from referral.application.queries import ReferralQueries
from referral.application.reactions import referral_id_of_dispatch
from referral.bootstrap import bootstrap as referral_bootstrap
from tests.e2e.scenario import eventually
from tests.infra import Server
from tests.integration.kernel.test_district_isolation import on_rabbitmq

DISTRICT = "fuyuan"


def registered(agency_id: str, kind: str, version: int = 1) -> Envelope:
    payload = AgencyRegisteredV1(
        agency_id=agency_id,
        name=f"{agency_id} 名称",
        kind=kind,
        district=DISTRICT,
        version=version,
    )
    return new_envelope(payload, district=DISTRICT, service="coordination")


def referred(dispatch_id: str, receiver_id: str) -> Envelope:
    payload = DispatchReferredV1.model_validate(
        {
            "dispatch_id": dispatch_id,
            "platform_id": "fy-newtown",
            "area": "中心街第3网格",
            "what": "无照经营",
            "place": "新镇中心街8号",
            "actor_id": "fy-newtown-clerk",
            "actor_agency_id": "fy-newtown",
            "state_before": "reported",
            "state_after": "referred",
            "receiver_id": receiver_id,
            "reason": "无照经营属市场监管部门职责",
            "found_at": datetime.now(UTC) - timedelta(hours=2),
            "reporter_id": "grid-7",
            "photo_ids": ["photo-1"],
        }
    )
    return new_envelope(payload, district=DISTRICT, service="coordination", subject=dispatch_id)


async def test_R_GRD_01_a_dispatch_to_an_unregistered_agency_waits_and_is_drafted_on_registration(
    rabbitmq_server: Server, tmp_path: Path, unique_name: str
) -> None:
    # Before the fix the draft was refused on each of 2 deliveries, then dead-lettered.
    settings = on_rabbitmq(rabbitmq_server, tmp_path, unique_name, max_deliveries=2)
    service = referral_bootstrap(await build_deps(settings, "referral"))
    await service.runtime.start()
    queue = settings.queue_name("referral")
    ports = service.handlers.ports
    waiting = ports.waiting_port
    assert waiting is not None
    probe = RabbitBus(rabbitmq_server.url, exchange=unique_name)
    dead: list[Any] = []

    async def drafts() -> list[str]:
        found = await service.referrals.search(ReferralFilter(sender_id="fy-newtown"), limit=10)
        return [r.id for r in found]

    try:
        await probe.publish([registered("fy-newtown", "township")])

        async def township_known() -> bool:
            return await ports.agencies.get("fy-newtown") is not None

        await eventually(township_known, what="the township in the directory")

        # The dispatch names a department not registered yet: it waits (twice delivered).
        dispatch = referred("d-wait", "fy-newdept")
        await probe.publish([dispatch])
        await probe.publish([dispatch])

        async def parked() -> bool:
            return await waiting.get("d-wait") is not None

        await eventually(parked, what="the dispatch parked")
        await asyncio.sleep(1.0)  # room for redeliveries, were it refused
        assert await drafts() == []
        dead.extend(await probe.dead_letters(queue))
        assert dead == [], [d.reason for d in dead]
        assert [e.id for e in await waiting.waiting_for("fy-newdept")] == [dispatch.id]
        # The stall check lists it meanwhile (no referral yet, so no clock; issue 14).
        queries = ReferralQueries(service.referrals, service.complaints, service.waiting)
        [stalled] = [s for s in await queries.stalls(None) if s.subject_type == "Dispatch"]
        assert (stalled.subject_id, stalled.status) == ("d-wait", "waiting_for_agency")
        assert stalled.agency_ids == ("fy-newdept", "fy-newtown") and "fy-newdept" in stalled.reason

        # The department registers: the dispatch is drafted as the township's referral.
        await probe.publish([registered("fy-newdept", "department")])
        rid = referral_id_of_dispatch("d-wait")

        async def drafted() -> bool:
            return await drafts() == [rid] and await waiting.get("d-wait") is None

        await eventually(drafted, what="the referral drafted once the department registered")
        r = await ports.referrals.get(rid)
        assert r is not None and (r.sender_id, r.receiver_id) == ("fy-newtown", "fy-newdept")
        assert r.dispatch_id == "d-wait" and r.dispatch_photo_ids == ("photo-1",)
        assert [s for s in await queries.stalls(None) if s.subject_type == "Dispatch"] == []

        # Idempotent: the dispatch and the registration delivered again draft nothing new.
        await probe.publish([dispatch, registered("fy-newdept", "department", version=2)])

        async def version_2() -> bool:
            return await ports.agencies.get("fy-newdept") is not None and (
                await waiting.get("d-wait") is None
            )

        await eventually(version_2, what="the second registration handled")
        await asyncio.sleep(1.0)
        assert await drafts() == [rid]
        dead.extend(await probe.dead_letters(queue))
        assert dead == [], [d.reason for d in dead]
    finally:
        await probe.close()
        await service.runtime.stop()
