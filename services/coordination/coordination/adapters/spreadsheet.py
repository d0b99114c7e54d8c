"""The catalogue spreadsheets departments keep (.xlsx, or CSV in UTF-8 with or without BOM,
or GBK/GB18030 as Excel writes it on Chinese Windows): reading rows and writing them back.

Layout: one header row, then one row per entry × delegation. An entry delegated to three
townships takes three rows that repeat the entry's columns; an entry not delegated takes one
row with the township columns empty. Headers may be the Chinese names, the English keys, or
both as ``中文 (key)``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    required: bool = False
    help: str = ""

    @property
    def label(self) -> str:
        return f"{self.zh} ({self.key})"


COLUMNS: tuple[Column, ...] = (
    Column("code", "事项编码", True, "matter code, unique in the district"),
    Column("name", "事项名称", True, "matter name"),
    Column("legal_basis", "实施依据", True, "legal basis"),
    Column("penalty_basis", "处罚依据", False, "penalty basis"),
    Column("discretion_benchmark", "裁量基准", False, "discretion benchmark"),
    Column("original_department", "原业务主管部门", True, "agency id or exact name"),
    Column("township", "下放乡镇", False, "agency id or exact name; empty: not delegated"),
    Column("mode", "下放方式", False, "赋权 (decision) or 委托 (agreement)"),
    Column("effective_from", "生效日期", False, "YYYY-MM-DD; required with a township"),
    Column("expires_on", "委托期限至", False, "YYYY-MM-DD; last day of a 委托 agreement"),
)
BY_KEY = {c.key: c for c in COLUMNS}


class SpreadsheetError(ValueError):
    """The file cannot be read as a catalogue spreadsheet at all (not a row problem)."""


Cell = str | date | None


@dataclass(frozen=True)
class Row:
    number: int  # as the spreadsheet shows it (the header is row 1)
    cells: dict[str, Cell]


def _header_key(text: str) -> str | None:
    t = text.strip().lstrip("\ufeff").strip()
    for c in COLUMNS:
        if t in (c.key, c.zh, c.label) or t.startswith(c.zh + " ") or t.endswith(f"({c.key})"):
            return c.key
    return None


def _cell(value: Any) -> Cell:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    return text or None


def _rows(table: Iterable[Sequence[Any]], source: str) -> list[Row]:
    it = iter(table)
    try:
        header = next(it)
    except StopIteration:
        raise SpreadsheetError(f"{source}: the file is empty") from None
    keys: list[str | None] = []
    for h in header:
        keys.append(_header_key(str(h)) if h is not None else None)
    missing = [c for c in COLUMNS if c.required and c.key not in keys]
    if missing:
        raise SpreadsheetError(
            f"{source}: missing column(s) "
            + ", ".join(c.label for c in missing)
            + "; the first row must name the columns: "
            + ", ".join(c.zh for c in COLUMNS)
        )
    out: list[Row] = []
    for n, values in enumerate(it, start=2):
        cells = {k: _cell(v) for k, v in zip(keys, values, strict=False) if k is not None}
        if all(v is None for v in cells.values()):
            continue  # blank lines between blocks are common in hand-kept sheets
        out.append(Row(n, cells))
    return out


def _decode(data: bytes, source: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SpreadsheetError(f"{source}: not UTF-8 or GBK text")


def read_rows(path: Path) -> list[Row]:
    """The data rows of a .xlsx or .csv file; raises SpreadsheetError for an unreadable file."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        text = _decode(path.read_bytes(), path.name)
        return _rows(csv.reader(io.StringIO(text)), path.name)
    if suffix in (".xlsx", ".xlsm"):
        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several kinds for a damaged file
            raise SpreadsheetError(f"{path.name}: not a readable .xlsx file: {exc}") from exc
        try:
            sheet = book.worksheets[0]
            return _rows(sheet.iter_rows(values_only=True), path.name)
        finally:
            book.close()
    raise SpreadsheetError(f"{path.name}: use a .xlsx or .csv file")


def write_xlsx(path: Path, rows: Iterable[dict[str, Cell]]) -> int:
    """Write rows with the same columns the importer reads; returns how many rows."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "事项清单"
    sheet.append([c.zh for c in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    count = 0
    for row in rows:
        sheet.append([row.get(c.key) for c in COLUMNS])
        count += 1
    for i, c in enumerate(COLUMNS):
        sheet.column_dimensions[chr(ord("A") + i)].width = 14 if c.key != "name" else 40
    sheet.freeze_panes = "A2"
    book.save(path)
    return count
