"""The catalogue's reservations on a real store: an entrustment (委托) routes nothing until the
justice bureau has reviewed it and the government approved it (R-CAT-05); the major-penalty
reservation (R-CAT-03) ranks above a dispute's routing rule, and only the government's own
designation makes an exception (R-CAT-04)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from coordination.application.catalogue import (
    ApproveEntrustment,
    DelegationInput,
    DesignateOwner,
    ReviewEntrustment,
)
from coordination.domain.catalogue import RoutingRule
from coordination.domain.dispute import Actor
from kernel.errors import Forbidden, InvalidState, ValidationFailed
from tests.fixtures.coordination import caller
from tests.integration.coordination.test_coordination_service import (
    COORD,
    GOV,
    MARKET,
    NOW,
    TOWNSHIP,
    World,
    _market_entry,
    world,
)

__all__ = ["world"]  # the fixture, shared with the service's tests

JUSTICE = caller("p-j", "fy-justice", ("supervisor",))
CODE = "FY-SCJG-001"
TERM_END = date(2027, 12, 31)


def _entrusted(term_end: date = TERM_END) -> tuple[DelegationInput, ...]:
    return (
        DelegationInput("fy-hancong", "decision", date(2021, 1, 1)),
        DelegationInput("fy-wusu", "agreement", date(2026, 1, 1), term_end),
    )


async def _who(w: World, township: str = "fy-wusu", **kw: object) -> tuple[str | None, str]:
    j = await w.catalogue.jurisdiction(matter_code=CODE, township_id=township, **kw)  # type: ignore[arg-type]
    return j.resolution.agency_id, j.resolution.reason


async def test_R_CAT_05_entrustment_takes_effect_after_review_and_approval(world: World) -> None:
    """Two steps through the API, each by the right agency kind, in order; until both, the
    catalogue keeps the matter with the department."""
    w = world
    await w.catalogue.define_entry(_market_entry(delegations=_entrusted()), MARKET)
    assert await _who(w) == ("fy-market", "entrustment_pending")

    # The government cannot approve before the review; nobody but the justice bureau reviews.
    with pytest.raises(InvalidState) as err:
        await w.catalogue.approve_entrustment(
            ApproveEntrustment(CODE, "fy-wusu", "抚政批〔2026〕1号"), GOV
        )
    assert err.value.field == "townshipId"
    for wrong in (GOV, COORD, MARKET, TOWNSHIP):
        with pytest.raises(Forbidden):
            await w.catalogue.review_entrustment(
                ReviewEntrustment(CODE, "fy-wusu", "经审查，委托合法"), wrong
            )
    with pytest.raises(ValidationFailed) as err:
        await w.catalogue.review_entrustment(ReviewEntrustment(CODE, "fy-wusu", " "), JUSTICE)
    assert err.value.field == "opinion"
    # A decision (赋权) needs no review.
    with pytest.raises(InvalidState):
        await w.catalogue.review_entrustment(
            ReviewEntrustment(CODE, "fy-hancong", "经审查，委托合法"), JUSTICE
        )
    reviewed = await w.catalogue.review_entrustment(
        ReviewEntrustment(CODE, "fy-wusu", "经审查，委托合法"), JUSTICE
    )
    assert reviewed.history[-1].change == "entrustment_reviewed"
    assert await _who(w) == ("fy-market", "entrustment_pending")
    with pytest.raises(InvalidState):
        await w.catalogue.review_entrustment(
            ReviewEntrustment(CODE, "fy-wusu", "再次审查"), JUSTICE
        )

    # The justice bureau does not approve; the government does.
    with pytest.raises(Forbidden):
        await w.catalogue.approve_entrustment(
            ApproveEntrustment(CODE, "fy-wusu", "抚政批〔2026〕1号"), JUSTICE
        )
    approved = await w.catalogue.approve_entrustment(
        ApproveEntrustment(CODE, "fy-wusu", "抚政批〔2026〕1号"), GOV
    )
    assert approved.history[-1].change == "entrustment_approved"
    # Only the township concerned is told (R-NTF-02), in the outbox with the new snapshot.
    types = await w.types("catalogue", CODE)
    assert types.count("catalogue.change_announced.v1") >= 3
    assert await _who(w) == ("fy-wusu", "delegated")
    # Not before the approval day: the day before it, the department still handles it.
    assert await _who(w, on=NOW.date() - timedelta(days=1)) == (
        "fy-market",
        "entrustment_pending",
    )

    # A revision that keeps the entrustment's terms keeps its sign-offs; new terms need both.
    await w.catalogue.define_entry(
        _market_entry(
            delegations=_entrusted(), penalty_basis="《无证无照经营查处办法》第十三条（修订）"
        ),
        MARKET,
    )
    assert await _who(w) == ("fy-wusu", "delegated")
    await w.catalogue.define_entry(
        _market_entry(delegations=_entrusted(date(2028, 6, 30))),
        MARKET,
    )
    assert await _who(w) == ("fy-market", "entrustment_pending")


async def test_R_CAT_03_reservation_ranks_above_a_dispute_rule_and_yields_only_to_the_government(
    world: World,
) -> None:
    """A dispute's ruling naming the township covers ordinary cases only; a coordination
    body's designation cannot lift the reservation; the government's can (R-CAT-04)."""
    w = world
    await w.catalogue.define_entry(_market_entry(), MARKET)
    ruling = RoutingRule("rule-d9", "fy-hancong", NOW.date(), "fy-hancong", "d9", "纪要〔2026〕9号")
    await w.catalogue.add_routing_rule(
        matter_code=CODE, rule=ruling, matter_name="", actor=Actor("p-g", "fy-gov", ())
    )
    assert await _who(w, "fy-hancong") == ("fy-hancong", "routing_rule")
    assert await _who(w, "fy-hancong", major_penalty=True) == ("fy-market", "major_penalty")

    exception = DesignateOwner(
        matter_code=CODE,
        responsible_agency_id="fy-hancong",
        basis="抚政发〔2026〕12号",
        township_id="fy-hancong",
        major_penalty_exception=True,
    )
    with pytest.raises(Forbidden) as err:
        await w.catalogue.designate_owner(exception, COORD)
    assert err.value.field == "majorPenaltyException"
    # The coordination body's designation without the exception stays below the reservation.
    await w.catalogue.designate_owner(replace(exception, major_penalty_exception=False), COORD)
    assert await _who(w, "fy-hancong", major_penalty=True) == ("fy-market", "major_penalty")
    w.now[0] += timedelta(minutes=5)
    entry = await w.catalogue.designate_owner(exception, GOV)
    assert entry.routing_rules[-1].major_penalty_exception
    who = await w.catalogue.jurisdiction(
        matter_code=CODE, township_id="fy-hancong", major_penalty=True
    )
    assert (who.resolution.agency_id, who.resolution.reason) == ("fy-hancong", "routing_rule")
    assert "R-CAT-04" in who.resolution.explanation
