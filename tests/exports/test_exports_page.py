"""The exports page in a real Streamlit AppTest: who sees it, and a build ends in a download."""

from __future__ import annotations

from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app.py"
PAGE = "procurement/ui/pages/exports.py"


@pytest.fixture
def app_for(demo_engine, monkeypatch, records_registry):
    """app_for(username) -> an AppTest of app.py signed in as that demo user, on the exports page."""
    from streamlit.testing.v1 import AppTest

    from procurement.services import Services
    from procurement.ui import state
    from tests.ui.helpers import signed_in

    monkeypatch.setenv("PROCUREMENT_DATABASE_URL", str(demo_engine.url))
    svc = Services(demo_engine, records_registry)

    def make(username: str, lang: str = "ja"):
        at = AppTest.from_file(str(APP), default_timeout=60)
        signed_in(at, svc.actor_for(username), svc)
        at.session_state["lang"] = lang
        at.run()
        return at

    yield make
    state._build_services.clear()


def _downloads(at):
    return at.get("download_button")


def test_auditor_builds_the_organisation_workbook_and_gets_a_download(app_for):
    at = app_for("ministry-auditor")
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "監査用エクスポート"
    at.button(key="exports_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    captions = " ".join(c.value for c in at.caption)
    assert "監査ログ demo-ministry: 検証OK" in captions
    assert "demo-city" not in captions  # only the user's own organisation
    buttons = _downloads(at)
    assert len(buttons) == 1
    assert "audit-demo-ministry-" in buttons[0].proto.label


def test_reviewer_builds_a_case_workbook_in_english(app_for):
    at = app_for("ministry-reviewer", lang="en")
    at.switch_page(PAGE).run()
    assert at.title[0].value == "Audit exports"
    at.button(key="exports_case_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(_downloads(at)) == 1


def test_csv_download_for_the_answers(app_for):
    at = app_for("ministry-auditor")
    at.switch_page(PAGE).run()
    at.radio(key="exports_csv_kind").set_value("answers").run()
    at.button(key="exports_csv_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(_downloads(at)) == 1


def test_planner_is_not_offered_the_page(app_for):
    from procurement.ui.navigation import pages_for

    assert PAGE not in [p.path for p in pages_for(frozenset({"planner"}))]
    assert PAGE in [p.path for p in pages_for(frozenset({"auditor"}))]
    assert PAGE in [p.path for p in pages_for(frozenset({"reviewer"}))]
