"""The per-request context: the verified principal of the request (its token checked
against this deployment's district) and the caller command handlers take."""

from __future__ import annotations

from collections.abc import Callable

from strawberry.fastapi import BaseContext

from kernel.auth import AuthError, Principal, TokenVerifier, accept_service_identity
from kernel.caller import Caller
from kernel.graphql.errors import ErrorCode, graphql_error


class RequestContext(BaseContext):
    """Per-request context; subclasses add the service's handlers, queries and loaders."""

    def __init__(self, verifier: TokenVerifier, district: str) -> None:
        super().__init__()
        self._verifier = verifier
        self._district = district
        self._principal: Principal | None = None

    @property
    def correlation_id(self) -> str | None:
        return self.request.headers.get("x-correlation-id") if self.request else None

    def principal(self) -> Principal:
        """The verified caller, or a GraphQL error with code UNAUTHENTICATED."""
        if self._principal is None:
            header = self.request.headers.get("authorization") if self.request else None
            try:
                principal = self._verifier.verify_header(header)
            except AuthError as exc:
                raise graphql_error(str(exc), exc.code, reason=str(exc.reason)) from exc
            if principal.district != self._district:
                raise graphql_error(
                    f"this deployment serves district {self._district!r}; the token is for "
                    f"{principal.district!r}",
                    ErrorCode.WRONG_DISTRICT,
                )
            try:
                accept_service_identity(principal)  # never on the graph
            except AuthError as exc:
                raise graphql_error(str(exc), exc.code, reason=str(exc.reason)) from exc
            self._principal = principal
        return self._principal

    def caller(self) -> Caller:
        """The verified caller with this request's correlation id, as command handlers take it."""
        return Caller(self.principal(), self.correlation_id)

    def reauthenticate(self) -> Principal:
        """Verify the caller's token again (a subscription outlives its request): an expired
        or no longer trusted token ends what it opened, with code UNAUTHENTICATED."""
        self._principal = None
        return self.principal()


ContextFactory = Callable[..., RequestContext]
