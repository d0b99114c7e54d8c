"""Realistic referral documents for bulk loading.

One referral is taken through the real service (embedded suite, GraphQL: draft, transfer
letter and source material, submit, leader's approval, send), and its stored document —
history, clocks, materials, competence, exactly as the repository writes it — is the
template. :func:`clone` then varies what the lists filter and sort on (ids, sender, receiver and
so the parties, status, created_at, the open clock), so bulk loads go through ``insert_many`` in the
repository's document shape without driving a million referrals through GraphQL.
"""

from __future__ import annotations

import json
import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.common import private_name
from liandong.testing.drafts import send_one

#: The demo district's agencies that may send or receive referrals (fuyuan demo data).
SENDERS = ["fy-market", "fy-natres", "fy-housing", "fy-approval"]
RECEIVERS = ["fy-hancong", "fy-nongqiao", "fy-wusu", "fy-yanan"]

# How statuses are spread over a realistic back catalogue: most cases are finished, a
# minority still runs a clock (those are what the overdue list finds).
STATUS_WEIGHTS = {
    "closed": 50,
    "result_reported": 10,
    "handled": 8,
    "accepted": 12,
    "sent": 10,
    "draft": 5,
    "approved": 3,
    "withdrawn": 2,
}

_template: dict[str, Any] | None = None


async def sent_referral_document() -> dict[str, Any]:
    """The stored document of one referral sent through the real service (embedded); made
    once per run and shared by the benchmarks (copy before changing it)."""
    global _template
    if _template is None:
        _template = await _make_template()
    return dict(_template)


async def _make_template() -> dict[str, Any]:
    from kernel.settings import Settings
    from liandong.cli import mint_token
    from liandong.suite import build_suite

    with tempfile.TemporaryDirectory(prefix="bench-template-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            store="embedded",
            bus="memory",
            instance=private_name("tpl"),
            district="fuyuan",
        )
        suite = await build_suite(settings, seed_demo=True)
        await suite.start()
        try:
            transport = httpx.ASGITransport(app=suite.create_app())
            async with httpx.AsyncClient(transport=transport, base_url="http://suite") as client:
                rid = await send_one(
                    client,
                    "/referral/graphql",
                    lambda agency, roles: mint_token(settings, agency, roles),
                )
            referral_service: Any = suite.services["referral"]
            doc = await referral_service.referrals.aggregates.collection.find_one({"_id": rid})
        finally:
            await suite.stop()
    if doc is None:
        raise RuntimeError("the template referral was not stored")
    template = {k: v for k, v in doc.items() if not k.startswith("outbox_lease")}
    template["outbox"] = []
    template["outbox_n"] = 0
    return template


def _encode(value: Any) -> dict[str, str]:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and "$dt" in obj:
        return datetime.fromisoformat(obj["$dt"])
    return obj


class Cloner:
    """Makes varied copies of the template document, deterministic per seed."""

    def __init__(self, template: dict[str, Any], seed: int = 7) -> None:
        self._template_id = template["_id"]
        # JSON text with tagged datetimes: replacing the id and parsing it back is several
        # times faster than a deep copy, which matters at a million documents.
        self._text = json.dumps(template, ensure_ascii=False, default=_encode)
        self._random = random.Random(seed)
        self._statuses = list(STATUS_WEIGHTS)
        self._weights = list(STATUS_WEIGHTS.values())
        self._now = datetime.now(UTC)

    def clone(
        self, n: int, *, receiver: str | None = None, status: str | None = None
    ) -> dict[str, Any]:
        rnd = self._random
        rid = f"ref-bench-{n:08d}-{rnd.getrandbits(32):08x}"
        doc: dict[str, Any] = json.loads(
            self._text.replace(self._template_id, rid), object_hook=_decode
        )
        st = status or rnd.choices(self._statuses, self._weights)[0]
        created = self._now - timedelta(minutes=rnd.randrange(0, 2 * 365 * 24 * 60))
        doc["status"] = st
        doc["sender_id"] = rnd.choice(SENDERS)
        doc["receiver_id"] = receiver or rnd.choice(RECEIVERS)
        # As the repository writes it (a staff member's list reads it): the template's own
        # parties on every clone put each referral under the same two agencies (session 15).
        doc["parties"] = sorted({doc["sender_id"], doc["receiver_id"]})
        doc["created_at"] = created
        doc["found_at"] = created - timedelta(days=rnd.randrange(0, 5))
        doc["sent_at"] = created + timedelta(hours=2) if st != "draft" else None
        # Open clocks only while a step is pending; about a third of them are past due.
        if st in ("sent", "accepted", "draft", "approved"):
            doc["open_due"] = self._now + timedelta(hours=rnd.randrange(-240, 480))
        else:
            doc["open_due"] = None
        return doc
