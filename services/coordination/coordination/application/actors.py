"""Who acts in the coordination application.

Every public handler takes ``(command, caller)``: the ``kernel.caller.Caller`` the entrypoint
built (the verified principal and the request's correlation id). The domain records and
authorizes a domain ``Actor``; ``acting`` is the one place that makes it from the caller.
Acts the system performs itself (seeding, the catalogue import, event handlers, timers) use
``SYSTEM`` on the handlers' explicit ``*_as_system`` or internal paths."""

from __future__ import annotations

from coordination.domain.dispute import Actor
from kernel.caller import Caller

__all__ = ["SYSTEM", "Actor", "Caller", "acting"]

#: The system itself: no person, no agency, no roles.
SYSTEM = Actor("system", None, ())


def acting(caller: Caller) -> Actor:
    """The domain's actor for a caller: its person, its agency and its roles."""
    p = caller.principal
    return Actor(p.person_id, p.agency_id, tuple(p.roles))
