"""Who issues a command: the verified principal and the request's correlation id.

Every service's command handlers take ``(command, caller)``; the entrypoints build the
caller from the request (the GraphQL context, an HTTP route), event handlers from the
envelope that caused them."""

from __future__ import annotations

from dataclasses import dataclass

from kernel.auth import Principal

__all__ = ["Caller"]


@dataclass(frozen=True)
class Caller:
    principal: Principal
    correlation_id: str | None = None

    @property
    def agency_id(self) -> str:
        return self.principal.agency_id

    @property
    def person_id(self) -> str:
        return self.principal.person_id
