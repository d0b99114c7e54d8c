"""Issue 18, codegen without custom scalars: the coordination graph's standard-typed
replacements of ``Date`` and ``Decimal``, through the real schema on a movable clock (Monday
2 March 2026, 09:00 China time). A day given as a ``String`` YYYY-MM-DD is recorded and read
back as the same day by the new ``…Date`` fields and by the deprecated ``Date`` ones; the
deprecated inputs keep working; a required day given by neither is REQUIRED, by both but
different INPUTS_DISAGREE, and a malformed one INVALID_DATE, each naming the input field and
leaving nothing written. A fee is integer fen: queries are free (R-INF-01)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.fixtures.schedules import graphql_input, hypothetical_schedule
from tests.integration.coordination.test_authz_coordination import (
    COORD,
    GOV,
    MARKET_CLERK,
    MARKET_REVIEWER,
    NATRES_LEADER,
    TOWN_CLERK,
    meeting_input,
)
from tests.integration.coordination.test_coordination_registry_codes_graph import (
    Clocked,
    clocked,  # noqa: F401
    meeting,
)
from tests.integration.coordination.test_coordination_workflow_error_codes import (
    COMMENT,
    ERROR,
    INITIATE,
    START,
    SUBMIT_PLAN,
    TOWN_LEADER,
    answer,
    assert_accepted,
    assert_refused,
    operation,
    plan,
)


def mutation(field: str, answers: str, input_type: str = "") -> str:
    """``field(input: $input)`` aliased ``m``: ``answers`` (``Type { selection }``) or the
    UserError; the input type is named after the field unless given."""
    input_type = input_type or field[0].upper() + field[1:] + "Input"
    return (
        f"mutation($input: {input_type}!) {{ m: {field}(input: $input) {{ "
        f"__typename ... on {answers} {ERROR} }} }}"
    )


MALFORMED = ("2026-02-30", "2026-3-9", "2026-03-09T00:00", "2026/03/09", "")

# -- joint tasks (R-JNT-04) ----------------------------------------------------------------------

ASSIGN = mutation(
    "assignJointTask", "JointOperation { id tasks { description deadline deadlineDate } }"
)
OPERATION = "query($id: ID!) { jointOperation(id: $id) { tasks { description } } }"


async def _started_operation(g: Clocked) -> str:
    op: str = (await answer(g, NATRES_LEADER, INITIATE, input=operation("fy-hancong")))["id"]
    assert_accepted(await answer(g, NATRES_LEADER, SUBMIT_PLAN, input=plan(op)), "JointOperation")
    assert_accepted(await answer(g, TOWN_LEADER, COMMENT, id=op), "JointOperation")
    assert_accepted(await answer(g, NATRES_LEADER, START, id=op), "JointOperation")
    return op


async def test_R_JNT_04_a_joint_tasks_deadline_as_a_string_day(clocked: Clocked) -> None:  # noqa: F811
    g = clocked
    op = await _started_operation(g)
    task = {"operationId": op, "agencyId": "fy-hancong"}

    async def assign(description: str, **day: Any) -> dict[str, Any]:
        return await answer(
            g, NATRES_LEADER, ASSIGN, input={**task, "description": description, **day}
        )

    async def tasks() -> list[str]:
        got = (await g.data(NATRES_LEADER, OPERATION, id=op))["jointOperation"]
        return [t["description"] for t in got["tasks"]]

    # Refused, naming the field, nothing written.
    assert_refused(await assign("缺期限"), "REQUIRED", "deadlineDate")
    differ = await assign("两个期限", deadline="2026-03-09", deadlineDate="2026-03-10")
    assert_refused(differ, "INPUTS_DISAGREE", "deadlineDate")
    for bad in MALFORMED:
        assert_refused(await assign("坏期限", deadlineDate=bad), "INVALID_DATE", "deadlineDate")
    assert await tasks() == []

    # R-JNT-04's boundary through the new input: yesterday refused (the domain's refusal
    # names the input the client sent), today accepted.
    assert_refused(await assign("昨日", deadlineDate="2026-03-01"), "IN_THE_PAST", "deadlineDate")
    assert_refused(await assign("昨日", deadline="2026-03-01"), "IN_THE_PAST", "deadline")
    today = await assign("今日", deadlineDate="2026-03-02")
    assert_accepted(today, "JointOperation")
    assert [(t["deadlineDate"], t["deadline"]) for t in today["tasks"]] == [
        ("2026-03-02", "2026-03-02")
    ]
    # The deprecated input still works, alone or with the same day beside it.
    old = await assign("旧字段", deadline="2026-03-09")
    assert_accepted(old, "JointOperation")
    same = await assign("同一天", deadline="2026-03-10", deadlineDate="2026-03-10")
    assert_accepted(same, "JointOperation")
    assert [(t["description"], t["deadlineDate"]) for t in same["tasks"]] == [
        ("今日", "2026-03-02"),
        ("旧字段", "2026-03-09"),
        ("同一天", "2026-03-10"),
    ]


# -- meetings (R-MTG-01) ----------------------------------------------------------------------

MEETING = (
    "query($id: ID!) { meeting(id: $id) { noticeLatestOn noticeLatestDate "
    "minutes { tasks { description deadline deadlineDate } } } }"
)


async def test_R_MTG_01_minutes_tasks_deadlines_as_string_days(clocked: Clocked) -> None:  # noqa: F811
    g = clocked
    starts = g.now + timedelta(days=40)  # fy-coord convenes the market and natres bureaus
    scheduled = await answer(g, COORD, meeting("schedule"), input=meeting_input(starts))
    assert_accepted(scheduled, "Meeting")
    mid = scheduled["id"]
    for who in (MARKET_CLERK, NATRES_LEADER):
        assert_accepted(await answer(g, who, meeting("rsvp"), id=mid), "Meeting")
    g.move_to(starts + timedelta(hours=2))

    measure = {
        "description": "现场测量",
        "ownerAgencyId": "fy-natres",
        "deadlineDate": "2026-04-30",
    }
    demolish = {"description": "责令拆除", "ownerAgencyId": "fy-market", "deadline": "2026-05-08"}

    def draft(*tasks: dict[str, Any]) -> dict[str, Any]:
        return {
            "meetingId": mid,
            "decisions": "由自然资源局牵头查处违法占地。",
            "tasks": list(tasks),
        }

    # The second task's field is named by its place in the list.
    bad = await answer(
        g,
        COORD,
        meeting("draft"),
        input=draft(measure, {**demolish, "deadlineDate": "2026-5-8"}),
    )
    assert_refused(bad, "INVALID_DATE", "tasks.1.deadlineDate")
    neither = {k: v for k, v in demolish.items() if k != "deadline"}
    missing = await answer(g, COORD, meeting("draft"), input=draft(measure, neither))
    assert_refused(missing, "REQUIRED", "tasks.1.deadlineDate")
    differ = {**demolish, "deadlineDate": "2026-05-09"}
    both = await answer(g, COORD, meeting("draft"), input=draft(measure, differ))
    assert_refused(both, "INPUTS_DISAGREE", "tasks.1.deadlineDate")
    # R-MTG-01: a task's deadline lies after the meeting's day; the domain's refusal names the
    # input each task used.
    today = {**measure, "deadlineDate": (starts + timedelta(hours=2)).date().isoformat()}
    past = await answer(g, COORD, meeting("draft"), input=draft(today, demolish))
    assert_refused(past, "IN_THE_PAST", "tasks.0.deadlineDate")
    assert (await g.data(COORD, MEETING, id=mid))["meeting"]["minutes"] is None

    drafted = await answer(g, COORD, meeting("draft"), input=draft(measure, demolish))
    assert_accepted(drafted, "Meeting")
    read = (await g.data(COORD, MEETING, id=mid))["meeting"]
    assert read["noticeLatestDate"] == read["noticeLatestOn"]
    assert [(t["deadlineDate"], t["deadline"]) for t in read["minutes"]["tasks"]] == [
        ("2026-04-30", "2026-04-30"),
        ("2026-05-08", "2026-05-08"),
    ]


# -- information queries: a fee in fen (R-INF-01) ------------------------------------------------

ASK = mutation("askInformation", "InformationQuery { id status }")
ANSWER = mutation("answerInformationQuery", "InformationQuery { id status }")


async def test_R_INF_01_a_fee_in_fen_zero_is_free_one_fen_is_refused(clocked: Clocked) -> None:  # noqa: F811
    g = clocked
    ask = {
        "requesterId": "fy-hancong",
        "holderId": "fy-market",
        "subject": "某商户登记信息",
        "purpose": "核实",
    }
    asked = await answer(g, TOWN_CLERK, ASK, input=ask)
    assert_accepted(asked, "InformationQuery")
    reply = {"queryId": asked["id"], "content": "登记信息……", "classification": "INTERNAL"}

    one_fen = await answer(g, MARKET_CLERK, ANSWER, input={**reply, "feeFen": 1})
    assert_refused(one_fen, "OUT_OF_RANGE", "feeFen")  # as feeYuan: R-INF-01, no fee
    assert "R-INF-01" in one_fen["message"]
    negative = await answer(g, MARKET_CLERK, ANSWER, input={**reply, "feeFen": -1})
    assert_refused(negative, "OUT_OF_RANGE", "feeFen")
    differ = await answer(g, MARKET_CLERK, ANSWER, input={**reply, "feeFen": 0, "feeYuan": "0.01"})
    assert_refused(differ, "INPUTS_DISAGREE", "feeFen")
    old = await answer(g, MARKET_CLERK, ANSWER, input={**reply, "feeYuan": "0.01"})
    assert_refused(old, "OUT_OF_RANGE", "feeYuan")  # the deprecated input, as before

    free = await answer(g, MARKET_CLERK, ANSWER, input={**reply, "feeFen": 0, "feeYuan": "0"})
    assert_accepted(free, "InformationQuery")
    assert free["status"] == "ANSWERED"


# -- jurisdiction and the catalogue (R-CAT-02, R-CAT-04) ---------------------------------------

JURISDICTION = (
    "query($on: Date, $onDate: String, $opened: Date, $openedDate: String) { "
    'j: jurisdiction(matterCode: "FY-SCJG-001", townshipId: "fy-hancong", on: $on, '
    "onDate: $onDate, caseOpenedOn: $opened, caseOpenedDate: $openedDate) { "
    "__typename ... on Jurisdiction { on onDate agencyId reason explanation ruleId entryVersion } "
    + ERROR
    + " } }"
)


async def _jurisdiction(g: Clocked, **args: Any) -> dict[str, Any]:
    got: dict[str, Any] = (await g.data(TOWN_CLERK, JURISDICTION, **args))["j"]
    return got


async def test_R_CAT_02_jurisdiction_on_a_string_day_answers_as_on_a_date(clocked: Clocked) -> None:  # noqa: F811
    g = clocked
    for day in ("2026-03-02", "2024-01-01"):
        by_date = await _jurisdiction(g, on=day, opened=day)
        by_string = await _jurisdiction(g, onDate=day, openedDate=day)
        assert_accepted(by_string, "Jurisdiction")
        assert by_string == by_date
        assert by_string["onDate"] == by_string["on"] == day
    assert (await _jurisdiction(g))["onDate"] == "2026-03-02"  # default: today on the clock
    assert_refused(await _jurisdiction(g, onDate="2026-02-29"), "INVALID_DATE", "onDate")
    bad_opened = await _jurisdiction(g, openedDate="2026-03-02T00:00")
    assert_refused(bad_opened, "INVALID_DATE", "caseOpenedDate")
    differ = await _jurisdiction(g, on="2026-03-02", onDate="2026-03-03")
    assert_refused(differ, "INPUTS_DISAGREE", "onDate")


DEFINE = mutation(
    "defineCatalogueEntry",
    "CatalogueEntry { code delegations { effectiveFrom effectiveFromDate expiresOn expiryDate "
    "transitionUntil transitionEndDate reviewedOn reviewedDate approvedOn approvedDate } }",
)
DESIGNATE = mutation(
    "designateResponsibleAgency",
    "CatalogueEntry { code routingRules { effectiveFrom effectiveFromDate } }",
)
ENTRY = "query($code: String!) { catalogueEntry(code: $code) { code } }"


async def test_R_CAT_02_R_CAT_04_catalogue_days_as_strings(clocked: Clocked) -> None:  # noqa: F811
    g = clocked
    entry = {
        "code": "FY-SCJG-900",
        "name": "网络餐饮服务监管",
        "originalDepartmentId": "fy-market",
        "legalBasis": "《网络餐饮服务食品安全监督管理办法》",
    }
    agreement = {"townshipId": "fy-hancong", "mode": "AGREEMENT", "effectiveFromDate": "2026-04-01"}

    async def define(*delegations: dict[str, Any]) -> dict[str, Any]:
        return await answer(
            g, MARKET_REVIEWER, DEFINE, input={**entry, "delegations": list(delegations)}
        )

    bad = await define(agreement | {"expiryDate": "2027-02-29"})
    assert_refused(bad, "INVALID_DATE", "delegations.0.expiryDate")
    neither = {k: v for k, v in agreement.items() if k != "effectiveFromDate"}
    missing = await define(neither | {"expiryDate": "2027-03-31"})
    assert_refused(missing, "REQUIRED", "delegations.0.effectiveFromDate")
    # R-CAT-02: an agreement (委托) has a term; the domain's refusal names the replacement.
    no_term = await define(agreement)
    assert_refused(no_term, "REQUIRED", "delegations.0.expiryDate")
    before = await define(agreement | {"expiryDate": "2026-03-31"})
    assert_refused(before, "OUT_OF_RANGE", "delegations.0.expiryDate")
    assert (await g.data(GOV, ENTRY, code="FY-SCJG-900"))["catalogueEntry"] is None

    defined = await define(agreement | {"expiryDate": "2027-03-31"})
    assert_accepted(defined, "CatalogueEntry")
    [d] = defined["delegations"]
    assert (d["effectiveFromDate"], d["expiryDate"]) == ("2026-04-01", "2027-03-31")
    for old, new in (
        ("effectiveFrom", "effectiveFromDate"),
        ("expiresOn", "expiryDate"),
        ("transitionUntil", "transitionEndDate"),
        ("reviewedOn", "reviewedDate"),
        ("approvedOn", "approvedDate"),
    ):
        assert d[new] == d[old], (old, new)

    designation = {
        "matterCode": "FY-NEW-900",
        "matterName": "新型业态监管",
        "responsibleAgencyId": "fy-market",
        "basis": "抚政办〔2026〕9号",
    }
    bad_day = await answer(
        g, GOV, DESIGNATE, input={**designation, "effectiveFromDate": "2026-4-1"}
    )
    assert_refused(bad_day, "INVALID_DATE", "effectiveFromDate")
    designated = await answer(
        g, GOV, DESIGNATE, input={**designation, "effectiveFromDate": "2026-04-01"}
    )
    assert_accepted(designated, "CatalogueEntry")
    assert [(r["effectiveFromDate"], r["effectiveFrom"]) for r in designated["routingRules"]] == [
        ("2026-04-01", "2026-04-01")
    ]


# -- assistance (R-AST-01) and the holiday schedule --------------------------------------------

REQUEST = mutation("requestAssistance", "AssistanceRequest { id }")
REPLY = mutation("replyToAssistance", "AssistanceRequest { status agreedStartOn agreedStartDate }")


async def test_R_AST_01_the_agreed_start_as_a_string_day(clocked: Clocked) -> None:  # noqa: F811
    g = clocked
    request = {
        "requesterId": "fy-hancong",
        "helperId": "fy-market",
        "matters": ["协助调取营业执照登记信息"],
        "letterNumber": "寒政函〔2026〕1号",
    }
    asked = await answer(g, TOWN_CLERK, REQUEST, input=request)
    assert_accepted(asked, "AssistanceRequest")
    reply = {"requestId": asked["id"], "willHelp": True, "replyLetterNumber": "市监复〔2026〕1号"}
    # R-AST-01: a non-urgent request is helped from an agreed day, not one in the past; the
    # domain's refusals name the replacement unless the deprecated input was sent.
    none = await answer(g, MARKET_CLERK, REPLY, input=reply)
    assert_refused(none, "REQUIRED", "agreedStartDate")
    past = await answer(g, MARKET_CLERK, REPLY, input={**reply, "agreedStartDate": "2026-03-01"})
    assert_refused(past, "IN_THE_PAST", "agreedStartDate")
    old = await answer(g, MARKET_CLERK, REPLY, input={**reply, "agreedStartOn": "2026-03-01"})
    assert_refused(old, "IN_THE_PAST", "agreedStartOn")
    bad = await answer(g, MARKET_CLERK, REPLY, input={**reply, "agreedStartDate": "2026-03-32"})
    assert_refused(bad, "INVALID_DATE", "agreedStartDate")
    helped = await answer(g, MARKET_CLERK, REPLY, input={**reply, "agreedStartDate": "2026-03-05"})
    assert_accepted(helped, "AssistanceRequest")
    assert (helped["status"], helped["agreedStartDate"], helped["agreedStartOn"]) == (
        "ACCEPTED",
        "2026-03-05",
        "2026-03-05",
    )


IMPORT = mutation(
    "importHolidaySchedule",
    "HolidayScheduleImport { schedule { daysOff { date day } workingDays { date day } } }",
    "HolidayScheduleInput",
)


async def test_issue_20_holiday_schedule_days_as_string_days(clocked: Clocked) -> None:  # noqa: F811
    g = clocked
    h = hypothetical_schedule()
    loaded = await answer(g, COORD, IMPORT, input=graphql_input(h.data))
    assert_accepted(loaded, "HolidayScheduleImport")
    schedule = loaded["schedule"]
    assert {"date": str(h.worked_saturday), "day": str(h.worked_saturday)} in schedule[
        "workingDays"
    ]
    assert {"date": str(h.extra_day_off), "day": str(h.extra_day_off)} in schedule["daysOff"]
    got = await g.data(
        GOV, "{ holidaySchedules { daysOff { date day } workingDays { date day } } }"
    )
    [read] = got["holidaySchedules"]
    assert read == schedule
    assert all(d["day"] == d["date"] for d in (*read["daysOff"], *read["workingDays"]))
