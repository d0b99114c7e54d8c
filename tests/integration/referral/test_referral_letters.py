"""The transfer letter issued at sending (R-REF-02, R-REF-12, issue 15 items 6 and 7): the
sending agency's 文号 drawn from its own sequence for the year (no gap, no number twice, also
under concurrent sends on the real MongoDB wire-protocol server), and its electronic signature
over the stored bytes, which anyone with the agency's public key can check and which fails
once one byte of the stored letter changes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coordination.contracts.published import AgencyRegisteredV1
from kernel.adapters.official_pdf import render_pdf
from kernel.auth import Principal
from kernel.caller import Caller
from kernel.envelope import new_envelope
from kernel.errors import Conflict
from kernel.policy import load_policy
from kernel.settings import Settings
from kernel.signing import SigningKeys, load_signing_keys
from kernel.store import DocumentStore
from liandong.cli import app
from referral.adapters.repository import LetterRegister
from referral.application.commands import (
    ApproveReferral,
    GenerateTransferLetter,
    SendReferral,
    SubmitReferral,
)
from referral.domain.errors import SigningKeyMissing
from referral.domain.model import Referral

from .test_referral_service import (
    DISTRICT,
    MARKET_CLERK,
    MARKET_LEADER,
    PHOTO_JPEG,
    START,
    Service,
    person,
)

NATRES_CLERK = person("fy-natres", "clerk")
NATRES_LEADER = person("fy-natres", "leader")


@pytest.fixture
async def svc(store: DocumentStore, tmp_path: Path) -> AsyncIterator[Service]:
    yield await Service(store, load_policy(DISTRICT), tmp_path / "keys").setup()


async def approved(
    svc: Service, clerk: Principal = MARKET_CLERK, leader: Principal = MARKET_LEADER
) -> Referral:
    r = await svc.complete_draft(clerk, sender_id=clerk.agency_id)
    await svc.h.referrals.submit(SubmitReferral(r.id), Caller(clerk))
    return await svc.h.referrals.approve(ApproveReferral(r.id), Caller(leader))


async def test_R_REF_12_letter_numbers_are_each_agencys_sequence_under_concurrent_sends(
    svc: Service,
) -> None:
    """Issue 15: 机关代字〔2026〕N号, the agency's own sequence for the year: 8 + 3 referrals
    of two agencies sent at once get 1…8 and 1…3, no gap and no number twice; the register
    (发文登记) names each number's referral; a retried numbering gets the same number."""
    market = [await approved(svc) for _ in range(8)]
    natres = [await approved(svc, NATRES_CLERK, NATRES_LEADER) for _ in range(3)]
    sends = [svc.h.referrals.send(SendReferral(r.id), Caller(MARKET_CLERK)) for r in market]
    sends += [svc.h.referrals.send(SendReferral(r.id), Caller(NATRES_CLERK)) for r in natres]
    sent = await asyncio.gather(*sends)
    numbers = {r.id: r.letter_number for r in sent}
    assert sorted(numbers[r.id] for r in market) == sorted(
        f"抚远移〔2026〕{n}号" for n in range(1, 9)
    )
    assert sorted(numbers[r.id] for r in natres) == sorted(
        f"抚远移〔2026〕{n}号" for n in range(1, 4)
    )
    register = LetterRegister(svc.store)
    issued = await register.issued("fy-market", 2026)
    assert [n for n, _ in issued] == list(range(1, 9))
    assert {rid: f"抚远移〔2026〕{n}号" for n, rid in issued} == {
        r.id: numbers[r.id] for r in market
    }
    # The signature names the same number; numbering a sent referral again gives its own.
    assert all(
        r.signature is not None and r.signature.letter_number == r.letter_number for r in sent
    )
    first = market[0].id
    again = await register.number_for("fy-market", 2026, first, START)
    assert f"抚远移〔2026〕{again}号" == numbers[first]
    # Concurrent numberings of one referral draw one number between them.
    spare = await approved(svc)
    drawn = await asyncio.gather(
        *(register.number_for("fy-market", 2026, spare.id, START) for _ in range(5)),
        return_exceptions=True,
    )
    won = {d for d in drawn if isinstance(d, int)}
    assert won == {9}, drawn
    assert all(isinstance(d, int) or getattr(d, "code", "") == "CONFLICT" for d in drawn)
    assert [n for n, _ in await register.issued("fy-market", 2026)] == list(range(1, 10))


async def test_R_REF_12_the_agencys_own_document_code_heads_its_numbers(svc: Service) -> None:
    """The 机关代字 is agency data (coordination's registration, documentCode, carried by
    agency.registered.v1); without one it is derived from the name (抚远移)."""
    await svc.h.reactions.when_agency_registered_update_directory(
        new_envelope(
            AgencyRegisteredV1.model_validate(
                {
                    "agency_id": "fy-market",
                    "name": "抚远市市场监督管理局",
                    "kind": "department",
                    "district": DISTRICT,
                    "document_code": "抚市监",
                    "version": 2,
                }
            ),
            district=DISTRICT,
            service="coordination",
        )
    )
    r = await approved(svc)
    sent = await svc.h.referrals.send(SendReferral(r.id), Caller(MARKET_CLERK))
    assert sent.letter_number == "抚市监〔2026〕1号"


async def test_R_REF_12_a_signed_letter_verifies_and_fails_once_one_stored_byte_changes(
    embedded_store: DocumentStore, tmp_path: Path
) -> None:
    """Issue 15 item 7: the generated letter is issued at sending and signed by the sending
    agency over its stored bytes; the graph's check and ``liandong letter verify`` (offline,
    with the agency's public key) accept it, and refuse it after one byte of the stored file
    changed."""
    svc = await Service(embedded_store, load_policy(DISTRICT), tmp_path / "keys").setup()
    svc.h.ports.render_port = render_pdf
    r = await svc.h.referrals.draft(svc.draft_cmd(), Caller(MARKET_CLERK))
    await svc.upload(r.id, "source", "现场检查记录.jpg", PHOTO_JPEG)
    await svc.h.materials.generate_transfer_letter(
        GenerateTransferLetter(r.id), Caller(MARKET_CLERK)
    )
    await svc.h.referrals.submit(SubmitReferral(r.id), Caller(MARKET_CLERK))
    await svc.h.referrals.approve(ApproveReferral(r.id), Caller(MARKET_LEADER))
    sent = await svc.h.referrals.send(SendReferral(r.id), Caller(MARKET_LEADER))
    assert sent.signature is not None and sent.signature.algorithm == "ECDSA-P256-SHA256"
    assert (await svc.h.letters.verify(sent)).valid

    # What a receiver or a court holds: the letter, its signature, the agency's public key.
    _, letter, chunks = await svc.h.materials.letter(r.id, Caller(MARKET_CLERK))
    pdf = b"".join([c async for c in chunks])
    (tmp_path / "letter.pdf").write_bytes(pdf)
    sig = await svc.h.letters.signature_document(sent)
    (tmp_path / "letter.pdf.sig").write_text(json.dumps(sig), encoding="utf-8")
    keys = await svc.h.letters.public_keys(["fy-market"])
    assert [k.key_id for k in keys] == [sent.signature.key_id]
    (tmp_path / "fy-market.pem").write_text(keys[0].pem, encoding="ascii")
    cli = CliRunner()
    ok = cli.invoke(
        app,
        [
            "letter",
            "verify",
            str(tmp_path / "letter.pdf"),
            "--public-key",
            str(tmp_path / "fy-market.pem"),
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "OK" in ok.output and "抚远移〔2026〕1号" in ok.output

    # One byte of the stored file changes: the graph's check and the CLI both refuse it.
    stored = svc.store.files().root / "objects" / letter.sha256[:2] / letter.sha256  # type: ignore[attr-defined]
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0x01
    stored.write_bytes(bytes(data))
    check = await svc.h.letters.verify(sent)
    assert not check.valid and "SHA-256" in check.reason
    (tmp_path / "tampered.pdf").write_bytes(bytes(data))
    (tmp_path / "tampered.pdf.sig").write_text(json.dumps(sig), encoding="utf-8")
    bad = cli.invoke(
        app,
        [
            "letter",
            "verify",
            str(tmp_path / "tampered.pdf"),
            "--public-key",
            str(tmp_path / "fy-market.pem"),
        ],
    )
    assert bad.exit_code == 1 and "FAILED" in bad.output, bad.output
    # Another agency's key does not verify the genuine letter either.
    other = SigningKeys(tmp_path / "other", generate_missing=True).public_key("fy-market")
    (tmp_path / "other.pem").write_text(other.pem, encoding="ascii")
    stranger = cli.invoke(
        app,
        [
            "letter",
            "verify",
            str(tmp_path / "letter.pdf"),
            "--public-key",
            str(tmp_path / "other.pem"),
        ],
    )
    assert stranger.exit_code == 1, stranger.output


async def test_R_REF_12_production_signs_only_with_keys_the_deployment_provides(
    svc: Service, tmp_path: Path
) -> None:
    """No key directory in production: the service does not start (naming the setting). An
    agency without a key: its send is refused with SIGNING_KEY_MISSING and draws no number."""
    with pytest.raises(ValueError, match="LIANDONG_LETTER_SIGNING_KEYS_DIR"):
        load_signing_keys(Settings(env="production", data_dir=tmp_path))
    keys = load_signing_keys(
        Settings(env="production", data_dir=tmp_path, letter_signing_keys_dir=tmp_path / "none")
    )
    svc.h.ports.signing_port = keys
    r = await approved(svc)
    with pytest.raises(SigningKeyMissing) as err:
        await svc.h.referrals.send(SendReferral(r.id), Caller(MARKET_CLERK))
    assert err.value.code == "SIGNING_KEY_MISSING" and "fy-market.pem" in err.value.message
    assert await LetterRegister(svc.store).issued("fy-market", 2026) == []


async def test_R_REF_12_an_abandoned_numbering_is_taken_over_not_doubled(
    store: DocumentStore,
) -> None:
    """A send that died after claiming its referral's number but before drawing it leaves a
    claim without a number: a live claim is refused (CONFLICT, someone is sending), an
    abandoned one (older than ``stale``) is taken over and gets the next number once."""
    register = LetterRegister(store)
    await store.collection("letter_numbers").insert_one(
        {
            "_id": "referral:fy-market:2026:r-dead",
            "agency_id": "fy-market",
            "year": 2026,
            "referral_id": "r-dead",
            "number": None,
            "claimed_at": START,
        }
    )
    with pytest.raises(Conflict):
        await register.number_for("fy-market", 2026, "r-dead", START + timedelta(seconds=59))
    assert await register.number_for("fy-market", 2026, "r-other", START) == 1
    taken = await register.number_for("fy-market", 2026, "r-dead", START + timedelta(seconds=61))
    assert taken == 2
    assert await register.number_for("fy-market", 2026, "r-dead", START + timedelta(hours=1)) == 2
    assert await register.issued("fy-market", 2026) == [(1, "r-other"), (2, "r-dead")]


async def test_R_REF_12_a_send_that_died_after_drawing_keeps_its_number_no_gap(
    store: DocumentStore,
) -> None:
    """A send that drew its number and died before recording it: the next send of that
    referral (after ``stale``) finds the number it drew, the next referral the one after;
    the register has no gap."""
    register = LetterRegister(store)
    assert await register.number_for("fy-market", 2026, "r-first", START) == 1
    # The dead send: its claim holds no number, yet the counter moved for it (drawn 2).
    letters = store.collection("letter_numbers")
    await letters.insert_one(
        {
            "_id": "referral:fy-market:2026:r-dead",
            "agency_id": "fy-market",
            "year": 2026,
            "referral_id": "r-dead",
            "number": None,
            "claimed_at": START,
        }
    )
    await letters.find_one_and_update(
        {"_id": "counter:fy-market:2026"}, {"$inc": {"last": 1}, "$push": {"drawn": "r-dead"}}
    )
    assert await register.number_for("fy-market", 2026, "r-next", START) == 3
    taken = await register.number_for("fy-market", 2026, "r-dead", START + timedelta(seconds=61))
    assert taken == 2
    assert await register.issued("fy-market", 2026) == [
        (1, "r-first"),
        (2, "r-dead"),
        (3, "r-next"),
    ]
