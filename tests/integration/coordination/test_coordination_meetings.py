"""Consultation meetings (R-MTG-01) through the handlers on both store adapters: notice → RSVP
→ minutes → agreement → issue → filing → tasks done, state and events written together in the
outbox with their ``deadlines`` blocks; bad input changes nothing. And the letters as Chinese
PDFs (协助执法函, 协助执法复函, 会议纪要): title, agencies, matters and tasks in the text; A4."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from coordination.adapters.cooperation import AssistanceRepository
from coordination.adapters.meetings import MeetingRepository
from coordination.application.assistance import (
    AssistanceHandlers,
    ReplyToAssistance,
    RequestAssistance,
)
from coordination.application.letters import LetterService
from coordination.application.meetings import (
    AnswerMinutes,
    CompleteMeetingTask,
    DraftMinutes,
    FileMinutes,
    IssueMinutes,
    MeetingHandlers,
    RsvpMeeting,
    ScheduleMeeting,
)
from coordination.domain import meetings as mtg
from kernel.adapters.official_pdf import render_pdf
from kernel.calendar import SHANGHAI
from kernel.contracts.deadlines import deadlines_of
from kernel.errors import DomainError, Forbidden, InvalidState, ValidationFailed
from kernel.store import DocumentStore
from tests.fixtures.coordination import (
    NOW,
    StoredDocs,
    caller,
    ensure_indexes,
    fuyuan,
    unchanged,
)
from tests.fixtures.pdf import pdftotext

STARTS = datetime(2026, 3, 16, 1, 0, tzinfo=UTC)  # two weeks later, Monday 09:00
MARKET = caller("p-m", "fy-market", ("leader",))
HOUSING = caller("p-h", "fy-housing", ("leader",))
NATRES = caller("p-n", "fy-natres", ("leader",))
OUTSIDER = caller("p-w", "fy-wusu", ("clerk",))
SUPERVISOR = caller("p-s", "fy-justice", ("supervisor",))


@dataclass
class World:
    store: DocumentStore
    meetings: MeetingHandlers
    assistance: AssistanceHandlers
    letters: LetterService
    now: list[datetime]

    async def raw(self, doc_id: str) -> dict[str, Any]:
        return await StoredDocs(self.store).raw("meetings", doc_id)

    async def events(self, doc_id: str) -> list[dict[str, Any]]:
        return await StoredDocs(self.store).outbox("meetings", doc_id)


@pytest.fixture
async def world(store: DocumentStore) -> World:
    f = await fuyuan(store)
    meetings = MeetingHandlers(MeetingRepository(store), *f.common, clock=f.clock)
    assistance = AssistanceHandlers(AssistanceRepository(store), *f.common, clock=f.clock)
    await ensure_indexes(meetings.meetings, assistance.requests)
    letters = LetterService(f.agencies, assistance.requests, meetings.meetings, render_pdf)
    return World(store, meetings, assistance, letters, f.now)


async def _unchanged(w: World, doc_id: str, call: Any) -> DomainError:
    """``call`` fails with a DomainError and leaves the meeting exactly as it was."""
    return await unchanged(lambda: w.raw(doc_id), call)


def _notice(**over: Any) -> ScheduleMeeting:
    args: dict[str, Any] = dict(
        kind="special",
        title="违法建设查处专题协调会",
        convener_id="fy-market",
        starts_at=STARTS,
        place="抚远市政府三楼会议室",
        attendee_ids=("fy-housing", "fy-natres"),
        agenda=("明确城郊违法建设查处分工",),
    )
    args.update(over)
    return ScheduleMeeting(**args)


def _pdf_text(tmp_path: Path, name: str, pdf: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True)
    assert "(A4)" in info.stdout
    return "".join(pdftotext(path).split())


async def test_R_MTG_01_notice_rsvp_minutes_agreement_issue_filing_and_tasks(
    world: World, tmp_path: Path
) -> None:
    w = world
    # A notice later than 5 working days before the meeting is refused and writes nothing.
    w.now[0] = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
    with pytest.raises(ValidationFailed) as late:
        await w.meetings.schedule(_notice(), MARKET)
    assert late.value.field == "startsAt" and "2026-03-09" in late.value.message
    assert await w.store.collection("meetings").find({}) == []
    # ... unless the special meeting is urgent (recorded as a late notice).
    urgent = await w.meetings.schedule(_notice(urgent=True), MARKET)
    assert urgent.late_notice

    w.now[0] = NOW
    m = await w.meetings.schedule(_notice(), MARKET)
    (scheduled,) = await w.events(m.id)
    assert scheduled["type"] == "meeting.scheduled.v1"
    data = scheduled["data"]
    assert data["actor_id"] == "p-m" and data["state_after"] == "scheduled"
    assert data["place"] and data["agenda"] and data["attendee_ids"] == ["fy-housing", "fy-natres"]
    clocks = deadlines_of(data)
    assert {c.responsible_agency_id for c in clocks} == {"fy-housing", "fy-natres"}
    # RSVP 2 working days before Monday 16 March: by the end of Thursday 12 March.
    assert {c.due.astimezone(SHANGHAI).date() for c in clocks} == {date(2026, 3, 12)}

    await w.meetings.rsvp(RsvpMeeting(m.id, attending=True, delegate="张三"), HOUSING)
    w.now[0] = datetime(2026, 3, 13, 1, 0, tzinfo=UTC)  # after the RSVP limit
    m = await w.meetings.rsvp(RsvpMeeting(m.id, attending=True, delegate="李四"), NATRES)
    late_rsvp = (await w.events(m.id))[-1]
    assert late_rsvp["type"] == "meeting.rsvp_recorded.v1" and late_rsvp["data"]["late"] is True
    await _unchanged(
        w, m.id, w.meetings.rsvp(RsvpMeeting(m.id, attending=True, delegate="王五"), OUTSIDER)
    )

    w.now[0] = STARTS + timedelta(hours=3)
    tasks = (
        mtg.TaskDraft("对城郊违法建设现场进行测量", "fy-natres", date(2026, 3, 28)),  # a Saturday
        mtg.TaskDraft("依法下达限期拆除决定", "fy-housing", date(2026, 4, 10)),
    )
    m = await w.meetings.draft_minutes(
        DraftMinutes(m.id, "会议明确由住房和城乡建设局牵头查处，自然资源局配合测量。", tasks),
        MARKET,
    )
    # Minutes are not issued before every attending agency agrees.
    err = await _unchanged(
        w, m.id, w.meetings.issue_minutes(IssueMinutes(m.id, "纪要〔2026〕1号"), MARKET)
    )
    assert isinstance(err, InvalidState) and "fy-housing" in err.message
    await w.meetings.record_position(AnswerMinutes(m.id, revision=1, agrees=True), HOUSING)
    m = await w.meetings.record_position(
        AnswerMinutes(m.id, revision=1, agrees=False, comment="测量需两周"), NATRES
    )
    await _unchanged(
        w, m.id, w.meetings.issue_minutes(IssueMinutes(m.id, "纪要〔2026〕1号"), MARKET)
    )
    m = await w.meetings.draft_minutes(
        DraftMinutes(
            m.id,
            "会议明确由住房和城乡建设局牵头查处，自然资源局配合测量。",
            (
                mtg.TaskDraft("对城郊违法建设现场进行测量", "fy-natres", date(2026, 3, 28)),
                tasks[1],
            ),
        ),
        MARKET,
    )
    for actor in (HOUSING, NATRES):
        m = await w.meetings.record_position(AnswerMinutes(m.id, revision=2, agrees=True), actor)
    agreed = (await w.events(m.id))[-1]
    assert agreed["type"] == "meeting.minutes_agreed.v1"
    assert agreed["data"]["awaiting_agreement_of"] == []

    m = await w.meetings.issue_minutes(IssueMinutes(m.id, "抚市监纪〔2026〕1号"), MARKET)
    issued = (await w.events(m.id))[-1]
    assert issued["type"] == "meeting.minutes_issued.v1"
    assert [t["owner_agency_id"] for t in issued["data"]["tasks"]] == ["fy-natres", "fy-housing"]
    task_clocks = {c.kind: c for c in deadlines_of(issued["data"])}
    # A deadline on a Saturday moves to the next working day (Monday 30 March).
    assert task_clocks["meeting.task:t1"].due.astimezone(SHANGHAI).date() == date(2026, 3, 30)
    assert task_clocks["meeting.task:t2"].responsible_agency_id == "fy-housing"

    err = await _unchanged(
        w, m.id, w.meetings.file_minutes(FileMinutes(m.id, "fy-housing"), MARKET)
    )
    assert err.field == "withAgencyId"
    m = await w.meetings.file_minutes(FileMinutes(m.id, "fy-justice"), MARKET)
    filed = (await w.events(m.id))[-1]
    assert filed["type"] == "meeting.minutes_filed.v1"
    assert filed["data"]["filed_with_agency_id"] == "fy-justice"

    # A task is done by its owner only.
    err = await _unchanged(
        w, m.id, w.meetings.complete_task(CompleteMeetingTask(m.id, "t1", "已测量"), HOUSING)
    )
    assert isinstance(err, Forbidden)
    m = await w.meetings.complete_task(
        CompleteMeetingTask(m.id, "t1", "已完成现场测量并出具测量报告"), NATRES
    )
    done = (await w.events(m.id))[-1]
    assert done["type"] == "meeting.task_done.v1"
    assert done["data"]["actor_agency_id"] == "fy-natres"
    assert [c.state for c in deadlines_of(done["data"])] == ["met"]
    m = await w.meetings.complete_task(
        CompleteMeetingTask(m.id, "t2", "已下达限期拆除决定"), HOUSING
    )
    assert m.status is mtg.MeetingStatus.COMPLETED
    assert [e["type"] for e in await w.events(m.id)].count("meeting.task_done.v1") == 2

    # 会议纪要 as a PDF: the parties and the supervisor may download it; others may not.
    with pytest.raises(Forbidden):
        await w.letters.minutes(m.id, OUTSIDER)
    await w.letters.minutes(m.id, SUPERVISOR)
    doc = await w.letters.minutes(m.id, HOUSING)
    text = _pdf_text(tmp_path, "minutes.pdf", doc.content)
    for part in (
        "违法建设查处专题协调会会议纪要",
        "抚远市市场监督管理局",
        "对城郊违法建设现场进行测量",
        "依法下达限期拆除决定",
        "抚市监纪〔2026〕1号",
    ):
        assert part in text, part
    assert "住房和城乡建设局" in text and "自然资源局" in text


async def test_R_AST_01_request_and_reply_letters_as_pdf(world: World, tmp_path: Path) -> None:
    w = world
    r = await w.assistance.request(
        RequestAssistance(
            "fy-market",
            "fy-housing",
            ("协助核查违法建设现场", "提供建设工程规划许可资料"),
            letter_number="抚市监协〔2026〕1号",
        ),
        MARKET,
    )
    # No reply yet: the reply letter does not exist.
    with pytest.raises(InvalidState):
        await w.letters.reply_letter(r.id, MARKET)
    text = _pdf_text(
        tmp_path, "request.pdf", (await w.letters.request_letter(r.id, HOUSING)).content
    )
    for part in ("关于商请协助执法的函", "协助核查违法建设现场", "提供建设工程规划许可资料"):
        assert part in text, part
    assert "抚远市市场监督管理局" in text and "住房和城乡建设局" in text
    await w.assistance.reply(
        ReplyToAssistance(
            r.id, False, "抚住建复〔2026〕1号", None, "超出本机关职权范围", "《行政许可法》第三十条"
        ),
        HOUSING,
    )
    text = _pdf_text(tmp_path, "reply.pdf", (await w.letters.reply_letter(r.id, MARKET)).content)
    for part in (
        "关于协助执法事项的复函",
        "抚住建复〔2026〕1号",
        "超出本机关职权范围",
        "协助核查违法建设现场",
    ):
        assert part in text, part
    with pytest.raises(Forbidden):
        await w.letters.request_letter(r.id, OUTSIDER)


async def test_R_MTG_01_far_future_meeting_and_task_deadlines_keep_a_short_record(
    world: World,
) -> None:
    """A meeting and its task deadlines decades ahead: each clock is due on the right day and
    its record of the computation names only the days around that day, so the document and
    its events stay small (counted from now, each 2099 clock recorded ~26,000 days, megabytes,
    and the suite stalled)."""
    w = world
    starts = datetime(2099, 3, 16, 1, 0, tzinfo=UTC)  # Monday 16 March 2099, 09:00 in Shanghai
    m = await w.meetings.schedule(_notice(starts_at=starts), MARKET)
    rsvp = deadlines_of((await w.events(m.id))[0]["data"])
    # 2 working days before Monday 16 March 2099: by the end of Thursday 12 March.
    assert {c.due.astimezone(SHANGHAI).date() for c in rsvp} == {date(2099, 3, 12)}
    for actor in (HOUSING, NATRES):
        await w.meetings.rsvp(RsvpMeeting(m.id, attending=True, delegate="张三"), actor)
    w.now[0] = starts + timedelta(hours=3)
    tasks = (
        mtg.TaskDraft("对城郊违法建设现场进行测量", "fy-natres", date(2099, 12, 26)),  # Saturday
        mtg.TaskDraft("依法下达限期拆除决定", "fy-housing", date(2099, 12, 30)),  # Wednesday
    )
    m = await w.meetings.draft_minutes(DraftMinutes(m.id, "会议明确分工。", tasks), MARKET)
    for actor in (HOUSING, NATRES):
        m = await w.meetings.record_position(AnswerMinutes(m.id, revision=1, agrees=True), actor)
    m = await w.meetings.issue_minutes(IssueMinutes(m.id, "抚市监纪〔2099〕1号"), MARKET)
    clocks = {c.kind: c for c in deadlines_of((await w.events(m.id))[-1]["data"])}
    assert clocks["meeting.task:t1"].due.astimezone(SHANGHAI).date() == date(2099, 12, 28)
    assert clocks["meeting.task:t2"].due.astimezone(SHANGHAI).date() == date(2099, 12, 30)
    assert "2099年12月28日" in (clocks["meeting.task:t1"].explanation_zh or "")
    for clock in m.clocks:
        assert len(clock.explanation["explanation"]["days"]) <= 4, clock.kind
    assert len(repr(await w.raw(m.id))) < 200_000
