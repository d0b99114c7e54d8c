"""Importing and exporting the catalogue spreadsheets departments keep (R-CAT-01).

Validate every row first, then write: with any bad row nothing is written unless the caller
asks for the good entries only (then an entry with a bad row is left out whole, since
importing the rest of its rows would silently drop a delegation). Each entry is written in
one conditional update through the handlers, so events still go through the outbox.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from coordination.adapters.spreadsheet import BY_KEY, Cell, Row, read_rows, write_xlsx
from coordination.application.catalogue import (
    CatalogueHandlers,
    DefineEntry,
    DelegationInput,
)
from coordination.domain.model import Agency
from kernel.errors import DomainError

MODES = {"赋权": "decision", "decision": "decision", "委托": "agreement", "agreement": "agreement"}
MODE_LABEL = {"decision": "赋权", "agreement": "委托"}
ENTRY_COLUMNS = (
    "name",
    "legal_basis",
    "penalty_basis",
    "discretion_benchmark",
    "original_department",
)
# Domain error fields → spreadsheet columns (delegation fields refer to the row of that
# delegation).
FIELD_COLUMNS = {
    "code": "code",
    "name": "name",
    "legalBasis": "legal_basis",
    "originalDepartmentId": "original_department",
    "townshipId": "township",
    "mode": "mode",
    "effectiveFrom": "effective_from",
    "expiresOn": "expires_on",
}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        c = BY_KEY.get(self.column)
        where = f"column {c.zh} ({c.key})" if c else f"column {self.column}"
        return f"row {self.row}, {where}: {self.message}"


@dataclass
class PlannedEntry:
    code: str
    rows: list[int]
    command: DefineEntry | None = None


@dataclass
class ImportPlan:
    entries: list[PlannedEntry] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def bad_codes(self) -> set[str]:
        bad_rows = {e.row for e in self.errors}
        return {p.code for p in self.entries if bad_rows & set(p.rows) or p.command is None}

    @property
    def good(self) -> list[PlannedEntry]:
        bad = self.bad_codes
        return [p for p in self.entries if p.code not in bad and p.command is not None]


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    revised: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _text(row: Row, key: str) -> str:
    value = row.cells.get(key)
    if isinstance(value, date):
        return value.isoformat()
    return value or ""


_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def _date(row: Row, key: str, errors: list[RowError]) -> date | None:
    value = row.cells.get(key)
    if value is None or isinstance(value, date):
        return value
    m = _DATE.match(value)
    if m:
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            pass
    errors.append(RowError(row.number, key, f"{value!r} is not a date; write YYYY-MM-DD"))
    return None


def _agency(
    row: Row, key: str, by_id: dict[str, Agency], by_name: dict[str, Agency], errors: list[RowError]
) -> str | None:
    value = _text(row, key)
    if not value:
        return None
    agency = by_id.get(value) or by_name.get(value)
    if agency is None:
        errors.append(
            RowError(row.number, key, f"{value!r} is not a registered agency (id or exact name)")
        )
        return None
    return agency.id


async def plan_import(rows: list[Row], handlers: CatalogueHandlers) -> ImportPlan:
    """Validate every row and build one command per entry; writes nothing."""
    agencies = await handlers.agencies.list(kind=None, after=None, limit=10_000)
    by_id = {a.id: a for a in agencies}
    by_name = {a.name: a for a in agencies}
    plan = ImportPlan()
    groups: dict[str, list[Row]] = {}
    for row in rows:
        code = _text(row, "code")
        if not code:
            plan.errors.append(RowError(row.number, "code", "the matter code is empty"))
            continue
        groups.setdefault(code, []).append(row)
    for code, group in groups.items():
        planned = PlannedEntry(code, [r.number for r in group])
        plan.entries.append(planned)
        errors: list[RowError] = []
        first = group[0]
        for row in group:
            for key in ("name", "legal_basis", "original_department"):
                if not _text(row, key):
                    errors.append(RowError(row.number, key, "required, but empty"))
            # Rows of one entry repeat its columns; a difference is a typo to fix, not a
            # choice to make silently.
            for key in ENTRY_COLUMNS:
                if row is not first and _text(row, key) != _text(first, key):
                    errors.append(
                        RowError(
                            row.number,
                            key,
                            f"differs from row {first.number} of the same matter {code}",
                        )
                    )
        dept = _agency(first, "original_department", by_id, by_name, errors)
        delegations: list[tuple[int, DelegationInput]] = []
        for row in group:
            township = _agency(row, "township", by_id, by_name, errors)
            mode_text = _text(row, "mode")
            effective = _date(row, "effective_from", errors)
            expires = _date(row, "expires_on", errors)
            if not _text(row, "township"):
                if mode_text or effective or expires:
                    errors.append(
                        RowError(row.number, "township", "a delegation needs its township")
                    )
                continue
            mode = MODES.get(mode_text)
            if mode is None:
                errors.append(
                    RowError(
                        row.number,
                        "mode",
                        f"{mode_text!r} is not one of 赋权, 委托 (decision, agreement)"
                        if mode_text
                        else "required with a township: 赋权 or 委托",
                    )
                )
            if effective is None and not any(
                e.row == row.number and e.column == "effective_from" for e in errors
            ):
                errors.append(RowError(row.number, "effective_from", "required with a township"))
            if township and mode and effective:
                delegations.append(
                    (row.number, DelegationInput(township, mode, effective, expires))
                )
        if errors or dept is None:
            plan.errors.extend(errors)
            continue
        command = DefineEntry(
            code=code,
            name=_text(first, "name"),
            original_department_id=dept,
            legal_basis=_text(first, "legal_basis"),
            penalty_basis=_text(first, "penalty_basis"),
            discretion_benchmark=_text(first, "discretion_benchmark"),
            delegations=tuple(d for _, d in delegations),
        )
        try:
            await handlers.build_content(command)
        except DomainError as exc:
            plan.errors.append(_row_error(exc, first.number, [n for n, _ in delegations]))
            continue
        planned.command = command
    plan.errors.sort(key=lambda e: e.row)
    return plan


def _row_error(exc: DomainError, entry_row: int, delegation_rows: list[int]) -> RowError:
    path = (exc.field or "").split(".")
    if len(path) == 3 and path[0] == "delegations" and path[1].isdigit():
        index = int(path[1])
        row = delegation_rows[index] if index < len(delegation_rows) else entry_row
        return RowError(row, FIELD_COLUMNS.get(path[2], path[2]), exc.message)
    return RowError(entry_row, FIELD_COLUMNS.get(path[0], path[0] or "code"), exc.message)


async def execute_import(
    plan: ImportPlan,
    handlers: CatalogueHandlers,
    *,
    advance: Callable[[str], None] = lambda code: None,
) -> ImportReport:
    """Write the good entries of a validated plan (call only when the caller accepted the
    plan's errors); the import is the system's own act. ``advance`` is called after each
    entry (a progress bar)."""
    report = ImportReport(skipped=sorted(plan.bad_codes))
    for planned in plan.good:
        assert planned.command is not None
        existed = await handlers.catalogue.get(planned.code) is not None
        _, changed = await handlers.define_entry_as_system(planned.command)
        if not changed:
            report.unchanged.append(planned.code)
        elif existed:
            report.revised.append(planned.code)
        else:
            report.created.append(planned.code)
        advance(planned.code)
    return report


async def import_file(path: Path, handlers: CatalogueHandlers) -> ImportReport:
    """Import a file that must be entirely valid (the demo seed); raises on any bad row."""
    plan = await plan_import(read_rows(path), handlers)
    if plan.errors:
        raise ValueError(f"{path.name}: " + "; ".join(str(e) for e in plan.errors))
    return await execute_import(plan, handlers)


async def export_rows(handlers: CatalogueHandlers) -> list[dict[str, Cell]]:
    """The catalogue in the import layout (agencies by id, modes in Chinese)."""
    rows: list[dict[str, Cell]] = []
    for entry in await handlers.catalogue.list():
        c = entry.content
        base: dict[str, Cell] = {
            "code": c.code,
            "name": c.name,
            "legal_basis": c.legal_basis,
            "penalty_basis": c.penalty_basis or None,
            "discretion_benchmark": c.discretion_benchmark or None,
            "original_department": c.original_department_id,
        }
        if not c.delegations:
            rows.append(base)
        for d in c.delegations:
            rows.append(
                {
                    **base,
                    "township": d.township_id,
                    "mode": MODE_LABEL[d.mode.value],
                    "effective_from": d.effective_from,
                    "expires_on": d.expires_on,
                }
            )
    return rows


async def export_file(path: Path, handlers: CatalogueHandlers) -> int:
    return write_xlsx(path, await export_rows(handlers))
