"""What the workspace says about a case's level (issue 13, items 4 and 5): 未判定 until the
classification questions are answered (never a green 低リスク), a blocking finding in the badge's
colour and in words, the level's meaning and next steps from the pack, options marked with the
level they lead to, and only the rules at the final level under 判定の理由."""

from __future__ import annotations

import re

from procurement.demo import BLOCKED, HIGH, REVIEW
from tests.ui.helpers import assert_clean, go, open_step, texts

SCOPE_ONLY = {k: v for k, v in HIGH.items() if k.startswith("SC-")}


def open_case(make_app, actor, case_id: int, step: str | None = None):
    at = make_app(actor)
    at.session_state["case_id"] = case_id
    go(at, "workspace")
    assert_clean(at)
    if step is not None:
        open_step(at, step)
    return at


def header_badges(at) -> str:
    """The badges line of the case header (markdown with `:color-badge[...]`)."""
    return next(m.value for m in at.markdown if "-badge[" in m.value and "リスク区分" in m.value)


def list_row(at, case_id: int) -> dict[str, str]:
    frame = at.dataframe[0].value
    row = frame[frame["番号"] == case_id].iloc[0]
    return {str(k): str(v) for k, v in row.items()}


def test_a_case_without_answers_is_not_classified_anywhere(ui_actors, ui_services, make_app):
    planner = ui_actors["a-planner"]
    case = ui_services.create_case(planner, "未回答の案件", "総務課", answers=SCOPE_ONLY)
    at = open_case(make_app, planner, case.id, "classification")
    badges = header_badges(at)
    assert ":gray-badge[:material/help: リスク区分: 未判定]" in badges
    assert "低リスク" not in badges and "green" not in badges
    panel = texts(at)
    assert "リスク区分: 未判定" in panel and "低リスク" not in panel
    at = go(make_app(planner), "cases")
    assert_clean(at)
    assert list_row(at, case.id)["リスク区分"] == "未判定"


def test_a_blocked_draft_is_never_shown_green(ui_actors, ui_services, make_app):
    planner = ui_actors["a-planner"]
    case = ui_services.create_case(planner, "約款型サービスの試行", "総務課", answers=BLOCKED)
    assert case.has_blocking
    at = open_case(make_app, planner, case.id)
    badges = header_badges(at)
    assert "green-badge" not in badges
    # Red, and said in words (never colour alone).
    assert re.search(r":red-badge\[:material/block: リスク区分: [^\]]*・是正が必要な事項あり\]", badges)
    at = go(make_app(planner), "cases")
    assert_clean(at)
    row = list_row(at, case.id)
    assert row["是正が必要な事項"] not in ("", "-", "なし"), row  # the list shows both


def test_options_say_which_level_they_lead_to(ui_actors, ui_services, make_app):
    planner = ui_actors["a-planner"]
    # Pinned: the texts below are 2.0.0's (2.1.0 is in force from 2026-12-01 JST).
    case = ui_services.create_case(planner, "選択肢の案内", "総務課", "jp-national@2.0.0",
                                   answers=SCOPE_ONLY)
    at = open_case(make_app, planner, case.id, "classification")
    hr1 = at.radio(key="answer_HR-1")
    # option label -> the caption under it
    captions = dict(zip(hr1.options, hr1.proto.captions, strict=True))
    assert "区分を上げる回答 →「高リスクの可能性あり」" == captions["国民・住民・事業者（一般の人）"]
    shown = "\n".join(captions.values())
    assert "区分を上げる回答 →「高リスクの可能性あり」" in shown
    assert "区分を上げる回答 →「要確認（本アプリ独自の区分）」" in shown
    # An option that raises nothing carries no mark.
    assert any(c == "" for c in captions.values())


def test_a_high_case_lists_only_the_high_rules_under_the_reasons(ui_actors, ui_services,
                                                                  make_app):
    planner = ui_actors["a-planner"]
    case = ui_services.create_case(planner, "住民向けチャットボット", "市民課",
                                   "jp-national@2.0.0", answers=HIGH)
    assert case.level == "high"
    at = open_case(make_app, planner, case.id, "classification")
    panel = texts(at).replace("\\", "")
    why, lower = panel.index("**判定の理由**"), panel.index("**ほかに当たった観点**")
    review_reason = panel.index("中程度の観点が2つ以上重なるため")
    assert why < lower < review_reason  # the review rule stands apart, below the lower heading
    assert "一般の人が利用者または出力の受け手になるため" in panel[why:lower]
    assert "→ 要確認" not in panel
    # The rule's message names its level: it is not named again after it.
    assert "要確認とします（本アプリ独自の区分）。" in panel[lower:]
    assert "区分「要確認" not in panel[lower:]
    assert "この区分の意味" in panel


def test_the_level_says_what_to_do_next_from_the_pack(ui_actors, ui_services, make_app):
    planner = ui_actors["a-planner"]
    case = ui_services.create_case(planner, "中程度の観点が重なる案件", "総務課",
                                   pack_ref="jp-national@2.1.0", answers=REVIEW)
    assert case.level == "review"
    at = open_case(make_app, planner, case.id, "classification")
    panel = texts(at).replace("\\", "")
    pack = ui_services.registry.resolve("jp-national@2.1.0")
    level = pack.level("review")
    assert f"**この区分の意味**  \n{level.help['ja']}" in panel
    assert "**次にすること**" in panel and level.next_steps["ja"] in panel
