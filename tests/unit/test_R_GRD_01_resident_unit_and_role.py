"""R-GRD-01 with R-AG-01/R-AG-02: a department's resident unit (派驻机构, HC #7) is an agency
kind of its own, commanded by a township and guided by a department; the ``grid_member`` role
may report problems and read its own reports, nothing else."""

from __future__ import annotations

import pytest

from coordination.application.matrix import MATRIX, RULES
from coordination.domain.cooperation import Actor
from coordination.domain.model import AgencyKind, Liaison, new_agency
from kernel.authz import Relation
from kernel.errors import Forbidden, ValidationFailed

LIAISON = (Liaison("王所长", "0631-5200000"),)


def _unit(**over: object) -> object:
    args: dict[str, object] = dict(
        agency_id="hc-zhangcun-market",
        name="张村市场监管所",
        kind="resident_unit",
        district="huancui",
        liaisons=LIAISON,
        commanded_by_id="hc-zhangcun",
        guided_by_id="hc-market",
    )
    args.update(over)
    return new_agency(**args)  # type: ignore[arg-type]


def test_R_GRD_01_resident_unit_names_commanding_township_and_guiding_department() -> None:
    unit = _unit()
    assert unit.kind is AgencyKind.RESIDENT_UNIT  # type: ignore[attr-defined]
    assert unit.commanded_by_id == "hc-zhangcun" and unit.guided_by_id == "hc-market"  # type: ignore[attr-defined]
    assert unit.acts_externally  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"commanded_by_id": None}, "commandedById"),
        ({"guided_by_id": " "}, "guidedById"),
        ({"kind": "department"}, "commandedById"),
        ({"kind": "department", "commanded_by_id": None}, "guidedById"),
    ],
)
def test_R_GRD_01_command_fields_only_and_always_on_resident_units(
    over: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationFailed) as e:
        _unit(**over)
    assert e.value.field == field


def test_R_GRD_01_internal_resident_unit_still_never_acts_externally() -> None:
    """R-AG-02 is unchanged: an internal unit does not act externally, whatever its kind."""
    unit = _unit(internal_unit=True, parent_id="hc-market", liaisons=())
    assert not unit.acts_externally  # type: ignore[attr-defined]


def _grid() -> Actor:
    return Actor("p-grid", "hc-zhangcun", ("grid_member",))


def test_R_GRD_01_grid_member_reports_and_reads_own_reports_only() -> None:
    grid = _grid()
    MATRIX.authorize(grid, "coordination.reportProblem", {Relation.SENDER})
    MATRIX.authorize(grid, "coordination.dispatch", {Relation.SENDER})
    for op, rel in (
        ("coordination.dispatch", Relation.RECEIVER),
        ("coordination.dispatchProblem", Relation.RECEIVER),
        ("coordination.acceptDispatch", Relation.PARTY),
        ("coordination.handleDispatch", Relation.PARTY),
        ("coordination.referDispatch", Relation.RECEIVER),
    ):
        with pytest.raises(Forbidden):
            MATRIX.authorize(grid, op, {rel})
    # Photos of its own reports (R-GRD-01 "photos as materials") are part of reporting.
    MATRIX.authorize(grid, "coordination.uploadDispatchPhoto", {Relation.SENDER})
    with pytest.raises(Forbidden):
        MATRIX.authorize(grid, "coordination.uploadDispatchPhoto", {Relation.RECEIVER})
    granted = {r.operation for r in RULES if "grid_member" in r.roles}
    assert granted == {
        "coordination.reportProblem",
        "coordination.dispatch",
        "coordination.uploadDispatchPhoto",
    }
