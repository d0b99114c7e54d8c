"""The thin slice, driven through the gateway: coordination's demo agencies reach the
other services' read models; referral drafts, gets approval and sends; notify puts the item
in the receiver's inbox; one query crosses all three subgraphs."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from kernel.clock import Clock, system_clock
from liandong.testing.drafts import draft_input, upload_material

__all__ = [
    "ACK",
    "DRAFT",
    "MATERIAL",
    "STEP",
    "Gateway",
    "answer_of",
    "data_of",
    "draft_input",
    "eventually",
    "inbox_item",
    "run_slice",
    "subscription_events",
]

Minter = Callable[[str, list[str]], str]


@dataclass
class Gateway:
    url: str
    mint: Minter
    # The clock the services behind the gateway run on (the test's movable clock): every
    # date a test sends is derived from it, never from today's date.
    now: Clock = system_clock
    # Where the referral service's own file routes are (the gateway proxies GraphQL only).
    files: str = ""
    # Where the coordination service's own routes are (dispatch photos, R-GRD-01).
    coordination: str = ""

    async def upload_photo(
        self,
        token: str,
        dispatch_id: str | None = None,
        *,
        content: bytes,
        media_type: str = "image/jpeg",
    ) -> httpx.Response:
        """A dispatch photo on the coordination service's route (R-GRD-01): for a report not
        yet filed (``dispatch_id`` None) or for a dispatch."""
        assert self.coordination, "this topology does not say where coordination's routes are"
        path = f"/dispatches/{dispatch_id}/photos" if dispatch_id else "/dispatch-photos"
        async with httpx.AsyncClient(timeout=60) as client:
            return await client.post(
                self.coordination + path,
                headers={"Authorization": f"Bearer {token}"},
                files={"file": ("现场.jpg", content, media_type)},
            )

    async def upload(self, token: str, referral_id: str, **material: Any) -> dict[str, Any]:
        """A material's content on the referral service's route (R-REF-02)."""
        assert self.files, "this topology does not say where the referral file routes are"
        async with httpx.AsyncClient(timeout=30) as client:
            return await upload_material(client, self.files, token, referral_id, **material)

    async def query(
        self, token: str, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(
                self.url,
                json={"query": query, "variables": variables or {}},
                headers={
                    "Authorization": f"Bearer {token}",
                    "X-Correlation-Id": f"test-{uuid.uuid4().hex[:8]}",
                },
            )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body


def data_of(body: dict[str, Any]) -> dict[str, Any]:
    """The ``data`` of a GraphQL answer that has no errors."""
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def answer_of(gw: Gateway, token: str, query: str, field: str, **variables: Any) -> Any:
    """Run ``query`` as ``token``'s holder and return the root ``field`` of its data (the
    answer must have no errors)."""
    return data_of(await gw.query(token, query, variables))[field]


async def inbox_item(
    gw: Gateway, token: str, query: str, kind: str, subject: str
) -> dict[str, Any] | None:
    """The caller's agency's inbox item of ``kind`` about ``subject`` in the answer to
    ``query`` (a ``myInbox`` query), or None while it is not there."""
    body = await gw.query(token, query)
    for edge in (body.get("data") or {}).get("myInbox", {}).get("edges", []):
        if edge["node"]["kind"] == kind and edge["node"]["subjectId"] == subject:
            return dict(edge["node"])
    return None


async def eventually(
    check: Callable[[], Awaitable[Any]], *, within: float = 30, what: str = "condition"
) -> Any:
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out after {within}s waiting for {what}; last: {last!r}")


DRAFT = """
mutation($input: DraftReferralInput!) {
  draftReferral(input: $input) {
    __typename
    ... on Referral { id status }
    ... on UserError { code message field }
  }
}"""

STEP = """
mutation($id: ID!) {
  %s(id: $id) {
    __typename
    ... on Referral { id status }
    ... on UserError { code message field }
  }
}"""

#: Acknowledge (签收) an inbox item.
ACK = """
mutation($id: ID!) {
  acknowledgeInboxItem(id: $id) {
    __typename ... on InboxItem { id readAt } ... on UserError { code message field }
  }
}"""

MATERIAL = """
mutation($id: ID!, $input: MaterialInput!) {
  addReferralMaterial(id: $id, input: $input) {
    __typename
    ... on UserError { code message field }
  }
}"""

CROSS = """
query($id: ID!) {
  referral(id: $id) {
    id status title
    acceptDeadline { due explanation remainingWorkingDays overdue }
    sender { id name }
    receiver {
      id name kind
      inbox { edges { node { id title subjectId unread dueAt } } }
    }
  }
}"""


async def run_slice(gw: Gateway) -> dict[str, Any]:
    """Returns the cross-subgraph query's ``referral`` object after asserting on it."""
    clerk = gw.mint("fy-market", ["clerk"])
    leader = gw.mint("fy-market", ["leader"])
    receiver_clerk = gw.mint("fy-hancong", ["clerk"])

    async def directory_ready() -> bool:
        body = await gw.query(
            clerk,
            DRAFT,
            {"input": draft_input("fy-market", "fy-hancong", "probe", now=gw.now)},
        )
        result = body["data"]["draftReferral"]
        return bool(result["__typename"] == "Referral")

    # The referral service learns agencies from coordination's events: wait until it knows.
    await eventually(directory_ready, what="agency read model in referral")

    # R-AG-02 through the whole stack: an internal unit cannot receive a referral.
    body = await gw.query(
        clerk, DRAFT, {"input": draft_input("fy-market", "fy-hancong-center", "bad", now=gw.now)}
    )
    bad = body["data"]["draftReferral"]
    assert bad["__typename"] == "UserError", bad
    assert bad["code"] == "VALIDATION_FAILED" and bad["field"] == "receiverId", bad

    body = await gw.query(
        clerk, DRAFT, {"input": draft_input("fy-market", "fy-hancong", "无证经营", now=gw.now)}
    )
    created = body["data"]["draftReferral"]
    assert created["__typename"] == "Referral", body
    rid = created["id"]

    # Sending before approval is refused with a stable code and changes nothing.
    body = await gw.query(clerk, STEP % "sendReferral", {"id": rid})
    refused = body["data"]["sendReferral"]
    assert refused == {
        "__typename": "UserError",
        "code": "INVALID_STATE",
        "message": refused["message"],
        "field": "status",
    }, refused

    # R-REF-02: the transfer letter and a source material, stored as files, before submission.
    body = await gw.query(clerk, STEP % "generateTransferLetter", {"id": rid})
    assert body["data"]["generateTransferLetter"]["__typename"] == "Referral", body
    await gw.upload(clerk, rid)

    for token, step, status in (
        (clerk, "submitReferral", "PENDING_APPROVAL"),
        (leader, "approveReferral", "APPROVED"),
        (clerk, "sendReferral", "SENT"),
    ):
        body = await gw.query(token, STEP % step, {"id": rid})
        assert body["data"][step] == {"__typename": "Referral", "id": rid, "status": status}, body

    async def crossed() -> dict[str, Any] | None:
        body = await gw.query(receiver_clerk, CROSS, {"id": rid})
        ref = (body.get("data") or {}).get("referral")
        # The township's inbox holds other notices too (catalogue changes, R-NTF-02): wait
        # for the one about this referral.
        edges = ref["receiver"]["inbox"]["edges"] if ref else []
        if any(e["node"]["subjectId"] == rid for e in edges):
            return dict(ref)
        return None

    referral: dict[str, Any] = await eventually(crossed, what="inbox item of the receiver")
    assert referral["status"] == "SENT"
    assert referral["sender"] == {"id": "fy-market", "name": "抚远市市场监督管理局"}
    assert referral["receiver"]["name"] == "寒葱沟镇人民政府"
    assert referral["receiver"]["kind"] == "TOWNSHIP"
    items = [e["node"] for e in referral["receiver"]["inbox"]["edges"]]
    mine = [i for i in items if i["subjectId"] == rid]
    assert len(mine) == 1, items
    assert "无证经营" in mine[0]["title"] and mine[0]["unread"] is True
    assert datetime.fromisoformat(referral["acceptDeadline"]["due"]) == datetime.fromisoformat(
        mine[0]["dueAt"]
    )
    assert "工作日" in referral["acceptDeadline"]["explanation"]
    return referral


async def subscription_events(
    gw: Gateway,
    token: str,
    query: str,
    variables: dict[str, Any],
    out: asyncio.Queue[dict[str, Any]],
) -> None:
    """Reads the server-sent events of one subscription through the gateway into ``out``
    (each ``next`` message's JSON) until it completes or the task is cancelled."""
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as client,
        client.stream(
            "POST",
            gw.url,
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"},
        ) as response,
    ):
        assert response.status_code == 200, await response.aread()
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
                if event == "complete":
                    return
            elif line.startswith("data:") and event == "next":
                await out.put(json.loads(line.removeprefix("data:").strip()))
