"""Finding the real servers the tests need.

Order (ARCHITECTURE.md): URLs from the environment → testcontainers where a Docker engine
answers → servers the project's own scripts start locally (``scripts/infra.sh up``). When none
is available the test fails with a message naming the command that provides it; it never skips.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from urllib.parse import urlparse

import pytest

PROVIDE = "scripts/infra.sh up"


@dataclass(frozen=True)
class Server:
    url: str
    origin: str  # "env", "testcontainers" or "local"


def _reachable(url: str, timeout: float = 1.0) -> bool:
    parsed = urlparse(url)
    host = parsed.hostname or "127.0.0.1"
    port = parsed.port
    if port is None:
        return False
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _docker_answers() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        client = docker.from_env(timeout=2)
        client.ping()
        return True
    except Exception:
        return False


_started: dict[str, object] = {}


def _from_testcontainers(kind: str) -> str | None:
    if not _docker_answers():
        return None
    if kind == "mongo":
        from testcontainers.mongodb import MongoDbContainer  # type: ignore[import-untyped]

        mongo = MongoDbContainer("mongo:7")
        mongo.start()
        _started[kind] = mongo
        return str(mongo.get_connection_url())
    if kind == "rabbitmq":
        from testcontainers.rabbitmq import RabbitMqContainer  # type: ignore[import-untyped]

        rabbit = RabbitMqContainer("rabbitmq:4-management")
        rabbit.start()
        _started[kind] = rabbit
        host = rabbit.get_container_host_ip()
        port = rabbit.get_exposed_port(5672)
        return f"amqp://guest:guest@{host}:{port}/"
    return None


_DEFAULTS = {
    "mongo": ("LIANDONG_TEST_MONGO_URL", "mongodb://127.0.0.1:27017/"),
    "rabbitmq": ("LIANDONG_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
}


# What scripts/any-day.sh sets to move the system clock of the tests and the processes they
# start; a server the tests start themselves runs on the real clock, like the shared ones.
_FAKED_CLOCK = ("LD_PRELOAD", "FAKETIME", "FAKETIME_DONT_FAKE_MONOTONIC")


def server_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's environment) without the moved system clock, for a
    database or broker process a test starts."""
    return {k: v for k, v in (os.environ if env is None else env).items() if k not in _FAKED_CLOCK}


def find_server(kind: str) -> Server:
    """The URL of a running server of ``kind`` ("mongo" or "rabbitmq"), or fail the test."""
    env_name, local_url = _DEFAULTS[kind]
    from_env = os.environ.get(env_name)
    if from_env:
        if not _reachable(from_env, timeout=3):
            pytest.fail(f"{env_name}={from_env} is set but nothing answers there", pytrace=False)
        return Server(from_env, "env")
    url = _from_testcontainers(kind)
    if url:
        return Server(url, "testcontainers")
    if _reachable(local_url):
        return Server(local_url, "local")
    pytest.fail(
        f"no {kind} server: set {env_name}, run a Docker engine, or start the local one with "
        f"`{PROVIDE}`",
        pytrace=False,
    )


#: Where Debian's rabbitmq-server package puts ``rabbitmqctl`` (not on every user's PATH).
RABBIT_SBIN = ("/usr/sbin", "/usr/lib/rabbitmq/bin")


def rabbitmqctl(*args: str, timeout: float = 60) -> str:
    """What ``rabbitmqctl -q <args>`` printed, run against the local broker (the one
    ``scripts/infra/rabbitmq.sh up`` starts); fail the test naming the command when
    ``rabbitmqctl`` is missing or the command fails."""
    path = os.pathsep.join([os.environ.get("PATH", ""), *RABBIT_SBIN])
    ctl = shutil.which("rabbitmqctl", path=path)
    if ctl is None:
        pytest.fail(
            f"rabbitmqctl is not installed: it comes with the local broker `{PROVIDE}` starts",
            pytrace=False,
        )
    done = subprocess.run(
        [ctl, "-q", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        pytest.fail(
            f"rabbitmqctl {' '.join(args)} failed: {done.stderr or done.stdout}", pytrace=False
        )
    return done.stdout


def stop_started() -> None:
    for container in _started.values():
        with contextlib.suppress(Exception):
            container.stop()  # type: ignore[attr-defined]
    _started.clear()
