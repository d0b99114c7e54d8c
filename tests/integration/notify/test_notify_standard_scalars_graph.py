"""Issue 18, codegen without custom scalars: the full-process record (R-SUP-01) answers each
entry's payload and states as JSON text (``payloadJson``, ``stateBeforeJson``,
``stateAfterJson``, plain ``String``s) beside the deprecated ``JSON`` fields; parsed, the text
is the same object."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from kernel.envelope import new_envelope
from tests.integration.notify.test_authz_notify import (
    GOV,
    Graph,
    graph,  # noqa: F401
)
from tests.integration.notify.test_notify_watch import ReferralSent, deliver, eventually

RECORD = (
    "{ processRecord { edges { node { type payload payloadJson stateBefore stateBeforeJson "
    "stateAfter stateAfterJson } } } }"
)


async def test_R_SUP_01_record_payloads_as_json_text_parse_to_the_same_object(
    graph: Graph,  # noqa: F811
) -> None:
    g = graph
    sent = ReferralSent(
        referral_id="r-json",
        sender_id="fy-market",
        receiver_id="fy-hancong",
        title='无证经营移送（含引号"与反斜杠\\）',
        sent_at=datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
    )
    await deliver(
        g.service, new_envelope(sent, district="fuyuan", service="referral", subject="r-json")
    )

    async def referral_entries() -> list[dict[str, object]]:
        edges = (await g.data(GOV, RECORD))["processRecord"]["edges"]
        return [e["node"] for e in edges if e["node"]["type"] == "referral.sent.v1"]

    [entry] = await eventually(referral_entries, "the referral in the record")
    assert isinstance(entry["payloadJson"], str)
    assert json.loads(entry["payloadJson"]) == entry["payload"]
    assert entry["payload"]["title"] == sent.title
    for state in ("stateBefore", "stateAfter"):
        text = entry[f"{state}Json"]
        assert (None if text is None else json.loads(text)) == entry[state], state
    # Every entry of the record, not only this one, reads the same both ways.
    for e in (await g.data(GOV, RECORD))["processRecord"]["edges"]:
        assert json.loads(e["node"]["payloadJson"]) == e["node"]["payload"], e
