"""R-GRD-01 (转为移送) with R-REF-07's stall check: a referred dispatch parked until both its
agencies register is drafted once and released, even when the two registrations are handled
at once (the consumer runs up to ``consumer_prefetch`` messages concurrently).

The first registration found the other agency still unknown and parked the dispatch again
(an upsert of its ``waiting_for``); when the second registration drafted the referral and
released the dispatch in between, that late park created the parked record anew: the stall
check then listed a drafted dispatch as "referred to an agency not registered yet" (an agency
that is registered), for ever. Re-parking now only updates a dispatch still parked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from coordination.contracts.published import AgencyRegisteredV1
from kernel.envelope import Envelope, new_envelope
from kernel.policy import load_policy
from kernel.store import DocumentStore
from referral.adapters.repository import ReferralFilter, WaitingDispatches
from referral.application.queries import ReferralQueries
from referral.application.reactions import referral_id_of_dispatch
from tests.integration.referral.test_R_GRD_01_dispatch_referral import referred
from tests.integration.referral.test_referral_service import DISTRICT, Service

TOWNSHIP, DEPARTMENT = "fy-newtown", "fy-newdept"


class HeldPark(WaitingDispatches):
    """The parked dispatches, whose next re-park is held until released: a registration that
    found the other agency unknown and has not written that yet."""

    def __init__(self, store: DocumentStore) -> None:
        super().__init__(store)
        self.armed = False
        self.reached = asyncio.Event()
        self.release = asyncio.Event()

    async def _held(self) -> None:
        if self.armed:
            self.armed = False
            self.reached.set()
            await self.release.wait()

    async def park(self, dispatch_id: str, envelope: Envelope, waiting_for: list[str]) -> None:
        await self._held()
        await super().park(dispatch_id, envelope, waiting_for)

    async def still_waiting(self, dispatch_id: str, waiting_for: list[str]) -> None:
        await self._held()
        await super().still_waiting(dispatch_id, waiting_for)


def registered(agency_id: str, kind: str) -> Envelope:
    payload = AgencyRegisteredV1(
        agency_id=agency_id, name=f"{agency_id} 名称", kind=kind, district=DISTRICT, version=1
    )
    return new_envelope(payload, district=DISTRICT, service="coordination")


@pytest.fixture
async def svc(store: DocumentStore, tmp_path: Path) -> AsyncIterator[Service]:
    service = await Service(store, load_policy(DISTRICT), tmp_path / "keys").setup()
    service.h.ports.waiting_port = HeldPark(store)
    yield service


async def test_R_GRD_01_two_registrations_at_once_leave_no_drafted_dispatch_parked(
    svc: Service,
) -> None:
    reactions = svc.h.reactions
    waiting: Any = svc.h.ports.waiting_port
    dispatch = referred("d-9", platform_id=TOWNSHIP, receiver_id=DEPARTMENT)
    await reactions.when_dispatch_referred_draft_referral(dispatch)
    assert [e.id for e in await waiting.waiting_for(DEPARTMENT)] == [dispatch.id]

    waiting.armed = True
    township = asyncio.create_task(
        reactions.when_agency_registered_update_directory(registered(TOWNSHIP, "township"))
    )
    await asyncio.wait_for(waiting.reached.wait(), 10)  # the department is unknown to it
    await reactions.when_agency_registered_update_directory(registered(DEPARTMENT, "department"))
    waiting.release.set()
    await asyncio.wait_for(township, 10)

    drafts = await svc.referrals.search(ReferralFilter(sender_id=TOWNSHIP), limit=10)
    assert [r.id for r in drafts] == [referral_id_of_dispatch("d-9")]
    assert await waiting.get("d-9") is None
    queries = ReferralQueries(svc.referrals, svc.complaints, waiting)
    assert [s for s in await queries.stalls(None) if s.subject_type == "Dispatch"] == []


async def test_R_GRD_01_a_dispatch_still_missing_an_agency_stays_parked_for_it(
    svc: Service,
) -> None:
    """Just inside: the first of two registrations leaves the dispatch parked, now waiting
    for the other agency only, and the stall check names that one."""
    reactions = svc.h.reactions
    waiting: Any = svc.h.ports.waiting_port
    dispatch = referred("d-10", platform_id=TOWNSHIP, receiver_id=DEPARTMENT)
    await reactions.when_dispatch_referred_draft_referral(dispatch)
    await reactions.when_agency_registered_update_directory(registered(TOWNSHIP, "township"))
    assert [e.id for e in await waiting.waiting_for(DEPARTMENT)] == [dispatch.id]
    assert await waiting.waiting_for(TOWNSHIP) == []
    queries = ReferralQueries(svc.referrals, svc.complaints, waiting)
    [stalled] = [s for s in await queries.stalls(None) if s.subject_type == "Dispatch"]
    assert stalled.subject_id == "d-10" and stalled.reason.endswith(DEPARTMENT)
