"""The coordination handlers on both store adapters: catalogue versions and their events in
the outbox, the jurisdiction query, disputes opened by a declined referral, escalated when a
step's clock runs out (once), ruled into the catalogue; bad input changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from coordination.adapters.known_referrals import KnownReferrals
from coordination.adapters.meetings import MeetingRepository
from coordination.adapters.repository import (
    CatalogueRepository,
    DisputeRepository,
)
from coordination.application.calendar import CoordinationCalendar
from coordination.application.catalogue import (
    CatalogueHandlers,
    DefineEntry,
    DelegationInput,
    DesignateOwner,
)
from coordination.application.disputes import (
    ConfirmDisputeAgreement,
    DisputeHandlers,
    EscalateDispute,
    GiveDisputeOpinion,
    OpenDispute,
    ProposeDisputeAgreement,
    RequestCaseTransfer,
    RuleDispute,
    dispute_id_for_referral,
)
from coordination.application.known_referrals import ReferralFollower
from coordination.application.meetings import (
    AnswerMinutes,
    DraftMinutes,
    IssueMinutes,
    MeetingHandlers,
    RsvpMeeting,
    ScheduleMeeting,
)
from coordination.contracts.consumed import DeadlineMissed, ReferralDeclined
from coordination.domain.meetings import TaskDraft
from kernel.calendar import parse_schedule
from kernel.contracts.catalogue import CatalogueEntryV1
from kernel.contracts.deadlines import deadlines_of
from kernel.envelope import Envelope, new_envelope
from kernel.errors import DomainError, Forbidden, InvalidState, NotFound, ValidationFailed
from kernel.keyset import ListQuery
from kernel.store import DocumentStore
from kernel.wiring import calendar_for
from liandong.policy import load_policy
from tests.fixtures.coordination import NOW, caller, ensure_indexes, seeded_agencies
from tests.fixtures.schedules import hypothetical_schedule

HOUSING = caller("p-h", "fy-housing", ("leader",))
TOWNSHIP = caller("p-hc", "fy-hancong", ("clerk", "leader"))
MARKET = caller("p-m", "fy-market", ("leader",))
COORD = caller("p-c", "fy-coord", ("coordinator",))
GOV = caller("p-g", "fy-gov", ("government",))


@dataclass
class World:
    store: DocumentStore
    catalogue: CatalogueHandlers
    disputes: DisputeHandlers
    now: list[datetime]
    meetings: MeetingHandlers

    async def outbox(self, collection: str, doc_id: str) -> list[dict[str, Any]]:
        doc = await self.store.collection(collection).find_one({"_id": doc_id})
        assert doc is not None
        return list(doc.get("outbox", []))

    async def types(self, collection: str, doc_id: str) -> list[str]:
        return [e["type"] for e in await self.outbox(collection, doc_id)]


@pytest.fixture
async def world(store: DocumentStore) -> World:
    policy = load_policy("fuyuan")
    agencies = await seeded_agencies(store)
    now = [NOW]
    catalogue = CatalogueHandlers(
        CatalogueRepository(store), agencies, policy, "fuyuan", clock=lambda: now[0]
    )
    meetings = MeetingHandlers(
        MeetingRepository(store), agencies, policy, calendar_for(policy), "fuyuan",
        clock=lambda: now[0],
    )  # fmt: skip
    disputes = DisputeHandlers(
        DisputeRepository(store),
        agencies,
        catalogue,
        policy,
        calendar_for(policy),
        "fuyuan",
        clock=lambda: now[0],
        meetings=meetings.meetings,
        referrals=ReferralFollower(KnownReferrals(store)),
    )
    await ensure_indexes(catalogue.catalogue, disputes.disputes, meetings.meetings)
    return World(store, catalogue, disputes, now, meetings)


def _market_entry(**kw: Any) -> DefineEntry:
    args: dict[str, Any] = dict(
        code="FY-SCJG-001",
        name="对未取得营业执照从事经营活动的行政处罚",
        original_department_id="fy-market",
        legal_basis="《无证无照经营查处办法》第二条",
        penalty_basis="《无证无照经营查处办法》第十三条",
        delegations=(
            DelegationInput("fy-hancong", "decision", date(2021, 1, 1)),
            DelegationInput("fy-wusu", "agreement", date(2024, 1, 1), date(2026, 12, 31)),
        ),
    )
    args.update(kw)
    return DefineEntry(**args)


async def test_R_CAT_01_define_and_revise_publish_snapshot_and_announce_to_townships(
    world: World,
) -> None:
    entry, changed = await world.catalogue.define_entry(_market_entry(), MARKET)
    assert changed and entry.catalogue_version == 1
    events = await world.outbox("catalogue", "FY-SCJG-001")
    assert [e["type"] for e in events] == [
        "catalogue.entry_changed.v1",
        "catalogue.change_announced.v1",
    ]
    snapshot = CatalogueEntryV1.model_validate(events[0]["data"])
    assert snapshot.version == 1 and {d.township_id for d in snapshot.delegations} == {
        "fy-hancong",
        "fy-wusu",
    }
    announced = events[1]["data"]
    assert announced["township_ids"] == ["fy-hancong", "fy-wusu"]
    assert announced["actor_id"] == "p-m" and announced["actor_agency_id"] == "fy-market"
    assert announced["state_before"] is None and announced["state_after"] == "in_force"

    # Same content again: no version, no event.
    _, changed = await world.catalogue.define_entry(_market_entry(), MARKET)
    assert not changed and len(await world.outbox("catalogue", "FY-SCJG-001")) == 2

    world.now[0] = NOW + timedelta(days=1)
    v2, changed = await world.catalogue.define_entry(
        _market_entry(delegations=(DelegationInput("fy-hancong", "decision", date(2021, 1, 1)),)),
        MARKET,
    )
    assert changed and v2.catalogue_version == 2 and len(v2.history) == 2
    last = (await world.outbox("catalogue", "FY-SCJG-001"))[-1]["data"]
    assert last["township_ids"] == ["fy-hancong", "fy-wusu"] and "收回fy-wusu" in last["summary_zh"]
    stored = await world.catalogue.catalogue.get("FY-SCJG-001")
    assert (
        stored is not None and stored.history[0].snapshot["delegations"][1]["mode"] == "agreement"
    )


async def test_R_CAT_01_bad_input_gives_a_field_and_changes_nothing(world: World) -> None:
    cases: list[tuple[DefineEntry, str]] = [
        (_market_entry(original_department_id="fy-hancong"), "originalDepartmentId"),
        (_market_entry(original_department_id="fy-market-brigade"), "originalDepartmentId"),
        (
            _market_entry(
                delegations=(DelegationInput("fy-hancong-center", "decision", NOW.date()),)
            ),
            "delegations.0.townshipId",
        ),
        (
            _market_entry(delegations=(DelegationInput("fy-wusu", "agreement", NOW.date()),)),
            "delegations.0.expiresOn",
        ),
        (_market_entry(legal_basis=" "), "legalBasis"),
    ]
    for cmd, field in cases:
        # The coordinator may define any entry, so each input check is reached.
        with pytest.raises(ValidationFailed) as err:
            await world.catalogue.define_entry(cmd, COORD)
        assert err.value.field == field
    for cmd, _ in cases[2:]:  # the market's own entry: its input is checked too
        with pytest.raises(ValidationFailed):
            await world.catalogue.define_entry(cmd, MARKET)
    # Naming another agency as the original department is not the market's to do: refused
    # before the input is checked (issue 16), whatever the input.
    for cmd, _ in cases[:2]:
        with pytest.raises(Forbidden):
            await world.catalogue.define_entry(cmd, MARKET)
    with pytest.raises(Forbidden):
        await world.catalogue.define_entry(_market_entry(), HOUSING)
    assert await world.catalogue.catalogue.get("FY-SCJG-001") is None


async def test_R_CAT_02_R_CAT_03_jurisdiction_query_names_agency_and_reason(world: World) -> None:
    await world.catalogue.define_entry(_market_entry(), MARKET)
    j = await world.catalogue.jurisdiction(matter_code="FY-SCJG-001", township_id="fy-hancong")
    assert (j.resolution.agency_id, j.resolution.reason) == ("fy-hancong", "delegated")
    j = await world.catalogue.jurisdiction(
        matter_code="FY-SCJG-001", township_id="fy-hancong", major_penalty=True
    )
    assert (j.resolution.agency_id, j.resolution.reason) == ("fy-market", "major_penalty")
    j = await world.catalogue.jurisdiction(matter_code="FY-SCJG-001", township_id="fy-yanan")
    assert j.resolution.reason == "not_delegated"
    j = await world.catalogue.jurisdiction(
        matter_code="FY-SCJG-001", township_id="fy-wusu", on=date(2027, 1, 1)
    )
    assert j.resolution.reason == "agreement_expired"
    with pytest.raises(ValidationFailed) as err:
        await world.catalogue.jurisdiction(matter_code="FY-SCJG-001", township_id="fy-market")
    assert err.value.field == "townshipId"


async def test_R_CAT_04_government_designates_an_owner_for_a_matter_nobody_owns(
    world: World,
) -> None:
    j = await world.catalogue.jurisdiction(matter_code="FY-NEW-001", township_id="fy-nongqiao")
    assert j.resolution.agency_id is None and j.resolution.reason == "unknown_matter"
    with pytest.raises(Forbidden):
        await world.catalogue.designate_owner(
            DesignateOwner("FY-NEW-001", "fy-natres", "抚政办〔2026〕9号"), TOWNSHIP
        )
    entry = await world.catalogue.designate_owner(
        DesignateOwner("FY-NEW-001", "fy-natres", "抚政办〔2026〕9号", matter_name="新型事项"), GOV
    )
    assert entry.routing_rules and entry.content.name == "新型事项"
    j = await world.catalogue.jurisdiction(matter_code="FY-NEW-001", township_id="fy-nongqiao")
    assert (j.resolution.agency_id, j.resolution.reason) == ("fy-natres", "routing_rule")


def _declined(referral_id: str = "ref-1", interim_handler_id: str = "fy-hancong") -> Any:
    return new_envelope(
        ReferralDeclined(
            referral_id=referral_id,
            sender_id="fy-market",
            receiver_id="fy-hancong",
            matter_code="FY-SCJG-001",
            township_id="fy-hancong",
            reasons=["该事项涉及重大处罚", "不属于本镇管辖"],  # type: ignore[arg-type]
            catalogue_basis="FY-SCJG-001 v1",
            interim_handler_id=interim_handler_id,
            actor_id="p-hc",
            actor_agency_id="fy-hancong",
            declined_at=NOW,
        ),
        district="fuyuan",
        service="referral",
        subject=referral_id,
    )


async def test_issue_16_nobody_claims_a_referrals_dispute_before_its_decline(world: World) -> None:
    """Finding 1: a party opened ``dsp-ref-<referral>`` by hand before the decline, so the
    decline opened nothing and the hand-made dispute's ruling moved the referral."""
    await world.catalogue.define_entry(_market_entry(), MARKET)
    with pytest.raises(ValidationFailed) as err:
        await world.disputes.open(
            OpenDispute(
                matter_code="FY-SCJG-001",
                township_id="fy-hancong",
                party_ids=("fy-hancong", "fy-market"),
                reasons="抢先立案",
                interim_handler_id="fy-hancong",
                referral_id="ref-7",
            ),
            TOWNSHIP,
        )
    assert err.value.field == "referralId"
    assert await world.disputes.disputes.get(dispute_id_for_referral("ref-7")) is None
    # A case-transfer request naming the referral takes an id of its own.
    await _heard(world, "referral.sent.v1", "ref-7", "sent")
    asked = await world.disputes.request_case_transfer(
        RequestCaseTransfer(
            township_id="fy-hancong",
            matter_code="FY-SCJG-001",
            reason="recusal",
            explanation="承办人与当事人有利害关系",
            referral_id="ref-7",
        ),
        TOWNSHIP,
    )
    assert asked.id != dispute_id_for_referral("ref-7") and asked.referral_id == "ref-7"
    # The decline still opens the referral's own dispute.
    await world.disputes.when_referral_declined_open_dispute(_declined("ref-7"))
    opened = await world.disputes.disputes.get(dispute_id_for_referral("ref-7"))
    assert opened is not None and opened.opened_by_agency_id == "fy-hancong"


async def test_R_REF_07_a_decline_naming_a_third_agency_opens_the_dispute(world: World) -> None:
    """The old stall: coordination refused a third agency as interim handler, the decline was
    dead-lettered and the referral stayed DECLINED with no dispute, clock or owner."""
    await world.catalogue.define_entry(_market_entry(), MARKET)
    await world.disputes.when_referral_declined_open_dispute(
        _declined("ref-3", interim_handler_id="fy-natres")
    )
    dispute = await world.disputes.disputes.get(dispute_id_for_referral("ref-3"))
    assert dispute is not None and dispute.interim_handler_id == "fy-natres"
    assert dispute.parties == ("fy-hancong", "fy-market")
    opened = (await world.outbox("disputes", dispute.id))[0]
    (clock,) = deadlines_of(opened["data"])
    assert clock.kind == "dispute.step" and clock.state == "open"


def _ladder_route(world: World) -> None:
    """A district whose declines go up the ladder from negotiation (FY sends them straight to
    the government since R-REF-07 was revised: see the test after this one)."""
    policy = world.disputes.policy
    world.disputes.policy = policy.model_copy(
        update={"dispute": policy.dispute.model_copy(update={"decline_route": "ladder"})}
    )


async def test_R_DSP_01_R_DSP_02_declined_referral_opens_once_and_missed_step_escalates_once(
    world: World,
) -> None:
    _ladder_route(world)
    await world.catalogue.define_entry(_market_entry(), MARKET)
    envelope = _declined()
    await world.disputes.when_referral_declined_open_dispute(envelope)
    await world.disputes.when_referral_declined_open_dispute(envelope)  # redelivered
    dispute_id = dispute_id_for_referral("ref-1")
    assert await world.disputes.disputes.search(ListQuery(), limit=9) == [
        await world.disputes.disputes.get(dispute_id)
    ]
    opened = (await world.outbox("disputes", dispute_id))[0]
    assert opened["type"] == "dispute.opened.v1"
    assert opened["data"]["interim_handler_id"] == "fy-hancong"
    assert "重大处罚；不属于本镇管辖" in opened["data"]["reasons"]
    (clock,) = deadlines_of(opened["data"])
    assert clock.kind == "dispute.step" and clock.subject_type == "Dispute"
    # FY ladder step 1: 5 working days from Monday 2 March 2026 → Monday 9 March, 24:00.
    assert clock.due.isoformat().startswith("2026-03-09T23:59:59")
    assert clock.responsible_agency_id == "fy-hancong" and clock.explanation_zh

    missed = new_envelope(
        DeadlineMissed(
            key=clock.key,
            kind="dispute.step",
            subject_type="Dispute",
            subject_id=dispute_id,
            responsible_agency_id="fy-hancong",
            due=clock.due,
            missed_at=clock.due + timedelta(seconds=1),
        ),
        district="fuyuan",
        service="notify",
    )
    world.now[0] = clock.due + timedelta(minutes=5)
    await world.disputes.when_deadline_missed_escalate(missed)
    await world.disputes.when_deadline_missed_escalate(missed)  # the same step: once
    d = await world.disputes.disputes.get(dispute_id)
    assert d is not None and d.current_step.number == 2
    assert d.current_step.decided_by_agency_id == "fy-coord"
    assert await world.types("disputes", dispute_id) == [
        "dispute.opened.v1",
        "dispute.escalated.v1",
    ]
    escalated = (await world.outbox("disputes", dispute_id))[1]["data"]
    assert escalated["cause"] == "escalated_deadline_missed" and escalated["from_step"] == 1
    assert deadlines_of(escalated)[0].responsible_agency_id == "fy-coord"

    # A party escalates explicitly; an outsider may not.
    with pytest.raises(Forbidden):
        await world.disputes.escalate(
            EscalateDispute(dispute_id), caller("x", "fy-natres", ("clerk",))
        )
    up = await world.disputes.escalate(EscalateDispute(dispute_id), MARKET)
    assert up.current_step.decided_by_agency_id == "fy-justice"
    up = await world.disputes.escalate(EscalateDispute(dispute_id), MARKET)
    assert up.current_step.decided_by_agency_id == "fy-gov"
    with pytest.raises(DomainError) as err:
        await world.disputes.escalate(EscalateDispute(dispute_id), MARKET)
    assert (err.value.code, err.value.family) == ("DISPUTE_AT_LAST_STEP", "INVALID_STATE")


async def test_R_REF_07_FY_a_decline_goes_straight_to_the_government(world: World) -> None:
    """FY (四)1: 不属于本部门管辖的，报请市人民政府决定 — no negotiation ladder."""
    await world.catalogue.define_entry(_market_entry(), MARKET)
    await world.disputes.when_referral_declined_open_dispute(_declined("ref-fy"))
    d = await world.disputes.disputes.get(dispute_id_for_referral("ref-fy"))
    assert d is not None and d.current_step.number == len(world.disputes.ladder) == 4
    assert d.current_step.decided_by_agency_id == "fy-gov"
    (clock,) = deadlines_of((await world.outbox("disputes", d.id))[0]["data"])
    # Step 4: 20 working days from Monday 2 March 2026 → Monday 30 March, 24:00.
    assert clock.due.isoformat().startswith("2026-03-30T23:59:59")
    assert clock.responsible_agency_id == "fy-gov"


async def test_R_DSP_02_FY_the_opinion_step_advises_and_cannot_bind(world: World) -> None:
    """FY (四)5: 市委编办和市司法局提出处理意见 — an opinion for the committee that decides."""
    await world.catalogue.define_entry(_market_entry(), MARKET)
    d = await world.disputes.open(
        OpenDispute(
            matter_code="FY-SCJG-001",
            township_id="fy-hancong",
            party_ids=("fy-hancong", "fy-market"),
            reasons="双方均认为不属于本机关管辖",
            interim_handler_id="fy-hancong",
        ),
        TOWNSHIP,
    )
    justice = caller("p-j", "fy-justice", ("leader",))
    with pytest.raises(DomainError) as err:  # a deciding step takes rulings, not opinions
        await world.disputes.give_opinion(GiveDisputeOpinion(d.id, "由市场监管局负责"), MARKET)
    assert err.value.code == "DISPUTE_STEP_DECIDES" and err.value.field == "step"
    assert err.value.family == "INVALID_STATE"
    await world.disputes.escalate(EscalateDispute(d.id), MARKET)
    d = await world.disputes.escalate(EscalateDispute(d.id), MARKET)
    assert d.current_step.number == 3 and d.current_step.advisory
    assert d.current_step.decided_by_agency_id == "fy-justice"
    # The advisory body may not bind…
    with pytest.raises(DomainError) as err:
        await world.disputes.rule(
            RuleDispute(d.id, "decision", "编办、司法局处理意见", "fy-market"), justice
        )
    assert err.value.code == "DISPUTE_STEP_ADVISES" and err.value.field == "step"
    assert err.value.family == "INVALID_STATE"
    # …a party may not give the body's opinion…
    with pytest.raises(Forbidden):
        await world.disputes.give_opinion(GiveDisputeOpinion(d.id, "由我局负责"), MARKET)
    with pytest.raises(ValidationFailed):
        await world.disputes.give_opinion(GiveDisputeOpinion(d.id, " "), justice)
    unchanged = await world.disputes.disputes.get(d.id)
    assert unchanged is not None and unchanged.current_step.number == 3
    # …the body's opinion goes to the committee, which decides with it.
    d = await world.disputes.give_opinion(
        GiveDisputeOpinion(d.id, "建议由市场监督管理局承办"), justice
    )
    assert d.current_step.number == 4 and d.current_step.decided_by_agency_id == "fy-gov"
    assert d.steps[-2].opinion == "建议由市场监督管理局承办"
    assert d.steps[-2].ended_by == "opinion_given"
    escalated = (await world.outbox("disputes", d.id))[-1]
    assert escalated["type"] == "dispute.escalated.v1"
    assert escalated["data"]["cause"] == "opinion_given"
    assert escalated["data"]["opinion"] == "建议由市场监督管理局承办"
    ruled = await world.disputes.rule(
        RuleDispute(d.id, "decision", "抚依法治委〔2026〕1号", "fy-market"), GOV
    )
    assert ruled.outcome is not None and ruled.outcome.responsible_agency_id == "fy-market"


async def test_R_DSP_03_ruling_becomes_a_routing_rule_and_is_published(world: World) -> None:
    await world.catalogue.define_entry(_market_entry(), MARKET)
    d = await world.disputes.open(
        OpenDispute(
            matter_code="FY-SCJG-001",
            township_id="fy-hancong",
            party_ids=("fy-hancong", "fy-market"),
            reasons="管辖不明",
            interim_handler_id="fy-market",
        ),
        TOWNSHIP,
    )
    await world.disputes.escalate(EscalateDispute(d.id), TOWNSHIP)
    bad = RuleDispute(d.id, "minutes", "协调会纪要〔2026〕3号", "fy-market")
    with pytest.raises(ValidationFailed) as err:
        await world.disputes.rule(bad, COORD)
    assert err.value.field == "meetingId"
    with pytest.raises(ValidationFailed) as err:
        await world.disputes.rule(RuleDispute(d.id, "verdict", "x", "fy-market"), COORD)
    assert err.value.field == "outcomeKind"
    assert (await world.disputes.disputes.get(d.id)).status.value == "open"  # type: ignore[union-attr]

    ruled = await world.disputes.rule(
        RuleDispute(d.id, "decision", "抚远协调〔2026〕3号", "fy-market"), COORD
    )
    assert ruled.outcome is not None and ruled.outcome.rule_id == f"rule-{d.id}"
    event = (await world.outbox("disputes", d.id))[-1]
    assert event["type"] == "dispute.ruled.v1"
    data = event["data"]
    assert data["responsible_agency_id"] == "fy-market" and data["outcome_kind"] == "decision"
    assert data["rule_id"] == f"rule-{d.id}" and data["referral_id"] is None
    assert data["state_before"] == "open" and data["state_after"] == "ruled"
    assert deadlines_of(data)[0].state == "met"

    entry = await world.catalogue.catalogue.get("FY-SCJG-001")
    assert entry is not None and entry.catalogue_version == 2
    assert entry.routing_rules[0].dispute_id == d.id
    assert (await world.types("catalogue", "FY-SCJG-001"))[-2:] == [
        "catalogue.entry_changed.v1",
        "catalogue.change_announced.v1",
    ]
    j = await world.catalogue.jurisdiction(matter_code="FY-SCJG-001", township_id="fy-hancong")
    assert (j.resolution.agency_id, j.resolution.reason) == ("fy-market", "routing_rule")

    # Our own dispute.ruled.v1 read back adds nothing more (idempotent by rule id).
    from kernel.envelope import Envelope

    await world.disputes.when_dispute_ruled_add_routing_rule(Envelope.from_document(event))
    again = await world.catalogue.catalogue.get("FY-SCJG-001")
    assert again is not None and again.catalogue_version == 2


async def test_R_DSP_04_township_asks_to_pass_a_case_up_and_government_decides(
    world: World,
) -> None:
    await world.catalogue.define_entry(_market_entry(), MARKET)
    with pytest.raises(ValidationFailed) as err:
        await world.disputes.request_case_transfer(
            RequestCaseTransfer("FY-SCJG-001", "fy-hancong", "tired", "x"), TOWNSHIP
        )
    assert err.value.field == "reason"
    asked = await world.disputes.request_case_transfer(
        RequestCaseTransfer("FY-SCJG-001", "fy-hancong", "recusal", "当事人系本镇干部近亲属"),
        TOWNSHIP,
    )
    assert asked.parties == ("fy-hancong", "fy-market")
    assert asked.current_step.decided_by_agency_id == "fy-gov"
    ruled = await world.disputes.rule(
        RuleDispute(asked.id, "decision", "抚政决〔2026〕5号", "fy-market"), GOV
    )
    assert ruled.outcome is not None and ruled.outcome.rule_id is None
    # A one-case decision does not change the catalogue.
    entry = await world.catalogue.catalogue.get("FY-SCJG-001")
    assert entry is not None and entry.catalogue_version == 1
    # The government decides by itself: opened and decided at once.
    decided = await world.disputes.request_case_transfer(
        RequestCaseTransfer(
            "FY-SCJG-001", "fy-hancong", "major", "拟吊销许可证", decision_basis="抚政决〔2026〕6号"
        ),
        GOV,
    )
    assert decided.status.value == "ruled"
    assert await world.types("disputes", decided.id) == ["dispute.opened.v1", "dispute.ruled.v1"]


async def test_R_DSP_01_tolerant_reader_takes_the_referral_services_decline_as_published(
    world: World,
) -> None:
    """The decline as referral publishes it: no township, an empty actor agency, and fields
    this service does not read."""
    from kernel.envelope import Envelope

    envelope = Envelope(
        id="ev-1",
        source="/liandong/fuyuan/referral",
        type="referral.declined.v1",
        time=NOW,
        data={
            "referral_id": "ref-9",
            "sender_id": "fy-market",
            "receiver_id": "fy-nongqiao",
            "matter_code": "FY-SCJG-003",
            "township_id": None,
            "reasons": "不属于本镇管辖",
            "catalogue_basis": "事项清单 FY-SCJG-003 未下放",
            "interim_handler_id": "fy-market",
            "actor_id": "p-nq",
            "actor_agency_id": "",
            "state_before": "sent",
            "state_after": "declined",
            "declined_at": NOW.isoformat(),
            "deadlines": [],
            "something_new": {"x": 1},
        },
        district="fuyuan",
        correlationid="c-1",
        service="referral",
    )
    await world.disputes.when_referral_declined_open_dispute(envelope)
    d = await world.disputes.disputes.get(dispute_id_for_referral("ref-9"))
    assert d is not None and d.township_id == "fy-nongqiao"
    assert d.parties == ("fy-nongqiao", "fy-market") and d.interim_handler_id == "fy-market"
    assert d.referral_id == "ref-9" and "未下放" in d.reasons


async def _open_between_township_and_market(world: World) -> str:
    d = await world.disputes.open(
        OpenDispute(
            matter_code="FY-SCJG-001",
            township_id="fy-hancong",
            party_ids=("fy-hancong", "fy-market"),
            reasons="双方均认为不属于本机关管辖",
            interim_handler_id="fy-hancong",
        ),
        TOWNSHIP,
    )
    return d.id


async def test_issue_16_an_agreement_binds_when_each_partys_leader_confirmed_it(
    world: World,
) -> None:
    """Finding 1, R-DSP-03: one party's clerk proposes; the other parties' leaders are told
    (dispute.agreement_proposed.v1); the clerk cannot confirm, nor can a third agency; the
    last leader's confirmation rules, signed by the parties who confirmed."""
    await world.catalogue.define_entry(_market_entry(), MARKET)
    dispute_id = await _open_between_township_and_market(world)
    clerk = caller("p-hc-c", "fy-hancong", ("clerk",))
    with pytest.raises(ValidationFailed) as err:  # the old way: one clerk, typed signatures
        await world.disputes.rule(RuleDispute(dispute_id, "agreement", "协议", "fy-market"), clerk)
    assert err.value.field == "outcomeKind"
    proposed = await world.disputes.propose_agreement(
        ProposeDisputeAgreement(dispute_id, "寒葱沟镇与市场监管局协议〔2026〕1号", "fy-market"),
        clerk,
    )
    assert proposed.agreement is not None and proposed.status.value == "open"
    event = (await world.outbox("disputes", dispute_id))[-1]
    assert event["type"] == "dispute.agreement_proposed.v1"
    assert event["data"]["party_ids"] == ["fy-hancong", "fy-market"]
    with pytest.raises(Forbidden):
        await world.disputes.confirm_agreement(ConfirmDisputeAgreement(dispute_id, 1), clerk)
    with pytest.raises(Forbidden):
        await world.disputes.confirm_agreement(
            ConfirmDisputeAgreement(dispute_id, 1), caller("p-n", "fy-natres", ("leader",))
        )
    half = await world.disputes.confirm_agreement(ConfirmDisputeAgreement(dispute_id, 1), MARKET)
    assert half.status.value == "open"
    confirmed = (await world.outbox("disputes", dispute_id))[-1]
    assert confirmed["type"] == "dispute.agreement_confirmed.v1"
    assert confirmed["data"]["agency_id"] == "fy-market"
    assert confirmed["data"]["awaiting_confirmation_of"] == ["fy-hancong"]
    ruled = await world.disputes.confirm_agreement(
        ConfirmDisputeAgreement(dispute_id, 1), caller("p-hc-l", "fy-hancong", ("leader",))
    )
    assert ruled.status.value == "ruled" and ruled.outcome is not None
    assert ruled.outcome.signatories == ("fy-hancong", "fy-market")
    stored = await world.disputes.disputes.get(dispute_id)
    assert stored is not None and stored.agreement is not None
    assert [c.agency_id for c in stored.agreement.confirmations] == ["fy-market", "fy-hancong"]
    data = (await world.outbox("disputes", dispute_id))[-1]["data"]
    assert data["outcome_kind"] == "agreement" and data["signatories"] == [
        "fy-hancong",
        "fy-market",
    ]


async def test_issue_16_minutes_settle_a_dispute_once_the_meeting_agreed_them_R_MTG_01(
    world: World,
) -> None:
    """Finding 1, R-MTG-01: minutes of a meeting still in draft are refused; once every
    attendee agreed and the minutes were issued, a party records them at the negotiation
    step; a meeting without the other party is refused."""
    dispute_id = await _open_between_township_and_market(world)
    starts = NOW + timedelta(hours=2)
    m = await world.meetings.schedule(
        ScheduleMeeting(
            kind="special",
            title="寒葱沟镇与市场监管局管辖协商会",
            convener_id="fy-hancong",
            starts_at=starts,
            place="寒葱沟镇政府会议室",
            attendee_ids=("fy-market",),
            agenda=("协商管辖",),
            urgent=True,
        ),
        TOWNSHIP,
    )
    await world.meetings.rsvp(RsvpMeeting(m.id, True, "王五"), MARKET)
    world.now[0] = starts + timedelta(hours=1)
    task = TaskDraft("依法立案查处", "fy-market", (NOW + timedelta(days=20)).date())
    await world.meetings.draft_minutes(DraftMinutes(m.id, "由市场监管局负责", (task,)), TOWNSHIP)
    rule = RuleDispute(dispute_id, "minutes", "", "fy-market", meeting_id=m.id)
    with pytest.raises(ValidationFailed) as err:  # drafted, not agreed
        await world.disputes.rule(rule, TOWNSHIP)
    assert err.value.field == "meetingId"
    with pytest.raises(ValidationFailed) as err:
        await world.disputes.rule(
            RuleDispute(dispute_id, "minutes", "", "fy-market", meeting_id="nope"), TOWNSHIP
        )
    assert err.value.field == "meetingId"
    await world.meetings.record_position(AnswerMinutes(m.id, 1, True), MARKET)
    await world.meetings.issue_minutes(IssueMinutes(m.id, "寒纪〔2026〕1号"), TOWNSHIP)
    ruled = await world.disputes.rule(rule, TOWNSHIP)
    assert ruled.outcome is not None
    assert ruled.outcome.basis == "寒葱沟镇与市场监管局管辖协商会（寒纪〔2026〕1号）"
    assert ruled.outcome.signatories == ("fy-hancong", "fy-market")


def _referral_event(
    event_type: str,
    referral_id: str,
    state_after: str,
    *,
    at: datetime = NOW,
    sender_id: str = "fy-market",
    receiver_id: str = "fy-hancong",
) -> Envelope:
    """A referral change as the referral service publishes it (every change carries the
    referral, its sender and receiver and the state after)."""
    return Envelope(
        id=f"ev-{referral_id}-{event_type}-{at.isoformat()}",
        source="/liandong/fuyuan/referral",
        type=event_type,
        time=at,
        data={
            "referral_id": referral_id,
            "sender_id": sender_id,
            "receiver_id": receiver_id,
            "matter_code": "FY-SCJG-001",
            "actor_id": "p-x",
            "actor_agency_id": sender_id,
            "state_before": None,
            "state_after": state_after,
            "at": at.isoformat(),
        },
        district="fuyuan",
        correlationid="c-1",
        service="referral",
    )


async def _heard(world: World, event_type: str, referral_id: str, state: str, **kw: Any) -> None:
    assert world.disputes.referrals is not None
    await world.disputes.referrals.when_referral_changed_remember_it(
        _referral_event(event_type, referral_id, state, **kw)
    )


async def test_issue_16_R_DSP_04_a_case_transfer_names_only_a_known_open_referral_of_the_township(
    world: World,
) -> None:
    """Finding 1 (rest): ``requestCaseTransfer``'s ``referralId`` was taken on trust. Now
    coordination checks it against what it heard from the referral service: the referral
    exists (was sent), the asking township is one of its parties, and the case is still
    with a receiver and not handled; a refusal writes nothing."""
    await world.catalogue.define_entry(_market_entry(), MARKET)

    def ask(referral_id: str, township: str = "fy-hancong") -> RequestCaseTransfer:
        return RequestCaseTransfer(
            township_id=township,
            matter_code="FY-SCJG-001",
            reason="major",
            explanation="拟吊销许可证",
            referral_id=referral_id,
        )

    async def count() -> int:
        return len(await world.disputes.disputes.search(ListQuery(), limit=500))

    before = await count()
    # A referral coordination never heard of.
    with pytest.raises(NotFound) as unknown:
        await world.disputes.request_case_transfer(ask("ref-nowhere"), TOWNSHIP)
    assert unknown.value.field == "referralId"
    # Another township's clerk naming a referral between the market and 寒葱沟镇.
    await _heard(world, "referral.sent.v1", "ref-20", "sent")
    other = caller("p-nq", "fy-nongqiao", ("clerk", "leader"))
    with pytest.raises(Forbidden) as outsider:
        await world.disputes.request_case_transfer(ask("ref-20", "fy-nongqiao"), other)
    assert outsider.value.field == "referralId"
    # Handled (a later change read first, then the earlier one late): too late to ask.
    later = NOW + timedelta(days=3)
    await _heard(world, "referral.handled.v1", "ref-21", "handled", at=later)
    await _heard(world, "referral.sent.v1", "ref-21", "sent")
    with pytest.raises(InvalidState) as done:
        await world.disputes.request_case_transfer(ask("ref-21"), TOWNSHIP)
    assert done.value.field == "referralId"
    assert await count() == before, "a refused request wrote a dispute"
    # The receiving township, the case sent then accepted: asked.
    await _heard(world, "referral.accepted.v1", "ref-20", "accepted", at=later)
    asked = await world.disputes.request_case_transfer(ask("ref-20"), TOWNSHIP)
    assert asked.referral_id == "ref-20"
    # Reassigned by a ruling to 农桥镇: 寒葱沟镇 held it before and stays a party, 农桥镇 too.
    await _heard(
        world, "referral.reassigned.v1", "ref-20", "sent", at=later + timedelta(days=1),
        receiver_id="fy-nongqiao",
    )  # fmt: skip
    again = await world.disputes.request_case_transfer(ask("ref-20", "fy-nongqiao"), other)
    assert again.referral_id == "ref-20"


async def test_R_MTG_01_issue_20_meeting_clocks_move_with_the_official_schedule(
    world: World,
) -> None:
    """Issue 20: the meetings' clocks follow a loaded official schedule like every other
    clock. Two meetings are scheduled in the first year the ``holidays`` package only
    forecasts; the notice (``hypothetical_schedule``) gives a forecast working Thursday off.
    The meeting whose RSVP day (2 working days before it, R-MTG-01) is that Thursday: each
    invitee's RSVP clock moves to the next working day, with a ``deadline.moved`` event naming
    the invitee; the other meeting's clocks are confirmed and stay. Again: nothing changes."""
    h = hypothetical_schedule()
    calendar = world.meetings.calendar
    shanghai = ZoneInfo("Asia/Shanghai")

    def at_nine(day: date) -> datetime:
        return datetime.combine(day, time(9, 0), shanghai).astimezone(UTC)

    hit_day = calendar.add_working_days(at_nine(h.extra_day_off), 2, rule="test").due.date()
    calm_day = hit_day + timedelta(days=21)
    assert calendar.working_days_before(hit_day, 2) == h.extra_day_off
    world.now[0] = at_nine(h.extra_day_off - timedelta(days=20))

    async def scheduled(day: date, title: str) -> Any:
        return await world.meetings.schedule(
            ScheduleMeeting(
                kind="special",
                title=title,
                convener_id="fy-hancong",
                starts_at=at_nine(day),
                place="寒葱沟镇政府会议室",
                attendee_ids=("fy-market", "fy-natres"),
                agenda=("协商管辖",),
            ),
            TOWNSHIP,
        )

    hit = await scheduled(hit_day, "受调休影响的会议")
    calm = await scheduled(calm_day, "不受影响的会议")
    before = {c.kind: c.due for c in hit.clocks}
    assert len(before) == 2
    assert all(due.astimezone(shanghai).date() == h.extra_day_off for due in before.values())
    rechecks = CoordinationCalendar(
        calendar, "fuyuan", lambda: world.now[0], {"Meeting": world.meetings.meetings},
        world.disputes.disputes,
    )  # fmt: skip
    calendar.schedules.install(parse_schedule(h.data))
    assert await rechecks.recheck_requests(h.year) == 4
    moved = await world.meetings.meetings.get(hit.id)
    assert moved is not None and moved.history[-1].action == "revise_clocks"
    next_day = calendar.add_working_days(at_nine(h.extra_day_off), 1, rule="test").due.date()
    for c in moved.clocks:
        assert c.due.astimezone(shanghai).date() == next_day, c
        assert "国办发明电" in str(c.explanation)
    events = [e for e in await world.outbox("meetings", hit.id) if e["type"] == "deadline.moved.v1"]
    assert sorted(e["data"]["responsible_agency_id"] for e in events) == ["fy-market", "fy-natres"]
    assert {e["data"]["subject_type"] for e in events} == {"Meeting"}
    stayed = await world.meetings.meetings.get(calm.id)
    assert stayed is not None
    assert [c.due for c in stayed.clocks] == [c.due for c in calm.clocks]
    assert not [
        e for e in await world.outbox("meetings", calm.id) if e["type"] == "deadline.moved.v1"
    ]
    assert await rechecks.recheck_requests(h.year) == 0
