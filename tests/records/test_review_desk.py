"""The desk services without Streamlit: the reviewer's inbox, a planner's returned cases, and
exactly what changed since a case was returned, read from the audit trail (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from procurement.demo import HIGH, LOW
from procurement.errors import NotFoundError, PermissionDeniedError
from tests.fixtures.services import TEST_PASSWORD, approve_recorded, submit_filled


@pytest.fixture
def named(services, admin):
    """org-a's planner and reviewers with display names, and a dual-role user."""
    for username, name, roles in (("n-planner", "企画 花子", ["planner"]),
                                  ("n-reviewer", "審査 一郎", ["reviewer"]),
                                  ("n-dual", "兼務 五郎", ["planner", "reviewer"])):
        services.create_user(admin, "org-a", username, name, TEST_PASSWORD, roles)
    return {u: services.actor_for(u) for u in ("n-planner", "n-reviewer", "n-dual")}


def _case(services, planner, title, answers=HIGH, pack_ref=None):
    return services.create_case(planner, title, "広報室", pack_ref, dict(answers))


def test_the_inbox_lists_submitted_cases_longest_waiting_first(services, named, service_clock):
    planner, reviewer, dual = named["n-planner"], named["n-reviewer"], named["n-dual"]
    service_clock.now = datetime(2026, 7, 1, tzinfo=UTC)
    older = submit_filled(services, planner, _case(services, planner, "先に提出"))
    service_clock.now = datetime(2026, 7, 4, tzinfo=UTC)
    newer = submit_filled(services, dual, _case(services, dual, "後に提出", LOW))
    _case(services, planner, "下書きのまま")
    service_clock.now = datetime(2026, 7, 11, 3, 0, tzinfo=UTC)

    inbox = services.review_inbox(reviewer)
    assert [e.case_id for e in inbox] == [older.id, newer.id]
    first, second = inbox
    assert (first.title, first.level, first.submitted_by, first.owner_name) == (
        "先に提出", "high", "企画 花子", "企画 花子")
    assert (first.days_waiting, second.days_waiting) == (10, 7)
    assert not first.resubmission and first.conflict is None
    assert services.inbox_count(reviewer) == 2
    # Four eyes: the dual-role user owns and submitted the newer case.
    marks = {e.case_id: e.conflict for e in services.review_inbox(dual)}
    assert marks == {older.id: None, newer.id: "owner"}
    assert services.inbox_count(planner) == 0
    with pytest.raises(PermissionDeniedError):
        services.review_inbox(planner)


def test_a_returned_case_comes_back_as_a_resubmission(services, named):
    planner, reviewer = named["n-planner"], named["n-reviewer"]
    case = submit_filled(services, planner, _case(services, planner, "FAQ"))
    returned = services.return_case(reviewer, case.id, "HR-2とHR-4を見直してください",
                                    case.version)
    assert services.review_inbox(reviewer) == []
    (mine,) = services.returned_cases(planner)
    assert (mine.case_id, mine.returned_by, mine.comment) == (
        case.id, "審査 一郎", "HR-2とHR-4を見直してください")
    assert services.returned_cases(named["n-dual"]) == []  # not theirs
    again = services.submit(planner, returned.id, returned.version)
    assert services.returned_cases(planner) == []
    (entry,) = services.review_inbox(reviewer)
    assert entry.case_id == again.id and entry.resubmission


def test_the_changes_since_the_return_are_exactly_what_the_planner_changed(services, named):
    planner, reviewer = named["n-planner"], named["n-reviewer"]
    case = submit_filled(services, planner, _case(services, planner, "FAQ",
                                                  pack_ref="jp-national@2.1.0"))
    assert services.changes_since_last_return(reviewer, case.id) is None  # a first submission
    view = services.return_case(reviewer, case.id, "HR-2とHR-4を見直してください", case.version)
    # Two answers changed; a third changed and changed back; an item and a report field.
    view = services.save_answers(planner, view.id, {"HR-2": "internal_support",
                                                    "HR-3": "personal_input"}, view.version)
    view = services.save_answers(planner, view.id, {"HR-4": "always_reviewed",
                                                    "HR-3": HIGH["HR-3"]}, view.version)
    view = services.submit(planner, view.id, view.version)

    since = services.changes_since_last_return(reviewer, case.id)
    assert (since.since, since.since_by, since.comment) == (
        "returned", "審査 一郎", "HR-2とHR-4を見直してください")
    assert [(c.kind, c.key, c.old, c.new, c.changed_by) for c in since.changes] == [
        ("answer", "HR-2", "public_info", "internal_support", ("企画 花子",)),
        ("answer", "HR-4", "partial_review", "always_reviewed", ("企画 花子",)),
    ]


def test_items_report_fields_and_details_are_listed_in_the_pack_s_order(services, named):
    planner, reviewer = named["n-planner"], named["n-reviewer"]
    case = submit_filled(services, planner, _case(services, planner, "FAQ"))
    view = services.return_case(reviewer, case.id, "根拠を", case.version)
    view = services.set_checklist_item(planner, view.id, "CC-4", "met", "契約書案 第5条",
                                       view.version)
    view = services.save_board_report(planner, view.id, {"schedule": "2027年4月開始"},
                                      view.version)
    view = services.save_case_details(planner, view.id, {"purpose": "問合せへの一次回答"},
                                      view.version)
    # Re-saving the same evidence is no change.
    view = services.set_checklist_item(planner, view.id, "PC-G1", "met",
                                       view.checklist["PC-G1"].evidence, view.version)
    since = services.changes_since_last_return(reviewer, case.id)
    assert [(c.kind, c.key) for c in since.changes] == [
        ("item", "CC-4"), ("board", "schedule"), ("detail", "purpose")]
    item = since.of_kind("item")[0]
    assert item.old["status"] == "met" and item.new == {"status": "met",
                                                        "evidence": "契約書案 第5条"}


def test_after_a_voided_approval_the_approval_is_the_reference(services, named):
    planner, reviewer = named["n-planner"], named["n-reviewer"]
    case = submit_filled(services, planner, _case(services, planner, "要約", LOW))
    approved = approve_recorded(services, reviewer, case)
    view = services.save_answers(planner, approved.id, {"HR-1": "staff_wide"}, approved.version)
    services.submit(planner, view.id, view.version)
    since = services.changes_since_last_return(reviewer, case.id)
    assert since.since == "approved"
    assert [(c.key, c.old, c.new) for c in since.changes] == [
        ("HR-1", "staff_limited", "staff_wide")]


def test_another_organisation_sees_nothing(services, named, other_reviewer):
    case = submit_filled(services, named["n-planner"], _case(services, named["n-planner"], "x"))
    assert services.review_inbox(other_reviewer) == []
    with pytest.raises(NotFoundError):
        services.changes_since_last_return(other_reviewer, case.id)
