"""``liandong audit``: check the tamper-evident full-process record (执法全过程记录, R-SUP-01),
and list stalled cases (``liandong audit stalls``, issue 14).

``liandong audit verify`` reads the district's hash chain from the notify service's store named
by the settings (``LIANDONG_STORE``, ``LIANDONG_MONGO_URL`` or ``LIANDONG_DATA_DIR``,
``LIANDONG_INSTANCE``, ``LIANDONG_DISTRICT``), recomputes every entry's hash in ``seq`` order,
and prints OK with the count, or names the first broken entry and exits with status 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

# The store and the notify service load when the command runs, not with `liandong --help`.
if TYPE_CHECKING:
    from kernel.settings import Settings
    from notify.domain.record import ChainReport

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
    report = asyncio.run(verify_record(settings, name))
    typer.echo(report_text(report, name))
    if not report.ok:
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
    from referral.adapters.repository import ComplaintRepository, ReferralRepository
    from referral.application.queries import ReferralQueries

    rows: list[tuple[str, str, str, str, str]] = []
    store = await open_store(settings, "referral")
    try:
        queries = ReferralQueries(ReferralRepository(store), ComplaintRepository(store))
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
