"""R-GRD-01 (转为移送): a dispatch the township's platform turned into a referral is drafted by
the referral service in the township's name, once per dispatch however often the event is
delivered, with the dispatch linked and its photos referenced; the clerk completes the matter
before submitting, and R-REF-02's checks still apply. On both stores (``store``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from coordination.contracts.dispatch import DispatchReferredV1
from kernel.caller import Caller
from kernel.envelope import Envelope, new_envelope
from kernel.errors import Forbidden, ValidationFailed
from kernel.policy import load_policy
from kernel.store import DocumentStore
from referral.adapters.repository import ReferralFilter
from referral.application.commands import CompleteReferralDraft, SubmitReferral
from referral.application.reactions import referral_id_of_dispatch
from referral.domain.model import Status
from tests.integration.referral.test_referral_service import (
    DISTRICT,
    FOUND,
    LETTER_PDF,
    MARKET_CLERK,
    MATTER,
    PHOTO_JPEG,
    TOWN_CLERK,
    Service,
)


@pytest.fixture
async def svc(store: DocumentStore, tmp_path: Path) -> AsyncIterator[Service]:
    yield await Service(store, load_policy(DISTRICT), tmp_path / "keys").setup()


def referred(dispatch_id: str = "d-3", **over: object) -> Envelope:
    """The event as coordination publishes it (its own contract class)."""
    fields: dict[str, object] = {
        "dispatch_id": dispatch_id,
        "platform_id": "fy-hancong",
        "area": "中心街第3网格",
        "what": "无照经营",
        "place": "寒葱沟镇中心街8号",
        "actor_id": "fy-hancong-clerk",
        "actor_agency_id": "fy-hancong",
        "state_before": "reported",
        "state_after": "referred",
        "receiver_id": "fy-market",
        "reason": "无照经营属市场监管部门职责",
        "found_at": FOUND,
        "reporter_id": "grid-7",
        "photo_ids": ["photo-1", "photo-2"],
    }
    fields.update(over)
    payload = DispatchReferredV1.model_validate(fields)
    return new_envelope(payload, district=DISTRICT, service="coordination", subject=dispatch_id)


async def test_R_GRD_01_a_referred_dispatch_is_drafted_once_as_the_townships_referral(
    svc: Service,
) -> None:
    envelope = referred()
    await svc.h.reactions.when_dispatch_referred_draft_referral(envelope)
    await svc.h.reactions.when_dispatch_referred_draft_referral(envelope)  # redelivered
    # A second delivery under a new envelope (a republished event) finds the same referral.
    await svc.h.reactions.when_dispatch_referred_draft_referral(referred())
    drafts = await svc.referrals.search(ReferralFilter(sender_id="fy-hancong"), limit=10)
    assert [r.id for r in drafts] == [referral_id_of_dispatch("d-3")]
    (r,) = drafts
    assert r.status is Status.DRAFT and r.sender_id == "fy-hancong"
    assert r.receiver_id == "fy-market" and r.township_id == "fy-hancong"
    assert r.dispatch_id == "d-3" and r.dispatch_photo_ids == ("photo-1", "photo-2")
    assert r.title == "无照经营" and r.place == "寒葱沟镇中心街8号" and r.found_at == FOUND
    assert "无照经营" in r.facts and "市场监管部门职责" in r.facts
    assert r.matter_code == "" and r.party == "" and r.materials == ()
    send = r.clock("send")
    assert send is not None and send.state == "open" and send.responsible_agency_id == "fy-hancong"
    # One event for the link back and the township's notice; the system acted, not the
    # township (notify addresses the township).
    (event,) = await svc.events(r.id)
    assert event["type"] == "referral.drafted_from_dispatch.v1"
    data = event["data"]
    assert data["dispatch_id"] == "d-3" and data["referral_id"] == r.id
    assert data["sender_id"] == "fy-hancong" and data["actor_agency_id"] == ""
    assert data["photo_ids"] == ["photo-1", "photo-2"]


async def test_R_GRD_01_the_clerk_names_the_matter_and_R_REF_02_still_applies(
    svc: Service,
) -> None:
    await svc.h.reactions.when_dispatch_referred_draft_referral(referred("d-9"))
    rid = referral_id_of_dispatch("d-9")
    # No matter yet: submit names the missing field and changes nothing.
    before = await svc.raw(rid)
    with pytest.raises(ValidationFailed) as e:
        await svc.h.referrals.submit(SubmitReferral(rid), Caller(TOWN_CLERK))
    assert e.value.field == "matterCode" and e.value.code == "REQUIRED"
    assert await svc.raw(rid) == before
    # The clerk names the matter and the party (completeReferralDraft). The catalogue names
    # the township itself for this matter (delegated), so the market bureau needs a stated
    # reason (R-CAT-02); without one nothing changes.
    with pytest.raises(ValidationFailed) as e:
        await svc.h.referrals.complete_draft(
            CompleteReferralDraft(rid, MATTER, "某某食杂店"), Caller(TOWN_CLERK)
        )
    assert e.value.field == "receiverId"
    with pytest.raises(ValidationFailed) as e:
        await svc.h.referrals.complete_draft(
            CompleteReferralDraft(rid, " ", "某某食杂店"), Caller(TOWN_CLERK)
        )
    assert e.value.field == "matterCode" and e.value.code == "REQUIRED"
    with pytest.raises(Forbidden):
        await svc.h.referrals.complete_draft(
            CompleteReferralDraft(rid, MATTER, "x", "y"), Caller(MARKET_CLERK)
        )
    assert await svc.raw(rid) == before
    r = await svc.h.referrals.complete_draft(
        CompleteReferralDraft(rid, MATTER, "某某食杂店", "涉及吊销许可，由部门办理"),
        Caller(TOWN_CLERK),
    )
    assert r.matter_code == MATTER and r.party == "某某食杂店" and r.dispatch_id == "d-9"
    assert (await svc.event_types(rid))[-1] == "referral.draft_completed.v1"
    # Without the letter and a stored source, R-REF-02 refuses: the dispatch's photo
    # references are not source material that is sent.
    with pytest.raises(ValidationFailed) as e:
        await svc.h.referrals.submit(SubmitReferral(rid), Caller(TOWN_CLERK))
    assert e.value.field == "materials"
    await svc.upload(rid, "transfer_letter", "移送函.pdf", LETTER_PDF, TOWN_CLERK)
    await svc.upload(rid, "source", "现场照片.jpg", PHOTO_JPEG, TOWN_CLERK)
    r = await svc.h.referrals.submit(SubmitReferral(rid), Caller(TOWN_CLERK))
    assert r.status is Status.PENDING_APPROVAL


async def test_R_GRD_01_a_discovery_just_inside_now_drafts_just_outside_refuses(
    svc: Service,
) -> None:
    """The draft's own checks hold: a discovery time after now is refused (nothing stored)."""
    await svc.h.reactions.when_dispatch_referred_draft_referral(
        referred("d-now", found_at=svc.clock.now)
    )
    assert await svc.referrals.get(referral_id_of_dispatch("d-now")) is not None
    with pytest.raises(ValidationFailed) as e:
        await svc.h.reactions.when_dispatch_referred_draft_referral(
            referred("d-late", found_at=svc.clock.now + timedelta(seconds=1))
        )
    assert e.value.field == "foundAt"
    assert await svc.referrals.get(referral_id_of_dispatch("d-late")) is None
