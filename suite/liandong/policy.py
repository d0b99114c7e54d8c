"""The whole district policy file: the kernel's shared sections and every service's own.

A district's policy is one YAML file (the districts' IT staff edit one file); its sections
have several owners: :mod:`kernel.policy` (identity, seed document, calendar, "immediately",
major penalty), :mod:`referral.policy`, :mod:`coordination.policy` and :mod:`notify.policy`.
Each validates its own; only the composition root knows them all, so this is where a file
is validated whole, and where a section that no one owns (``sned:``) is refused, with the
same messages as any other mistake (``fuyuan.yaml: sned: unknown field (did you mean
'send'?) ...``). ``liandong serve`` / ``liandong up``, the CLI and ``deploy/render.py
--check`` load policies through here.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ConfigDict

from coordination.policy import SECTIONS as COORDINATION_SECTIONS
from coordination.policy import CoordinationPolicy
from kernel import policy as kernel_policy
from kernel.policy import DistrictPolicy, PolicyError, PolicyProblem
from kernel.settings import Settings
from notify.policy import SECTIONS as NOTIFY_SECTIONS
from notify.policy import NotifyPolicy
from referral.policy import SECTIONS as REFERRAL_SECTIONS
from referral.policy import ReferralPolicy

__all__ = [
    "SECTION_OWNERS",
    "PolicyError",
    "PolicyProblem",
    "SuitePolicy",
    "load_district_policy",
    "load_policy",
    "load_policy_file",
    "parse_policy",
]


class SuitePolicy(NotifyPolicy, CoordinationPolicy, ReferralPolicy, DistrictPolicy):
    """Every section of a district policy file, validated together; a top-level key that is
    no one's section is refused. It is each service's policy as well, so a service handed
    this needs no second validation (:func:`kernel.policy.sections_of`)."""

    model_config = ConfigDict(extra="forbid")


def _owners() -> dict[str, str]:
    """Who owns each top-level key of a policy file; two owners of one key is a bug (the
    whole-file model would silently merge their fields)."""
    owners: dict[str, str] = {}
    declared = {
        "kernel": frozenset(DistrictPolicy.model_fields),
        "referral": REFERRAL_SECTIONS,
        "coordination": COORDINATION_SECTIONS,
        "notify": NOTIFY_SECTIONS,
    }
    for owner, sections in declared.items():
        for section in sorted(sections):
            if section in owners:
                raise RuntimeError(
                    f"policy section {section!r} is declared by {owners[section]} and {owner}"
                )
            owners[section] = owner
    return owners


SECTION_OWNERS: dict[str, str] = _owners()
"""Who owns each top-level key of a policy file (kernel, referral, coordination, notify)."""


def parse_policy(text: str, source: str = "<policy>") -> SuitePolicy:
    """Parse and validate a whole policy file from YAML text; ``source`` names it in errors."""
    return kernel_policy.parse_policy(text, source, SuitePolicy)


def load_policy_file(path: Path) -> SuitePolicy:
    """Load and validate a whole policy file; errors name the file as given."""
    return kernel_policy.load_policy_file(path, SuitePolicy)


def load_policy(district: str) -> SuitePolicy:
    """The shipped policy of ``district``, every section validated (then cached)."""
    return kernel_policy.load_policy(district, SuitePolicy)


def load_district_policy(settings: Settings) -> SuitePolicy:
    """The policy the settings name (``policy_file``, else the shipped one of ``district``)."""
    if settings.policy_file is not None:
        return load_policy_file(settings.policy_file)
    return load_policy(settings.district)
