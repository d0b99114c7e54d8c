"""The AsyncAPI 3 document: the committed copy matches the event models, its structure is
AsyncAPI 3, it documents the envelope and the binding patterns, and notify serves it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from kernel.settings import Settings
from kernel.wiring import build_deps
from liandong.asyncapi import ASYNCAPI_PATH, build_asyncapi, render
from notify.bootstrap import bootstrap


def test_committed_asyncapi_matches_the_event_models() -> None:
    committed = ASYNCAPI_PATH.read_text(encoding="utf-8")
    assert committed == render(), (
        "services/notify/notify/asyncapi.json drifted from the event models: run "
        "`uv run python -m liandong.asyncapi` and commit"
    )


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_asyncapi_has_the_structure_of_asyncapi_3() -> None:
    doc = build_asyncapi()
    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"]["title"] and doc["info"]["version"]
    for pattern in ("fuyuan.#", "*.referral.#"):
        assert pattern in doc["info"]["description"]
    assert {"channels", "operations", "components"} <= set(doc)
    types = {m["name"] for m in doc["components"]["messages"].values()}
    assert {"referral.sent.v1", "agency.registered.v1", "deadline.missed.v1"} <= types
    assert "catalogue.entry_changed.v1" in types
    for name, channel in doc["channels"].items():
        assert re.fullmatch(
            r"\{district\}\.(referral|coordination|notify)\.[a-z_.0-9]+", channel["address"]
        ), name
        assert channel["bindings"]["amqp"]["exchange"]["type"] == "topic"
        assert channel["messages"]
    for name, op in doc["operations"].items():
        assert op["action"] in ("send", "receive"), name
        assert op["channel"]["$ref"].startswith("#/channels/")
    for ref in _refs(doc):  # every reference resolves inside the document
        _resolve(doc, ref)
    missed = doc["components"]["schemas"]["DeadlineMissedV1"]
    assert {"key", "due", "missed_at", "responsible_agency_id"} <= set(missed["properties"])
    envelope = doc["components"]["schemas"]["CloudEventEnvelope"]
    assert {"id", "district", "correlationid", "data"} <= set(envelope["required"])


async def test_notify_serves_the_document(tmp_path: Path, unique_name: str) -> None:
    settings = Settings(store="embedded", bus="memory", data_dir=tmp_path, instance=unique_name)
    service = bootstrap(await build_deps(settings, "notify"))
    app = service.create_app(manage_lifecycle=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://notify"
    ) as client:
        response = await client.get("/asyncapi.json")
    await service.deps.store.close()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert json.loads(response.content) == json.loads(ASYNCAPI_PATH.read_text(encoding="utf-8"))
