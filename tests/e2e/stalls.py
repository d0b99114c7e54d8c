"""The stall check after a scenario (issue 14): through the gateway, as the justice bureau,
``referralStalls`` and ``coordinationStalls`` must both be empty — every open case has a
running clock or an owner (R-REF-07: no path leaves a case with no open clock and no owner)."""

from __future__ import annotations

from typing import Any

from tests.e2e.scenario import Gateway

__all__ = ["STALLS", "assert_no_stalls", "stalls"]

STALLS = """
{
  referralStalls { subjectType subjectId status agencyIds since reason }
  coordinationStalls { subjectType subjectId status agencyIds since reason }
}"""


async def stalls(gw: Gateway, justice_id: str = "fy-justice") -> list[dict[str, Any]]:
    """Every stalled case the supervisors see (referrals first)."""
    body = await gw.query(gw.mint(justice_id, ["supervisor"]), STALLS)
    assert "errors" not in body, body
    data = body["data"]
    return [*data["referralStalls"], *data["coordinationStalls"]]


async def assert_no_stalls(gw: Gateway, justice_id: str = "fy-justice") -> None:
    """The scenario left no case stalled. Events still in flight (a decline's dispute on its
    way) are given the time the other e2e waits give them."""
    from tests.e2e.scenario import eventually

    async def empty() -> bool:
        return not await stalls(gw, justice_id)

    try:
        await eventually(empty, within=15, what="an empty stall list")
    except AssertionError:
        found = await stalls(gw, justice_id)
        raise AssertionError(f"stalled cases after the scenario: {found}") from None
