"""What can be checked of ``deploy/`` on a machine without a Docker engine.

The compose file is parsed and checked structurally (services, health checks, start order,
users, settings, no secrets). ``docker compose config`` needs no engine, so it is run as well
when the Compose v2 plugin is installed; our machines ship the docker CLI without it, and
then the same structural checks, plus our own interpolation check against ``.env.example``,
are what validates the file. The Dockerfiles are checked by a small parser of their
instructions (no Dockerfile-linting package is tiny and maintained enough to add), and the
gateway image's entry point is run for real against the repository's gateway.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from kernel.auth import ensure_dev_keys
from liandong.gateway import free_port, gateway_dir, node_path
from tests import ROOT

pytestmark = pytest.mark.timeout(60)

REPO = ROOT
DEPLOY = REPO / "deploy"
COMPOSE_DIR = DEPLOY / "compose" / "fuyuan"
COMPOSE_FILE = COMPOSE_DIR / "compose.yaml"
OUR_SERVICES = {"referral": 8101, "coordination": 8102, "notify": 8103}


# --- compose ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def _service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    service = compose["services"][name]
    assert isinstance(service, dict)
    return service


def test_compose_has_the_district_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {
        "mongo",
        "mongo-keyfile",
        "mongo-init",
        "rabbitmq",
        "rabbitmq-users",
        "referral",
        "coordination",
        "notify",
        "gateway",
        "backup",
        *(f"migrate-{n}" for n in OUR_SERVICES),
    }
    # Issue 19: pinned, registry-qualified server images (no floating `mongo:7`).
    assert _service(compose, "mongo")["image"] == "docker.io/library/mongo:7.0.16"
    assert _service(compose, "rabbitmq")["image"] == "docker.io/library/rabbitmq:4.0.5-management"
    assert _service(compose, "backup")["profiles"] == ["backup"]


def test_every_long_running_container_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        one_shots = {"mongo-keyfile", "mongo-init", "rabbitmq-users", "backup"}
        if name in one_shots or name.startswith("migrate-"):
            assert service["restart"] == "no"
            continue
        check = service.get("healthcheck")
        assert check and check.get("test"), f"{name} has no healthcheck"
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name
    for name in OUR_SERVICES:
        assert "/readyz" in " ".join(_service(compose, name)["healthcheck"]["test"])
    assert "/readiness" in " ".join(_service(compose, "gateway")["healthcheck"]["test"])


def test_mongo_is_a_single_node_replica_set_initiated_idempotently(
    compose: dict[str, Any],
) -> None:
    mongo = _service(compose, "mongo")
    assert mongo["command"][mongo["command"].index("--replSet") + 1] == "rs0"
    assert "isWritablePrimary" in " ".join(mongo["healthcheck"]["test"])
    script = " ".join(_service(compose, "mongo-init")["command"])
    assert "rs.initiate(" in script
    # Initiates only when the set is not initiated yet, so a restart is harmless.
    assert "NotYetInitialized" in script
    assert '"mongo:27017"' in script


def test_start_order_waits_for_health(compose: dict[str, Any]) -> None:
    """Issue 19: a service starts only after its migrate one-shot built the indexes, and the
    one-shot runs with the service's own settings and secrets."""
    infra = {
        "mongo": {"condition": "service_healthy"},
        "mongo-init": {"condition": "service_completed_successfully"},
        "rabbitmq": {"condition": "service_healthy"},
        "rabbitmq-users": {"condition": "service_completed_successfully"},
    }
    for name in OUR_SERVICES:
        service = _service(compose, name)
        assert service["depends_on"] == {
            **infra,
            f"migrate-{name}": {"condition": "service_completed_successfully"},
        }
        migrate = _service(compose, f"migrate-{name}")
        assert migrate["command"] == ["migrate", name]
        assert migrate["depends_on"] == infra
        assert migrate["environment"] == service["environment"]
        assert migrate["secrets"] == service["secrets"]
        assert migrate["image"] == service["image"]
    assert _service(compose, "gateway")["depends_on"] == {
        name: {"condition": "service_healthy"} for name in OUR_SERVICES
    }


def test_our_containers_run_as_non_root_users(compose: dict[str, Any]) -> None:
    for name in [*OUR_SERVICES, "gateway"]:
        user = str(_service(compose, name)["user"])
        uid = user.split(":")[0]
        assert uid not in {"0", "root", ""}, f"{name} runs as {user}"
        assert _service(compose, name)["security_opt"] == ["no-new-privileges:true"]


def test_services_get_the_district_settings(compose: dict[str, Any]) -> None:
    for name, port in OUR_SERVICES.items():
        service = _service(compose, name)
        env = service["environment"]
        assert service["command"] == ["serve", name]
        assert env["LIANDONG_DISTRICT"] == "fuyuan"
        assert env["LIANDONG_ENV"] == "production"
        assert env["LIANDONG_STORE"] == "mongo"
        assert env["LIANDONG_BUS"] == "rabbitmq"
        # Issue 16, finding 8: authentication on, each service its own database user.
        mongo_password = f"MONGO_{name.upper()}_PASSWORD"
        assert re.fullmatch(
            rf"mongodb://liandong-{name}:\$\{{{mongo_password}:\?[^}}]*\}}@mongo:27017/"
            r"\?replicaSet=rs0&authSource=admin",
            env["LIANDONG_MONGO_URL"],
        )
        # Issue 16, finding 7: each service connects as its own RabbitMQ user.
        password = f"RABBITMQ_{name.upper()}_PASSWORD"
        assert re.fullmatch(
            rf"amqp://liandong-{name}:\$\{{{password}:\?[^}}]*\}}@rabbitmq:5672/",
            env["LIANDONG_AMQP_URL"],
        )
        assert env["LIANDONG_HTTP_PORT"] == str(port)
        assert env["LIANDONG_HTTP_HOST"] == "0.0.0.0"
        assert env["LIANDONG_JWT_JWKS_FILE"] == "/run/secrets/jwks.json"
        assert {"source": "jwks", "target": "jwks.json"} in service["secrets"]
    assert "file" in compose["secrets"]["jwks"]


def test_gateway_points_at_the_services_and_is_published(compose: dict[str, Any]) -> None:
    gateway = _service(compose, "gateway")
    env = gateway["environment"]

    assert env["LIANDONG_ENV"] == "production"
    for name, port in OUR_SERVICES.items():
        assert env[f"LIANDONG_SUBGRAPH_{name.upper()}_URL"] == f"http://{name}:{port}/graphql"
    # Issue 19: on loopback by default, behind the district's TLS proxy.
    assert gateway["ports"] == [
        "${LIANDONG_GATEWAY_BIND:-127.0.0.1}:${LIANDONG_GATEWAY_PUBLISH:-4000}:4000"
    ]
    # Only the gateway and RabbitMQ's management UI (on loopback) are published.
    published = {name for name, s in compose["services"].items() if s.get("ports")}
    assert published == {"gateway", "rabbitmq"}
    assert all(p.startswith("127.0.0.1:") for p in _service(compose, "rabbitmq")["ports"])


def test_compose_holds_no_secret(compose: dict[str, Any]) -> None:
    rabbit_env = _service(compose, "rabbitmq")["environment"]
    assert rabbit_env["RABBITMQ_DEFAULT_PASS"].startswith("${RABBITMQ_PASSWORD:?")
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    # Any user:password@ in a URL must take the password from the environment.
    credentials = list(re.finditer(r"://([^:/@\s]+):(\$\{[^}]*\}|[^@\s]+)@", text))
    assert credentials  # the AMQP URL has one
    for match in credentials:
        # From compose's interpolation, or ($$VAR) from the container's own environment.
        assert match.group(2).startswith(("${", "$$")), match.group(0)
    assert "BEGIN PRIVATE KEY" not in text


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?][^}]*)?\}")


def test_env_example_documents_every_variable_and_holds_no_secret() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    used = set(_VARIABLE.findall(text))
    example = _read_env_file(COMPOSE_DIR / ".env.example")

    assert used <= set(example), f"not in .env.example: {sorted(used - set(example))}"
    assert example["RABBITMQ_PASSWORD"] == ""


def _read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def _compose_plugin() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(
        ["docker", "compose", "version"], capture_output=True, text=True, timeout=30, check=False
    )
    return probe.returncode == 0


# The secrets a district must set in .env; composing fails without them.
REQUIRED_COMPOSE_VARIABLES = {
    "RABBITMQ_PASSWORD",
    "RABBITMQ_REFERRAL_PASSWORD",
    "RABBITMQ_COORDINATION_PASSWORD",
    "RABBITMQ_NOTIFY_PASSWORD",
    "MONGO_ROOT_PASSWORD",
    "MONGO_REFERRAL_PASSWORD",
    "MONGO_COORDINATION_PASSWORD",
    "MONGO_NOTIFY_PASSWORD",
    "MONGO_BACKUP_PASSWORD",
    "LIANDONG_GATEWAY_HMAC_SECRET",
}


def test_compose_file_interpolates_and_validates(tmp_path: Path) -> None:
    """``docker compose config`` when the plugin is installed (it needs no engine); without
    it, the same interpolation done here: every required variable is enforced and every
    other one has a default."""
    env = {**os.environ, **dict.fromkeys(REQUIRED_COMPOSE_VARIABLES, "not-a-real-secret")}
    if _compose_plugin():
        result = subprocess.run(
            ["docker", "compose", "-f", str(COMPOSE_FILE), "config", "--quiet"],
            cwd=COMPOSE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        missing = subprocess.run(
            ["docker", "compose", "-f", str(COMPOSE_FILE), "config", "--quiet"],
            cwd=tmp_path,  # no .env here
            env={k: v for k, v in env.items() if k != "RABBITMQ_PASSWORD"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert missing.returncode != 0
        assert "RABBITMQ_PASSWORD" in missing.stderr
        return
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    for match in _VARIABLE.finditer(text):
        name, expression = match.group(1), match.group(0)
        assert ":-" in expression or ":?" in expression, (
            f"{expression} has neither a default nor a required marker"
        )
        if ":?" in expression:
            assert name in REQUIRED_COMPOSE_VARIABLES, f"unexpected required variable {name}"


# --- Dockerfiles ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


@dataclass(frozen=True)
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction]

    def all(self, keyword: str) -> list[str]:
        return [i.arguments for i in self.instructions if i.keyword == keyword]


def parse_dockerfile(path: Path) -> list[Stage]:
    """Stages of a Dockerfile: line continuations joined, comments and directives dropped,
    ARG defaults substituted into FROM (enough for our two files, which use no heredocs)."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # comment lines inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    assert not pending, f"{path}: dangling line continuation"

    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        rest = rest.strip()
        if keyword == "ARG" and not stages:
            arg_name, _, default = rest.partition("=")
            args[arg_name] = default
            continue
        if keyword == "FROM":
            words = rest.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), words[0])
            stage_name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base, stage_name, []))
            continue
        assert stages, f"{path}: {keyword} before FROM"
        stages[-1].instructions.append(Instruction(keyword, rest))
    return stages


def _exec_form(arguments: str) -> list[str]:
    value = json.loads(arguments)
    assert isinstance(value, list)
    return [str(v) for v in value]


def _user_of(stage: Stage) -> str:
    users = stage.all("USER")
    assert users, f"stage {stage.name} sets no USER"
    return users[-1]


def _copy_sources(stage: Stage) -> list[str]:
    """Sources of COPY instructions that read the build context (not --from=another stage)."""
    sources: list[str] = []
    for arguments in stage.all("COPY"):
        words = shlex.split(arguments)
        if any(w.startswith("--from=") for w in words):
            continue
        operands = [w for w in words if not w.startswith("--")]
        sources += operands[:-1]
    return sources


def _passes_dockerignore(dockerfile: Path, source: str) -> bool:
    """Our .dockerignore files exclude everything (`*`) and re-include paths with `!`."""
    lines = [
        line.strip()
        for line in Path(f"{dockerfile}.dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"
    source = source.rstrip("/")
    for line in lines[1:]:
        if line.startswith("!"):
            allowed = line[1:].rstrip("/")
            if source == allowed or source.startswith(allowed + "/"):
                return True
    return False


def test_services_image_is_multi_stage_and_non_root() -> None:
    dockerfile = DEPLOY / "Dockerfile"
    stages = parse_dockerfile(dockerfile)
    builder, runtime = stages[0], stages[-1]

    assert len(stages) >= 2 and builder.name == "builder"
    assert runtime.base == "python:3.11-slim" and builder.base == runtime.base
    builder_runs = " ".join(builder.all("RUN"))
    assert "uv sync --frozen --no-dev" in builder_runs
    assert "/app/.venv" in " ".join(builder.all("ENV"))
    # The runtime takes only the venv and the source from the builder.
    copies = runtime.all("COPY")
    assert copies and all(c.startswith("--from=builder ") for c in copies)
    assert {c.split()[1] for c in copies} == {"/app/.venv", "/app/services", "/app/suite"}
    assert "uv" not in " ".join(runtime.all("RUN")).split()
    # The fonts the Chinese PDFs embed (kernel.documents; scripts/infra/fonts.sh installs the
    # same packages on a development machine).
    runs = " ".join(runtime.all("RUN"))
    assert "fonts-arphic-gbsn00lp" in runs and "fonts-wqy-zenhei" in runs
    assert _user_of(runtime).split(":")[0] not in {"0", "root"}
    assert "/healthz" in " ".join(runtime.all("HEALTHCHECK"))
    assert _exec_form(runtime.all("ENTRYPOINT")[-1]) == ["liandong"]
    assert _exec_form(runtime.all("CMD")[-1]) == ["serve", "referral"]


def test_gateway_image_is_multi_stage_and_non_root() -> None:
    dockerfile = DEPLOY / "Dockerfile.gateway"
    stages = parse_dockerfile(dockerfile)
    deps, runtime = stages[0], stages[-1]

    assert len(stages) >= 2
    # Issue 19: a supported Node.js (22; 20 reached its end of life on 2026-04-30), pinned and
    # registry-qualified, the same version scripts/infra/gateway.sh runs the tests on.
    assert deps.base == runtime.base == "docker.io/library/node:22.23.5-slim"
    script = (REPO / "scripts" / "infra" / "gateway.sh").read_text(encoding="utf-8")
    assert "NODE_VERSION=22.23.5" in script
    assert "npm ci --omit=dev" in " ".join(deps.all("RUN"))
    assert any(c.startswith(f"--from={deps.name} ") for c in runtime.all("COPY"))
    assert _user_of(runtime) == "node"
    assert "/readiness" in " ".join(runtime.all("HEALTHCHECK"))
    assert _exec_form(runtime.all("ENTRYPOINT")[-1]) == ["/usr/local/bin/liandong-gateway"]
    sources = _copy_sources(runtime)
    for service in OUR_SERVICES:
        assert f"services/{service}/schema.graphql" in sources


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.gateway"])
def test_every_copied_file_exists_and_is_in_the_build_context(name: str) -> None:
    dockerfile = DEPLOY / name
    sources = [s for stage in parse_dockerfile(dockerfile) for s in _copy_sources(stage)]

    assert sources
    for source in sources:
        assert (REPO / source).exists(), f"{name} copies {source}, which does not exist"
        assert _passes_dockerignore(dockerfile, source), f"{name}.dockerignore drops {source}"


# --- the gateway image's entry point, run outside a container -------------------------------


ENTRYPOINT = DEPLOY / "gateway-entrypoint.sh"

_SDL = """\
schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"]) {
  query: Query
}

type Query {
  ping: String!
}
"""


def test_gateway_entrypoint_is_valid_sh_and_executable() -> None:
    assert os.access(ENTRYPOINT, os.X_OK)
    subprocess.run(["sh", "-n", str(ENTRYPOINT)], check=True, timeout=10)


def _entrypoint_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    schemas = tmp_path / "schemas"
    schemas.mkdir(exist_ok=True)
    (schemas / "pinger.graphql").write_text(_SDL, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in {"PORT", "HOST"}}
    env.update(
        LIANDONG_GATEWAY_DIR=str(gateway_dir()),
        LIANDONG_SCHEMA_DIR=str(schemas),
        LIANDONG_SUPERGRAPH=str(tmp_path / "supergraph.graphql"),
        LIANDONG_ENV="production",
        LIANDONG_GATEWAY_HOST="127.0.0.1",
        NO_COLOR="1",
        PATH=node_path(),  # the Node.js 22 that scripts/infra/gateway.sh provides
        LIANDONG_GATEWAY_JWKS_FILE=str(ensure_dev_keys(tmp_path).jwks_file),
        LIANDONG_GATEWAY_HMAC_SECRET="entrypoint-test-secret",
    )
    env.update(extra)
    return env


def test_gateway_entrypoint_refuses_a_subgraph_without_endpoint(
    gateway_installed: None, tmp_path: Path
) -> None:
    result = subprocess.run(
        ["sh", str(ENTRYPOINT)],
        env=_entrypoint_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert result.returncode != 0
    assert "LIANDONG_SUBGRAPH_PINGER_URL" in result.stderr


def test_issue_19_the_gateway_runs_on_node_22(gateway_installed: None) -> None:
    """The suite starts the gateway with the Node.js that scripts/infra/gateway.sh provides
    (22, as the image), not an older `node` the machine may have first on PATH."""
    node = shutil.which("node", path=node_path())
    assert node is not None
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()
    assert int(version.lstrip("v").split(".")[0]) >= 22, (node, version)
    stamp = gateway_dir() / "node_modules" / ".liandong-install-stamp"
    installed_with = stamp.read_text(encoding="utf-8").split()[-1]  # "node<major>"
    assert int(installed_with.removeprefix("node")) >= 22, installed_with


def test_gateway_entrypoint_composes_from_env_and_serves(
    gateway_installed: None, tmp_path: Path
) -> None:
    port = free_port()
    endpoint = "http://127.0.0.1:9/graphql"  # never called: only the schema is served here
    env = _entrypoint_env(
        tmp_path, LIANDONG_SUBGRAPH_PINGER_URL=endpoint, LIANDONG_GATEWAY_PORT=str(port)
    )
    log = (tmp_path / "gateway.log").open("wb")
    process = subprocess.Popen(
        ["sh", str(ENTRYPOINT)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 40
        ready = False
        while time.monotonic() < deadline and process.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readiness", timeout=2).is_success
                answer = httpx.post(
                    f"http://127.0.0.1:{port}/graphql",
                    json={"query": "{ __typename }"},
                    timeout=5,
                ).json()
                if ready and answer == {"data": {"__typename": "Query"}}:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        output = (tmp_path / "gateway.log").read_text(encoding="utf-8", errors="replace")
        assert ready, output
        supergraph = (tmp_path / "supergraph.graphql").read_text(encoding="utf-8")
        assert f'url: "{endpoint}"' in supergraph
    finally:
        # The entry point execs hive-gateway, so the child is the gateway itself.
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()


# --- per-district deployment (deploy/render.py) ------------------------------------------

POLICY_DIR = REPO / "services" / "kernel" / "kernel" / "policies"
DISTRICTS = sorted(p.stem for p in POLICY_DIR.glob("*.yaml"))
K8S_TOOLS = REPO / "scripts" / "infra" / "k8s-tools.sh"


def test_rendered_district_files_are_current() -> None:
    """Compose files and kustomize overlays are rendered from one template; a stale or
    hand-edited rendered file fails here (run `python deploy/render.py`)."""
    result = subprocess.run(
        ["python", str(DEPLOY / "render.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("district", DISTRICTS)
def test_every_district_has_a_compose_file_for_its_own_district(district: str) -> None:
    document = yaml.safe_load((DEPLOY / "compose" / district / "compose.yaml").read_text("utf-8"))
    assert document["name"] == f"liandong-{district}"
    for name in (*OUR_SERVICES, "gateway"):
        env = document["services"][name]["environment"]
        assert env["LIANDONG_DISTRICT"] == district, name
    for name in OUR_SERVICES:
        env = document["services"][name]["environment"]
        assert env["LIANDONG_LOG_FORMAT"] == "json"
        assert env["LIANDONG_OTLP_ENDPOINT"] == "${LIANDONG_OTLP_ENDPOINT:-}"
    example = (DEPLOY / "compose" / district / ".env.example").read_text("utf-8")
    assert "LIANDONG_OTLP_ENDPOINT=" in example


@pytest.fixture(scope="module")
def kustomize(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The kustomize renderer, built by scripts/infra/k8s-tools.sh (Go module proxy only)."""
    tools = tmp_path_factory.mktemp("tools")
    subprocess.run(
        ["bash", str(K8S_TOOLS)],
        env={**os.environ, "LIANDONG_TOOLS_DIR": str(tools)},
        check=True,
        timeout=55,
        capture_output=True,
    )
    return tools / "kustomize"


def _render_overlay(kustomize: Path, district: str) -> list[dict[str, Any]]:
    result = subprocess.run(
        [str(kustomize), str(DEPLOY / "k8s" / "overlays" / district)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def _containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    return list(workload["spec"]["template"]["spec"]["containers"])


@pytest.mark.timeout(120)
@pytest.mark.parametrize("district", DISTRICTS)
def test_kustomize_overlay_renders_a_hardened_district(kustomize: Path, district: str) -> None:
    docs = _render_overlay(kustomize, district)
    by_kind: dict[str, dict[str, dict[str, Any]]] = {}
    for d in docs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    namespace = f"liandong-{district}"
    assert set(by_kind["Namespace"]) == {namespace}
    assert (
        by_kind["Namespace"][namespace]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
        == "restricted"
    )
    for d in docs:
        if d["kind"] != "Namespace":
            assert d["metadata"].get("namespace") == namespace, d["metadata"]["name"]

    # The district's settings and its own policy file (as a ConfigMap).
    configmaps = by_kind["ConfigMap"]
    settings = next(c for n, c in configmaps.items() if n.startswith("liandong-settings-"))
    assert settings["data"]["LIANDONG_DISTRICT"] == district
    assert "replicaSet=rs0" in settings["data"]["LIANDONG_MONGO_URL"]
    policy = next(c for n, c in configmaps.items() if n.startswith("liandong-policy-"))
    assert policy["data"]["policy.yaml"] == (POLICY_DIR / f"{district}.yaml").read_text("utf-8")

    workloads = [*by_kind["Deployment"].values(), *by_kind["StatefulSet"].values()]
    assert {w["metadata"]["name"] for w in workloads} == {
        *OUR_SERVICES,
        "gateway",
        "mongo",
        "mongo-exporter",
        "otel-collector",
    }
    for workload in workloads:
        name = workload["metadata"]["name"]
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] != 0, name
        for container in _containers(workload):
            image = container["image"]
            assert ":" in image and not image.endswith(":latest"), (name, image)
            assert container["readinessProbe"] and container["livenessProbe"], name
            resources = container["resources"]
            assert resources["requests"] and resources["limits"]["memory"], name
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            assert security["runAsNonRoot"] is True, name

    for name, port in OUR_SERVICES.items():
        deployment = by_kind["Deployment"][name]
        (container,) = _containers(deployment)
        assert container["args"] == ["serve", name]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["ports"][0]["containerPort"] == port
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/path"] == "/metrics"
        # Graceful shutdown fits in the grace period: the preStop pause, the drain delay,
        # uvicorn's 20 s for requests, the relay's last pass (10 s), handlers (10 s).
        pod = deployment["spec"]["template"]["spec"]
        pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        drain = float(settings["data"]["LIANDONG_DRAIN_DELAY_SECONDS"])
        assert pod["terminationGracePeriodSeconds"] >= pre_stop + drain + 20 + 10 + 10
        mounted = {v["name"]: v for v in pod["volumes"]}
        assert mounted["policy"]["configMap"]["name"] == policy["metadata"]["name"]
        assert settings["data"]["LIANDONG_POLICY_FILE"] == "/etc/liandong/policy.yaml"
        assert {i["key"] for i in mounted["secrets"]["secret"]["items"]} >= {
            "jwks.json",
            "webhook-key",
        }
        env = {e["name"]: e for e in container["env"]}
        secret = "LIANDONG_GATEWAY_HMAC_SECRET"
        assert env[secret]["valueFrom"]["secretKeyRef"]["name"] == "liandong-secrets"
        # Issue 16, findings 7 and 8: the service's own RabbitMQ and MongoDB users.
        for variable, secret_name in (
            ("LIANDONG_AMQP_USERNAME", f"liandong-amqp-{name}"),
            ("LIANDONG_AMQP_PASSWORD", f"liandong-amqp-{name}"),
            ("LIANDONG_MONGO_PASSWORD", "liandong-mongo"),
        ):
            assert env[variable]["valueFrom"]["secretKeyRef"]["name"] == secret_name, variable
        names = [e["name"] for e in container["env"]]
        assert names.index("LIANDONG_MONGO_PASSWORD") < names.index("LIANDONG_MONGO_URL")
        assert env["LIANDONG_MONGO_URL"]["value"].startswith(
            f"mongodb://liandong-{name}:$(LIANDONG_MONGO_PASSWORD)@"
        )
        assert env["LIANDONG_AMQP_URL"]["value"] == (
            "amqp://$(LIANDONG_AMQP_USERNAME):$(LIANDONG_AMQP_PASSWORD)@rabbitmq:5672/"
        )
        assert by_kind["Service"][name]["spec"]["ports"][0]["port"] == port

    mongo = by_kind["StatefulSet"]["mongo"]
    assert mongo["spec"]["replicas"] == 3
    assert "--replSet" in _containers(mongo)[0]["args"]
    assert by_kind["Service"]["mongo"]["spec"]["clusterIP"] == "None"
    assert "mongo-init" in by_kind["Job"]
    rabbit = by_kind["RabbitmqCluster"]["rabbitmq"]
    assert rabbit["spec"]["replicas"] == 3
    assert "default_queue_type = quorum" in rabbit["spec"]["rabbitmq"]["additionalConfig"]
    # No secret material in the manifests: the Secret is created per district by hand.
    assert "Secret" not in by_kind


def test_R_REF_12_only_referral_holds_the_letter_signing_keys(compose: dict[str, Any]) -> None:
    """Issue 15 item 7: the agencies' signing keys are a secret of the deployment, mounted on
    the referral service alone (compose and Kubernetes); production refuses to start without
    them (kernel.signing.load_signing_keys)."""
    referral = _service(compose, "referral")
    assert referral["environment"]["LIANDONG_LETTER_SIGNING_KEYS_DIR"] == (
        "/run/secrets/letter-keys"
    )
    assert {"source": "letter-keys", "target": "letter-keys"} in referral["secrets"]
    assert "file" in compose["secrets"]["letter-keys"]
    for name in ("coordination", "notify", "gateway"):
        service = _service(compose, name)
        assert "LIANDONG_LETTER_SIGNING_KEYS_DIR" not in service["environment"]
        assert all(s["source"] != "letter-keys" for s in service.get("secrets", []))
    for name in ("referral", "coordination", "notify"):
        docs = yaml.safe_load_all((DEPLOY / "k8s" / "base" / f"{name}.yaml").read_text())
        (deployment,) = [d for d in docs if d and d.get("kind") == "Deployment"]
        pod = deployment["spec"]["template"]["spec"]
        keys = [v for v in pod["volumes"] if v["name"] == "letter-keys"]
        env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
        if name == "referral":
            assert keys == [
                {"name": "letter-keys", "secret": {"secretName": "liandong-letter-keys"}}
            ]
            assert env["LIANDONG_LETTER_SIGNING_KEYS_DIR"] == "/run/letter-keys"
        else:
            assert keys == [] and "LIANDONG_LETTER_SIGNING_KEYS_DIR" not in env


# --- operating a district (issues 16 and 19) ---------------------------------------------


@pytest.mark.timeout(120)
def test_issue_16_19_the_overlay_isolates_databases_and_keeps_the_district_running(
    kustomize: Path,
) -> None:
    """NetworkPolicies (deny by default; MongoDB reachable only from the owning services and
    its jobs), MongoDB with authentication, per-service RabbitMQ users, PDBs, spread,
    HPAs, database memory request = limit with the cache sized, a nightly backup with
    retention, monitoring and an Ingress with TLS."""
    docs = _render_overlay(kustomize, "fuyuan")
    by_kind: dict[str, dict[str, dict[str, Any]]] = {}
    for d in docs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    policies = by_kind["NetworkPolicy"]
    assert policies["default-deny-ingress"]["spec"] == {
        "podSelector": {},
        "policyTypes": ["Ingress"],
    }
    (mongo_rule,) = policies["mongo"]["spec"]["ingress"]
    allowed = {
        p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for p in mongo_rule["from"]
    }
    assert allowed == {
        *OUR_SERVICES,
        *(f"migrate-{n}" for n in OUR_SERVICES),
        "mongo",
        "mongo-init",
        "mongo-backup",
        "mongo-exporter",
    }
    assert "gateway" not in allowed
    for name in OUR_SERVICES:
        (rule,) = policies[name]["spec"]["ingress"]
        assert {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}} in rule[
            "from"
        ]
    # MongoDB: authentication, keyfile, users per service on their own database.
    mongo = by_kind["StatefulSet"]["mongo"]
    (container,) = _containers(mongo)
    assert {"--auth", "--keyFile"} <= set(container["args"])
    cache = float(container["args"][container["args"].index("--wiredTigerCacheSizeGB") + 1])
    resources = container["resources"]
    assert resources["requests"]["memory"] == resources["limits"]["memory"] == "2Gi"
    assert 0 < cache <= 1.0  # well inside the 2 Gi limit
    spread = mongo["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert spread[0]["topologyKey"] == "kubernetes.io/hostname"
    assert spread[0]["whenUnsatisfiable"] == "DoNotSchedule"
    init = _containers(by_kind["Job"]["mongo-init"])[0]
    script = next(e["value"] for e in init["env"] if e["name"] == "INIT_SCRIPT")
    assert "role: 'readWrite', db: 'liandong_' + district + '_' + s" in script
    # RabbitMQ: a user, permissions and topic permissions per service.
    for name in OUR_SERVICES:
        user = f"liandong-{name}"
        assert by_kind["User"][user]["spec"]["importCredentialsSecret"]["name"] == (
            f"liandong-amqp-{name}"
        )
        topic = by_kind["TopicPermission"][user]["spec"]["permissions"]
        assert topic["exchange"] == "liandong.events"
        assert topic["write"] == rf"^fuyuan\.{name}\.[a-z0-9_]+(\.[a-z0-9_]+)+$"
    parked = by_kind["Policy"]["liandong-parked"]["spec"]
    assert parked["definition"]["overflow"] == "reject-publish"
    # Availability.
    for name in (*OUR_SERVICES, "gateway"):
        assert by_kind["PodDisruptionBudget"][name]["spec"]["minAvailable"] == 1
        assert by_kind["HorizontalPodAutoscaler"][name]["spec"]["minReplicas"] >= 2
        pod = by_kind["Deployment"][name]["spec"]["template"]["spec"]
        assert pod["topologySpreadConstraints"][0]["topologyKey"] == "kubernetes.io/hostname"
    assert by_kind["PodDisruptionBudget"]["mongo"]["spec"]["maxUnavailable"] == 1
    # Index builds before the rollout, in a Job per service with the service's own settings.
    for name in OUR_SERVICES:
        job = by_kind["Job"][f"migrate-{name}"]
        (migrate,) = _containers(job)
        assert migrate["args"] == ["migrate", name]
        assert "ports" not in migrate and "readinessProbe" not in migrate
        labels = job["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == f"migrate-{name}"  # no Service routes here
        env = {e["name"] for e in migrate["env"]}
        assert {"LIANDONG_MONGO_URL", "LIANDONG_MONGO_PASSWORD"} <= env
        # The pods wait for the Job's completion marker, whatever order apply creates them in.
        pod = by_kind["Deployment"][name]["spec"]["template"]["spec"]
        (wait,) = pod["initContainers"]
        assert wait["args"] == ["migrate", name, "--wait"]
        assert wait["image"] == migrate["image"] and wait["env"] == migrate["env"]
        assert "readinessProbe" not in wait and "ports" not in wait
    # Backups: nightly, every database through the oplog, retention.
    cron = by_kind["CronJob"]["mongo-backup"]
    (dump,) = _containers(cron["spec"]["jobTemplate"])
    command = " ".join(dump["command"])
    assert "mongodump" in command and "--oplog" in command and "--archive" in command
    assert "-mtime +14 -delete" in command
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert "mongo-backup" in by_kind["PersistentVolumeClaim"]
    # Monitoring and the edge.
    assert {"referral", "rabbitmq", "mongo-exporter", "gateway"} <= set(by_kind["PodMonitor"])
    alerts = {
        r["alert"]
        for g in by_kind["PrometheusRule"]["liandong"]["spec"]["groups"]
        for r in g["rules"]
    }
    assert {"LiandongOutboxBacklog", "LiandongDeadLetters", "LiandongOverdue"} <= alerts
    settings = next(
        c for n, c in by_kind["ConfigMap"].items() if n.startswith("liandong-settings-")
    )
    assert settings["data"]["LIANDONG_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    ingress = by_kind["Ingress"]["gateway"]["spec"]
    assert ingress["tls"][0]["secretName"] == "liandong-tls"
    paths = [p["path"] for r in ingress["rules"] for p in r["http"]["paths"]]
    assert paths == ["/graphql"]  # /metrics and the health routes stay inside
    # Images are registry-qualified (an unqualified name means Docker Hub).
    for d in docs:
        if d["kind"] in {"Deployment", "StatefulSet"}:
            for c in _containers(d):
                assert c["image"].split("/")[0].count(".") >= 1, c["image"]


@pytest.fixture(scope="module")
def promtool() -> str:
    """promtool, installed by scripts/infra/promtool.sh when missing (Debian's package)."""
    why = ""
    try:
        done = subprocess.run(
            ["bash", str(REPO / "scripts" / "infra" / "promtool.sh")],
            capture_output=True,
            text=True,
            timeout=150,
            check=False,
        )
        why = done.stderr[-500:]
    except subprocess.TimeoutExpired:
        why = "the installation took more than 150 s"
    found = shutil.which("promtool")
    if found is None:
        pytest.fail(
            f"promtool is missing and could not be installed (scripts/infra/promtool.sh, run "
            f"by `scripts/infra.sh up`): {why}"
        )
    return found


@pytest.mark.timeout(240)
def test_issue_19_alert_rules_fire_and_stay_quiet_as_tested(promtool: str) -> None:
    """``promtool test rules``: every alert has a case where it fires and one where not."""
    rules = DEPLOY / "prometheus" / "liandong-rules.yaml"
    tests = DEPLOY / "prometheus" / "liandong-rules.test.yaml"
    checked = subprocess.run(
        [promtool, "check", "rules", str(rules)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    done = subprocess.run(
        [promtool, "test", "rules", str(tests)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tests.parent,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    alerts = {
        r["alert"] for g in yaml.safe_load(rules.read_text("utf-8"))["groups"] for r in g["rules"]
    }
    tested = set(re.findall(r"alertname: (\w+)", tests.read_text("utf-8")))
    assert alerts == tested, alerts ^ tested


def test_issue_16_bureau_profiles_follow_notify_webhook_rules() -> None:
    """The AMQP profiles (deploy/render_rabbitmq.py) use notify's lists of public and crime
    events, and keep complainants' personal data out of every profile."""
    import importlib.util

    from notify.application.access import CRIME_EVENTS, PUBLIC_EVENTS

    spec = importlib.util.spec_from_file_location("render_rabbitmq", DEPLOY / "render_rabbitmq.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("render_rabbitmq", module)  # its dataclass looks itself up
    spec.loader.exec_module(module)
    assert set(module.PUBLIC_EVENTS) == PUBLIC_EVENTS
    assert set(module.CRIME_EVENTS) == CRIME_EVENTS
    for profile in module.BUREAU_PROFILES:
        keys = module.bureau_keys("fuyuan", profile)
        assert "fuyuan.referral.complaint.complainant_notified.v1" not in keys, profile
        assert all("*" not in k and "#" not in k for k in keys)


def test_issue_19_compose_rotates_logs_limits_memory_and_waits_out_the_shutdown(
    compose: dict[str, Any],
) -> None:
    for name in (*OUR_SERVICES, "gateway", "mongo", "rabbitmq"):
        service = _service(compose, name)
        assert service["logging"]["options"]["max-size"], name
        assert service["mem_limit"], name
    for name in OUR_SERVICES:
        # drain + 20 s requests + 10 s relay + 10 s handlers, with a margin
        assert _service(compose, name)["stop_grace_period"] == "60s"
    notify = _service(compose, "notify")
    assert notify["environment"]["LIANDONG_AUDIT_SIGNING_KEY_FILE"] == (
        "/run/secrets/audit-signing-key"
    )
    assert {"source": "audit-signing-key", "target": "audit-signing-key"} in notify["secrets"]
    backup = " ".join(_service(compose, "backup")["command"])
    assert "mongodump" in backup and "--archive" in backup and "-mtime" in backup


def test_issue_19_compose_secrets_are_ignored_by_git() -> None:
    for path in ("deploy/compose/fuyuan/.env", "deploy/compose/fuyuan/secrets/jwks.json"):
        ignored = subprocess.run(
            ["git", "check-ignore", "-q", path], cwd=REPO, check=False, capture_output=True
        )
        assert ignored.returncode == 0, f"{path} is not ignored by git"


def test_issue_19_an_sbom_is_generated_from_the_lock_files(tmp_path: Path) -> None:
    out = tmp_path / "sbom.cdx.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "release" / "sbom.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(out.read_text("utf-8"))
    assert document["bomFormat"] == "CycloneDX" and document["specVersion"] == "1.5"
    purls = {c["purl"] for c in document["components"]}
    lock = (REPO / "uv.lock").read_text("utf-8")
    pymongo = re.search(r'name = "pymongo"\nversion = "([^"]+)"', lock)
    assert pymongo is not None and f"pkg:pypi/pymongo@{pymongo.group(1)}" in purls
    assert any(p.startswith("pkg:npm/%40graphql-hive/gateway@") for p in purls)
    assert not any("liandong" in p for p in purls)  # the workspace itself is not a dependency


def test_issue_16_compose_mongo_requires_authentication(compose: dict[str, Any]) -> None:
    mongo = _service(compose, "mongo")
    assert {"--auth", "--keyFile"} <= set(mongo["command"])
    assert mongo["environment"]["MONGO_INITDB_ROOT_PASSWORD"].startswith("${MONGO_ROOT_PASSWORD:?")
    init = " ".join(_service(compose, "mongo-init")["command"])
    assert "role: 'readWrite', db: 'liandong_' + district + '_' + s" in init
    backup = " ".join(_service(compose, "backup")["command"])
    assert "mongodb://backup:$$MONGO_BACKUP_PASSWORD@" in backup


# -- offline manifest lint (issue 19) --------------------------------------------------------

LINTER = DEPLOY / "lint_manifests.py"
#: Kinds of the operators the overlays use; the bundled Kubernetes schemas do not know them.
OPERATOR_KINDS = {
    "RabbitmqCluster",
    "User",
    "Permission",
    "TopicPermission",
    "Policy",
    "PodMonitor",
    "PrometheusRule",
}


def _lint(docs: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(LINTER), "-"],
        input=yaml.safe_dump_all(docs),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.timeout(240)
@pytest.mark.parametrize("district", DISTRICTS)
def test_issue_19_every_overlay_passes_the_offline_manifest_linter(
    kustomize: Path, district: str
) -> None:
    """Strict schema validation (kubernetes-validate's bundled schemas, no network) and the
    hardening policy, over what `kustomize build` gives for the district."""
    docs = _render_overlay(kustomize, district)
    done = _lint(docs)
    assert done.returncode == 0, done.stdout + done.stderr
    unchecked = done.stderr.rsplit("no schema for: ", 1)[1].strip().split(", ")
    assert {u.split("/", 1)[0] for u in unchecked} <= OPERATOR_KINDS, unchecked


@pytest.mark.timeout(240)
def test_issue_19_the_linter_fails_on_a_bad_manifest(kustomize: Path) -> None:
    """Each kind of mistake is reported with its document and field, and the exit status is
    1: an unknown field (a typo), a floating image, no limits, a writable root filesystem, an
    init container running as root."""
    docs = _render_overlay(kustomize, "fuyuan")
    deployment = next(
        d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "referral"
    )
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    container["imagePullPolcy"] = "Always"
    container["image"] = "liandong/services:latest"
    del container["resources"]["limits"]
    container["securityContext"]["readOnlyRootFilesystem"] = False
    pod["initContainers"][0]["securityContext"]["runAsNonRoot"] = False
    done = _lint([deployment])
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    expected = [
        "imagePullPolcy",
        "image 'liandong/services:latest' has no version tag",
        "containers[referral]: no cpu limit",
        "containers[referral]: no memory limit",
        "containers[referral]: readOnlyRootFilesystem is not true",
        "initContainers[wait-for-migration]: runAsNonRoot is not true",
    ]
    for text in expected:
        assert any(text in line and "Deployment/referral" in line for line in lines), (
            text,
            lines,
        )
    assert _lint([d for d in docs if d is not deployment]).returncode == 0
