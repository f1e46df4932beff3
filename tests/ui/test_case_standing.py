"""A case's standing as the app shows it (AppTest from app.py): voided approvals in the case list,
the warning before editing a running system, operation and incident events named in the history,
and the packs installed in the database offered like the shipped ones."""

from __future__ import annotations

import re

import pytest

from procurement.demo import HIGH, LOW
from procurement.fiscal import to_jst
from procurement.sharing import installed as packstore
from tests.fixtures.services import approve_recorded, submit_filled
from tests.ui.helpers import assert_clean, go, texts

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def approved(svc, planner, reviewer, title, answers, pack_ref=None):
    view = svc.create_case(planner, title, "広報室", pack_ref, dict(answers))
    view = submit_filled(svc, planner, view)
    return approve_recorded(svc, reviewer, view, "承認します")


@pytest.fixture
def standing(ui_services, ui_actors):
    """org-a: an approved case, one voided by a checklist change, one voided by re-assessment
    under edition 2 (approved under edition 1, its obligations grew), and a draft."""
    svc = ui_services
    planner, reviewer = ui_actors["a-planner"], ui_actors["a-reviewer"]
    kept = approved(svc, planner, reviewer, "議事録要約", LOW)
    changed = approved(svc, planner, reviewer, "国民向けFAQ", HIGH)
    changed = svc.set_checklist_item(planner, changed.id, "PC-G1", "not_met", "体制図の更新待ち",
                                     changed.version)
    old = approved(svc, planner, reviewer, "住民向け回答生成", HIGH, "jp-national@1")
    plan = svc.plan_reassessment("jp-national@2.0.0", org_code="org-a")
    result = svc.apply_reassessment(plan, lambda org: ui_actors["a-packadmin"])
    assert old.id in result.voided
    draft = svc.create_case(planner, "職員向け文書作成支援", "人事課", answers=dict(LOW))
    return {"kept": kept.id, "changed": changed.id, "reassessed": old.id, "draft": draft.id}


def voided_column(at, column: str) -> dict[int, str]:
    table = at.dataframe[0].value
    return dict(zip(table.iloc[:, 0], table[column]))


def test_the_case_list_marks_voided_approvals_in_japanese(standing, ui_services, ui_actors,
                                                          make_app):
    at = go(make_app(ui_actors["a-reviewer"]), "cases")
    assert_clean(at)
    assert "承認が失効した案件が 2 件あります" in texts(at)
    marks = voided_column(at, "承認の失効")
    voided_at = ui_services.get_case(ui_actors["a-reviewer"], standing["changed"]).approval_voided_at
    assert voided_at is not None
    assert re.match(r"⚠ 承認の失効 \d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d: ", marks[standing["changed"]])
    assert marks[standing["changed"]].endswith(": チェックリスト項目 PC-G1 の変更")
    assert marks[standing["reassessed"]].endswith(": jp-national@2.0.0 による再判定")
    assert marks[standing["kept"]] == "" and marks[standing["draft"]] == ""


def test_the_case_list_marks_voided_approvals_in_english(standing, ui_actors, make_app):
    at = go(make_app(ui_actors["a-reviewer"], lang="en"), "cases")
    assert_clean(at)
    assert "2 case(s) in this list lost their approval" in texts(at)
    marks = voided_column(at, "Approval voided")
    assert marks[standing["changed"]].startswith("⚠ Approval voided ")
    # The date in words ("30 Nov 2026 13:05"), then why.
    assert re.fullmatch(r"⚠ Approval voided \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d: "
                        r"checklist item PC-G1 changed", marks[standing["changed"]])
    assert marks[standing["reassessed"]].endswith(": re-assessed under jp-national@2.0.0")


def test_a_new_approval_clears_the_mark(standing, ui_services, ui_actors, make_app):
    svc, planner = ui_services, ui_actors["a-planner"]
    case = svc.get_case(planner, standing["changed"])
    view = submit_filled(svc, planner, case)
    approve_recorded(svc, ui_actors["a-reviewer"], view)
    at = go(make_app(ui_actors["a-reviewer"]), "cases")
    assert "承認が失効した案件が 1 件あります" in texts(at)
    assert voided_column(at, "承認の失効")[standing["changed"]] == ""
    summary = next(c for c in svc.list_cases(planner) if c.id == standing["changed"])
    assert summary.approval_voided_at is None and summary.approval_voided_reason is None


def test_a_list_without_voided_approvals_shows_no_notice(ui_services, ui_actors, make_app):
    approved(ui_services, ui_actors["a-planner"], ui_actors["a-reviewer"], "議事録要約", LOW)
    at = go(make_app(ui_actors["a-reviewer"]), "cases")
    assert_clean(at)
    assert "承認が失効" not in " ".join(w.value for w in at.warning)
    # No lost approval: no column for it either (room for the columns that matter).
    assert "承認の失効" not in at.dataframe[0].value.columns


@pytest.fixture
def running(ui_services, ui_actors):
    """An approved low case put into operation, with a review and an incident on record."""
    svc = ui_services
    planner, reviewer = ui_actors["a-planner"], ui_actors["a-reviewer"]
    case = approved(svc, planner, reviewer, "議事録要約", LOW)
    today = to_jst(svc.clock()).date()  # the app runs on the real clock: nothing in the future
    op = svc.start_operation(planner, case.id, case.version, started_on=today,
                                   vendor="株式会社テスト", model_name="m", model_version="1",
                                   ismap_listing="ismap", review_interval_months=6)
    svc.record_review(planner, case.id, op.case_version, reviewed_on=today)
    svc.create_incident(planner, case.id, occurred_on=today, severity="low",
                              description="誤字")
    return svc.get_case(planner, case.id)


@pytest.mark.parametrize("lang, warning", [
    ("ja", "運用中の案件です。内容を変更すると承認は失効して"),
    ("en", "This case is in operation under its approval. Changing anything voids the approval"),
])
def test_editing_a_running_system_warns_that_the_approval_is_voided(
        running, ui_actors, make_app, lang, warning):
    assert running.status == "in_operation"
    at = make_app(ui_actors["a-planner"], lang=lang)
    at.session_state["case_id"] = running.id
    go(at, "workspace")
    assert_clean(at)
    assert any(w.value.startswith(warning) for w in at.warning), [w.value for w in at.warning]


def test_the_history_names_operation_and_incident_events(running, ui_actors, make_app):
    at = make_app(ui_actors["a-planner"])
    at.session_state["case_id"] = running.id
    at.session_state["workspace_tab"] = "履歴"  # only the open tab runs
    go(at, "workspace")
    assert_clean(at)
    shown = set(at.dataframe[-1].value.iloc[:, 3])
    assert {"運用を開始", "定期確認を記録", "リスク事案を記録"} <= shown
    assert not any(s.startswith("その他") for s in shown), shown


def test_the_app_offers_the_packs_installed_in_the_database(ui_services, ui_actors, make_app,
                                                            city_upload):
    from procurement.packs import PackRegistry
    from procurement.services import Services

    # Installed by another process (its own registry): the app learns of it from the database.
    installer = Services(ui_services.engine, PackRegistry(ui_services.registry.packs()))
    bundle = packstore.files_from_uploads(
        [(path.rsplit("/", 1)[-1], data) for path, data in city_upload.items()],
        source_name="city-shared")
    installer.install_pack(ui_actors["a-packadmin"], bundle)
    at = go(make_app(ui_actors["a-planner"]), "cases")
    assert_clean(at)
    # One more pack is offered, by its title and edition date (never by its id and version).
    after = at.selectbox(key="new_case_pack").options
    # the organisation's default, every shipped pack, and the installed one
    assert len(after) == 2 + len({p.key for p in ui_services.registry.packs()})
    assert not any("@" in option for option in after)


def test_the_history_names_a_reassessment_with_both_packs(standing, ui_actors, make_app):
    at = make_app(ui_actors["a-planner"])
    at.session_state["case_id"] = standing["reassessed"]
    at.session_state["workspace_tab"] = "履歴"
    go(at, "workspace")
    assert_clean(at)
    table = at.dataframe[-1].value
    rows = [tuple(r) for r in table.itertuples(index=False)]
    reassessed = [r for r in rows if "再判定" in r]
    assert len(reassessed) == 1, rows
    assert any("jp-national@1.0.0" in str(cell) and "jp-national@2.0.0" in str(cell)
               for cell in reassessed[0]), reassessed
