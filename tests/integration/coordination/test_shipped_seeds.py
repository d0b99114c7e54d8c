"""Every shipped demo directory registers under today's rules (R-AG-01…03): a seed that a
new rule refuses (e.g. an agency without a liaison, R-AG-03) stops its district's demo and
its end-to-end tests from starting, so it is caught here first."""

from __future__ import annotations

import pytest
import yaml

from coordination.adapters.repository import AgencyRepository
from coordination.application.handlers import CoordinationHandlers
from coordination.application.seeding import seed_agencies, shipped_seed
from kernel.store import DocumentStore

DISTRICTS = ("fuyuan", "shangri-la", "hualong", "chongqing", "huancui")  # DOMAIN §0
SEEDED = [d for d in DISTRICTS if shipped_seed(d) is not None]


def test_the_demo_districts_have_seeds() -> None:
    assert {"fuyuan", "chongqing", "hualong"} <= set(SEEDED)


@pytest.mark.parametrize("district", SEEDED)
@pytest.mark.parametrize("store_kind", ["embedded"], indirect=True)
async def test_R_AG_03_every_shipped_seed_registers(district: str, store: DocumentStore) -> None:
    path = shipped_seed(district)
    assert path is not None
    listed = yaml.safe_load(path.read_text(encoding="utf-8"))["agencies"]
    handlers = CoordinationHandlers(AgencyRepository(store), district)
    count = await seed_agencies(handlers, path)
    assert count == len(listed)
