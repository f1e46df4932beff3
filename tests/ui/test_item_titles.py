"""Checklist items on the result panel and in its helpers are named by number and text
(`widgets.item_title`, as the checklists name them), never by a bare id such as `UR-4`."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from tests.ui.helpers import assert_clean, go, texts

#: Answers of jp-national 2.1.0 that, with UR-4 recorded as met and UR-5 as not met, trip the
#: consistency rules CS-1 and CS-5 (outputs used unchecked, and given to the public).
ANSWERS = {"SC-1": "yes", "SC-2": "no", "SC-3": "fy2026_or_later", "SC-4": "contracted_saas",
           "HR-1": "public", "HR-2": "internal_support", "HR-3": "public_only",
           "HR-4": "no_review"}


def _bare_ids(text: str, ids: set[str]) -> list[str]:
    """Ids in `text` that are not followed by their item's text (a bare `UR-4`, `UR-4）`)."""
    return [m.group(0) for m in re.finditer(r"\b[A-Z]{1,3}(?:-[A-Z]{1,3})?-\d+\b(?! \S)", text)
            if m.group(0) in ids]


def test_the_result_panel_names_checklist_items_by_number_and_text(ui_actors, ui_services,
                                                                   make_app, records_registry):
    planner = ui_actors["a-planner"]
    case = ui_services.create_case(planner, "窓口案内", "市民課", answers=ANSWERS,
                                   pack_ref="jp-national@2.1.0")
    ui_services.set_checklist_items(planner, case.id, {"UR-4": ("met", "確認手順書"),
                                                       "UR-5": ("not_met", "")}, case.version)
    pack = records_registry.resolve("jp-national@2.1.0")
    at = make_app(planner)
    at.session_state["case_id"] = case.id
    at.query_params["step"] = "classification"
    go(at, "workspace")
    assert_clean(at)
    panel = "\n".join(str(el.value) for el in at.get("markdown") + at.get("warning")
                      if "根拠となった回答" in str(el.value)).replace("\\", "")
    for item in ("UR-4", "UR-5"):
        # Number and text, as listed (the sentence's 。 gives way to the 「→」 of the answer).
        assert f"{item} {pack.item(item).text['ja'].rstrip('。')} →「" in panel
    # What the app writes (the pack's own messages may cite an item in brackets).
    ours = [line for line in panel.splitlines() if line.startswith("根拠となった回答")]
    assert ours and not [bare for line in ours
                         for bare in _bare_ids(line, {item.id for item in pack.items})]
    assert "回答とチェックリストの食い違い" in texts(at)


def _condition_texts() -> None:
    """An app showing each consistency rule's condition in words (`widgets.condition_text`)."""
    import streamlit as st

    from procurement.packs import PackRegistry
    from procurement.ui import widgets

    pack = PackRegistry.discover().resolve("jp-national@2.1.0")
    for rule in pack.consistency:
        st.text(widgets.condition_text(pack, rule.cond))


def test_conditions_on_checklist_items_name_the_item_by_number_and_text(records_registry):
    at = AppTest.from_function(_condition_texts, default_timeout=30).run()
    assert not at.exception, [e.value for e in at.exception]
    pack = records_registry.resolve("jp-national@2.1.0")
    shown = [str(el.value) for el in at.text]
    assert len(shown) == len(pack.consistency)
    assert f"「UR-4 {pack.item('UR-4').text['ja']}」の状況による" in shown[0]
    ids = {item.id for item in pack.items}
    assert not [bare for line in shown for bare in _bare_ids(line, ids)]
