"""The production topology as child processes: each service a ``liandong serve`` process
on a free port (the end-to-end tests' production fixture and the benchmarks run it this way)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from pathlib import Path

import httpx

from liandong.gateway import free_port

__all__ = ["ServiceProcesses"]


class ServiceProcesses:
    """Services as separate ``liandong serve`` processes: the production topology.

    ``cwd`` is the directory the processes run in (where they find an ``.env`` file); the
    default is this process's working directory."""

    def __init__(self, env: dict[str, str], log_dir: Path, *, cwd: Path | None = None) -> None:
        self.env = env
        self.log_dir = log_dir
        self.cwd = cwd
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.ports: dict[str, int] = {}

    def start(self, name: str, *extra: str, port: int | None = None) -> None:
        """Start ``name``; ``port`` to start it again where the gateway expects it."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        port = port or free_port()
        self.ports[name] = port
        log = (self.log_dir / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "liandong.cli", "serve", name, *extra],
            env={**self.env, "LIANDONG_HTTP_PORT": str(port)},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.cwd,
        )

    def wait_ready(self, name: str, within: float = 240) -> None:
        deadline = time.monotonic() + within
        url = f"http://127.0.0.1:{self.ports[name]}/readyz"
        while time.monotonic() < deadline:
            if self.procs[name].poll() is not None:
                break
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        log = (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{name} did not become ready within {within}s:\n{log}")

    def kill(self, name: str) -> None:
        """SIGKILL, as a crash: no draining, no clean shutdown of leases or consumers."""
        self.procs[name].kill()
        self.procs[name].wait(timeout=20)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}/graphql"

    def pid(self, name: str) -> int:
        return self.procs[name].pid

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=25)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
