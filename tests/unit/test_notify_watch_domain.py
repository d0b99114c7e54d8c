"""Pure rules of notify's deadline watch, record and webhooks (no store, fake times)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kernel.errors import ValidationFailed
from kernel.wiring import calendar_for
from liandong.policy import load_policy
from notify.domain.record import agencies_named, record_entry
from notify.domain.watch import WatchedDeadline, plan_deadline_timers, receipt_limit
from notify.domain.webhooks import RetryPolicy, WebhookFilter, sign, validate_registration, verify

CHINA = ZoneInfo("Asia/Shanghai")
POLICY = load_policy("fuyuan")
CAL = calendar_for(POLICY)


def deadline(due: datetime, rule: str = "5个工作日内书面告知受理情况") -> WatchedDeadline:
    return WatchedDeadline(
        key="Referral:r:referral.accept",
        kind="referral.accept",
        subject_type="Referral",
        subject_id="r",
        responsible_agency_id="fy-hancong",
        due=due,
        state="open",
        rule=rule,
        explanation_zh=None,
        event_time=due - timedelta(days=4),
        event_id="e",
    )


def test_R_SUP_02_working_day_clock_reminds_the_day_before_and_escalates_up_the_ladder() -> None:
    due = datetime(2026, 3, 6, 23, 59, 59, tzinfo=CHINA)  # a Friday
    plan = {t.step: t for t in plan_deadline_timers(deadline(due), POLICY.reminders, CAL)}
    assert plan["remind-1wd"].fire_at == datetime(2026, 3, 5, 9, tzinfo=CHINA)
    assert plan["missed"].fire_at == due + timedelta(seconds=1)
    # 1 working day after a Friday is Monday, 3 are Wednesday (end of day).
    assert plan["escalate-agency_leader"].fire_at == datetime(2026, 3, 9, 23, 59, 59, tzinfo=CHINA)
    assert plan["escalate-agency_leader"].escalate_to == "agency_leader"
    assert plan["escalate-supervising_body"].fire_at == datetime(
        2026, 3, 11, 23, 59, 59, tzinfo=CHINA
    )
    assert plan["remind-1wd"].id == "Referral:r:referral.accept:remind-1wd"


def test_R_SUP_02_hour_clock_reminds_hours_before() -> None:
    due = datetime(2026, 3, 6, 15, 30, tzinfo=CHINA)
    plan = {
        t.step: t
        for t in plan_deadline_timers(deadline(due, "24小时内移送"), POLICY.reminders, CAL)
    }
    assert plan["remind-4h"].fire_at == due - timedelta(hours=4)
    assert "remind-1wd" not in plan


def test_R_SUP_02_urgent_clock_escalates_in_hours_not_working_days() -> None:
    """DOMAIN §0: an urgent 24-hour clock from Friday 13 February 2026, 18:00 (eve of the
    Spring Festival week) is due Saturday 18:00; its escalations follow in hours (fuyuan:
    the leader 2 h, the justice bureau 8 h after), not after the holiday week."""
    due = datetime(2026, 2, 14, 18, 0, tzinfo=CHINA)
    plan = {
        t.step: t
        for t in plan_deadline_timers(
            deadline(due, "情况紧急，24小时内移送"), POLICY.reminders, CAL
        )
    }
    assert plan["missed"].fire_at == due + timedelta(seconds=1)
    assert plan["escalate-agency_leader"].fire_at == datetime(2026, 2, 14, 20, 0, tzinfo=CHINA)
    assert plan["escalate-supervising_body"].fire_at == datetime(2026, 2, 15, 2, 0, tzinfo=CHINA)
    # The working-day steps would have waited for the end of the holiday week.
    working = {t.step: t for t in plan_deadline_timers(deadline(due), POLICY.reminders, CAL)}
    assert working["escalate-agency_leader"].fire_at.date() == datetime(2026, 2, 24).date()


def test_R_SUP_02_immediately_clock_alerts_at_its_start() -> None:
    """DOMAIN §0: "immediately" alerts the addressee the moment the clock starts, and is due
    the policy's hours later; other clocks have no such alert."""
    start = datetime(2026, 2, 16, 10, 0, tzinfo=CHINA)  # inside the Spring Festival holiday
    hours = POLICY.immediately.limit_hours
    due = start + timedelta(hours=hours)
    now_clock = deadline(due, f"情况紧急，立即移送（{hours}小时内）")
    plan = {t.step: t for t in plan_deadline_timers(now_clock, POLICY.reminders, CAL)}
    assert plan["alert"].fire_at == start and plan["alert"].kind == "deadline.remind"
    assert plan["alert"].id == "Referral:r:referral.accept:alert"
    # The 4-hour reminder would fire before the clock started: the alert replaces it.
    assert "remind-4h" not in plan
    assert plan["escalate-agency_leader"].fire_at == due + timedelta(hours=2)
    urgent = deadline(due, "情况紧急，24小时内移送")
    assert "alert" not in {t.step for t in plan_deadline_timers(urgent, POLICY.reminders, CAL)}
    assert "alert" not in {
        t.step for t in plan_deadline_timers(deadline(due), POLICY.reminders, CAL)
    }


def test_R_SUP_02_working_day_reminders_skip_the_weekend() -> None:
    due = datetime(2026, 3, 9, 23, 59, 59, tzinfo=CHINA)  # a Monday
    [remind] = [
        t
        for t in plan_deadline_timers(deadline(due), POLICY.reminders, CAL)
        if t.kind == "deadline.remind"
    ]
    assert remind.fire_at == datetime(2026, 3, 6, 9, tzinfo=CHINA)  # the Friday before


def test_R_NTF_04_receipt_limits_ordinary_in_working_days_urgent_in_hours() -> None:
    friday = datetime(2026, 3, 6, 16, tzinfo=CHINA)
    assert receipt_limit(friday, False, POLICY.notices, CAL) == datetime(
        2026, 3, 9, 23, 59, 59, tzinfo=CHINA
    )
    assert receipt_limit(friday, True, POLICY.notices, CAL) == friday + timedelta(hours=2)


def test_R_SUP_01_record_reads_actor_and_states_tolerantly() -> None:
    at = datetime(2026, 3, 2, 10, tzinfo=CHINA)
    entry = record_entry(
        event_id="e1",
        seq=0,
        type="dispute.opened.v1",
        subject="d1",
        time=at,
        district="fuyuan",
        service="coordination",
        correlation_id="c1",
        data={
            "actor_id": "p1",
            "state_after": {"status": "OPEN"},
            "parties_agency_ids": ["a", "b"],
        },
    )
    assert (entry.actor_id, entry.actor_agency_id, entry.state_before) == ("p1", None, None)
    assert entry.state_after == {"status": "OPEN"}
    assert entry.agency_ids == ("a", "b")
    assert agencies_named(
        {"sender_id": "x", "deadlines": [{"responsible_agency_id": "y"}], "actor_agency_id": "x"}
    ) == ("x", "y")


def test_webhook_filter_signature_and_backoff() -> None:
    f = WebhookFilter(event_types=("referral.sent.v1",), agency_ids=("a",))
    assert f.matches("referral.sent.v1", ["b", "a"], None)
    assert not f.matches("referral.sent.v1", ["b"], None)
    assert not f.matches("referral.drafted.v1", ["a"], None)
    assert WebhookFilter(matter_codes=("m",)).matches("x", [], "m")
    body = b'{"id":"1"}'
    signature = sign("s3cret", 1700000000, body)
    assert signature.startswith("v1=") and verify("s3cret", 1700000000, body, signature)
    assert not verify("s3cret", 1700000001, body, signature)
    assert not verify("other", 1700000000, body, signature)
    retry = RetryPolicy(base=timedelta(seconds=10), cap=timedelta(seconds=60))
    assert [retry.delay(n).seconds for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]
    with pytest.raises(ValidationFailed) as bad:
        validate_registration("not a url", [], [], [])
    assert bad.value.field == "url"
