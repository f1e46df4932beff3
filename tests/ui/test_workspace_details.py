"""Details of the workspace a 係長 noticed on the journey's screenshots: a finished step's 完了
never broken inside the word, the submission step offering buttons only to the other steps and
saying 任意 once, and a case the user cannot change shown without the promise that it follows
each answer, its checklists complete (every item, not the planner's filter)."""

from __future__ import annotations

from procurement.demo import HIGH
from tests.ui.helpers import assert_clean, open_step, texts
from tests.ui.test_workspace_result import open_case

WORD_JOINER = "\u2060"


def test_a_finished_step_says_done_in_one_unbreakable_word(ui_actors, ui_services, make_app):
    planner = ui_actors["a-planner"]
    case = ui_services.create_case(planner, "窓口案内", "市民課", answers=HIGH)
    at = open_case(make_app, planner, case.id, "classification")
    label = at.button(key="nav_intake").label
    assert label.endswith(WORD_JOINER.join("（完了）")), label
    assert "完了" not in label  # only with the joiners: a wrapped label cannot split it


def test_the_submission_step_points_only_to_other_steps(ui_actors, ui_services, make_app):
    planner = ui_actors["a-planner"]
    case = ui_services.create_case(planner, "窓口案内", "市民課", answers=HIGH)
    at = open_case(make_app, planner, case.id, "submission")
    gap_buttons = [str(b.key) for b in at.button if str(b.key or "").startswith("gap_go_")]
    assert gap_buttons, "a high case without its checklists has something missing"
    assert "gap_go_submission" not in gap_buttons
    (comment,) = [a for a in at.text_area if a.key == "submit_comment"]
    assert comment.label.count("任意") == 1, comment.label


def test_a_case_the_user_cannot_change_is_shown_whole_and_without_live_promise(
        ui_actors, ui_services, make_app):
    planner, reviewer = ui_actors["a-planner"], ui_actors["a-reviewer"]
    case = ui_services.create_case(planner, "窓口案内", "市民課", answers=HIGH)
    # The planner narrows her grid to the required items; the reviewer sees every item.
    at = open_case(make_app, planner, case.id, "procurement_checklist")
    assert "回答を変えるとすぐに更新されます" in texts(at)
    pack = ui_services.registry.resolve(f"{case.pack_id}@{case.pack_version}")
    (checklist,) = [c for c in pack.checklists if c.step == "procurement_checklist"]
    at.toggle(key=f"bulk_{checklist.id}_required_only").set_value(True).run()
    assert_clean(at)
    at = open_case(make_app, reviewer, case.id)
    open_step(at, "procurement_checklist")
    assert "回答を変えるとすぐに更新されます" not in texts(at)
    applicable = set(case.classification.required_items) | set(
        case.classification.recommended_items)
    items = [i.id for i in checklist.items if i.id in applicable]
    grid = next(d for d in at.dataframe if list(d.value.columns)[:1] == ["id"])
    assert list(grid.value["id"]) == items
