"""R-GRD-01 in the embedded suite (one process, coordination mounted beside referral): the
referral service fetches a referred dispatch's photo through the suite's own app, under its
service identity, and the draft holds it as source material with coordination's digest."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from coordination.application.dispatch import ReferDispatch, ReportProblem
from kernel.auth import Principal
from kernel.caller import Caller
from kernel.settings import Settings
from referral.application.reactions import referral_id_of_dispatch
from referral.bootstrap import ReferralService
from tests.e2e.scenario import eventually
from tests.integration.suite.test_observability import started_suite

GRID = Principal("grid-1", "网格员", "fy-hancong-grid", "fuyuan", ("grid_member",))
PLATFORM = Principal("c-1", "张三", "fy-hancong", "fuyuan", ("clerk",))


async def _photo(content: bytes, suite_service: object) -> str:
    files = suite_service.deps.store.files()  # type: ignore[attr-defined]
    stored = await files.put(
        content,
        filename="现场.jpg",
        media_type="image/jpeg",
        metadata={"dispatch_photo": True, "dispatch_id": None, "uploaded_by": GRID.person_id},
    )
    return str(stored.id)


async def test_R_GRD_01_the_embedded_suite_copies_the_photos_in_process(
    tmp_path: Path, unique_name: str
) -> None:
    settings = Settings(
        data_dir=tmp_path, store="embedded", bus="memory", instance=unique_name, district="fuyuan"
    )
    async with started_suite(settings) as (suite, _):
        coordination = suite.services["coordination"]
        referral = suite.services["referral"]
        assert isinstance(referral, ReferralService)
        content = b"\xff\xd8\xff\xe0" + b"suite" * 500
        photo = await _photo(content, coordination)
        h = coordination.dispatch  # type: ignore[attr-defined]
        d = await h.report(
            ReportProblem(
                platform_id="fy-hancong",
                source="grid_member",
                what="无照经营",
                place="寒葱沟镇中心街8号",
                area="中心街第3网格",
                found_at=datetime.now(UTC),
                photo_ids=(photo,),
            ),
            Caller(GRID),
        )
        await h.refer(ReferDispatch(d.id, "fy-market", "属市场监管"), Caller(PLATFORM))

        async def drafted() -> object:
            r = await referral.referrals.get(referral_id_of_dispatch(d.id))
            return r if r is not None and r.materials else None

        r = await eventually(drafted, within=60, what="the draft with the photo")
        assert [(m.kind.value, m.sha256) for m in r.materials] == [  # type: ignore[attr-defined]
            ("source", hashlib.sha256(content).hexdigest())
        ]
