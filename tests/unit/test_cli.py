"""The command line: deadlines with their explanation, and development tokens that verify."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kernel.auth import TokenVerifier, ensure_dev_keys
from liandong.cli import app

runner = CliRunner()


def test_R_REF_04_calendar_command_explains_a_deadline_across_spring_festival() -> None:
    result = runner.invoke(
        app, ["calendar", "add-working-days", "2026-02-13", "5", "--district", "fuyuan"]
    )
    assert result.exit_code == 0, result.output
    first, *explanation = result.output.splitlines()
    assert first == "2026-02-27T23:59:59+08:00"
    text = "\n".join(explanation)
    assert "调休" in text and "春节" in text


def test_calendar_command_rejects_bad_input() -> None:
    result = runner.invoke(app, ["calendar", "add-working-days", "2026-02-30", "5"])
    assert result.exit_code != 0 and "is not a date" in result.output
    result = runner.invoke(
        app, ["calendar", "add-working-days", "2026-02-13", "5", "--district", "atlantis"]
    )
    assert result.exit_code != 0 and "fuyuan" in result.output


def test_token_command_mints_a_token_the_services_accept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIANDONG_DATA_DIR", str(tmp_path))
    result = runner.invoke(
        app, ["token", "--agency", "fy-hancong", "--role", "clerk", "--role", "leader"]
    )
    assert result.exit_code == 0, result.output
    verifier = TokenVerifier.from_file(
        ensure_dev_keys(tmp_path).jwks_file, issuer="liandong", audience="liandong"
    )
    principal = verifier.verify(result.output.strip())
    assert principal.agency_id == "fy-hancong" and principal.roles == ("clerk", "leader")
    assert principal.district == "fuyuan"
    bad = runner.invoke(app, ["token", "--agency", "fy-hancong", "--role", "emperor"])
    assert bad.exit_code != 0 and "unknown role" in bad.output
