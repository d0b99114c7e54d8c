"""The referral subgraph: Referral and Complaint are entities; Agency is referenced by id and
resolved by the coordination subgraph.

The subgraph is composed here from its capabilities, each in its own module: the types
(types.py), the inputs (inputs.py), the queries (queries.py) and the mutations of
referrals, materials, the crime route, delegation and complaints. The root types list
their fields in the order the published SDL has them."""

from __future__ import annotations

import strawberry
from strawberry.federation import Schema

from kernel import schema_docs
from kernel.graphql import UserError, schema_config, schema_extensions
from referral.entrypoints.graphql import complaints, crime, delegation, materials, referrals
from referral.entrypoints.graphql.agency import Agency
from referral.entrypoints.graphql.context import ReferralContext
from referral.entrypoints.graphql.queries import Query
from referral.entrypoints.graphql.types import Complaint, Referral

__all__ = ["Mutation", "Query", "Referral", "ReferralContext", "build_schema"]


@strawberry.type(description=schema_docs.MUTATION)
class Mutation:
    draft_referral = strawberry.mutation(
        resolver=referrals.draft_referral,
        description="Start a referral in the sending agency.",
    )
    add_referral_material = strawberry.mutation(
        resolver=materials.add_referral_material,
        description="Record a material (移送函, source, evidence) on a draft.",
    )
    generate_transfer_letter = strawberry.mutation(
        resolver=materials.generate_transfer_letter,
        description="Generate the transfer letter (移送函) PDF from the draft and attach it as "
        "its transfer_letter material; its SHA-256 is what an electronic signature covers "
        "(R-REF-12). Download it at transferLetterUrl.",
    )
    remove_referral_material = strawberry.mutation(
        resolver=materials.remove_referral_material,
        description="Remove a material from a draft.",
    )
    extend_referral_send_deadline = strawberry.mutation(
        resolver=referrals.extend_referral_send_deadline,
        description="Extend the send limit (R-REF-04): prior notice to the receiver, never past "
        "the district maximum, counted in working days from discovery.",
    )
    submit_referral = strawberry.mutation(
        resolver=referrals.submit_referral,
        description="Submit a complete draft to the agency's leader.",
    )
    approve_referral = strawberry.mutation(
        resolver=referrals.approve_referral,
        description="A leader of the sending agency approves (R-REF-03).",
    )
    send_referral = strawberry.mutation(
        resolver=referrals.send_referral,
        description="Send an approved referral; electronic: signed transfer (R-REF-12).",
    )
    complete_referral_draft = strawberry.mutation(
        resolver=referrals.complete_referral_draft,
        description="The sender names the matter and party a draft did not know yet "
        "(a draft made from a grid dispatch, R-GRD-01).",
    )
    withdraw_referral = strawberry.mutation(
        resolver=referrals.withdraw_referral,
        description="The sender withdraws before acceptance.",
    )
    accept_referral = strawberry.mutation(
        resolver=referrals.accept_referral,
        description="The receiver accepts in writing (受理情况, R-REF-06).",
    )
    decline_referral = strawberry.mutation(
        resolver=referrals.decline_referral,
        description="The receiver's leader declines, citing the catalogue and naming an interim "
        "handler (R-REF-07); coordination opens a dispute.",
    )
    forward_referral = strawberry.mutation(
        resolver=referrals.forward_referral,
        description="A receiver without jurisdiction passes the case at once to the competent "
        "agency and stays responsible until it accepts (首接负责; R-REF-07, CQ 四(二)); only "
        "where the district's policy says so (acceptance.forward_when_not_competent). A "
        "competent receiver is refused (FORBIDDEN) and nothing changes.",
    )
    record_referral_penalty = strawberry.mutation(
        resolver=referrals.record_referral_penalty,
        description="Record the receiver's administrative penalty decision.",
    )
    mark_referral_handled = strawberry.mutation(
        resolver=referrals.mark_referral_handled,
        description="The receiver has handled the case.",
    )
    report_referral_result = strawberry.mutation(
        resolver=referrals.report_referral_result,
        description="Report the handling result to the sender (R-REF-08).",
    )
    close_referral = strawberry.mutation(
        resolver=referrals.close_referral,
        description="The sender closes the file after the result.",
    )
    supervise_referral = strawberry.mutation(
        resolver=referrals.supervise_referral,
        description="督办 a lingering case (government / coordinator, R-REF-13).",
    )
    answer_supervision = strawberry.mutation(
        resolver=referrals.answer_supervision,
        description="The receiver answers a 督办 in writing; its clock stops and the supervising "
        "agency is told (R-REF-13). Accepting, handling or reporting the case answers it too.",
    )
    consent_to_upward_referral = strawberry.mutation(
        resolver=referrals.consent_to_upward_referral,
        description="The department's leader consents to an upward transfer.",
    )
    record_referral_justice_filing = strawberry.mutation(
        resolver=referrals.record_referral_justice_filing,
        description="Record the filing (备案) with the justice bureau.",
    )
    transfer_referral_to_police = strawberry.mutation(
        resolver=crime.transfer_referral_to_police,
        description="Transfer a suspected crime to public security (R-REF-10).",
    )
    record_police_decision = strawberry.mutation(
        resolver=crime.record_police_decision,
        description="Public security records 立案 (filed) or 不立案 in writing, 不立案 with its "
        "reasons, within 3 days of receiving the case (Decree 310 第八条, R-REF-14).",
    )
    report_suspected_crime = strawberry.mutation(
        resolver=crime.report_suspected_crime,
        description="The written report of a suspected crime to the agency head, who decides "
        "within 3 days (Decree 310 第五条, R-REF-14).",
    )
    decide_crime_transfer = strawberry.mutation(
        resolver=crime.decide_crime_transfer,
        description="The agency head approves the transfer (to the police within 24 hours) or "
        "refuses it with the reasons on record (R-REF-14).",
    )
    request_crime_reconsideration = strawberry.mutation(
        resolver=crime.request_crime_reconsideration,
        description="Ask public security to reconsider 不立案, within 3 days of the notice "
        "(Decree 310 第九条, R-REF-14).",
    )
    answer_crime_reconsideration = strawberry.mutation(
        resolver=crime.answer_crime_reconsideration,
        description="Public security answers the reconsideration within 3 days (R-REF-14).",
    )
    request_procuratorate_supervision = strawberry.mutation(
        resolver=crime.request_procuratorate_supervision,
        description="Ask the procuratorate to supervise the decision not to file a case "
        "(立案监督, Decree 310 第九条, R-REF-14).",
    )
    reopen_case_after_not_filed = strawberry.mutation(
        resolver=crime.reopen_case_after_not_filed,
        description="不立案 is final: the administrative case reopens with a new clock (R-REF-10).",
    )
    record_crime_materials_handover = strawberry.mutation(
        resolver=crime.record_crime_materials_handover,
        description="After 立案 the materials are handed over within 3 days (Decree 310 "
        "第十二条, R-REF-14).",
    )
    record_crime_fine_paid = strawberry.mutation(
        resolver=crime.record_crime_fine_paid,
        description="A fine given before the transfer and paid: it counts against a later "
        "criminal fine (Decree 310 第十一条, R-REF-14).",
    )
    set_electronic_transfer_consent = strawberry.mutation(
        resolver=referrals.set_electronic_transfer_consent,
        description="Your agency consents (or not) to receive electronically from another.",
    )
    transfer_referrals_at_delegation = strawberry.mutation(
        resolver=delegation.transfer_referrals_at_delegation,
        description="Move a department's open referrals of a delegated matter to the township "
        "(R-REF-11); closed ones stay archived.",
    )
    register_complaint = strawberry.mutation(
        resolver=complaints.register_complaint,
        description="Register a complaint in your agency (首问责任制, R-CMP-01).",
    )
    answer_complaint = strawberry.mutation(
        resolver=complaints.answer_complaint,
        description="First check found no violation: answer (R-CMP-03).",
    )
    open_case_from_complaint = strawberry.mutation(
        resolver=complaints.open_case_from_complaint,
        description="Within your powers: open your own case (R-CMP-03).",
    )
    refer_complaint = strawberry.mutation(
        resolver=complaints.refer_complaint,
        description="Another's matter: a referral draft from the complaint.",
    )
    request_complaint_handover = strawberry.mutation(
        resolver=complaints.request_complaint_handover,
        description="Ask another agency to take the complaint (R-CMP-02).",
    )
    answer_complaint_handover = strawberry.mutation(
        resolver=complaints.answer_complaint_handover,
        description="The asked agency consents to (or refuses) the hand-over.",
    )
    tell_complainant_result = strawberry.mutation(
        resolver=complaints.tell_complainant_result,
        description="Tell the complainant the result (R-CMP-04).",
    )


def build_schema(production: bool = False) -> Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        types=[Referral, Complaint, Agency, UserError],
        federation_version="2.9",
        extensions=schema_extensions(production),
        config=schema_config(),
    )
