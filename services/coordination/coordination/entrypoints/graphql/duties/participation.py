"""Written participation notices (书面通知, R-NTF-06) in the graph."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

import strawberry

from coordination.application import duties as d
from coordination.domain import participation as par
from coordination.entrypoints.graphql.duties.common import (
    DutyNode,
    ParticipationPurpose,
    ParticipationStatus,
    paged,
)
from coordination.entrypoints.graphql.types import (
    CooperationDeadline,
    CooperationTransition,
    Info,
    agency_field,
    clocks_and_history,
)
from kernel.graphql import INPUT, UserError, mirrored


@strawberry.type(description="The emergency phone call that preceded the writing.")
class ParticipationPhoneCall:
    caller: str = strawberry.field(description="who phoned, for the department (name)")
    called: str = strawberry.field(description="who took the call")
    at: datetime = strawberry.field(description="when the call was made (+08:00)")


@strawberry.federation.type(
    keys=["id"],
    description="A department's notice that the township take part in an inspection, "
    "approval or confirmation (书面通知, R-NTF-06).",
)
class ParticipationNotice(DutyNode):
    duty = "participation"

    id: strawberry.ID = strawberry.field(description="the participation notice's id")
    department_id: strawberry.ID = strawberry.field(
        description="the agency id of the department that gives notice"
    )
    township_id: strawberry.ID = strawberry.field(
        description="the agency id of the township (乡镇) asked to take part"
    )
    purpose: ParticipationPurpose = strawberry.field(
        description="inspection, approval or confirmation"
    )
    subject: str = strawberry.field(description="what the township is to take part in")
    place: str = strawberry.field(description="where the township is to take part (address)")
    starts_at: datetime = strawberry.field(description="when the township is to take part")
    status: ParticipationStatus = strawberry.field(description="where it stands")
    notified_at: datetime = strawberry.field(description="when the notice was given")
    document_number: str | None = strawberry.field(description="the document's number (文号)")
    written_at: datetime | None = strawberry.field(description="when the written notice was given")
    written_late: bool = strawberry.field(
        description="the writing followed the phone call after its limit"
    )
    phone_call: ParticipationPhoneCall | None = strawberry.field(
        description="the emergency phone call that came first, if any"
    )
    participants: list[str] = strawberry.field(description="who takes part for the township")
    confirmed_at: datetime | None = strawberry.field(description="when the township confirmed")
    deadlines: list[CooperationDeadline] = strawberry.field(description="its statutory clocks")
    history: list[CooperationTransition] = strawberry.field(
        description="every recorded action (R-SUP-01)"
    )

    township = agency_field("township_id", "the township asked to take part; null when unknown")
    department = agency_field("department_id", "the department that gave notice; null when unknown")

    @classmethod
    def of(cls, n: par.ParticipationNotice, info: Info) -> Self:
        call = n.phone_call
        return mirrored(
            cls,
            n,
            phone_call=mirrored(ParticipationPhoneCall, call) if call else None,
            **clocks_and_history(n, info),
        )


ParticipationNoticeConnection = paged(
    ParticipationNotice, "participation notice", "Participation notices"
)


ParticipationResult = Annotated[
    ParticipationNotice | UserError,
    strawberry.union(
        "ParticipationNoticeResult",
        description="The participation notice, or why the command was refused",
    ),
]


@strawberry.input(description="R-NTF-06: the emergency phone call that comes first")
class ParticipationPhoneCallInput:
    caller: str = strawberry.field(description="who phoned, for the department (name)")
    called: str = strawberry.field(description="who took the call")
    at: datetime | None = strawberry.field(
        default=None, description="when the call was made (+08:00); default: now"
    )


@strawberry.input(description="R-NTF-06: a notice that the township take part")
class NotifyParticipationInput:
    department_id: strawberry.ID = strawberry.field(
        description="the agency id of the department that gives notice"
    )
    township_id: strawberry.ID = strawberry.field(
        description="the agency id of the township (乡镇) asked to take part"
    )
    purpose: ParticipationPurpose = strawberry.field(
        description="inspection, approval or confirmation"
    )
    subject: str = strawberry.field(description="what the township is to take part in")
    place: str = strawberry.field(description="where the township is to take part (address)")
    starts_at: datetime = strawberry.field(description="when the township is to take part")
    document_number: str | None = strawberry.field(
        default=None, description="the written notice's 文号 (or phoneCall in an emergency)"
    )
    phone_call: ParticipationPhoneCallInput | None = strawberry.field(
        default=None, description="emergency: the call first, the writing to follow"
    )


@strawberry.type
class ParticipationQuery:
    participation_notice = ParticipationNotice.read_field(
        "One participation notice (parties and supervising roles)."
    )
    participation_notices = ParticipationNotice.list_field(
        "Participation notices you are a party to."
    )


@strawberry.type
class ParticipationMutation:
    @strawberry.mutation(
        description="R-NTF-06: a written notice to take part (or, in an emergency, the phone "
        "call first; the writing follows within the policy's limit)."
    )
    async def notify_participation(
        self,
        info: Info,
        input: Annotated[NotifyParticipationInput, INPUT],
    ) -> ParticipationResult:
        call = input.phone_call
        cmd = d.NotifyParticipation(
            department_id=str(input.department_id),
            township_id=str(input.township_id),
            purpose=input.purpose.value,
            subject=input.subject,
            place=input.place,
            starts_at=input.starts_at,
            document_number=input.document_number,
            phone_call=d.PhoneNoticeInput(call.caller, call.called, call.at) if call else None,
        )
        return await ParticipationNotice.result_of(info, lambda h, caller: h.notify(cmd, caller))

    @strawberry.mutation(description="R-NTF-06: the writing that follows a phone notice.")
    async def send_participation_written_notice(
        self,
        info: Info,
        notice_id: Annotated[
            strawberry.ID, strawberry.argument(description="the participation notice")
        ],
        document_number: Annotated[
            str, strawberry.argument(description="the document's number (文号)")
        ],
    ) -> ParticipationResult:
        return await ParticipationNotice.result_of(
            info,
            lambda h, caller: h.send_written(
                d.SendParticipationWrittenNotice(str(notice_id), document_number), caller
            ),
        )

    @strawberry.mutation(description="R-NTF-06: the township confirms who takes part.")
    async def confirm_participation(
        self,
        info: Info,
        notice_id: Annotated[
            strawberry.ID, strawberry.argument(description="the participation notice")
        ],
        participants: Annotated[
            list[str], strawberry.argument(description="who takes part for the township")
        ],
    ) -> ParticipationResult:
        return await ParticipationNotice.result_of(
            info,
            lambda h, caller: h.confirm(
                d.ConfirmParticipation(str(notice_id), tuple(participants)), caller
            ),
        )
