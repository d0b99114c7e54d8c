"""The stall check over coordination's store (issue 14): every dispute, request and joint task
that is not finished and has no running clock (coordination.domain.stalls says which).

Read by the graph (``coordinationStalls``, supervising bodies only: the matrix row
``coordination.coordinationStalls``) and by ``liandong audit stalls``, which opens the store
itself. A scan of the unfinished cases: a district has thousands of cases a year, most of
them finished, and the check is run by hand or after a test, never per request.
"""

from __future__ import annotations

from coordination.adapters.cooperation import (
    AssistanceRepository,
    InformationQueryRepository,
    TechnicalSupportRepository,
)
from coordination.adapters.dispatch import DispatchRepository
from coordination.adapters.joint import JointOperationRepository
from coordination.adapters.repository import DisputeRepository
from coordination.application import access
from coordination.application.actors import acting
from coordination.domain import stalls as st
from coordination.domain.dispute import DisputeStatus
from coordination.domain.joint.records import OperationStatus
from kernel.caller import Caller
from kernel.keyset import ListQuery
from kernel.store import DocumentStore

__all__ = ["StallCheck"]

#: More unfinished cases than this in one district is itself a finding; the scan stops there.
SCAN_LIMIT = 10_000


class StallCheck:
    def __init__(
        self,
        disputes: DisputeRepository,
        assistance: AssistanceRepository,
        technical: TechnicalSupportRepository,
        information: InformationQueryRepository,
        joint: JointOperationRepository,
        dispatches: DispatchRepository | None = None,
    ) -> None:
        self.dispatches = dispatches  # grid dispatch (R-GRD-01)
        self.disputes = disputes
        self.assistance = assistance
        self.technical = technical
        self.information = information
        self.joint = joint

    @classmethod
    def over(cls, store: DocumentStore) -> StallCheck:
        """The check on a store opened by the command line (no service running)."""
        return cls(
            DisputeRepository(store),
            AssistanceRepository(store),
            TechnicalSupportRepository(store),
            InformationQueryRepository(store),
            JointOperationRepository(store),
            DispatchRepository(store),
        )

    async def stalls(self, caller: Caller | None) -> list[st.Stall]:
        """``caller`` None: the operator's command line; otherwise a supervising body only."""
        if caller is not None:
            actor = acting(caller)
            access.authorize_on(
                actor, "coordinationStalls", access.oversight_relations(actor), field=None
            )
        out: list[st.Stall] = []
        for d in await self.disputes.search(
            ListQuery(statuses=(DisputeStatus.OPEN.value,), descending=False), limit=SCAN_LIMIT
        ):
            out += [s for s in [st.dispute_stall(d)] if s]
        for a in await self.assistance.unfinished([x.value for x in st.ASSISTANCE_FINISHED]):
            out += [s for s in [st.assistance_stall(a)] if s]
        for t in await self.technical.unfinished([x.value for x in st.TECHNICAL_FINISHED]):
            out += [s for s in [st.technical_stall(t)] if s]
        for q in await self.information.unfinished([x.value for x in st.INFORMATION_FINISHED]):
            out += [s for s in [st.information_stall(q)] if s]
        for op in await self.joint.list(
            agency_id=None,
            status=OperationStatus.IN_PROGRESS.value,
            basis=None,
            after=None,
            limit=SCAN_LIMIT,
        ):
            out += st.joint_task_stalls(op)
        if self.dispatches is not None:
            for g in await self.dispatches.open_all():
                out += [s for s in [st.dispatch_stall(g)] if s]
        return out
