"""Cases: creation under the right pack, answers merged and re-classified, checklist, board
report, optimistic locking, input errors that lose nothing."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from procurement.db.models import AuditEvent, Decision
from procurement.demo import BLOCKED, HIGH, INCOMPLETE, LOW, OUT_OF_SCOPE, REVIEW
from procurement.errors import ConflictError, InputError, NotFoundError
from procurement.services import answers_hash


def _events(svc, case_id):
    return [e.event_type for e in svc.case_history(svc.actor_for("a-admin"), case_id)]


def test_new_case_is_a_classified_draft_with_its_decision_and_event(services, planner):
    view = services.create_case(planner, " 議事録要約 ", "総務課", answers=HIGH)
    assert (view.status, view.level, view.is_complete, view.has_blocking) == ("draft", "high", True, False)
    assert view.title == "議事録要約" and view.version == 1 and view.owner_id == planner.user_id
    assert view.answers == HIGH and view.answers_hash == answers_hash(HIGH)
    assert view.classification.level == "high" and view.pack_matches
    assert [d.kind for d in view.decisions] == ["classification"]
    assert view.decisions[0].answers_hash == view.answers_hash
    assert view.decisions[0].pack_fingerprint == view.pack_fingerprint
    assert _events(services, view.id) == ["case.created"]


def test_pack_is_the_national_edition_in_force_on_the_case_date(services, planner, service_clock):
    service_clock.now = datetime(2026, 6, 11, 14, 0, tzinfo=UTC)  # 23:01 JST on 06-11
    v1 = services.create_case(planner, "t", "d")
    service_clock.now = datetime(2026, 6, 11, 15, 0, tzinfo=UTC)  # 00:01 JST on 06-12
    v2 = services.create_case(planner, "t", "d")
    assert (v1.pack_id, v1.pack_version.split(".")[0]) == ("jp-national", "1")
    assert (v2.pack_id, v2.pack_version.split(".")[0]) == ("jp-national", "2")
    assert v1.pack_fingerprint != v2.pack_fingerprint


def test_explicit_pack_beats_the_organisation_pack_which_beats_the_date(services, admin, planner):
    services.set_org_pack(admin, "org-a", "city-strict")
    assert services.create_case(planner, "t", "d").pack_id == "city-strict"
    explicit = services.create_case(planner, "t", "d", pack_ref="jp-national@1")
    assert (explicit.pack_id, explicit.pack_version.split(".")[0]) == ("jp-national", "1")
    with pytest.raises(InputError) as err:
        services.create_case(planner, "t", "d", pack_ref="jp-national@9")
    assert err.value.params["value"] == "jp-national@9"


def test_bad_answers_are_refused_and_nothing_is_saved(services, planner):
    with pytest.raises(InputError):
        services.create_case(planner, "t", "d", answers={"SC-1": "perhaps"})
    with pytest.raises(InputError):
        services.create_case(planner, "t", "d", answers={"NO-SUCH": "yes"})
    with pytest.raises(InputError) as err:
        services.create_case(planner, "", "d")
    assert err.value.params["field"] == "title"
    assert services.list_cases(planner) == []


def test_save_answers_merges_clears_and_reclassifies(services, planner):
    view = services.create_case(planner, "t", "d", answers=LOW)
    view = services.save_answers(planner, view.id, {"HR-1": "public"}, view.version)
    assert view.level == "high" and view.answers["HR-1"] == "public" and view.version == 2
    view = services.save_answers(planner, view.id, {"HR-1": None, "HR-2": None}, view.version)
    assert "HR-1" not in view.answers and not view.is_complete
    assert set(view.classification.unanswered) == {"HR-1", "HR-2"}
    assert view.answers_hash == answers_hash(view.answers)
    kinds = [d.kind for d in view.decisions]
    assert kinds == ["classification", "classification", "classification"]
    assert _events(services, view.id) == [
        "case.created", "case.answers_saved", "case.classified", "case.answers_saved",
        "case.classified",
    ]


def test_saving_the_same_answers_changes_nothing(services, planner):
    view = services.create_case(planner, "t", "d", answers=LOW)
    again = services.save_answers(planner, view.id, {"HR-1": "staff_limited"}, view.version)
    assert again.version == view.version
    assert _events(services, view.id) == ["case.created"]


def test_a_stale_save_is_a_conflict_and_overwrites_nothing(services, planner, planner2):
    first = services.create_case(planner, "t", "d", answers=LOW)
    services.save_answers(planner, first.id, {"HR-4": "partial_review"}, first.version)
    with pytest.raises(ConflictError) as err:
        services.save_answers(planner2, first.id, {"HR-4": "no_review"}, first.version)
    assert err.value.params == {"case_id": first.id, "expected_version": 1, "stored_version": 2}
    for call in (
        lambda: services.set_checklist_item(planner2, first.id, "PC-G1", "met", "", 1),
        lambda: services.save_board_report(planner2, first.id, {"objectives": "x"}, 1),
        lambda: services.submit(planner2, first.id, 1),
        lambda: services.withdraw(planner2, first.id, 1),
    ):
        with pytest.raises(ConflictError):
            call()
    assert services.get_case(planner, first.id).answers["HR-4"] == "partial_review"


def test_invalid_answer_on_save_keeps_what_was_saved(services, planner):
    view = services.create_case(planner, "t", "d", answers=LOW)
    with pytest.raises(InputError):
        services.save_answers(planner, view.id, {"HR-1": "public", "HR-2": "bogus"}, view.version)
    after = services.get_case(planner, view.id)
    assert after.answers == LOW and after.version == view.version


def test_checklist_items_are_validated_and_recorded(services, planner):
    view = services.create_case(planner, "t", "d", answers=LOW)
    view = services.set_checklist_item(planner, view.id, "PC-G1", "met", "契約書 第3条", view.version)
    entry = view.checklist["PC-G1"]
    assert (entry.status, entry.evidence, entry.updated_by) == ("met", "契約書 第3条", "a-planner")
    with pytest.raises(InputError) as err:
        services.set_checklist_item(planner, view.id, "PC-G1", "done", "", view.version)
    assert err.value.params["field"] == "status"
    with pytest.raises(InputError) as err:
        services.set_checklist_item(planner, view.id, "XX-9", "met", "", view.version)
    assert err.value.params["value"] == "XX-9"
    assert "case.checklist_set" in _events(services, view.id)


def test_edition_2_items_do_not_exist_under_edition_1(services, planner):
    view = services.create_case(planner, "t", "d", pack_ref="jp-national@1", answers=HIGH)
    with pytest.raises(InputError):
        services.set_checklist_item(planner, view.id, "PC-T2", "met", "", view.version)


def test_board_report_saves_known_fields_only(services, planner):
    view = services.create_case(planner, "t", "d", answers=HIGH)
    view = services.save_board_report(planner, view.id, {"objectives": "目的", "contact": "内線1"},
                                      view.version)
    assert view.board_report["objectives"] == "目的" and view.board_report["qa_plan"] == ""
    with pytest.raises(InputError) as err:
        services.save_board_report(planner, view.id, {"budget": "1"}, view.version)
    assert err.value.params["fields"] == ["budget"]
    assert "case.board_report_saved" in _events(services, view.id)


def test_list_cases_filters(services, planner, planner2):
    a = services.create_case(planner, "議事録要約", "総務課", answers=HIGH)
    services.create_case(planner2, "翻訳", "国際課", answers=LOW)
    services.create_case(planner2, "範囲外", "総務課", answers=OUT_OF_SCOPE)
    assert len(services.list_cases(planner)) == 3
    assert [c.id for c in services.list_cases(planner, mine=True)] == [a.id]
    assert [c.title for c in services.list_cases(planner, level="low")] == ["翻訳"]
    assert {c.title for c in services.list_cases(planner, search="総務")} == {"議事録要約", "範囲外"}
    assert services.list_cases(planner, status="approved") == []
    with pytest.raises(InputError):
        services.list_cases(planner, status="finished")


def test_review_and_blocked_and_incomplete_levels(services, planner):
    assert services.create_case(planner, "t", "d", answers=REVIEW).level == "review"
    blocked = services.create_case(planner, "t", "d", answers=BLOCKED)
    assert blocked.has_blocking and blocked.classification.blocking
    assert not services.create_case(planner, "t", "d", answers=INCOMPLETE).is_complete


def test_unknown_case_is_not_found(services, planner):
    with pytest.raises(NotFoundError):
        services.get_case(planner, 999)
    with pytest.raises(NotFoundError):
        services.save_answers(planner, 999, {"SC-1": "yes"}, 1)


def test_every_change_appends_exactly_one_event_in_its_transaction(services, planner):
    view = services.create_case(planner, "t", "d", answers=LOW)
    with services.read() as s:
        before = s.scalar(select(AuditEvent.seq).where(AuditEvent.chain == "org-a")
                          .order_by(AuditEvent.seq.desc()).limit(1))
    services.set_checklist_item(planner, view.id, "PC-G1", "met", "契約書 第3条", view.version)
    with services.read() as s:
        rows = list(s.scalars(select(AuditEvent).where(AuditEvent.seq > before)))
        decisions = list(s.scalars(select(Decision).where(Decision.case_id == view.id)))
    assert [(r.event_type, r.case_id, r.actor) for r in rows] == [
        ("case.checklist_set", view.id, "a-planner")]
    assert len(decisions) == 1
