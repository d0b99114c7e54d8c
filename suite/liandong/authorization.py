"""The whole authorization matrix (授权矩阵) of the suite: every service's rows, in one place for
the document (``docs/authorization.md``) and for the tests that check the matrix against the
composed schema. Each service enforces its own rows (``<service>.application.matrix``).

Regenerate the document: ``uv run python -m liandong.authorization docs/authorization.md``.
"""

from __future__ import annotations

from collections.abc import Iterable

from coordination.application.matrix import MATRIX as COORDINATION
from kernel.authz import Caller, Matrix, Relation, Rule
from kernel.authz import with_generated_matrix as _with_generated_matrix
from notify.application.matrix import MATRIX as NOTIFY
from referral.application.matrix import MATRIX as REFERRAL

__all__ = [
    "MATRICES",
    "RULES",
    "authorize",
    "matrix_of",
    "operations",
    "permits",
    "rules_for",
    "with_generated_matrix",
]

MATRICES: tuple[Matrix, ...] = (REFERRAL, COORDINATION, NOTIFY)
RULES: tuple[Rule, ...] = tuple(r for m in MATRICES for r in m.rules)


def matrix_of(operation: str) -> Matrix:
    service = operation.split(".", 1)[0]
    for m in MATRICES:
        if m.service == service:
            return m
    raise KeyError(f"no service {service!r} owns the operation {operation!r}")


def rules_for(operation: str) -> list[Rule]:
    return matrix_of(operation).rules_for(operation)


def operations(service: str | None = None) -> list[str]:
    """Every operation (of one service), in table order, once each."""
    return [op for m in MATRICES if service in (None, m.service) for op in m.operations()]


def permits(
    principal: Caller, operation: str, relations: Iterable[Relation], tags: Iterable[str] = ()
) -> bool:
    return matrix_of(operation).permits(principal, operation, relations, tags)


def authorize(
    principal: Caller,
    operation: str,
    relations: Iterable[Relation],
    tags: Iterable[str] = (),
    *,
    field: str | None = None,
) -> None:
    matrix_of(operation).authorize(principal, operation, relations, tags, field=field)


def with_generated_matrix(document: str) -> str:
    return _with_generated_matrix(document, MATRICES)


if __name__ == "__main__":
    import sys
    from pathlib import Path

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/authorization.md")
    target.write_text(with_generated_matrix(target.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {target}")
