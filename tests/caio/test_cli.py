"""`procurement report periodic` and `procurement report board`: exact command names and output."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import openpyxl
import pytest

from procurement.cli import main


@pytest.fixture
def db_url(sqlite_url):
    """SQLite only here: the CLI reads through the same loaders that the PostgreSQL round trip of
    test_demo_portfolio.py covers."""
    return sqlite_url


@pytest.fixture
def cli_db(db_url, services, planner, running_case, monkeypatch):
    """The database of `services` (one running case with an incident) as the CLI's database."""
    services.create_incident(planner, running_case.case_id,
                              occurred_on=date(2026, 7, 1), severity="low", description="軽微な誤り")
    monkeypatch.setenv("PROCUREMENT_DATABASE_URL", db_url)
    return running_case


def test_periodic_command(cli_db, tmp_path, capsys):
    out = tmp_path / "teiki.xlsx"
    code = main(["report", "periodic", "--fy", "2026", "--org", "org-a", "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert printed.out.startswith("OK periodic org-a FY2026 (令和8年度): 1 systems, 1 incidents, ")
    assert printed.out.rstrip().endswith(f"-> {out}")
    sheet = openpyxl.load_workbook(out)["システム一覧"]
    assert sheet.cell(row=3, column=1).value == cli_db.case_id


def test_periodic_command_accepts_reiwa_and_reports_errors(cli_db, tmp_path, capsys):
    out = tmp_path / "r7.xlsx"
    assert main(["report", "periodic", "--fy", "令和7年度", "--org", "org-a", "--out", str(out)]) == 0
    assert "FY2025 (令和7年度): 0 systems" in capsys.readouterr().out
    assert main(["report", "periodic", "--fy", "next", "--org", "org-a", "--out", str(out)]) == 1
    assert "--fy: not a fiscal year: 'next'" in capsys.readouterr().err
    assert main(["report", "periodic", "--fy", "2026", "--org", "nope", "--out", str(out)]) == 1
    assert "organisation 'nope' not found" in capsys.readouterr().err
    assert main(["report", "periodic", "--fy", "2026", "--org", "org-a",
                 "--out", str(tmp_path / "x.csv")]) == 1
    assert "expected a file ending in .xlsx" in capsys.readouterr().err


def test_board_command_writes_html_and_xlsx(cli_db, tmp_path, capsys):
    for name in ("board.html", "board.xlsx"):
        out = tmp_path / name
        assert main(["report", "board", "--case", str(cli_db.case_id), "--out", str(out)]) == 0
        assert capsys.readouterr().out.strip() == f"OK board case {cli_db.case_id} (org-a) -> {out}"
        assert out.stat().st_size > 0
    assert main(["report", "board", "--case", "999999", "--out", str(tmp_path / "n.html")]) == 1
    assert "case 999999 not found" in capsys.readouterr().err


def test_installed_command_runs_as_a_process(sqlite_url, tmp_path, fast_password_hashing):
    """The console script contract, from outside: a fresh database has nothing to report."""
    out = tmp_path / "empty.xlsx"
    env = {**os.environ, "PROCUREMENT_DATABASE_URL": sqlite_url}
    from procurement.db import create_db_engine
    from procurement.packs import PackRegistry
    from procurement.services import Services

    engine = create_db_engine(sqlite_url)
    Services(engine, PackRegistry.discover()).create_first_admin(
        "solo", "単独市", "municipality", "admin", "管理者", "correct horse battery")
    engine.dispose()
    done = subprocess.run(
        [sys.executable, "-m", "procurement", "report", "periodic", "--fy", "2026", "--org", "solo",
         "--out", str(out)], env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK periodic solo FY2026 (令和8年度): 0 systems, 0 incidents")
