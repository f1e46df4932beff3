"""`procurement db upgrade`, `orgs add`, `users add`, `demo seed`: names and output lines."""

import io
import json

import pytest

from procurement.cli import main
from procurement.db.migrations import head_revision


@pytest.fixture
def cli_db(db_url, monkeypatch, fast_password_hashing):
    monkeypatch.setenv("PROCUREMENT_DATABASE_URL", db_url)
    return db_url


def test_db_upgrade_creates_the_database(cli_db, capsys):
    assert main(["db", "upgrade"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("OK ") and out.endswith(f" at revision {head_revision()}")
    assert ":pw@" not in out and ":ci-pw@" not in out


def test_orgs_and_users_add(cli_db, capsys, monkeypatch, records_registry):
    assert main(["orgs", "add", "--code", "x-city", "--name", "X市", "--kind", "municipality",
                 "--pack", "city-strict@1"]) == 0
    assert capsys.readouterr().out.strip() == \
        "added organisation x-city (municipality) pack city-strict@1.0.0#39cc6efd5a3d"
    assert main(["orgs", "list", "--format", "json"]) == 0
    listed = {o["code"]: o for o in json.loads(capsys.readouterr().out)}
    assert listed["x-city"] == {"code": "x-city", "name": "X市", "kind": "municipality",
                                "pack": "city-strict@1.0.0#39cc6efd5a3d"}
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    assert main(["users", "add", "--org", "x-city", "--username", "tanaka", "--display-name",
                 "田中", "--roles", "reviewer,planner", "--password-stdin"]) == 0
    assert capsys.readouterr().out.strip() == "added user tanaka to x-city with roles planner,reviewer"

    from procurement.db import create_db_engine
    from procurement.services import Services

    engine = create_db_engine(cli_db)
    try:
        actor = Services(engine, records_registry).authenticate("tanaka", "a long password")
    finally:
        engine.dispose()
    assert actor.org_code == "x-city" and actor.roles == {"planner", "reviewer"}


def test_cli_errors_name_the_problem(cli_db, capsys, monkeypatch):
    assert main(["orgs", "add", "--code", "x", "--name", "X", "--kind", "ministry",
                 "--pack", "missing@1"]) == 1
    assert "missing@1" in capsys.readouterr().err
    monkeypatch.setenv("PROCUREMENT_NEW_PASSWORD", "a long password")
    assert main(["users", "add", "--org", "nowhere", "--username", "u", "--display-name", "U",
                 "--roles", "planner"]) == 1
    assert "error: organisation 'nowhere' not found" in capsys.readouterr().err
    assert main(["orgs", "add", "--code", "x", "--name", "X", "--kind", "ministry"]) == 0
    assert main(["users", "add", "--org", "x", "--username", "u", "--display-name", "U",
                 "--roles", "wizard"]) == 1
    assert "wizard" in capsys.readouterr().err


def test_demo_seed_runs_once(cli_db, capsys):
    assert main(["demo", "seed"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == ["seeded demo-ministry: 6 users, 10 cases",
                       "seeded demo-city: 5 users, 5 cases",
                       "seeded operation: 2 systems in operation, with their incidents"]
    assert main(["demo", "seed"]) == 0
    assert capsys.readouterr().out.strip() == "demo data already present: nothing done"
