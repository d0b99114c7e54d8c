"""The descriptions of the graph's root types, one text for every subgraph: composition
merges the subgraphs' ``Query``, ``Mutation`` and ``Subscription`` into the gateway's, and
subgraphs that agree give the public schema (gateway/api.graphql) one description of each
(issue 18: every type described)."""

from __future__ import annotations

__all__ = ["MUTATION", "QUERY", "SUBSCRIPTION"]

QUERY = (
    "Every read of the Liandong (联动) graph, one endpoint for the three services: referrals "
    "(移送) and complaints (投诉举报); agencies, the enforcement catalogue (事项清单), "
    "cooperation requests, meetings, disputes, joint operations, duties and dispatches; the "
    "inbox, the work queue and supervision. Each answers only what the caller may read (a "
    "list leaves the rest out)."
)
MUTATION = (
    "Every action of the Liandong graph. Each answers a result union: the object as it is "
    "after the action, or a `UserError` with a stable `errorCode` (nothing was changed). "
    "Which ones the caller may run now: `viewerCan` / `availableActions` on the objects that "
    "have them (referrals, requests, meetings, disputes)."
)
SUBSCRIPTION = (
    "Live updates through the gateway, each limited to what the caller may read: inbox items "
    "and work-queue changes of an agency, dispatches changing state. `workQueueChanged` "
    "resumes after a reconnect from the cursor of the last change received."
)
