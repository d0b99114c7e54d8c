"""Dependencies point inward and services never import each other (checked mechanically)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Every contract in the configuration ran and held (none silently skipped).
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    n = len(config["tool"]["importlinter"]["contracts"])
    assert n >= 5, "the service-independence, kernel and layer contracts are configured"
    assert f"Contracts: {n} kept, 0 broken" in result.stdout, result.stdout
