"""R-CAT-01: the catalogue spreadsheets through ``liandong catalogue import/export`` — real
.xlsx and CSV files; every bad row reported by row and column; nothing imported unless asked
to import the good entries; a dry run writes nothing; export gives back the same columns."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from coordination.adapters.spreadsheet import COLUMNS
from coordination.application.seeding import seed_agencies, shipped_seed
from coordination.bootstrap import CoordinationService
from kernel.settings import Settings
from liandong.cli import app
from liandong.suite import build_service

runner = CliRunner()
HEADER = [c.zh for c in COLUMNS]
GOOD = [
    ["T-001", "对无照经营的处罚", "《无证无照经营查处办法》第二条", "第十三条", "", "fy-market",
     "fy-hancong", "赋权", "2021-01-01", ""],
    ["T-001", "对无照经营的处罚", "《无证无照经营查处办法》第二条", "第十三条", "", "fy-market",
     "浓桥镇人民政府", "委托", "2024-01-01", "2026-12-31"],
    ["T-002", "对非法采矿的处罚", "《矿产资源法》第三条", "第三十九条", "", "抚远市自然资源局",
     "", "", "", ""],
]  # fmt: skip
BAD = [
    # row 5: the agreement has no term; row 6: an unknown mode; row 7: an internal unit.
    ["T-003", "对违法建设的处罚", "《城乡规划法》第四十一条", "", "", "fy-housing",
     "fy-wusu", "委托", "2024-01-01", ""],
    ["T-004", "对建筑垃圾的处罚", "《城市建筑垃圾管理规定》", "", "", "fy-housing",
     "fy-wusu", "授权", "2024-01-01", ""],
    ["T-005", "对食品摊贩的处罚", "《食品安全法》", "", "", "fy-market",
     "fy-hancong-center", "赋权", "2021/1/1", ""],
]  # fmt: skip


@pytest.fixture
def settings(tmp_path: Path, unique_name: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("LIANDONG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LIANDONG_INSTANCE", unique_name)
    monkeypatch.setenv("LIANDONG_STORE", "embedded")
    monkeypatch.setenv("LIANDONG_BUS", "memory")
    monkeypatch.setenv("LIANDONG_DISTRICT", "fuyuan")
    s = Settings()

    async def register() -> None:
        service = await build_service("coordination", s)
        assert isinstance(service, CoordinationService)
        seed = shipped_seed("fuyuan")
        assert seed is not None
        await seed_agencies(service.handlers, seed)
        await service.runtime.store.close()

    asyncio.run(register())
    return s


def _codes(settings: Settings) -> dict[str, int]:
    async def read() -> dict[str, int]:
        service = await build_service("coordination", settings)
        assert isinstance(service, CoordinationService)
        try:
            entries = await service.catalogue.catalogue.list()
            raw = service.runtime.store.collection("catalogue")
            pending = sum(d.get("outbox_n", 0) for d in await raw.find({}))
            return {e.code: e.catalogue_version for e in entries} | {"outbox": pending}
        finally:
            await service.runtime.store.close()

    return asyncio.run(read())


def _xlsx(path: Path, rows: list[list[str]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _csv(path: Path, rows: list[list[str]], encoding: str) -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


def test_R_CAT_01_xlsx_with_bad_rows_reports_each_and_imports_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    file = _xlsx(tmp_path / "清单.xlsx", GOOD + BAD)
    result = runner.invoke(app, ["catalogue", "import", str(file)])
    assert result.exit_code == 1, result.output
    out = result.output
    assert "row 5, column 委托期限至 (expires_on)" in out and "term" in out
    assert "row 6, column 下放方式 (mode): '授权' is not one of 赋权, 委托" in out
    assert "row 7, column 下放乡镇 (township)" in out and "internal unit" in out
    assert "nothing imported" in out
    assert _codes(settings) == {"outbox": 0}

    dry = runner.invoke(app, ["catalogue", "import", str(file), "--dry-run", "--import-good"])
    assert dry.exit_code == 1 and "dry run: nothing written" in dry.output
    assert _codes(settings) == {"outbox": 0}

    good = runner.invoke(app, ["catalogue", "import", str(file), "--import-good"])
    assert "created 2" in good.output and "skipped 3 (T-003, T-004, T-005)" in good.output
    # Each entry's snapshot and announcement wait in the outbox for the service's relay.
    assert _codes(settings) == {"T-001": 1, "T-002": 1, "outbox": 3}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_R_CAT_01_csv_in_utf8_bom_and_gbk_imports_and_exports_back(
    settings: Settings, tmp_path: Path, encoding: str
) -> None:
    bad = _csv(tmp_path / "bad.csv", GOOD + BAD[:1], encoding)
    result = runner.invoke(app, ["catalogue", "import", str(bad)])
    assert result.exit_code == 1 and "row 5, column 委托期限至 (expires_on)" in result.output
    assert _codes(settings) == {"outbox": 0}

    file = _csv(tmp_path / "good.csv", GOOD, encoding)
    result = runner.invoke(app, ["catalogue", "import", str(file)])
    assert result.exit_code == 0, result.output
    assert "created 2, revised 0, unchanged 0" in result.output
    again = runner.invoke(app, ["catalogue", "import", str(file)])
    assert "created 0, revised 0, unchanged 2" in again.output

    out = tmp_path / "export.xlsx"
    exported = runner.invoke(app, ["catalogue", "export", str(out)])
    assert exported.exit_code == 0 and "3 rows" in exported.output
    sheet = load_workbook(out).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == HEADER
    assert rows[2][6] == "fy-nongqiao" and rows[2][7] == "委托"
    # The export imports back unchanged.
    back = runner.invoke(app, ["catalogue", "import", str(out)])
    assert "unchanged 2" in back.output, back.output


def test_catalogue_import_refuses_a_file_without_the_columns(
    settings: Settings, tmp_path: Path
) -> None:
    file = tmp_path / "x.csv"
    file.write_text("编号,名称\n1,2\n", encoding="utf-8")
    result = runner.invoke(app, ["catalogue", "import", str(file)])
    assert result.exit_code == 2 and "missing column(s)" in result.output
