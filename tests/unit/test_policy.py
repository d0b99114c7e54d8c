"""Unit tests for the district policy loader (kernel.policy; the whole file through
liandong.policy, every service's sections with it) and the shipped policies.

The numbers asserted here are those of DOMAIN.md §0 and the seeds; a test failing here means
a shipped YAML file drifted from its source.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

import kernel.policy as policy_module
from kernel.calendar import DayCategory
from kernel.policy import DistrictPolicy, PolicyError, available_districts
from liandong.policy import load_policy, load_policy_file, parse_policy
from referral.policy import SendPolicy
from tests.fixtures.policy import edited, shipped_text

SH = ZoneInfo("Asia/Shanghai")
DISTRICTS = ["chongqing", "fuyuan", "hualong", "huancui", "shangri-la"]


def fuyuan_text() -> str:
    return shipped_text("fuyuan")


def error_of(text: str, name: str = "fuyuan.yaml") -> PolicyError:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, name)
    return info.value


# --------------------------------------------------------------------------- shipped files


def test_available_districts_are_the_five_seeds() -> None:
    assert available_districts() == DISTRICTS


@pytest.mark.parametrize("district", DISTRICTS)
def test_every_shipped_district_loads(district: str) -> None:
    policy = load_policy(district)
    assert isinstance(policy, DistrictPolicy)
    assert policy.district == district
    assert policy.version
    assert policy.name_zh
    assert policy.dispute.ladder
    # Files are package data inside kernel/, and load through the file API too.
    path = resources.files("kernel").joinpath("policies", f"{district}.yaml")
    assert path.is_file()
    with resources.as_file(path) as real:
        assert load_policy_file(real) == policy


def test_policies_are_immutable() -> None:
    policy = load_policy("fuyuan")
    with pytest.raises(ValidationError):
        policy.send.limit_working_days = 7  # type: ignore[misc]


def test_sources_and_effective_dates() -> None:
    assert load_policy("fuyuan").source.document_number == "抚法办发〔2020〕8号"
    assert load_policy("hualong").source.document_number == "华龙法政办〔2021〕13号"
    assert load_policy("chongqing").effective_from == date(2007, 1, 1)
    assert load_policy("huancui").source.document_number == "威环政发〔2024〕2号"
    assert load_policy("shangri-la").source.code == "SL"


# --------------------------------------------------------------------------- DOMAIN §0 numbers


def test_R_REF_04_send_limit_per_district() -> None:
    fy = load_policy("fuyuan").send
    assert (fy.limit_working_days, fy.extension_max_working_days) == (5, 10)
    assert fy.extendable and fy.extension_requires_prior_notice
    assert fy.urgent.hours == 24 and not fy.urgent.immediately
    hl = load_policy("hualong").send
    assert (hl.limit_working_days, hl.extension_max_working_days, hl.urgent.hours) == (3, 3, 24)
    assert not hl.extendable
    cq = load_policy("chongqing").send
    assert cq.limit_working_days == 2
    assert cq.urgent.immediately and cq.urgent.hours is None
    for district in ("shangri-la", "huancui"):
        default = load_policy(district).send
        assert (default.limit_working_days, default.urgent.hours) == (5, 24)


def test_R_REF_04_send_deadline_from_policy_and_calendar() -> None:
    """FY: found Fri 13 Feb 2026, 5 wd → Fri 27 Feb; extended to 10 wd → Thu 5 Mar
    (the working Saturday 28 Feb is day 6)."""
    fy = load_policy("fuyuan")
    cal = fy.working_calendar()
    found = datetime(2026, 2, 13, 10, tzinfo=SH)
    assert cal.add_working_days(found, fy.send.limit_working_days).due.date() == date(2026, 2, 27)
    extended = cal.add_working_days(found, fy.send.extension_max_working_days)
    assert extended.due.date() == date(2026, 3, 5)
    assert "district fuyuan overrides (policy 1.0)" in extended.explanation.source


def test_R_REF_06_chongqing_must_accept() -> None:
    assert load_policy("chongqing").acceptance.may_refuse is False
    for district in ("fuyuan", "hualong", "huancui", "shangri-la"):
        assert load_policy(district).acceptance.may_refuse is True
    assert load_policy("fuyuan").acceptance.limit_working_days == 5
    assert load_policy("chongqing").acceptance_limit_working_days() == 5


def test_R_TEC_01_technical_support_reply_limit() -> None:
    for district in DISTRICTS:
        tech = load_policy(district).technical_support
        assert tech.reply_limit_working_days == 3
        assert tech.extendable
    assert load_policy("shangri-la").technical_support.extension_requires_prior_notice


def test_R_INF_01_information_query_limit() -> None:
    cq = load_policy("chongqing").information_query
    assert cq.answer_limit_working_days == 5 and cq.urgent_immediately


def test_R_AST_01_assistance_limits_in_every_district() -> None:
    """No seed gives a number (CQ 三(三): 及时回复); every shipped file states the defaults."""
    for district in DISTRICTS:
        text = resources.files("kernel").joinpath("policies", f"{district}.yaml")
        assert "\nassistance:\n" in text.read_text("utf-8"), district
        a = load_policy(district).assistance
        assert (a.reply_limit_working_days, a.letter_after_phone_working_days) == (5, 2)


def test_R_AST_01_assistance_section_may_be_left_out_and_then_takes_the_defaults() -> None:
    text = fuyuan_text()
    head, rest = text.split("assistance:\n", 1)
    without = head + "meetings:\n" + rest.split("meetings:\n", 1)[1]
    a = parse_policy(without, "own.yaml").assistance
    assert (a.reply_limit_working_days, a.letter_after_phone_working_days) == (5, 2)
    changed = parse_policy(
        edited("  reply_limit_working_days: 5 ", "  reply_limit_working_days: 3 "), "own.yaml"
    )
    assert changed.assistance.reply_limit_working_days == 3


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "  reply_limit_working_days: 5 ",
            "  reply_limit_working_days: 0 ",
            "fuyuan.yaml: assistance.reply_limit_working_days: input should be greater than or "
            "equal to 1, got 0 (int)",
        ),
        (
            "  letter_after_phone_working_days: 2 ",
            "  letter_after_phone_working_days: two ",
            "fuyuan.yaml: assistance.letter_after_phone_working_days: input should be a valid "
            "integer, got 'two'",
        ),
        (
            "  letter_after_phone_working_days: 2 ",
            "  letter_after_phone_workingdays: 2 ",
            "fuyuan.yaml: assistance.letter_after_phone_workingdays: unknown field (did you mean "
            "'letter_after_phone_working_days'?)",
        ),
    ],
)
def test_R_AST_01_bad_assistance_value_names_file_and_field(
    old: str, new: str, message: str
) -> None:
    assert message in str(error_of(edited(old, new)))


def test_R_MTG_01_meeting_lead_times_and_routine_meetings() -> None:
    for district in DISTRICTS:
        meetings = load_policy(district).meetings
        assert (meetings.notice_lead_working_days, meetings.rsvp_lead_working_days) == (5, 2)
    assert [m.recurrence for m in load_policy("fuyuan").meetings.routine] == ["half_yearly"]
    assert [m.recurrence for m in load_policy("huancui").meetings.routine] == [
        "weekly",
        "monthly",
        "quarterly",
    ]
    assert [m.recurrence for m in load_policy("hualong").meetings.routine] == ["unspecified"]


def test_R_JNT_04_task_report_limit() -> None:
    assert load_policy("chongqing").joint_enforcement.task_report_limit_working_days == 5


def test_R_JNT_05_inspect_once_window_is_set_everywhere() -> None:
    for district in DISTRICTS:
        assert load_policy(district).joint_enforcement.inspect_once_window_days > 0


def test_R_NTF_04_receipt_limit_is_set_everywhere() -> None:
    for district in DISTRICTS:
        notices = load_policy(district).notices
        assert notices.receipt_limit_working_days >= 1
        assert notices.urgent_receipt_limit_hours >= 1


def test_R_CAT_02_transition_period() -> None:
    assert load_policy("huancui").delegation.transition_period_months == 3
    for district in ("fuyuan", "hualong", "chongqing", "shangri-la"):
        assert load_policy(district).delegation.transition_period_months == 0


def test_R_CAT_03_major_penalty_threshold() -> None:
    hc = load_policy("huancui").major_penalty
    assert hc.applies
    assert hc.fine_threshold_yuan == 50_000
    assert set(hc.penalty_kinds) == {
        "lower_qualification",
        "revoke_licence",
        "order_suspend_production_or_business",
        "order_close",
        "restrict_practice",
    }
    # 5万元以上 includes 50,000 itself.
    assert hc.is_major(fine_yuan=50_000)
    assert not hc.is_major(fine_yuan=49_999)
    assert hc.is_major(kinds=["revoke_licence"], fine_yuan=200)
    assert not hc.is_major(kinds=["warning"])
    fy = load_policy("fuyuan").major_penalty
    assert not fy.applies
    assert not fy.is_major(kinds=["revoke_licence"], fine_yuan=1_000_000)


def test_R_DSP_01_interim_handler_first() -> None:
    assert load_policy("fuyuan").dispute.interim_handler_required


def test_R_DSP_02_ladder_steps() -> None:
    def bodies(district: str) -> list[str]:
        return [s.decided_by_zh for s in load_policy(district).dispute.ladder]

    fy = load_policy("fuyuan").dispute.ladder
    assert [s.step for s in fy] == [1, 2, 3, 4]
    assert [s.name for s in fy] == [
        "negotiation",
        "coordination_body",
        "establishment_and_justice_opinion",
        "government_decision",
    ]
    assert bodies("fuyuan")[1:] == [
        "依法治市委员会执法协调小组",
        "市委编办和市司法局",
        "市依法治市委员会",
    ]
    assert bodies("hualong")[-1] == "华龙区人民政府" and len(bodies("hualong")) == 2
    assert bodies("chongqing")[1:] == ["市政府法制机构", "重庆市人民政府"]
    assert bodies("huancui")[1:] == ["区级综合执法平台", "威海市环翠区人民政府"]
    for district in DISTRICTS:
        ladder = load_policy(district).dispute.ladder
        assert ladder[0].name == "negotiation"
        assert ladder[-1].name == "government_decision"
        assert all(s.time_limit_working_days > 0 for s in ladder)


def test_R_SUP_02_reminders_escalation_and_reports() -> None:
    for district in DISTRICTS:
        policy = load_policy(district)
        assert [e.to for e in policy.reminders.escalation] == ["agency_leader", "supervising_body"]
        assert policy.reminders.before_due_working_days
        assert policy.supervision.monthly_reminder_list and policy.supervision.quarterly_bulletin
    assert load_policy("shangri-la").supervision.reports_to_zh == "香格里拉市司法局"


# --------------------------------------------------------------------------- calendar section


def test_calendar_overrides_reach_the_working_calendar(tmp_path: Path) -> None:
    text = edited(
        "  extra_days_off: []\n",
        "  extra_days_off:\n    - date: 2026-03-10\n      reason: 防汛应急停止办公\n",
    )
    text = text.replace("office_closing_time: null", 'office_closing_time: "17:30"')
    path = tmp_path / "fuyuan.yaml"
    path.write_text(text, encoding="utf-8")
    policy = load_policy_file(path)
    cal = policy.working_calendar()
    assert cal.day_kind(date(2026, 3, 10)).category is DayCategory.DISTRICT_DAY_OFF
    dl = cal.add_working_days(datetime(2026, 3, 9, 10, tzinfo=SH), 1)
    assert dl.due == datetime(2026, 3, 11, 17, 30, tzinfo=SH)
    assert "防汛应急停止办公" in dl.explain()
    assert "抚远市本地调整（政策版本 1.0）" in dl.explain()


# --------------------------------------------------------------------------- bad files


def test_bad_file_yaml_syntax_error_names_line_and_column() -> None:
    err = error_of(edited("send:\n", "send:\n  bad: [1, 2\n"))
    assert str(err).startswith("fuyuan.yaml: line ")
    assert "column" in str(err) and "YAML syntax error" in str(err)


def test_bad_file_duplicate_key() -> None:
    err = error_of(edited("send:\n", "send:\n  limit_working_days: 4\n"))
    assert "duplicate key 'limit_working_days'" in str(err)
    assert "line 2" in str(err)  # the duplicate's line number


def test_bad_file_unknown_field_suggests_the_right_name() -> None:
    err = error_of(
        edited("extension_max_working_days: 10", "extention_max_working_days: 10"),
    )
    messages = {p.path: p.message for p in err.problems}
    assert "send.extention_max_working_days" in messages
    assert (
        "did you mean 'extension_max_working_days'?" in messages["send.extention_max_working_days"]
    )
    assert messages["send.extension_max_working_days"] == "required field is missing"
    assert "fuyuan.yaml: send.extention_max_working_days: unknown field" in str(err)


def test_bad_file_unknown_top_level_field() -> None:
    err = error_of(fuyuan_text() + "sned: {}\n")
    assert "fuyuan.yaml: sned: unknown field (did you mean 'send'?)" in str(err)


def test_bad_file_wrong_type() -> None:
    err = error_of(edited("  limit_working_days: 5\n", "  limit_working_days: five\n"))
    assert "fuyuan.yaml: send.limit_working_days: input should be a valid integer, got 'five'" in (
        str(err)
    )
    # A quoted number is still text: strict, so a typo cannot pass as a count of days.
    err = error_of(edited("  limit_working_days: 5\n", '  limit_working_days: "5"\n'))
    assert "send.limit_working_days" in str(err)
    err = error_of(edited('version: "1.0"', "version: 1.0"))
    assert "fuyuan.yaml: version: input should be a valid string, got 1.0 (float)" in str(err)


def test_bad_file_unquoted_time() -> None:
    err = error_of(edited("office_closing_time: null", "office_closing_time: 17:30"))
    assert 'calendar.office_closing_time: write the time as a quoted string, e.g. "17:30"' in (
        str(err)
    )


def test_bad_file_cross_field_extension_below_limit() -> None:
    err = error_of(edited("extension_max_working_days: 10", "extension_max_working_days: 3"))
    assert str(err) == (
        "fuyuan.yaml: send.extension_max_working_days: must be ≥ send.limit_working_days (5), got 3"
    )


@pytest.mark.parametrize("district", DISTRICTS)
def test_R_REF_07_R_DSP_02_decline_routes_and_advisory_steps(district: str) -> None:
    dispute = load_policy(district).dispute
    advisory = [s.name for s in dispute.ladder if s.advisory]
    if district == "fuyuan":
        # FY (四)1: 报请市人民政府决定; FY (四)5: 编办和司法局 advise, the committee decides.
        assert dispute.decline_route == "government"
        assert advisory == ["establishment_and_justice_opinion"]
    else:
        assert dispute.decline_route == "ladder" and advisory == []
    assert not dispute.ladder[-1].advisory


def test_bad_file_the_last_ladder_step_cannot_be_advisory() -> None:
    text = edited(
        '      source: FY (四)5 "报市依法治市委员会作出决定"\n',
        '      source: FY (四)5 "报市依法治市委员会作出决定"\n      advisory: true\n',
    )
    assert "dispute.ladder[3].advisory: the last step decides: it cannot be advisory" in str(
        error_of(text)
    )
    route = edited("  decline_route: government ", "  decline_route: negotiate ")
    assert "dispute.decline_route" in str(error_of(route))


def test_bad_file_cross_field_ladder_order_and_empty() -> None:
    err = error_of(edited("    - step: 3\n", "    - step: 5\n"))
    assert "fuyuan.yaml: dispute.ladder[2].step: steps must be numbered 1, 2, 3, … in order" in (
        str(err)
    )
    text = fuyuan_text()
    head, rest = text.split("dispute:\n", 1)
    empty = head + "dispute:\n  ladder: []\n" + "reminders:" + rest.split("reminders:", 1)[1]
    assert "fuyuan.yaml: dispute.ladder: must have at least one step" in str(error_of(empty))


def test_bad_file_cross_field_rules_elsewhere() -> None:
    err = error_of(edited("    hours: 24 ", "    immediately: true\n    hours: 24 "))
    assert "send.urgent.hours: must be absent when send.urgent.immediately is true" in str(err)
    err = error_of(edited("after_working_days: 3", "after_working_days: 1"))
    assert (
        "reminders.escalation[1].after_working_days: must be > "
        "reminders.escalation[0].after_working_days (1), got 1"
    ) in str(err)
    err = error_of(edited("rsvp_lead_working_days: 2", "rsvp_lead_working_days: 5"))
    assert "meetings.rsvp_lead_working_days: must be < meetings.notice_lead_working_days" in str(
        err
    )
    both = edited(
        "  extra_days_off: []", "  extra_days_off: [{date: 2026-03-02, reason: a}]"
    ).replace("extra_working_days: []", "extra_working_days: [{date: 2026-03-02, reason: b}]")
    assert "calendar.extra_working_days[0].date: 2026-03-02 is also in calendar.extra_days_off" in (
        str(error_of(both))
    )
    err = error_of(edited("penalty_kinds: []", "penalty_kinds: [revoke_license]"))
    assert "major_penalty.penalty_kinds[0]: input should be 'lower_qualification'" in str(err)


def test_bad_file_several_problems_are_all_reported() -> None:
    text = edited("extension_max_working_days: 10", "extension_max_working_days: 3").replace(
        "reply_limit_working_days: 3", "reply_limit_working_days: 0"
    )
    err = error_of(text)
    paths = [p.path for p in err.problems]
    assert "send.extension_max_working_days" in paths
    assert "technical_support.reply_limit_working_days" in paths
    assert len(str(err).splitlines()) == len(err.problems)


def test_bad_file_not_a_mapping_and_missing_file(tmp_path: Path) -> None:
    assert "must be a mapping of policy fields, got list" in str(error_of("- a\n- b\n"))
    assert "got NoneType" in str(error_of(""))
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(PolicyError, match=r"nowhere\.yaml: cannot read the file"):
        load_policy_file(missing)


def test_load_policy_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "custom.yaml"
    path.write_text(edited("extension_max_working_days: 10", "extension_max_working_days: 3"))
    with pytest.raises(PolicyError) as info:
        load_policy_file(path)
    assert info.value.file == str(path)
    assert str(info.value).startswith(f"{path}: send.extension_max_working_days")


def test_unknown_district_lists_the_available_ones() -> None:
    with pytest.raises(PolicyError) as info:
        load_policy("fuyan")
    assert "unknown district 'fuyan'" in str(info.value)
    assert "available: chongqing, fuyuan, hualong, huancui, shangri-la" in str(info.value)
    with pytest.raises(PolicyError):
        load_policy("../pyproject")


@pytest.fixture
def policy_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the shipped-policy loader at a temporary directory."""
    monkeypatch.setattr(policy_module, "_policy_dir", lambda: tmp_path)
    policy_module._shipped_districts.cache_clear()
    policy_module._load_shipped.cache_clear()
    yield tmp_path
    policy_module._shipped_districts.cache_clear()
    policy_module._load_shipped.cache_clear()


def test_shipped_file_must_match_its_district_id(policy_dir: Path) -> None:
    (policy_dir / "elsewhere.yaml").write_text(fuyuan_text(), encoding="utf-8")
    assert available_districts() == ["elsewhere"]
    with pytest.raises(PolicyError) as info:
        load_policy("elsewhere")
    assert str(info.value) == (
        "elsewhere.yaml: district: must match the file name 'elsewhere', got 'fuyuan'"
    )


def test_send_policy_rule_also_guards_code_construction() -> None:
    with pytest.raises(ValidationError, match="extension_max_working_days"):
        SendPolicy(limit_working_days=5, extension_max_working_days=3, urgent={"hours": 24})


def test_R_REF_04_immediately_is_a_clock_of_hours_never_zero() -> None:
    """DOMAIN §0: "immediately" is due within the policy's clock hours (default 2, never 0)."""
    assert load_policy("chongqing").immediately.limit_hours == 2
    assert (
        parse_policy(
            edited("  limit_hours: 2 ", "  limit_hours: 1 "), "fuyuan.yaml"
        ).immediately.limit_hours
        == 1
    )
    err = error_of(edited("  limit_hours: 2 ", "  limit_hours: 0 "))
    assert "fuyuan.yaml: immediately.limit_hours: " in str(err)
    text = fuyuan_text()
    head, rest = text.split("\nimmediately:", 1)
    without = head + "\n" + rest.split("\n\n", 1)[1]
    assert parse_policy(without, "fuyuan.yaml").immediately.limit_hours == 2


def test_R_SUP_02_urgent_escalation_hours_increase_up_the_ladder() -> None:
    steps = load_policy("fuyuan").reminders.escalation
    assert [(s.to, s.after_hours) for s in steps] == [
        ("agency_leader", 2),
        ("supervising_body", 8),
    ]
    ok = parse_policy(edited("after_hours: 8 ", "after_hours: 3 "), "fuyuan.yaml")
    assert ok.reminders.escalation[1].after_hours == 3
    err = error_of(edited("after_hours: 8 ", "after_hours: 2 "))
    assert (
        "reminders.escalation[1].after_hours: must be > "
        "reminders.escalation[0].after_hours (2), got 2"
    ) in str(err)


def test_R_REF_08_result_report_limit_lives_in_the_policy_with_its_source() -> None:
    fy = load_policy("fuyuan").result_report
    assert fy.limit_days == 90 and "行政处罚法第六十条" in fy.basis_zh
    ok = parse_policy(edited("  limit_days: 90 ", "  limit_days: 1 "), "fuyuan.yaml")
    assert ok.result_report.limit_days == 1
    err = error_of(edited("  limit_days: 90 ", "  limit_days: 0 "))
    assert "fuyuan.yaml: result_report.limit_days: " in str(err)


def test_R_SUP_02_the_supervising_body_names_its_agency_kind() -> None:
    hc = load_policy("huancui").reminders.escalation
    assert [(s.to, s.agency_kind) for s in hc] == [
        ("agency_leader", None),
        ("supervising_body", "coordination_body"),
    ]
    assert load_policy("fuyuan").reminders.escalation[1].agency_kind == "justice_bureau"
    err = error_of(edited("      agency_kind: justice_bureau", ""))
    assert "reminders.escalation[1].agency_kind: required for the supervising body" in str(err)
    err = error_of(
        edited(
            "      to_zh: 本机关负责人\n",
            "      to_zh: 本机关负责人\n      agency_kind: government\n",
        )
    )
    assert "reminders.escalation[0].agency_kind: must be absent for the agency's own leader" in str(
        err
    )
