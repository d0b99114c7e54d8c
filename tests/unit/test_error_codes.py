"""The one registry of refusal codes (issue 18): every code refines one of the five
families; a refusal names only a registered code of its own family; the graph's
``UserErrorCode`` enum is the registry, value for value."""

from __future__ import annotations

import pytest

from kernel.errors import CODES, Forbidden, InvalidState, Problems, ValidationFailed
from kernel.graphql.errors import UserErrorCode, user_error
from referral.domain.errors import MaterialContentMissing


def test_the_enum_is_the_registry_and_each_code_refines_a_family() -> None:
    assert set(UserErrorCode.__members__) == set(CODES)
    families = {c.family for c in CODES.values()}
    assert families == {"VALIDATION_FAILED", "NOT_FOUND", "FORBIDDEN", "INVALID_STATE", "CONFLICT"}
    assert all(c.zh and c.en for c in CODES.values())


def test_a_refusal_names_only_a_registered_code_of_its_family() -> None:
    assert InvalidState("too late", code="DEADLINE_PASSED").code == "DEADLINE_PASSED"
    with pytest.raises(ValueError, match="family INVALID_STATE"):
        InvalidState("x", code="LEADER_REQUIRED")  # a FORBIDDEN code
    with pytest.raises(ValueError, match="no code"):
        Forbidden("x", code="NO_SUCH_CODE")
    # A class of its own code stays in its family; its code is in the registry.
    missing = MaterialContentMissing("the file is gone")
    assert missing.code == "MATERIAL_CONTENT_MISSING" and missing.family == "INVALID_STATE"
    assert missing.stable_code == "MATERIAL_CONTENT_MISSING"


def test_the_graph_answers_in_chinese_with_the_english_detail_and_every_problem() -> None:
    found = Problems()
    found.raise_if_any()  # nothing found: nothing raised
    found.add(ValidationFailed("title must not be empty", field="title", code="REQUIRED"))
    found.add(ValidationFailed("a fine cannot be negative", field="fineYuan", zh="罚款不能为负数"))
    with pytest.raises(ValidationFailed) as raised:
        found.raise_if_any()
    error = user_error(raised.value)
    assert error.error_code.value == "REQUIRED" and error.family.value == "VALIDATION_FAILED"
    assert error.code == "VALIDATION_FAILED"  # the deprecated string keeps its old value
    assert error.message == "必填内容为空（title must not be empty）"
    assert error.detail == "title must not be empty"
    assert [(p.code.value, p.field, p.message) for p in error.errors] == [
        ("REQUIRED", "title", "必填内容为空（title must not be empty）"),
        ("VALIDATION_FAILED", "fineYuan", "罚款不能为负数"),
    ]


_CLASSES = {
    "ValidationFailed": "VALIDATION_FAILED",
    "NotFound": "NOT_FOUND",
    "Forbidden": "FORBIDDEN",
    "InvalidState": "INVALID_STATE",
    "Conflict": "CONFLICT",
}


def test_every_coded_refusal_site_names_a_registered_code_of_its_family() -> None:
    """Issue 18: a site's ``code=`` is checked only when the refusal is raised; this reads
    every site of the services instead (a wrong family would be a ValueError at the refusal)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "services"
    seen = 0
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            family = _CLASSES.get(node.func.id)
            for kw in node.keywords if family else ():
                if kw.arg == "code" and isinstance(kw.value, ast.Constant) and kw.value.value:
                    seen += 1
                    code = CODES.get(kw.value.value)
                    where = f"{path.relative_to(root)}:{node.lineno}"
                    assert code is not None, f"{where}: {kw.value.value} is not registered"
                    assert code.family == family, f"{where}: {code.name} is no {family} code"
    assert seen > 370  # issue 18: most sites carry a precise code (session 9: 382 of 460)
