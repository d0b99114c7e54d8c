"""R-NTF-04 through the notify service: requests, declines and supervision that used to reach
nobody now land in the addressee's inbox once, with the clock it must meet and a receipt
timer. The events are built from the publishing services' own models, so this also checks
that notify reads the real contracts."""

from __future__ import annotations

from datetime import datetime

import pytest

from coordination.contracts.published import (
    AssistanceRequestedV1,
    TechnicalSupportRequestedV1,
)
from kernel.contracts.deadlines import DeadlineV1
from kernel.envelope import Envelope, EventPayload, new_envelope
from referral.contracts.published import (
    ReferralCrimeTransferredV1,
    ReferralDeclinedV1,
    ReferralSentV1,
    ReferralSupervisedV1,
)

from .test_notify_watch import (
    Harness,
    deliver,
    harness,
    items,
    local,
    register_agencies,
)

__all__ = ["harness"]

pytestmark = pytest.mark.timeout(120)

AT = local(2026, 3, 2, 10)


def event(payload: EventPayload, service: str, subject: str, at: datetime = AT) -> Envelope:
    return new_envelope(payload, district="fuyuan", service=service, subject=subject, time=at)


def block(kind: str, subject: tuple[str, str], agency: str, due: datetime) -> DeadlineV1:
    return DeadlineV1(
        key=DeadlineV1.key_for(subject[0], subject[1], kind),
        kind=kind,
        subject_type=subject[0],
        subject_id=subject[1],
        responsible_agency_id=agency,
        due=due,
        state="open",
        rule="区政策",
    )


async def receipt_timers(harness: Harness, service: object) -> set[str]:
    return {
        t["_id"].removeprefix("receipt:")
        for t in await service.timers.all()  # type: ignore[attr-defined]
        if t.get("kind") == "notice.receipt"
    }


async def test_R_NTF_04_R_TEC_01_a_technical_request_reaches_the_department_at_once(
    harness: Harness,
) -> None:
    service = await harness.start(workers=False)
    await register_agencies(service)
    due = local(2026, 3, 5, 23, 59, 59)
    requested = event(
        TechnicalSupportRequestedV1(
            request_id="ts-1",
            township_id="fy-hancong",
            department_id="fy-market",
            kind="identification",
            question="涉案食品是否属于过期食品，请出具认定意见",
            document_number="寒政函〔2026〕3号",
            urgent=False,
            evidence_at_risk=False,
            requested_at=AT,
            actor_id="p-li",
            actor_agency_id="fy-hancong",
            state_after="requested",
            deadlines=[
                block(
                    "technical_support.reply", ("TechnicalSupportRequest", "ts-1"), "fy-market", due
                )
            ],
        ),
        "coordination",
        "ts-1",
    )
    await deliver(service, requested)
    await deliver(service, requested)  # a redelivery adds nothing
    [item] = [i for i in await items(service, "fy-market") if i.subject_id == "ts-1"]
    assert item.kind == "technical_support.requested" and item.due_at == due
    assert item.title == "技术支持请求"
    assert item.body.startswith("寒葱沟镇人民政府：涉案食品是否属于过期食品")
    assert "2026年03月05日 23:59前办理" in item.body
    assert item.receipt_required and item.id in await receipt_timers(harness, service)
    # The township asked: it gets no notice of its own request.
    assert [i for i in await items(service, "fy-hancong") if i.subject_id == "ts-1"] == []


async def test_R_NTF_04_R_AST_01_an_assistance_request_reaches_the_helper(
    harness: Harness,
) -> None:
    service = await harness.start(workers=False)
    await register_agencies(service)
    requested = event(
        AssistanceRequestedV1(
            request_id="as-1",
            requester_id="fy-hancong",
            helper_id="fy-market",
            matters=["提供营业执照登记信息", "派员现场协助"],
            urgent=True,
            requested_at=AT,
            actor_id="p-li",
            actor_agency_id="fy-hancong",
            state_after="requested",
            deadlines=[
                block(
                    "assistance.reply",
                    ("AssistanceRequest", "as-1"),
                    "fy-market",
                    local(2026, 3, 2, 12),
                )
            ],
        ),
        "coordination",
        "as-1",
    )
    await deliver(service, requested)
    [item] = [i for i in await items(service, "fy-market") if i.subject_id == "as-1"]
    assert item.title == "【紧急】协助执法请求" and item.urgent
    assert item.body.startswith(
        "寒葱沟镇人民政府提请协助执法：提供营业执照登记信息、派员现场协助。"
    )
    assert item.due_at == local(2026, 3, 2, 12)


async def test_R_NTF_04_R_REF_07_a_decline_tells_the_sender_and_the_named_interim_handler(
    harness: Harness,
) -> None:
    service = await harness.start(workers=False)
    await register_agencies(service)
    declined = event(
        ReferralDeclinedV1(
            referral_id="r-1",
            sender_id="fy-market",
            receiver_id="fy-hancong",
            actor_id="p-zhao",
            actor_agency_id="fy-hancong",
            state_before="sent",
            state_after="declined",
            reasons="该事项尚未下放至本镇",
            catalogue_basis="事项清单第12项",
            interim_handler_id="fy-justice",
            declined_at=AT,
        ),
        "referral",
        "r-1",
    )
    await deliver(service, declined)
    [told] = [i for i in await items(service, "fy-market") if i.subject_id == "r-1"]
    assert told.kind == "referral.declined" and "该事项尚未下放至本镇" in told.body
    assert "期间由抚远市司法局先行处置" in told.body
    [interim] = [i for i in await items(service, "fy-justice") if i.subject_id == "r-1"]
    assert interim.kind == "referral.interim_handler" and interim.receipt_required
    assert [i for i in await items(service, "fy-hancong") if i.subject_id == "r-1"] == []


async def test_R_NTF_04_R_REF_13_supervision_reaches_the_receivers_leader(
    harness: Harness,
) -> None:
    service = await harness.start(workers=False)
    await register_agencies(service)
    supervised = event(
        ReferralSupervisedV1(
            referral_id="r-2",
            sender_id="fy-market",
            receiver_id="fy-hancong",
            actor_id="p-gov",
            actor_agency_id="fy-justice",
            state_before="accepted",
            state_after="accepted",
            note="请于本周内办结",
        ),
        "referral",
        "r-2",
    )
    await deliver(service, supervised)
    [item] = [i for i in await items(service, "fy-hancong") if i.subject_id == "r-2"]
    assert item.kind == "referral.supervised" and item.audience == "leader"
    assert item.body == "抚远市司法局督办：请于本周内办结"
    assert [i for i in await items(service, "fy-market") if i.subject_id == "r-2"] == []


async def test_R_REF_10_R_NTF_04_the_police_get_one_notice_for_a_referral_drafted_to_them(
    harness: Harness,
) -> None:
    """A referral drafted straight to the police (route ``crime``) is sent as a crime
    transfer: the send publishes ``referral.sent.v1`` and ``referral.crime_transferred.v1``
    together. The police got both the generic 收到移送案件 and the 涉嫌犯罪案件移送 notice for
    the same case; now only the crime transfer's, which carries the Decree 310 clock. An
    ordinary referral still gets its 收到移送案件."""
    service = await harness.start(workers=False)
    await register_agencies(service)
    common = dict(
        sender_id="fy-market", receiver_id="fy-police", actor_id="p-m", actor_agency_id="fy-market"
    )
    sent = event(
        ReferralSentV1(
            referral_id="ref-crime", **common, title="涉嫌销售假药", urgent=False, sent_at=AT,
            route="crime", state_after="sent",
        ),
        "referral", "ref-crime",
    )  # fmt: skip
    transferred = event(
        ReferralCrimeTransferredV1(
            referral_id="ref-crime", **common, police_id="fy-police", reason="涉嫌销售假药罪",
            agency_id="fy-market", state_after="sent",
        ),
        "referral", "ref-crime",
    )  # fmt: skip
    await deliver(service, sent)
    await deliver(service, transferred)
    notices = [i for i in await items(service, "fy-police") if i.subject_id == "ref-crime"]
    assert [i.kind for i in notices] == ["referral.crime_transfer"], notices
    ordinary = event(
        ReferralSentV1(
            referral_id="ref-1", **{**common, "receiver_id": "fy-hancong"}, title="无照经营",
            urgent=False, sent_at=AT, state_after="sent",
        ),
        "referral", "ref-1",
    )  # fmt: skip
    await deliver(service, ordinary)
    [received] = [i for i in await items(service, "fy-hancong") if i.subject_id == "ref-1"]
    assert received.kind == "referral.received"
