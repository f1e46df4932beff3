"""Text that cannot be stored, exported and verified is refused at input, before the database,
on both databases; nothing of it is written, and no database error (nor a password hash) ever
reaches a log.

The attacks, as tried against the first version: U+FFFE / U+FFFF in any text made
`audit verify --xlsx` report "content changed" while the database chain verified; a NUL in a
title reached PostgreSQL; an over-long first-run display name reached PostgreSQL and the server
log then held the new administrator's scrypt hash.
"""

from __future__ import annotations

import logging
from datetime import date

import pytest
from sqlalchemy import func, select

from procurement.cli import main as cli_main
from procurement.db.models import AuditEvent, User
from procurement.demo import LOW
from procurement.errors import InputError
from tests.fixtures.services import TEST_PASSWORD

BAD = {
    "non-character U+FFFE": "報告\ufffe書",
    "non-character U+FFFF": "報告\uffff書",
    "NUL": "報告\x00書",
    "escape": "報告\x1b[31m書",
    "lone surrogate": "報告\ud800書",
}


def _count_events(svc) -> int:
    with svc.read() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEvent)))


def _writes(svc, actor, reviewer, case, running):
    """Every service call that stores a text a person typed: (field, call(text))."""
    return [
        ("title", lambda x: svc.create_case(actor, x, "総務課")),
        ("department", lambda x: svc.create_case(actor, "件名", x)),
        ("purpose", lambda x: svc.save_case_details(actor, case.id, {"purpose": x}, case.version)),
        ("evidence", lambda x: svc.set_checklist_item(actor, case.id, "PC-G1", "met", x,
                                                      case.version)),
        ("report", lambda x: svc.save_board_report(actor, case.id, {"objectives": x},
                                                   case.version)),
        ("comment", lambda x: svc.withdraw(actor, case.id, case.version, comment=x)),
        ("vendor", lambda x: svc.update_operation(actor, running.case_id, running.case_version,
                                                  vendor=x)),
        ("incident", lambda x: svc.create_incident(actor, running.case_id,
                                                   occurred_on=date(2026, 7, 1), severity="low",
                                                   description=x)),
        ("display name", lambda x: svc.create_user(reviewer, "org-a", "new-user", x,
                                                   TEST_PASSWORD, ["planner"])),
        ("organisation name", lambda x: svc.create_org(reviewer, "org-z", x, "ministry")),
    ]


@pytest.mark.parametrize("kind", sorted(BAD))
def test_unstorable_characters_are_refused_in_every_text_field(services, planner, admin, kind,
                                                               reviewer):
    from tests.caio.conftest import approve_case

    approved_case = approve_case(services, planner, reviewer)
    running = services.start_operation(planner, approved_case.id, approved_case.version,
                                       started_on=date(2026, 7, 1), vendor="株式会社テスト",
                                       model_name="m", model_version="1", ismap_listing="ismap",
                                       review_interval_months=6)
    case = services.create_case(planner, "下書き", "総務課", answers=LOW)
    before = _count_events(services)
    for field, write in _writes(services, planner, admin, case, running):
        with pytest.raises(InputError) as refused:
            write(BAD[kind])
        assert refused.value.params.get("field"), field
        assert "U+" in refused.value.message, (field, refused.value.message)
    assert _count_events(services) == before


def test_an_over_long_first_run_display_name_never_reaches_the_database(
        engine, records_registry, fast_password_hashing, caplog):
    from procurement.services import Services

    svc = Services(engine, records_registry)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(InputError) as refused:
        svc.create_first_admin("org-a", "テスト省", "ministry", "root", "名" * 201, TEST_PASSWORD)
    assert refused.value.params == {"field": "display_name", "max_length": 200, "length": 201}
    with svc.read() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 0
    assert "scrypt" not in caplog.text and "$" not in caplog.text


def test_text_of_every_script_round_trips_through_the_audit_workbook(services, planner,
                                                                     tmp_path, capsys):
    """What may be stored verifies from the exported workbook alone: emoji and characters outside
    the Basic Multilingual Plane, right-to-left scripts, combining marks, tabs, line ends."""
    text = "絵文字😀👩‍👩‍👧 𠮷野家 العربية ĉu\u0301 tab\there\r\nline"
    case = services.create_case(planner, "絵文字😀👩‍👩‍👧 𠮷野家 العربية ĉu\u0301", "総務課",
                                purpose=text, answers=LOW)
    services.set_checklist_item(planner, case.id, "PC-G1", "met", text, case.version)
    out = tmp_path / "audit.xlsx"
    from procurement.exports import build_organisation_workbook, verify_workbook

    build_organisation_workbook(services.engine, out, registry=services.registry)
    assert [r.problem for r in verify_workbook(out)] == [None] * len(verify_workbook(out))


@pytest.fixture
def cli_db(services, planner, monkeypatch):
    """The CLI pointed at the database of `services` (org-a with a planner)."""
    monkeypatch.setenv("PROCUREMENT_DATABASE_URL",
                       services.engine.url.render_as_string(hide_password=False))
    return services


def test_the_cli_import_refuses_bad_files_with_a_message_not_a_traceback(cli_db, tmp_path,
                                                                           capsys):
    """A non-UTF-8 file, a lone surrogate and a NUL in a title (the last reached PostgreSQL)."""
    cases = [
        (b"\xff\xfe\x00[", "not valid UTF-8"),
        (b'[{"title": "\\ud800", "department": "d", "answers": {}}]', "U+D800"),
        (b'[{"title": "a\\u0000b", "department": "d", "answers": {}}]', "U+0000"),
    ]
    for i, (data, expected) in enumerate(cases):
        path = tmp_path / f"import-{i}.json"
        path.write_bytes(data)
        assert cli_main(["cases", "import", "--org", "org-a", str(path)]) == 1
        err = capsys.readouterr().err
        assert "Traceback" not in err and err.startswith("error: ") and expected in err, err


def test_an_unreachable_database_is_named_without_its_password(monkeypatch, capsys):
    monkeypatch.setenv("PROCUREMENT_DATABASE_URL",
                       "postgresql+psycopg://auditor:s3cret-pw@127.0.0.1:1/procurement")
    assert cli_main(["cases", "list"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "127.0.0.1:1" in err
    assert "s3cret-pw" not in err and "Traceback" not in err
