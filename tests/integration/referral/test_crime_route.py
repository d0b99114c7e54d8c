"""The crime route (R-REF-10, R-REF-14, State Council Decree 310) through the referral
service's handlers on a real store: the events each step commits with the clocks it touched
(what notify watches and escalates), for a referral drafted straight to the police and for
a case an agency handles."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from kernel.caller import Caller
from kernel.errors import Forbidden, InvalidState, ValidationFailed
from kernel.policy import load_policy
from kernel.store import DocumentStore
from referral.application.commands import (
    AcceptReferral,
    ApproveReferral,
    DecideCrimeTransfer,
    RecordFinePaid,
    RecordMaterialsHandover,
    RecordPoliceDecision,
    ReportSuspectedCrime,
    SendReferral,
    SubmitReferral,
)
from referral.domain.model import AgencyRef, CrimeStage, Status
from tests.integration.referral.test_referral_service import (
    DISTRICT,
    MARKET_CLERK,
    MARKET_LEADER,
    POLICE,
    START,
    TOWN_CLERK,
    TOWN_LEADER,
    Service,
    refused,
)


@pytest.fixture
async def crime_svc(store: DocumentStore) -> AsyncIterator[Service]:
    svc = await Service(store, load_policy(DISTRICT)).setup()
    await svc.agencies.put(
        AgencyRef("fy-procuratorate", "抚远市人民检察院", "procuratorate", False), 1
    )
    yield svc


def _clocks(event: dict[str, Any]) -> dict[str, str]:
    return {d["kind"]: d["state"] for d in event["data"]["deadlines"]}


async def test_R_REF_14_a_referral_drafted_to_the_police_commits_each_step_with_its_clock(
    crime_svc: Service,
) -> None:
    svc = crime_svc
    r = await svc.complete_draft(receiver_id="fy-police")
    await svc.h.referrals.submit(SubmitReferral(r.id), Caller(MARKET_CLERK))
    reported = (await svc.events(r.id))[-1]
    assert reported["type"] == "referral.crime_reported.v1"
    assert reported["data"]["agency_id"] == "fy-market"
    assert reported["data"]["police_id"] == "fy-police"
    assert _clocks(reported) == {"referral.crime_head_decision": "open"}

    svc.clock.now = START + timedelta(hours=2)
    await svc.h.referrals.approve(ApproveReferral(r.id), Caller(MARKET_LEADER))
    decided = (await svc.events(r.id))[-1]
    assert decided["type"] == "referral.crime_transfer_decided.v1"
    assert decided["data"]["approved"] is True
    assert _clocks(decided) == {
        "referral.crime_head_decision": "met",
        "referral.crime_transfer": "open",
    }

    svc.clock.now = START + timedelta(hours=3)
    r = await svc.h.referrals.send(SendReferral(r.id), Caller(MARKET_CLERK))
    sent, transferred = (await svc.events(r.id))[-2:]
    assert sent["type"] == "referral.sent.v1" and sent["data"]["accept_due"] is None
    assert transferred["type"] == "referral.crime_transferred.v1"
    assert _clocks(transferred) == {
        "referral.crime_transfer": "met",
        "referral.crime_police_decision": "open",
    }
    assert r.status is Status.SENT and r.crime is not None
    assert r.crime.stage is CrimeStage.TRANSFERRED and r.crime.transferred_at == svc.clock.now
    # The police do not "accept" a crime transfer: they decide 立案 / 不立案.
    await refused(
        svc,
        r.id,
        svc.h.referrals.accept(AcceptReferral(r.id, "受理"), Caller(POLICE)),
        InvalidState,
        "status",
    )
    r = await svc.h.crime.record_police_decision(
        RecordPoliceDecision(r.id, True, "抚公立字〔2026〕9号"), Caller(POLICE)
    )
    filed = (await svc.events(r.id))[-1]
    assert filed["type"] == "referral.police_decided.v1" and filed["data"]["filed"] is True
    assert filed["data"]["agency_id"] == "fy-market"
    assert _clocks(filed) == {
        "referral.crime_police_decision": "met",
        "referral.crime_handover": "open",
    }
    handover = r.clock("crime_handover")
    assert handover is not None and handover.responsible_agency_id == "fy-market"

    # A fine given before and paid counts against a later criminal fine (第十一条).
    r = await svc.h.crime.record_fine_paid(
        RecordFinePaid(r.id, "抚市监罚〔2026〕5号", 2000, START - timedelta(days=3), "缴款书1"),
        Caller(MARKET_CLERK),
    )
    paid = (await svc.events(r.id))[-1]
    assert paid["type"] == "referral.crime_fine_paid_recorded.v1"
    assert paid["data"]["amount_yuan"] == 2000
    assert r.crime is not None and r.crime.fine_paid is not None
    assert r.crime.penalties_standing == ("抚市监罚〔2026〕5号",)

    await refused(
        svc,
        r.id,
        svc.h.crime.record_handover(RecordMaterialsHandover(r.id, "清单"), Caller(POLICE)),
        Forbidden,
        None,
    )
    r = await svc.h.crime.record_handover(
        RecordMaterialsHandover(r.id, "涉案物品清单及检验报告"), Caller(MARKET_CLERK)
    )
    assert r.status is Status.CLOSED and r.open_clocks() == []
    done = (await svc.events(r.id))[-1]
    assert done["type"] == "referral.crime_materials_handed_over.v1"
    assert _clocks(done) == {"referral.crime_handover": "met"}


async def test_R_REF_14_an_agency_reports_its_head_refuses_and_the_case_goes_on(
    crime_svc: Service,
) -> None:
    svc = crime_svc
    r = await svc.sent()
    await svc.h.referrals.accept(AcceptReferral(r.id, "受理"), Caller(TOWN_CLERK))
    await refused(
        svc,
        r.id,
        svc.h.crime.report_suspected_crime(
            ReportSuspectedCrime(r.id, "fy-procuratorate", "涉嫌犯罪"), Caller(TOWN_CLERK)
        ),
        ValidationFailed,
        "policeId",
    )
    r = await svc.h.crime.report_suspected_crime(
        ReportSuspectedCrime(r.id, "fy-police", "涉嫌生产、销售伪劣产品罪"), Caller(TOWN_CLERK)
    )
    assert r.status is Status.CRIME_PENDING
    event = (await svc.events(r.id))[-1]
    assert event["type"] == "referral.crime_reported.v1"
    assert _clocks(event) == {
        "referral.report": "cancelled",
        "referral.crime_head_decision": "open",
    }
    await refused(
        svc,
        r.id,
        svc.h.crime.decide_transfer(DecideCrimeTransfer(r.id, True), Caller(TOWN_CLERK)),
        Forbidden,
        None,
    )
    r = await svc.h.crime.decide_transfer(
        DecideCrimeTransfer(r.id, False, "未达立案追诉标准"), Caller(TOWN_LEADER)
    )
    assert r.status is Status.ACCEPTED and r.crime is not None
    assert r.crime.stage is CrimeStage.REFUSED
    event = (await svc.events(r.id))[-1]
    assert event["type"] == "referral.crime_transfer_decided.v1"
    assert event["data"]["approved"] is False and event["data"]["reason"] == "未达立案追诉标准"
    assert _clocks(event) == {"referral.crime_head_decision": "met", "referral.report": "open"}
