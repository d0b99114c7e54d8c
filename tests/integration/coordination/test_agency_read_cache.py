"""The graph's agency reads kept in memory while the collection's change stream is live
(issue 21, P1; ``kernel.changes.ReadCache``). R-AG-01: an agency's name and kind as the graph
shows them are current: another replica's change shows within the stream's lag, this
process's own at once. Two stores on one database stand for two replicas."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from coordination.adapters.repository import AgencyRepository
from coordination.domain.model import Agency, AgencyKind
from kernel.adapters.mongo_store import open_mongo_store
from tests.fixtures.waiting import until
from tests.infra import Server

pytestmark = pytest.mark.timeout(60)

MARKET = Agency(
    id="fy-market", name="抚远市市场监督管理局", kind=AgencyKind.DEPARTMENT, district="fuyuan"
)


async def test_R_AG_01_the_graphs_agency_reads_follow_every_replicas_changes(
    mongo_server: Server, unique_name: str
) -> None:
    writer_store = await open_mongo_store(mongo_server.url, unique_name)
    reader_store = await open_mongo_store(mongo_server.url, unique_name)
    writer, reader = AgencyRepository(writer_store), AgencyRepository(reader_store)
    try:
        await writer.add(MARKET, [])
        assert (await reader.read_many([MARKET.id]))[MARKET.id].name == MARKET.name
        await asyncio.wait_for(reader._reads.signal.opened.wait(), 10)
        await reader.read_many([MARKET.id])  # read while the stream is live: kept
        stored = await reader.get(MARKET.id)
        assert stored is not None

        renamed = replace(stored, name="抚远市市场监管局")
        assert await writer.replace(renamed, []) == 2  # another replica (its new version)

        async def shows_rename() -> bool:
            got = await reader.read_many([MARKET.id])
            return got[MARKET.id].name == renamed.name

        await until(5, shows_rename)

        again = await reader.get(MARKET.id)
        assert again is not None
        ours = replace(again, name="抚远市市场监督管理局（本副本）")
        assert await reader.replace(ours, []) == 3  # this process: shows at once
        assert (await reader.read_many([MARKET.id]))[MARKET.id].name == ours.name
        assert await reader.read_many(["nobody"]) == {}
    finally:
        await reader.stop_following()
        await writer.stop_following()
        await writer_store.close()
        await reader_store.close()
