"""Each service owns its sections of the district policy file (issue 13, item 3): the kernel
validates the shared ones, ``<service>.policy.policy_of`` the service's own, from the same
one file and with the same messages; the composition root (``liandong.policy``) validates
the whole file and refuses a section no one owns."""

from __future__ import annotations

from pathlib import Path

import pytest

import coordination.policy as coordination_policy
import kernel.policy as kernel_policy
import notify.policy as notify_policy
import referral.policy as referral_policy
from kernel.policy import DistrictPolicy, PolicyError
from liandong.policy import SECTION_OWNERS, SuitePolicy, load_policy, parse_policy
from tests.fixtures.policy import edited, shipped_text


def kernel_only(text: str) -> DistrictPolicy:
    """What a service's bootstrap gets from kernel.wiring: the kernel's sections checked."""
    return kernel_policy.parse_policy(text, "fuyuan.yaml")


def test_the_kernel_keeps_the_services_sections_as_read() -> None:
    policy = kernel_policy.load_policy("fuyuan")
    assert type(policy) is DistrictPolicy
    assert policy.immediately.limit_hours == 2 and not policy.major_penalty.applies
    assert set(policy.model_extra or {}) == {
        s for s, owner in SECTION_OWNERS.items() if owner != "kernel"
    }
    assert not hasattr(policy, "send")


def test_each_section_has_exactly_one_owner() -> None:
    assert set(SECTION_OWNERS) == set(SuitePolicy.model_fields)
    assert {s for s, o in SECTION_OWNERS.items() if o == "referral"} == {
        "send",
        "acceptance",
        "result_report",
        "crime_transfer",
        "supervision_answer",  # R-REF-13 督办's clock (issue 14)
    }
    assert {s for s, o in SECTION_OWNERS.items() if o == "notify"} == {
        "notices",
        "reminders",
        "supervision",
    }
    assert SECTION_OWNERS["dispute"] == "coordination"
    assert SECTION_OWNERS["major_penalty"] == SECTION_OWNERS["immediately"] == "kernel"


@pytest.mark.parametrize("district", ["chongqing", "fuyuan", "hualong", "huancui", "shangri-la"])
def test_a_service_reads_the_same_sections_from_the_kernel_policy_and_the_whole_file(
    district: str,
) -> None:
    whole = load_policy(district)
    kernel = kernel_policy.load_policy(district)
    assert referral_policy.policy_of(kernel).send == whole.send
    assert coordination_policy.policy_of(kernel).dispute == whole.dispute
    assert notify_policy.policy_of(kernel).reminders == whole.reminders
    # Validated once per policy; the whole-file model is each service's policy already.
    assert referral_policy.policy_of(kernel) is referral_policy.policy_of(kernel)
    assert coordination_policy.policy_of(whole) is whole


@pytest.mark.parametrize(
    ("old", "new", "policy_of", "message"),
    [
        (
            "    - step: 3\n",
            "    - step: 5\n",
            coordination_policy.policy_of,
            "fuyuan.yaml: dispute.ladder[2].step: steps must be numbered 1, 2, 3, … in order",
        ),
        (
            "extension_max_working_days: 10",
            "extension_max_working_days: 3",
            referral_policy.policy_of,
            "fuyuan.yaml: send.extension_max_working_days: must be ≥ "
            "send.limit_working_days (5), got 3",
        ),
        (
            "  letter_after_phone_working_days: 2 ",
            "  letter_after_phone_workingdays: 2 ",
            coordination_policy.policy_of,
            "fuyuan.yaml: assistance.letter_after_phone_workingdays: unknown field (did you "
            "mean 'letter_after_phone_working_days'?)",
        ),
        (
            "after_hours: 8 ",
            "after_hours: 2 ",
            notify_policy.policy_of,
            "reminders.escalation[1].after_hours: must be > "
            "reminders.escalation[0].after_hours (2), got 2",
        ),
    ],
)
def test_a_service_refuses_its_bad_section_as_the_whole_file_does(
    old: str, new: str, policy_of: object, message: str
) -> None:
    text = edited(old, new)
    with pytest.raises(PolicyError) as whole:
        parse_policy(text, "fuyuan.yaml")
    assert message in str(whole.value)
    policy = kernel_only(text)  # the kernel's sections are fine
    with pytest.raises(PolicyError) as own:
        policy_of(policy)  # type: ignore[operator]
    assert message in str(own.value)
    assert own.value.file == "fuyuan.yaml"


def test_a_service_ignores_the_other_services_sections() -> None:
    policy = kernel_only(edited("    - step: 3\n", "    - step: 5\n"))
    assert referral_policy.policy_of(policy).send.limit_working_days == 5
    assert notify_policy.policy_of(policy).supervision.report_day_of_month == 5


def test_a_section_no_one_owns_is_refused_by_the_whole_file(tmp_path: Path) -> None:
    text = shipped_text() + "sned: {}\n"
    with pytest.raises(PolicyError, match=r"fuyuan\.yaml: sned: unknown field"):
        parse_policy(text, "fuyuan.yaml")
    assert kernel_only(text).district == "fuyuan"  # the kernel alone cannot tell


def test_a_copy_with_a_changed_section_is_read_afresh() -> None:
    policy = kernel_policy.load_policy("fuyuan")
    before = coordination_policy.policy_of(policy).dispute
    raw = dict(policy.model_extra or {})
    raw["dispute"] = {**raw["dispute"], "decline_route": "ladder"}
    changed = policy.model_copy(update={"dispute": raw["dispute"]})
    assert coordination_policy.policy_of(changed).dispute.decline_route == "ladder"
    assert coordination_policy.policy_of(policy).dispute == before
