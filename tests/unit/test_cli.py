"""The command line: deadlines with their explanation, and development tokens that verify."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kernel.auth import TokenVerifier, ensure_dev_keys
from liandong.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


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


# -- the command line starts in a blink: a command imports only what it needs (issue 13) ------

#: Packages no light command needs, each costing from tenths of a second to seconds to import:
#: the services (their bootstraps pull in everything below), the GraphQL and HTTP stack, the
#: store and bus drivers, and the document libraries (PDF, spreadsheets).
SERVICE_STACK = (
    "referral",
    "coordination",
    "notify",
    "strawberry",
    "graphql",
    "fastapi",
    "starlette",
    "uvicorn",
    "pymongo",
    "aio_pika",
    "reportlab",
    "openpyxl",
)
#: What the kernel's settings (pydantic), district policy (YAML, holidays) and tokens (JWT,
#: cryptography) pull in: only the commands that use them may import them. (Typer itself
#: imports pydantic to convert the parameters of any command it runs.)
SETTINGS = ("pydantic", "pydantic_settings")
POLICY = ("yaml", "holidays")
TOKENS = ("jwt", "cryptography")

# Runs in a fresh interpreter, since the test process has imported everything long ago: invokes
# the command given as arguments (none: only imports the CLI) through the runner the tests use
# and prints the top-level packages loaded.
PROBE = """
import sys
from typer.testing import CliRunner
from liandong.cli import app
if sys.argv[1:]:
    result = CliRunner().invoke(app, sys.argv[1:])
    assert result.exit_code == 0, result.output
print("\\n".join(sorted({name.split(".")[0] for name in sys.modules})))
"""


def loaded_packages(args: list[str], data_dir: Path) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=ROOT,
        env={**os.environ, "LIANDONG_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return set(result.stdout.split())


@pytest.mark.parametrize(
    ("args", "forbidden"),
    [
        ([], SERVICE_STACK + SETTINGS + POLICY + TOKENS),
        (["--help"], SERVICE_STACK + SETTINGS + POLICY + TOKENS),
        (["token", "--agency", "fy-market", "--role", "clerk"], SERVICE_STACK + POLICY),
        (
            ["calendar", "add-working-days", "2026-12-29", "5", "--district", "fuyuan"],
            SERVICE_STACK + TOKENS,
        ),
        # Checking a letter's signature offline needs cryptography, not settings or services.
        (["letter", "verify", "--help"], (*SERVICE_STACK, *POLICY, "pydantic_settings")),
    ],
    ids=["import", "help", "token", "calendar", "letter-verify"],
)
def test_a_command_imports_only_what_it_needs(
    args: list[str], forbidden: tuple[str, ...], tmp_path: Path
) -> None:
    loaded = loaded_packages(args, tmp_path)
    assert "liandong" in loaded
    assert sorted(loaded & set(forbidden)) == []


def test_the_calendar_command_reads_the_policy_the_services_read() -> None:
    """The command and the services load the policy through one function
    (kernel.policy.district_policy): the settings' policy file, else the district's own."""
    from kernel.policy import district_policy, load_policy, load_policy_file
    from kernel.settings import Settings
    from kernel.wiring import load_district_policy

    policy_file = ROOT / "services/kernel/kernel/policies/hualong.yaml"
    chongqing, hualong = Settings(district="chongqing"), Settings(policy_file=policy_file)
    assert (
        load_district_policy(chongqing) == district_policy("chongqing") == load_policy("chongqing")
    )
    assert load_district_policy(hualong) == load_policy_file(policy_file)
    assert district_policy("fuyuan", policy_file) == load_policy_file(policy_file)


def test_the_catalogue_help_shows_the_layout_it_reads_from_the_service() -> None:
    """The layout is read from the coordination service only for the group's own help page."""
    from coordination.adapters.spreadsheet import COLUMNS

    listing = runner.invoke(app, ["--help"])
    assert listing.exit_code == 0 and "The matter catalogue (事项清单)" in listing.output
    result = runner.invoke(app, ["catalogue", "--help"])
    assert result.exit_code == 0, result.output
    assert "Layout (.xlsx first sheet" in result.output
    assert all(f"{column.zh} ({column.key})" in result.output for column in COLUMNS)
