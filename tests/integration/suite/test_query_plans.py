"""Every list the graph offers is served by an index (issue 21): each repository list is run
with the filter, sort and cursor shapes its GraphQL field passes (one filter at a time, the
caller's read scope, a page after a cursor), every ``find`` and ``count`` it sends is
recorded, and the server's ``explain`` of it must show an index scan and no blocking SORT
stage. A plan that sorts in memory reads every matching document before the first page
comes back, so the list slows down as the collection grows (P4).

Runs against the MongoDB wire-protocol server (SecantusDB here, MongoDB in production; both
plan with the same rules). The embedded store is not concerned: it has its own planner
(SQLite) and is kept for single-machine use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from bson.codec_options import CodecOptions, DatetimeConversion

from coordination.adapters.cooperation import (
    AssistanceRepository,
    InformationQueryRepository,
    TechnicalSupportRepository,
)
from coordination.adapters.duties import (
    CorrectionRepository,
    JointRulingRepository,
    OnSiteRepository,
    ParticipationRepository,
)
from coordination.adapters.joint import JointOperationRepository
from coordination.adapters.meetings import MeetingRepository
from coordination.adapters.repository import (
    AgencyRepository,
    CatalogueRepository,
    DisputeRepository,
)
from kernel.adapters.mongo_store import MongoCollection, MongoStore
from kernel.keyset import Direction, ListQuery
from kernel.store import DocumentStore
from notify.adapters.record import RecordRepository
from notify.adapters.repository import InboxRepository
from notify.adapters.supervision import RatingRepository
from notify.adapters.watch import DeadlineRepository
from notify.adapters.webhooks import WebhookRepository
from referral.adapters.repository import ComplaintRepository, ReferralFilter, ReferralRepository

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AGENCY = "dept-a"


@dataclass
class Sent:
    """One request a list sent: ``find`` (with sort and limit) or ``count``."""

    collection: Any  # pymongo AsyncCollection
    command: str
    filter: dict[str, Any]
    sort: list[tuple[str, int]] | None = None
    limit: int | None = None


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch, mongo_store: DocumentStore) -> Iterator[list[Sent]]:
    """Every find and count the mongo adapter sends to this test's database while the test
    runs (a background worker another test left running in the process talks to its own
    database, and is not this test's to explain)."""
    log: list[Sent] = []
    find, count = MongoCollection.find, MongoCollection.count
    assert isinstance(mongo_store, MongoStore)
    ours = mongo_store.database.name

    async def recording_find(self: MongoCollection, filter: Any, **kw: Any) -> Any:
        if self._c.database.name == ours:
            sort = list(kw["sort"]) if kw.get("sort") else None
            log.append(Sent(self._c, "find", dict(filter), sort, kw.get("limit")))
        return await find(self, filter, **kw)

    async def recording_count(self: MongoCollection, filter: Any) -> int:
        if self._c.database.name == ours:
            log.append(Sent(self._c, "count", dict(filter)))
        return await count(self, filter)

    monkeypatch.setattr(MongoCollection, "find", recording_find)
    monkeypatch.setattr(MongoCollection, "count", recording_count)
    yield log


def _stages(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    if "inputStage" in plan:
        yield from _stages(plan["inputStage"])
    for child in plan.get("inputStages", []):
        yield from _stages(child)
    if "queryPlan" in plan:  # the express / subplan wrappers of newer servers
        yield from _stages(plan["queryPlan"])


async def _plan(s: Sent) -> list[str]:
    if s.command == "find":
        body: dict[str, Any] = {"find": s.collection.name, "filter": s.filter}
        if s.sort:
            body["sort"] = dict(s.sort)
        if s.limit:
            body["limit"] = s.limit
    else:
        body = {"count": s.collection.name, "query": s.filter}
    # Index bounds of dates reach past Python's datetime range: decode them as numbers.
    answer = await s.collection.database.command(
        {"explain": body},
        codec_options=CodecOptions(datetime_conversion=DatetimeConversion.DATETIME_AUTO),
    )
    return [stage["stage"] for stage in _stages(answer["queryPlanner"]["winningPlan"])]


INDEXED = {"IXSCAN", "COUNT_SCAN", "IDHACK", "EXPRESS_IXSCAN", "EXPRESS_CLUSTERED_IXSCAN"}


def _problem(stages: list[str]) -> str | None:
    if "SORT" in stages:
        return "blocking SORT"
    if "COLLSCAN" in stages or not INDEXED.intersection(stages):
        return "no index scan"
    return None


@dataclass(frozen=True)
class ListCall:
    label: str
    run: Callable[[DocumentStore], Awaitable[object]]


def _referral_calls() -> list[ListCall]:
    """``referrals``: every sort field both ways, each filter of the graph alone, the
    caller's read scope (own agency: sender or receiver; judicial observers: crimes only),
    and a page after a cursor."""
    calls = []

    def search(f: ReferralFilter, sort: str, desc: bool, after: bool) -> ListCall:
        async def run(store: DocumentStore) -> object:
            cursor = (AT, "r-1") if after else None
            return await ReferralRepository(store).search(
                f, sort_field=sort, descending=desc, after=cursor, limit=21
            )

        return ListCall(f"referrals {f} sort={sort} desc={desc} after={after}", run)

    filters = [
        ReferralFilter(),
        ReferralFilter(statuses=("sent",)),
        ReferralFilter(statuses=("sent", "accepted")),
        ReferralFilter(sender_id=AGENCY),
        ReferralFilter(receiver_id=AGENCY),
        ReferralFilter(matter_code="M-1"),
        ReferralFilter(party_agency_id=AGENCY),
        ReferralFilter(party_agency_id=AGENCY, statuses=("sent",)),
        ReferralFilter(party_agency_id=AGENCY, receiver_id=AGENCY),
        ReferralFilter(crime_only=True),
    ]
    for f in filters:
        for sort in ("created_at", "found_at", "open_due"):
            for desc in (False, True):
                calls.append(search(f, sort, desc, after=False))
        calls.append(search(f, "created_at", True, after=True))
    overdue = ReferralFilter(overdue_at=AT)
    calls.append(search(overdue, "open_due", False, after=False))
    calls.append(search(overdue, "open_due", False, after=True))
    return calls


def _complaint_calls() -> list[ListCall]:
    calls = []
    for status in (None, "registered"):
        for owner in (None, AGENCY):
            for after in (None, (AT, "c-1")):

                async def run(
                    store: DocumentStore,
                    status: str | None = status,
                    owner: str | None = owner,
                    after: tuple[datetime, str] | None = after,
                ) -> object:
                    return await ComplaintRepository(store).search(
                        status=status,
                        owner_agency_id=owner,
                        descending=True,
                        after=after,
                        limit=21,
                    )

                calls.append(ListCall(f"complaints status={status} owner={owner} {after}", run))
    return calls


def _list_queries() -> list[ListQuery]:
    """The shapes the coordination lists take (issue 18): either side or one, statuses, a
    time range, both orders, a page after a cursor."""
    return [
        ListQuery(),
        ListQuery(agency_id=AGENCY),
        ListQuery(agency_id=AGENCY, direction=Direction.SENT, statuses=("open",)),
        ListQuery(agency_id=AGENCY, direction=Direction.RECEIVED, after=(AT, "x")),
        ListQuery(statuses=("open", "closed"), descending=False, after=(AT, "x")),
        ListQuery(time_from=AT, time_to=AT, descending=True),
    ]


def _coordination_calls() -> list[ListCall]:
    def call(label: str, run: Callable[[DocumentStore], Awaitable[object]]) -> ListCall:
        return ListCall(label, run)

    calls = [
        call("agencies", lambda s: AgencyRepository(s).list(kind=None, after=None, limit=51)),
        call("agencies by kind", lambda s: AgencyRepository(s).list(kind="x", after="a", limit=51)),
        call("catalogue", lambda s: CatalogueRepository(s).list(after="m", limit=51)),
        call(
            "catalogue of township",
            lambda s: CatalogueRepository(s).list(township_id=AGENCY, after="m", limit=51),
        ),
        call(
            "catalogue of department",
            lambda s: CatalogueRepository(s).list(department_id=AGENCY, limit=51),
        ),
        call(
            "assistance refusals",
            lambda s: AssistanceRepository(s).refusals(
                helper_id=AGENCY, after="a", limit=51, party_id=AGENCY
            ),
        ),
    ]
    for status in (None, "open"):
        for agency in (None, AGENCY):
            for party in (None, AGENCY):
                calls.append(
                    call(
                        f"joint operations status={status} agency={agency} party={party}",
                        lambda s, st=status, ag=agency, pa=party: JointOperationRepository(s).list(
                            agency_id=ag, status=st, basis=None, after="j", limit=51, party_id=pa
                        ),
                    )
                )
    for q in _list_queries():
        calls.append(call(f"meetings {q}", lambda s, q=q: MeetingRepository(s).search(q, limit=51)))
        for party in (None, AGENCY):
            if q.direction is not Direction.RECEIVED:  # a dispute has parties, no receiver
                calls.append(
                    call(
                        f"disputes {q} party={party}",
                        lambda s, q=q, pa=party: DisputeRepository(s).search(
                            q, limit=51, party_id=pa
                        ),
                    )
                )
            for requests in (
                AssistanceRepository,
                TechnicalSupportRepository,
                InformationQueryRepository,
            ):
                calls.append(
                    call(
                        f"{requests.name} {q} party={party}",
                        lambda s, r=requests, q=q, pa=party: r(s).search(q, limit=51, party_id=pa),
                    )
                )
    for repo in (
        AssistanceRepository,
        TechnicalSupportRepository,
        InformationQueryRepository,
        OnSiteRepository,
        CorrectionRepository,
        ParticipationRepository,
        JointRulingRepository,
    ):
        for agency in (None, AGENCY):
            for party in (None, AGENCY):
                calls.append(
                    call(
                        f"{repo.name} agency={agency} party={party}",
                        lambda s, r=repo, ag=agency, pa=party: r(s).list(
                            agency_id=ag, after="x", limit=51, party_id=pa
                        ),
                    )
                )
    return calls


def _notify_calls() -> list[ListCall]:
    calls = []
    for unread in (False, True):
        for before in (None, (AT, "i-1")):
            calls.append(
                ListCall(
                    f"inbox unread={unread} before={before}",
                    lambda s, u=unread, b=before: InboxRepository(s).for_agency(
                        AGENCY, unread_only=u, before=b, limit=21
                    ),
                )
            )
    calls.append(
        ListCall("unread count", lambda s: InboxRepository(s).count(AGENCY, unread_only=True))
    )
    calls.append(
        ListCall("inbox since", lambda s: InboxRepository(s).added_since(AGENCY, AT, limit=100))
    )
    for types in (None, ["Referral"]):
        for due_before in (None, AT):
            for after in (None, (AT, "k")):
                calls.append(
                    ListCall(
                        f"work queue types={types} due_before={due_before} after={after}",
                        lambda s, t=types, d=due_before, a=after: DeadlineRepository(s).queue_page(
                            AGENCY, "running", subject_types=t, due_before=d, after=a, limit=21
                        ),
                    )
                )
            calls.append(
                ListCall(
                    f"work queue count types={types} due_before={due_before}",
                    lambda s, t=types, d=due_before: DeadlineRepository(s).queue_count(
                        AGENCY, "running", subject_types=t, due_before=d
                    ),
                )
            )
    calls += [
        ListCall(
            "deadlines of agency",
            lambda s: DeadlineRepository(s).for_agency(AGENCY, ["running", "paused"]),
        ),
        ListCall("work queue changes", lambda s: DeadlineRepository(s).changed_since(AGENCY, AT)),
        ListCall("deadlines due between", lambda s: DeadlineRepository(s).due_between(AT, AT)),
        ListCall("supervision ratings", lambda s: RatingRepository(s).between(AT, AT)),
        ListCall(
            "process record",
            lambda s: RecordRepository(s).search(
                district="d", subject="r-1", agency_id=AGENCY, after_seq=3, limit=51
            ),
        ),
        ListCall(
            "process record by time",
            lambda s: RecordRepository(s).search(district="d", time_from=AT, time_to=AT),
        ),
        ListCall(
            "webhook deliveries",
            lambda s: WebhookRepository(s).list_deliveries(
                "w-1", state="failed", after=(AT, "x"), limit=51
            ),
        ),
    ]
    return calls


ALL_CALLS = _referral_calls() + _complaint_calls() + _coordination_calls() + _notify_calls()

REPOSITORIES = (
    ReferralRepository,
    ComplaintRepository,
    AgencyRepository,
    CatalogueRepository,
    DisputeRepository,
    MeetingRepository,
    JointOperationRepository,
    AssistanceRepository,
    TechnicalSupportRepository,
    InformationQueryRepository,
    OnSiteRepository,
    CorrectionRepository,
    ParticipationRepository,
    JointRulingRepository,
    InboxRepository,
    DeadlineRepository,
    RatingRepository,
    RecordRepository,
    WebhookRepository,
)


async def test_every_list_is_served_by_an_index_without_sorting_in_memory(
    mongo_store: DocumentStore, sent: list[Sent]
) -> None:
    """Issue 21 (P4, every list the graph offers): IXSCAN, no blocking SORT."""
    for repository in REPOSITORIES:
        await repository(mongo_store).ensure_indexes()
    problems = []
    for call in ALL_CALLS:
        sent.clear()
        await call.run(mongo_store)
        assert sent, f"{call.label}: sent no find or count"
        for s in sent:
            stages = await _plan(s)
            problem = _problem(stages)
            if problem:
                problems.append(
                    f"{call.label}: {problem} {stages} for {s.collection.name} "
                    f"{s.filter} sort={s.sort}"
                )
    assert not problems, "\n".join(problems)
