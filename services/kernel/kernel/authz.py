"""The engine of the authorization matrix (授权矩阵): roles × operations × agency relation.

Each service owns its rows, as data (``<service>/application/matrix.py``: a ``Matrix`` of
``Rule``s), and asks its matrix before acting: it computes the caller's *relations* to the
resource at hand (its agency is the sender, the receiver, another party, or it supervises the
case; none of these: ``NONE``) and calls ``Matrix.authorize``. The human-readable matrix in
``docs/authorization.md`` is generated from every service's matrix (``render_markdown``,
``python -m liandong.authorization``); a test fails when the document and the tables drift.

Conventions:

* An operation is ``<service>.<name>``: the GraphQL field name for mutations and queries
  (``referral.acceptReferral``), or a dotted name for a per-field or per-route permission
  (``referral.Referral.materialContent``).
* A rule allows the listed roles when the caller holds *at least one* of the listed
  relations; several rules of one operation are alternatives. No rule, no access: every role
  not named is refused, and the judicial observer (司法观察, the procuratorate) has read rules
  only, so every mutation refuses it.
* ``requires_tag`` narrows a rule to resources carrying that tag (e.g. ``crime``: the
  procuratorate reads suspected-crime transfers only).

This module is pure (no I/O): a domain or application layer may import it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from kernel.auth import ROLES
from kernel.errors import Forbidden

__all__ = [
    "ACTING_STAFF",
    "OVERSIGHT",
    "ROLE_NAMES",
    "STAFF",
    "Caller",
    "Matrix",
    "Relation",
    "Rule",
    "render_markdown",
    "rule",
    "with_generated_matrix",
]


class Relation(StrEnum):
    """How the caller's agency stands to the resource (案件关系)."""

    SENDER = "sender"  # 移送方 / the requesting, initiating or convening agency
    RECEIVER = "receiver"  # 接收方 / the agency asked, holding or owning the matter
    PARTY = "party"  # 其他当事机关: previous receivers, interim handler, police, invitees
    SUPERVISOR = "supervisor"  # 监督方: acts for a supervising body (oversight role)
    NONE = "none"  # no relation to the resource


ROLE_NAMES: dict[str, str] = {
    "clerk": "承办人",
    "leader": "负责人",
    "legal_reviewer": "法制审核",
    "liaison": "联络员",
    "coordinator": "协调",
    "supervisor": "监督 (司法局)",
    "government": "政府",
    "judicial_observer": "司法观察 (检察院)",
    "bureau_system": "外部系统",
    "grid_member": "网格员 (reports problems, reads its own reports, R-GRD-01)",
    "referral_service": "移送服务 (service identity: fetches a referred dispatch's photos, "
    "R-GRD-01)",
}
assert set(ROLE_NAMES) == set(ROLES), "every role of kernel.auth is named in the matrix"

#: Staff of an agency who read its cases.
STAFF = frozenset({"clerk", "leader", "legal_reviewer", "liaison"})
#: Staff who act on a case (the legal reviewer reviews and reads, it does not move cases).
ACTING_STAFF = frozenset({"clerk", "leader", "liaison"})
#: Roles whose holders act for a supervising body of the district: they hold the SUPERVISOR
#: relation to every resource of the district (the identity provider issues these roles only
#: to staff of the government, the coordination body, the justice bureau, the procuratorate).
OVERSIGHT = frozenset({"government", "coordinator", "supervisor", "judicial_observer"})

_R = Relation


class Caller(Protocol):
    """Whoever acts: a ``kernel.auth.Principal``, or a service's own actor value carrying the
    principal's roles (the matrix decides on roles and relations, nothing else)."""

    @property
    def roles(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Rule:
    """``roles`` may perform ``operation`` when the caller holds one of ``relations``."""

    operation: str
    roles: frozenset[str]
    relations: frozenset[Relation]
    note: str = ""
    requires_tag: str | None = None

    @property
    def service(self) -> str:
        return self.operation.split(".", 1)[0]


def rule(
    operation: str,
    roles: Iterable[str],
    relations: Iterable[Relation],
    note: str = "",
    *,
    tag: str | None = None,
) -> Rule:
    return Rule(operation, frozenset(roles), frozenset(relations), note, tag)


class Matrix:
    """One service's rows of the matrix and the decisions made from them."""

    def __init__(self, service: str, rules: Iterable[Rule]) -> None:
        self.service = service
        self.rules = tuple(rules)
        strangers = sorted({r.operation for r in self.rules if r.service != service})
        if strangers:
            raise ValueError(f"the {service} matrix holds other services' rows: {strangers}")
        unknown = sorted({role for r in self.rules for role in r.roles} - set(ROLE_NAMES))
        if unknown:
            raise ValueError(f"the {service} matrix names unknown roles: {unknown}")

    def rules_for(self, operation: str) -> list[Rule]:
        return [r for r in self.rules if r.operation == operation]

    def operations(self) -> list[str]:
        """Every operation of the table, in table order, once each."""
        return list(dict.fromkeys(r.operation for r in self.rules))

    def permits(
        self,
        principal: Caller,
        operation: str,
        relations: Iterable[Relation],
        tags: Iterable[str] = (),
    ) -> bool:
        """True when a rule of ``operation`` allows one of the caller's roles with one of the
        caller's ``relations`` (and the resource carries the rule's required tag)."""
        held = set(relations) or {Relation.NONE}
        tagset = set(tags)
        rules = self.rules_for(operation)
        if not rules:
            raise KeyError(f"no authorization rule names the operation {operation!r}")
        return any(
            r.roles & set(principal.roles)
            and r.relations & held
            and (r.requires_tag is None or r.requires_tag in tagset)
            for r in rules
        )

    def authorize(
        self,
        principal: Caller,
        operation: str,
        relations: Iterable[Relation],
        tags: Iterable[str] = (),
        *,
        field: str | None = None,
    ) -> None:
        """Return when allowed; raise ``Forbidden`` naming what the matrix requires."""
        held = set(relations) or {Relation.NONE}
        if self.permits(principal, operation, held, tags):
            return
        needs = "; or ".join(
            f"{'/'.join(sorted(r.roles))} as {'/'.join(sorted(r.relations))}"
            + (f" ({r.requires_tag} only)" if r.requires_tag else "")
            for r in self.rules_for(operation)
        )
        roles = "/".join(principal.roles) or "no role"
        raise Forbidden(
            f"{operation.split('.', 1)[1]} is not allowed for {roles} as "
            f"{'/'.join(sorted(held))}: it needs {needs}",
            field=field,
        )


def render_markdown(matrices: Sequence[Matrix]) -> str:
    """The matrices as Markdown tables, one per service (``docs/authorization.md``)."""
    roles = list(ROLE_NAMES)
    lines: list[str] = []
    for matrix in matrices:
        lines.append(f"### {matrix.service}")
        lines.append("")
        lines.append(
            f"Enforced through `kernel.authz`; the rows are `{matrix.service}.application.matrix`."
        )
        lines.append("")
        lines.append("| operation | " + " | ".join(roles) + " | note |")
        lines.append("|---|" + "---|" * len(roles) + "---|")
        for op in matrix.operations():
            rules = matrix.rules_for(op)
            cells = []
            for role in roles:
                held = sorted(
                    {
                        rel.value + (f" ({r.requires_tag})" if r.requires_tag else "")
                        for r in rules
                        if role in r.roles
                        for rel in r.relations
                    }
                )
                cells.append(", ".join(held) if held else "—")
            notes = "; ".join(r.note for r in rules if r.note)
            lines.append(f"| `{op.split('.', 1)[1]}` | " + " | ".join(cells) + f" | {notes} |")
        lines.append("")
    return "\n".join(lines)


BEGIN_MARK = (
    "<!-- BEGIN GENERATED from the services' authorization matrices: do not edit by hand -->"
)
END_MARK = "<!-- END GENERATED -->"


def with_generated_matrix(document: str, matrices: Sequence[Matrix]) -> str:
    """``document`` with the text between the markers replaced by ``render_markdown()``."""
    head, sep, rest = document.partition(BEGIN_MARK)
    _, sep2, tail = rest.partition(END_MARK)
    if not sep or not sep2:
        raise ValueError(f"the document lacks the markers {BEGIN_MARK!r} / {END_MARK!r}")
    return f"{head}{BEGIN_MARK}\n\n{render_markdown(matrices)}\n{END_MARK}{tail}"
