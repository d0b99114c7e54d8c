"""The authorization matrix (docs/authorization.md, ``kernel.authz``) enforced by the notify
subgraph, through its real GraphQL schema (the service app on the embedded store): inboxes
and receipts, the full-process record, the supervision reports, webhooks (register, rotate
the secret, replay), copies and ratings. The allowed role with the right relation passes; the
wrong role, or the right role without the relation, gets FORBIDDEN and nothing changes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from kernel.envelope import EventPayload, new_envelope
from kernel.settings import Settings
from kernel.wiring import build_deps
from liandong.authorization import operations, rules_for
from notify.bootstrap import NotifyService, bootstrap
from notify.domain.webhooks import RetryPolicy
from tests.fixtures import graph as graphs
from tests.fixtures.graph import Who, err
from tests.fixtures.settings import embedded_settings

from .test_notify_copies_supervision import CatalogueEntryChanged
from .test_notify_watch import (
    deliver,
    eventually,
    items,
    referral_sent,
    register_agencies,
)

pytestmark = pytest.mark.timeout(120)


TOWN_CLERK = Who("fy-hancong", ("clerk",))
TOWN_LEADER = Who("fy-hancong", ("leader",))
TOWN_REVIEWER = Who("fy-hancong", ("legal_reviewer",))
MARKET_CLERK = Who("fy-market", ("clerk",))
MARKET_LEADER = Who("fy-market", ("leader",))
APPROVAL_CLERK = Who("fy-approval", ("clerk",))
JUSTICE_CLERK = Who("fy-justice", ("clerk",))
GOV = Who("fy-gov", ("government",))
COORD = Who("fy-coord", ("coordinator",))
SUPERVISOR = Who("fy-gov", ("supervisor",))
PROCURATORATE = Who("fy-procuratorate", ("judicial_observer",))
POLICE_SYSTEM = Who("fy-police", ("bureau_system",))
MARKET_SYSTEM = Who("fy-market", ("bureau_system",))
POLICE_CLERK = Who("fy-police", ("clerk",))

AGENCIES = (
    ("fy-hancong", "寒葱沟镇人民政府", "township"),
    ("fy-market", "抚远市市场监督管理局", "department"),
    ("fy-approval", "抚远市行政审批局", "approval_bureau"),
    ("fy-justice", "抚远市司法局", "justice_bureau"),
    ("fy-police", "抚远市公安局", "public_security"),
)


class Graph(graphs.Graph):
    """The notify endpoint, with the service behind it (to deliver events to it)."""

    def __init__(self, service: NotifyService, client: httpx.AsyncClient, settings: Settings):
        super().__init__(client, settings)
        self.service = service


@pytest.fixture
async def graph(tmp_path: Path, unique_name: str) -> AsyncIterator[Graph]:
    settings = embedded_settings(tmp_path, unique_name)
    # Fast retries and an early dead letter, so that a delivery to a closed port dies soon.
    retry = RetryPolicy(
        base=timedelta(milliseconds=20), cap=timedelta(milliseconds=50), max_attempts=2
    )
    service = bootstrap(await build_deps(settings, "notify"), webhook_retry=retry)
    await service.runtime.start()
    await register_agencies(service, AGENCIES)
    await deliver(
        service,
        new_envelope(
            CatalogueEntryChanged(
                code="330217001", name="食品经营", original_department_id="fy-market", version=1
            ),
            district="fuyuan",
            service="coordination",
            subject="330217001",
        ),
    )
    transport = httpx.ASGITransport(app=service.create_app(manage_lifecycle=False))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://notify") as client:
            yield Graph(service, client, settings)
    finally:
        await service.runtime.stop()


INBOX = "{ myInbox { edges { node { id readAt } } } }"
AGENCY_INBOX = (
    'query { _entities(representations: [{__typename: "Agency", id: "fy-hancong"}]) '
    "{ ... on Agency { inbox { edges { node { id } } } } } }"
)
ACK = (
    "mutation($id: ID!) { m: acknowledgeInboxItem(id: $id) { "
    + err("... on InboxItem { id readAt }")
    + " } }"
)


async def test_R_NTF_04_inbox_is_read_and_signed_by_the_addressed_agency(graph: Graph) -> None:
    g = graph
    await deliver(g.service, referral_sent("r-1", "fy-hancong"))
    [edge] = (await g.data(TOWN_CLERK, INBOX))["myInbox"]["edges"]
    item_id = edge["node"]["id"]

    async def probe() -> Any:
        return (await g.data(TOWN_CLERK, INBOX))["myInbox"]

    # Another agency's inbox: its staff and the supervising roles only.
    for who in (TOWN_REVIEWER, GOV, SUPERVISOR):
        data = await g.data(who, AGENCY_INBOX)
        assert [e["node"]["id"] for e in data["_entities"][0]["inbox"]["edges"]] == [item_id]
    for who in (MARKET_CLERK, COORD, PROCURATORATE, POLICE_SYSTEM):
        await g.forbidden_read(who, AGENCY_INBOX)
    # A bureau system has no inbox to read, not even its own agency's.
    await g.forbidden_read(MARKET_SYSTEM, INBOX)

    # Signing: staff of the addressed agency; not another agency, not the procuratorate, not
    # a bureau system, not a supervisor reading someone else's inbox.
    for who in (MARKET_CLERK, GOV, PROCURATORATE, Who("fy-hancong", ("bureau_system",))):
        await g.refused(who, ACK, probe, id=item_id)
    signed = await g.ok(TOWN_CLERK, ACK, id=item_id)
    assert signed["readAt"] is not None


RECORD = (
    "query($of: ID) { processRecord(filter: {agencyId: $of}) { edges { node { id agencyIds } } } }"
)


async def test_R_SUP_01_process_record_whole_for_supervisors_own_entries_for_staff(
    graph: Graph,
) -> None:
    g = graph
    await deliver(g.service, referral_sent("r-1", "fy-hancong"))
    await deliver(g.service, referral_sent("r-2", "fy-police"))

    async def entries(who: Who, of: str | None = None) -> list[list[str]]:
        data = await g.data(who, RECORD, of=of)
        return [e["node"]["agencyIds"] for e in data["processRecord"]["edges"]]

    async def both() -> list[list[str]] | None:
        rows = await entries(GOV)
        named = {a for ids in rows for a in ids}
        return rows if {"fy-hancong", "fy-police"} <= named else None

    everything = await eventually(both, "both referrals in the record")
    assert await entries(SUPERVISOR) == everything
    # Issue 16, finding 3 (R-REF-14): the procuratorate reads the entries of suspected-crime
    # transfers only — not the whole record with its payloads (before: every entry).
    assert await entries(PROCURATORATE) == []
    await deliver(g.service, crime_transferred("r-2"))

    async def crime_entry() -> list[list[str]] | None:
        return await entries(PROCURATORATE) or None

    [crime] = await eventually(crime_entry, "the crime transfer in the record")
    assert "fy-police" in crime
    assert len(await entries(SUPERVISOR)) == len(everything) + 1
    types = await g.data(PROCURATORATE, RECORD_TYPES, t=["referral.sent.v1"])
    assert types["processRecord"]["edges"] == []
    # Staff see the entries naming their agency, and cannot ask for another's.
    own = await entries(TOWN_CLERK)
    assert own and all("fy-hancong" in ids for ids in own)
    await g.forbidden_read(TOWN_CLERK, RECORD, of="fy-police")
    # A bureau system reads no record.
    await g.forbidden_read(POLICE_SYSTEM, RECORD)


RECORD_TYPES = (
    "query($t: [String!]) { processRecord(filter: {types: $t}) { edges { node { id } } } }"
)


class CrimeTransferred(EventPayload):
    event_type = "referral.crime_transferred.v1"

    referral_id: str
    sender_id: str
    receiver_id: str
    police_id: str
    agency_id: str
    reason: str


def crime_transferred(rid: str) -> Any:
    payload = CrimeTransferred(
        referral_id=rid,
        sender_id="fy-market",
        receiver_id="fy-police",
        police_id="fy-police",
        agency_id="fy-market",
        reason="涉嫌犯罪",
    )
    return new_envelope(payload, district="fuyuan", service="referral", subject=rid)


MONTHLY = '{ monthlyReminderList(month: "2026-03") { kind period } }'
BULLETIN = "{ quarterlyBulletin(year: 2026, quarter: 1) { kind period } }"


async def test_R_SUP_02_reports_for_supervisors_and_the_justice_bureau(graph: Graph) -> None:
    g = graph
    for who in (GOV, SUPERVISOR, JUSTICE_CLERK):
        assert (await g.data(who, MONTHLY))["monthlyReminderList"]["kind"] == "monthly"
        assert (await g.data(who, BULLETIN))["quarterlyBulletin"]["kind"] == "quarterly"
    for who in (TOWN_LEADER, MARKET_CLERK, COORD, PROCURATORATE, POLICE_SYSTEM):
        await g.forbidden_read(who, MONTHLY)
        await g.forbidden_read(who, BULLETIN)


APPROVAL = (
    "mutation($input: ReportApprovalInput!) { m: reportApproval(input: $input) { "
    + err("... on InboxItem { id agencyId }")
    + " } }"
)
HAZARD = (
    "mutation($input: ReportHazardInput!) { m: reportHazard(input: $input) { "
    + err("... on InboxItem { id agencyId }")
    + " } }"
)
RATE_DEPT = (
    "mutation($input: RateDepartmentInput!) { m: rateDepartment(input: $input) { "
    + err("... on AgencyRating { score }")
    + " } }"
)
RATE_TOWN = (
    "mutation($input: RateTownshipInput!) { m: rateTownship(input: $input) { "
    + err("... on AgencyRating { score }")
    + " } }"
)


async def test_R_NTF_01_R_NTF_03_copies_are_reported_by_acting_staff(graph: Graph) -> None:
    g = graph

    async def town_items() -> Any:
        return [i.id for i in await items(g.service, "fy-hancong")]

    async def market_items() -> Any:
        return [i.id for i in await items(g.service, "fy-market")]

    approval = {
        "number": "抚审批〔2026〕12号",
        "matterCode": "330217001",
        "townshipId": "fy-hancong",
        "summary": "准予食品经营许可",
    }
    for who in (Who("fy-approval", ("legal_reviewer",)), GOV, PROCURATORATE, POLICE_SYSTEM):
        await g.refused(who, APPROVAL, town_items, input=approval)
    copied = await g.ok(APPROVAL_CLERK, APPROVAL, input=approval)
    assert copied["agencyId"] == "fy-hancong"

    hazard = {
        "kind": "hazard",
        "matterCode": "330217001",
        "place": "寒葱沟镇某市场",
        "description": "消防通道堵塞",
    }
    for who in (TOWN_REVIEWER, COORD, PROCURATORATE):
        await g.refused(who, HAZARD, market_items, input=hazard)
    told = await g.ok(TOWN_CLERK, HAZARD, input=hazard)
    assert told["agencyId"] == "fy-market"


async def test_R_SUP_03_ratings_are_given_by_a_leader_in_the_agencys_name(graph: Graph) -> None:
    g = graph

    async def probe() -> Any:
        ratings = await g.service.supervision.ratings.between(
            datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
        )
        return sorted((r.direction, r.rater_agency_id, r.score) for r in ratings)

    rate_dept = {"departmentId": "fy-market", "score": 4, "comment": "指导到位"}
    for who in (TOWN_CLERK, TOWN_REVIEWER, GOV, PROCURATORATE):
        await g.refused(who, RATE_DEPT, probe, input=rate_dept)
    assert (await g.ok(TOWN_LEADER, RATE_DEPT, input=rate_dept))["score"] == 4
    rate_town = {"townshipId": "fy-hancong", "score": 5, "comment": "配合良好"}
    for who in (MARKET_CLERK, SUPERVISOR, POLICE_SYSTEM):
        await g.refused(who, RATE_TOWN, probe, input=rate_town)
    assert (await g.ok(MARKET_LEADER, RATE_TOWN, input=rate_town))["score"] == 5


REGISTER = (
    "mutation($input: RegisterWebhookInput!) { m: registerWebhook(input: $input) { "
    + err("... on WebhookRegistration { secret webhook { id } }")
    + " } }"
)
ROTATE = (
    "mutation($id: ID!) { m: rotateWebhookSecret(id: $id) { "
    + err("... on WebhookRegistration { secret webhook { id } }")
    + " } }"
)
REPLAY = (
    "mutation($id: ID!) { m: replayWebhookDelivery(id: $id) { "
    + err("... on WebhookDelivery { id state }")
    + " } }"
)
WEBHOOKS = "{ webhooks { id } }"


async def test_webhooks_belong_to_the_bureau_system_that_registered_them(graph: Graph) -> None:
    g = graph
    hook = {"url": "http://127.0.0.1:9/hook", "eventTypes": ["referral.sent.v1"]}

    async def subscriptions() -> Any:
        return sorted(d["_id"] for d in await g.service.webhooks.repo.subscriptions_of(None))

    for who in (POLICE_CLERK, GOV, PROCURATORATE):
        await g.refused(who, REGISTER, subscriptions, input=hook)
    registered = await g.ok(POLICE_SYSTEM, REGISTER, input=hook)
    hook_id, first_secret = registered["webhook"]["id"], registered["secret"]
    assert await subscriptions() == [hook_id]

    # Reading: the owner's system and staff, the supervising roles; others see none of it.
    for who in (POLICE_SYSTEM, POLICE_CLERK, GOV, SUPERVISOR):
        assert [w["id"] for w in (await g.data(who, WEBHOOKS))["webhooks"]] == [hook_id], who
    assert (await g.data(MARKET_SYSTEM, WEBHOOKS))["webhooks"] == []
    await g.forbidden_read(PROCURATORATE, WEBHOOKS)

    # Rotating the secret: only the owning bureau system; the secret is new and shown once.
    async def sealed() -> Any:
        doc = await g.service.webhooks.repo.subscription(hook_id)
        assert doc is not None
        return doc.get("secret_sealed")

    for who in (MARKET_SYSTEM, POLICE_CLERK, GOV, SUPERVISOR):
        await g.refused(who, ROTATE, sealed, id=hook_id)
    rotated = await g.ok(POLICE_SYSTEM, ROTATE, id=hook_id)
    assert rotated["webhook"]["id"] == hook_id and rotated["secret"] != first_secret
    stored = await g.service.webhooks.repo.subscription(hook_id)
    assert stored is not None
    assert g.service.webhooks.signing_secret(stored) == rotated["secret"]
    unknown = (await g.data(POLICE_SYSTEM, ROTATE, id="wh-nope"))["m"]
    assert unknown["code"] == "NOT_FOUND" and unknown["field"] == "subscriptionId"

    # Replay: a delivery to the dead port dies after the retries; the owner's system or a
    # supervising role replays it, nobody else.
    await deliver(g.service, referral_sent("r-9", "fy-police"))

    async def dead() -> Any:
        rows = await g.service.webhooks.repo.list_deliveries(
            hook_id, state="dead", after=None, limit=10
        )
        return rows

    [delivery] = await eventually(dead, "the delivery to a closed port dead-lettered")

    async def state() -> Any:
        d = await g.service.webhooks.repo.delivery(delivery["_id"])
        assert d is not None
        return (d["state"], d["attempts"])

    for who in (MARKET_SYSTEM, POLICE_CLERK, COORD, PROCURATORATE):
        await g.refused(who, REPLAY, state, id=delivery["_id"])
    replayed = await g.ok(GOV, REPLAY, id=delivery["_id"])
    assert replayed["id"] == delivery["_id"] and replayed["state"] != "dead"


def test_every_notify_operation_is_enforced() -> None:
    """Notify decides through its own matrix, and each of its operations has a rule."""
    from notify.application import access
    from notify.application.matrix import MATRIX

    assert access.MATRIX is MATRIX
    for op in operations("notify"):
        rules = rules_for(op)
        assert rules and all(r.service == "notify" for r in rules), op


RECORD_ORDERED = (
    "query($order: ListOrder!, $after: String) { processRecord(orderBy: $order, first: 1,"
    " after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }"
)


async def test_R_SUP_01_process_record_pages_newest_first_too(graph: Graph) -> None:
    """Issue 18: the record runs both ways (``orderBy``), each page counts the whole record."""
    g = graph
    for n in range(3):
        await deliver(g.service, referral_sent(f"r-{n}", "fy-hancong"))

    async def walk(order: str) -> tuple[list[str], set[int]]:
        ids: list[str] = []
        counts: set[int] = set()
        after = None
        while True:
            data = (await g.data(SUPERVISOR, RECORD_ORDERED, order=order, after=after))[
                "processRecord"
            ]
            ids += [e["node"]["id"] for e in data["edges"]]
            counts.add(data["totalCount"])
            if not data["pageInfo"]["hasNextPage"]:
                return ids, counts
            after = data["pageInfo"]["endCursor"]

    async def all_three() -> list[str] | None:
        ids, _ = await walk("OLDEST_FIRST")
        return ids if len(ids) >= 3 else None

    oldest = await eventually(all_three, "three entries in the record")
    newest, counts = await walk("NEWEST_FIRST")
    assert newest == list(reversed(oldest)) and counts == {len(oldest)}
