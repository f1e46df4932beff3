"""`procurement audit verify`: the output lines and exit codes are a contract checked from outside."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from procurement.cli import main
from tests.audit.chains import build_chains, run_sql

OK_LINE = re.compile(r"^OK (?P<chain>\S+) (?P<count>\d+) events, head (?P<head>\d+:[0-9a-f]{64})$")


def make_runner(url, monkeypatch, capsys):
    monkeypatch.setenv("PROCUREMENT_DATABASE_URL", url)

    def run(*args: str) -> tuple[int, list[str], str]:
        code = main(["audit", "verify", *args])
        out, err = capsys.readouterr()
        return code, out.splitlines(), err

    return run


@pytest.fixture
def verify(engine, db_url, monkeypatch, capsys):
    """Run `procurement audit verify ARGS` in-process against the test database (both kinds)."""
    return make_runner(db_url, monkeypatch, capsys)


@pytest.fixture
def sqlite_verify(sqlite_url, monkeypatch, capsys):
    """The same on SQLite only, for option handling that does not depend on the database."""
    from procurement.db import create_db_engine

    engine = create_db_engine(sqlite_url)
    yield engine, make_runner(sqlite_url, monkeypatch, capsys)
    engine.dispose()


def test_every_chain_verifies(engine, verify):
    build_chains(engine)
    code, lines, _ = verify()
    assert code == 0
    matches = [OK_LINE.match(line) for line in lines]
    assert all(matches), lines
    assert [(m["chain"], m["count"], m["head"].split(":")[0]) for m in matches] == [
        ("demo-city", "8", "8"), ("demo-ministry", "3", "3"),
    ]


def test_one_chain(sqlite_verify):
    engine, verify = sqlite_verify
    build_chains(engine)
    code, lines, _ = verify("--chain", "demo-ministry")
    assert code == 0 and len(lines) == 1 and lines[0].startswith("OK demo-ministry 3 events, head 3:")


def test_tampered_chain_fails_naming_chain_seq_and_problem(engine, verify):
    build_chains(engine)
    run_sql(engine, "UPDATE audit_events SET actor = 'x' WHERE chain = 'demo-city' AND seq = 3")
    code, lines, _ = verify()
    assert code == 1
    assert lines[0].startswith("FAIL demo-city seq 3: content changed: ")
    assert OK_LINE.match(lines[1])["chain"] == "demo-ministry"


def test_deleted_tail_fails_against_the_recorded_head(engine, verify):
    build_chains(engine)
    _, lines, _ = verify("--chain", "demo-city")
    head = OK_LINE.match(lines[0])["head"]
    assert verify("--chain", "demo-city", "--head", head)[0] == 0
    run_sql(engine, "DELETE FROM audit_events WHERE chain = 'demo-city' AND seq = 8")
    assert verify("--chain", "demo-city")[0] == 0
    code, lines, _ = verify("--chain", "demo-city", "--head", head)
    assert code == 1
    assert lines == [
        f"FAIL demo-city seq 8: event missing: the recorded head 8:{head[2:14]}... is gone: "
        "the chain ends at seq 7 (events were removed from the end)"
    ]


def test_unknown_chain_fails(sqlite_verify):
    engine, verify = sqlite_verify
    build_chains(engine)
    code, lines, _ = verify("--chain", "no-such-org")
    assert code == 1 and lines[0].startswith("FAIL no-such-org seq 1: event missing: no events")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--head", "8"], "is not SEQ:HASH"),
        (["--head", "8:abc", "--chain", "demo-city"], "HASH 64 hex digits"),
        (["--head", "1:" + "0" * 64], "--head needs --chain"),
    ],
)
def test_bad_options_exit_2_with_a_message(sqlite_verify, args, message):
    engine, verify = sqlite_verify
    build_chains(engine)
    code, lines, err = verify(*args)
    assert code == 2 and lines == []
    assert err.startswith("error: ") and message in err


def test_entry_point_in_a_fresh_process(tmp_path):
    # Also the first use of an empty database: it is created and migrated, and holds no events.
    env = {**os.environ, "PROCUREMENT_DATABASE_URL": f"sqlite:///{tmp_path / 'new' / 'db.sqlite'}"}
    done = subprocess.run(
        [sys.executable, "-m", "procurement", "audit", "verify"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert (done.returncode, done.stdout) == (0, "no audit events\n"), done.stderr
