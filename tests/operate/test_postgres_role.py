"""The PostgreSQL setup of docs/deployment.md works as written: its SQL (taken from the page, with
a unique name and password) creates a login role that is not a superuser and a database it
owns, and the app's commands then create the schema, seed, and pass `procurement doctor` as
that role."""

from __future__ import annotations

import re
import secrets
import uuid

import pytest
from sqlalchemy.engine import make_url

from procurement.cli import main
from tests.fixtures.db import _admin_connect, _require_postgres
from tests.ui.browser import ROOT

DOC = ROOT / "docs" / "deployment.md"


def _documented_sql() -> list[str]:
    block = re.search(r"psql <<'SQL'\n(?P<sql>.*?)\n\s*SQL\n", DOC.read_text(), re.DOTALL)
    assert block, "docs/deployment.md lost its role and database SQL"
    statements = [s.strip() for s in block["sql"].split(";") if s.strip()]
    assert [s.split()[:2] for s in statements] == [["CREATE", "ROLE"], ["CREATE", "DATABASE"]]
    return statements


@pytest.mark.postgres
def test_the_documented_role_and_database_run_the_app(monkeypatch, capsys, tmp_path):
    server = _require_postgres()
    name = f"procurement_role_{uuid.uuid4().hex[:10]}"
    password = secrets.token_urlsafe(18)
    statements = [re.sub(r"\bprocurement\b", name, s).replace("a long random password", password)
                  for s in _documented_sql()]
    try:
        with _admin_connect(server) as conn:
            for statement in statements:
                conn.execute(statement)
            assert conn.execute("SELECT rolsuper, rolcreatedb FROM pg_roles WHERE rolname = %s",
                                (name,)).fetchone() == (False, False)
        url = make_url(server).set(username=name, password=password, database=name)
        monkeypatch.setenv("PROCUREMENT_DATABASE_URL", url.render_as_string(hide_password=False))
        monkeypatch.chdir(tmp_path)
        assert main(["db", "upgrade"]) == 0
        assert main(["demo", "seed"]) == 0
        capsys.readouterr()
        assert main(["doctor"]) == 0, capsys.readouterr().out
        assert f"OK database: reachable (PostgreSQL at {url.host}:{url.port}, database {name})" in \
            capsys.readouterr().out
    finally:
        with _admin_connect(server) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{name}"')
