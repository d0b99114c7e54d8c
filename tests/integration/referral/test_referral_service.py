"""The referral service through its application API on a real document store: every rule of
DOMAIN.md §2–§3 that the service enforces, the events it publishes (through the outbox), and
bad input refused with a stable code and a field, changing nothing."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kernel.adapters.embedded_store import open_embedded_store
from kernel.auth import Principal
from kernel.calendar import SHANGHAI
from kernel.caller import Caller
from kernel.contracts.catalogue import CatalogueEntryV1, DelegationV1
from kernel.envelope import new_envelope
from kernel.errors import DomainError, Forbidden, InvalidState, ValidationFailed
from kernel.policy import DistrictPolicy, load_policy
from kernel.signing import SigningKeys
from kernel.store import DocumentStore
from referral.adapters.repository import (
    AgencyDirectory,
    CatalogueReadModel,
    ComplaintRepository,
    ElectronicConsents,
    LetterRegister,
    ReferralFilter,
    ReferralRepository,
)
from referral.application.access import may_read_referral as can_read
from referral.application.commands import (
    AcceptNotFiled,
    AcceptReferral,
    AddMaterial,
    AnswerComplaint,
    AnswerComplaintHandover,
    ApproveReferral,
    CloseReferral,
    ConsentToUpwardReferral,
    DeclineReferral,
    DraftReferral,
    ExtendSendDeadline,
    MarkHandled,
    OpenCaseFromComplaint,
    RecordJusticeFiling,
    RecordMaterialsHandover,
    RecordPenalty,
    RecordPoliceDecision,
    ReferComplaint,
    RegisterComplaint,
    RemoveMaterial,
    ReportResult,
    RequestComplaintHandover,
    SendReferral,
    SetElectronicConsent,
    SubmitReferral,
    SuperviseReferral,
    TellComplainantResult,
    TransferAtDelegation,
    TransferToPolice,
    UploadMaterial,
    WithdrawReferral,
)
from referral.application.handlers import ReferralHandlers
from referral.contracts.consumed import DisputeRuled
from referral.domain.complaint import ComplaintStatus
from referral.domain.errors import MaterialContentMissing
from referral.domain.model import AgencyRef, CrimeStage, Material, Referral, Status
from tests.fixtures.clock import MovableClock

DISTRICT = "fuyuan"
MATTER = "330217001"  # 无证经营 (illustrative code)
FOUND = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)  # a Friday
START = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)  # the next Monday

AGENCIES = [
    AgencyRef("fy-market", "抚远市市场监督管理局", "department", False),
    AgencyRef("fy-market-brigade", "抚远市市场监督管理局执法大队", "department", True),
    AgencyRef("fy-natres", "抚远市自然资源局", "department", False),
    AgencyRef("fy-hancong", "寒葱沟镇人民政府", "township", False),
    AgencyRef("fy-hancong-center", "寒葱沟镇综合行政执法中心", "township", True),
    AgencyRef("fy-nongqiao", "浓桥镇人民政府", "township", False),
    AgencyRef("fy-wusu", "乌苏镇人民政府", "township", False),
    AgencyRef("fy-police", "抚远市公安局", "public_security", False),
    AgencyRef("fy-justice", "抚远市司法局", "justice_bureau", False),
    AgencyRef("fy-gov", "抚远市人民政府", "government", False),
]


async def seed_directory(agencies: AgencyDirectory, catalogue: CatalogueReadModel) -> None:
    """The agencies above, and the catalogue: the matter is delegated to 寒葱沟镇 (decision)
    and not to the other townships."""
    for a in AGENCIES:
        await agencies.put(a, 1)
    await catalogue.put(
        CatalogueEntryV1(
            code=MATTER,
            name="无证经营",
            original_department_id="fy-market",
            delegations=[
                DelegationV1(
                    township_id="fy-hancong", mode="decision", effective_from=date(2026, 1, 1)
                )
            ],
            version=1,
        )
    )


def person(agency: str, *roles: str, pid: str | None = None) -> Principal:
    return Principal(
        pid or f"{agency}-{'-'.join(roles)}", f"{agency}的{roles[0]}", agency, DISTRICT, roles
    )


MARKET_CLERK = person("fy-market", "clerk")
MARKET_LEADER = person("fy-market", "leader")
TOWN_CLERK = person("fy-hancong", "clerk")
TOWN_LEADER = person("fy-hancong", "leader")
NONGQIAO_CLERK = person("fy-nongqiao", "clerk")
GOV = person("fy-gov", "government")
POLICE = person("fy-police", "clerk")


Clock = MovableClock


class Service:
    """The referral service's handlers on a store, with a clock the test moves (from
    ``start``) in ``district``."""

    def __init__(
        self,
        store: DocumentStore,
        policy: DistrictPolicy,
        keys_dir: Path | None = None,
        *,
        district: str = DISTRICT,
        start: datetime = START,
    ) -> None:
        self.store = store
        self.clock = Clock(start)
        self.referrals = ReferralRepository(store)
        self.complaints = ComplaintRepository(store)
        self.agencies = AgencyDirectory(store)
        self.catalogue = CatalogueReadModel(store)
        self.h = ReferralHandlers(
            self.referrals,
            self.agencies,
            policy,
            policy.working_calendar(),
            district,
            self.clock,
            catalogue=self.catalogue,
            complaints=self.complaints,
            consents=ElectronicConsents(store),
            files=store.files(),
            letters=LetterRegister(store),
            signing=SigningKeys(
                keys_dir or Path(tempfile.mkdtemp(prefix="letter-keys-")), generate_missing=True
            ),
        )

    async def setup(self) -> Service:
        await self.referrals.ensure_indexes()
        await self.complaints.ensure_indexes()
        await seed_directory(self.agencies, self.catalogue)
        return self

    async def events(self, referral_id: str, collection: str = "referrals") -> list[dict[str, Any]]:
        doc = await self.store.collection(collection).find_one({"_id": referral_id})
        assert doc is not None
        return list(doc.get("outbox", []))

    async def event_types(self, aggregate_id: str, collection: str = "referrals") -> list[str]:
        return [e["type"] for e in await self.events(aggregate_id, collection)]

    async def raw(self, referral_id: str) -> dict[str, Any]:
        doc = await self.store.collection("referrals").find_one({"_id": referral_id})
        assert doc is not None
        return doc

    def draft_cmd(self, **over: Any) -> DraftReferral:
        base: dict[str, Any] = {
            "sender_id": "fy-market",
            "receiver_id": "fy-hancong",
            "matter_code": MATTER,
            "title": "无证经营",
            "facts": "2026年11月27日检查发现当事人未取得营业执照从事食品经营活动。",
            "party": "某某食杂店",
            "place": "寒葱沟镇中心街12号",
            "found_at": FOUND,
        }
        base.update(over)
        return DraftReferral(**base)

    async def complete_draft(self, sender: Principal = MARKET_CLERK, **over: Any) -> Referral:
        """A draft with its letter and a source material stored as files (R-REF-02)."""
        r = await self.h.referrals.draft(self.draft_cmd(**over), Caller(sender))
        await self.upload(r.id, "transfer_letter", "移送函.pdf", LETTER_PDF, sender)
        r, _ = await self.upload(r.id, "source", "现场检查记录.jpg", PHOTO_JPEG, sender)
        return r

    async def upload(
        self,
        referral_id: str,
        kind: str,
        name: str,
        content: bytes,
        sender: Principal = MARKET_CLERK,
    ) -> tuple[Referral, Material]:
        media = "application/pdf" if name.endswith(".pdf") else "image/jpeg"
        return await self.h.materials.upload(
            UploadMaterial(referral_id, kind, name, media, chunks(content)), Caller(sender)
        )

    async def sent(self, **over: Any) -> Referral:
        r = await self.complete_draft(**over)
        await self.h.referrals.submit(SubmitReferral(r.id), Caller(MARKET_CLERK))
        await self.h.referrals.approve(ApproveReferral(r.id), Caller(MARKET_LEADER))
        return await self.h.referrals.send(SendReferral(r.id), Caller(MARKET_CLERK))


# Contents of the materials the tests store (a letter the sender wrote itself, a photo).
LETTER_PDF = b"%PDF-1.4\n% the sender's own transfer letter\n%%EOF\n"
PHOTO_JPEG = b"\xff\xd8\xff\xe0 site photo " * 64


async def chunks(content: bytes) -> AsyncIterator[bytes]:
    yield content


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def letter() -> AddMaterial:
    return AddMaterial(
        "", "transfer_letter", "移送函.pdf", "application/pdf", 52_000, sha("letter")
    )


def source() -> AddMaterial:
    return AddMaterial("", "source", "现场检查记录.jpg", "image/jpeg", 1_200_000, sha("photo"))


@pytest.fixture
async def svc(embedded_store: DocumentStore, tmp_path: Path) -> AsyncIterator[Service]:
    yield await Service(embedded_store, load_policy(DISTRICT), tmp_path / "keys").setup()


@pytest.fixture
async def any_svc(store: DocumentStore, tmp_path: Path) -> AsyncIterator[Service]:
    yield await Service(store, load_policy(DISTRICT), tmp_path / "keys").setup()


async def refused(
    svc: Service, referral_id: str, action: Any, error: type[DomainError], field: str | None
) -> DomainError:
    """The command is refused with ``error`` on ``field`` and the stored referral is as it was."""
    before = await svc.raw(referral_id)
    with pytest.raises(error) as err:
        await action
    assert err.value.field == field, err.value
    assert await svc.raw(referral_id) == before
    return err.value


# --------------------------------------------------------------------------- main path


async def test_R_REF_06_R_REF_08_send_accept_handle_report_close(any_svc: Service) -> None:
    """The main path on both store adapters: each transition recorded with actor, agency,
    time and before/after state; each clock started, met and carried in the events."""
    svc = any_svc
    r = await svc.sent()
    assert r.status is Status.SENT
    send_clock = r.clock("send")
    assert send_clock is not None and send_clock.state == "met"
    accept = r.accept_deadline
    assert accept is not None and accept.state == "open"
    assert accept.responsible_agency_id == "fy-hancong"
    # 5 working days after Monday 2026-11-30: Monday 2026-12-07, end of day.
    assert accept.due.astimezone(SHANGHAI).date() == date(2026, 12, 7)

    svc.clock.now = START + timedelta(days=1)
    r = await svc.h.referrals.accept(
        AcceptReferral(r.id, "经审查，本案属于本镇管辖，决定受理。"), Caller(TOWN_CLERK)
    )
    assert r.status is Status.ACCEPTED and r.acceptance_statement.startswith("经审查")
    assert r.accept_deadline is not None and r.accept_deadline.state == "met"
    report = r.clock("report")
    assert report is not None and report.state == "open"
    assert "行政处罚法第六十条" in report.rule

    r = await svc.h.referrals.mark_handled(
        MarkHandled(r.id, "责令改正并立案查处"), Caller(TOWN_CLERK)
    )
    r = await svc.h.referrals.report_result(
        ReportResult(r.id, "已作出警告并责令限期办理营业执照。"), Caller(TOWN_CLERK)
    )
    assert r.status is Status.RESULT_REPORTED
    assert r.clock("report") is not None and r.clock("report").state == "met"  # type: ignore[union-attr]
    r = await svc.h.referrals.close(CloseReferral(r.id), Caller(MARKET_CLERK))
    assert r.status is Status.CLOSED

    assert [(t.action, t.agency_id, t.before, t.after) for t in r.history[-5:]] == [
        ("send", "fy-market", Status.APPROVED, Status.SENT),
        ("accept", "fy-hancong", Status.SENT, Status.ACCEPTED),
        ("handle", "fy-hancong", Status.ACCEPTED, Status.HANDLED),
        ("report_result", "fy-hancong", Status.HANDLED, Status.RESULT_REPORTED),
        ("close", "fy-market", Status.RESULT_REPORTED, Status.CLOSED),
    ]
    events = await svc.events(r.id)
    types = [e["type"] for e in events]
    assert types[0] == "referral.drafted.v1"
    assert types[-5:] == [
        "referral.sent.v1",
        "referral.accepted.v1",
        "referral.handled.v1",
        "referral.result_reported.v1",
        "referral.closed.v1",
    ]
    by_type = {e["type"]: e["data"] for e in events}
    sent = by_type["referral.sent.v1"]
    assert sent["actor_agency_id"] == "fy-market"
    assert (sent["state_before"], sent["state_after"]) == ("approved", "sent")
    assert {(d["kind"], d["state"]) for d in sent["deadlines"]} == {
        ("referral.send", "met"),
        ("referral.accept", "open"),
    }
    accepted = by_type["referral.accepted.v1"]
    assert {(d["kind"], d["state"]) for d in accepted["deadlines"]} == {
        ("referral.accept", "met"),
        ("referral.report", "open"),
    }
    assert all(d["explanation_zh"] for d in accepted["deadlines"])
    assert by_type["referral.result_reported.v1"]["deadlines"][0]["state"] == "met"


async def test_R_REF_04_send_clock_from_discovery_with_explanation(svc: Service) -> None:
    r = await svc.h.referrals.draft(svc.draft_cmd(), Caller(MARKET_CLERK))
    clock = r.clock("send")
    assert (
        clock is not None and clock.state == "open" and clock.responsible_agency_id == "fy-market"
    )
    # Found Friday 2026-11-27: 5 working days → Friday 2026-12-04.
    assert clock.due.astimezone(SHANGHAI).date() == date(2026, 12, 4)
    assert "工作日" in svc.h.clocks.explain(clock)
    drafted = (await svc.events(r.id))[0]["data"]
    assert drafted["deadlines"][0]["kind"] == "referral.send"
    assert drafted["state_before"] is None and drafted["state_after"] == "draft"


async def test_R_REF_04_urgent_referral_runs_on_24_hours(svc: Service) -> None:
    r = await svc.h.referrals.draft(svc.draft_cmd(urgent=True), Caller(MARKET_CLERK))
    clock = r.clock("send")
    assert clock is not None and clock.due == FOUND + timedelta(hours=24)
    assert "24小时" in clock.rule
    with pytest.raises(InvalidState):
        await svc.h.referrals.extend_send_deadline(
            ExtendSendDeadline(r.id, 8, "需补充调查", True), Caller(MARKET_CLERK)
        )


async def test_R_REF_04_extension_with_prior_notice_never_past_maximum(svc: Service) -> None:
    r = await svc.h.referrals.draft(svc.draft_cmd(), Caller(MARKET_CLERK))
    err = await refused(
        svc,
        r.id,
        svc.h.referrals.extend_send_deadline(
            ExtendSendDeadline(r.id, 11, "需补充调查", True), Caller(MARKET_CLERK)
        ),
        ValidationFailed,
        "workingDays",
    )
    assert "at most 10 working days" in err.message
    await refused(
        svc,
        r.id,
        svc.h.referrals.extend_send_deadline(
            ExtendSendDeadline(r.id, 8, "需补充调查", False), Caller(MARKET_CLERK)
        ),
        ValidationFailed,
        "notifyReceiver",
    )
    r = await svc.h.referrals.extend_send_deadline(
        ExtendSendDeadline(r.id, 10, "需补充调查取证", True), Caller(MARKET_CLERK)
    )
    clock = r.clock("send")
    assert clock is not None and clock.due.astimezone(SHANGHAI).date() == date(2026, 12, 11)
    assert clock.key == f"Referral:{r.id}:referral.send"
    assert r.extension is not None and r.extension.notified_agency_id == "fy-hancong"
    event = (await svc.events(r.id))[-1]
    assert event["type"] == "referral.send_deadline_extended.v1"
    assert event["data"]["notified_agency_id"] == "fy-hancong"
    assert event["data"]["deadlines"][0]["due"] is not None
    # Prior notice means before the limit runs out.
    svc.clock.now = datetime(2026, 12, 14, 9, 0, tzinfo=SHANGHAI)
    await refused(
        svc,
        r.id,
        svc.h.referrals.extend_send_deadline(
            ExtendSendDeadline(r.id, 10, "再延", True), Caller(MARKET_CLERK)
        ),
        InvalidState,
        "workingDays",
    )


async def test_R_REF_05_ongoing_violation_records_stop_order_and_immediate_notice(
    svc: Service,
) -> None:
    with pytest.raises(ValidationFailed) as err:
        await svc.h.referrals.draft(svc.draft_cmd(ongoing=True), Caller(MARKET_CLERK))
    assert err.value.field == "stopOrder"
    r = await svc.h.referrals.draft(
        svc.draft_cmd(
            ongoing=True,
            stop_order="当场责令停止经营",
            stop_ordered_at=FOUND,
            immediate_notice="电话告知寒葱沟镇综合行政执法中心值班人员",
            notified_at=FOUND + timedelta(minutes=10),
        ),
        Caller(MARKET_CLERK),
    )
    assert r.ongoing is not None and r.ongoing.stop_order == "当场责令停止经营"
    drafted = (await svc.events(r.id))[0]["data"]
    assert drafted["ongoing_violation"] is True and drafted["receiver_id"] == "fy-hancong"


# --------------------------------------------------------------------------- validation


async def test_R_REF_02_no_sending_without_letter_facts_and_source(svc: Service) -> None:
    r = await svc.h.referrals.draft(svc.draft_cmd(), Caller(MARKET_CLERK))
    err = await refused(
        svc,
        r.id,
        svc.h.referrals.submit(SubmitReferral(r.id), Caller(MARKET_CLERK)),
        ValidationFailed,
        "materials",
    )
    assert "移送函" in err.message
    await svc.upload(r.id, "transfer_letter", "移送函.pdf", LETTER_PDF)
    err = await refused(
        svc,
        r.id,
        svc.h.referrals.submit(SubmitReferral(r.id), Caller(MARKET_CLERK)),
        ValidationFailed,
        "materials",
    )
    assert "source material" in err.message
    r, _ = await svc.upload(r.id, "source", "现场检查记录.jpg", PHOTO_JPEG)
    assert [(m.kind.value, m.size, m.sha256) for m in r.materials] == [
        ("transfer_letter", len(LETTER_PDF), hashlib.sha256(LETTER_PDF).hexdigest()),
        ("source", len(PHOTO_JPEG), hashlib.sha256(PHOTO_JPEG).hexdigest()),
    ]
    r = await svc.h.referrals.submit(SubmitReferral(r.id), Caller(MARKET_CLERK))
    assert r.status is Status.PENDING_APPROVAL
    with pytest.raises(ValidationFailed) as e:
        await svc.h.referrals.draft(svc.draft_cmd(facts="  "), Caller(MARKET_CLERK))
    assert e.value.field == "facts"


async def test_R_REF_02_material_records_are_checked(svc: Service) -> None:
    r = await svc.h.referrals.draft(svc.draft_cmd(), Caller(MARKET_CLERK))
    for bad, field in (
        (AddMaterial("", "letter", "x.pdf", "application/pdf", 10, sha("x")), "kind"),
        (AddMaterial("", "source", "x.exe", "application/x-msdownload", 10, sha("x")), "mediaType"),
        (AddMaterial("", "source", "x.pdf", "application/pdf", 0, sha("x")), "size"),
        (AddMaterial("", "source", "x.pdf", "application/pdf", 10, "abc"), "sha256"),
    ):
        await refused(
            svc,
            r.id,
            svc.h.materials.add(replace(bad, referral_id=r.id), Caller(MARKET_CLERK)),
            ValidationFailed,
            field,
        )
    await refused(
        svc,
        r.id,
        svc.h.materials.add(replace(source(), referral_id=r.id), Caller(TOWN_CLERK)),
        Forbidden,
        None,
    )
    r = await svc.h.materials.add(replace(source(), referral_id=r.id), Caller(MARKET_CLERK))
    r = await svc.h.materials.remove(RemoveMaterial(r.id, r.materials[0].id), Caller(MARKET_CLERK))
    assert r.materials == ()
    assert (await svc.event_types(r.id))[-1] == "referral.material_changed.v1"


async def test_R_REF_02_phantom_letters_are_refused_with_a_stable_code(any_svc: Service) -> None:
    """Issue 15 item 6: a letter recorded by a declared hash alone (no file) cannot be
    submitted or sent, nor one whose stored file is gone by the time it is sent; refused
    with MATERIAL_CONTENT_MISSING on ``materials``, nothing changed, no 文号 drawn."""
    svc = any_svc
    r = await svc.h.referrals.draft(svc.draft_cmd(), Caller(MARKET_CLERK))
    # What the e2e scenario did before: a declared sha256 with no file.
    phantom = AddMaterial("", "transfer_letter", "移送函.pdf", "application/pdf", 10, "a" * 64)
    await svc.h.materials.add(replace(phantom, referral_id=r.id), Caller(MARKET_CLERK))
    await svc.upload(r.id, "source", "现场检查记录.jpg", PHOTO_JPEG)
    err = await refused(
        svc,
        r.id,
        svc.h.referrals.submit(SubmitReferral(r.id), Caller(MARKET_CLERK)),
        MaterialContentMissing,
        "materials",
    )
    assert err.code == "MATERIAL_CONTENT_MISSING" and "移送函.pdf" in err.message

    # A letter stored, approved, and then its file lost before sending.
    r = await svc.complete_draft()
    await svc.h.referrals.submit(SubmitReferral(r.id), Caller(MARKET_CLERK))
    r = await svc.h.referrals.approve(ApproveReferral(r.id), Caller(MARKET_LEADER))
    letter_file = r.materials[0].file_id
    assert letter_file is not None and await svc.store.files().delete(letter_file)
    err = await refused(
        svc,
        r.id,
        svc.h.referrals.send(SendReferral(r.id), Caller(MARKET_CLERK)),
        MaterialContentMissing,
        "materials",
    )
    assert "gone" in err.message
    assert await svc.store.collection("letter_numbers").count({}) == 0


async def test_R_AG_02_internal_unit_as_sender_is_refused(svc: Service) -> None:
    brigade = person("fy-market-brigade", "clerk")
    with pytest.raises(ValidationFailed) as err:
        await svc.h.referrals.draft(svc.draft_cmd(sender_id="fy-market-brigade"), Caller(brigade))
    assert err.value.field == "senderId"
    with pytest.raises(ValidationFailed) as err:
        await svc.h.referrals.draft(
            svc.draft_cmd(receiver_id="fy-hancong-center"), Caller(MARKET_CLERK)
        )
    assert err.value.field == "receiverId"
    assert await svc.referrals.search(ReferralFilter(), limit=10) == []


async def test_R_REF_03_sending_unapproved_is_refused(svc: Service) -> None:
    r = await svc.complete_draft()
    await refused(
        svc,
        r.id,
        svc.h.referrals.send(SendReferral(r.id), Caller(MARKET_CLERK)),
        InvalidState,
        "status",
    )
    await svc.h.referrals.submit(SubmitReferral(r.id), Caller(MARKET_CLERK))
    await refused(
        svc,
        r.id,
        svc.h.referrals.approve(ApproveReferral(r.id), Caller(MARKET_CLERK)),
        Forbidden,
        None,
    )
    await refused(
        svc,
        r.id,
        svc.h.referrals.send(SendReferral(r.id), Caller(MARKET_CLERK)),
        InvalidState,
        "status",
    )


async def test_R_CAT_02_receiver_must_be_competent_or_reason_stated(svc: Service) -> None:
    # Not delegated to 浓桥镇: the catalogue names the department.
    with pytest.raises(ValidationFailed) as err:
        await svc.h.referrals.draft(
            svc.draft_cmd(sender_id="fy-market", receiver_id="fy-nongqiao"), Caller(MARKET_CLERK)
        )
    assert err.value.field == "receiverId" and "fy-market" in err.value.message
    # Delegated to 寒葱沟镇: a referral from another township to it is fine.
    ok = await svc.h.referrals.draft(
        svc.draft_cmd(sender_id="fy-nongqiao", receiver_id="fy-hancong", township_id="fy-hancong"),
        Caller(NONGQIAO_CLERK),
    )
    assert ok.competence is not None and ok.competence.resolved_agency_id == "fy-hancong"
    assert ok.competence.reason == "delegated"
    # A stated reason lets the sender address another agency; it is recorded.
    r = await svc.h.referrals.draft(
        svc.draft_cmd(
            receiver_id="fy-nongqiao", competence_reason="违法行为发生地跨两镇，先移送浓桥镇"
        ),
        Caller(MARKET_CLERK),
    )
    assert r.competence is not None and r.competence.override_reason.startswith("违法行为")


async def test_R_CAT_02_unknown_matter_needs_a_reason(svc: Service) -> None:
    with pytest.raises(ValidationFailed) as err:
        await svc.h.referrals.draft(svc.draft_cmd(matter_code="999999"), Caller(MARKET_CLERK))
    assert err.value.field == "competenceReason"
    r = await svc.h.referrals.draft(
        svc.draft_cmd(matter_code="999999", competence_reason="新型违法行为，清单未列明"),
        Caller(MARKET_CLERK),
    )
    assert r.competence is not None and r.competence.reason == "unknown_matter"


async def test_R_CAT_02_transition_period_keeps_the_department(tmp_path: Path) -> None:
    store = open_embedded_store(tmp_path, "transition")
    svc = await Service(store, load_policy(DISTRICT)).setup()
    await svc.catalogue.put(
        CatalogueEntryV1(
            code=MATTER,
            name="无证经营",
            original_department_id="fy-market",
            delegations=[
                DelegationV1(
                    township_id="fy-hancong",
                    mode="decision",
                    effective_from=date(2026, 10, 1),
                    transition_until=date(2026, 12, 31),
                )
            ],
            version=2,
        )
    )
    with pytest.raises(ValidationFailed) as err:
        await svc.h.referrals.draft(svc.draft_cmd(), Caller(MARKET_CLERK))
    assert err.value.field == "receiverId" and "过渡期" in err.value.message
    await store.close()


async def test_R_CAT_03_major_penalty_goes_to_the_department(tmp_path: Path) -> None:
    """Huancui keeps cases that may end in a major penalty with the department."""
    store = open_embedded_store(tmp_path, "huancui")
    svc = await Service(store, load_policy("huancui")).setup()
    town_clerk = person("fy-wusu", "clerk")
    # Delegated to 寒葱沟镇, but a fine of 50,000 yuan or more is major (HC #13).
    with pytest.raises(ValidationFailed) as err:
        await svc.h.referrals.draft(
            svc.draft_cmd(
                sender_id="fy-wusu",
                receiver_id="fy-hancong",
                township_id="fy-hancong",
                possible_fine_yuan=50_000,
            ),
            Caller(town_clerk),
        )
    assert err.value.field == "receiverId" and "R-CAT-03" in err.value.message
    r = await svc.h.referrals.draft(
        svc.draft_cmd(
            sender_id="fy-wusu",
            receiver_id="fy-market",
            township_id="fy-hancong",
            penalty_kinds=("revoke_licence",),
        ),
        Caller(town_clerk),
    )
    assert r.competence is not None and r.competence.major_penalty is True
    assert r.competence.reason == "major_penalty"
    await store.close()


async def test_R_CAT_02_competence_checked_again_at_send(svc: Service) -> None:
    r = await svc.complete_draft()
    await svc.h.referrals.submit(SubmitReferral(r.id), Caller(MARKET_CLERK))
    await svc.h.referrals.approve(ApproveReferral(r.id), Caller(MARKET_LEADER))
    # Meanwhile the delegation is withdrawn from the catalogue.
    await svc.catalogue.put(
        CatalogueEntryV1(
            code=MATTER, name="无证经营", original_department_id="fy-market", version=5
        )
    )
    await refused(
        svc,
        r.id,
        svc.h.referrals.send(SendReferral(r.id), Caller(MARKET_CLERK)),
        ValidationFailed,
        "receiverId",
    )


# --------------------------------------------------------------------------- lifecycle rules


async def test_R_REF_06_only_the_receiver_accepts_in_writing(svc: Service) -> None:
    r = await svc.sent()
    await refused(
        svc,
        r.id,
        svc.h.referrals.accept(AcceptReferral(r.id, "受理"), Caller(MARKET_CLERK)),
        Forbidden,
        None,
    )
    await refused(
        svc,
        r.id,
        svc.h.referrals.accept(AcceptReferral(r.id, " "), Caller(TOWN_CLERK)),
        ValidationFailed,
        "statement",
    )
    r = await svc.h.referrals.accept(AcceptReferral(r.id, "决定受理"), Caller(TOWN_CLERK))
    # Wrong state: accepted twice, handled before accepting elsewhere.
    await refused(
        svc,
        r.id,
        svc.h.referrals.accept(AcceptReferral(r.id, "再次受理"), Caller(TOWN_CLERK)),
        InvalidState,
        "status",
    )
    await refused(
        svc,
        r.id,
        svc.h.referrals.close(CloseReferral(r.id), Caller(MARKET_CLERK)),
        InvalidState,
        "status",
    )


async def test_R_REF_06_chongqing_receiver_may_not_refuse(tmp_path: Path) -> None:
    store = open_embedded_store(tmp_path, "cq")
    svc = await Service(store, load_policy("chongqing")).setup()
    r = await svc.sent()
    # CQ's send limit is 2 working days from discovery.
    assert r.clock("send") is not None
    err = await refused(
        svc,
        r.id,
        svc.h.referrals.decline(
            DeclineReferral(r.id, "非本镇职责", "清单第12项", "fy-market"), Caller(TOWN_LEADER)
        ),
        Forbidden,
        "status",
    )
    assert "不得拒绝接受" in err.message
    await store.close()


async def test_withdrawal_only_before_acceptance_and_by_a_leader_once_sent(svc: Service) -> None:
    r = await svc.sent()
    await refused(
        svc,
        r.id,
        svc.h.referrals.withdraw(WithdrawReferral(r.id, "误送"), Caller(MARKET_CLERK)),
        Forbidden,
        None,
    )
    w = await svc.h.referrals.withdraw(WithdrawReferral(r.id, "误送，收回"), Caller(MARKET_LEADER))
    assert w.status is Status.WITHDRAWN
    assert w.accept_deadline is not None and w.accept_deadline.state == "cancelled"
    data = (await svc.events(r.id))[-1]["data"]
    assert data["deadlines"][0]["state"] == "cancelled"
    r2 = await svc.sent()
    await svc.h.referrals.accept(AcceptReferral(r2.id, "受理"), Caller(TOWN_CLERK))
    await refused(
        svc,
        r2.id,
        svc.h.referrals.withdraw(WithdrawReferral(r2.id, "收回"), Caller(MARKET_LEADER)),
        InvalidState,
        "status",
    )


async def test_R_REF_13_government_supervises_a_lingering_case(svc: Service) -> None:
    r = await svc.sent()
    await refused(
        svc,
        r.id,
        svc.h.referrals.supervise(SuperviseReferral(r.id, "请于3日内受理"), Caller(MARKET_LEADER)),
        Forbidden,
        None,
    )
    svc.clock.now = START + timedelta(days=20)
    assert r.is_overdue(svc.clock.now)
    r = await svc.h.referrals.supervise(
        SuperviseReferral(r.id, "逾期未告知受理情况，请于3个工作日内办理"), Caller(GOV)
    )
    assert r.supervisions[0].agency_id == "fy-gov"
    assert (await svc.event_types(r.id))[-1] == "referral.supervised.v1"
    overdue = await svc.referrals.search(ReferralFilter(overdue_at=svc.clock.now), limit=10)
    assert [x.id for x in overdue] == [r.id]
    assert await svc.referrals.search(ReferralFilter(overdue_at=START), limit=10) == []


# --------------------------------------------------------------------------- decline, dispute


async def decline(svc: Service, r: Referral) -> Referral:
    return await svc.h.referrals.decline(
        DeclineReferral(
            r.id,
            "该事项尚未下放至本镇",
            "事项清单第12项（330217001）由市场监管局承办",
            "fy-hancong",
        ),
        Caller(TOWN_LEADER),
    )


async def test_R_REF_07_decline_cites_catalogue_and_names_interim_handler(svc: Service) -> None:
    r = await svc.sent()
    await refused(
        svc,
        r.id,
        svc.h.referrals.decline(
            DeclineReferral(r.id, "非本镇", "清单", "fy-hancong"), Caller(TOWN_CLERK)
        ),
        Forbidden,
        None,
    )
    await refused(
        svc,
        r.id,
        svc.h.referrals.decline(
            DeclineReferral(r.id, "非本镇", "", "fy-hancong"), Caller(TOWN_LEADER)
        ),
        ValidationFailed,
        "catalogueBasis",
    )
    await refused(
        svc,
        r.id,
        svc.h.referrals.decline(
            DeclineReferral(r.id, "非本镇", "清单第12项", "nobody"), Caller(TOWN_LEADER)
        ),
        ValidationFailed,
        "interimHandlerId",
    )
    d = await decline(svc, r)
    assert d.status is Status.DECLINED and d.decline_info is not None
    assert d.decline_info.interim_handler_id == "fy-hancong"
    event = (await svc.events(r.id))[-1]
    assert event["type"] == "referral.declined.v1"
    data = event["data"]
    for name in (
        "referral_id",
        "sender_id",
        "receiver_id",
        "matter_code",
        "township_id",
        "reasons",
        "catalogue_basis",
        "interim_handler_id",
        "actor_id",
        "actor_agency_id",
        "state_before",
        "state_after",
        "declined_at",
        "deadlines",
    ):
        assert name in data, name
    assert data["township_id"] == "fy-hancong" and data["state_after"] == "declined"
    assert data["deadlines"][0]["state"] == "met"


async def test_R_REF_07_no_re_transfer_after_decline(svc: Service) -> None:
    r = await svc.sent()
    r = await decline(svc, r)
    # The receiver may not pass it on to a third agency (不得再行移送)...
    with pytest.raises(Forbidden) as err:
        await svc.h.referrals.draft(
            svc.draft_cmd(
                sender_id="fy-hancong",
                receiver_id="fy-nongqiao",
                forwarded_from=r.id,
                competence_reason="转交",
            ),
            Caller(TOWN_CLERK),
        )
    assert err.value.field == "forwardedFrom" and "不得再行移送" in err.value.message
    # ... and the sender cannot send it again while the dispute runs.
    await refused(
        svc,
        r.id,
        svc.h.referrals.send(SendReferral(r.id), Caller(MARKET_CLERK)),
        InvalidState,
        "status",
    )
    assert len(await svc.referrals.search(ReferralFilter(), limit=10)) == 1


def ruled(referral_id: str | None, responsible: str, dispute: str = "d-1") -> Any:
    return new_envelope(
        DisputeRuled(
            dispute_id=dispute,
            referral_id=referral_id,
            matter_code=MATTER,
            responsible_agency_id=responsible,
            outcome_kind="minutes",
            basis="协调会议纪要〔2026〕3号",
            rule_id="rule-1",
            ruled_at=START + timedelta(days=3),
        ),
        district=DISTRICT,
        service="coordination",
        subject=dispute,
    )


def transfer_ruled(referral_id: str, township: str, responsible: str) -> Any:
    """A government ruling on a township's case-transfer request (R-DSP-04)."""
    return new_envelope(
        DisputeRuled(
            dispute_id=f"tr-{referral_id}-{township}",
            referral_id=referral_id,
            kind="transfer_to_department",
            matter_code=MATTER,
            township_id=township,
            responsible_agency_id=responsible,
            outcome_kind="decision",
            basis="抚政决〔2026〕7号",
            rule_id=None,
            ruled_at=START + timedelta(days=3),
        ),
        district=DISTRICT,
        service="coordination",
        subject=f"tr-{referral_id}",
    )


async def test_R_DSP_04_a_case_transfer_ruling_moves_an_accepted_referral_to_the_department(
    svc: Service,
) -> None:
    """Issue 14, item 5: a ruling that a case goes to the original department moved nothing
    unless the referral was DECLINED."""
    r = await svc.h.referrals.draft(
        svc.draft_cmd(sender_id="fy-nongqiao", receiver_id="fy-hancong", competence_reason="x"),
        Caller(NONGQIAO_CLERK),
    )
    await svc.upload(r.id, "transfer_letter", "移送函.pdf", LETTER_PDF, NONGQIAO_CLERK)
    await svc.upload(r.id, "source", "现场检查记录.jpg", PHOTO_JPEG, NONGQIAO_CLERK)
    await svc.h.referrals.submit(SubmitReferral(r.id), Caller(NONGQIAO_CLERK))
    await svc.h.referrals.approve(ApproveReferral(r.id), Caller(person("fy-nongqiao", "leader")))
    await svc.h.referrals.send(SendReferral(r.id), Caller(NONGQIAO_CLERK))
    r = await svc.h.referrals.accept(AcceptReferral(r.id, "受理"), Caller(TOWN_CLERK))
    assert r.clock("report") is not None
    svc.clock.now = START + timedelta(days=4)
    # A ruling naming another township as the one relieved changes nothing.
    await svc.h.reactions.when_dispute_ruled_reassign_or_confirm(
        transfer_ruled(r.id, "fy-wusu", "fy-market")
    )
    unchanged = await svc.referrals.get(r.id)
    assert unchanged is not None and unchanged.receiver_id == "fy-hancong"
    assert unchanged.status is Status.ACCEPTED
    envelope = transfer_ruled(r.id, "fy-hancong", "fy-market")
    await svc.h.reactions.when_dispute_ruled_reassign_or_confirm(envelope)
    await svc.h.reactions.when_dispute_ruled_reassign_or_confirm(envelope)  # redelivered
    moved = await svc.referrals.get(r.id)
    assert moved is not None and moved.status is Status.SENT
    assert moved.receiver_id == "fy-market" and moved.previous_receivers == ("fy-hancong",)
    # The township's report clock stopped; the department's accept clock runs.
    states = {(d.kind, d.responsible_agency_id or d.kind): d.state for d in moved.deadlines}
    report = [d for d in moved.deadlines if d.kind == "report"]
    assert report and all(d.state == "cancelled" for d in report), states
    accept = moved.accept_deadline
    assert accept is not None and accept.state == "open"
    assert accept.responsible_agency_id == "fy-market"
    assert (await svc.event_types(r.id)).count("referral.reassigned.v1") == 1


async def test_R_REF_07_dispute_ruling_reassigns_with_new_clock_idempotently(
    any_svc: Service,
) -> None:
    svc = any_svc
    r = await decline(svc, await svc.sent())
    svc.clock.now = START + timedelta(days=4)
    envelope = ruled(r.id, "fy-market-2" if False else "fy-natres")
    await svc.h.reactions.when_dispute_ruled_reassign_or_confirm(envelope)
    moved = await svc.referrals.get(r.id)
    assert moved is not None and moved.status is Status.SENT
    assert moved.receiver_id == "fy-natres" and moved.previous_receivers == ("fy-hancong",)
    clock = moved.accept_deadline
    assert (
        clock is not None and clock.state == "open" and clock.responsible_agency_id == "fy-natres"
    )
    assert clock.key.endswith("referral.accept#2")
    events = await svc.events(r.id)
    assert events[-1]["type"] == "referral.reassigned.v1"
    assert events[-1]["data"]["previous_receiver_id"] == "fy-hancong"
    # Redelivery changes nothing.
    before = await svc.raw(r.id)
    await svc.h.reactions.when_dispute_ruled_reassign_or_confirm(envelope)
    assert await svc.raw(r.id) == before
    # The new receiver accepts as usual.
    natres = person("fy-natres", "clerk")
    assert (
        await svc.h.referrals.accept(AcceptReferral(r.id, "受理"), Caller(natres))
    ).status is Status.ACCEPTED


async def test_R_REF_07_dispute_ruling_confirms_receiver_who_cannot_decline_again(
    svc: Service,
) -> None:
    r = await decline(svc, await svc.sent())
    await svc.h.reactions.when_dispute_ruled_reassign_or_confirm(ruled(r.id, "fy-hancong"))
    back = await svc.referrals.get(r.id)
    assert back is not None and back.status is Status.SENT and back.receiver_id == "fy-hancong"
    assert back.accept_deadline is not None and back.accept_deadline.state == "open"
    assert (await svc.event_types(r.id))[-1] == "referral.receiver_confirmed.v1"
    await refused(
        svc,
        r.id,
        svc.h.referrals.decline(
            DeclineReferral(r.id, "仍不属于", "清单", "fy-hancong"), Caller(TOWN_LEADER)
        ),
        Forbidden,
        "status",
    )
    # A ruling without a referral, or about one not waiting, is ignored.
    await svc.h.reactions.when_dispute_ruled_reassign_or_confirm(ruled(None, "fy-natres", "d-2"))
    await svc.h.reactions.when_dispute_ruled_reassign_or_confirm(ruled(r.id, "fy-natres", "d-3"))
    assert (await svc.referrals.get(r.id)).receiver_id == "fy-hancong"  # type: ignore[union-attr]


# --------------------------------------------------------------------------- special routes


async def test_R_REF_09_upward_needs_department_consent_and_justice_filing(svc: Service) -> None:
    r = await svc.complete_draft(
        sender=TOWN_CLERK,
        sender_id="fy-hancong",
        receiver_id="fy-market",
        major_or_difficult=True,
        competence_reason="案情重大复杂，报请上移",
    )
    assert r.route.value == "upward"
    await svc.h.referrals.submit(SubmitReferral(r.id), Caller(TOWN_CLERK))
    await svc.h.referrals.approve(ApproveReferral(r.id), Caller(TOWN_LEADER))
    err = await refused(
        svc,
        r.id,
        svc.h.referrals.send(SendReferral(r.id), Caller(TOWN_CLERK)),
        InvalidState,
        "consent",
    )
    assert "R-REF-09" in err.message
    await refused(
        svc,
        r.id,
        svc.h.referrals.record_justice_filing(
            RecordJusticeFiling(r.id, "备〔2026〕7号"), Caller(TOWN_CLERK)
        ),
        InvalidState,
        "consent",
    )
    await refused(
        svc,
        r.id,
        svc.h.referrals.consent_to_upward(
            ConsentToUpwardReferral(r.id, "同意"), Caller(MARKET_CLERK)
        ),
        Forbidden,
        None,
    )
    await svc.h.referrals.consent_to_upward(
        ConsentToUpwardReferral(r.id, "同意上移承办"), Caller(MARKET_LEADER)
    )
    await refused(
        svc,
        r.id,
        svc.h.referrals.send(SendReferral(r.id), Caller(TOWN_CLERK)),
        InvalidState,
        "filing",
    )
    r = await svc.h.referrals.record_justice_filing(
        RecordJusticeFiling(r.id, "抚司备〔2026〕7号"), Caller(TOWN_CLERK)
    )
    assert r.upward is not None and r.upward.filed_with_id == "fy-justice"
    r = await svc.h.referrals.send(SendReferral(r.id), Caller(TOWN_CLERK))
    assert r.status is Status.SENT
    types = await svc.event_types(r.id)
    assert "referral.department_consent_recorded.v1" in types
    assert "referral.filed_with_justice.v1" in types


async def test_R_REF_10_crime_transfer_no_fine_instead_and_not_filed_reopens(
    svc: Service,
) -> None:
    r = await svc.sent()
    r = await svc.h.referrals.accept(AcceptReferral(r.id, "受理"), Caller(TOWN_CLERK))
    first_report = r.clock("report")
    assert first_report is not None
    await refused(
        svc,
        r.id,
        svc.h.crime.transfer_to_police(
            TransferToPolice(r.id, "fy-police", "涉嫌生产销售伪劣产品罪"), Caller(TOWN_CLERK)
        ),
        Forbidden,
        None,
    )
    await refused(
        svc,
        r.id,
        svc.h.crime.transfer_to_police(
            TransferToPolice(r.id, "fy-natres", "涉嫌犯罪"), Caller(TOWN_LEADER)
        ),
        ValidationFailed,
        "policeId",
    )
    r = await svc.h.crime.transfer_to_police(
        TransferToPolice(r.id, "fy-police", "涉案金额较大，涉嫌犯罪"), Caller(TOWN_LEADER)
    )
    assert r.status is Status.CRIME_PENDING
    # The procuratorate's observers (judicial_observer) read suspected-crime referrals, and
    # only those; public security reads what was sent to it.
    observer = person("fy-procuratorate", "judicial_observer")
    ordinary = await svc.h.referrals.draft(svc.draft_cmd(title="普通"), Caller(MARKET_CLERK))
    assert can_read(observer, r) and not can_read(observer, ordinary)
    assert can_read(POLICE, r) and not can_read(POLICE, ordinary)
    crime = await svc.referrals.search(ReferralFilter(crime_only=True), limit=10)
    assert [x.id for x in crime] == [r.id]
    # 不得以罚代刑: no administrative penalty while public security decides.
    err = await refused(
        svc,
        r.id,
        svc.h.referrals.record_penalty(
            RecordPenalty(r.id, "寒罚〔2026〕1号", (), 3000), Caller(TOWN_CLERK)
        ),
        InvalidState,
        "status",
    )
    assert "不得以罚代刑" in err.message
    await refused(
        svc,
        r.id,
        svc.h.crime.record_police_decision(
            RecordPoliceDecision(r.id, False, "不予立案通知书"), Caller(TOWN_CLERK)
        ),
        Forbidden,
        None,
    )
    svc.clock.now = START + timedelta(days=10)
    # R-REF-14: 不立案 states its reasons in writing (Decree 310 第八条).
    await refused(
        svc,
        r.id,
        svc.h.crime.record_police_decision(
            RecordPoliceDecision(r.id, False, "抚公不立字〔2026〕3号"), Caller(POLICE)
        ),
        ValidationFailed,
        "reasons",
    )
    r = await svc.h.crime.record_police_decision(
        RecordPoliceDecision(r.id, False, "抚公不立字〔2026〕3号", "犯罪事实显著轻微"),
        Caller(POLICE),
    )
    assert r.status is Status.CRIME_PENDING and r.crime is not None
    assert r.crime.decision == "not_filed" and r.crime.stage is CrimeStage.NOT_FILED
    window = r.clock("crime_reconsideration_request")
    assert window is not None and window.state == "open"
    # The agency takes 不立案 as final: the administrative case reopens with a new clock.
    r = await svc.h.crime.accept_not_filed(
        AcceptNotFiled(r.id, "依法作出行政处罚"), Caller(TOWN_CLERK)
    )
    assert r.status is Status.ACCEPTED and r.crime is not None
    assert r.crime.stage is CrimeStage.CLOSED_NOT_FILED
    report = r.clock("report")
    assert report is not None and report.state == "open" and report.key != first_report.key
    assert report.due > first_report.due
    data = (await svc.events(r.id))[-1]["data"]
    assert data["state_after"] == "accepted"
    kinds = {d["kind"]: d["state"] for d in data["deadlines"]}
    assert kinds == {"referral.report": "open", "referral.crime_reconsideration_request": "met"}
    r = await svc.h.referrals.record_penalty(
        RecordPenalty(r.id, "寒罚〔2026〕1号", (), 3000), Caller(TOWN_CLERK)
    )
    assert r.penalty is not None and r.penalty.fine_yuan == 3000


async def test_R_REF_10_police_filing_closes_the_administrative_file(svc: Service) -> None:
    r = await svc.sent()
    await svc.h.referrals.accept(AcceptReferral(r.id, "受理"), Caller(TOWN_CLERK))
    await svc.h.crime.transfer_to_police(
        TransferToPolice(r.id, "fy-police", "涉嫌犯罪"), Caller(TOWN_LEADER)
    )
    r = await svc.h.crime.record_police_decision(
        RecordPoliceDecision(r.id, True, "立案决定书 抚公立字〔2026〕9号"), Caller(POLICE)
    )
    assert r.status is Status.CRIME_PENDING and r.crime is not None and r.crime.decision == "filed"
    handover = r.clock("crime_handover")
    assert handover is not None and handover.responsible_agency_id == "fy-hancong"
    # R-REF-14: the materials are handed over (Decree 310 第十二条); then the file closes.
    r = await svc.h.crime.record_handover(
        RecordMaterialsHandover(r.id, "涉案物品清单一份、现场检查记录"), Caller(TOWN_CLERK)
    )
    assert r.status is Status.CLOSED and r.crime is not None
    assert r.crime.stage is CrimeStage.HANDED_OVER and r.clock("crime_handover").state == "met"


async def test_R_REF_11_bulk_transfer_at_delegation_reports_what_moved(svc: Service) -> None:
    natres_matter = "NR-001"
    await svc.catalogue.put(
        CatalogueEntryV1(
            code=natres_matter, name="非法占地", original_department_id="fy-natres", version=1
        )
    )
    town = person("fy-wusu", "clerk")
    town_leader = person("fy-wusu", "leader")

    async def to_natres(**over: Any) -> Referral:
        r = await svc.complete_draft(
            sender=town,
            sender_id="fy-wusu",
            receiver_id="fy-natres",
            matter_code=natres_matter,
            township_id="fy-wusu",
            **over,
        )
        await svc.h.referrals.submit(SubmitReferral(r.id), Caller(town))
        await svc.h.referrals.approve(ApproveReferral(r.id), Caller(town_leader))
        return await svc.h.referrals.send(SendReferral(r.id), Caller(town))

    natres = person("fy-natres", "clerk")
    pending = await to_natres()
    accepted = await to_natres()
    await svc.h.referrals.accept(AcceptReferral(accepted.id, "受理"), Caller(natres))
    closed = await to_natres()
    await svc.h.referrals.accept(AcceptReferral(closed.id, "受理"), Caller(natres))
    await svc.h.referrals.mark_handled(MarkHandled(closed.id, "已处理"), Caller(natres))
    await svc.h.referrals.report_result(ReportResult(closed.id, "已罚款"), Caller(natres))
    await svc.h.referrals.close(CloseReferral(closed.id), Caller(town))
    # The catalogue now delegates the matter to 乌苏镇 (FY: no transition period, so the open
    # cases move in bulk, R-REF-11); only what the catalogue gives the township moves.
    await svc.catalogue.put(
        CatalogueEntryV1(
            code=natres_matter,
            name="非法占地",
            original_department_id="fy-natres",
            delegations=[DelegationV1(township_id="fy-wusu", mode="decision",
                                      effective_from=START.date())],
            version=2,
        )
    )  # fmt: skip
    with pytest.raises(Forbidden):
        await svc.h.delegation.transfer(
            TransferAtDelegation("fy-natres", natres_matter, "fy-wusu", "抚政发〔2026〕1号"),
            Caller(natres),
        )
    report = await svc.h.delegation.transfer(
        TransferAtDelegation("fy-natres", natres_matter, "fy-wusu", "抚政发〔2026〕1号"),
        Caller(person("fy-natres", "leader")),
    )
    assert sorted(report.moved) == sorted([pending.id, accepted.id])
    assert report.stayed == [(closed.id, "archived with the department")]
    moved = await svc.referrals.get(accepted.id)
    assert moved is not None and moved.receiver_id == "fy-wusu" and moved.status is Status.ACCEPTED
    new_report = moved.clock("report")
    assert new_report is not None and new_report.responsible_agency_id == "fy-wusu"
    assert (await svc.event_types(accepted.id))[-1] == "referral.moved_at_delegation.v1"
    # Run again: nothing more moves.
    again = await svc.h.delegation.transfer(
        TransferAtDelegation("fy-natres", natres_matter, "fy-wusu", "抚政发〔2026〕1号"),
        Caller(GOV),
    )
    assert again.moved == []


async def test_R_REF_12_electronic_transfer_needs_consent_and_is_signed(svc: Service) -> None:
    r = await svc.complete_draft()
    await svc.h.referrals.submit(SubmitReferral(r.id), Caller(MARKET_CLERK))
    await svc.h.referrals.approve(ApproveReferral(r.id), Caller(MARKET_LEADER))
    err = await refused(
        svc,
        r.id,
        svc.h.referrals.send(SendReferral(r.id, electronic=True), Caller(MARKET_CLERK)),
        Forbidden,
        "electronic",
    )
    assert "R-REF-12" in err.message
    with pytest.raises(Forbidden):
        await svc.h.referrals.set_electronic_consent(
            SetElectronicConsent("fy-market", True), Caller(TOWN_CLERK)
        )
    assert (
        await svc.h.referrals.set_electronic_consent(
            SetElectronicConsent("fy-market", True), Caller(TOWN_LEADER)
        )
        is True
    )
    # Consent is per pair: it does not cover another sender.
    consents = svc.h.ports.consents
    assert (await consents.get("fy-hancong", "fy-natres"))[0] is False
    r = await svc.h.referrals.send(SendReferral(r.id, electronic=True), Caller(MARKET_LEADER))
    assert r.electronic and r.signature is not None
    # The letter the sender uploaded is signed as it is stored, by the sending agency's key.
    letter_sha = hashlib.sha256(LETTER_PDF).hexdigest()
    assert (
        r.signature.letter_sha256 == letter_sha
        and r.signature.signer_id == MARKET_LEADER.person_id
        and r.signature.agency_id == "fy-market"
        and r.signature.algorithm == "ECDSA-P256-SHA256"
        and r.signature.letter_number == r.letter_number == "抚远移〔2026〕1号"
    )
    assert (await svc.h.letters.verify(r)).valid
    sent = (await svc.events(r.id))[-1]["data"]
    assert sent["electronic"] is True and sent["letter_sha256"] == letter_sha
    assert sent["letter_number"] == "抚远移〔2026〕1号"
    await svc.h.referrals.set_electronic_consent(
        SetElectronicConsent("fy-market", False), Caller(TOWN_LEADER)
    )
    assert (await consents.get("fy-hancong", "fy-market"))[0] is False


# --------------------------------------------------------------------------- complaints


async def register(svc: Service, who: Principal = TOWN_CLERK) -> Any:
    return await svc.h.complaints.register(
        RegisterComplaint("张某", "13800000000", "中心街某店无照经营", MATTER, "中心街12号"),
        Caller(who),
    )


async def test_R_CMP_01_first_agency_registers_and_owns_until_handed_over(svc: Service) -> None:
    c = await register(svc)
    assert c.status is ComplaintStatus.REGISTERED
    assert c.first_agency_id == c.owner_agency_id == "fy-hancong"
    with pytest.raises(Forbidden):
        await svc.h.complaints.answer(AnswerComplaint(c.id, "经查无违法"), Caller(MARKET_CLERK))
    with pytest.raises(ValidationFailed) as err:
        await svc.h.complaints.register(RegisterComplaint("张某", " ", "内容"), Caller(TOWN_CLERK))
    assert err.value.field == "complainantContact"
    assert await svc.event_types(c.id, "complaints") == ["complaint.registered.v1"]


async def test_R_CMP_02_hand_over_with_the_other_sides_consent(svc: Service) -> None:
    c = await register(svc, MARKET_CLERK)
    c = await svc.h.complaints.request_handover(
        RequestComplaintHandover(
            c.id, "fy-natres", "material", "反映的是非法占地问题，属自然资源局职责"
        ),
        Caller(MARKET_CLERK),
    )
    assert c.status is ComplaintStatus.HANDOVER_PENDING and c.owner_agency_id == "fy-market"
    with pytest.raises(Forbidden):
        await svc.h.complaints.answer_handover(
            AnswerComplaintHandover(c.id, True, ""), Caller(TOWN_CLERK)
        )
    c = await svc.h.complaints.answer_handover(
        AnswerComplaintHandover(c.id, True, "同意接收"), Caller(person("fy-natres", "clerk"))
    )
    assert c.owner_agency_id == "fy-natres" and c.previous_owners == ("fy-market",)
    assert c.notices[-1].kind == "handover" and "转交" in c.notices[-1].text
    types = await svc.event_types(c.id, "complaints")
    assert types[-2:] == ["complaint.handover_answered.v1", "complaint.complainant_notified.v1"]
    # Guide mode: the complainant is told where to go.
    g = await register(svc, MARKET_CLERK)
    await svc.h.complaints.request_handover(
        RequestComplaintHandover(g.id, "fy-natres", "guide", "非本局职责"), Caller(MARKET_CLERK)
    )
    g = await svc.h.complaints.answer_handover(
        AnswerComplaintHandover(g.id, True, ""), Caller(person("fy-natres", "clerk"))
    )
    assert g.status is ComplaintStatus.GUIDED and "请向抚远市自然资源局反映" in g.notices[-1].text


async def test_R_CMP_03_first_check_answer_or_own_case(svc: Service) -> None:
    a = await register(svc)
    a = await svc.h.complaints.answer(
        AnswerComplaint(a.id, "经现场核查，该店已办理营业执照，未发现违法行为。"),
        Caller(TOWN_CLERK),
    )
    assert a.status is ComplaintStatus.ANSWERED and a.notices[-1].kind == "answer"
    b = await register(svc)
    b = await svc.h.complaints.open_case(
        OpenCaseFromComplaint(b.id, "寒葱沟立〔2026〕12号"), Caller(TOWN_CLERK)
    )
    assert b.status is ComplaintStatus.CASE_OPENED
    b = await svc.h.complaints.tell_result(
        TellComplainantResult(b.id, "已责令改正并处警告。"), Caller(TOWN_CLERK)
    )
    assert b.status is ComplaintStatus.RESULT_TOLD and b.notices[-1].kind == "result"
    with pytest.raises(InvalidState):
        await svc.h.complaints.answer(AnswerComplaint(b.id, "再答复"), Caller(TOWN_CLERK))


async def test_R_CMP_04_R_REF_08_complaint_born_referral_tells_the_complainant(
    svc: Service,
) -> None:
    c = await register(svc, MARKET_CLERK)
    c2, r = await svc.h.complaints.refer(
        ReferComplaint(c.id, svc.draft_cmd()), Caller(MARKET_CLERK)
    )
    assert c2.status is ComplaintStatus.REFERRED and c2.referral_id == r.id
    assert r.complaint_id == c.id and "已移送寒葱沟镇人民政府" in c2.notices[-1].text
    await svc.upload(r.id, "transfer_letter", "移送函.pdf", LETTER_PDF)
    await svc.upload(r.id, "source", "举报材料.pdf", b"%PDF-1.4 complaint material")
    await svc.h.referrals.submit(SubmitReferral(r.id), Caller(MARKET_CLERK))
    await svc.h.referrals.approve(ApproveReferral(r.id), Caller(MARKET_LEADER))
    await svc.h.referrals.send(SendReferral(r.id), Caller(MARKET_CLERK))
    await svc.h.referrals.accept(AcceptReferral(r.id, "受理"), Caller(TOWN_CLERK))
    await svc.h.referrals.mark_handled(MarkHandled(r.id, "已查处"), Caller(TOWN_CLERK))
    await svc.h.referrals.report_result(
        ReportResult(r.id, "已责令停止经营并罚款2000元。"), Caller(TOWN_CLERK)
    )
    told = await svc.complaints.get(c.id)
    assert told is not None and told.status is ComplaintStatus.RESULT_TOLD
    kinds = [(n.kind, n.to_agency_id) for n in told.notices]
    assert ("result", None) in kinds  # the complainant
    assert ("result_to_agency", "fy-market") in kinds  # the agency that passed it on
    notified = [
        e["data"]
        for e in await svc.events(c.id, "complaints")
        if e["type"] == "complaint.complainant_notified.v1"
    ]
    assert notified[-2]["kind"] == "result" and notified[-2]["contact"] == "13800000000"
    assert notified[-1]["to_agency_id"] == "fy-market"


# --------------------------------------------------------------------------- queries


async def test_R_REF_01_queries_filter_sort_and_page_with_indexes(any_svc: Service) -> None:
    svc = any_svc
    ids = []
    for i in range(5):
        svc.clock.now = START + timedelta(minutes=i)
        r = await svc.h.referrals.draft(svc.draft_cmd(title=f"案件{i}"), Caller(MARKET_CLERK))
        ids.append(r.id)
    page1 = await svc.referrals.search(ReferralFilter(sender_id="fy-market"), limit=2)
    assert [r.id for r in page1] == ids[:2]
    last = page1[-1]
    page2 = await svc.referrals.search(
        ReferralFilter(sender_id="fy-market"), after=(last.created_at, last.id), limit=2
    )
    assert [r.id for r in page2] == ids[2:4]
    desc = await svc.referrals.search(ReferralFilter(), descending=True, limit=5)
    assert [r.id for r in desc] == ids[::-1]
    window = await svc.referrals.search(
        ReferralFilter(
            created_from=START + timedelta(minutes=1), created_to=START + timedelta(minutes=3)
        ),
        limit=10,
    )
    assert [r.id for r in window] == ids[1:3]
    assert await svc.referrals.search(ReferralFilter(matter_code="nope"), limit=10) == []
    assert (
        len(
            await svc.referrals.search(
                ReferralFilter(statuses=("draft",), receiver_id="fy-hancong"), limit=10
            )
        )
        == 5
    )
    assert await svc.referrals.search(ReferralFilter(party_agency_id="fy-natres"), limit=10) == []


async def test_redelivered_catalogue_snapshot_is_harmless(svc: Service) -> None:
    old = CatalogueEntryV1(code=MATTER, name="旧", original_department_id="fy-natres", version=0)
    assert await svc.catalogue.put(old) is False
    entry = await svc.catalogue.get(MATTER)
    assert entry is not None and entry.original_department_id == "fy-market"
    envelope = new_envelope(
        CatalogueEntryV1(code="X-1", name="新事项", original_department_id="fy-natres", version=1),
        district=DISTRICT,
        service="coordination",
    )
    await svc.h.reactions.when_catalogue_entry_changed_update_read_model(envelope)
    await svc.h.reactions.when_catalogue_entry_changed_update_read_model(envelope)
    got = await svc.catalogue.get("X-1")
    assert got is not None and got.original_department_id == "fy-natres"


async def test_R_REF_13_overdue_list_sorted_by_due_time_pages_by_cursor(any_svc: Service) -> None:
    """The overdue list in its natural order (most overdue first), served on MongoDB by the
    ``by_open_due`` index for filter, order and cursor."""
    svc = any_svc
    sent = []
    for i in (3, 0, 2, 1):  # created in another order than they fall due
        svc.clock.now = START + timedelta(days=i)
        sent.append(await svc.sent())
    later = START + timedelta(days=60)
    by_due = sorted(sent, key=lambda r: (r.open_due or later, r.id))
    assert all(r.open_due is not None and r.open_due < later for r in sent)
    assert [r.id for r in by_due] != [r.id for r in sent]
    page1 = await svc.referrals.search(
        ReferralFilter(overdue_at=later), sort_field="open_due", limit=3
    )
    assert [r.id for r in page1] == [r.id for r in by_due[:3]]
    last = page1[-1]
    page2 = await svc.referrals.search(
        ReferralFilter(overdue_at=later),
        sort_field="open_due",
        after=(last.open_due, last.id),
        limit=3,
    )
    assert [r.id for r in page2] == [by_due[3].id]
    newest_due_first = await svc.referrals.search(
        ReferralFilter(), sort_field="open_due", descending=True, limit=10
    )
    assert [r.id for r in newest_due_first] == [r.id for r in reversed(by_due)]
