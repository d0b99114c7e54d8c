"""Referral drafts and sending one referral through the real GraphQL API, as a clerk and
a leader of the sending agency would (the end-to-end tests and the benchmarks share them)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from kernel.clock import Clock, system_clock

__all__ = ["DRAFT", "MATERIAL", "STEP", "draft_input", "send_one"]

CHINA = ZoneInfo("Asia/Shanghai")

DRAFT = """
mutation($input: DraftReferralInput!) {
  draftReferral(input: $input) {
    __typename ... on Referral { id } ... on UserError { code message field }
  }
}"""
MATERIAL = """
mutation($id: ID!, $input: MaterialInput!) {
  addReferralMaterial(id: $id, input: $input) { __typename ... on UserError { code message } }
}"""
STEP = """
mutation($id: ID!) { %s(id: $id) { __typename ... on UserError { code message field } } }"""


def draft_input(
    sender: str, receiver: str, title: str, *, now: Clock, **over: Any
) -> dict[str, Any]:
    """A referral draft found an hour before ``now``, the clock of the services it is sent
    to (dates are derived from it, never written down: a fixed date runs out of its send
    clock as the calendar moves on)."""
    found = (now() - timedelta(hours=1)).astimezone(CHINA).replace(microsecond=0)
    draft: dict[str, Any] = {
        "senderId": sender,
        "receiverId": receiver,
        # Delegated to 寒葱沟镇 in the demo catalogue, so the receiver is competent (R-CAT-02).
        "matterCode": "FY-SCJG-001",
        "title": title,
        "facts": f"{found.year}年{found.month}月{found.day}日检查发现当事人"
        "未取得营业执照从事食品经营活动。",
        "party": "某某食杂店",
        "place": "寒葱沟镇中心街12号",
        "foundAt": found.isoformat(),
    }
    draft.update(over)
    return draft


async def _gql(
    client: httpx.AsyncClient, path: str, token: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(
        path,
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    if body.get("errors"):
        raise RuntimeError(f"GraphQL errors: {body['errors']}")
    return body


async def send_one(
    client: httpx.AsyncClient,
    path: str,
    mint: Any,
    *,
    sender: str = "fy-market",
    receiver: str = "fy-hancong",
    title: str = "无证经营",
    within: float = 60,
    now: Clock = system_clock,
) -> str:
    """Take one referral from draft to sent through ``path`` (a referral /graphql);
    returns its id. Waits (bounded) until the service knows the demo agencies."""
    clerk = mint(sender, ["clerk"])
    leader = mint(sender, ["leader"])
    deadline = time.monotonic() + within
    while True:
        body = await _gql(
            client, path, clerk, DRAFT, {"input": draft_input(sender, receiver, title, now=now)}
        )
        result = body["data"]["draftReferral"]
        if result["__typename"] == "Referral":
            rid: str = result["id"]
            break
        # The agency read model fills from coordination's events a moment after start.
        if time.monotonic() > deadline:
            raise RuntimeError(f"drafting a referral keeps failing: {result}")
        await asyncio.sleep(0.3)
    for kind, name, media in (
        ("transfer_letter", "移送函.pdf", "application/pdf"),
        ("source", "现场检查记录.jpg", "image/jpeg"),
    ):
        material = {"kind": kind, "name": name, "mediaType": media, "size": 4096}
        material["sha256"] = "0" * 63 + "1"
        body = await _gql(client, path, clerk, MATERIAL, {"id": rid, "input": material})
        if body["data"]["addReferralMaterial"]["__typename"] != "Referral":
            raise RuntimeError(f"adding a material failed: {body}")
    for token, step in (
        (clerk, "submitReferral"),
        (leader, "approveReferral"),
        (clerk, "sendReferral"),
    ):
        body = await _gql(client, path, token, STEP % step, {"id": rid})
        if body["data"][step]["__typename"] != "Referral":
            raise RuntimeError(f"{step} failed: {body}")
    return rid
