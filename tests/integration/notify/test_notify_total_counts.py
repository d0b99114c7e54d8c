"""``totalCount`` on notify's lists (issue 18): the inbox counts its filter (unread only or
not) over all pages, and the work queue's counts are taken only when a client selects them
(the store is asked to count nothing otherwise). R-NTF-04: an agency's inbox and receipts."""

from __future__ import annotations

from tests.integration.notify.test_authz_notify import (
    ACK,
    TOWN_CLERK,
    Graph,
    deliver,
    graph,  # noqa: F401
    referral_sent,
)

INBOX = """query($unread: Boolean! = false, $first: Int! = 20) {
  myInbox(unreadOnly: $unread, first: $first) { totalCount edges { node { id } } } }"""
INBOX_NO_COUNT = "{ myInbox(first: 1) { edges { node { id } } } }"
QUEUE = (
    'query { _entities(representations: [{__typename: "Agency", id: "fy-hancong"}]) '
    "{ ... on Agency { workQueue(first: 5) { edges { cursor } %s } } } }"
)


async def test_R_NTF_04_the_inbox_counts_its_filter_and_only_when_asked(
    graph: Graph,  # noqa: F811
    store_counts: list[str],
) -> None:
    g = graph
    for rid in ("r-1", "r-2", "r-3"):
        await deliver(g.service, referral_sent(rid, "fy-hancong"))
    await deliver(g.service, referral_sent("r-4", "fy-nongqiao"))  # another agency's
    whole = (await g.data(TOWN_CLERK, INBOX))["myInbox"]
    assert whole["totalCount"] == 3 and len(whole["edges"]) == 3
    await g.ok(TOWN_CLERK, ACK, id=whole["edges"][0]["node"]["id"])
    # One page of one; the count is the filter's, all pages.
    page = (await g.data(TOWN_CLERK, INBOX, first=1))["myInbox"]
    assert page["totalCount"] == 3 and len(page["edges"]) == 1
    unread = (await g.data(TOWN_CLERK, INBOX, unread=True, first=1))["myInbox"]
    assert unread["totalCount"] == 2 and len(unread["edges"]) == 1

    store_counts.clear()
    await g.data(TOWN_CLERK, INBOX_NO_COUNT)
    assert store_counts == [], store_counts  # not selected: not counted
    await g.data(TOWN_CLERK, INBOX, first=1)
    assert store_counts == ["inbox_items"], store_counts

    # The work queue's two counts likewise: none unless selected, then one each.
    store_counts.clear()
    await g.data(TOWN_CLERK, QUEUE % "")
    assert store_counts == [], store_counts
    queue = (await g.data(TOWN_CLERK, QUEUE % "totalCount overdueCount"))["_entities"][0]
    assert queue["workQueue"]["totalCount"] >= queue["workQueue"]["overdueCount"] >= 0
    assert len(store_counts) == 2, store_counts
