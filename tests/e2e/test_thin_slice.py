"""Issue 2's thin slice end to end through the real gateway, in both topologies."""

from __future__ import annotations

from tests.e2e.scenario import Gateway, run_slice
from tests.e2e.stalls import assert_no_stalls


async def test_slice_embedded_topology_through_gateway(embedded_gateway: Gateway) -> None:
    """R-AG-02, R-REF-03, R-REF-06: three subgraphs answer one query (embedded suite)."""
    referral = await run_slice(embedded_gateway)
    assert referral["acceptDeadline"]["overdue"] is False
    await assert_no_stalls(embedded_gateway)  # issue 14: every open case has a clock


async def test_slice_production_topology_through_gateway(
    shared_production_gateway: Gateway,
) -> None:
    """The same slice with separate processes over RabbitMQ and the MongoDB wire protocol."""
    referral = await run_slice(shared_production_gateway)
    assert referral["acceptDeadline"]["remainingWorkingDays"] >= 4
    await assert_no_stalls(shared_production_gateway)  # issue 14
