"""Japanese punctuation in option labels and the result panel: a selectbox option shows no
markdown escape (it is not rendered as markdown), a pack's name does not pile brackets one after
another, the answers a rule read are written with 「→」 and 「、」 (no ASCII 「: 」 after 。, no
「; 」), a level is not named twice, and several source documents are listed with 「、」."""

from __future__ import annotations

from procurement.demo import BLOCKED, HIGH
from tests.ui.helpers import assert_clean, go, texts

NATIONAL_2 = "生成AIの調達・利活用に係るガイドライン（国・第2.0版、"


def test_the_pack_choices_read_as_plain_text(ui_actors, make_app):
    at = go(make_app(ui_actors["a-planner"]), "cases")
    assert_clean(at)
    options = at.selectbox(key="new_case_pack").options
    assert not [o for o in options if "\\" in o], options  # no visible markdown escape
    assert options[0].startswith("組織の既定: 生成AIの"), options[0]
    assert any(o.startswith(NATIONAL_2) and o.endswith("版）") for o in options), options
    assert not [o for o in options if "）（" in o], options  # no bracket right after a bracket


def test_the_pack_choices_in_english(ui_actors, make_app):
    at = go(make_app(ui_actors["a-planner"], lang="en"), "cases")
    assert_clean(at)
    options = at.selectbox(key="new_case_pack").options
    assert options[0].startswith("Organisation default: "), options[0]
    assert not [o for o in options if "\\" in o], options


def _panel(make_app, actor, case_id: int, lang: str | None = None) -> str:
    at = make_app(actor, lang=lang)
    at.session_state["case_id"] = case_id
    at.query_params["step"] = "classification"
    go(at, "workspace")
    assert_clean(at)
    return texts(at).replace("\\", "")


def test_the_result_panel_writes_answers_and_sources_in_japanese(ui_actors, ui_services,
                                                                  make_app):
    planner = ui_actors["a-planner"]
    high = ui_services.create_case(planner, "住民向けチャットボット", "市民課",
                                   "jp-national@2.0.0", answers=HIGH)
    panel = _panel(make_app, planner, high.id)
    assert ("根拠となった回答: HR-1 利用者の範囲・種別：だれが使いますか"
            " →「国民・住民・事業者（一般の人）」") in panel
    based_on = [line for line in panel.splitlines() if "根拠となった回答" in line]
    assert based_on
    for line in based_on:
        assert "。:" not in line and "; " not in line, line
    # Several answers are listed with 「、」, each quoted.
    assert any("」、HR-" in line for line in based_on), based_on
    # The rule's message names its level: not said again, no space before a bracket.
    assert "要確認とします（本アプリ独自の区分）。" in panel
    assert "区分「要確認" not in panel and "。 （" not in panel

    blocked = ui_services.create_case(planner, "翻訳支援", "総務課", "jp-national@2.0.0",
                                      answers=BLOCKED)
    panel = _panel(make_app, planner, blocked.id)
    assert "出典: 政府機関等のサイバーセキュリティ対策のための統一基準、DS-920 第2.0版" in panel
    assert "統一基準; " not in panel


def test_the_result_panel_in_english_keeps_its_form(ui_actors, ui_services, make_app):
    planner = ui_actors["a-planner"]
    high = ui_services.create_case(planner, "Public chatbot", "Citizens", "jp-national@2.0.0",
                                   answers=HIGH)
    panel = _panel(make_app, planner, high.id, lang="en")
    assert "Based on: HR-1 " in panel
    assert "Based on: HR-1 Users: who uses the system? → The public" in panel
