"""Backups restore to a working database: the commands of docs/operations.md ("Backups and
restore"), run as written, on SQLite (`sqlite3 FILE ".backup ..."` while the app has the file
open) and on PostgreSQL (`pg_dump --format=custom`, `createdb`, `pg_restore`). The restored copy
passes `procurement doctor`, every audit chain verifies against the heads recorded before the
backup (`audit verify --chain CODE --head SEQ:HASH`), and it holds the same cases."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from procurement.cli import main
from procurement.db import create_db_engine
from tests.fixtures.db import _admin_connect, _require_postgres

HEAD = re.compile(r"^OK (?P<chain>\S+) (?P<count>\d+) events, head (?P<head>\d+:[0-9a-f]{64})$")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    pytest.fail(f"{name} is not installed (.ci/run installs it; Debian: sqlite3 / postgresql-client)")


def _heads(url: str, monkeypatch, capsys) -> dict[str, str]:
    """`audit verify` on `url`: {chain: SEQ:HASH}, as an operator records them."""
    monkeypatch.setenv("PROCUREMENT_DATABASE_URL", url)
    assert main(["audit", "verify"]) == 0
    heads = {}
    for line in capsys.readouterr().out.splitlines():
        match = HEAD.match(line)
        assert match, line
        heads[match["chain"]] = match["head"]
    return heads


def _case_rows(url: str) -> list[tuple]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(
                text("SELECT id, title, status, version FROM cases ORDER BY id"))]
    finally:
        engine.dispose()


def _check_restored(source: str, restored: str, heads: dict[str, str], monkeypatch, capsys
                    ) -> None:
    monkeypatch.setenv("PROCUREMENT_DATABASE_URL", restored)
    assert main(["doctor"]) == 0, capsys.readouterr()
    capsys.readouterr()
    for chain, head in heads.items():
        assert main(["audit", "verify", "--chain", chain, "--head", head]) == 0, capsys.readouterr()
    capsys.readouterr()
    assert _heads(restored, monkeypatch, capsys) == heads
    assert _case_rows(restored) == _case_rows(source) and len(_case_rows(source)) >= 10


def _seed(url: str, monkeypatch, capsys) -> dict[str, str]:
    monkeypatch.setenv("PROCUREMENT_DATABASE_URL", url)
    assert main(["demo", "seed"]) == 0
    capsys.readouterr()
    heads = _heads(url, monkeypatch, capsys)
    assert {"demo-ministry", "demo-city"} <= set(heads)
    return heads


def test_sqlite_online_backup_restores_with_every_chain_intact(tmp_path, monkeypatch, capsys):
    source_file, backup_file = tmp_path / "procurement.sqlite", tmp_path / "backup.sqlite"
    source = f"sqlite:///{source_file}"
    heads = _seed(source, monkeypatch, capsys)
    app = create_db_engine(source)  # the running app: a connection holds the file open
    try:
        with app.connect() as conn:
            conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
            subprocess.run([_tool("sqlite3"), str(source_file), f".backup '{backup_file}'"],
                           check=True, capture_output=True, timeout=60)
    finally:
        app.dispose()
    restored_file = tmp_path / "restored" / "procurement.sqlite"
    restored_file.parent.mkdir()
    shutil.copyfile(backup_file, restored_file)  # restore = put the copy where the app looks
    _check_restored(source, f"sqlite:///{restored_file}", heads, monkeypatch, capsys)


@pytest.mark.postgres
def test_pg_dump_restores_into_a_new_database_with_every_chain_intact(pg_url, tmp_path,
                                                                       monkeypatch, capsys):
    server = _require_postgres()
    heads = _seed(pg_url, monkeypatch, capsys)
    libpq = make_url(pg_url).set(drivername="postgresql")
    dump = tmp_path / "procurement.dump"
    subprocess.run([_tool("pg_dump"), "--format=custom", f"--file={dump}",
                    libpq.render_as_string(hide_password=False)],
                   check=True, capture_output=True, timeout=120)
    name = f"procurement_restored_{uuid.uuid4().hex[:12]}"
    with _admin_connect(server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    restored = make_url(pg_url).set(database=name)
    try:
        subprocess.run([_tool("pg_restore"), "--no-owner", "--exit-on-error",
                        f"--dbname={libpq.set(database=name).render_as_string(hide_password=False)}",
                        str(dump)], check=True, capture_output=True, timeout=120)
        _check_restored(pg_url, restored.render_as_string(hide_password=False), heads,
                        monkeypatch, capsys)
    finally:
        with _admin_connect(server) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
