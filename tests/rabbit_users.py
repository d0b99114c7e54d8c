"""The rendered RabbitMQ users and permissions (``deploy/render_rabbitmq.py``, issue 16,
findings 2 and 7) provisioned on the real broker for a test: ``rabbitmq-users.sh`` runs with
``rabbitmqctl`` in a fresh virtual host with user names of that test only; both are deleted
afterwards. Used by the finding-7 tests and the red team's bus insider."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from tests import ROOT
from tests.infra import Server

SCRIPT = ROOT / "deploy" / "compose" / "fuyuan" / "rabbitmq-users.sh"
RABBITMQCTL = shutil.which("rabbitmqctl") or (
    "/usr/sbin/rabbitmqctl" if Path("/usr/sbin/rabbitmqctl").exists() else None
)
PASSWORDS = {"referral": "pw-referral", "coordination": "pw-coordination", "notify": "pw-notify"}
#: Bureau users provisioned besides the services': agency → (profile, password).
BUREAUS = {"fy-police": ("public", "pw-police"), "fy-justice": ("supervising", "pw-justice")}


def _ctl(*args: str) -> None:
    assert RABBITMQCTL is not None
    subprocess.run([RABBITMQCTL, "-q", *args], check=False, capture_output=True, timeout=60)


@dataclass
class Broker:
    host: str
    port: int
    vhost: str
    prefix: str

    def url(self, user: str, password: str) -> str:
        return (
            f"amqp://{quote(self.prefix + user, safe='')}:{quote(password, safe='')}"
            f"@{self.host}:{self.port}/{quote(self.vhost, safe='')}"
        )

    def service_url(self, service: str) -> str:
        return self.url(service, PASSWORDS[service])


@contextmanager
def rendered_users(rabbitmq_server: Server) -> Iterator[Broker]:
    """A fresh virtual host with the rendered users of district fuyuan (the three services,
    the police's public and the justice bureau's supervising bureau users)."""
    if RABBITMQCTL is None:
        pytest.fail(
            "rabbitmqctl is not on PATH: these tests set users and permissions on the local "
            "broker that `scripts/infra.sh up` starts (scripts/infra/rabbitmq.sh)"
        )
    parts = urlsplit(rabbitmq_server.url)
    token = uuid.uuid4().hex[:8]
    vhost, prefix = f"t-perm-{token}", f"t{token}-"
    env = {
        **os.environ,
        "PATH": os.environ.get("PATH", "") + ":/usr/sbin:/usr/lib/rabbitmq/bin",
        "RABBITMQ_VHOST": vhost,
        "RABBITMQ_USER_PREFIX": prefix,
        **{f"RABBITMQ_{s.upper()}_PASSWORD": p for s, p in PASSWORDS.items()},
    }
    users = [*PASSWORDS, *(f"bureau-{a}" for a in BUREAUS)]
    try:
        _ctl("add_vhost", vhost)
        runs: list[tuple[list[str], dict[str, str]]] = [(["services"], {})]
        for agency, (profile, password) in BUREAUS.items():
            runs.append((["bureau", agency, profile], {"BUREAU_PASSWORD": password}))
        for args, extra in runs:
            done = subprocess.run(
                ["sh", str(SCRIPT), *args],
                env={**env, **extra},
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, done.stderr
        yield Broker(parts.hostname or "127.0.0.1", parts.port or 5672, vhost, prefix)
    finally:
        _ctl("delete_vhost", vhost)
        for user in users:
            _ctl("delete_user", prefix + user)
