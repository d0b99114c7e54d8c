"""The coordination service's official documents as Chinese PDFs (kernel.documents):
协助执法函 and 协助执法复函 from an assistance request (R-AST-01/02), 会议纪要 from issued
minutes (R-MTG-01). Each is rendered on demand from the stored aggregate: the rendering is
deterministic, so the same state always gives the same bytes.

Who may download: the parties (requester, helper and a mediating legal office, as for reading
the request; convener and attendees) and the supervising and governing roles; everyone else
gets Forbidden.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from coordination.adapters.cooperation import AssistanceRepository
from coordination.adapters.meetings import MeetingRepository
from coordination.adapters.repository import AgencyRepository
from coordination.application import access
from coordination.application.actors import acting
from coordination.application.catalogue import local_date
from coordination.application.cooperation import ASSISTANCE_READ
from coordination.domain.assistance import AssistanceRequest
from coordination.domain.cooperation import Actor
from coordination.domain.meetings import Meeting
from kernel.caller import Caller
from kernel.documents import (
    DocumentRenderer,
    Heading,
    MinutesDocument,
    OfficialDocument,
    chinese_date,
)
from kernel.errors import InvalidState, NotFound

_ORDINALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class RenderedDocument:
    filename: str
    content: bytes


def _ordinal(i: int) -> str:
    return _ORDINALS[i] if i < len(_ORDINALS) else str(i + 1)


def _day(at: datetime) -> str:
    return chinese_date(local_date(at))


def request_letter(r: AssistanceRequest, names: dict[str, str]) -> OfficialDocument:
    """协助执法函: the requester asks the helper to assist with the named matters."""
    if r.letter_number is None or r.letter_sent_at is None:
        raise InvalidState(
            "the request letter has not been sent yet (only the phone call exists)",
            field="letterNumber",
            code="NOT_YET",
        )
    requester, helper = names[r.requester_id], names[r.helper_id]
    body: list[str | Heading] = []
    if r.phone_call is not None:
        body.append(
            f"{_day(r.phone_call.at)}，我单位已就下列事项电话商请你单位协助执法"
            f"（提请人：{r.phone_call.caller}，接听人：{r.phone_call.called}），现补送本函。"
        )
    body.append("因执法工作需要，根据行政执法协调联动有关规定，现商请你单位协助办理以下事项：")
    body += [f"（{_ordinal(i)}）{m}" for i, m in enumerate(r.matters)]
    body.append(
        "本事项情况紧急，请你单位收函后立即实施协助。"
        if r.urgent
        else "请你单位收函后及时以书面形式回复是否协助及协助时间。"
    )
    body.append("特此函告。")
    return OfficialDocument(
        title="关于商请协助执法的函",
        issuing_agency=requester,
        date=local_date(r.letter_sent_at),
        number=r.letter_number,
        addressees=(helper,),
        body=tuple(body),
        metadata={"subject": f"assistance {r.id}", "keywords": "协助执法函"},
    )


def reply_letter(r: AssistanceRequest, names: dict[str, str]) -> OfficialDocument:
    """协助执法复函: help from the agreed date, or a refusal with its legal grounds."""
    if r.reply_letter_number is None or r.replied_at is None:
        raise InvalidState(
            "the helper has not replied yet", field="replyLetterNumber", code="NOT_YET"
        )
    requester, helper = names[r.requester_id], names[r.helper_id]
    cited = f"（{r.letter_number}）" if r.letter_number else "（电话提请）"
    body: list[str | Heading] = [
        f"你单位《关于商请协助执法的函》{cited}收悉。所商请协助的事项为：",
        *(f"（{_ordinal(i)}）{m}" for i, m in enumerate(r.matters)),
    ]
    if r.refusal is not None:
        body += [
            f"经研究，我单位依法不予协助。理由：{r.refusal.grounds}。",
            f"法律依据：{r.refusal.legal_provision}。",
            "你单位如有异议，可提请政府法制机构协调处理。",
        ]
    else:
        start = chinese_date(r.agreed_start_on) if r.agreed_start_on else _day(r.replied_at)
        body.append(
            f"经研究，我单位同意协助，{'即时' if r.urgent else ''}自{start}起实施协助，"
            "并将协助执法情况及时反馈你单位。"
        )
    body.append("特此函复。")
    return OfficialDocument(
        title="关于协助执法事项的复函",
        issuing_agency=helper,
        date=local_date(r.replied_at),
        number=r.reply_letter_number,
        addressees=(requester,),
        body=tuple(body),
        metadata={"subject": f"assistance {r.id}", "keywords": "协助执法复函"},
    )


def minutes_document(m: Meeting, names: dict[str, str]) -> MinutesDocument:
    """会议纪要 in the 纪要 form (GB/T 9704 §10.3): the red "XX会议纪要" mark, the issue
    number, the convener and the date; the agenda, the decisions and each task with owner
    and deadline; who attended (出席, with the person each agency sent) and who sent
    apologies (请假); distributed (分送) to the attendees and the office it was filed with."""
    minutes = m.minutes
    if minutes is None or minutes.issued_at is None:
        raise InvalidState("the minutes are not issued yet", field="id", code="NOT_YET")
    convener = names[m.convener_id]
    attending = [names[a] for a in m.attending_ids]
    body: list[str | Heading] = [
        f"{_day(m.starts_at)}，{convener}在{m.place}召开{m.title}。"
        f"{'、'.join(attending)}参加会议。现将会议议定事项纪要如下：",
        Heading("一、会议议题"),
        *(f"（{_ordinal(i)}）{a}" for i, a in enumerate(m.agenda)),
        Heading("二、议定事项"),
        minutes.decisions,
        Heading("三、任务分工"),
        *(
            f"（{_ordinal(i)}）{t.description}。责任单位：{names[t.owner_agency_id]}；"
            f"完成时限：{chinese_date(t.deadline)}前。"
            for i, t in enumerate(minutes.tasks)
        ),
        "各责任单位按期完成并书面报告完成情况。",
    ]
    present = [convener]
    absent: list[str] = []
    for agency_id in dict.fromkeys(m.attendee_ids):
        if agency_id == m.convener_id:
            continue
        rsvp = m.rsvp_of(agency_id)
        if rsvp is not None and not rsvp.attending:
            absent.append(names[agency_id])
        else:  # attended (an agency that never answered is counted as it was invited)
            delegate = f"（{rsvp.delegate}）" if rsvp is not None and rsvp.delegate else ""
            present.append(names[agency_id] + delegate)
    distribute_to = list(dict.fromkeys(attending))
    if m.filing is not None:
        distribute_to.append(names[m.filing.agency_id])
    return MinutesDocument(
        mark=f"{m.title}会议纪要",
        issuing_agency=convener,
        date=local_date(minutes.issued_at),
        number=minutes.number,
        body=tuple(body),
        present=tuple(present),
        absent=tuple(absent),
        distribute_to=tuple(distribute_to),
        metadata={"subject": f"meeting {m.id}", "keywords": "会议纪要"},
    )


class LetterService:
    """Loads the aggregate, checks who asks, renders the PDF (in a worker thread: reportlab
    is CPU-bound and would stall the event loop)."""

    def __init__(
        self,
        agencies: AgencyRepository,
        assistance: AssistanceRepository,
        meetings: MeetingRepository,
        render: DocumentRenderer,
    ) -> None:
        self.agencies = agencies
        self.assistance = assistance
        self.meetings = meetings
        self.render = render

    async def _names(self, ids: list[str]) -> dict[str, str]:
        found = await self.agencies.get_many(ids)
        return {i: found[i].name if i in found else i for i in ids}

    async def _assistance(
        self, request_id: str, actor: Actor
    ) -> tuple[AssistanceRequest, dict[str, str]]:
        r = await self.assistance.get(request_id)
        if r is None:
            raise NotFound(f"assistance request {request_id!r} does not exist", field="id")
        # A letter is the request's content: the request's read rule of the matrix.
        access.authorize_on(actor, ASSISTANCE_READ, access.assistance_relations(actor, r))
        return r, await self._names([r.requester_id, r.helper_id])

    async def request_letter(self, request_id: str, caller: Caller) -> RenderedDocument:
        r, names = await self._assistance(request_id, acting(caller))
        doc = request_letter(r, names)
        return RenderedDocument("协助执法函.pdf", await asyncio.to_thread(self.render, doc))

    async def reply_letter(self, request_id: str, caller: Caller) -> RenderedDocument:
        r, names = await self._assistance(request_id, acting(caller))
        doc = reply_letter(r, names)
        return RenderedDocument("协助执法复函.pdf", await asyncio.to_thread(self.render, doc))

    async def minutes(self, meeting_id: str, caller: Caller) -> RenderedDocument:
        actor = acting(caller)
        m = await self.meetings.get(meeting_id)
        if m is None:
            raise NotFound(f"meeting {meeting_id!r} does not exist", field="id")
        access.authorize_on(actor, "meeting", access.meeting_relations(actor, m))
        ids = [m.convener_id, *m.attendee_ids] + ([m.filing.agency_id] if m.filing else [])
        names = await self._names(list(dict.fromkeys(ids)))
        doc = minutes_document(m, names)
        return RenderedDocument("会议纪要.pdf", await asyncio.to_thread(self.render, doc))
