"""Material contents and the generated transfer letter (移送函) end to end: the graph through
the real Hive gateway, the files on the referral service's own routes (the gateway proxies
GraphQL only), in the embedded suite with the demo district."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from kernel.settings import SERVICES, Settings
from liandong.cli import mint_token
from liandong.gateway import free_port
from liandong.suite import build_suite
from tests.e2e.conftest import start_gateway
from tests.e2e.scenario import Gateway, draft_input, eventually

MATTER = "FY-SCJG-001"  # 无照经营, delegated to 寒葱沟镇 in the demo catalogue
PHOTO = b"\xff\xd8\xff\xe0 site photo " * 2000

RESULT = """
    __typename
    ... on Referral {
      id status transferLetterUrl
      materials { id kind name sha256 hasContent downloadUrl }
      signature { letterSha256 }
    }
    ... on UserError { code message field }
"""
DRAFT = "mutation($input: DraftReferralInput!) { draftReferral(input: $input) {" + RESULT + "} }"


def step(name: str) -> str:
    return "mutation($id: ID!) { " + name + "(id: $id) {" + RESULT + "} }"


READ = "query($id: ID!) { referral(id: $id) {" + RESULT.split("... on UserError")[0] + "} }"


@dataclass
class Suite:
    gateway: Gateway
    referral_base: str  # where the referral service's routes are (no gateway in between)


@pytest.fixture
async def suite(tmp_path: Path, unique_name: str) -> AsyncIterator[Suite]:
    settings = Settings(
        data_dir=tmp_path, store="embedded", bus="memory", instance=unique_name, district="fuyuan"
    )
    built = await build_suite(settings, seed_demo=True)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(built.create_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "the suite did not start"
        await asyncio.sleep(0.05)
    urls = {name: f"http://127.0.0.1:{port}/{name}/graphql" for name in SERVICES}
    gateway = await asyncio.to_thread(start_gateway, urls, tmp_path / "run")
    try:
        yield Suite(
            Gateway(gateway.url, lambda agency, roles: mint_token(settings, agency, roles)),
            f"http://127.0.0.1:{port}/referral",
        )
    finally:
        await asyncio.to_thread(gateway.stop)
        server.should_exit = True
        await serving


async def _mutate(gw: Gateway, token: str, query: str, name: str, **variables: Any) -> Any:
    body = await gw.query(token, query, variables)
    assert "errors" not in body, body
    return body["data"][name]


async def test_R_REF_02_R_REF_12_upload_generate_letter_sign_and_download(suite: Suite) -> None:
    gw = suite.gateway
    clerk = gw.mint("fy-market", ["clerk"])
    leader = gw.mint("fy-market", ["leader"])
    town_leader = gw.mint("fy-hancong", ["leader"])
    draft = draft_input(
        "fy-market", "fy-hancong", "某某食杂店无照经营案", now=gw.now, matterCode=MATTER
    )

    async def drafted() -> Any:
        r = await _mutate(gw, clerk, DRAFT, "draftReferral", input=draft)
        return r if r["__typename"] == "Referral" else None

    rid = (await eventually(drafted, what="agency and catalogue read models"))["id"]
    async with httpx.AsyncClient(base_url=suite.referral_base, timeout=30) as http:
        # Upload the source material's content straight to the referral service.
        digest = hashlib.sha256(PHOTO).hexdigest()
        up = await http.post(
            f"/referrals/{rid}/materials",
            headers={"Authorization": f"Bearer {clerk}"},
            files={"file": ("现场检查照片.jpg", PHOTO, "image/jpeg")},
            data={"kind": "source", "sha256": digest},
        )
        assert up.status_code == 201, up.text
        # A file type outside the list: 415 naming the field, nothing recorded.
        bad = await http.post(
            f"/referrals/{rid}/materials",
            headers={"Authorization": f"Bearer {clerk}"},
            files={"file": ("a.exe", b"MZ", "application/x-msdownload")},
            data={"kind": "evidence"},
        )
        assert bad.status_code == 415 and bad.json()["error"]["field"] == "mediaType"

        r = await _mutate(
            gw, clerk, step("generateTransferLetter"), "generateTransferLetter", id=rid
        )
        assert r["__typename"] == "Referral", r
        assert r["transferLetterUrl"] == f"/referrals/{rid}/letter.pdf"
        assert [(m["kind"], m["hasContent"]) for m in r["materials"]] == [
            ("source", True),
            ("transfer_letter", True),
        ]
        letter_sha = r["materials"][1]["sha256"]

        # R-REF-12: electronic transfer signs the generated letter's real hash.
        consent = await gw.query(
            town_leader,
            'mutation { setElectronicTransferConsent(senderId: "fy-market", consented: true) '
            "{ __typename } }",
        )
        assert "errors" not in consent, consent
        for token, name in ((clerk, "submitReferral"), (leader, "approveReferral")):
            done = await _mutate(gw, token, step(name), name, id=rid)
            assert done["__typename"] == "Referral", done
        sent = await _mutate(
            gw,
            leader,
            "mutation($id: ID!) { sendReferral(id: $id, electronic: true) {" + RESULT + "} }",
            "sendReferral",
            id=rid,
        )
        assert sent["status"] == "SENT", sent
        assert sent["signature"] == {"letterSha256": letter_sha}

        # The receiver downloads both through the URLs the graph gives.
        town = gw.mint("fy-hancong", ["clerk"])
        read = (await gw.query(town, READ, {"id": rid}))["data"]["referral"]
        letter = await http.get(
            read["transferLetterUrl"], headers={"Authorization": f"Bearer {town}"}
        )
        assert letter.status_code == 200 and letter.content.startswith(b"%PDF")
        assert hashlib.sha256(letter.content).hexdigest() == letter_sha
        photo = await http.get(
            read["materials"][0]["downloadUrl"], headers={"Authorization": f"Bearer {town}"}
        )
        assert photo.status_code == 200 and photo.content == PHOTO
        # Another township's staff: 403.
        other = gw.mint("fy-wusu", ["clerk"])
        denied = await http.get(
            read["transferLetterUrl"], headers={"Authorization": f"Bearer {other}"}
        )
        assert denied.status_code == 403
