"""Drafting rules (R-REF-02/04/09, R-AG-02, R-CAT-02/03): what a referral needs before it goes.

Pure checks on the sender's side, kept apart from the aggregate's state machine: who may
send to whom and by which route, what a material record must be, when a draft is complete,
how far the send limit may be extended, and whether the receiver is the competent agency.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from kernel.errors import Forbidden, Problems, ValidationFailed
from referral.domain.model.aggregate import Referral, Status, Transition
from referral.domain.model.values import (
    Actor,
    AgencyRef,
    Competence,
    DeadlineInfo,
    Material,
    MaterialKind,
    OngoingViolation,
    Route,
    check_material,
)


def check_draft(
    *,
    sender: AgencyRef | None,
    receiver: AgencyRef | None,
    sender_id: str,
    receiver_id: str,
    matter_code: str,
    title: str,
    facts: str,
    found_at: datetime,
    at: datetime,
    possible_fine_yuan: int | None,
    major_or_difficult: bool,
    origin_receiver_id: str | None,
    matter_pending: bool = False,
) -> tuple[AgencyRef, AgencyRef, Route]:
    """R-AG-02: sender and receiver are agencies, never internal units; the route the
    referral takes (R-REF-09, R-REF-10). ``origin_receiver_id``: the receiver of the
    referral this one is made from, if any (不得再行移送). ``matter_pending``: a draft made
    from a grid dispatch (R-GRD-01) whose matter the clerk names before submitting. Returns
    the checked parties."""
    if sender is None:
        raise ValidationFailed(
            f"sending agency {sender_id!r} is not registered",
            field="senderId",
            code="AGENCY_NOT_REGISTERED",
        )
    if receiver is None:
        raise ValidationFailed(
            f"receiving agency {receiver_id!r} is not registered",
            field="receiverId",
            code="AGENCY_NOT_REGISTERED",
        )
    if sender.internal_unit:
        raise ValidationFailed(
            f"{sender.name} is an internal unit; a referral is sent in the name of its agency "
            "(R-AG-02)",
            field="senderId",
            code="INTERNAL_UNIT",
        )
    if receiver.internal_unit:
        raise ValidationFailed(
            f"{receiver.name} is an internal unit; address the referral to its agency (R-AG-02)",
            field="receiverId",
            code="INTERNAL_UNIT",
        )
    if receiver.kind == "management_centre":
        raise ValidationFailed(
            f"{receiver.name} only patrols (R-AG-01, HC #13): it neither receives nor accepts "
            "referrals; address the competent agency",
            field="receiverId",
            code="WRONG_AGENCY_KIND",
        )
    if sender.id == receiver.id:
        raise ValidationFailed(
            "a referral goes to another agency", field="receiverId", code="SELF_ADDRESSED"
        )
    # The input's own problems are reported all at once (issue 18).
    problems = Problems()
    for name, value, zh in (
        ("title", title, "标题不能为空"),
        ("facts", facts, "案情不能为空"),
        ("matterCode", matter_code, "事项编码不能为空"),
    ):
        if not value.strip() and not (name == "matterCode" and matter_pending):
            problems.add(
                ValidationFailed(f"{name} must not be empty", field=name, code="REQUIRED", zh=zh)
            )
    if found_at > at:
        problems.add(
            ValidationFailed(
                "the discovery time lies in the future",
                field="foundAt",
                zh="发现时间晚于当前时间",
                code="IN_THE_FUTURE",
            )
        )
    if possible_fine_yuan is not None and possible_fine_yuan < 0:
        problems.add(
            ValidationFailed(
                "a fine cannot be negative",
                field="possibleFineYuan",
                zh="罚款金额不能为负数",
                code="OUT_OF_RANGE",
            )
        )
    problems.raise_if_any()
    route = Route.ORDINARY
    if receiver.kind == "public_security":
        route = Route.CRIME
    elif major_or_difficult:
        if sender.kind != "township" or receiver.kind != "department":
            raise ValidationFailed(
                "passing a major or difficult case up goes from a township to a department "
                "(R-REF-09)",
                field="majorOrDifficult",
                code="WRONG_AGENCY_KIND",
            )
        route = Route.UPWARD
    if origin_receiver_id == sender.id and route is not Route.CRIME:
        # FY (四)1: 不得再行移送 — a receiver that finds the case is not its own declines
        # (and the dispute decides); it never passes the case on to a third agency.
        raise Forbidden(
            "a received referral may not be passed on to a third agency (不得再行移送, "
            "R-REF-07); decline it and let the dispute be ruled",
            field="forwardedFrom",
            code="MAY_NOT_REFUSE",
        )
    return sender, receiver, route


def draft_referral(
    *,
    referral_id: str,
    sender: AgencyRef | None,
    receiver: AgencyRef | None,
    sender_id: str,
    receiver_id: str,
    matter_code: str,
    title: str,
    facts: str,
    party: str,
    place: str,
    found_at: datetime,
    urgent: bool,
    actor: Actor,
    at: datetime,
    send_clock: DeadlineInfo | None = None,
    township_id: str | None = None,
    penalty_kinds: tuple[str, ...] = (),
    possible_fine_yuan: int | None = None,
    competence: Competence | None = None,
    ongoing: OngoingViolation | None = None,
    major_or_difficult: bool = False,
    complaint_id: str | None = None,
    origin: Referral | None = None,
    dispatch_id: str | None = None,
    dispatch_photo_ids: tuple[str, ...] = (),
    source_materials: tuple[Material, ...] = (),
) -> Referral:
    """Start a referral. R-AG-02: sender and receiver are agencies, never internal units.
    ``source_materials``: contents already stored that it starts with (R-GRD-01: a referred
    dispatch's photos), each a checked record of kind ``source``."""
    for m in source_materials:
        check_material(m)
        if m.kind is not MaterialKind.SOURCE or m.file_id is None:
            raise ValidationFailed(
                f"material {m.name!r} must be a stored source material", field="materials"
            )
    sender, receiver, route = check_draft(
        sender=sender,
        receiver=receiver,
        sender_id=sender_id,
        receiver_id=receiver_id,
        matter_code=matter_code,
        title=title,
        facts=facts,
        found_at=found_at,
        at=at,
        possible_fine_yuan=possible_fine_yuan,
        major_or_difficult=major_or_difficult,
        origin_receiver_id=origin.receiver_id if origin else None,
        matter_pending=dispatch_id is not None,
    )
    draft = Referral(
        id=referral_id,
        sender_id=sender.id,
        receiver_id=receiver.id,
        matter_code=matter_code.strip(),
        title=title.strip(),
        facts=facts.strip(),
        party=party.strip(),
        place=place.strip(),
        found_at=found_at,
        urgent=urgent,
        status=Status.DRAFT,
        created_at=at,
        township_id=township_id,
        penalty_kinds=penalty_kinds,
        possible_fine_yuan=possible_fine_yuan,
        competence=competence,
        ongoing=ongoing,
        route=route,
        complaint_id=complaint_id,
        forwarded_from=origin.id if origin else None,
        dispatch_id=dispatch_id,
        dispatch_photo_ids=dispatch_photo_ids,
        materials=source_materials,
    )
    t = Transition(
        "draft", actor.person_id, actor.person_name, actor.agency_id, at, None, Status.DRAFT
    )
    draft = replace(draft, history=(t,))
    if send_clock is not None:
        draft = draft._start_clock(replace(send_clock, responsible_agency_id=sender.id))
    return draft


#: Agency kinds that may hold a case the catalogue reserves to "the department" (R-CAT-03): the
#: reservation is about townships, so a ruling between departments is not refused by it.
DEPARTMENT_KINDS = frozenset({"department", "approval_bureau"})


def check_competence(
    competence: Competence,
    receiver_id: str,
    override_reason: str,
    receiver_kind: str | None = None,
) -> Competence:
    """R-CAT-02/03: the receiver must be the competent agency per the catalogue, or the
    sender states why not (recorded). An unknown matter needs a stated reason.

    A case that may end in a major penalty is reserved to the department (R-CAT-03, HC #13):
    no stated reason moves it elsewhere. Only the government's own decision (an R-CAT-04
    designation with the major-penalty exception) does, and then the catalogue already names
    that agency."""
    reason = override_reason.strip()
    if competence.resolved_agency_id is None and not reason:
        raise ValidationFailed(
            f"{competence.explanation}; state why this agency is addressed (competenceReason)",
            field="competenceReason",
            code="WRONG_JURISDICTION",
        )
    if (
        competence.reason == "major_penalty"
        and competence.resolved_agency_id is not None
        and competence.resolved_agency_id != receiver_id
        and receiver_kind not in DEPARTMENT_KINDS
    ):
        raise ValidationFailed(
            f"a case that may end in a major penalty is reserved to "
            f"{competence.resolved_agency_id} ({competence.explanation}); a stated reason "
            "does not change that: address the department, or ask the government to designate "
            "another agency for such cases (R-CAT-04)",
            field="receiverId",
            code="WRONG_JURISDICTION",
        )
    if (
        competence.resolved_agency_id is not None
        and competence.resolved_agency_id != receiver_id
        and not reason
    ):
        raise ValidationFailed(
            f"the catalogue names {competence.resolved_agency_id} for this matter, place and "
            f"date ({competence.explanation}); address it there or state why not "
            "(competenceReason)",
            field="receiverId",
            code="WRONG_JURISDICTION",
        )
    return replace(competence, override_reason=reason)
