"""Events of grid dispatch (派单 / 接单 / 报到 / 处置, R-GRD-01), published by the coordination
service.

Kept beside ``published.py`` (which lists them in ``PUBLISHED``) so the dispatch contract reads
in one place. Every payload carries the actor and the state before/after (R-SUP-01), the
platform's township, the team in charge and a ``deadlines`` block for the step clocks it starts
or meets (the deadline watch reminds and escalates them, R-SUP-02).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from kernel.contracts.deadlines import DeadlineV1
from kernel.envelope import EventPayload

__all__ = [
    "DISPATCH_EVENTS",
    "DispatchAcceptedV1",
    "DispatchArrivedV1",
    "DispatchDispatchedV1",
    "DispatchHandledV1",
    "DispatchReferredV1",
    "DispatchReturnedV1",
    "ProblemReportedV1",
    "ReferredPhotoV1",
]


class _DispatchEvent(EventPayload):
    dispatch_id: str
    platform_id: str
    """The township whose comprehensive enforcement platform owns the problem."""
    team_id: str | None = None
    """The team the problem is (or was, for a return) dispatched to."""
    area: str = ""
    """The grid / community of the place (the platform's list filters on it)."""
    what: str = ""
    place: str = ""
    actor_id: str
    actor_agency_id: str | None = None
    state_before: str | None = None
    state_after: str | None = None
    deadlines: list[DeadlineV1] = Field(default_factory=list)


class ProblemReportedV1(_DispatchEvent):
    """上报: a problem reached the platform; the platform's dispatch clock starts."""

    event_type = "dispatch.reported.v1"

    source: str
    """grid_member | grid_platform | city_platform | patrol"""
    reporter_id: str
    found_at: datetime
    latitude: float | None = None
    longitude: float | None = None
    photo_ids: list[str] = Field(default_factory=list)


class DispatchDispatchedV1(_DispatchEvent):
    """派单: the team's accept clock starts (``round`` counts dispatches, 1 = first)."""

    event_type = "dispatch.dispatched.v1"

    round: int


class DispatchAcceptedV1(_DispatchEvent):
    """接单: the arrive clock starts; ``late`` when accepted after the limit."""

    event_type = "dispatch.accepted.v1"

    late: bool = False


class DispatchArrivedV1(_DispatchEvent):
    """报到: the handle clock starts; ``late`` when arrived after the limit."""

    event_type = "dispatch.arrived.v1"

    late: bool = False


class DispatchHandledV1(_DispatchEvent):
    """处置: the team's written result with photos; every clock met."""

    event_type = "dispatch.handled.v1"

    result: str
    photo_ids: list[str] = Field(default_factory=list)
    late: bool = False


class DispatchReturnedV1(_DispatchEvent):
    """退回: the team cannot take it; the platform's dispatch clock starts again."""

    event_type = "dispatch.returned.v1"

    reason: str


class ReferredPhotoV1(BaseModel):
    """One photo of a referred problem report, as stored by coordination: the referral
    service fetches it (``GET /dispatches/{dispatch_id}/photos/{id}``, its service identity)
    and keeps it only if the bytes have this SHA-256 and size."""

    id: str
    name: str
    media_type: str
    size: int
    sha256: str


class DispatchReferredV1(_DispatchEvent):
    """转为移送: the problem belongs to ``receiver_id`` (a department); the referral service
    drafts a referral from it with the report's photos as source material (R-REF-01/02).

    ``photos`` (added compatibly: absent in events published before it, which name the
    photos by ``photo_ids`` only) carries each photo's digest and size."""

    event_type = "dispatch.referred.v1"

    receiver_id: str
    reason: str
    found_at: datetime
    reporter_id: str
    photo_ids: list[str] = Field(default_factory=list)
    photos: list[ReferredPhotoV1] = Field(default_factory=list)


DISPATCH_EVENTS: list[type[EventPayload]] = [
    ProblemReportedV1,
    DispatchDispatchedV1,
    DispatchAcceptedV1,
    DispatchArrivedV1,
    DispatchHandledV1,
    DispatchReturnedV1,
    DispatchReferredV1,
]
