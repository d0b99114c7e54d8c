"""Huancui's reservations in the referral service on a real store (issue 15, item 5): a case
that may end in a major penalty is the department's at draft, send, accept, penalty recording
and bulk move (R-CAT-03, HC #13); no stated reason and no dispute's ruling changes that, only
the government's designation (R-CAT-04); cases open at the end of the transition period stay
with the department, judged from the referral's own found date (R-CAT-02, HC #12)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any

import pytest

from kernel.auth import Principal
from kernel.calendar import SHANGHAI
from kernel.caller import Caller
from kernel.contracts.catalogue import CatalogueEntryV1, DelegationV1, RoutingRuleV1
from kernel.errors import Forbidden, ValidationFailed
from kernel.policy import load_policy
from kernel.store import DocumentStore
from referral.application.commands import (
    AcceptReferral,
    ApproveReferral,
    DraftReferral,
    RecordPenalty,
    SendReferral,
    SubmitReferral,
    TransferAtDelegation,
    UploadMaterial,
)
from referral.domain.model import AgencyRef, Referral, Status
from tests.integration.referral.test_referral_service import (
    LETTER_PDF,
    PHOTO_JPEG,
    Service,
    chunks,
)

DISTRICT = "huancui"
MATTER = "HC-SCJG-001"
START = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)  # Monday
FOUND = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)
DELEGATED = date(2026, 6, 1)
TRANSITION_END = date(2026, 8, 31)  # HC #12: 3 months

AGENCIES = [
    AgencyRef("hc-market", "威海市环翠区市场监督管理局", "department", False),
    AgencyRef("hc-zhangcun", "张村镇人民政府", "township", False),
    AgencyRef("hc-wenquan", "温泉镇人民政府", "township", False),
    AgencyRef("hc-gov", "威海市环翠区人民政府", "government", False),
]


def person(agency: str, *roles: str) -> Principal:
    return Principal(
        f"{agency}-{'-'.join(roles)}", f"{agency}的{roles[0]}", agency, DISTRICT, roles
    )


MARKET_CLERK = person("hc-market", "clerk")
MARKET_LEADER = person("hc-market", "leader")
TOWN_CLERK = person("hc-zhangcun", "clerk")
TOWN_LEADER = person("hc-zhangcun", "leader")


def entry(version: int = 1, rules: tuple[RoutingRuleV1, ...] = ()) -> CatalogueEntryV1:
    return CatalogueEntryV1(
        code=MATTER,
        name="对未取得营业执照从事经营活动的行政处罚",
        original_department_id="hc-market",
        delegations=[
            DelegationV1(
                township_id="hc-zhangcun",
                mode="decision",
                effective_from=DELEGATED,
                transition_until=TRANSITION_END,
            )
        ],
        routing_rules=list(rules),
        version=version,
    )


#: A dispute's ruling: 张村镇 handles the matter there (R-DSP-03).
DISPUTE_RULE = RoutingRuleV1(
    rule_id="rule-d1",
    responsible_agency_id="hc-zhangcun",
    effective_from=date(2026, 10, 1),
    township_id="hc-zhangcun",
    dispute_id="d1",
    basis="环翠区综合执法平台会议纪要〔2026〕1号",
)
#: The government's designation with the major-penalty exception (R-CAT-04).
GOVERNMENT_EXCEPTION = RoutingRuleV1(
    rule_id="designation-1",
    responsible_agency_id="hc-zhangcun",
    effective_from=date(2026, 10, 1),
    township_id="hc-zhangcun",
    basis="威环政字〔2026〕8号",
    major_penalty_exception=True,
)


class HC(Service):
    """The referral service's handlers in huancui, with its agencies and one catalogue entry."""

    def __init__(self, store: DocumentStore) -> None:
        super().__init__(store, load_policy(DISTRICT), district=DISTRICT, start=START)

    async def setup(self) -> HC:
        await self.referrals.ensure_indexes()
        for a in AGENCIES:
            await self.agencies.put(a, 1)
        await self.catalogue.put(entry())
        return self

    def cmd(self, **over: Any) -> DraftReferral:
        base: dict[str, Any] = {
            "sender_id": "hc-market",
            "receiver_id": "hc-zhangcun",
            "matter_code": MATTER,
            "title": "无证经营",
            "facts": "2026年11月27日检查发现当事人未取得营业执照从事食品经营活动。",
            "party": "某某食杂店",
            "place": "张村镇中心街12号",
            "found_at": FOUND,
            "township_id": "hc-zhangcun",
        }
        base.update(over)
        return DraftReferral(**base)

    async def draft(self, sender: Principal = MARKET_CLERK, **over: Any) -> Referral:
        r = await self.h.referrals.draft(self.cmd(**over), Caller(sender))
        # R-REF-02: the letter and a source material as stored files.
        for kind, name, media, content in (
            ("transfer_letter", "移送函.pdf", "application/pdf", LETTER_PDF),
            ("source", "现场检查记录.jpg", "image/jpeg", PHOTO_JPEG),
        ):
            r, _ = await self.h.materials.upload(
                UploadMaterial(r.id, kind, name, media, chunks(content)), Caller(sender)
            )
        return r

    async def approved(self, sender: Principal = MARKET_CLERK, **over: Any) -> Referral:
        r = await self.draft(sender, **over)
        leader = MARKET_LEADER if sender is MARKET_CLERK else TOWN_LEADER
        await self.h.referrals.submit(SubmitReferral(r.id), Caller(sender))
        return await self.h.referrals.approve(ApproveReferral(r.id), Caller(leader))

    async def sent(self, sender: Principal = MARKET_CLERK, **over: Any) -> Referral:
        r = await self.approved(sender, **over)
        return await self.h.referrals.send(SendReferral(r.id), Caller(sender))


@pytest.fixture
async def hc(embedded_store: DocumentStore) -> AsyncIterator[HC]:
    yield await HC(embedded_store).setup()


async def refused_draft(hc: HC, error: type[Exception], field: str, **over: Any) -> str:
    with pytest.raises(error) as err:
        await hc.h.referrals.draft(hc.cmd(**over), Caller(MARKET_CLERK))
    assert getattr(err.value, "field", None) == field, err.value
    return str(err.value)


async def test_R_CAT_03_draft_a_stated_reason_never_overrides_the_major_penalty_reservation(
    hc: HC,
) -> None:
    """HC #13: a case that may end in revoking a licence, or a fine of 50,000 yuan or more,
    cannot be addressed to the township, whatever the sender writes; 49,999 yuan can."""
    reason = "该镇熟悉情况，由其办理更便利"
    message = await refused_draft(
        hc,
        ValidationFailed,
        "receiverId",
        penalty_kinds=("吊销许可证件",),
        competence_reason=reason,
    )
    assert "R-CAT-04" in message and "hc-market" in message
    await refused_draft(
        hc, ValidationFailed, "receiverId", possible_fine_yuan=50_000, competence_reason=reason
    )
    # Just below the threshold the township is competent (delegated, past the transition).
    below = await hc.h.referrals.draft(hc.cmd(possible_fine_yuan=49_999), Caller(MARKET_CLERK))
    assert below.competence is not None and below.competence.resolved_agency_id == "hc-zhangcun"
    # An unknown kind is refused by name, so a major penalty cannot hide under a spelling.
    await refused_draft(hc, ValidationFailed, "penaltyKinds.0", penalty_kinds=("吊销执照",))
    # To the department the major case goes without a word.
    town = await hc.h.referrals.draft(
        hc.cmd(
            sender_id="hc-zhangcun",
            receiver_id="hc-market",
            penalty_kinds=("order_close",),
        ),
        Caller(TOWN_CLERK),
    )
    assert town.competence is not None and town.competence.reason == "major_penalty"


async def test_R_CAT_03_a_dispute_rule_ranks_below_the_reservation_only_the_government_lifts_it(
    hc: HC,
) -> None:
    await hc.catalogue.put(entry(2, (DISPUTE_RULE,)))
    await refused_draft(
        hc,
        ValidationFailed,
        "receiverId",
        possible_fine_yuan=80_000,
        competence_reason="争议裁定由张村镇承办",
    )
    # The department is competent for it despite the rule, without a stated reason.
    town = await hc.h.referrals.draft(
        hc.cmd(sender_id="hc-zhangcun", receiver_id="hc-market", possible_fine_yuan=80_000),
        Caller(TOWN_CLERK),
    )
    assert town.competence is not None
    assert (town.competence.resolved_agency_id, town.competence.reason) == (
        "hc-market",
        "major_penalty",
    )
    # The government's own designation is the one exception (R-CAT-04).
    await hc.catalogue.put(entry(3, (DISPUTE_RULE, GOVERNMENT_EXCEPTION)))
    r = await hc.h.referrals.draft(hc.cmd(possible_fine_yuan=80_000), Caller(MARKET_CLERK))
    assert r.competence is not None and r.competence.rule_id == "designation-1"


async def test_R_CAT_03_send_and_accept_check_the_reservation_again(hc: HC) -> None:
    """Drafted under the government's exception, the exception gone by the send (or by the
    acceptance): the reservation holds again and no stated reason covers it."""
    await hc.catalogue.put(entry(2, (GOVERNMENT_EXCEPTION,)))
    pending = await hc.approved(possible_fine_yuan=50_000, competence_reason="政府指定")
    sent = await hc.sent(possible_fine_yuan=50_000)
    await hc.catalogue.put(entry(3))
    with pytest.raises(ValidationFailed) as err:
        await hc.h.referrals.send(SendReferral(pending.id), Caller(MARKET_CLERK))
    assert err.value.field == "receiverId"
    assert (await hc.referrals.get(pending.id)).status is Status.APPROVED  # type: ignore[union-attr]
    with pytest.raises(Forbidden) as denied:
        await hc.h.referrals.accept(AcceptReferral(sent.id, "受理"), Caller(TOWN_CLERK))
    assert "R-CAT-03" in str(denied.value) or "major penalty" in str(denied.value)
    assert (await hc.referrals.get(sent.id)).status is Status.SENT  # type: ignore[union-attr]


async def test_R_CAT_03_record_penalty_checks_kind_and_fine_against_the_reservation(
    hc: HC,
) -> None:
    r = await hc.sent(possible_fine_yuan=3_000)
    await hc.h.referrals.accept(AcceptReferral(r.id, "受理"), Caller(TOWN_CLERK))
    for kinds, fine, field in (
        (("吊销许可证件",), None, "kinds"),
        (("fine",), 50_000, "kinds"),
        (("罚款", "责令停产停业"), 1_000, "kinds"),
        (("罚没",), 1_000, "kinds.0"),
    ):
        with pytest.raises((Forbidden, ValidationFailed)) as err:
            await hc.h.referrals.record_penalty(
                RecordPenalty(r.id, "张村罚〔2026〕1号", kinds, fine), Caller(TOWN_CLERK)
            )
        assert getattr(err.value, "field", None) == field, (kinds, fine, err.value)
    done = await hc.h.referrals.record_penalty(
        RecordPenalty(r.id, "张村罚〔2026〕1号", ("罚款",), 49_999), Caller(TOWN_CLERK)
    )
    assert done.penalty is not None and done.penalty.fine_yuan == 49_999


async def test_R_CAT_02_cases_open_at_the_end_of_the_transition_stay_from_the_found_date(
    hc: HC,
) -> None:
    """HC #12, from the referral's own data: found on the transition's last day → the
    department even months later; found the day after → the township."""
    last_day = datetime(2026, 8, 31, 16, 0, tzinfo=SHANGHAI)
    message = await refused_draft(hc, ValidationFailed, "receiverId", found_at=last_day)
    assert "hc-market" in message
    kept = await hc.h.referrals.draft(
        hc.cmd(sender_id="hc-zhangcun", receiver_id="hc-market", found_at=last_day),
        Caller(TOWN_CLERK),
    )
    assert kept.competence is not None and kept.competence.reason == "opened_before_delegation"
    after = await hc.h.referrals.draft(
        hc.cmd(found_at=datetime(2026, 9, 1, 9, 0, tzinfo=SHANGHAI)), Caller(MARKET_CLERK)
    )
    assert after.competence is not None and after.competence.reason == "delegated"


async def test_R_REF_11_bulk_move_honours_the_transition_and_the_reservation(hc: HC) -> None:
    """policy.delegation (HC: 3 months): the department's open cases found before the
    transition's end stay, so do the major ones; only what the catalogue gives the township
    moves."""
    in_transition = await hc.sent(
        TOWN_CLERK,
        sender_id="hc-zhangcun",
        receiver_id="hc-market",
        found_at=datetime(2026, 8, 20, 9, 0, tzinfo=SHANGHAI),
    )
    major = await hc.sent(
        TOWN_CLERK, sender_id="hc-zhangcun", receiver_id="hc-market", possible_fine_yuan=50_000
    )
    ordinary = await hc.sent(
        TOWN_CLERK,
        sender_id="hc-zhangcun",
        receiver_id="hc-market",
        competence_reason="当事人系区级重点监管对象，请市场监管局处理",
    )
    report = await hc.h.delegation.transfer(
        TransferAtDelegation("hc-market", MATTER, "hc-zhangcun", "威环政发〔2024〕2号"),
        Caller(MARKET_LEADER),
    )
    assert report.moved == [ordinary.id]
    stayed = dict(report.stayed)
    assert stayed[in_transition.id].startswith("opened_before_delegation")
    assert stayed[major.id].startswith("major_penalty")
    for kept in (in_transition.id, major.id):
        assert (await hc.referrals.get(kept)).receiver_id == "hc-market"  # type: ignore[union-attr]
