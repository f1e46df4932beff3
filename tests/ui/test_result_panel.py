"""The result panel always says why: also when no rule fired and the default level applies."""

from __future__ import annotations

from tests.ui.helpers import assert_clean, go, texts

LOW = {"SC-1": "yes", "SC-2": "no", "SC-3": "fy2026_or_later", "SC-4": "in_house",
       "HR-1": "staff_limited", "HR-2": "internal_support", "HR-3": "public_only",
       "HR-4": "always_reviewed"}


def test_a_complete_low_case_explains_the_default_level(ui_actors, ui_services, make_app):
    planner = ui_actors["a-planner"]
    case = ui_services.create_case(planner, "庁内検索の試行", "総務課", answers=LOW)
    at = make_app(planner)
    at.session_state["case_id"] = case.id
    go(at, "workspace")
    assert_clean(at)
    shown = texts(at)
    assert "どの判定ルールにも当たらないため、既定の区分「低リスク」です。" in shown
    assert "まだ判定に使える回答がありません。" not in shown


def test_an_incomplete_case_without_a_fired_rule_does_not_claim_a_default(ui_actors, ui_services, make_app):
    planner = ui_actors["a-planner"]
    case = ui_services.create_case(planner, "途中の案件", "総務課", answers={"SC-1": "yes"})
    at = make_app(planner)
    at.session_state["case_id"] = case.id
    go(at, "workspace")
    assert_clean(at)
    shown = texts(at)
    assert "まだ判定に使える回答がありません。" in shown
    assert "既定の区分" not in shown
