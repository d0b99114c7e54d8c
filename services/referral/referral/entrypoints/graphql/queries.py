"""The referral subgraph's queries: one referral or complaint, and the lists."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from kernel import schema_docs
from kernel.errors import DomainError
from kernel.graphql import (
    AfterArg,
    Connection,
    ErrorCode,
    FirstArg,
    IdArg,
    decode_keyset_cursor,
    graphql_error,
    keyset_cursor,
    page_size,
    paginate,
)
from referral.application.queries import ReferralFilter
from referral.domain.complaint import Complaint as ComplaintModel
from referral.domain.model import Referral as ReferralModel
from referral.entrypoints.graphql.context import ComplaintStatus, Info, ReferralStatus
from referral.entrypoints.graphql.types import Complaint, Referral, referral_view


@strawberry.enum(description="Sort key of referral lists")
class ReferralSortField(Enum):
    CREATED_AT = strawberry.enum_value(
        "created_at", description="when the referral was created (drafted) in Liandong"
    )
    FOUND_AT = strawberry.enum_value(
        "found_at",
        description="when the violation was discovered (发现时间), as the sender recorded it",
    )
    OPEN_DUE = strawberry.enum_value(
        "open_due",
        description="earliest due time of a running clock; lists only referrals with a "
        "running clock (the natural order of an overdue list: most overdue first)",
    )


@strawberry.input(description="What a referrals list shows; all optional, combined.")
class ReferralFilterInput:
    status: ReferralStatus | None = strawberry.field(
        default=None, description="only referrals in this status (see `statuses` for several)"
    )
    statuses: list[ReferralStatus] | None = strawberry.field(
        default=None,
        description="only referrals in any of these statuses (with `status`: either of them)",
    )
    sender_id: strawberry.ID | None = strawberry.field(
        default=None, description="only referrals this agency sent (移送机关)"
    )
    receiver_id: strawberry.ID | None = strawberry.field(
        default=None, description="only referrals this agency receives (接收机关)"
    )
    matter_code: str | None = strawberry.field(
        default=None, description="only referrals of this catalogue matter (事项编码)"
    )
    overdue: bool | None = strawberry.field(
        default=None, description="true: only referrals with a running clock past due"
    )
    created_from: datetime | None = strawberry.field(
        default=None, description="only referrals created at or after this instant"
    )
    created_to: datetime | None = strawberry.field(
        default=None, description="only referrals created before this instant (exclusive)"
    )


_LOOSE = "use `filter: {{ {0} }}`; giving both this argument and the filter's `{0}` is refused"


_after = decode_keyset_cursor


def _refused(exc: DomainError) -> Exception:
    """A query refused by the application layer, as the graph reports it."""
    extra = {"field": exc.field} if exc.field else {}
    return graphql_error(exc.message, exc.stable_code, **extra)


async def referral(info: Info, id: IdArg) -> Referral | None:
    model = await info.context.visible_referral(str(id))
    return referral_view(info, model) if model else None


async def referrals(
    info: Info,
    filter: Annotated[
        ReferralFilterInput | None,
        strawberry.argument(description="statuses, sender, receiver and more"),
    ] = None,
    sort: Annotated[
        ReferralSortField, strawberry.argument(description="the sort key")
    ] = ReferralSortField.CREATED_AT,
    descending: Annotated[
        bool, strawberry.argument(description="latest first by the sort key")
    ] = False,
    first: FirstArg = 50,
    after: AfterArg = None,
    status: Annotated[
        ReferralStatus | None,
        strawberry.argument(
            description="only referrals in this status (deprecated: `filter.status`)",
            deprecation_reason=_LOOSE.format("status"),
        ),
    ] = None,
    sender_id: Annotated[
        strawberry.ID | None,
        strawberry.argument(
            description="only referrals this agency sent (deprecated: `filter.senderId`)",
            deprecation_reason=_LOOSE.format("senderId"),
        ),
    ] = None,
    receiver_id: Annotated[
        strawberry.ID | None,
        strawberry.argument(
            description="only referrals this agency received (deprecated: `filter.receiverId`)",
            deprecation_reason=_LOOSE.format("receiverId"),
        ),
    ] = None,
) -> Connection[Referral]:
    f = filter or ReferralFilterInput()
    first = page_size(first)
    for name, loose, inside in (
        ("status", status, f.status),
        ("senderId", sender_id, f.sender_id),
        ("receiverId", receiver_id, f.receiver_id),
    ):
        if loose is not None and inside is not None:
            raise graphql_error(
                f"参数 {name} 与 filter.{name} 不能同时给出 ({name} is given both as an "
                f"argument and inside `filter`; give it once, in `filter`)",
                ErrorCode.VALIDATION,
                field=name,
            )
    statuses = [*(f.statuses or []), *[s for s in (f.status or status,) if s is not None]]
    wanted = ReferralFilter(
        statuses=tuple(dict.fromkeys(s.value for s in statuses)),
        sender_id=str(f.sender_id or sender_id or "") or None,
        receiver_id=str(f.receiver_id or receiver_id or "") or None,
        matter_code=f.matter_code,
        overdue_at=info.context.now() if f.overdue else None,
        created_from=f.created_from,
        created_to=f.created_to,
    )
    principal = info.context.principal()
    key = str(sort.value)  # the field sorted by (a str at run time; typed per enum_value)
    try:
        rows = await info.context.queries.referrals_visible(
            principal,
            wanted,
            sort_field=key,
            descending=descending,
            after=_after(after),
            limit=first + 1,
        )
    except DomainError as exc:
        raise _refused(exc) from exc

    def cursor(r: ReferralModel) -> str:
        value: datetime | None = getattr(r, key)
        if value is None:  # open_due sorting lists only referrals that have one
            raise RuntimeError(f"referral {r.id} has no {key} to page by")
        return keyset_cursor(value, r.id)

    async def count() -> int:
        return await info.context.queries.referrals_count(principal, wanted, sort_field=key)

    connection: Connection[Referral] = paginate(
        rows,
        first,
        cursor=cursor,
        node=lambda r: referral_view(info, r),
        after=after,
        count=count,
    )
    return connection


async def complaint(info: Info, id: IdArg) -> Complaint | None:
    model = await info.context.visible_complaint(str(id))
    return Complaint.from_model(model) if model else None


async def complaints(
    info: Info,
    status: Annotated[
        ComplaintStatus | None, strawberry.argument(description="only complaints in this status")
    ] = None,
    owner_id: Annotated[
        strawberry.ID | None,
        strawberry.argument(description="only this agency's (supervising roles)"),
    ] = None,
    descending: Annotated[bool, strawberry.argument(description="newest first")] = False,
    first: FirstArg = 50,
    after: AfterArg = None,
) -> Connection[Complaint]:
    first = page_size(first)
    try:
        rows = await info.context.queries.complaints_visible(
            info.context.principal(),
            status=status.value if status else None,
            owner_id=str(owner_id) if owner_id else None,
            descending=descending,
            after=_after(after),
            limit=first + 1,
        )
    except DomainError as exc:
        raise _refused(exc) from exc

    def cursor(c: ComplaintModel) -> str:
        return keyset_cursor(c.received_at, c.id)

    connection: Connection[Complaint] = paginate(
        rows,
        first,
        cursor=cursor,
        node=Complaint.from_model,
        after=after,
        count=lambda: info.context.queries.complaints_count(
            info.context.principal(),
            status=status.value if status else None,
            owner_id=str(owner_id) if owner_id else None,
        ),
    )
    return connection


@strawberry.type(
    description="R-REF-12: an agency's public key for the signatures of its transfer letters."
)
class LetterSigningKey:
    agency_id: strawberry.ID = strawberry.field(description="the agency whose key it is")
    key_id: str = strawberry.field(
        description="first 16 hex digits of the SHA-256 of the public key; signatures name it"
    )
    algorithm: str = strawberry.field(description="ECDSA-P256-SHA256")
    public_key_pem: str = strawberry.field(description="SubjectPublicKeyInfo, PEM")


async def letter_signing_keys(
    info: Info,
    agency_ids: Annotated[
        list[strawberry.ID] | None,
        strawberry.argument(description="whose keys; every agency's when left out"),
    ] = None,
) -> list[LetterSigningKey]:
    info.context.principal()  # public keys, but only for the deployment's users
    letters = info.context.handlers.letters
    try:
        keys = await letters.public_keys([str(a) for a in agency_ids or []])
    except DomainError as exc:
        raise _refused(exc) from exc
    return [
        LetterSigningKey(
            agency_id=strawberry.ID(k.holder),
            key_id=k.key_id,
            algorithm=k.algorithm,
            public_key_pem=k.pem,
        )
        for k in keys
    ]


@strawberry.type(
    description="A referral that is not finished and that no running clock or owner answers "
    "for (the stall check, R-REF-07), or a referred dispatch still waiting for an agency's "
    "registration before its referral can be drafted (R-GRD-01)."
)
class ReferralStall:
    subject_type: str = strawberry.field(description="Referral | Dispatch")
    subject_id: strawberry.ID = strawberry.field(description="the referral's (dispatch's) id")
    status: str = strawberry.field(description="its status now")
    agency_ids: list[strawberry.ID] = strawberry.field(
        description="where it sits: the receiver, then the sender"
    )
    since: datetime = strawberry.field(description="its last change")
    reason: str = strawberry.field(description="why it counts as stalled")


async def referral_stalls(info: Info) -> list[ReferralStall]:
    try:
        found = await info.context.queries.stalls(info.context.principal())
    except DomainError as exc:
        raise _refused(exc) from exc
    return [
        ReferralStall(
            subject_type=s.subject_type,
            subject_id=strawberry.ID(s.subject_id),
            status=s.status,
            agency_ids=[strawberry.ID(a) for a in s.agency_ids],
            since=s.since,
            reason=s.reason,
        )
        for s in found
    ]


@strawberry.type(description=schema_docs.QUERY)
class Query:
    referral = strawberry.field(
        resolver=referral,
        description="One referral by id (null when absent or not yours to see).",
    )
    referrals = strawberry.field(
        resolver=referrals,
        description="Referrals you may see, filtered and sorted, with Relay cursor pagination. "
        "Staff see their agency's referrals (sent or received); government, coordinator and "
        "supervisor roles see all; judicial observers see suspected-crime ones.",
    )
    referral_stalls = strawberry.field(
        resolver=referral_stalls,
        description="The stall check for supervising bodies (government, coordination body, "
        "justice bureau): referrals not finished with no running clock and no owner; empty "
        "when every open case is being timed (R-REF-07). coordinationStalls lists the rest.",
    )
    complaint = strawberry.field(
        resolver=complaint, description="One complaint by id (null when absent or not yours)."
    )
    complaints = strawberry.field(
        resolver=complaints, description="Complaints your agency owns (oversight roles: all)."
    )
    letter_signing_keys = strawberry.field(
        resolver=letter_signing_keys,
        description="R-REF-12: the public keys that verify agencies' transfer letters (the "
        "agencies named, or every agency with a key); an agency without a key is left out.",
    )
