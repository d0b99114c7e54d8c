"""On-site dispatch (R-REF-15), correction opinions (R-NTF-05), written participation
notices (R-NTF-06) and joint rulings with clue transfer (R-SUP-04) in the graph. Mutations
return ``Result | UserError``."""

from __future__ import annotations

import strawberry

from coordination.entrypoints.graphql.duties.corrections import (
    CorrectionMutation,
    CorrectionQuery,
)
from coordination.entrypoints.graphql.duties.joint_rulings import (
    JointRulingMutation,
    JointRulingQuery,
)
from coordination.entrypoints.graphql.duties.on_site import OnSiteMutation, OnSiteQuery
from coordination.entrypoints.graphql.duties.participation import (
    ParticipationMutation,
    ParticipationQuery,
)

__all__ = ["DutyMutation", "DutyQuery"]


# The order of the bases is the order of the root fields in the SDL.
@strawberry.type
class DutyQuery(OnSiteQuery, CorrectionQuery, ParticipationQuery, JointRulingQuery):
    pass


@strawberry.type
class DutyMutation(OnSiteMutation, CorrectionMutation, ParticipationMutation, JointRulingMutation):
    pass
