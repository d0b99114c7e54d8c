"""Errors as the graph reports them: the stable ``extensions.code`` of every GraphQL error,
the typed ``UserError`` a refused mutation answers with, and the extension that codes (and in
production masks) whatever else goes wrong."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, ParserCache, ValidationCache

from kernel.errors import CODES, DomainError
from kernel.store import StoreUnavailableError

T = TypeVar("T")


class ErrorCode:
    """Stable error codes clients branch on (``extensions.code`` or ``UserError.code``)."""

    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    VALIDATION = "VALIDATION_FAILED"
    CONFLICT = "CONFLICT"
    INVALID_STATE = "INVALID_STATE"
    WRONG_DISTRICT = "WRONG_DISTRICT"
    INTERNAL = "INTERNAL"
    UNAVAILABLE = "UNAVAILABLE"
    BAD_REQUEST = "GRAPHQL_VALIDATION_FAILED"


def graphql_error(message: str, code: str, **extra: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extra})


def _code_enum() -> Any:
    """``UserErrorCode``: one value per code of the registry (``kernel.errors.CODES``), each
    described by its meaning and its Chinese wording."""
    enum = Enum("UserErrorCode", {name: name for name in CODES})  # type: ignore[misc]
    strawberry.enum(
        enum,
        description="Why a mutation was refused: a stable code from one registry "
        "(kernel.errors.CODES). Each refines one of five families (VALIDATION_FAILED, "
        "NOT_FOUND, FORBIDDEN, INVALID_STATE, CONFLICT), given as `UserError.family`.",
    )
    for value in enum.__strawberry_definition__.values:  # type: ignore[attr-defined]
        code = CODES[value.value]
        value.description = f"{code.en} ({code.zh})"
    return enum


if TYPE_CHECKING:
    UserErrorCode = Enum
else:
    UserErrorCode = _code_enum()


@strawberry.federation.type(
    shareable=True, description="One problem found in a refused mutation's input."
)
class UserErrorProblem:
    code: UserErrorCode = strawberry.field(description="the problem's stable code")
    message: str = strawberry.field(description="the problem for officials, in Chinese")
    detail: str = strawberry.field(description="the problem in English, for developers")
    field: str | None = strawberry.field(
        default=None, description="the input field that was wrong, as a dotted path"
    )


@strawberry.federation.type(shareable=True, description="Why a mutation did not happen.")
class UserError:
    code: str = strawberry.field(
        description="the broad code, as a string: VALIDATION_FAILED, NOT_FOUND, FORBIDDEN, "
        "INVALID_STATE, CONFLICT (or a class's own, e.g. MATERIAL_CONTENT_MISSING)",
        deprecation_reason="use `errorCode` (the precise code, an enum) or `family` (this "
        "broad code as an enum)",
    )
    message: str = strawberry.field(
        description="the refusal for officials, in Chinese (the English specifics in brackets "
        "where the refusal has no Chinese text of its own)"
    )
    field: str | None = strawberry.field(
        default=None, description="the input field that was wrong, as a dotted path"
    )
    error_code: UserErrorCode = strawberry.field(
        default=None,
        description="the precise code to branch on and to word the refusal by, e.g. "
        "REQUIRED, WRONG_STATUS, LEADER_REQUIRED, DEADLINE_PASSED",
    )
    family: UserErrorCode = strawberry.field(
        default=None,
        description="the broad code `errorCode` refines: VALIDATION_FAILED, NOT_FOUND, "
        "FORBIDDEN, INVALID_STATE or CONFLICT",
    )
    detail: str = strawberry.field(
        default="", description="the refusal in English, for developers and logs"
    )
    errors: list[UserErrorProblem] = strawberry.field(
        default_factory=list,
        description="every problem found at once, this one first (a validation that finds "
        "several problems reports them all)",
    )


def _member(name: str) -> Any:
    return UserErrorCode.__members__[name]


def _code_of(exc: DomainError) -> Any:
    return _member(exc.code if exc.code in CODES else exc.family)


def user_error(exc: DomainError) -> UserError:
    """A refused command as the graph reports it: the registry's code, the refusal in Chinese
    and in English, the input field at fault, and every other problem found with it."""
    problems = [
        UserErrorProblem(code=_code_of(e), message=e.message_zh, detail=e.message, field=e.field)
        for e in (exc, *exc.problems)
    ]
    return UserError(
        code=exc.stable_code,
        message=exc.message_zh,
        field=exc.field,
        error_code=_code_of(exc),
        family=_member(exc.family),
        detail=exc.message,
        errors=problems,
    )


async def guard(action: Awaitable[T] | Callable[[], Awaitable[T]]) -> T | UserError:
    """Await a command; a ``DomainError`` becomes a ``UserError`` (nothing was changed).
    ``action`` may also be a function that builds the command and returns it to await, so a
    refusal while reading the input (e.g. a malformed day) is a ``UserError`` too."""
    try:
        return await (action() if callable(action) else action)
    except DomainError as exc:
        return user_error(exc)


class CodedErrors(MaskErrors):
    """Every error leaves the service with a stable ``extensions.code``.

    Errors raised on purpose already carry one and pass unchanged; errors in the request
    itself (syntax, unknown field, bad variable) get ``GRAPHQL_VALIDATION_FAILED``. A store
    that cannot be reached (``StoreUnavailableError``) becomes ``UNAVAILABLE`` with a message
    a client may show: the operation did not happen and may be retried. Anything else is an
    internal fault: ``INTERNAL``, and in production its text (which may name internals) is replaced.
    """

    def __init__(self, production: bool) -> None:
        super().__init__()
        self.production = production

    def _coded(self, error: GraphQLError, message: str, code: str) -> GraphQLError:
        return GraphQLError(
            message=message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions={"code": code},
        )

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed: list[GraphQLError] = []
        for error in errors:
            if error.extensions and "code" in error.extensions:
                processed.append(error)
            elif error.original_error is None:
                # Parse, validation and variable errors: about the request, not internals.
                processed.append(self._coded(error, error.message, ErrorCode.BAD_REQUEST))
            elif isinstance(error.original_error, StoreUnavailableError):
                processed.append(
                    self._coded(
                        error,
                        "服务暂时不可用，请稍后重试 (the database did not answer; nothing was "
                        "changed, retry later)",
                        ErrorCode.UNAVAILABLE,
                    )
                )
            elif self.production:
                processed.append(self._coded(error, self.error_message, ErrorCode.INTERNAL))
            else:
                processed.append(self._coded(error, error.message, ErrorCode.INTERNAL))
        return processed


def schema_extensions(production: bool) -> list[Any]:
    # Factories, not instances: strawberry builds the extensions per request; the parser and
    # validation caches live at module level, so they are still shared across requests.
    return [
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        lambda: CodedErrors(production),
    ]
