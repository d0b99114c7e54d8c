"""Referral aggregate rules that the thin slice already enforces (pure domain, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kernel.errors import Forbidden, InvalidState, ValidationFailed
from referral.domain.model import Actor, AgencyRef, DeadlineInfo, Status, draft_referral

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
MARKET = AgencyRef("fy-market", "抚远市市场监督管理局", "department", False)
BRIGADE = AgencyRef("fy-market-brigade", "抚远市市场监督管理局执法大队", "department", True)
TOWN = AgencyRef("fy-hancong", "寒葱沟镇人民政府", "township", False)
CENTER = AgencyRef("fy-hancong-center", "寒葱沟镇综合行政执法中心", "township", True)
CLERK = Actor("p1", "李春梅", "fy-market", ("clerk",))
LEADER = Actor("p2", "局长", "fy-market", ("leader",))


def draft(
    sender: AgencyRef | None = MARKET, receiver: AgencyRef | None = TOWN, actor: Actor = CLERK
):
    return draft_referral(
        referral_id="r1",
        sender=sender,
        receiver=receiver,
        sender_id=sender.id if sender else "nobody",
        receiver_id=receiver.id if receiver else "nobody",
        matter_code="330217001",
        title="无证经营",
        facts="未取得营业执照从事经营",
        party="某店",
        place="中心街12号",
        found_at=NOW - timedelta(days=1),
        urgent=False,
        actor=actor,
        at=NOW,
    )


def test_R_AG_02_internal_unit_cannot_send() -> None:
    with pytest.raises(ValidationFailed) as err:
        draft(sender=BRIGADE, actor=Actor("p", "x", BRIGADE.id, ("clerk",)))
    assert err.value.field == "senderId" and "internal unit" in err.value.message


def test_R_AG_02_internal_unit_cannot_receive() -> None:
    with pytest.raises(ValidationFailed) as err:
        draft(receiver=CENTER)
    assert err.value.field == "receiverId"


def test_R_REF_01_referral_goes_to_another_registered_agency() -> None:
    with pytest.raises(ValidationFailed) as err:
        draft(receiver=None)
    assert err.value.field == "receiverId" and "not registered" in err.value.message
    with pytest.raises(ValidationFailed):
        draft(receiver=MARKET)
    ok = draft()
    assert ok.status is Status.DRAFT and ok.history[0].after is Status.DRAFT


def test_R_REF_03_leader_of_sender_approves_before_sending() -> None:
    r = draft()
    with pytest.raises(InvalidState):
        r.send(CLERK, NOW, None)
    r = r.submit_for_approval(CLERK, NOW)
    with pytest.raises(Forbidden):
        r.approve(CLERK, NOW)  # a clerk is not a leader
    with pytest.raises(Forbidden):
        r.approve(Actor("p3", "镇长", TOWN.id, ("leader",)), NOW)  # leader of another agency
    r = r.approve(LEADER, NOW)
    deadline = DeadlineInfo("accept", NOW + timedelta(days=7), {})
    sent = r.send(CLERK, NOW, deadline)
    assert sent.status is Status.SENT and sent.accept_deadline == deadline
    assert [t.action for t in sent.history] == ["draft", "submit", "approve", "send"]
    assert [(t.before, t.after) for t in sent.history][1:] == [
        (Status.DRAFT, Status.PENDING_APPROVAL),
        (Status.PENDING_APPROVAL, Status.APPROVED),
        (Status.APPROVED, Status.SENT),
    ]


def test_only_sender_staff_draft() -> None:
    with pytest.raises(Forbidden):
        draft(actor=Actor("p", "x", TOWN.id, ("clerk",)))
