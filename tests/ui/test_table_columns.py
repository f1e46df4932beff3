"""The case list and the review inbox at 1024 px: the columns a reader needs first are each wide
enough for their heading and every value, and together fit the table of a 1024 px window
(`style.TABLE_WIDTH_AT_1024`), so that they read without scrolling sideways. The browser test
(tests/ui/test_browser_layout.py) checks that constant and the width estimate in Chromium.
"""

from __future__ import annotations

import json

from procurement.demo import BLOCKED, HIGH, LOW
from procurement.demo.seed import REVIEW
from procurement.ui import style
from procurement.ui.widgets import text_width
from tests.fixtures.services import TEST_PASSWORD, submit_filled
from tests.ui.helpers import assert_clean, go

#: 16 full-width characters: longer than the title column is given at 1024 px.
LONG_TITLE = "住民問い合わせ回答支援チャットボットの試行導入"


def shown_columns(frame) -> tuple[list[str], dict[str, int]]:
    """The headings in screen order and each column's configured width in px."""
    config = json.loads(frame.proto.columns)
    order = list(frame.proto.column_order) or list(frame.value.columns)
    return order, {heading: config.get(heading, {}).get("width") for heading in order}


def assert_in_full(frame, headings: list[str], widths: dict[str, int]) -> None:
    """Each of `headings` is as wide as its heading and every value it shows."""
    data = frame.value
    for heading in headings:
        need = max([text_width(heading)] + [text_width(v) for v in data[heading]])
        assert isinstance(widths[heading], int) and widths[heading] >= need, \
            (heading, widths[heading], need)


def test_the_case_list_shows_status_level_and_blocking_in_full_at_1024(ui_actors, ui_services,
                                                                       make_app):
    planner = ui_actors["a-planner"]
    for title, answers in ((LONG_TITLE, REVIEW), ("国民向けFAQ", HIGH), ("翻訳支援", BLOCKED),
                           ("議事録要約", LOW)):
        ui_services.create_case(planner, title, "市民サービス課", answers=dict(answers))
    at = make_app(planner)
    assert_clean(at)
    frame = at.dataframe[0]
    order, widths = shown_columns(frame)
    first = ["開く", "番号", "件名", "状況", "リスク区分", "是正が必要な事項"]
    assert order[:6] == first
    assert "要確認（本アプリ独自の区分）" in list(frame.value["リスク区分"])
    assert "あり" in list(frame.value["是正が必要な事項"])
    assert_in_full(frame, ["番号", "状況", "リスク区分", "是正が必要な事項"], widths)
    assert sum(widths[h] for h in first) <= style.TABLE_WIDTH_AT_1024
    # The title gives way, but keeps room for a dozen characters.
    assert 160 <= widths["件名"] < text_width(LONG_TITLE)


def test_the_inbox_shows_days_level_title_and_why_not_you_at_1024(ui_actors, ui_services,
                                                                  make_app):
    planner, admin = ui_actors["a-planner"], ui_actors["a-admin"]
    # A reviewer who also plans: the case they own is one they may not approve.
    ui_services.create_user(admin, "org-a", "a-both", "企画 兼 審査", TEST_PASSWORD,
                            ["planner", "reviewer"])
    both = ui_services.authenticate("a-both", TEST_PASSWORD)
    submit_filled(ui_services, planner, ui_services.create_case(
        planner, LONG_TITLE, "市民サービス課", answers=dict(REVIEW)))
    submit_filled(ui_services, both, ui_services.create_case(
        both, "国民向けFAQ", "広報室", answers=dict(HIGH)))
    at = make_app(both)
    go(at, "review")
    assert_clean(at)
    frame = at.dataframe[0]
    order, widths = shown_columns(frame)
    first = ["待ち日数", "リスク区分", "件名", "承認できない理由"]
    assert order[:4] == first
    assert list(frame.value["承認できない理由"]).count("自分が担当の案件") == 1
    assert_in_full(frame, ["待ち日数", "リスク区分", "承認できない理由"], widths)
    # The row selection's check box takes 32 px of the table too.
    assert 32 + sum(widths[h] for h in first) <= style.TABLE_WIDTH_AT_1024
    assert widths["件名"] >= 160
    assert order[-1] == "案件"  # the number last: it is in the picker below as well
