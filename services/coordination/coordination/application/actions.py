"""What the caller may do now to an assistance, technical-support or information request, a
meeting or a dispute (``viewerCan`` / ``availableActions``, issue 18): each mutation runs as
a dry run through its own handler and stops at the aggregate's write (:mod:`kernel.actions`),
so an action is offered exactly when the mutation would succeed now.

A free text the client will write is a placeholder; a choice the client makes is the one
that asks least (help rather than refuse, agree rather than object, the first party as the
responsible agency). Not tried: the acts whose choice decides whether they are allowed (an
extension's working days, where the minutes are filed, a meeting task's completion, which
is per task) and reading an information answer, which writes its access log first."""

from __future__ import annotations

from decimal import Decimal

from coordination.application.assistance import (
    AssistanceHandlers,
    RecordAssistanceMediation,
    ReferAssistanceToMediation,
    ReplyToAssistance,
    ReportAssistanceResult,
    SendAssistanceLetter,
)
from coordination.application.catalogue import local_date
from coordination.application.dispute_commands import (
    ConfirmDisputeAgreement,
    EscalateDispute,
    GiveDisputeOpinion,
    ProposeDisputeAgreement,
    RuleDispute,
)
from coordination.application.disputes import DisputeHandlers
from coordination.application.information import (
    AnswerInformation,
    DeclineInformationQuery,
    InformationQueryHandlers,
)
from coordination.application.meetings import (
    AnswerMinutes,
    DraftMinutes,
    IssueMinutes,
    MeetingHandlers,
    RsvpMeeting,
)
from coordination.application.technical import (
    AnswerTechnicalSupport,
    DispatchTechnicalStaff,
    TechnicalSupportHandlers,
)
from coordination.domain.dispute import OutcomeKind
from kernel.actions import TEXT_TO_WRITE as TEXT
from kernel.actions import ActionCheck, try_actions
from kernel.caller import Caller

__all__ = [
    "assistance_actions",
    "dispute_actions",
    "information_actions",
    "meeting_actions",
    "technical_actions",
]


async def assistance_actions(
    h: AssistanceHandlers, request_id: str, caller: Caller
) -> list[ActionCheck]:
    """R-AST-01/02: the letter after a phone call, the reply, mediation, the results."""
    today = local_date(h.clock())
    return await try_actions(
        {
            "sendAssistanceLetter": lambda: h.send_letter(
                SendAssistanceLetter(request_id, TEXT), caller
            ),
            "replyToAssistance": lambda: h.reply(
                ReplyToAssistance(request_id, True, TEXT, agreed_start_on=today), caller
            ),
            "referAssistanceToMediation": lambda: h.refer_to_mediation(
                ReferAssistanceToMediation(request_id, TEXT), caller
            ),
            "recordAssistanceMediation": lambda: h.record_mediation(
                RecordAssistanceMediation(request_id, "assist", TEXT), caller
            ),
            "reportAssistanceResult": lambda: h.report_result(
                ReportAssistanceResult(request_id, TEXT), caller
            ),
        }
    )


async def technical_actions(
    h: TechnicalSupportHandlers, request_id: str, caller: Caller
) -> list[ActionCheck]:
    """R-TEC-01/02: staff on site, the written answer."""
    return await try_actions(
        {
            "dispatchTechnicalStaff": lambda: h.dispatch_on_site(
                DispatchTechnicalStaff(request_id, (TEXT,)), caller
            ),
            "answerTechnicalSupport": lambda: h.answer(
                AnswerTechnicalSupport(request_id, TEXT, TEXT, TEXT), caller
            ),
        }
    )


async def information_actions(
    h: InformationQueryHandlers, query_id: str, caller: Caller
) -> list[ActionCheck]:
    """R-INF-01: the answer, or a refusal on legal grounds."""
    return await try_actions(
        {
            "answerInformationQuery": lambda: h.answer(
                AnswerInformation(query_id, TEXT, "internal", Decimal(0)), caller
            ),
            "declineInformationQuery": lambda: h.decline(
                DeclineInformationQuery(query_id, "not_held", TEXT, TEXT), caller
            ),
        }
    )


async def meeting_actions(h: MeetingHandlers, meeting_id: str, caller: Caller) -> list[ActionCheck]:
    """R-MTG-01: the answer to the invitation, the minutes drafted, agreed to and issued."""
    found = await h.meetings.get(meeting_id)
    revision = found.minutes.revision if found and found.minutes else 1
    return await try_actions(
        {
            "rsvpMeeting": lambda: h.rsvp(RsvpMeeting(meeting_id, True, TEXT), caller),
            "draftMeetingMinutes": lambda: h.draft_minutes(
                DraftMinutes(meeting_id, TEXT, ()), caller
            ),
            "answerMeetingMinutes": lambda: h.record_position(
                AnswerMinutes(meeting_id, revision, True), caller
            ),
            "issueMeetingMinutes": lambda: h.issue_minutes(IssueMinutes(meeting_id, TEXT), caller),
        }
    )


async def dispute_actions(h: DisputeHandlers, dispute_id: str, caller: Caller) -> list[ActionCheck]:
    """R-DSP-02/03: up a step, an advisory opinion, the ruling, an agreement proposed and
    confirmed."""
    found = await h.disputes.get(dispute_id)
    party = found.parties[0] if found and found.parties else ""
    revision = found.agreement.revision if found and found.agreement else 1
    return await try_actions(
        {
            "escalateDispute": lambda: h.escalate(EscalateDispute(dispute_id), caller),
            "giveDisputeOpinion": lambda: h.give_opinion(
                GiveDisputeOpinion(dispute_id, TEXT), caller
            ),
            "ruleDispute": lambda: h.rule(
                RuleDispute(dispute_id, OutcomeKind.DECISION.value, TEXT, party), caller
            ),
            "proposeDisputeAgreement": lambda: h.propose_agreement(
                ProposeDisputeAgreement(dispute_id, TEXT, party), caller
            ),
            "confirmDisputeAgreement": lambda: h.confirm_agreement(
                ConfirmDisputeAgreement(dispute_id, revision), caller
            ),
        }
    )
