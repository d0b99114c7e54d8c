"""Write a CycloneDX 1.5 SBOM (JSON) of what the two images ship, from the lock files.

    python scripts/release/sbom.py --out sbom.cdx.json

Components: every package of ``uv.lock`` (the services image; the project's own workspace
members are left out) as ``pkg:pypi``, and every package of ``gateway/package-lock.json``
(the gateway image) as ``pkg:npm``, with version and, where the lock has one, its hash.
Issue 19 (supply chain): publish it with each release next to the images' digests.
Standard library only (``tomllib``), so it runs anywhere the project does.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def python_components(lock: Path) -> list[dict[str, Any]]:
    data = tomllib.loads(lock.read_text(encoding="utf-8"))
    out = []
    for pkg in data.get("package", []):
        source = pkg.get("source", {})
        if "registry" not in source:
            continue  # the workspace's own packages
        component: dict[str, Any] = {
            "type": "library",
            "name": pkg["name"],
            "version": pkg["version"],
            "purl": f"pkg:pypi/{pkg['name'].lower()}@{pkg['version']}",
        }
        sdist = pkg.get("sdist") or {}
        digest = str(sdist.get("hash", ""))
        if digest.startswith("sha256:"):
            component["hashes"] = [{"alg": "SHA-256", "content": digest.removeprefix("sha256:")}]
        out.append(component)
    return out


def npm_components(lock: Path) -> list[dict[str, Any]]:
    data = json.loads(lock.read_text(encoding="utf-8"))
    out = []
    for path, pkg in sorted(data.get("packages", {}).items()):
        if not path or "version" not in pkg:
            continue  # the root project
        name = pkg.get("name") or path.rsplit("node_modules/", 1)[-1]
        scope, _, bare = name.rpartition("/")
        purl_name = f"{scope.replace('@', '%40')}/{bare}" if scope else bare
        component: dict[str, Any] = {
            "type": "library",
            "name": name,
            "version": pkg["version"],
            "purl": f"pkg:npm/{purl_name}@{pkg['version']}",
        }
        if pkg.get("dev"):
            component["scope"] = "excluded"
        out.append(component)
    return out


def sbom() -> dict[str, Any]:
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "component": {"type": "application", "name": "liandong"},
        },
        "components": [
            *python_components(REPO / "uv.lock"),
            *npm_components(REPO / "gateway" / "package-lock.json"),
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    document = sbom()
    args.out.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {len(document['components'])} components")
    return 0


if __name__ == "__main__":
    sys.exit(main())
