"""Offline lint of the rendered Kubernetes manifests (issue 19).

    kustomize build deploy/k8s/overlays/<district> | python deploy/lint_manifests.py -
    python deploy/lint_manifests.py FILE.yaml ...

Two kinds of check, no network needed:

* **Schema**: every document of a built-in kind is validated, strictly (unknown fields are
  errors), against the Kubernetes JSON schemas that the ``kubernetes-validate`` package ships
  (a dev dependency; ``KUBERNETES_VERSION`` below). Kinds of operators (RabbitMQ cluster and
  topology resources) have no schema there and are listed as unchecked.
* **Policy** (what kube-linter would say for this project): every container, init containers
  included, runs as non-root without privilege escalation on a read-only root filesystem,
  drops all capabilities, has CPU and memory limits and an image pinned to a registry and a
  version (no ``latest``, no bare Docker Hub name); long-running containers have a readiness
  probe; pods do not mount the service account token.

Exit status 1 with one line per problem, naming the document (kind/name) and the field.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

#: The Kubernetes minor the manifests target (PodDisruptionBudget policy/v1, HPA v2,
#: native sidecar-free init containers, `sleep` preStop hooks need 1.30+).
KUBERNETES_VERSION = "1.33.0"
_WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}


def _name(doc: dict[str, Any]) -> str:
    return f"{doc.get('kind', '?')}/{(doc.get('metadata') or {}).get('name', '?')}"


def _pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    kind = doc.get("kind")
    spec = doc.get("spec") or {}
    if kind in _WORKLOAD_KINDS:
        return (spec.get("template") or {}).get("spec")
    if kind == "CronJob":
        return (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get(
            "spec"
        )
    if kind == "Pod":
        return spec
    return None


def _image_problem(image: str) -> str | None:
    if "@sha256:" in image:
        return None
    repo, _, tag = image.rpartition(":")
    if not repo or "/" in tag or tag == "latest":
        return f"image {image!r} has no version tag (or uses latest)"
    first = repo.split("/", 1)[0]
    if "/" not in repo or not ("." in first or ":" in first or first == "localhost"):
        return f"image {image!r} names no registry (it would resolve to Docker Hub)"
    return None


def policy_problems(doc: dict[str, Any]) -> Iterator[str]:
    pod = _pod_spec(doc)
    if pod is None:
        return
    where = _name(doc)
    pod_security = pod.get("securityContext") or {}
    if pod.get("automountServiceAccountToken") is not False:
        yield f"{where}: automountServiceAccountToken is not false"
    serving = doc.get("kind") in {"Deployment", "StatefulSet", "DaemonSet"}
    for role, containers in (
        ("initContainers", pod.get("initContainers") or []),
        ("containers", pod.get("containers") or []),
    ):
        for container in containers:
            at = f"{where}: {role}[{container.get('name', '?')}]"
            security = container.get("securityContext") or {}
            non_root = security.get("runAsNonRoot", pod_security.get("runAsNonRoot"))
            if non_root is not True:
                yield f"{at}: runAsNonRoot is not true"
            if security.get("allowPrivilegeEscalation") is not False:
                yield f"{at}: allowPrivilegeEscalation is not false"
            if security.get("readOnlyRootFilesystem") is not True:
                yield f"{at}: readOnlyRootFilesystem is not true"
            if "ALL" not in ((security.get("capabilities") or {}).get("drop") or []):
                yield f"{at}: capabilities.drop does not contain ALL"
            limits = (container.get("resources") or {}).get("limits") or {}
            for resource in ("cpu", "memory"):
                if resource not in limits:
                    yield f"{at}: no {resource} limit"
            problem = _image_problem(str(container.get("image", "")))
            if problem:
                yield f"{at}: {problem}"
            if serving and role == "containers" and "readinessProbe" not in container:
                yield f"{at}: no readinessProbe"


def schema_problems(doc: dict[str, Any]) -> Iterator[str]:
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path) or "(document)"
        yield f"{_name(doc)}: {path}: {exc.message}"


def is_builtin(doc: dict[str, Any]) -> bool:
    """True when the bundled schemas know the document's kind (operators' kinds are not)."""
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=False)
    except kubernetes_validate.SchemaNotFoundError:
        return False
    except kubernetes_validate.ValidationError:
        return True
    return True


def lint(documents: Iterable[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(problems, unchecked kinds/names) of ``documents``."""
    problems: list[str] = []
    unchecked: list[str] = []
    for doc in documents:
        if not doc:
            continue
        if is_builtin(doc):
            problems += schema_problems(doc)
        else:
            unchecked.append(_name(doc))
        problems += policy_problems(doc)
    return problems, unchecked


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: lint_manifests.py FILE.yaml ... | -", file=sys.stderr)
        return 2
    docs: list[dict[str, Any]] = []
    for arg in args:
        text = sys.stdin.read() if arg == "-" else Path(arg).read_text(encoding="utf-8")
        docs += [d for d in yaml.safe_load_all(text) if d]
    problems, unchecked = lint(docs)
    for problem in problems:
        print(problem)
    print(
        f"{len(docs)} documents, {len(problems)} problems; no schema for: "
        f"{', '.join(sorted(set(unchecked))) or 'none'}",
        file=sys.stderr,
    )
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
