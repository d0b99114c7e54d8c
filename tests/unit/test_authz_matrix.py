"""The authorization matrix as data (kernel.authz): its document never drifts from the table,
every mutation of the three subgraphs has a rule, and the decision function follows the
rules (roles × relations, tags, no rule = no access)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from kernel.auth import ROLES, Principal
from kernel.authz import Relation
from kernel.errors import Forbidden
from liandong.authorization import (
    RULES,
    authorize,
    matrix_of,
    operations,
    permits,
    rules_for,
    with_generated_matrix,
)

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "authorization.md"
SERVICES = ("referral", "coordination", "notify")
# Field-level and list reads that share the rule of the single-object read.
READ_ALIASES = {
    "referral": {"referrals": "referral", "complaints": "complaint"},
    "coordination": {
        "disputes": "dispute",
        "assistanceRequests": "assistanceRequest",
        "technicalSupportRequests": "technicalSupportRequest",
        "informationQueries": "informationQuery",
        "meetings": "meeting",
        "dispatches": "dispatch",
        "jointOperations": "jointOperation",
        "jointTasks": "jointOperation",
        "onSiteRequests": "onSiteRequest",
        "correctionOpinions": "correctionOpinion",
        "participationNotices": "participationNotice",
        "jointRulings": "jointRuling",
    },
    "notify": {"myInbox": "inbox"},
}
# Queries every signed-in caller of the district may run: the agency directory and the
# matter catalogue are public within the district (who handles what, R-CAT-02).
OPEN_QUERIES = {
    "coordination": {
        "agency",
        "agencies",
        "catalogueEntry",
        "catalogueEntries",
        "jurisdiction",
        "holidaySchedules",
    },
    # The caller's own token, read back (what it reaches below it is checked field by field).
    "notify": {"viewer"},
    # Public keys (R-REF-12): for every user of the deployment, like the agency directory.
    "referral": {"letterSigningKeys"},
}
# Rules for something that is not a top-level field of the schema (notify.inbox: Agency.inbox,
# myInbox, Referral.notices and the inboxItemAdded subscription; notify.webhookEvent: what
# the fan-out sends a bureau's webhook; notify.workQueue: Agency.workQueue, also reached as
# viewer.agency.workQueue).
FIELD_RULES = {
    # An HTTP route's rule, not a graph field (R-GRD-01: POST /dispatches/{id}/photos).
    "coordination.uploadDispatchPhoto",
    # The referral service's identity on GET /dispatches/{id}/photos/{photoId} (R-GRD-01).
    "coordination.referredDispatchPhoto",
    "referral.Referral.materialContent",
    "notify.inbox",
    "notify.webhookEvent",
    "notify.workQueue",
}


def who(*roles: str, agency: str = "fy-market") -> Principal:
    return Principal("p", "某人", agency, "fuyuan", roles)


def fields_of(sdl: str, type_name: str) -> list[str]:
    match = re.search(rf"^type {type_name} \{{\n(.*?)^\}}", sdl, re.S | re.M)
    assert match, f"no type {type_name}"
    return re.findall(r"^  (\w+)[(:]", match.group(1), re.M)


def test_document_is_generated_from_the_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert text == with_generated_matrix(text), (
        "docs/authorization.md differs from the services' matrices: run "
        "`uv run python -m liandong.authorization docs/authorization.md`"
    )


@pytest.mark.parametrize("service", SERVICES)
def test_every_mutation_of_the_subgraph_has_a_rule(service: str) -> None:
    sdl = (ROOT / "services" / service / "schema.graphql").read_text(encoding="utf-8")
    covered = set(operations(service))
    missing = [m for m in fields_of(sdl, "Mutation") if f"{service}.{m}" not in covered]
    assert not missing, f"{service} mutations without an authorization rule: {missing}"


@pytest.mark.parametrize("service", SERVICES)
def test_every_rule_names_a_real_operation_and_every_query_is_covered(service: str) -> None:
    sdl = (ROOT / "services" / service / "schema.graphql").read_text(encoding="utf-8")
    mutations = set(fields_of(sdl, "Mutation"))
    queries = {q for q in fields_of(sdl, "Query") if not q.startswith("_")}
    for op in operations(service):
        name = op.split(".", 1)[1]
        assert name in mutations | queries or op in FIELD_RULES, op
    aliases = READ_ALIASES.get(service, {})
    for q in queries - OPEN_QUERIES.get(service, set()):
        assert f"{service}.{aliases.get(q, q)}" in operations(service), q


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_enforces_its_rows(service: str) -> None:
    # Each service decides through its own matrix (its access module asks it), and its matrix
    # holds its rows only: the document's tables are the rules the services enforce.
    access = importlib.import_module(f"{service}.application.access")
    assert access.MATRIX is matrix_of(f"{service}.any")
    assert access.MATRIX.rules and all(r.service == service for r in access.MATRIX.rules)


def test_every_role_appears_and_rules_name_known_roles() -> None:
    named = {role for r in RULES for role in r.roles}
    assert named <= set(ROLES)
    assert named == set(ROLES)


def test_the_procuratorate_reads_and_changes_nothing_anywhere() -> None:
    """The judicial observer (检察院) holds read rules only, in every service: the crime
    cases, the record's crime entries, and its own inbox, where it signs for (签收) the
    supervision requests addressed to it (R-REF-14, R-NTF-04) — a receipt, no case changes."""
    reads = {
        "referral.referral",
        "notify.processRecord",
        "notify.inbox",
        "notify.acknowledgeInboxItem",
    }
    held = {r.operation for r in RULES if "judicial_observer" in r.roles}
    assert held == reads
    own_inbox = [r for r in RULES if "judicial_observer" in r.roles and "nbox" in r.operation]
    assert all(r.relations == frozenset({Relation.RECEIVER}) for r in own_inbox), own_inbox
    record = [r for r in rules_for("notify.processRecord") if "judicial_observer" in r.roles]
    assert [r.requires_tag for r in record] == ["crime"]
    crime_only = [r for r in rules_for("referral.referral") if "judicial_observer" in r.roles]
    assert [r.requires_tag for r in crime_only] == ["crime"]


def test_a_bureau_system_has_no_case_operation() -> None:
    assert not [r for r in RULES if "bureau_system" in r.roles and r.service != "notify"]


def test_R_REF_03_only_a_leader_of_the_sender_approves() -> None:
    op = "referral.approveReferral"
    assert permits(who("leader"), op, {Relation.SENDER})
    assert not permits(who("clerk"), op, {Relation.SENDER})
    assert not permits(who("leader"), op, {Relation.RECEIVER})
    assert not permits(who("leader", "government"), op, {Relation.SUPERVISOR})
    assert not permits(who("leader"), op, set())


def test_R_REF_13_supervision_is_for_government_and_coordinator() -> None:
    op = "referral.superviseReferral"
    assert permits(who("coordinator"), op, {Relation.SUPERVISOR})
    assert permits(who("government"), op, {Relation.SUPERVISOR, Relation.SENDER})
    assert not permits(who("supervisor"), op, {Relation.SUPERVISOR})
    assert not permits(who("leader"), op, {Relation.RECEIVER})


def test_tags_narrow_a_rule() -> None:
    observer = who("judicial_observer", agency="fy-procuratorate")
    assert permits(observer, "referral.referral", {Relation.SUPERVISOR}, {"crime"})
    assert not permits(observer, "referral.referral", {Relation.SUPERVISOR})
    assert not permits(observer, "referral.Referral.materialContent", {Relation.SUPERVISOR})


def test_refusal_is_forbidden_with_what_the_matrix_requires() -> None:
    with pytest.raises(Forbidden) as err:
        authorize(who("clerk"), "referral.declineReferral", {Relation.RECEIVER}, field="id")
    assert err.value.code == "FORBIDDEN" and err.value.field == "id"
    assert "declineReferral" in err.value.message and "leader as receiver" in err.value.message
    authorize(who("leader"), "referral.declineReferral", {Relation.RECEIVER})
    # No relation at all counts as "none"; an operation nobody wrote a rule for is a bug.
    assert not permits(who("clerk"), "referral.draftReferral", [])
    with pytest.raises(KeyError):
        permits(who("clerk"), "referral.noSuchThing", {Relation.SENDER})
