"""The embedded suite stops in phases: every service's work first, then the shared bus
(waiting for deliveries in flight), then the stores. Stopping right after a command used to
close a store under a handler that was still delivering the command's events."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from kernel.settings import Settings
from liandong.cli import mint_token
from liandong.suite import build_suite
from liandong.testing.drafts import send_one


async def test_stop_right_after_a_command_closes_no_store_under_a_handler(
    tmp_path: Path, unique_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        data_dir=tmp_path, store="embedded", bus="memory", instance=unique_name, district="fuyuan"
    )
    suite = await build_suite(settings, seed_demo=True)
    await suite.start()
    transport = httpx.ASGITransport(app=suite.create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://suite") as client:
        rid = await send_one(
            client, "/referral/graphql", lambda agency, roles: mint_token(settings, agency, roles)
        )
    referral: Any = suite.services["referral"]
    assert await referral.referrals.aggregates.collection.find_one({"_id": rid}) is not None
    with caplog.at_level(logging.WARNING):
        await suite.stop()
    closed = [r.getMessage() for r in caplog.records if "is closed" in r.getMessage()]
    assert closed == []
