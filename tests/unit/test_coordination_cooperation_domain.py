"""Domain rules of the cooperation duties: assistance (R-AST-01, R-AST-02), technical support
(R-TEC-01, R-TEC-02) and information queries (R-INF-01). Pure: no store, no bus."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from coordination.domain import assistance as ast
from coordination.domain import information as inf
from coordination.domain import technical as tec
from coordination.domain.cooperation import Actor, Clock
from kernel.errors import DomainError, Forbidden, InvalidState, ValidationFailed

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)
#: The legal office's mediation clock (R-AST-02; a policy default limit).
MEDIATION_CLOCK = Clock(ast.MEDIATION, "fy-coord", NOW + timedelta(days=14), "10个工作日", {})
MARKET = Actor("p-m", "fy-market", ("clerk",))
HOUSING = Actor("p-h", "fy-housing", ("leader",))
TOWNSHIP = Actor("p-t", "fy-hancong", ("clerk",))
COORD = Actor("p-c", "fy-coord", ("coordinator",))
SUPERVISOR = Actor("p-s", "fy-justice", ("supervisor",))


def clock(kind: str, agency: str, due: datetime = NOW + timedelta(days=3)) -> Clock:
    return Clock(kind, agency, due, "rule", {})


def assistance(urgent: bool = False, **kw: object) -> ast.AssistanceRequest:
    args: dict[str, object] = dict(
        request_id="a1",
        requester_id="fy-market",
        helper_id="fy-housing",
        matters=("核查违法建设现场",),
        urgent=urgent,
        letter_number="抚市监协〔2026〕1号",
        phone_call=None,
        reply_clock=clock(ast.REPLY, "fy-housing"),
        letter_clock=clock(ast.WRITTEN_LETTER, "fy-market"),
        actor=MARKET,
        at=NOW,
    )
    args.update(kw)
    return ast.request_assistance(**args)  # type: ignore[arg-type]


def reply(r: ast.AssistanceRequest, **kw: object) -> ast.AssistanceRequest:
    args: dict[str, object] = dict(
        will_help=True,
        reply_letter_number="抚住建复〔2026〕1号",
        agreed_start_on=None,
        today=TODAY,
        grounds="",
        legal_provision="",
        actor=HOUSING,
        at=NOW,
    )
    args.update(kw)
    return r.reply(**args)  # type: ignore[arg-type]


def refer(r: ast.AssistanceRequest, **kw: object) -> ast.AssistanceRequest:
    """The requester sends a refusal to the legal office for mediation (R-AST-02)."""
    args: dict[str, object] = dict(
        mediator_agency_id="fy-coord",
        disagreement="属于法定协助事项",
        mediation_clock=MEDIATION_CLOCK,
        actor=MARKET,
        at=NOW,
    )
    args.update(kw)
    return r.refer_to_mediation(**args)  # type: ignore[arg-type]


def test_R_AST_01_request_letter_names_matters_and_reply_letter_agrees_a_start_date() -> None:
    r = assistance()
    assert r.status is ast.AssistanceStatus.REQUESTED and r.letter_number
    assert [c.kind for c in r.clocks] == [ast.REPLY]  # no letter clock: the letter is sent
    with pytest.raises(ValidationFailed) as exc:
        reply(r)
    assert exc.value.field == "agreedStartOn"
    helped = reply(r, agreed_start_on=date(2026, 3, 9))
    assert helped.status is ast.AssistanceStatus.ACCEPTED
    assert helped.agreed_start_on == date(2026, 3, 9)
    assert helped.clocks[0].state == "met"
    with pytest.raises(ValidationFailed) as bad:
        assistance(matters=(" ",))
    assert bad.value.field == "matters"
    with pytest.raises(ValidationFailed) as no_letter:
        assistance(letter_number=None)
    assert no_letter.value.field == "letterNumber"


def test_R_AST_01_emergency_by_phone_first_then_the_written_letter() -> None:
    call = ast.PhoneCall("张三", "李四", NOW - timedelta(minutes=5))
    with pytest.raises(ValidationFailed) as exc:
        assistance(urgent=False, letter_number=None, phone_call=call)
    assert exc.value.field == "phoneCall"
    r = assistance(urgent=True, letter_number=None, phone_call=call)
    assert r.requested_at == call.at and r.letter_number is None
    assert {c.kind for c in r.clocks} == {ast.REPLY, ast.WRITTEN_LETTER}
    with pytest.raises(Forbidden):
        r.send_letter("x", actor=HOUSING, at=NOW)
    sent = r.send_letter("抚市监协〔2026〕2号", actor=MARKET, at=NOW + timedelta(hours=2))
    assert sent.letter_number == "抚市监协〔2026〕2号"
    assert next(c for c in sent.clocks if c.kind == ast.WRITTEN_LETTER).state == "met"


def test_R_AST_01_urgent_request_is_helped_at_once_not_from_a_later_date() -> None:
    r = assistance(urgent=True)
    with pytest.raises(ValidationFailed) as exc:
        reply(r, agreed_start_on=TODAY + timedelta(days=1))
    assert exc.value.field == "agreedStartOn"
    helped = reply(r)
    assert helped.agreed_start_on == TODAY


def test_R_AST_02_refusal_only_with_legal_grounds_in_writing_and_only_by_the_helper() -> None:
    r = assistance()
    with pytest.raises(ValidationFailed) as no_grounds:
        reply(r, will_help=False)
    assert no_grounds.value.field == "refusalGrounds"
    with pytest.raises(ValidationFailed) as no_law:
        reply(r, will_help=False, grounds="不属于本机关法定职责")
    assert no_law.value.field == "legalProvision"
    with pytest.raises(ValidationFailed) as not_written:
        reply(r, will_help=False, grounds="g", legal_provision="l", reply_letter_number=" ")
    assert not_written.value.field == "replyLetterNumber"
    with pytest.raises(Forbidden):
        reply(r, actor=TOWNSHIP)
    refused = reply(
        r, will_help=False, grounds="不属于本机关法定职责", legal_provision="《条例》第十条"
    )
    assert refused.status is ast.AssistanceStatus.REFUSED and refused.refusal is not None
    assert refused.refusal.legal_provision == "《条例》第十条"


def test_R_AST_02_disagreement_goes_to_the_legal_office_and_the_refusal_stays_on_record() -> None:
    refused = reply(assistance(), will_help=False, grounds="g", legal_provision="l")
    with pytest.raises(Forbidden):
        refused.refer_to_mediation(
            mediator_agency_id="fy-coord",
            disagreement="d",
            mediation_clock=MEDIATION_CLOCK,
            actor=HOUSING,
            at=NOW,
        )
    m = refer(refused)
    assert m.status is ast.AssistanceStatus.IN_MEDIATION
    # Issue 14: the legal office owns the request in mediation, on its clock.
    assert [c for c in m.clocks if c.state == "open"] == [MEDIATION_CLOCK]
    with pytest.raises(Forbidden):
        m.record_mediation(
            outcome=ast.MediationOutcome.ASSIST, basis="b", today=TODAY, actor=MARKET, at=NOW
        )
    decided = m.record_mediation(
        outcome=ast.MediationOutcome.ASSIST,
        basis="调处意见〔2026〕1号",
        today=TODAY,
        actor=COORD,
        at=NOW,
    )
    assert decided.status is ast.AssistanceStatus.ACCEPTED
    assert [c.state for c in decided.clocks if c.kind == ast.MEDIATION] == ["met"]
    assert decided.refusal is not None  # accountability: the refusal is never erased
    one = decided.report_result("已派员协助现场核查", actor=HOUSING, at=NOW)
    assert one.status is ast.AssistanceStatus.ACCEPTED
    with pytest.raises(InvalidState):
        one.report_result("again", actor=HOUSING, at=NOW)
    both = one.report_result("已作出处罚决定", actor=MARKET, at=NOW)
    assert both.status is ast.AssistanceStatus.CLOSED
    assert [r.side for r in both.results] == ["helper", "requester"]


def support(urgent: bool = False) -> tec.TechnicalSupportRequest:
    return tec.request_technical_support(
        request_id="t1",
        township_id="fy-hancong",
        department_id="fy-housing",
        kind=tec.SupportKind.IDENTIFICATION,
        question="该建筑是否属于违法建设",
        document_number="寒协〔2026〕1号",
        urgent=urgent,
        evidence_at_risk=False,
        reply_working_days=3,
        reply_clock=clock(tec.REPLY, "fy-housing"),
        on_site_clock=clock(tec.ON_SITE, "fy-housing", NOW),
        actor=TOWNSHIP,
        at=NOW,
    )


def extend(r: tec.TechnicalSupportRequest, **kw: object) -> tec.TechnicalSupportRequest:
    args: dict[str, object] = dict(
        reason="需委托检测机构鉴定",
        new_clock=clock(tec.REPLY, "fy-housing", NOW + timedelta(days=10)),
        total_working_days=8,
        max_working_days=10,
        extendable=True,
        actor=HOUSING,
        at=NOW + timedelta(days=1),
    )
    args.update(kw)
    return r.extend(**args)  # type: ignore[arg-type]


def test_R_TEC_01_urgent_request_dispatches_staff_on_site_and_records_who_and_when() -> None:
    assert [c.kind for c in support().clocks] == [tec.REPLY]
    r = support(urgent=True)
    assert {c.kind for c in r.clocks} == {tec.REPLY, tec.ON_SITE}
    with pytest.raises(ValidationFailed):
        r.dispatch_on_site((), actor=HOUSING, at=NOW)
    sent = r.dispatch_on_site(("王工", "赵工"), actor=HOUSING, at=NOW)
    assert sent.dispatches[0].staff == ("王工", "赵工") and sent.dispatches[0].dispatched_at == NOW
    assert next(c for c in sent.clocks if c.kind == tec.ON_SITE).state == "met"


def test_R_TEC_01_extension_announced_before_the_limit_and_within_the_maximum() -> None:
    r = support()
    late = NOW + timedelta(days=4)
    with pytest.raises(InvalidState) as after_limit:
        extend(r, at=late)
    assert after_limit.value.field == "workingDays"
    with pytest.raises(ValidationFailed) as too_long:
        extend(r, total_working_days=11)
    assert too_long.value.field == "workingDays"
    with pytest.raises(InvalidState):
        extend(r, extendable=False)
    with pytest.raises(Forbidden):
        extend(r, actor=TOWNSHIP)
    moved = extend(r)
    assert moved.reply_working_days == 8 and moved.reply_clock.due == NOW + timedelta(days=10)
    assert moved.extensions[0].previous_due == NOW + timedelta(days=3)


def test_R_TEC_02_answer_states_a_conclusion_not_only_the_current_state() -> None:
    r = support()
    with pytest.raises(ValidationFailed) as exc:
        r.answer_in_writing(
            conclusion=" ",
            current_state_description="现场有一处两层砖混建筑",
            document_number="抚住建函〔2026〕3号",
            actor=HOUSING,
            at=NOW,
        )
    assert exc.value.field == "answer.conclusion" and "not a conclusion" in exc.value.message
    done = r.answer_in_writing(
        conclusion="属于未取得建设工程规划许可证的违法建设",
        current_state_description="现场有一处两层砖混建筑",
        document_number="抚住建函〔2026〕3号",
        actor=HOUSING,
        at=NOW,
    )
    assert done.status is tec.SupportStatus.ANSWERED and done.answer is not None
    assert not done.answer.late and done.reply_clock.state == "met"


def query(urgent: bool = False) -> inf.InformationQuery:
    return inf.ask(
        query_id="q1",
        requester_id="fy-hancong",
        holder_id="fy-market",
        subject="某商户营业执照登记信息",
        purpose="核实无照经营",
        urgent=urgent,
        answer_clock=clock(inf.ANSWER, "fy-market"),
        actor=TOWNSHIP,
        at=NOW,
    )


def test_R_INF_01_answer_is_free_and_keeps_its_classification() -> None:
    q = query()
    with pytest.raises(ValidationFailed) as fee:
        q.answer_query(
            content="c",
            classification=inf.Classification.PUBLIC,
            fee_yuan=Decimal("20"),
            actor=MARKET,
            at=NOW,
        )
    assert fee.value.field == "feeYuan"
    with pytest.raises(Forbidden):
        q.answer_query(
            content="c",
            classification=inf.Classification.PUBLIC,
            fee_yuan=None,
            actor=TOWNSHIP,
            at=NOW,
        )
    done = q.answer_query(
        content="登记信息……",
        classification=inf.Classification.CONFIDENTIAL,
        fee_yuan=Decimal("0"),
        actor=MARKET,
        at=NOW,
    )
    assert done.answer is not None and done.answer.classification is inf.Classification.CONFIDENTIAL
    assert done.clocks[0].state == "met"


def test_R_INF_01_secrecy_refusal_only_with_a_cited_legal_provision() -> None:
    q = query()
    with pytest.raises(ValidationFailed) as exc:
        q.decline_query(
            grounds=inf.DeclineGrounds.SECRECY,
            reason="涉密",
            legal_provision="",
            actor=MARKET,
            at=NOW,
        )
    assert exc.value.field == "legalProvision"
    declined = q.decline_query(
        grounds=inf.DeclineGrounds.SECRECY,
        reason="涉及国家秘密",
        legal_provision="《保守国家秘密法》第二十八条",
        actor=MARKET,
        at=NOW,
    )
    assert declined.status is inf.QueryStatus.DECLINED


def test_R_INF_01_only_parties_read_a_confidential_answer_and_owner_or_supervisor_see_log() -> None:
    q = query()
    with pytest.raises(InvalidState):
        q.check_read(TOWNSHIP)
    secret = q.answer_query(
        content="x",
        classification=inf.Classification.CONFIDENTIAL,
        fee_yuan=None,
        actor=MARKET,
        at=NOW,
    )
    assert secret.check_read(TOWNSHIP).content == "x"
    with pytest.raises(Forbidden):
        secret.check_read(HOUSING)
    internal = q.answer_query(
        content="x",
        classification=inf.Classification.INTERNAL,
        fee_yuan=None,
        actor=MARKET,
        at=NOW,
    )
    assert internal.may_read_answer(HOUSING)
    assert secret.may_read_access_log(MARKET) and secret.may_read_access_log(SUPERVISOR)
    assert not secret.may_read_access_log(TOWNSHIP)


def test_domain_errors_carry_stable_codes() -> None:
    with pytest.raises(DomainError) as exc:
        assistance(helper_id="fy-market")
    # The deprecated string keeps its value; the precise code says why (issue 18).
    assert exc.value.stable_code == "VALIDATION_FAILED" and exc.value.field == "helperId"
    assert exc.value.code == "SELF_ADDRESSED" and exc.value.family == "VALIDATION_FAILED"
