"""Material contents and the generated transfer letter (移送函) end to end: the graph through
the real Hive gateway, the files on the referral service's own routes (the gateway proxies
GraphQL only), in the embedded suite with the demo district."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from typer.testing import CliRunner

from liandong.cli import app
from tests.e2e.conftest import serving_embedded_suite
from tests.e2e.scenario import Gateway, draft_input, eventually
from tests.e2e.scenario import answer_of as _mutate
from tests.e2e.stalls import assert_no_stalls

MATTER = "FY-SCJG-001"  # 无照经营, delegated to 寒葱沟镇 in the demo catalogue
PHOTO = b"\xff\xd8\xff\xe0 site photo " * 2000
CHINA = ZoneInfo("Asia/Shanghai")

RESULT = """
    __typename
    ... on Referral {
      id status transferLetterUrl letterNumber
      materials { id kind name sha256 hasContent downloadUrl }
      signature { letterSha256 letterNumber agencyId keyId algorithm verification { valid reason } }
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
    referral: Any  # the referral service in this process (to lose or damage a stored file)


@pytest.fixture
async def suite(tmp_path: Path, unique_name: str) -> AsyncIterator[Suite]:
    async with serving_embedded_suite(tmp_path, unique_name) as served:
        yield Suite(
            Gateway(served.gateway_url, served.token),
            f"{served.base_url}/referral",
            served.built.services["referral"],
        )


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
        # Issued at sending: the agency's next number (its 机关代字 from the seed), signed by
        # the agency's key over the issued letter's stored bytes, which verify.
        year = gw.now().astimezone(CHINA).year
        assert sent["letterNumber"] == f"抚市监〔{year}〕1号", sent
        signature = sent["signature"]
        assert signature["letterNumber"] == sent["letterNumber"]
        assert (signature["agencyId"], signature["algorithm"]) == ("fy-market", "ECDSA-P256-SHA256")
        assert signature["verification"] == {"valid": True, "reason": ""}, signature
        assert signature["letterSha256"] != letter_sha  # the draft had no number yet
        letter_sha = signature["letterSha256"]

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

        # The scenario left no case without an owner and a running clock (issue 14).
        await assert_no_stalls(gw)


SEND = "mutation($id: ID!) { sendReferral(id: $id) {" + RESULT + "} }"
KEYS = """query($ids: [ID!]) {
  letterSigningKeys(agencyIds: $ids) { agencyId keyId algorithm publicKeyPem }
}"""


async def _approved(gw: Gateway, http: httpx.AsyncClient, title: str) -> dict[str, Any]:
    clerk = gw.mint("fy-market", ["clerk"])
    leader = gw.mint("fy-market", ["leader"])
    draft = draft_input("fy-market", "fy-hancong", title, now=gw.now, matterCode=MATTER)

    async def drafted() -> Any:
        r = await _mutate(gw, clerk, DRAFT, "draftReferral", input=draft)
        return r if r["__typename"] == "Referral" else None

    rid = (await eventually(drafted, what="agency and catalogue read models"))["id"]
    up = await http.post(
        f"/referrals/{rid}/materials",
        headers={"Authorization": f"Bearer {clerk}"},
        files={"file": ("现场检查照片.jpg", PHOTO, "image/jpeg")},
        data={"kind": "source"},
    )
    assert up.status_code == 201, up.text
    r = await _mutate(gw, clerk, step("generateTransferLetter"), "generateTransferLetter", id=rid)
    assert r["__typename"] == "Referral", r
    await _mutate(gw, clerk, step("submitReferral"), "submitReferral", id=rid)
    approved = await _mutate(gw, leader, step("approveReferral"), "approveReferral", id=rid)
    assert approved["status"] == "APPROVED", approved
    return dict(approved)


async def test_R_REF_02_send_refused_for_a_missing_letter_file(suite: Suite) -> None:
    """Issue 15 item 6 through the gateway: the letter's stored file is lost after approval;
    sending is refused with MATERIAL_CONTENT_MISSING and nothing changes."""
    gw = suite.gateway
    async with httpx.AsyncClient(base_url=suite.referral_base, timeout=30) as http:
        r = await _approved(gw, http, "某某食杂店无照经营案（函件缺失）")
    letter = next(m for m in r["materials"] if m["kind"] == "transfer_letter")
    model = await suite.referral.referrals.get(r["id"])
    assert await suite.referral.handlers.ports.files.delete(model.latest_letter_file().file_id)
    clerk = gw.mint("fy-market", ["clerk"])
    refused = await _mutate(gw, clerk, SEND, "sendReferral", id=r["id"])
    assert refused["__typename"] == "UserError", refused
    assert (refused["code"], refused["field"]) == ("MATERIAL_CONTENT_MISSING", "materials")
    assert letter["name"] in refused["message"]
    read = (await gw.query(clerk, READ, {"id": r["id"]}))["data"]["referral"]
    assert read["status"] == "APPROVED" and read["letterNumber"] == ""


async def test_R_REF_12_a_letter_signed_verifies_and_fails_once_one_stored_byte_changes(
    suite: Suite, tmp_path: Path
) -> None:
    """Issue 15 item 7 through the gateway: the sent letter's signature verifies (the graph's
    check, and `liandong letter verify` with the agency's public key from the graph); one
    byte of the stored file changed, both refuse it."""
    gw = suite.gateway
    leader = gw.mint("fy-market", ["leader"])
    town = gw.mint("fy-hancong", ["clerk"])
    async with httpx.AsyncClient(base_url=suite.referral_base, timeout=30) as http:
        r = await _approved(gw, http, "某某食杂店无照经营案（签名）")
        sent = await _mutate(gw, leader, SEND, "sendReferral", id=r["id"])
        assert sent["signature"]["verification"] == {"valid": True, "reason": ""}, sent
        auth = {"Authorization": f"Bearer {town}"}
        letter = await http.get(sent["transferLetterUrl"], headers=auth)
        sig = await http.get(f"/referrals/{r['id']}/letter.sig", headers=auth)
        assert letter.status_code == 200 and sig.status_code == 200, sig.text
    keys = (await gw.query(town, KEYS, {"ids": ["fy-market"]}))["data"]["letterSigningKeys"]
    assert [k["keyId"] for k in keys] == [sent["signature"]["keyId"]]
    (tmp_path / "letter.pdf").write_bytes(letter.content)
    (tmp_path / "letter.pdf.sig").write_bytes(sig.content)
    (tmp_path / "fy-market.pem").write_text(keys[0]["publicKeyPem"], encoding="ascii")
    verify = ["letter", "verify", str(tmp_path / "letter.pdf")]
    verify += ["--public-key", str(tmp_path / "fy-market.pem")]
    ok = CliRunner().invoke(app, verify)
    assert ok.exit_code == 0 and sent["letterNumber"] in ok.output, ok.output

    # One byte of the stored letter changes (the embedded store keeps contents by hash).
    digest = sent["signature"]["letterSha256"]
    (stored,) = suite.referral.handlers.ports.files.root.glob(f"objects/*/{digest}")
    data = bytearray(stored.read_bytes())
    data[len(data) // 3] ^= 0x20
    stored.write_bytes(bytes(data))
    read = (await gw.query(town, READ, {"id": r["id"]}))["data"]["referral"]
    check = read["signature"]["verification"]
    assert check["valid"] is False and "SHA-256" in check["reason"], check
    (tmp_path / "letter.pdf").write_bytes(bytes(data))
    bad = CliRunner().invoke(app, verify)
    assert bad.exit_code == 1 and "FAILED" in bad.output, bad.output
