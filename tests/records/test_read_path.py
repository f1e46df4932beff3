"""The one read path: reads never take SQLite's write lock, and reports read one snapshot.

Every read of the app (pages), the services, the reports, the exports and the CLI runs here while
another connection holds SQLite's write lock, with the busy timeout at 0: a read that tried to
take the lock would fail at once with "database is locked" instead of waiting. On both databases
a portfolio read that overlaps a concurrent approval sees the state from its first query only.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date

import pytest
from sqlalchemy import event, text

from procurement.cli import main as cli_main
from procurement.db import create_db_engine
from procurement.demo.operations import seed_demo_operations
from procurement.exports import (
    ExportFilters,
    build_case_workbook,
    build_organisation_workbook,
    write_answers_csv,
    write_audit_csv,
)
from procurement.fiscal import fiscal_year_dates
from procurement.services import Services

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture
def seeded_file(sqlite_url, records_registry, fast_password_hashing, monkeypatch):
    """A demo database (cases, systems in operation, incidents) in a SQLite file, and its path;
    the app and the CLI are pointed at it, and SQLite never waits for a lock."""
    from procurement.demo import seed_demo

    engine = create_db_engine(sqlite_url)
    svc = Services(engine, records_registry)
    seed_demo(svc)
    seed_demo_operations(svc)
    engine.dispose()
    monkeypatch.setenv("PROCUREMENT_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PROCUREMENT_SQLITE_BUSY_TIMEOUT", "0")
    return sqlite_url, sqlite_url.removeprefix("sqlite:///")


@pytest.fixture
def write_lock(seeded_file):
    """Another connection holding SQLite's write lock (an uncommitted BEGIN IMMEDIATE)."""
    holder = sqlite3.connect(seeded_file[1], isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE organisations SET name = name WHERE 0")
    yield holder
    holder.execute("ROLLBACK")
    holder.close()


def test_every_service_read_runs_while_another_connection_holds_the_write_lock(
        seeded_file, write_lock, records_registry, tmp_path):
    engine = create_db_engine(seeded_file[0])
    svc = Services(engine, records_registry)
    # Proof that the lock is held: a write fails at once.
    with pytest.raises(Exception, match="locked"):
        with engine.begin() as conn:
            conn.execute(text("UPDATE organisations SET name = name"))
    reviewer = svc.actor_for("ministry-reviewer")
    planner = svc.actor_for("ministry-planner")
    cases = svc.list_cases(reviewer)
    running = next(c for c in cases if c.status == "in_operation")
    assert svc.get_case(planner, running.id).id == running.id
    assert svc.case_version(planner, running.id) == running.version
    assert svc.case_history(planner, running.id)
    assert svc.list_orgs(reviewer) and svc.get_org(reviewer, "demo-ministry")
    assert svc.list_users(reviewer) and svc.has_users()
    assert svc.get_operation(reviewer, running.id) is not None
    incidents = svc.list_incidents(reviewer)
    assert incidents and svc.get_incident(reviewer, incidents[0].id)
    assert svc.resolve_pack("demo-ministry").id == "jp-national"
    rows = svc.load_portfolio_rows(reviewer, changes_period=fiscal_year_dates(2026))
    assert rows.cases
    svc.write_periodic_report_for(reviewer, 2026, tmp_path / "periodic.xlsx")
    svc.write_board_report(reviewer, running.id, tmp_path / "board.xlsx")
    assert svc.plan_reassessment("jp-national@2.0.0", org_code="demo-ministry").rows is not None
    assert svc.list_installed_packs() == [] and svc.load_installed_packs() == []
    build_organisation_workbook(engine, tmp_path / "org.xlsx", registry=records_registry)
    build_case_workbook(engine, running.id, tmp_path / "case.xlsx", registry=records_registry)
    write_audit_csv(engine, tmp_path / "audit.csv", filters=ExportFilters())
    write_answers_csv(engine, tmp_path / "answers.csv", registry=records_registry)
    from procurement import audit

    assert all(r.ok for r in audit.verify_database(engine))
    engine.dispose()


def test_every_cli_read_runs_while_another_connection_holds_the_write_lock(
        seeded_file, write_lock, tmp_path, capsys):
    assert cli_main(["orgs", "list", "--format", "json"]) == 0
    assert {o["code"] for o in json.loads(capsys.readouterr().out)} == {"demo-city",
                                                                     "demo-ministry"}
    assert cli_main(["cases", "list", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)
    assert cli_main(["audit", "verify"]) == 0
    assert cli_main(["export", "--out", str(tmp_path / "audit.xlsx")]) == 0
    assert cli_main(["report", "periodic", "--fy", "2026", "--org", "demo-ministry",
                     "--out", str(tmp_path / "periodic.xlsx")]) == 0
    assert cli_main(["reassess", "--pack", "jp-national@2.0.0", "--format", "json"]) == 0
    assert cli_main(["packs", "installed"]) == 0


def test_pages_render_while_another_connection_holds_the_write_lock(seeded_file, write_lock,
                                                                   records_registry):
    from streamlit.testing.v1 import AppTest

    from tests.ui.conftest import APP
    from tests.ui.helpers import assert_clean, signed_in

    engine = create_db_engine(seeded_file[0])
    svc = Services(engine, records_registry)
    at = AppTest.from_file(str(APP), default_timeout=60)
    write_lock.execute("ROLLBACK")  # signing in is a write: done before the lock is taken
    signed_in(at, svc.actor_for("ministry-reviewer"), svc)
    write_lock.execute("BEGIN IMMEDIATE")
    engine.dispose()
    at.run()
    assert_clean(at)
    for page in ("procurement/ui/pages/portfolio.py", "procurement/ui/pages/operation.py",
                 "procurement/ui/pages/review.py", "procurement/ui/pages/exports.py"):
        at.switch_page(page).run()
        assert_clean(at)
    from procurement.ui import state

    state._build_services.clear()


def test_a_report_reads_one_snapshot_while_an_approval_is_saved(db_url, records_registry,
                                                                 fast_password_hashing):
    """The portfolio (and so the periodic report) reads cases, decisions and audited changes in
    one snapshot: an approval committed between its queries appears in none of them."""
    from procurement.demo import seed_demo

    reader_engine, writer_engine = create_db_engine(db_url), create_db_engine(db_url)
    reader = Services(reader_engine, records_registry)
    writer = Services(writer_engine, records_registry)
    seed_demo(writer)
    reviewer = writer.actor_for("ministry-reviewer")
    waiting = next(c for c in writer.list_cases(reviewer) if c.status == "submitted")
    fired: list[bool] = []

    @event.listens_for(reader_engine, "after_cursor_execute")
    def approve_meanwhile(conn, cursor, statement, parameters, context, executemany):
        if not fired and statement.lstrip().startswith("SELECT") and "FROM cases" in statement:
            fired.append(True)
            writer.approve(reviewer, waiting.id, waiting.version)

    year = (date(2026, 4, 1), date(2027, 3, 31))
    rows = reader.load_portfolio_rows(reviewer, changes_period=year)
    assert fired, "the concurrent approval was made between the report's queries"
    assert writer.get_case(reviewer, waiting.id).status == "approved"  # it was committed
    case = next(c for c in rows.cases if c.id == waiting.id)
    assert case.status == "submitted" and case.approved_at is None
    assert not [d for d in rows.decisions if d.case_id == waiting.id and d.kind == "approval"]
    assert not [c for c in rows.changes
                if c.case_id == waiting.id and c.event_type == "case.approved"]
    event.remove(reader_engine, "after_cursor_execute", approve_meanwhile)
    again = reader.load_portfolio_rows(reviewer, changes_period=year)
    assert next(c for c in again.cases if c.id == waiting.id).status == "approved"
    assert [d for d in again.decisions if d.case_id == waiting.id and d.kind == "approval"]
    reader_engine.dispose()
    writer_engine.dispose()


def test_a_pack_choice_stored_as_a_range_is_pinned_once_at_start_up(sqlite_url, records_registry,
                                                                     fast_password_hashing):
    """Earlier versions stored `city-strict`; the first process start pins it to the exact
    version it resolves to, records that in the organisation's chain, and changes nothing on
    later starts."""
    from procurement import audit
    from procurement.runtime import open_services

    engine = create_db_engine(sqlite_url)
    svc = Services(engine, records_registry)
    admin = svc.create_first_admin("city", "市", "municipality", "admin", "管理者",
                                   "correct horse battery")
    svc.create_org(admin, "town", "町", "municipality")
    with engine.begin() as conn:  # as an older version of the app stored it
        conn.execute(text("UPDATE organisations SET pack_ref = 'city-strict' WHERE code = 'town'"))
    engine.dispose()
    started = open_services(sqlite_url)
    town = started.get_org(started.installation_operator(), "town")
    assert town.pack_ref == records_registry.resolve("city-strict").ref
    with started.read() as s:
        events = s.execute(
            text("SELECT event_type, payload FROM audit_events WHERE chain = 'town'")).all()
    pinned = [json.loads(p) for t, p in events if t == "org.pack_set"]
    assert pinned == [{"code": "town", "old": "city-strict", "new": town.pack_ref,
                       "reason": "pinned", "via": "startup"}]
    assert all(r.ok for r in audit.verify_database(started.engine))
    assert started.pin_stored_pack_refs() == []  # nothing left to pin
    started.engine.dispose()


def test_a_save_that_meets_the_write_lock_says_busy_and_stores_nothing(seeded_file, write_lock,
                                                                       records_registry):
    """The attack: a large import held the write lock and a planner's save failed with
    "unexpected error". A save that cannot get the lock now says the system is busy."""
    from procurement.errors import BusyError

    engine = create_db_engine(seeded_file[0])
    svc = Services(engine, records_registry)
    planner = svc.actor_for("ministry-planner")
    draft = next(c for c in svc.list_cases(planner, mine=True) if c.status == "draft")
    with pytest.raises(BusyError) as busy:
        svc.save_answers(planner, draft.id, {"HR-1": "public"}, draft.version)
    assert busy.value.code == "busy"
    write_lock.execute("ROLLBACK")
    assert svc.get_case(planner, draft.id).version == draft.version
    write_lock.execute("BEGIN IMMEDIATE")
    engine.dispose()


def test_the_app_says_the_database_cannot_be_reached_and_nothing_was_saved(monkeypatch):
    from streamlit.testing.v1 import AppTest

    from procurement.ui import state
    from tests.ui.conftest import APP

    monkeypatch.setenv("PROCUREMENT_DATABASE_URL",
                       "postgresql+psycopg://nobody:secret@127.0.0.1:1/procurement")
    state._build_services.clear()
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    [error] = at.error
    assert "データベースに接続できない" in error.value and "保存されていません" in error.value
    assert "secret" not in error.value
    state._build_services.clear()
