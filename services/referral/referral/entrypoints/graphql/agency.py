"""The Agency entity as the referral subgraph references it: by id, resolved by the
coordination subgraph."""

from __future__ import annotations

import strawberry
from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet

__all__ = ["Agency", "_agency"]


@strawberry.federation.type(keys=[Key(fields=FieldSet("id"), resolvable=False)])
class Agency:
    id: strawberry.ID


def _agency(agency_id: str | None) -> Agency | None:
    return Agency(id=strawberry.ID(agency_id)) if agency_id else None
