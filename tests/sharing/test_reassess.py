"""Re-assessment: the pure comparison, the demo data from jp-national@1 to @2 (dry run, apply,
audit chains), a case changed after the preview, and the `procurement reassess` command (also on
the demo data alone, as `procurement demo seed` leaves it)."""

from __future__ import annotations

import json

import pytest

from procurement import audit
from procurement.demo import BLOCKED, HIGH, LOW
from procurement.packs import classify
from procurement.sharing import reassess

#: Reading and refusing are database-neutral; the apply test (chains) runs on both databases.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

#: Answers of an extra edition-1 case added on top of the demo data.
HIGH_INCOMPLETE = {"SC-1": "yes", "SC-2": "no", "HR-1": "public"}

#: The demo's edition-1 cases (procurement/demo.py, `_MINISTRY_V1`): a low case (approved; in
#: operation once `procurement.demo.operations` ran), a review case (submitted), an out-of-scope case
#: (approved) and the approved high pilot, the one edition 2 affects (new required item PC-T2).
DEMO_V1_TITLES = ("議事録要約ツールの試行", "法令検索アシスタント", "白書ドラフト作成支援",
                  "事業者向け支援制度案内AIの試行")
PILOT = DEMO_V1_TITLES[-1]


def levels(pack) -> list[str]:
    return [level.id for level in pack.levels]


# -- the pure comparison ------------------------------------------------------------------------


def test_edition_2_adds_only_the_citizen_facing_terms_item_to_a_high_case(national_v1, national_v2):
    row = reassess.compare_classifications(
        7, "FAQ", classify(national_v1, HIGH), classify(national_v2, HIGH), level_order=levels(national_v2))
    assert row.to_dict() == {
        "case_id": 7, "title": "FAQ", "old_level": "high", "new_level": "high",
        "added_items": ["PC-T2"], "removed_items": [], "added_steps": [], "removed_steps": [],
        "new_questions": [], "blocking": [],
    }
    assert row.is_changed and row.obligations_grew and not row.level_rose
    assert list(row.to_dict()) == list(reassess.ROW_KEYS)


def test_a_low_case_is_unchanged_between_the_editions(national_v1, national_v2):
    row = reassess.compare_classifications(1, "t", classify(national_v1, LOW), classify(national_v2, LOW))
    assert not row.is_changed and not row.obligations_grew


def test_a_city_layer_brings_its_question_items_and_blocking_finding(national_v2, city_strict):
    row = reassess.compare_classifications(
        1, "t", classify(national_v2, BLOCKED), classify(city_strict, BLOCKED),
        level_order=levels(city_strict))
    assert row.new_questions == ("LQ-1",)
    assert row.blocking == ("BF-LG-1",)  # BF-1 was already there: not new
    assert set(row.added_items) == {"LG-1", "LG-2", "UR-5", "UR-8"}
    assert row.removed_items == () and row.old_level == row.new_level == "low"
    back = reassess.compare_classifications(
        1, "t", classify(city_strict, {**BLOCKED, "LQ-1": "no"}), classify(national_v2, BLOCKED))
    assert set(back.removed_items) == {"LG-1", "LG-2", "UR-8"} and not back.obligations_grew


def test_a_rising_level_counts_as_grown_obligations(national_v2):
    order = levels(national_v2)
    up = reassess.diff_results(classify(national_v2, LOW), classify(national_v2, HIGH), level_order=order)
    down = reassess.diff_results(classify(national_v2, HIGH), classify(national_v2, LOW), level_order=order)
    assert up.level_rose and not down.level_rose
    assert "board_report" in up.added_steps and "board_report" in down.removed_steps


# -- the demo data, jp-national@1 -> @2 ---------------------------------------------------------


@pytest.fixture
def demo_v1_cases(demo_services):
    """The demo data (its approved high pilot is the edition-1 case whose obligations edition 2
    grows) plus two edition-1 cases the demo does not have: a high incomplete draft (edition 2
    affects it too) and a high withdrawn case (closed: left alone)."""
    svc = demo_services
    planner = svc.actor_for("ministry-planner")
    pilot = {c.title: c.id for c in svc.list_cases(planner)}[PILOT]
    partial = svc.create_case(planner, "公開チャットの構想", "広報室", "jp-national@1", HIGH_INCOMPLETE)
    closed = svc.create_case(planner, "取り下げた構想", "広報室", "jp-national@1", HIGH)
    svc.withdraw(planner, closed.id, closed.version, "中止")
    return svc, {"high": pilot, "partial": partial.id, "closed": closed.id}


@SQLITE_ONLY
def test_the_dry_run_lists_exactly_what_edition_2_implies(demo_v1_cases, national_v1):
    svc, ids = demo_v1_cases
    before = audit.verify_database(svc.engine)
    plan = svc.plan_reassessment("jp-national@2.0.0")
    by_id = {row.case_id: row for row in plan.rows}
    # Every open edition-1 case of the ministry, none of the city's (another pack), none closed.
    assert ids["closed"] not in by_id
    assert {row.org_code for row in plan.rows} == {"demo-ministry"}
    assert {row.old_pack for row in plan.rows} == {"jp-national@1.0.0"}
    # The demo's four edition-1 cases and the incomplete draft.
    assert len(plan.rows) == 5 and plan.unavailable == () and plan.warnings == ()
    for row in plan.rows:
        # Levels cannot change between the editions (same classification rule) and do not.
        assert row.old_level == row.new_level
        assert row.removed_items == row.added_steps == row.removed_steps == ()
        assert row.new_questions == row.blocking == ()
        expected = ("PC-T2",) if row.case_id in (ids["high"], ids["partial"]) else ()
        assert row.added_items == expected, row
    assert by_id[ids["high"]].new_level == "high"
    # A dry run writes nothing.
    assert audit.verify_database(svc.engine) == before


def test_apply_moves_the_cases_voids_a_grown_approval_and_keeps_chains_valid(demo_v1_cases):
    svc, ids = demo_v1_cases
    packadmin = svc.actor_for("ministry-packadmin")
    planner = svc.actor_for("ministry-planner")
    owner = svc.actor_for("ministry-planner2")  # the pilot's planner
    plan = svc.plan_reassessment("jp-national@2.0.0")
    result = svc.apply_reassessment(plan, lambda org: packadmin, comment="第2.0版への移行")
    assert sorted(result.moved) == sorted(row.case_id for row in plan.rows)
    assert result.voided == (ids["high"],) and result.refused == ()

    high = svc.get_case(planner, ids["high"])
    assert (high.pack_id, high.pack_version, high.status) == ("jp-national", "2.0.0", "draft")
    assert high.pack_matches and "PC-T2" in high.approval_voided_reason
    assert [d.kind for d in high.decisions][-2:] == ["reassessment", "void"]
    assert high.decisions[-2].actor == "ministry-packadmin"
    history = [e.event_type for e in svc.case_history(planner, ids["high"])]
    assert history[-2:] == ["case.reassessed", "approval.voided"]
    reassessed = svc.case_history(planner, ids["high"])[-2].payload
    assert reassessed["added_items"] == ["PC-T2"] and reassessed["old_pack"] == "jp-national@1.0.0"
    # The owner sees the case back in their list, as a draft needing approval again.
    mine = {c.id: c for c in svc.list_cases(owner, mine=True)}
    assert mine[ids["high"]].status == "draft"

    # Unaffected approvals stand; the closed case keeps its edition.
    approved_low = [r.case_id for r in plan.rows if r.new_level == "low" and r.status == "approved"]
    assert approved_low and all(svc.get_case(planner, i).status == "approved" for i in approved_low)
    assert svc.get_case(planner, ids["closed"]).pack_version == "1.0.0"

    assert all(report.problem is None for report in audit.verify_database(svc.engine))
    assert svc.plan_reassessment("jp-national@2.0.0").rows == ()


@SQLITE_ONLY
def test_a_case_changed_after_the_preview_is_refused_alone(demo_v1_cases):
    svc, ids = demo_v1_cases
    planner = svc.actor_for("ministry-planner")
    plan = svc.plan_reassessment("jp-national@2.0.0", org_code="demo-ministry")
    partial = svc.get_case(planner, ids["partial"])
    svc.save_answers(planner, partial.id, {"SC-3": "fy2026_or_later"}, partial.version)
    result = svc.apply_reassessment(plan, lambda org: svc.actor_for("ministry-packadmin"))
    assert [case_id for case_id, _ in result.refused] == [ids["partial"]]
    assert "changed by someone else" in result.refused[0][1]
    assert svc.get_case(planner, ids["partial"]).pack_version == "1.0.0"
    assert len(result.moved) == len(plan.rows) - 1
    assert all(report.problem is None for report in audit.verify_database(svc.engine))


@SQLITE_ONLY
def test_apply_needs_a_named_pack_admin(demo_v1_cases):
    svc, _ = demo_v1_cases
    plan = svc.plan_reassessment("jp-national@2.0.0")
    planner_only = svc.apply_reassessment(plan, lambda org: svc.actor_for("ministry-planner"))
    assert planner_only.moved == () and len(planner_only.refused) == len(plan.rows)
    nameless = svc.apply_reassessment(plan, lambda org: svc.system_actor(org))
    assert nameless.moved == () and "named user" in nameless.refused[0][1]


@SQLITE_ONLY
def test_a_preview_in_the_app_is_confined_to_the_actors_organisation(demo_v1_cases):
    from procurement.errors import NotFoundError

    svc, _ = demo_v1_cases
    city = svc.actor_for("city-packadmin")
    plan = svc.plan_reassessment("jp-national@2.0.0", actor=city)
    assert {row.org_code for row in plan.rows} == {"demo-city"}
    with pytest.raises(NotFoundError):
        svc.plan_reassessment("jp-national@2.0.0", org_code="demo-ministry", actor=city)


# -- the command ---------------------------------------------------------------------------------


@SQLITE_ONLY
def test_the_command_prints_the_json_rows_and_applies(demo_v1_cases, db_url, monkeypatch, capsys):
    from procurement.cli import main

    svc, ids = demo_v1_cases
    monkeypatch.setenv("PROCUREMENT_DATABASE_URL", db_url)
    expected = [row.to_dict() for row in svc.plan_reassessment("jp-national@2.0.0").rows]

    assert main(["reassess", "--pack", "jp-national@2.0.0", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == expected

    assert main(["reassess", "--pack", "jp-national@2.0.0", "--org", "demo-ministry"]) == 0
    table = capsys.readouterr().out
    assert "PC-T2" in table and PILOT in table and "dry run" in table

    assert main(["reassess", "--pack", "jp-national@2.0.0", "--format", "json", "--apply"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == expected
    assert f"approval voided (re-approval needed): {ids['high']}" in captured.err
    assert all(report.problem is None for report in audit.verify_database(svc.engine))

    assert main(["reassess", "--pack", "jp-national@2.0.0", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["reassess", "--pack", "no-such-pack@9"]) == 1
    assert "no-such-pack@9" in capsys.readouterr().err


def test_the_demo_alone_shows_what_edition_2_changes(db_url, monkeypatch, capsys,
                                                     fast_password_hashing):
    """`procurement demo seed`, then `procurement reassess --pack jp-national@2.0.0 --org
    demo-ministry`: of the demo's cases only the approved high pilot of edition 1 differs (new
    required item PC-T2), and `--apply` voids its approval and nothing else."""
    from procurement.cli import main
    from procurement.db import create_db_engine
    from procurement.packs import PackRegistry
    from procurement.services import Services

    monkeypatch.setenv("PROCUREMENT_DATABASE_URL", db_url)
    assert main(["demo", "seed"]) == 0
    capsys.readouterr()
    reassess_args = ["reassess", "--pack", "jp-national@2.0.0", "--org", "demo-ministry"]

    assert main([*reassess_args, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["title"] for row in rows] == list(DEMO_V1_TITLES)  # by case id: seeding order
    changed = [row for row in rows if row["old_level"] != row["new_level"]
               or any(row[key] for key in reassess.ROW_KEYS[4:])]
    assert changed == [{
        "case_id": rows[-1]["case_id"], "title": PILOT, "old_level": "high", "new_level": "high",
        "added_items": ["PC-T2"], "removed_items": [], "added_steps": [], "removed_steps": [],
        "new_questions": [], "blocking": [],
    }]
    assert [row["old_level"] for row in rows] == ["low", "review", "out_of_scope", "high"]
    pilot_id = changed[0]["case_id"]

    assert main(reassess_args) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "4 case(s) under another pack than jp-national@2.0.0; 1 with differences "
        "(dry run: nothing changed)")

    assert main([*reassess_args, "--apply"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2].startswith("moved 4 case(s) to jp-national@2.0.0#")
    assert lines[-1] == f"approval voided (re-approval needed): {pilot_id}"

    engine = create_db_engine(db_url)
    try:
        svc = Services(engine, PackRegistry.discover())
        auditor = svc.actor_for("ministry-auditor")
        after = {c.title: c for c in svc.list_cases(auditor)}
        pilot = svc.get_case(auditor, pilot_id)
        assert (pilot.status, pilot.pack_version) == ("draft", "2.0.0")
        assert "PC-T2" in pilot.approval_voided_reason
        assert [d.kind for d in pilot.decisions][-3:] == ["approval", "reassessment", "void"]
        # The other edition-1 cases moved with their standing intact (the minutes tool runs on).
        assert [(after[t].status, after[t].pack_version) for t in DEMO_V1_TITLES[:3]] == [
            ("in_operation", "2.0.0"), ("submitted", "2.0.0"), ("approved", "2.0.0")]
        assert all(report.problem is None for report in audit.verify_database(engine))
    finally:
        engine.dispose()
