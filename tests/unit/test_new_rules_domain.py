"""The new rules of issue 14 in their pure parts: the aggregates' boundaries (just inside /
just outside each limit), the matrix's roles (each allowed and refused), and the Chinese
notices the notification matrix builds for each addressee with its clock.

R-REF-15 on-site dispatch, R-NTF-05 correction opinions, R-NTF-06 written participation
notices, R-SUP-04 joint ruling and clue transfer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from coordination.domain import correction as cor
from coordination.domain import joint_ruling as jr
from coordination.domain import onsite as ons
from coordination.domain import participation as par
from coordination.domain.cooperation import Actor, Clock
from coordination.policy import policy_of
from kernel.auth import Principal
from kernel.authz import Relation
from kernel.errors import Forbidden, InvalidState, ValidationFailed
from kernel.policy import PolicyError
from liandong.authorization import permits
from liandong.policy import load_policy, parse_policy
from notify.domain.notices import build_items, rows_for
from tests.fixtures.policy import shipped_text

AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
TOWN = Actor("p-t", "fy-hancong", ("clerk",))
MARKET = Actor("p-m", "fy-market", ("clerk",))
COORD = Actor("p-c", "fy-coord", ("coordinator",))


def clock(kind: str, agency: str, due: datetime) -> Clock:
    return Clock(kind, agency, due, "rule", {})


def _on_site() -> ons.OnSiteRequest:
    return ons.notify_on_site(
        request_id="os-1",
        notifier_id="fy-hancong",
        receiver_id="fy-market",
        situation=ons.OnSiteSituation.HAZARD,
        description="液化气罐违规存放",
        place="农贸市场",
        referral_id=None,
        dispatch_clock=clock(ons.DISPATCH, "fy-market", AT + timedelta(hours=2)),
        actor=TOWN,
        at=AT,
    )


# ------------------------------------------------------------------ R-REF-15


def test_R_REF_15_dispatch_at_the_limit_is_in_time_a_second_later_is_late() -> None:
    r = _on_site()
    due = r.dispatch_clock.due
    assert not r.dispatch_staff(("张伟",), actor=MARKET, at=due).late
    assert r.dispatch_staff(("张伟",), actor=MARKET, at=due + SECOND).late
    with pytest.raises(Forbidden):
        r.dispatch_staff(("张伟",), actor=TOWN, at=due)


def test_R_REF_15_report_only_after_the_limit_lapsed_with_neither_action_nor_reason() -> None:
    r = _on_site()
    due = r.dispatch_clock.due

    def report(req: ons.OnSiteRequest, at: datetime, allowed: bool = True) -> ons.OnSiteRequest:
        return req.report_to_government(
            government_id="fy-gov", text="逾期未处理", allowed_by_policy=allowed, actor=TOWN, at=at
        )

    with pytest.raises(InvalidState):
        report(r, due)  # just inside: the limit has not lapsed
    assert report(r, due + SECOND).report is not None  # just outside
    with pytest.raises(InvalidState) as err:
        report(r, due + SECOND, allowed=False)  # not in this district's policy
    assert err.value.field == "onSite.reportUnhandledToGovernment"
    explained_in_time = r.explain("属应急管理部门职责", actor=MARKET, at=due)
    with pytest.raises(InvalidState):
        report(explained_in_time, due + timedelta(hours=1))
    # A reason given a second late does not undo the failure to answer in time.
    explained_late = r.explain("属应急管理部门职责", actor=MARKET, at=due + SECOND)
    assert explained_late.late
    assert report(explained_late, due + 2 * SECOND).report is not None
    with pytest.raises(Forbidden):
        r.report_to_government(
            government_id="fy-gov", text="x", allowed_by_policy=True, actor=MARKET, at=due + SECOND
        )


def test_R_REF_15_arrival_follows_dispatch_and_handling_follows_arrival() -> None:
    r = _on_site()
    with pytest.raises(InvalidState):
        r.record_arrival(actor=MARKET, at=AT)
    sent = r.dispatch_staff(("张伟",), actor=MARKET, at=AT)
    with pytest.raises(InvalidState):
        sent.record_handling("已处置", actor=MARKET, at=AT)
    done = sent.record_arrival(actor=MARKET, at=AT).record_handling("已处置", actor=MARKET, at=AT)
    assert done.status is ons.OnSiteStatus.HANDLED
    assert [t.action for t in done.history] == ["notify", "dispatch", "arrive", "handle"]


def test_R_REF_15_hualong_alone_reports_to_the_government() -> None:
    flags = {
        d: policy_of(load_policy(d)).on_site.report_unhandled_to_government
        for d in ("fuyuan", "shangri-la", "hualong", "chongqing", "huancui")
    }
    assert flags == {
        "fuyuan": False,
        "shangri-la": False,
        "hualong": True,
        "chongqing": False,
        "huancui": False,
    }


# ------------------------------------------------------------------ R-NTF-05


def _opinion() -> cor.CorrectionOpinion:
    return cor.issue_correction_opinion(
        opinion_id="co-1",
        department_id="fy-market",
        township_id="fy-hancong",
        justice_bureau_id="fy-justice",
        finding=cor.Finding.ERROR,
        case_reference="寒罚〔2026〕3号",
        problems="适用法律错误",
        opinion="重新作出",
        document_number="抚市监纠〔2026〕1号",
        response_working_days=5,
        response_clock=clock(cor.RESPONSE, "fy-hancong", AT + timedelta(days=7)),
        actor=MARKET,
        at=AT,
    )


def test_R_NTF_05_a_reply_at_the_limit_is_in_time_a_second_later_late() -> None:
    o = _opinion()
    due = o.response_clock.due
    on_time = o.respond(corrected="已纠正", document_number="寒复1号", actor=TOWN, at=due)
    late = o.respond(corrected="已纠正", document_number="寒复1号", actor=TOWN, at=due + SECOND)
    assert on_time.response is not None and not on_time.response.late
    assert late.response is not None and late.response.late
    with pytest.raises(Forbidden):
        o.respond(corrected="已纠正", document_number="x", actor=MARKET, at=due)
    with pytest.raises(InvalidState):
        on_time.respond(corrected="再次", document_number="x", actor=TOWN, at=due)
    with pytest.raises(ValidationFailed) as err:
        o.respond(corrected="已纠正", document_number=" ", actor=TOWN, at=due)
    assert err.value.field == "documentNumber"


# ------------------------------------------------------------------ R-NTF-06


def _phoned(**kw: Any) -> par.ParticipationNotice:
    base: dict[str, Any] = dict(
        notice_id="pn-1",
        department_id="fy-market",
        township_id="fy-hancong",
        purpose=par.ParticipationPurpose.CONFIRMATION,
        subject="行政确认现场核查",
        place="寒葱沟镇",
        starts_at=AT + timedelta(hours=4),
        document_number=None,
        phone_call=par.PhoneNotice("李春梅", "郑晓东", AT),
        attend_clock=clock(par.ATTEND, "fy-hancong", AT + timedelta(hours=4)),
        written_clock=clock(par.WRITTEN_NOTICE, "fy-market", AT + timedelta(days=2)),
        actor=MARKET,
        at=AT,
    )
    return par.notify_participation(**{**base, **kw})


def test_R_NTF_06_the_writing_after_a_phone_call_is_late_a_second_past_its_clock() -> None:
    n = _phoned()
    due = next(c for c in n.clocks if c.kind == par.WRITTEN_NOTICE).due
    assert not n.send_written("抚市监通1号", actor=MARKET, at=due).written_late
    assert n.send_written("抚市监通1号", actor=MARKET, at=due + SECOND).written_late
    with pytest.raises(Forbidden):
        n.send_written("抚市监通1号", actor=TOWN, at=due)


def test_R_NTF_06_writing_is_required_unless_a_phone_call_came_first() -> None:
    with pytest.raises(ValidationFailed) as err:
        _phoned(phone_call=None, written_clock=None)
    assert err.value.field == "documentNumber"
    with pytest.raises(ValidationFailed) as err:
        _phoned(document_number="抚市监通1号")
    assert err.value.field == "phoneCall"
    with pytest.raises(ValidationFailed) as err:
        _phoned(phone_call=par.PhoneNotice("李春梅", "郑晓东", AT + SECOND))
    assert err.value.field == "phoneCall.at"
    written = _phoned(phone_call=None, written_clock=None, document_number="抚市监通1号")
    assert [c.kind for c in written.clocks] == [par.ATTEND]
    assert written.status is par.ParticipationStatus.NOTIFIED


# ------------------------------------------------------------------ R-SUP-04


def _ruling() -> jr.JointRuling:
    return jr.start_joint_ruling(
        ruling_id="jr-1",
        platform_id="fy-coord",
        responsible_agency_id="fy-market",
        source=jr.FailureSource.DISPUTE_RULING,
        source_id="dsp-1",
        task_id=None,
        failure="拒不落实裁定",
        participant_ids=("fy-justice", "fy-market", "fy-coord", "fy-justice"),
        decide_clock=clock(jr.DECIDE, "fy-coord", AT + timedelta(days=14)),
        actor=COORD,
        at=AT,
    )


def test_R_SUP_04_the_platform_rules_and_passes_clues_once_to_each_recipient() -> None:
    r = _ruling()
    assert r.participant_ids == ("fy-justice",)  # neither the platform nor the unit itself
    with pytest.raises(Forbidden):
        r.transfer_clues("fy-discipline", "线索", actor=MARKET, at=AT)
    once = r.transfer_clues("fy-discipline", "线索", actor=COORD, at=AT)
    with pytest.raises(InvalidState):
        once.transfer_clues("fy-discipline", "线索", actor=COORD, at=AT)
    ruled = once.rule(decision="由市场监管局办理", basis="裁〔2026〕1号", actor=COORD, at=AT)
    assert ruled.clocks[0].state == "met"
    with pytest.raises(InvalidState):
        ruled.rule(decision="再裁", basis="x", actor=COORD, at=AT)
    with pytest.raises(ValidationFailed):
        jr.start_joint_ruling(
            ruling_id="jr-2",
            platform_id="fy-coord",
            responsible_agency_id="fy-coord",
            source=jr.FailureSource.JOINT_TASK,
            source_id="jo-1",
            task_id="t-1",
            failure="x",
            participant_ids=(),
            decide_clock=clock(jr.DECIDE, "fy-coord", AT),
            actor=COORD,
            at=AT,
        )


# ------------------------------------------------------------------ roles (the matrix)


def _who(*roles: str) -> Principal:
    return Principal("p", "某人", "fy-x", "fuyuan", roles)


S, R, P, SUP = Relation.SENDER, Relation.RECEIVER, Relation.PARTY, Relation.SUPERVISOR


@pytest.mark.parametrize(
    ("operation", "roles", "relation", "allowed"),
    [
        # R-REF-15
        ("notifyOnSite", ("clerk",), S, True),
        ("notifyOnSite", ("clerk",), R, False),
        ("notifyOnSite", ("judicial_observer",), SUP, False),
        ("dispatchOnSiteStaff", ("clerk",), R, True),
        ("dispatchOnSiteStaff", ("clerk",), S, False),
        ("explainOnSite", ("leader",), R, True),
        ("explainOnSite", ("clerk",), R, False),
        ("reportOnSiteToGovernment", ("clerk",), S, True),
        ("reportOnSiteToGovernment", ("leader",), R, False),
        ("reportOnSiteToGovernment", ("government",), SUP, False),
        # R-NTF-05
        ("issueCorrectionOpinion", ("leader",), S, True),
        ("issueCorrectionOpinion", ("legal_reviewer",), S, True),
        ("issueCorrectionOpinion", ("clerk",), S, False),
        ("issueCorrectionOpinion", ("supervisor",), SUP, False),
        ("respondToCorrectionOpinion", ("clerk",), R, True),
        ("respondToCorrectionOpinion", ("clerk",), P, False),
        ("correctionOpinion", ("clerk",), P, True),  # the justice bureau copied reads it
        # R-NTF-06
        ("notifyParticipation", ("clerk",), S, True),
        ("notifyParticipation", ("clerk",), R, False),
        ("sendParticipationWrittenNotice", ("liaison",), S, True),
        ("sendParticipationWrittenNotice", ("clerk",), R, False),
        ("confirmParticipation", ("clerk",), R, True),
        ("confirmParticipation", ("clerk",), S, False),
        # R-SUP-04
        ("startJointRuling", ("coordinator",), S, True),
        ("startJointRuling", ("leader",), S, True),
        ("startJointRuling", ("clerk",), S, False),
        ("startJointRuling", ("government",), SUP, False),
        ("startJointRuling", ("coordinator",), SUP, False),
        ("transferClues", ("coordinator",), S, True),
        ("transferClues", ("supervisor",), SUP, False),
        ("ruleJointRuling", ("leader",), R, False),
        ("jointRuling", ("clerk",), P, True),  # a clue recipient reads it
    ],
)
def test_R_REF_15_R_NTF_05_R_NTF_06_R_SUP_04_roles_allowed_and_refused(
    operation: str, roles: tuple[str, ...], relation: Relation, allowed: bool
) -> None:
    assert permits(_who(*roles), f"coordination.{operation}", {relation}) is allowed


# ------------------------------------------------------------------ the notices (R-NTF-04)

NAMES = {
    "fy-hancong": "寒葱沟镇人民政府",
    "fy-market": "抚远市市场监督管理局",
    "fy-coord": "抚远市依法治市委员会执法协调小组",
}


def _items(event_type: str, data: dict[str, Any]) -> dict[tuple[str, str], Any]:
    out = {}
    for row in rows_for(event_type):
        for item in build_items(row, event_id="e-1", at=AT, data=data, names=NAMES):
            out[(row.kind, item.agency_id)] = item
    return out


def _deadline(kind: str, agency: str, due: datetime) -> dict[str, Any]:
    return {"kind": kind, "responsible_agency_id": agency, "due": due.isoformat(), "state": "open"}


def test_R_REF_15_the_receiver_is_told_urgently_with_its_clock() -> None:
    due = AT + timedelta(hours=2)
    items = _items(
        "on_site.requested.v1",
        {
            "request_id": "os-1",
            "notifier_id": "fy-hancong",
            "receiver_id": "fy-market",
            "actor_agency_id": "fy-hancong",
            "place": "农贸市场",
            "description": "液化气罐违规存放",
            "urgent": True,
            "deadlines": [_deadline("on_site.dispatch", "fy-market", due)],
        },
    )
    item = items[("on_site.requested", "fy-market")]
    assert item.title == "【紧急】立即派员现场处置通知：农贸市场"
    assert item.body == (
        "寒葱沟镇人民政府通知：液化气罐违规存放。请立即派行政执法人员到达现场处置。"
        "请于2026年03月02日 11:00前办理。"
    )
    assert item.due_at == due and item.urgent and item.receipt_required


def test_R_NTF_05_the_township_and_the_justice_bureau_each_get_theirs() -> None:
    due = AT + timedelta(days=7)
    items = _items(
        "correction.issued.v1",
        {
            "opinion_id": "co-1",
            "department_id": "fy-market",
            "township_id": "fy-hancong",
            "justice_bureau_id": "fy-justice",
            "actor_agency_id": "fy-market",
            "case_reference": "寒罚〔2026〕3号",
            "problems": "罚款超出法定幅度",
            "opinion": "撤销原处罚决定",
            "document_number": "抚市监纠〔2026〕1号",
            "deadlines": [_deadline("correction.response", "fy-hancong", due)],
        },
    )
    town = items[("correction.opinion", "fy-hancong")]
    assert (
        town.due_at == due and town.receipt_required and town.title == "纠正意见：寒罚〔2026〕3号"
    )
    copy = items[("correction.copy", "fy-justice")]
    assert copy.due_at is None and copy.receipt_required
    assert (
        copy.body == "抚远市市场监督管理局向寒葱沟镇人民政府提出纠正意见（抚市监纠〔2026〕1号）："
        "撤销原处罚决定"
    )


def test_R_SUP_04_the_unit_participants_and_clue_recipients_are_told() -> None:
    base = {
        "ruling_id": "jr-1",
        "platform_id": "fy-coord",
        "responsible_agency_id": "fy-market",
        "participant_ids": ["fy-justice"],
        "actor_agency_id": "fy-coord",
        "failure": "拒不落实裁定",
    }
    started = _items("joint_ruling.started.v1", base)
    assert set(started) == {
        ("joint_ruling.started", "fy-market"),
        ("joint_ruling.started", "fy-justice"),
    }
    clues = _items(
        "joint_ruling.clues_transferred.v1",
        {**base, "recipient_id": "fy-discipline", "clues": "案件积压30日"},
    )
    item = clues[("joint_ruling.clues", "fy-discipline")]
    assert item.title == "问题线索移交：抚远市市场监督管理局" and item.receipt_required


# ------------------------------------------------------------------ the policy sections

DISTRICTS = ("chongqing", "fuyuan", "hualong", "huancui", "shangri-la")


def test_R_NTF_05_R_NTF_06_R_SUP_04_every_district_states_its_limits_labelled_as_defaults() -> None:
    for district in DISTRICTS:
        text = shipped_text(district)
        for section in ("on_site", "correction", "participation", "joint_ruling"):
            assert f"\n{section}:" in text, (district, section)
        assert "response_limit_working_days: 5    # default" in text, district
        sections = policy_of(load_policy(district))
        assert sections.correction.response_limit_working_days == 5
        assert sections.participation.written_after_phone_working_days == 2
        assert sections.joint_ruling.decide_limit_working_days == 10


def test_R_NTF_05_a_bad_limit_names_the_file_and_the_field_and_a_missing_section_defaults() -> None:
    text = shipped_text("fuyuan")
    old = "  response_limit_working_days: 5 "
    assert old in text
    with pytest.raises(PolicyError) as err:
        policy_of(parse_policy(text.replace(old, "  response_limit_working_days: 0 "), "own.yaml"))
    assert "own.yaml: correction.response_limit_working_days" in str(err.value)
    head, rest = text.split("correction:", 1)
    without = head + "participation:" + rest.split("participation:", 1)[1]
    assert policy_of(parse_policy(without, "own.yaml")).correction.response_limit_working_days == 5
