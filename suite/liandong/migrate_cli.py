"""``liandong migrate SERVICE``: build the service's indexes (and run its other idempotent
store preparations) without serving — the Kubernetes Job ``migrate-<service>`` (compose: the
one-shot ``migrate-<service>``) runs it before a rollout, so large index builds do not
happen inside the pods' startup probe window (issue 19). Starting the service afterwards
finds them built (``create_index`` on an existing index is a no-op).

When it is done it records a completion marker in the service's database: the fingerprint
of the code that ran it. ``liandong migrate SERVICE --wait`` (the Deployments' init
container) waits until the marker carries the fingerprint of its own code, so the pods of a
new release start only after that release's Job has finished, whatever order ``kubectl
apply`` creates them in."""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

#: Collection and document id of the completion marker in each service's database.
MARKER_COLLECTION = "_migrations"
MARKER_ID = "store"


def code_fingerprint(service: str) -> str:
    """SHA-256 over the kernel's and the service's Python sources (their paths and bytes):
    the same image gives the same value, a release that changes either gives another."""
    digest = hashlib.sha256()
    for package in ("kernel", service):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise typer.BadParameter(f"no package {package!r} installed", param_hint="SERVICE")
        root = Path(next(iter(spec.submodule_search_locations)))
        for path in sorted(root.rglob("*.py")):
            digest.update(f"{package}/{path.relative_to(root).as_posix()}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


async def migrate(service: str) -> int:
    """Prepare ``service``'s store and record the marker; returns how many steps ran."""
    from kernel.adapters.memory_bus import MemoryBus
    from kernel.settings import Settings
    from liandong.suite import build_service

    settings = Settings()
    # No broker is needed to build indexes: an in-process bus that is never started.
    built = await build_service(service, settings, bus=MemoryBus())
    runtime = built.runtime
    steps = 0
    try:
        for aggregate in runtime.aggregates:
            await aggregate.ensure_indexes()
            steps += 1
        for hook in runtime.startup:
            await hook()
            steps += 1
        await runtime.store.collection(MARKER_COLLECTION).update_one(
            {"_id": MARKER_ID},
            {
                "$set": {
                    "fingerprint": code_fingerprint(service),
                    "steps": steps,
                    "finished_at": datetime.now(UTC),
                }
            },
            upsert=True,
        )
    finally:
        await runtime.store.close()
    return steps


async def wait_for_migration(service: str, *, within: float, interval: float = 2.0) -> bool:
    """True once ``service``'s marker carries this code's fingerprint; False after
    ``within`` seconds."""
    from kernel.settings import Settings
    from kernel.wiring import open_store

    wanted = code_fingerprint(service)
    deadline = time.monotonic() + within
    store = await open_store(Settings(), service)
    try:
        while True:
            marker = await store.collection(MARKER_COLLECTION).find_one({"_id": MARKER_ID})
            if marker is not None and marker.get("fingerprint") == wanted:
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(interval)
    finally:
        await store.close()


def migrate_command(
    service: Annotated[str, typer.Argument(help="referral, coordination or notify")],
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="do not migrate: wait until the migration of this code has finished "
            "(the Deployments' init container)",
        ),
    ] = False,
    timeout: Annotated[
        float, typer.Option(help="with --wait: seconds before giving up (exit 1)")
    ] = 1800.0,
) -> None:
    """Build SERVICE's indexes before a rollout (settings from LIANDONG_*)."""
    if wait:
        if not asyncio.run(wait_for_migration(service, within=timeout)):
            typer.echo(
                f"{service}: the migration of this release has not finished after {timeout:g} s "
                f"(run the Job migrate-{service}; `kubectl logs job/migrate-{service}`)",
                err=True,
            )
            raise typer.Exit(1)
        typer.echo(f"{service}: the store is migrated for this release")
        return
    steps = asyncio.run(migrate(service))
    typer.echo(f"{service}: store prepared ({steps} steps)")
