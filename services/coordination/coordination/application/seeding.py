"""Registering a district's agencies from a data file (demo data, first deployment)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from coordination.application.handlers import CoordinationHandlers, RegisterAgency
from coordination.domain.model import Liaison
from kernel.errors import ValidationFailed


def shipped_seed(district: str) -> Path | None:
    path = resources.files("coordination") / "seeds" / f"{district}.yaml"
    return Path(str(path)) if path.is_file() else None


def shipped_catalogue(district: str) -> Path | None:
    """The district's demo catalogue (the import layout, ``<district>-catalogue.csv``)."""
    path = resources.files("coordination") / "seeds" / f"{district}-catalogue.csv"
    return Path(str(path)) if path.is_file() else None


async def seed_agencies(handlers: CoordinationHandlers, path: Path) -> int:
    """Register every agency in ``path``; returns how many. Idempotent: re-running changes
    nothing and publishes nothing for agencies that are already registered as written."""
    try:
        # A small file read once at start; not worth a thread hop.
        data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))  # noqa: ASYNC240
    except yaml.YAMLError as exc:
        raise ValidationFailed(f"{path.name}: not valid YAML: {exc}", code="BAD_FORMAT") from exc
    if data.get("district") != handlers.district:
        raise ValidationFailed(
            f"{path.name} is for district {data.get('district')!r}, "
            f"this deployment serves {handlers.district!r}"
        )
    count = 0
    for i, row in enumerate(data.get("agencies", [])):
        try:
            cmd = RegisterAgency(
                agency_id=row["id"],
                name=row["name"],
                kind=row["kind"],
                internal_unit=bool(row.get("internal_unit", False)),
                parent_id=row.get("parent_id"),
                liaisons=tuple(Liaison(**x) for x in row.get("liaisons", [])),
                document_code=str(row.get("document_code") or ""),
            )
        except (KeyError, TypeError) as exc:
            raise ValidationFailed(
                f"{path.name}: agencies[{i}] is incomplete: {exc}", code="REQUIRED"
            ) from exc
        await handlers.register_agency_as_system(cmd)
        count += 1
    return count
