import os
import subprocess
import sys
from pathlib import Path

#: The repository's root directory, wherever in tests/ the module asking for it lives.
ROOT = Path(__file__).resolve().parents[1]


def run_module(args: list[str], *, timeout: float, env: dict[str, str] | None = None) -> str:
    """``python -m <args>`` from the repository root; its output, after checking it exited 0."""
    completed = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    report = completed.stdout + completed.stderr
    assert completed.returncode == 0, report[-6000:]
    return report
