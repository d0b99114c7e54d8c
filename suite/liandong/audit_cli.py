"""``liandong audit``: check the tamper-evident full-process record (执法全过程记录, R-SUP-01),
and list stalled cases (``liandong audit stalls``, issue 14).

``liandong audit verify`` reads the district's hash chain from the notify service's store named
by the settings (``LIANDONG_STORE``, ``LIANDONG_MONGO_URL`` or ``LIANDONG_DATA_DIR``,
``LIANDONG_INSTANCE``, ``LIANDONG_DISTRICT``), recomputes every entry's hash in ``seq`` order,
and prints OK with the count, or names the first broken entry and exits with status 1.

Then it checks the chain against the latest signed checkpoint that notify's peers (referral,
coordination) keep in their own databases (issue 16, finding 8): a chain shorter than the
checkpoint was truncated, an entry whose hash differs from the checkpoint's head was
rewritten (with every later hash recomputed, which the chain alone cannot show). A copy whose
signature does not verify (``LIANDONG_AUDIT_VERIFY_KEY_FILE``, or the signing key's public
half) is itself reported as forged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

# The store and the notify service load when the command runs, not with `liandong --help`.
if TYPE_CHECKING:
    from kernel.settings import Settings
    from notify.domain.record import ChainReport, Checkpoint

#: The services that keep copies of the record's checkpoints.
PEERS = ("referral", "coordination")

audit_app = typer.Typer(
    help="The tamper-evident full-process record (执法全过程记录) and the stall check (停滞检查)."
)

#: Exit status when the chain is broken (2 is typer's usage error).
EXIT_BROKEN = 1


async def verify_record(settings: Settings, district: str | None = None) -> ChainReport:
    """Verify the hash chain of ``district`` (default: the deployment's) in notify's store."""
    from kernel.wiring import open_store
    from notify.adapters.record import RecordRepository

    store = await open_store(settings, "notify")
    try:
        return await RecordRepository(store).verify(district or settings.district)
    finally:
        await store.close()


async def latest_checkpoints(settings: Settings, district: str) -> list[Checkpoint]:
    """The newest checkpoint copies (five) each peer keeps, newest first; every one is
    checked, so a planted copy does not hide behind a genuine one of the same seq."""
    from kernel.audit_anchor import CheckpointKeeper
    from kernel.wiring import open_store
    from notify.domain.record import Checkpoint

    found: list[Checkpoint] = []
    for peer in PEERS:
        store = await open_store(settings, peer)
        try:
            for doc in await CheckpointKeeper(store).latest(district, limit=5):
                found.append(
                    Checkpoint(
                        doc["district"],
                        int(doc["seq"]),
                        doc["head"],
                        doc["checkpointed_at"],
                        key_id=doc["key_id"],
                        signature=doc["signature"],
                    )
                )
        finally:
            await store.close()
    return sorted(found, key=lambda c: c.seq, reverse=True)


async def verify_anchored(
    settings: Settings, district: str | None = None
) -> tuple[ChainReport, Checkpoint | None, str | None]:
    """The chain's report, the checkpoint it was held against, and what is wrong (None: OK).

    ``problem`` names a broken chain, a forged checkpoint copy, a truncation or a rewrite."""
    from kernel.wiring import open_store
    from notify.adapters.checkpoint_key import load_verifier
    from notify.adapters.record import RecordRepository
    from notify.domain.record import anchor_problem

    name = district or settings.district
    report = await verify_record(settings, name)
    if report.broken is not None:
        return report, None, report.broken.describe()
    checkpoints = await latest_checkpoints(settings, name)
    if not checkpoints:
        return report, None, None
    verifier = load_verifier(settings)
    for checkpoint in checkpoints:
        if not verifier.verifies(checkpoint):
            return (
                report,
                checkpoint,
                (
                    f"forged checkpoint: the copy for seq {checkpoint.seq} "
                    f"(key {checkpoint.key_id!r}) "
                    "does not carry a valid signature"
                ),
            )
    latest = checkpoints[0]
    store = await open_store(settings, "notify")
    try:
        stored = await RecordRepository(store).hash_at(name, latest.seq)
    finally:
        await store.close()
    return report, latest, anchor_problem(report, latest, stored)


def report_text(report: ChainReport, district: str) -> str:
    if report.broken is None:
        return (
            f"OK: the full-process record of {district} verifies: {report.count} entries, "
            f"chain head {report.head}"
        )
    return (
        f"BROKEN: the full-process record of {district} fails at {report.broken.describe()}. "
        f"{report.count} entries before it verify."
    )


@audit_app.command("verify")
def verify(
    district: Annotated[
        str | None, typer.Option(help="district (default: LIANDONG_DISTRICT)")
    ] = None,
) -> None:
    """Verify the hash chain of the full-process record; name the first broken entry."""
    import asyncio

    from kernel.settings import Settings

    settings = Settings()
    name = district or settings.district
    report, checkpoint, problem = asyncio.run(verify_anchored(settings, name))
    typer.echo(anchored_text(report, checkpoint, problem, name))
    if problem is not None:
        raise typer.Exit(EXIT_BROKEN)


#: Exit status when the stall check finds a case nobody is timed on.
EXIT_STALLED = 1


async def find_stalls(settings: Settings) -> list[tuple[str, str, str, str, str]]:
    """The stall check over the referral and coordination stores named by the settings:
    (subject type, id, status, where it sits, why) of every unfinished case with no running
    clock and no owner (issue 14, R-REF-07). The same checks as the graph's referralStalls
    and coordinationStalls."""
    from coordination.application.stalls import StallCheck
    from kernel.wiring import open_store
    from referral.adapters.repository import (
        ComplaintRepository,
        ReferralRepository,
        WaitingDispatches,
    )
    from referral.application.queries import ReferralQueries

    rows: list[tuple[str, str, str, str, str]] = []
    store = await open_store(settings, "referral")
    try:
        queries = ReferralQueries(
            ReferralRepository(store), ComplaintRepository(store), WaitingDispatches(store)
        )
        for s in await queries.stalls(None):
            rows.append((s.subject_type, s.subject_id, s.status, ",".join(s.agency_ids), s.reason))
    finally:
        await store.close()
    store = await open_store(settings, "coordination")
    try:
        for c in await StallCheck.over(store).stalls(None):
            rows.append((c.subject_type, c.subject_id, c.status, ",".join(c.agency_ids), c.reason))
    finally:
        await store.close()
    return rows


@audit_app.command("stalls")
def stalls() -> None:
    """List every referral, dispute, request or joint task that is not finished and has no
    running clock and no owner (停滞检查); exit 1 when there is one."""
    import asyncio

    from kernel.settings import Settings

    settings = Settings()
    rows = asyncio.run(find_stalls(settings))
    if not rows:
        typer.echo(f"OK: no stalled case in {settings.district}")
        return
    for kind, ident, status, where, why in rows:
        typer.echo(f"STALLED {kind} {ident} [{status}] at {where}: {why}")
    typer.echo(f"{len(rows)} stalled case(s) in {settings.district}")
    raise typer.Exit(EXIT_STALLED)


def anchored_text(
    report: ChainReport, checkpoint: Checkpoint | None, problem: str | None, district: str
) -> str:
    if report.broken is not None:
        return report_text(report, district)
    if problem is not None:
        return f"BROKEN: the full-process record of {district}: {problem}."
    text = report_text(report, district)
    if checkpoint is None:
        return text + "; no checkpoint kept yet (only the chain itself was checked)"
    return text + f"; agrees with the signed checkpoint at seq {checkpoint.seq}"
