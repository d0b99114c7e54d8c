"""What the caller may do to an aggregate now (``viewerCan`` / ``availableActions``, issue 18),
answered by the mutations themselves: each command runs as a dry run through its own handler
(the authorization matrix, the domain's state rules, every check before the write) and stops
where it would write. No second copy of the rules: an action is offered exactly when its
mutation would succeed now, and a refused one carries the refusal the mutation answers.

The stop is the aggregate store's write (:class:`kernel.outbox.AggregateCollection` calls
:func:`stop_if_dry_run` before it inserts or updates), so a handler needs nothing of its own
to take part. A handler that writes something else first (a file, a number drawn from a
register) must not be tried: the store every service is handed refuses any write inside a dry
run, loudly (:mod:`kernel.write_guard`), so such a handler fails instead of writing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from kernel.errors import DomainError

__all__ = [
    "TEXT_TO_WRITE",
    "ActionCheck",
    "DryRunReached",
    "dry_run",
    "in_dry_run",
    "stop_if_dry_run",
    "try_actions",
]

#: A placeholder for a free text the client will write; a dry run checks the state and the
#: caller, not the wording (an empty text is the mutation's own VALIDATION_FAILED).
TEXT_TO_WRITE = "（待填写）"

_DRY_RUN: ContextVar[bool] = ContextVar("dry_run", default=False)


class DryRunReached(Exception):
    """The command passed every check and reached its write: in a dry run, it stops here."""


def in_dry_run() -> bool:
    """True inside :func:`dry_run`."""
    return _DRY_RUN.get()


def stop_if_dry_run(subject: str) -> None:
    """Called where a command would write: raise :class:`DryRunReached` in a dry run."""
    if in_dry_run():
        raise DryRunReached(subject)


@contextmanager
def dry_run() -> Iterator[None]:
    """Within it every aggregate write stops with :class:`DryRunReached` instead."""
    token = _DRY_RUN.set(True)
    try:
        yield
    finally:
        _DRY_RUN.reset(token)


@dataclass(frozen=True)
class ActionCheck:
    """One mutation and whether the caller may run it now; ``refusal`` is what it would
    answer otherwise."""

    action: str
    refusal: DomainError | None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


#: One mutation as its handler is called, with the client's choices filled in.
Attempt = Callable[[], Awaitable[object]]


async def try_actions(attempts: Mapping[str, Attempt]) -> list[ActionCheck]:
    """Each attempt (by the mutation's graph name) as a dry run, in order."""
    found: list[ActionCheck] = []
    with dry_run():
        for name, attempt in attempts.items():
            try:
                await attempt()
            except DryRunReached:
                found.append(ActionCheck(name, None))
            except DomainError as exc:
                found.append(ActionCheck(name, exc))
            else:  # pragma: no cover - a handler that returned without writing
                raise RuntimeError(f"{name} returned in a dry run; it must write to be tried")
    return found
