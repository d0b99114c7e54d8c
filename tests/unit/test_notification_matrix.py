"""R-NTF-04: the notification matrix covers every published event, names only fields its
event carries, and builds one notice per addressee with the clock that addressee must meet."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from notify.domain import notices
from notify.domain.notices import MATRIX, NO_NOTICE, build_items, rows_for

ROOT = Path(__file__).resolve().parents[2]
ASYNCAPI = ROOT / "services/notify/notify/asyncapi.json"
CHINA = ZoneInfo("Asia/Shanghai")


def catalogue() -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Each published event type → its payload schema, and the named schemas."""
    doc = json.loads(ASYNCAPI.read_text(encoding="utf-8"))
    schemas: dict[str, Any] = doc["components"]["schemas"]
    events = {}
    for message in doc["components"]["messages"].values():
        ref = message["payload"]["allOf"][1]["properties"]["data"]["$ref"]
        events[message["name"]] = schemas[ref.rsplit("/", 1)[-1]]
    return events, schemas


def resolve(schema: dict[str, Any], path: str, schemas: dict[str, Any]) -> dict[str, Any] | None:
    """The schema of the field at a dotted path, or None where the event has no such field."""
    node: dict[str, Any] | None = schema
    for part in path.split("."):
        if node is None:
            return None
        for option in node.get("anyOf", [node]):
            if "$ref" in option:
                node = schemas[option["$ref"].rsplit("/", 1)[-1]]
                break
        node = (node or {}).get("properties", {}).get(part)
    return node


def test_R_NTF_04_every_published_event_has_rows_or_a_reason() -> None:
    events, _ = catalogue()
    with_rows = {r.event_type for r in MATRIX}
    assert not with_rows & set(NO_NOTICE), "an event is both addressed and not"
    missing = set(events) - with_rows - set(NO_NOTICE)
    assert not missing, f"published events with no notification row and no reason: {missing}"
    unknown = (with_rows | set(NO_NOTICE)) - set(events)
    assert not unknown, f"matrix rows for events nobody publishes: {unknown}"
    assert all(reason.strip() for reason in NO_NOTICE.values())


@pytest.mark.parametrize("row", MATRIX, ids=lambda r: f"{r.event_type}->{r.kind}")
def test_R_NTF_04_rows_name_fields_their_event_carries(row: notices.NoticeRow) -> None:
    events, schemas = catalogue()
    schema = events[row.event_type]
    for path in row.to:
        found = resolve(schema, path, schemas)
        assert found is not None, f"{row.event_type} has no field {path!r}"
        text = json.dumps(found)
        assert '"string"' in text, f"{path!r} of {row.event_type} is not an agency id"
    assert resolve(schema, row.subject_field, schemas) is not None
    for text in (row.title, row.body):
        for m in notices._PLACEHOLDER.finditer(text):
            key = m.group(1).removesuffix("_name")
            assert resolve(schema, key, schemas) is not None, f"{key!r} not in {row.event_type}"
    assert row.rule.startswith("R-") and row.kind and row.audience in ("agency", "leader")


def test_the_committed_matrix_document_is_current() -> None:
    doc = (ROOT / "docs/notifications.md").read_text(encoding="utf-8")
    assert notices.with_generated_matrix(doc) == doc, (
        "docs/notifications.md is stale: uv run python -m notify.domain.notices"
    )


AT = datetime(2026, 3, 2, 10, tzinfo=CHINA)


def clock(agency: str, due: datetime, state: str = "open") -> dict[str, Any]:
    return {"responsible_agency_id": agency, "due": due.isoformat(), "state": state}


def test_R_NTF_04_each_addressee_but_the_actor_gets_one_notice_with_its_own_clock() -> None:
    [row] = rows_for("joint.initiated.v1")
    data = {
        "operation_id": "jo-1",
        "lead_id": "fy-market",
        "cooperating_ids": ["fy-hancong", "fy-natres", "fy-hancong"],
        "actor_agency_id": "fy-market",
        "title": "食品安全专项整治",
        "basis": "市政府部署",
        "urgent": True,
        "deadlines": [
            clock("fy-hancong", AT + timedelta(days=3)),
            clock("fy-hancong", AT + timedelta(days=1), state="met"),
            clock("fy-natres", AT + timedelta(days=2)),
            clock("fy-natres", AT + timedelta(days=5)),
        ],
    }
    names = {"fy-market": "抚远市市场监督管理局"}
    items = build_items(row, event_id="e-1", at=AT, data=data, names=names)
    # The lead acted itself: it is not told; a duplicated id is one addressee.
    assert [i.agency_id for i in items] == ["fy-hancong", "fy-natres"]
    by = {i.agency_id: i for i in items}
    # Each addressee's own earliest open clock; a met clock is not one to meet.
    assert by["fy-hancong"].due_at == AT + timedelta(days=3)
    assert by["fy-natres"].due_at == AT + timedelta(days=2)
    assert by["fy-natres"].title == "【紧急】联合执法：食品安全专项整治"
    assert by["fy-natres"].body.startswith("抚远市市场监督管理局发起联合执法，依据：市政府部署")
    assert by["fy-natres"].body.endswith("依据：市政府部署。请于2026年03月04日 10:00前办理。")
    assert all(i.urgent and i.receipt_required and i.subject_id == "jo-1" for i in items)
    assert by["fy-hancong"].id == "e-1:fy-hancong"  # a redelivery collides


def test_R_REF_13_supervision_reaches_the_receivers_leader_and_never_its_own_actor() -> None:
    [row] = rows_for("referral.supervised.v1")
    data = {
        "referral_id": "r-1",
        "receiver_id": "fy-hancong",
        "actor_agency_id": "fy-gov",
        "note": "请加快办理",
    }
    [item] = build_items(row, event_id="e-2", at=AT, data=data, names={"fy-gov": "抚远市人民政府"})
    assert item.agency_id == "fy-hancong" and item.audience == "leader"
    assert item.body == "抚远市人民政府督办：请加快办理" and item.due_at is None
    own = {**data, "actor_agency_id": "fy-hancong"}
    assert build_items(row, event_id="e-3", at=AT, data=own, names={}) == []


def test_dotted_fields_reach_nested_payloads() -> None:
    [row] = rows_for("dispute.escalated.v1")
    data = {
        "dispute_id": "d-1",
        "cause": "协商期限届满",
        "step": {"name_zh": "司法局协调", "decided_by_agency_id": "fy-justice"},
    }
    [item] = build_items(row, event_id="e-4", at=AT, data=data, names={})
    assert item.agency_id == "fy-justice" and item.title == "管辖争议提交你单位：司法局协调"
    assert item.subject_type == "Dispute" and item.subject_id == "d-1"
