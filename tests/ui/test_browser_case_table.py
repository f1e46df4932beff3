"""The case list's table in the system Chromium: exactly as tall as its header and rows, with
one row and with three (no empty sliver below the last row, no scrollbar inside the table).

Skipped (with the reason shown) when /usr/bin/chromium is missing locally; a failure in CI.
"""

from __future__ import annotations

import pytest

from tests.ui.browser import launch_chromium, wait_idle
from tests.ui.test_browser import chromium_path  # noqa: F401 - fixture
from tests.ui.test_browser_sessions import _sign_in

pytestmark = pytest.mark.browser

#: The grid's row height (the header's too) in Streamlit's default theme, in pixels.
ROW = 35

#: The table's frame, the grid inside its border, and the grid's content (header and rows).
MEASURE = """() => {
    const frame = document.querySelector('.st-key-case_table_box [data-testid="stDataFrame"]');
    const scroller = frame.querySelector('.dvn-scroller');
    return {frame: frame.getBoundingClientRect().height,
            grid: scroller.getBoundingClientRect().height,
            visible: scroller.clientHeight, content: scroller.scrollHeight,
            drawn: scroller.firstElementChild.getBoundingClientRect().height};
}"""


def test_the_case_table_is_as_tall_as_its_rows(chromium_path, server, ui_actors, ui_services):
    from playwright.sync_api import sync_playwright

    planner = ui_actors["a-planner"]
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 900},
                                          locale="ja-JP")
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(server.url)
            wait_idle(page)
            _sign_in(page, "a-planner")
            for count in (1, 3):
                while len(ui_services.list_cases(planner, mine=True)) < count:
                    ui_services.create_case(planner, "議事録要約", "総務課")
                page.goto(f"{server.url}/cases")
                wait_idle(page)
                page.wait_for_selector('.st-key-case_table_box .dvn-scroller')
                page.wait_for_timeout(500)  # the grid draws after the run
                got = page.evaluate(MEASURE)
                rows = ROW * (count + 1)  # the header and the rows
                assert got["drawn"] == rows, (count, got)
                assert got["grid"] == rows and got["frame"] == rows + 2, (count, got)  # no sliver
                assert got["visible"] == got["content"] == rows, (count, got)  # no scrollbar
        finally:
            browser.close()
