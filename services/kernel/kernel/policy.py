"""District policy: every number that differs between districts, loaded from YAML.

A deployment serves one district, and the districts' documents disagree on the numbers
(send a referral within 5 working days in Fuyuan, 3 in Hualong, 2 in Chongqing; Chongqing's
receiver may not refuse; Huancui keeps penalties of 50,000 yuan and more with the department;
...). So the numbers live in a versioned YAML file per district, shipped inside this package
(``kernel/policies/<district>.yaml``), validated at start, never in code (DOMAIN.md §0).

One file per district (the districts' IT staff edit one file), several owners: this module
is the loader and the sections several services read (the district's identity and seed
document, its calendar, what "immediately" means, the major-penalty criteria read by
referral and coordination alike); each service owns and validates its own sections
(``referral.policy``, ``coordination.policy``, ``notify.policy``: send, dispute,
reminders, ...) from the same file with :func:`sections_of`. :class:`DistrictPolicy` keeps
the sections it does not know as they were read (``model_extra``); the composition root
(``liandong.policy``) refuses a section no one owns.

Validation is strict on purpose: a misspelt key (``extention_max_working_days``) or a number
written as text would otherwise silently fall back to a default and move a legal deadline.
Every failure is a :class:`PolicyError` naming the file, the field path and what is wrong,
e.g. ``fuyuan.yaml: send.extension_max_working_days: must be ≥ send.limit_working_days (5),
got 3`` (the machinery is :mod:`kernel.policy_base`).

Units are in the field names: ``_working_days`` (counted with
:class:`kernel.calendar.WorkingCalendar`), ``_days`` (calendar days), ``_hours`` (clock
hours), ``_months``, ``_yuan``. Field docstrings cite the seed passage: FY = Fuyuan 2020,
SL = Shangri-La 2024, HL = Hualong 2021, CQ = Chongqing 2006, HC = Huancui 2024.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from kernel.calendar import CalendarOverrides, WorkingCalendar
from kernel.policy_base import (
    PolicyError,
    PolicyModel,
    PolicyProblem,
    PositiveInt,
    Slug,
    Text,
    check,
    duplicates,
    read_policy_mapping,
    validate_policy,
)

__all__ = [
    "PENALTY_KIND_ZH",
    "CalendarPolicy",
    "DateOverride",
    "DistrictPolicy",
    "ImmediatelyPolicy",
    "MajorPenaltyCriteria",
    "PenaltyKind",
    "PolicyError",
    "PolicyProblem",
    "SourceDocument",
    "available_districts",
    "load_policy",
    "load_policy_file",
    "parse_policy",
    "sections_of",
]

PenaltyKind = Literal[
    "lower_qualification",
    "revoke_licence",
    "order_suspend_production_or_business",
    "order_close",
    "restrict_practice",
]
"""Kinds of major penalty (HC #13): 降低资质等级, 吊销许可证件, 责令停产停业, 责令关闭, 限制从业."""

PENALTY_KIND_ZH: dict[str, str] = {
    "lower_qualification": "降低资质等级",
    "revoke_licence": "吊销许可证件",
    "order_suspend_production_or_business": "责令停产停业",
    "order_close": "责令关闭",
    "restrict_practice": "限制从业",
}
_PENALTY_CODE = {zh: code for code, zh in PENALTY_KIND_ZH.items()}


# --------------------------------------------------------------------------- sections


class SourceDocument(PolicyModel):
    """The seed document a district policy is taken from."""

    code: Literal["FY", "SL", "HL", "CQ", "HC"]
    """Short code used in DOMAIN.md citations."""
    title_zh: Text
    """Title of the document."""
    document_number: str | None = None
    """文号, e.g. 抚法办发〔2020〕8号 (None when the document has none)."""
    issuer_zh: Text
    """Issuing body."""
    issued_on: dt.date
    """Date of issue (印发/公布)."""


class ImmediatelyPolicy(PolicyModel):
    """What "immediately" (立即) means as a clock (DOMAIN §0): the addressee is alerted at
    once, and the act is due within this many clock hours, so an urgent request is not late
    the moment it is made. No seed gives a number: 2 hours is DOMAIN §0's default."""

    limit_hours: PositiveInt = 2
    """Clock hours (never 0: DOMAIN §0)."""


class MajorPenaltyCriteria(PolicyModel):
    """Cases that stay with (or go to) the department even when delegated (R-CAT-03)."""

    penalty_kinds: list[PenaltyKind] = Field(default_factory=list)
    """Penalties that make a case major (HC #13). Empty: the district sets none."""
    fine_threshold_yuan: PositiveInt | None = None
    """A fine of at least this many yuan makes a case major (HC #13: 罚款5万元以上; 以上
    includes the number itself). None: no threshold."""

    @property
    def applies(self) -> bool:
        """Whether the district reserves any case to the department."""
        return bool(self.penalty_kinds) or self.fine_threshold_yuan is not None

    def is_major(self, kinds: Iterable[str] = (), fine_yuan: int | Decimal | None = None) -> bool:
        """Whether a case that may end in ``kinds`` of penalty or a ``fine_yuan`` fine is major.
        A kind is its code or its Chinese name (吊销许可证件 is revoke_licence)."""
        codes = {_PENALTY_CODE.get(k.strip(), k.strip()) for k in kinds}
        if any(k in self.penalty_kinds for k in codes):
            return True
        return (
            self.fine_threshold_yuan is not None
            and fine_yuan is not None
            and fine_yuan >= self.fine_threshold_yuan
        )

    @model_validator(mode="after")
    def _unique(self) -> MajorPenaltyCriteria:
        check(duplicates("penalty_kinds", list(self.penalty_kinds), None))
        return self


class DateOverride(PolicyModel):
    """A district's change to one day of the national calendar."""

    date: dt.date
    """The day (YYYY-MM-DD, unquoted)."""
    reason: Text
    """Why, as it will appear in deadline explanations."""


class CalendarPolicy(PolicyModel):
    """District overrides of the national working-day calendar."""

    extra_days_off: list[DateOverride] = Field(default_factory=list)
    """Local days off (e.g. a local festival decreed by the district government)."""
    extra_working_days: list[DateOverride] = Field(default_factory=list)
    """Local extra working days."""
    office_closing_time: dt.time | None = None
    """If set (quoted, "17:30"), a working-day period ends at this local time on its last day
    instead of 24:00 (民法典第二百零三条: 有业务时间的，停止业务活动的时间为截止时间)."""

    @field_validator("office_closing_time", mode="before")
    @classmethod
    def _quoted_time(cls, value: object) -> object:
        # YAML 1.1 reads an unquoted 17:30 as the base-60 integer 1050, which pydantic would
        # happily turn into 00:17:30.
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError('write the time as a quoted string, e.g. "17:30"')
        return value

    @model_validator(mode="after")
    def _no_conflicts(self) -> CalendarPolicy:
        problems: list[tuple[str, str]] = []
        for name in ("extra_days_off", "extra_working_days"):
            entries: list[DateOverride] = getattr(self, name)
            problems += duplicates(name, [e.date.isoformat() for e in entries], "date")
        off = {e.date for e in self.extra_days_off}
        for i, e in enumerate(self.extra_working_days):
            if e.date in off:
                problems.append(
                    (
                        f"extra_working_days[{i}].date",
                        f"{e.date.isoformat()} is also in {{at}}extra_days_off",
                    )
                )
        check(problems)
        return self


# --------------------------------------------------------------------------- the policy


class DistrictPolicy(PolicyModel):
    """The district's identity and the sections several services read (DOMAIN.md §0).

    The file's other sections belong to the services; they are kept as read in
    ``model_extra`` and validated by their owner (:func:`sections_of`). Load with
    :func:`load_policy` (shipped districts) or :func:`load_policy_file`.
    """

    model_config = ConfigDict(extra="allow")

    district: Slug
    """District id, equal to the file name (``fuyuan``, ``shangri-la``, ...)."""
    name_zh: Text
    """Chinese name, e.g. 抚远市."""
    name_en: Text
    """English name."""
    government_zh: Text
    """The government that takes final decisions (人民政府, R-AG-01)."""
    justice_bureau_zh: Text
    """The justice bureau or legal office: supervision and filing (备案)."""
    version: Text
    """Policy version (quote it in YAML: "1.0"); recorded with every computed deadline."""
    effective_from: dt.date
    """Date from which this version applies."""
    source: SourceDocument
    """The seed document."""
    major_penalty: MajorPenaltyCriteria
    """R-CAT-03."""
    calendar: CalendarPolicy = Field(default_factory=CalendarPolicy)
    """District overrides of the working-day calendar."""
    immediately: ImmediatelyPolicy = Field(default_factory=ImmediatelyPolicy)
    """DOMAIN §0: "immediately" as a clock of a few hours (optional in a file: 2 hours)."""

    _source: str = PrivateAttr(default="<policy>")
    _sections: dict[type[BaseModel], tuple[object, BaseModel]] = PrivateAttr(default_factory=dict)

    @property
    def file(self) -> str:
        """The file the policy was read from, as errors name it."""
        return self._source

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            # The sections kept as read are the services': their owner validates them
            # (sections_of); the raw mapping is no attribute to read a number from.
            if name.startswith("_") or name not in (self.__pydantic_extra__ or {}):
                return super().__getattr__(name)
            raise AttributeError(
                f"{name!r} is a service's section of the policy file, not the kernel's: "
                "read it with that service's policy_of()"
            )

    def __eq__(self, other: object) -> bool:
        """The same policy, wherever it was read from: the file name and the validated
        services' sections (private attributes) are not part of it."""
        if not isinstance(other, BaseModel):
            return NotImplemented
        return (
            type(self) is type(other)
            and self.__dict__ == other.__dict__
            and self.__pydantic_extra__ == other.__pydantic_extra__
        )

    def calendar_overrides(self) -> CalendarOverrides:
        """The calendar section as :class:`~kernel.calendar.CalendarOverrides`."""
        return CalendarOverrides(
            district=self.district,
            extra_days_off={e.date: e.reason for e in self.calendar.extra_days_off},
            extra_working_days={e.date: e.reason for e in self.calendar.extra_working_days},
            office_closing_time=self.calendar.office_closing_time,
            district_name_zh=self.name_zh,
            policy_version=self.version,
        )

    def working_calendar(self) -> WorkingCalendar:
        """A :class:`~kernel.calendar.WorkingCalendar` with this district's overrides."""
        return WorkingCalendar(self.calendar_overrides())


S = TypeVar("S", bound=BaseModel)


def sections_of(policy: DistrictPolicy, model: type[S]) -> S:
    """A service's sections (``model``, a :class:`PolicyModel` with ``extra="ignore"`` whose
    fields are the top-level keys it owns) validated from ``policy``'s file, once per policy.

    A policy that already is a ``model`` (the composition root's whole-file model) is
    returned as it is. Errors are :class:`PolicyError`\\ s naming the file and the dotted
    path, as for the kernel's own sections.
    """
    if isinstance(policy, model):
        return policy
    raw = policy.model_extra or {}
    cached = policy._sections.get(model)
    if cached is not None and cached[0] is raw:
        return cached[1]  # type: ignore[return-value]
    sections = validate_policy(model, raw, policy.file)
    policy._sections[model] = (raw, sections)
    return sections


# --------------------------------------------------------------------------- loading

P = TypeVar("P", bound=DistrictPolicy)


def parse_policy(
    text: str,
    source: str = "<policy>",
    model: type[P] = DistrictPolicy,  # type: ignore[assignment]
) -> P:
    """Parse and validate a policy from YAML text; ``source`` names it in errors.

    ``model`` is :class:`DistrictPolicy` or a subclass that also declares (and so validates)
    services' sections, e.g. the composition root's model of the whole file.
    """
    policy = validate_policy(model, read_policy_mapping(text, source), source)
    policy._source = source
    return policy


def load_policy_file(path: Path, model: type[P] = DistrictPolicy) -> P:  # type: ignore[assignment]
    """Load and validate a policy file; errors name the file as given."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(str(path), [PolicyProblem("", f"cannot read the file: {exc}")]) from exc
    return parse_policy(text, str(path), model)


def _policy_dir() -> Any:
    # A Traversable, so this also works from a zipped wheel; hatchling ships the YAML files
    # because they sit inside the package directory.
    return resources.files("kernel").joinpath("policies")


@functools.cache
def _shipped_districts() -> tuple[str, ...]:
    return tuple(
        sorted(
            entry.name.removesuffix(".yaml")
            for entry in _policy_dir().iterdir()
            if entry.name.endswith(".yaml")
        )
    )


def available_districts() -> list[str]:
    """Ids of the shipped district policies, sorted."""
    return list(_shipped_districts())


@functools.cache
def _load_shipped(district: str, model: type[DistrictPolicy] = DistrictPolicy) -> DistrictPolicy:
    name = f"{district}.yaml"
    policy = parse_policy(_policy_dir().joinpath(name).read_text(encoding="utf-8"), name, model)
    if policy.district != district:
        raise PolicyError(
            name,
            [
                PolicyProblem(
                    "district", f"must match the file name {district!r}, got {policy.district!r}"
                )
            ],
        )
    return policy


def load_policy(district: str, model: type[P] = DistrictPolicy) -> P:  # type: ignore[assignment]
    """The shipped policy of ``district`` (validated once, then cached; models are frozen)."""
    available = available_districts()
    if district not in available:
        raise PolicyError(
            f"{district}.yaml",
            [
                PolicyProblem(
                    "", f"unknown district {district!r}; available: {', '.join(available)}"
                )
            ],
        )
    return _load_shipped(district, model)  # type: ignore[return-value]


def district_policy(district: str, policy_file: Path | None = None) -> DistrictPolicy:
    """The policy a deployment runs on: the file its settings name (``policy_file``), else
    the district's shipped one."""
    return load_policy_file(policy_file) if policy_file is not None else load_policy(district)
