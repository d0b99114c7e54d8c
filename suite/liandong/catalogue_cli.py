"""``liandong catalogue``: import and export the matter catalogue (事项清单) spreadsheets.

The command works on the coordination service's own store through the service's handlers
(built with ``build_service``), so every change is versioned and its events wait in the
outbox until the service's relay publishes them — exactly as if made through the graph.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from typer.core import TyperGroup

# The coordination service (and the spreadsheet library) load when a command runs or the
# group's own help page is shown, not with `liandong --help` or another command.
if TYPE_CHECKING:
    from typer._click import Context, HelpFormatter

    from coordination.bootstrap import CoordinationService
    from kernel.settings import Settings

_SUMMARY = "The matter catalogue (事项清单): import and export the spreadsheets departments keep."
_LAYOUT = (
    "Layout (.xlsx first sheet, or CSV in UTF-8 with or without BOM, or GBK): a header "
    "row, then one row per entry × delegation; an entry delegated to three townships "
    "takes three rows repeating the entry's columns, an entry not delegated one row with "
    "the township columns empty. Columns (Chinese or English header):"
)
_SAMPLE = "Sample: services/coordination/coordination/seeds/fuyuan-catalogue.csv"


def catalogue_help() -> str:
    """The group's help: the summary, then the spreadsheet layout from the service's columns."""
    from coordination.adapters.spreadsheet import COLUMNS

    columns = "\n".join(
        f"  {c.zh} ({c.key}){' — required' if c.required else ''}: {c.help}" for c in COLUMNS
    )
    return inspect.cleandoc("\n\n".join((_SUMMARY, _LAYOUT, columns, _SAMPLE)))


class _CatalogueGroup(TyperGroup):
    """Carries only the summary until its own help page is shown: the list of commands of
    `liandong --help` and shell completion read just the first paragraph, the summary, so
    they do not import the coordination service for the layout."""

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        self.help = catalogue_help()
        super().format_help(ctx, formatter)


catalogue_app = typer.Typer(cls=_CatalogueGroup, help=_SUMMARY)


async def _service(settings: Settings) -> CoordinationService:
    from coordination.bootstrap import CoordinationService
    from liandong.suite import build_service

    service = await build_service("coordination", settings)
    if not isinstance(service, CoordinationService):  # pragma: no cover - wiring error
        raise TypeError("build_service did not return the coordination service")
    await service.ensure_indexes()
    return service


@catalogue_app.command("import")
def import_catalogue(
    file: Annotated[Path, typer.Argument(help=".xlsx or .csv file", exists=True, dir_okay=False)],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="validate and report; write nothing")
    ] = False,
    import_good: Annotated[
        bool,
        typer.Option(
            "--import-good",
            help="import the entries whose rows are all valid even when other rows are bad",
        ),
    ] = False,
) -> None:
    """Import catalogue entries: every row is validated first; with any bad row nothing is
    imported unless --import-good (then entries with a bad row are left out whole)."""
    import asyncio

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from coordination.adapters.spreadsheet import SpreadsheetError, read_rows
    from coordination.application.catalogue_import import execute_import, plan_import
    from kernel.settings import Settings

    console = Console(stderr=True)
    out = Console()
    try:
        rows = read_rows(file)
    except SpreadsheetError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None

    async def run() -> int:
        service = await _service(Settings())
        try:
            handlers = service.catalogue
            plan = await plan_import(rows, handlers)
            for error in plan.errors:
                console.print(f"[red]{error}[/red]", highlight=False, soft_wrap=True)
            good = plan.good
            out.print(
                f"{len(rows)} rows, {len(plan.entries)} entries: {len(good)} valid, "
                f"{len(plan.bad_codes)} with errors ({len(plan.errors)} errors)",
                highlight=False,
            )
            if dry_run:
                out.print("dry run: nothing written")
                return 1 if plan.errors else 0
            if plan.errors and not import_good:
                out.print("nothing imported (fix the rows, or pass --import-good)")
                return 1
            with Progress(
                TextColumn("importing"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.description}"),
                console=console,
                transient=True,
            ) as progress:
                task = progress.add_task("", total=len(good))
                report = await execute_import(
                    plan,
                    handlers,
                    advance=lambda code: progress.update(task, advance=1, description=code),
                )
            out.print(
                f"created {len(report.created)}, revised {len(report.revised)}, "
                f"unchanged {len(report.unchanged)}, skipped {len(report.skipped)}"
                + (f" ({', '.join(report.skipped)})" if report.skipped else ""),
                highlight=False,
            )
            return 1 if plan.errors else 0
        finally:
            await service.runtime.store.close()

    code = asyncio.run(run())
    if code:
        raise typer.Exit(code)


@catalogue_app.command("export")
def export_catalogue(
    file: Annotated[Path, typer.Argument(help="the .xlsx file to write", dir_okay=False)],
) -> None:
    """Export the catalogue (entries in force) to .xlsx with the import's columns."""
    if file.suffix.lower() != ".xlsx":
        raise typer.BadParameter("export writes .xlsx", param_hint="FILE")
    import asyncio

    from coordination.application.catalogue_import import export_file
    from kernel.settings import Settings

    async def run() -> int:
        service = await _service(Settings())
        try:
            return await export_file(file, service.catalogue)
        finally:
            await service.runtime.store.close()

    count = asyncio.run(run())
    typer.echo(f"{count} rows written to {file}")
