"""A case's purpose (利用目的) and its other intake details: stored at creation and by import,
edited with `save_case_details` (audited, checked like any case write, never voiding an
approval), searchable, and migrated onto cases that existed before the column did."""

from __future__ import annotations

import json

import pytest
from alembic import command
from sqlalchemy import func, inspect, select, text

from procurement.db.migrations import alembic_config, current_revision, head_revision, upgrade_to_head
from procurement.db.models import AuditEvent, Case, Decision
from procurement.demo import HIGH, LOW
from procurement.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError, WorkflowError
from procurement.services import PURPOSE_MAX_LENGTH
from tests.fixtures.services import approve_recorded, submit_filled

PURPOSE = "住民からの問い合わせに、公開情報を根拠とした回答案を示す。\n回答は職員が確認する。"


def _counts(svc):
    with svc.read() as s:
        return (s.scalar(select(func.count()).select_from(Case)),
                s.scalar(select(func.count()).select_from(AuditEvent)),
                s.scalar(select(func.count()).select_from(Decision)))


def _events(svc, actor, case_id):
    return [(e.event_type, e.payload) for e in svc.case_history(actor, case_id)]


# -- creation ---------------------------------------------------------------------------------


def test_a_case_is_created_with_its_purpose_and_the_event_records_it(services, planner):
    view = services.create_case(planner, "問い合わせ対応", "広報室", answers=LOW,
                                purpose="  " + PURPOSE.replace("\n", "\r\n") + "\n")
    assert view.purpose == PURPOSE  # trimmed, line ends made LF
    assert services.get_case(planner, view.id).purpose == PURPOSE
    assert [c.purpose for c in services.list_cases(planner)] == [PURPOSE]
    (kind, payload), = _events(services, planner, view.id)
    assert kind == "case.created" and payload["purpose"] == PURPOSE


def test_the_purpose_is_optional_at_creation(services, planner):
    view = services.create_case(planner, "議事録要約", "総務課")
    assert view.purpose == "" and services.list_cases(planner)[0].purpose == ""


@pytest.mark.parametrize("bad, detail", [
    ("あ" * (PURPOSE_MAX_LENGTH + 1), f"at most {PURPOSE_MAX_LENGTH}"),
    (["目的"], "must be text"),
    ("目的\x00です", "U+0000"),
    ("目的\x1bです", "U+001B at position 3"),
])
def test_a_bad_purpose_is_refused_naming_the_field_and_nothing_is_written(services, planner,
                                                                          bad, detail):
    before = _counts(services)
    with pytest.raises(InputError) as err:
        services.create_case(planner, "t", "d", purpose=bad)
    assert err.value.params["field"] == "purpose" and detail in err.value.message
    assert err.value.params["max_length"] == PURPOSE_MAX_LENGTH
    assert _counts(services) == before


def test_a_purpose_of_exactly_the_limit_and_tabs_are_kept(services, planner):
    longest = "目" * (PURPOSE_MAX_LENGTH - 2) + "\t的"
    assert services.create_case(planner, "t", "d", purpose=longest).purpose == longest


def test_a_title_longer_than_its_column_is_refused_on_every_database(services, planner):
    with pytest.raises(InputError) as err:
        services.create_case(planner, "件" * 301, "d")
    assert err.value.params == {"field": "title", "max_length": 300, "length": 301}
    assert services.create_case(planner, "件" * 300, "部" * 200).title == "件" * 300


# -- editing ----------------------------------------------------------------------------------


def test_details_are_saved_with_old_and_new_values_and_the_version_moves_on(services, planner):
    case = services.create_case(planner, "議事録要約", "総務課", answers=LOW)
    view = services.save_case_details(
        planner, case.id, {"title": "議事録要約ツール", "purpose": PURPOSE, "department": "総務課"},
        case.version)
    assert (view.title, view.department, view.purpose) == ("議事録要約ツール", "総務課", PURPOSE)
    assert view.version == case.version + 1 and view.updated_at > case.updated_at
    kind, payload = _events(services, planner, case.id)[-1]
    assert kind == "case.details_saved"
    # Only what changed is recorded (the department was given unchanged).
    assert payload == {"changes": {"title": {"old": "議事録要約", "new": "議事録要約ツール"},
                                   "purpose": {"old": "", "new": PURPOSE}}}
    # The answers, their hash and the level are untouched: details are not assessed.
    assert (view.answers_hash, view.level) == (case.answers_hash, case.level)


def test_saving_unchanged_details_writes_nothing(services, planner):
    case = services.create_case(planner, "t", "d", purpose=PURPOSE)
    before = _counts(services)
    view = services.save_case_details(planner, case.id, {"purpose": PURPOSE + "\n"}, case.version)
    assert view.version == case.version and _counts(services) == before


@pytest.mark.parametrize("fields, field", [
    ({"title": "  "}, "title"),
    ({"department": ""}, "department"),
    ({"department": "部" * 201}, "department"),
    ({"purpose": "x" * (PURPOSE_MAX_LENGTH + 1)}, "purpose"),
    ({"level": "low"}, "level"),
])
def test_bad_details_are_refused_naming_the_field_and_the_case_is_kept(services, planner,
                                                                       fields, field):
    case = services.create_case(planner, "t", "d", purpose=PURPOSE)
    before = _counts(services)
    with pytest.raises(InputError) as err:
        services.save_case_details(planner, case.id, {"title": "新しい件名", **fields},
                                   case.version)
    assert err.value.params["field"] == field
    stored = services.get_case(planner, case.id)
    assert (stored.title, stored.department, stored.purpose, stored.version) == (
        "t", "d", PURPOSE, case.version)
    assert _counts(services) == before


def test_a_stale_edit_is_refused_and_the_other_edit_survives(services, planner, planner2):
    case = services.create_case(planner, "t", "d")
    services.save_case_details(planner2, case.id, {"purpose": "先に保存"}, case.version)
    with pytest.raises(ConflictError):
        services.save_case_details(planner, case.id, {"purpose": "後から保存"}, case.version)
    assert services.get_case(planner, case.id).purpose == "先に保存"


def test_only_planners_of_the_same_organisation_edit_details(services, planner, reviewer,
                                                              auditor, other_planner):
    case = services.create_case(planner, "t", "d")
    for actor in (reviewer, auditor):
        with pytest.raises(PermissionDeniedError):
            services.save_case_details(actor, case.id, {"purpose": "x"}, case.version)
    with pytest.raises(NotFoundError):
        services.save_case_details(other_planner, case.id, {"purpose": "x"}, case.version)
    assert services.get_case(planner, case.id).purpose == ""


def test_details_of_a_submitted_or_withdrawn_case_are_read_only(services, planner):
    submitted = submit_filled(services, planner, services.create_case(planner, "t", "d",
                                                                      answers=LOW))
    with pytest.raises(WorkflowError) as err:
        services.save_case_details(planner, submitted.id, {"purpose": "x"}, submitted.version)
    assert err.value.params["status"] == "submitted"
    draft = services.create_case(planner, "t2", "d")
    withdrawn = services.withdraw(planner, draft.id, draft.version)
    with pytest.raises(WorkflowError):
        services.save_case_details(planner, withdrawn.id, {"title": "x"}, withdrawn.version)


def test_editing_details_of_an_approved_case_keeps_the_approval(services, planner, reviewer):
    case = submit_filled(services, planner, services.create_case(planner, "FAQ", "広報室",
                                                                 answers=HIGH))
    approved = approve_recorded(services, reviewer, case, "承認します")
    before = _counts(services)
    view = services.save_case_details(planner, approved.id,
                                      {"purpose": PURPOSE, "department": "広報課"},
                                      approved.version)
    assert view.status == "approved" and view.approved_at == approved.approved_at
    assert view.approval_voided_at is None
    assert [d.kind for d in view.decisions] == [d.kind for d in approved.decisions]
    # One event, no void: the approval still holds for the same answers and pack.
    assert _counts(services) == (before[0], before[1] + 1, before[2])
    assert [k for k, _ in _events(services, planner, case.id)][-2:] == [
        "case.approved", "case.details_saved"]
    # A change of an answer still voids it.
    voided = services.save_answers(planner, view.id, {"HR-4": "always_reviewed"}, view.version)
    assert voided.status == "draft"


def test_the_case_list_search_finds_words_of_the_purpose(services, planner):
    services.create_case(planner, "議事録要約", "総務課", purpose="会議の録音から要約案を作る")
    services.create_case(planner, "FAQ", "広報室", purpose=PURPOSE)
    assert [c.title for c in services.list_cases(planner, search="録音")] == ["議事録要約"]
    assert [c.title for c in services.list_cases(planner, search="総務")] == ["議事録要約"]


# -- import -----------------------------------------------------------------------------------


def test_import_takes_an_optional_purpose(services, planner):
    views = services.import_cases(planner, [
        {"title": "議事録要約", "department": "総務課", "purpose": PURPOSE, "answers": LOW},
        {"title": "FAQ", "department": "広報室", "answers": HIGH},
    ])
    assert [v.purpose for v in views] == [PURPOSE, ""]


def test_import_names_a_bad_purpose_by_index_and_imports_nothing(services, planner):
    before = _counts(services)
    with pytest.raises(InputError) as err:
        services.import_cases(planner, [
            {"title": "ok", "department": "d", "purpose": "fine", "answers": {}},
            {"title": "t", "department": "d", "purpose": 42, "answers": {}},
            {"title": "t", "department": "d", "purpose": "x" * 2001, "answers": {}},
        ])
    errors = err.value.params["errors"]
    assert [e["index"] for e in errors] == [1, 2]
    assert all("purpose" in e["reason"] for e in errors)
    assert _counts(services) == before


def test_cli_import_stores_the_purpose(services, planner, db_url, tmp_path, monkeypatch, capsys):
    from procurement.cli import main

    monkeypatch.setenv("PROCUREMENT_DATABASE_URL", db_url)
    good = tmp_path / "good.json"
    good.write_text(json.dumps([{"title": "議事録要約", "department": "総務課",
                                 "purpose": PURPOSE, "answers": LOW}], ensure_ascii=False),
                    encoding="utf-8")
    assert main(["cases", "import", "--org", "org-a", str(good)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "imported 1 case into org-a"
    assert [c.purpose for c in services.list_cases(planner)] == [PURPOSE]


# -- migration --------------------------------------------------------------------------------


def test_cases_written_before_the_purpose_existed_migrate_with_an_empty_purpose(
        services, planner, reviewer, engine):
    case = submit_filled(services, planner, services.create_case(planner, "議事録要約", "総務課",
                                                                 answers=LOW, purpose=PURPOSE))
    # Back to the first schema (the column goes; answers and decisions still refer to the case).
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
    assert current_revision(engine) == "0001"
    assert "purpose" not in {c["name"] for c in inspect(engine).get_columns("cases")}
    with engine.begin() as conn:  # a case written by the old code
        conn.execute(text("UPDATE cases SET title = :t WHERE id = :i"),
                     {"t": "旧版で編集", "i": case.id})
    upgrade_to_head(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT purpose FROM cases")).scalars().all() == [""]
    view = services.get_case(planner, case.id)
    assert (view.title, view.purpose, view.status) == ("旧版で編集", "", "submitted")
    # And the migrated case is as good as any: approve it, then describe its purpose.
    approved = approve_recorded(services, reviewer, view)
    assert services.save_case_details(planner, approved.id, {"purpose": PURPOSE},
                                      approved.version).purpose == PURPOSE
