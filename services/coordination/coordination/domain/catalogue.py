"""The matter catalogue (事项清单 / 权责清单, R-CAT-01…04): which agency owns which power, where,
and since when.

Pure Python: no I/O. An entry is versioned: every change produces a new version and a history
record (who, when, what changed, the full snapshot), and names the townships the change
touches so they can be told (R-CAT-01, R-NTF-02).
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from coordination.domain.errors import InvalidState, ValidationFailed


class DelegationMode(StrEnum):
    """How a power reaches a township."""

    DECISION = "decision"  # 赋权: by a decision of the government; no term
    AGREEMENT = "agreement"  # 委托: by an agreement with a term


MODE_ZH = {DelegationMode.DECISION: "赋权", DelegationMode.AGREEMENT: "委托"}


@dataclass(frozen=True)
class SignOff:
    """One step of an entrustment's sign-off (R-CAT-05): who, for which agency, on which day,
    and what they wrote (the review's opinion, the approval's decision number)."""

    agency_id: str
    actor_id: str
    on: date
    text: str


@dataclass(frozen=True)
class Delegation:
    """One township's delegated power (下放)."""

    township_id: str
    mode: DelegationMode
    effective_from: date
    expires_on: date | None = None  # last day of an agreement's term (委托期限)
    transition_until: date | None = None  # last day the department stays responsible
    # R-CAT-05: an entrustment (委托) is in force only after the justice bureau's review and
    # then the government's approval; a decision (赋权) needs neither.
    review: SignOff | None = None
    approval: SignOff | None = None

    def same_terms(self, other: Delegation) -> bool:
        """The same delegation as written (the sign-offs aside)."""
        return (self.township_id, self.mode, self.effective_from, self.expires_on) == (
            other.township_id,
            other.mode,
            other.effective_from,
            other.expires_on,
        )


@dataclass(frozen=True)
class RoutingRule:
    """A binding ruling on who handles the matter (R-CAT-04, R-DSP-03)."""

    rule_id: str
    responsible_agency_id: str
    effective_from: date
    township_id: str | None = None  # None: the whole district
    dispute_id: str | None = None
    basis: str = ""
    # The government's own decision that this agency handles even cases that may end in a
    # major penalty (R-CAT-04 over R-CAT-03); never set by a dispute's ruling.
    major_penalty_exception: bool = False


@dataclass(frozen=True)
class EntryContent:
    """What an official writes into the catalogue for one matter (everything but rulings)."""

    code: str
    name: str
    original_department_id: str
    legal_basis: str = ""
    penalty_basis: str = ""
    discretion_benchmark: str = ""  # 裁量基准
    delegations: tuple[Delegation, ...] = ()


@dataclass(frozen=True)
class EntryVersion:
    """One historical version: the change that made it and the full snapshot after it."""

    version: int
    at: datetime
    actor_id: str
    actor_agency_id: str | None
    change: str  # created | revised | withdrawn | routing_rule_added
    summary_zh: str
    snapshot: dict[str, Any]


@dataclass(frozen=True)
class CatalogueEntry:
    content: EntryContent
    routing_rules: tuple[RoutingRule, ...] = ()
    withdrawn: bool = False
    history: tuple[EntryVersion, ...] = ()
    version: int = 0  # the store's version (optimistic concurrency), = number of versions

    @property
    def code(self) -> str:
        return self.content.code

    @property
    def townships(self) -> set[str]:
        return {d.township_id for d in self.content.delegations}

    def snapshot(self) -> dict[str, Any]:
        """The entry as plain data (the shape of CatalogueEntryV1 minus the version)."""
        c = self.content
        return {
            "code": c.code,
            "name": c.name,
            "original_department_id": c.original_department_id,
            "legal_basis": c.legal_basis,
            "penalty_basis": c.penalty_basis,
            "discretion_benchmark": c.discretion_benchmark,
            "delegations": [
                {
                    "township_id": d.township_id,
                    "mode": d.mode.value,
                    "effective_from": d.effective_from.isoformat(),
                    "expires_on": d.expires_on.isoformat() if d.expires_on else None,
                    "transition_until": (
                        d.transition_until.isoformat() if d.transition_until else None
                    ),
                    "review": _sign_off_snapshot(d.review),
                    "approval": _sign_off_snapshot(d.approval),
                }
                for d in c.delegations
            ],
            "routing_rules": [
                {
                    "rule_id": r.rule_id,
                    "responsible_agency_id": r.responsible_agency_id,
                    "effective_from": r.effective_from.isoformat(),
                    "township_id": r.township_id,
                    "dispute_id": r.dispute_id,
                    "basis": r.basis,
                    "major_penalty_exception": r.major_penalty_exception,
                }
                for r in self.routing_rules
            ],
            "withdrawn": self.withdrawn,
        }

    def _next(
        self,
        *,
        content: EntryContent | None = None,
        routing_rules: tuple[RoutingRule, ...] | None = None,
        withdrawn: bool | None = None,
        change: str,
        summary_zh: str,
        actor_id: str,
        actor_agency_id: str | None,
        at: datetime,
    ) -> CatalogueEntry:
        moved = replace(
            self,
            content=content if content is not None else self.content,
            routing_rules=routing_rules if routing_rules is not None else self.routing_rules,
            withdrawn=withdrawn if withdrawn is not None else self.withdrawn,
        )
        record = EntryVersion(
            version=len(self.history) + 1,
            at=at,
            actor_id=actor_id,
            actor_agency_id=actor_agency_id,
            change=change,
            summary_zh=summary_zh,
            snapshot=moved.snapshot(),
        )
        return replace(moved, history=(*self.history, record))

    @property
    def catalogue_version(self) -> int:
        """The catalogue version of this entry (1 for the first)."""
        return len(self.history)

    def revise(
        self, content: EntryContent, *, actor_id: str, actor_agency_id: str | None, at: datetime
    ) -> CatalogueEntry | None:
        """A new version with ``content``; None when nothing would change."""
        if content.code != self.code:
            raise ValidationFailed("the code of an entry cannot change", field="code")
        if content == self.content and not self.withdrawn:
            return None
        return self._next(
            content=content,
            withdrawn=False,
            change="revised",
            summary_zh=describe_changes(self.content, content),
            actor_id=actor_id,
            actor_agency_id=actor_agency_id,
            at=at,
        )

    def withdraw(
        self, *, reason: str, actor_id: str, actor_agency_id: str | None, at: datetime
    ) -> CatalogueEntry:
        if self.withdrawn:
            raise InvalidState(
                f"matter {self.code} is already withdrawn", field="code", code="ALREADY_DONE"
            )
        if not reason.strip():
            raise ValidationFailed(
                "say why the matter is withdrawn", field="reason", code="REQUIRED"
            )
        return self._next(
            withdrawn=True,
            change="withdrawn",
            summary_zh=f"事项“{self.content.name}”（{self.code}）已从清单中取消：{reason.strip()}",
            actor_id=actor_id,
            actor_agency_id=actor_agency_id,
            at=at,
        )

    def add_routing_rule(
        self, rule: RoutingRule, *, actor_id: str, actor_agency_id: str | None, at: datetime
    ) -> CatalogueEntry | None:
        """R-CAT-04 / R-DSP-03: the ruling becomes part of the entry; None when it already is
        (a redelivered ruling adds nothing)."""
        if any(r.rule_id == rule.rule_id for r in self.routing_rules):
            return None
        where = f"在{rule.township_id}" if rule.township_id else "在全域"
        return self._next(
            routing_rules=(*self.routing_rules, rule),
            change="routing_rule_added",
            summary_zh=(
                f"事项“{self.content.name}”（{self.code}）增加承办规则：自"
                f"{rule.effective_from.isoformat()}起{where}由{rule.responsible_agency_id}承办"
                f"（依据：{rule.basis or rule.rule_id}）"
            ),
            actor_id=actor_id,
            actor_agency_id=actor_agency_id,
            at=at,
        )

    def sign_off_entrustment(
        self,
        township_id: str,
        step: str,
        sign_off: SignOff,
        *,
        actor_agency_id: str | None,
        at: datetime,
    ) -> CatalogueEntry:
        """R-CAT-05: the justice bureau's review (``step`` "review"), then the government's
        approval ("approval") of the entrustment (委托) to ``township_id``; only then does it
        take effect."""
        delegation = next(
            (d for d in self.content.delegations if d.township_id == township_id), None
        )
        if delegation is None:
            raise ValidationFailed(
                f"matter {self.code} is not delegated to {township_id}",
                field="townshipId",
                code="UNKNOWN_VALUE",
            )
        if delegation.mode is not DelegationMode.AGREEMENT:
            raise InvalidState(
                f"the power of matter {self.code} goes to {township_id} by decision (赋权): only "
                "an entrustment (委托) is reviewed and approved (R-CAT-05)",
                field="townshipId",
            )
        if not sign_off.text.strip():
            raise ValidationFailed(
                "write the review's opinion (审查意见)"
                if step == "review"
                else "cite the government's approval (批准文号)",
                field="opinion" if step == "review" else "basis",
                code="LEGAL_BASIS_REQUIRED",
            )
        if step == "review":
            if delegation.review is not None:
                raise InvalidState(
                    f"the entrustment to {township_id} was already reviewed on "
                    f"{delegation.review.on.isoformat()}",
                    field="townshipId",
                    code="ALREADY_DONE",
                )
            signed = replace(delegation, review=sign_off)
            summary = (
                f"事项“{self.content.name}”（{self.code}）委托{township_id}行使，司法局已审查"
                f"（{sign_off.text.strip()}），待政府批准后生效（R-CAT-05）"
            )
        else:
            if delegation.review is None:
                raise InvalidState(
                    "the justice bureau has not reviewed this entrustment yet: the government "
                    "approves it after the review (R-CAT-05)",
                    field="townshipId",
                    code="NOT_YET",
                )
            if delegation.approval is not None:
                raise InvalidState(
                    f"the entrustment to {township_id} was already approved on "
                    f"{delegation.approval.on.isoformat()}",
                    field="townshipId",
                    code="ALREADY_DONE",
                )
            signed = replace(delegation, approval=sign_off)
            start = max(delegation.effective_from, sign_off.on)
            summary = (
                f"事项“{self.content.name}”（{self.code}）委托{township_id}行使，经政府批准"
                f"（{sign_off.text.strip()}），自{start.isoformat()}起生效（R-CAT-05）"
            )
        content = replace(
            self.content,
            delegations=tuple(
                signed if d.township_id == township_id else d for d in self.content.delegations
            ),
        )
        return self._next(
            content=content,
            change=f"entrustment_{'reviewed' if step == 'review' else 'approved'}",
            summary_zh=summary,
            actor_id=sign_off.actor_id,
            actor_agency_id=actor_agency_id,
            at=at,
        )

    def townships_touched(self, before: CatalogueEntry | None) -> list[str]:
        """Townships a change concerns: every township holding (or losing) the power; for a
        place-bound ruling or one entrustment's sign-off only that place (R-CAT-01, R-NTF-02)."""
        last = self.history[-1] if self.history else None
        if last is not None and last.change == "routing_rule_added":
            rule = self.routing_rules[-1]
            if rule.township_id is not None:
                return [rule.township_id]
        if last is not None and last.change.startswith("entrustment_") and before is not None:
            old = set(before.content.delegations)
            return sorted({d.township_id for d in self.content.delegations if d not in old})
        touched = set(self.townships)
        if before is not None:
            touched |= before.townships
        return sorted(touched)


def _sign_off_snapshot(s: SignOff | None) -> dict[str, str] | None:
    if s is None:
        return None
    return {
        "agency_id": s.agency_id,
        "actor_id": s.actor_id,
        "on": s.on.isoformat(),
        "text": s.text,
    }


def carry_sign_offs(old: EntryContent, new: EntryContent) -> EntryContent:
    """A revision that keeps a township's entrustment as written keeps its review and
    approval (R-CAT-05); one that changes its terms needs both again."""
    signed = {d.township_id: d for d in old.delegations}
    kept = []
    for d in new.delegations:
        before = signed.get(d.township_id)
        if before is not None and before.same_terms(d):
            d = replace(d, review=before.review, approval=before.approval)
        kept.append(d)
    return replace(new, delegations=tuple(kept))


def define_entry(
    content: EntryContent, *, actor_id: str, actor_agency_id: str | None, at: datetime
) -> CatalogueEntry:
    """The first version of an entry."""
    empty = CatalogueEntry(content=content)
    delegated = "、".join(
        f"{d.township_id}（{MODE_ZH[d.mode]}，自{d.effective_from.isoformat()}）"
        for d in content.delegations
    )
    summary = (
        f"新增事项“{content.name}”（{content.code}），"
        f"原业务主管部门{content.original_department_id}"
    )
    summary += f"；下放至：{delegated}" if delegated else "；未下放，由原业务主管部门承办"
    return empty._next(
        change="created",
        summary_zh=summary,
        actor_id=actor_id,
        actor_agency_id=actor_agency_id,
        at=at,
    )


def describe_changes(old: EntryContent, new: EntryContent) -> str:
    """What changed between two versions, in words for the townships' inboxes."""
    parts: list[str] = []
    labels = {
        "name": "事项名称",
        "legal_basis": "实施依据",
        "penalty_basis": "处罚依据",
        "discretion_benchmark": "裁量基准",
        "original_department_id": "原业务主管部门",
    }
    for attr, label in labels.items():
        if getattr(old, attr) != getattr(new, attr):
            parts.append(f"{label}调整为“{getattr(new, attr)}”")
    before = {d.township_id: d for d in old.delegations}
    after = {d.township_id: d for d in new.delegations}
    for t in sorted(after.keys() - before.keys()):
        d = after[t]
        parts.append(f"{MODE_ZH[d.mode]}至{t}（自{d.effective_from.isoformat()}）")
    for t in sorted(before.keys() - after.keys()):
        parts.append(f"收回{t}的下放")
    for t in sorted(before.keys() & after.keys()):
        if before[t] != after[t]:
            parts.append(f"调整{t}的下放方式或期限")
    body = "；".join(parts) if parts else "恢复为有效事项"
    return f"事项“{new.name}”（{new.code}）变更：{body}"


def add_months(d: date, months: int) -> date:
    month = d.month - 1 + months
    year = d.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(d.day, _calendar.monthrange(year, month)[1]))


def transition_end(effective_from: date, months: int) -> date | None:
    """Last day of the transition period after a delegation (HC #12: 3个月过渡期); None
    when the district has none."""
    if months <= 0:
        return None
    return add_months(effective_from, months) - timedelta(days=1)


def new_delegation(
    *,
    township_id: str,
    mode: str,
    effective_from: date,
    expires_on: date | None,
    transition_months: int,
    field_prefix: str = "delegations",
) -> Delegation:
    """Validate one delegation; the transition period comes from the district policy."""
    try:
        how = DelegationMode(mode)
    except ValueError:
        raise ValidationFailed(
            f"unknown delegation mode {mode!r}; one of: decision (赋权), agreement (委托)",
            field=f"{field_prefix}.mode",
            code="UNKNOWN_VALUE",
        ) from None
    if not township_id.strip():
        raise ValidationFailed(
            "name the township the power goes to",
            field=f"{field_prefix}.townshipId",
            code="REQUIRED",
        )
    if how is DelegationMode.AGREEMENT:
        if expires_on is None:
            raise ValidationFailed(
                "a delegation by agreement (委托) has a term: give its last day",
                field=f"{field_prefix}.expiresOn",
                code="REQUIRED",
            )
        if expires_on < effective_from:
            raise ValidationFailed(
                "the agreement's term ends before it starts",
                field=f"{field_prefix}.expiresOn",
                code="OUT_OF_RANGE",
            )
    elif expires_on is not None:
        raise ValidationFailed(
            "a delegation by decision (赋权) has no term; use agreement (委托) for a term",
            field=f"{field_prefix}.expiresOn",
        )
    return Delegation(
        township_id=township_id.strip(),
        mode=how,
        effective_from=effective_from,
        expires_on=expires_on,
        transition_until=transition_end(effective_from, transition_months),
    )


def new_content(
    *,
    code: str,
    name: str,
    original_department_id: str,
    legal_basis: str = "",
    penalty_basis: str = "",
    discretion_benchmark: str = "",
    delegations: tuple[Delegation, ...] = (),
) -> EntryContent:
    """Validate what an official writes for one matter (R-CAT-01)."""
    if not code.strip():
        raise ValidationFailed("the matter code must not be empty", field="code", code="REQUIRED")
    if not name.strip():
        raise ValidationFailed("the matter name must not be empty", field="name", code="REQUIRED")
    if not original_department_id.strip():
        raise ValidationFailed(
            "name the original department (原业务主管部门)",
            field="originalDepartmentId",
            code="REQUIRED",
        )
    if not legal_basis.strip():
        raise ValidationFailed(
            "cite the legal basis (实施依据)", field="legalBasis", code="LEGAL_BASIS_REQUIRED"
        )
    seen: set[str] = set()
    for i, d in enumerate(delegations):
        if d.township_id in seen:
            raise ValidationFailed(
                f"township {d.township_id} appears twice", field=f"delegations.{i}.townshipId"
            )
        seen.add(d.township_id)
    return EntryContent(
        code=code.strip(),
        name=name.strip(),
        original_department_id=original_department_id.strip(),
        legal_basis=legal_basis.strip(),
        penalty_basis=penalty_basis.strip(),
        discretion_benchmark=discretion_benchmark.strip(),
        delegations=tuple(sorted(delegations, key=lambda d: d.township_id)),
    )
