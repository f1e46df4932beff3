"""The CAIO's pages in AppTest from app.py: every role, the forms, and what they store."""

from __future__ import annotations

import pytest

from procurement.demo import HIGH, LOW
from procurement.fiscal import to_jst
from tests.fixtures.services import approve_recorded, submit_filled
from tests.ui.conftest import ROLE_USERS
from tests.ui.helpers import assert_clean, texts

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PORTFOLIO = "procurement/ui/pages/portfolio.py"
OPERATION = "procurement/ui/pages/operation.py"


@pytest.fixture
def cases(ui_services, ui_actors):
    """org-a with an approved high-risk case, and an approved low case already in operation with
    an open incident."""
    svc = ui_services
    planner, reviewer = ui_actors["a-planner"], ui_actors["a-reviewer"]

    def approved(title, answers):
        view = svc.create_case(planner, title, "広報室", answers=dict(answers))
        view = submit_filled(svc, planner, view)
        return approve_recorded(svc, reviewer, view)

    high = approved("国民向けFAQ", HIGH)
    low = approved("議事録要約", LOW)
    today = to_jst(svc.clock()).date()
    op = svc.start_operation(planner, low.id, low.version, started_on=today,
                                   vendor="株式会社サンプル", model_name="m", model_version="1",
                                   ismap_listing="ismap", review_interval_months=1)
    incident = svc.create_incident(planner, low.id, occurred_on=today, severity="high",
                                         description="<b>誤回答</b>")
    return {"high": high, "low": low, "op": op, "incident": incident}


@pytest.mark.parametrize("role", sorted(ROLE_USERS))
def test_pages_render_for_every_role_that_sees_them(role, cases, ui_actors, make_app):
    actor = ui_actors[ROLE_USERS[role]]
    for lang in ("ja", "en"):
        at = make_app(actor, lang=lang)
        for page, roles in ((PORTFOLIO, {"reviewer", "auditor"}),
                            (OPERATION, {"planner", "reviewer", "auditor"})):
            if role not in roles:
                with pytest.raises(ValueError):
                    at.switch_page(page)  # not in this role's navigation
                continue
            at.switch_page(page).run()
            assert_clean(at)
            assert at.title, f"{page} shows no title for {role}"


def test_portfolio_shows_the_figures_and_builds_the_periodic_report(cases, ui_actors, make_app):
    at = make_app(ui_actors["a-reviewer"]).switch_page(PORTFOLIO).run()
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["案件数"] == "2" and metrics["高リスクの可能性"] == "1"
    assert metrics["対応中のリスク事案"] == "1"
    assert len(at.get("vega_lite_chart")) >= 4  # levels, statuses, departments, trend
    at.button(key="portfolio_build").click().run()
    assert_clean(at)
    assert "作成しました: システム 2 件、リスク事案 1 件。" in texts(at)
    assert at.get("download_button")


def test_planner_starts_operation_and_records_an_incident(cases, ui_services, ui_actors, make_app):
    planner = ui_actors["a-planner"]
    at = make_app(planner)
    at.session_state["case_id"] = cases["high"].id
    at.switch_page(OPERATION).run()
    assert_clean(at)
    assert at.selectbox(key="operation_case").value == cases["high"].id
    at.text_input(key="op_vendor").set_value("ベンダーA")
    at.text_input(key="op_model_name").set_value("gen-model")
    at.text_input(key="op_model_version").set_value("2026-09")
    at.selectbox(key="op_ismap").set_value("ismap_liu")
    at.text_input(key="op_ismap_ref").set_value("L-0007")
    at.number_input(key="op_interval").set_value(3)
    at.button(key="op_start").click().run()
    assert_clean(at)
    op = ui_services.get_operation(planner, cases["high"].id)
    assert (op.case_status, op.vendor, op.ismap_listing, op.review_interval_months) == (
        "in_operation", "ベンダーA", "ismap_liu:L-0007", 3)

    at.text_area(key="inc_description").set_value("個人名を含む回答")
    at.selectbox(key="inc_severity").set_value("critical")
    at.checkbox(key="inc_caio_on").check()
    at.button(key="inc_create").click().run()
    assert_clean(at)
    (incident,) = ui_services.list_incidents(planner, cases["high"].id)
    assert (incident.severity, incident.description, incident.status) == (
        "critical", "個人名を含む回答", "open")
    assert incident.reported_to_caio_at is not None
    events = [e.event_type for e in ui_services.case_history(planner, cases["high"].id)]
    assert events[-2:] == ["operation.started", "incident.created"]


def test_bad_input_shows_a_message_and_saves_nothing(cases, ui_services, ui_actors, make_app):
    planner = ui_actors["a-planner"]
    at = make_app(planner)
    at.session_state["case_id"] = cases["high"].id
    at.switch_page(OPERATION).run()
    at.button(key="op_start").click().run()  # vendor, model and version left empty
    assert_clean(at)
    assert at.error, "an empty vendor must be refused with a message"
    assert ui_services.get_case(planner, cases["high"].id).status == "approved"


def test_reviewer_closes_an_incident_planner_cannot(cases, ui_services, ui_actors, make_app):
    incident = cases["incident"]
    at = make_app(ui_actors["a-planner"])
    at.session_state["case_id"] = cases["low"].id
    at.switch_page(OPERATION).run()
    assert at.button(key=f"inc_close_{incident.id}").disabled

    at = make_app(ui_actors["a-reviewer"])
    at.session_state["case_id"] = cases["low"].id
    at.switch_page(OPERATION).run()
    at.text_area(key=f"inc_act_{incident.id}").set_value("回答テンプレートを修正")
    at.button(key=f"inc_close_{incident.id}").click().run()
    assert_clean(at)
    stored = ui_services.get_incident(ui_actors["a-auditor"], incident.id)
    assert (stored.status, stored.actions_taken, stored.version) == (
        "closed", "回答テンプレートを修正", 3)


def test_auditor_reads_without_forms(cases, ui_actors, make_app):
    at = make_app(ui_actors["a-auditor"])
    at.session_state["case_id"] = cases["low"].id
    at.switch_page(OPERATION).run()
    assert_clean(at)
    keys = {getattr(w, "key", None) for w in at.button}
    assert not {k for k in keys if k and k.startswith(("op_", "inc_"))}
    assert "株式会社サンプル" in str([df.value for df in at.dataframe])


def test_board_report_is_built_on_request_and_offered_in_both_formats(cases, ui_actors, make_app):
    at = make_app(ui_actors["a-reviewer"])
    at.session_state["case_id"] = cases["high"].id
    at.switch_page(OPERATION).run()
    assert not at.get("download_button")  # nothing is built before it is asked for
    at.button(key="board_build").click().run()
    assert_clean(at)
    assert len(at.get("download_button")) == 2
