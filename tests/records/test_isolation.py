"""Role and organisation isolation for every case service function: another organisation's
user sees nothing and changes nothing; an auditor reads but never writes; only planners edit and
only reviewers decide."""

import pytest

from procurement.demo import HIGH
from procurement.errors import NotFoundError, PermissionDeniedError
from tests.fixtures.services import submit_filled

#: Every case function, called on case `c` (a submitted case of org-a, version `v`).
WRITES = {
    "create_case": lambda s, a, c, v: s.create_case(a, "t", "d", answers=HIGH),
    "save_answers": lambda s, a, c, v: s.save_answers(a, c, {"HR-4": "no_review"}, v),
    "set_checklist_item": lambda s, a, c, v: s.set_checklist_item(a, c, "PC-G1", "met", "仕様書", v),
    "set_checklist_items": lambda s, a, c, v: s.set_checklist_items(
        a, c, {"PC-G1": ("met", "仕様書"), "PC-G3": ("pending", "")}, v),
    "save_board_report": lambda s, a, c, v: s.save_board_report(a, c, {"objectives": "x"}, v),
    "submit": lambda s, a, c, v: s.submit(a, c, v),
    "return_case": lambda s, a, c, v: s.return_case(a, c, "comment", v),
    "approve": lambda s, a, c, v: s.approve(a, c, v),
    "withdraw": lambda s, a, c, v: s.withdraw(a, c, v),
    "import_cases": lambda s, a, c, v: s.import_cases(a, [{"title": "t", "department": "d",
                                                           "answers": HIGH}]),
}
READS = {
    "get_case": lambda s, a, c: s.get_case(a, c),
    "case_history": lambda s, a, c: s.case_history(a, c),
}
#: Which role may call each write (the others get PermissionDeniedError).
WRITER_ROLE = {
    "create_case": "planner", "save_answers": "planner", "set_checklist_item": "planner",
    "set_checklist_items": "planner",
    "save_board_report": "planner", "submit": "planner", "withdraw": "planner",
    "import_cases": "planner", "return_case": "reviewer", "approve": "reviewer",
}
CASE_WRITES = [name for name in WRITES if name not in ("create_case", "import_cases")]


@pytest.fixture
def case(services, planner):
    return submit_filled(services, planner, services.create_case(planner, "t", "d", answers=HIGH))


def test_another_organisation_can_neither_read_nor_change_a_case(
        services, other_planner, other_reviewer, planner, case):
    for name, read in READS.items():
        for actor in (other_planner, other_reviewer):
            with pytest.raises(NotFoundError):
                read(services, actor, case.id)
    for name in CASE_WRITES:
        actor = other_planner if WRITER_ROLE[name] == "planner" else other_reviewer
        with pytest.raises(NotFoundError):
            WRITES[name](services, actor, case.id, case.version)
    after = services.get_case(planner, case.id)
    assert after.version == case.version and after.status == case.status
    assert len(after.decisions) == 2  # classification, submission


def test_another_organisation_does_not_list_the_case(services, other_planner, case):
    assert services.list_cases(other_planner) == []
    assert services.list_cases(other_planner, search="t") == []


ROLE_OF = {"a-auditor": "auditor", "a-packadmin": "pack_admin", "a-admin": "admin",
           "a-planner": "planner", "a-reviewer": "reviewer"}


def test_each_write_is_denied_to_every_other_role(services, org_actors, case):
    for name in WRITES:
        denied = [user for user, role in ROLE_OF.items() if role != WRITER_ROLE[name]]
        assert len(denied) == 4
        for username in denied:
            with pytest.raises(PermissionDeniedError):
                WRITES[name](services, org_actors[username], case.id, case.version)
    after = services.get_case(org_actors["a-auditor"], case.id)
    assert after.version == case.version and len(services.list_cases(org_actors["a-auditor"])) == 1


def test_an_auditor_reads_everything_of_its_organisation(services, auditor, case):
    for read in READS.values():
        assert read(services, auditor, case.id)
    assert [c.id for c in services.list_cases(auditor)] == [case.id]


def test_an_auditor_never_writes_even_through_the_unit_of_work(services, auditor, case):
    with pytest.raises(PermissionDeniedError):
        with services.unit_of_work(auditor):
            pass
