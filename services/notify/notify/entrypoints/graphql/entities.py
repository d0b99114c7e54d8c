"""Entities of other subgraphs that notify links to: Referral (which notify extends with the
notices about it) and the subjects of coordination's clocks, referenced by id only and
resolved, with their read checks, by the subgraph that owns them."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet

from notify.entrypoints.graphql.types import InboxItem, Info

__all__ = [
    "AssistanceRequest",
    "CorrectionOpinion",
    "Dispute",
    "InformationQuery",
    "JointRuling",
    "JointTask",
    "Meeting",
    "OnSiteRequest",
    "ParticipationNotice",
    "Referral",
    "TechnicalSupportRequest",
    "WorkSubject",
    "subject_of",
]


@strawberry.federation.type(keys=["id"])
class Referral:
    id: strawberry.ID

    @strawberry.field(description="Notices sent about this referral, to agencies you may see.")
    async def notices(self, info: Info) -> list[InboxItem]:
        items = await info.context.notices_loader.load(str(self.id))
        return [
            InboxItem.from_model(m) for m in items if info.context.may_read_inbox_of(m.agency_id)
        ]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Referral:
        return cls(id=id)


_REFERENCE = [Key(fields=FieldSet("id"), resolvable=False)]


@strawberry.federation.type(keys=_REFERENCE, description="A jurisdiction dispute (争议协调).")
class Dispute:
    id: strawberry.ID


@strawberry.federation.type(keys=_REFERENCE, description="An assistance request (协助执法).")
class AssistanceRequest:
    id: strawberry.ID


@strawberry.federation.type(
    keys=_REFERENCE, description="A technical-support request (认定/鉴定/咨询)."
)
class TechnicalSupportRequest:
    id: strawberry.ID


@strawberry.federation.type(keys=_REFERENCE, description="An information query (信息查询).")
class InformationQuery:
    id: strawberry.ID


@strawberry.federation.type(
    keys=_REFERENCE, description="A consultation meeting (协调会商 / 联席会议)."
)
class Meeting:
    id: strawberry.ID


@strawberry.federation.type(
    keys=_REFERENCE, description="A task of a joint enforcement operation (联合执法任务)."
)
class JointTask:
    id: strawberry.ID


@strawberry.federation.type(
    keys=_REFERENCE, description="An urgent case or hazard to attend on site (R-REF-15)."
)
class OnSiteRequest:
    id: strawberry.ID


@strawberry.federation.type(keys=_REFERENCE, description="A correction opinion (纠正意见).")
class CorrectionOpinion:
    id: strawberry.ID


@strawberry.federation.type(
    keys=_REFERENCE, description="A written participation notice (书面通知)."
)
class ParticipationNotice:
    id: strawberry.ID


@strawberry.federation.type(keys=_REFERENCE, description="A joint ruling (联合裁定).")
class JointRuling:
    id: strawberry.ID


WorkSubject = Annotated[
    Referral
    | Dispute
    | AssistanceRequest
    | TechnicalSupportRequest
    | InformationQuery
    | Meeting
    | JointTask
    | OnSiteRequest
    | CorrectionOpinion
    | ParticipationNotice
    | JointRuling,
    strawberry.union("WorkSubject", description="What a clock of the work queue is about."),
]

_SUBJECTS: dict[
    str,
    type[Referral]
    | type[Dispute]
    | type[AssistanceRequest]
    | type[TechnicalSupportRequest]
    | type[InformationQuery]
    | type[Meeting]
    | type[JointTask]
    | type[OnSiteRequest]
    | type[CorrectionOpinion]
    | type[ParticipationNotice]
    | type[JointRuling],
] = {
    "Referral": Referral,
    "Dispute": Dispute,
    "AssistanceRequest": AssistanceRequest,
    "TechnicalSupportRequest": TechnicalSupportRequest,
    "InformationQuery": InformationQuery,
    "Meeting": Meeting,
    "JointTask": JointTask,
    "OnSiteRequest": OnSiteRequest,
    "CorrectionOpinion": CorrectionOpinion,
    "ParticipationNotice": ParticipationNotice,
    "JointRuling": JointRuling,
}


def subject_of(
    subject_type: str, subject_id: str
) -> (
    Referral
    | Dispute
    | AssistanceRequest
    | TechnicalSupportRequest
    | InformationQuery
    | Meeting
    | JointTask
    | OnSiteRequest
    | CorrectionOpinion
    | ParticipationNotice
    | JointRuling
    | None
):
    """The entity a clock's subject names, or None for a kind the graph has no type for."""
    cls = _SUBJECTS.get(subject_type)
    return cls(id=strawberry.ID(subject_id)) if cls else None
