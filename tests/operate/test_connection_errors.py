"""A database the command cannot use is one line, `error: <what and where>`, in every command:
the host, port and database are named, the password never appears, and there is no traceback.

Every command is taken from the examples of its own `--help` (so a new command is covered as
soon as it has an example) and run against a PostgreSQL URL with a wrong password, then against
a database that does not exist; malformed URLs are masked too.
"""

from __future__ import annotations

import re
import shlex
import sys

import pytest
from sqlalchemy.engine import make_url

from procurement.cli import build_parser, main
from tests.fixtures.db import _require_postgres
from tests.operate.test_cli_help import _commands

SECRET = "Wr0ng-s3cret-pw"


def _example_commands() -> list[list[str]]:
    """The arguments of every example in every command's help (without `procurement`)."""
    found: list[list[str]] = []
    for _path, sub in _commands(build_parser()):
        for line in (sub.epilog or "").splitlines()[1:]:
            words = shlex.split(line.strip().split("|")[-1], comments=True)
            while words and re.match(r"^[A-Z_]+=", words[0]):
                words.pop(0)
            if words and words[-1] != "--help" and words[1:] not in found:
                found.append(words[1:])
    return found


def _run_all(url: str, tmp_path, monkeypatch, capsys) -> dict[str, tuple[int, str]]:
    monkeypatch.setenv("PROCUREMENT_DATABASE_URL", url)
    monkeypatch.setenv("PROCUREMENT_NEW_PASSWORD", "a long enough password")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", open("/dev/null"))  # noqa: SIM115 - closed by pytest's teardown
    results = {}
    for words in _example_commands():
        code = main(words)
        captured = capsys.readouterr()
        results[" ".join(words)] = (code, captured.out + captured.err)
    return results


@pytest.mark.postgres
@pytest.mark.parametrize("problem", ["wrong password", "missing database"])
def test_every_command_names_the_unusable_database_in_one_line_without_the_password(
        problem, tmp_path, monkeypatch, capsys):
    server = make_url(_require_postgres())
    if problem == "wrong password":
        url = server.set(password=SECRET, drivername="postgresql+psycopg")
        reason = "password authentication failed"
    else:
        url = server.set(database="procurement_no_such_database", drivername="postgresql+psycopg")
        reason = 'database "procurement_no_such_database" does not exist'
    place = (f"cannot use the database (PostgreSQL at {server.host}:{server.port or 5432}, "
             f"database {url.database})")
    results = _run_all(url.render_as_string(hide_password=False), tmp_path, monkeypatch, capsys)
    database_failures = 0
    for command, (code, output) in results.items():
        assert url.password not in output, command
        assert "Traceback" not in output, f"{command}:\n{output}"
        if place in output:
            database_failures += 1
            assert code in (1, 2), command  # the packs group exits 2 on library errors
            line = next(line for line in output.splitlines() if place in line)
            assert line.startswith(("error: ", "FAIL database: ")) and reason in line, line
    # Everything but the commands that only read packs or files needs the database.
    assert database_failures >= 20, sorted(results)
    assert place in results["doctor"][1] and results["doctor"][0] == 1
    assert any(words.startswith("serve") and place in output
               for words, (_code, output) in results.items())


@pytest.mark.parametrize("url, shown", [
    ("postgresql+psycopg://clerk:Wr0ng-s3cret-pw@127.0.0.1:notaport/db",
     "database URL 'postgresql+psycopg://clerk:***@127.0.0.1:notaport/db' is not valid"),
    ("postgres+nodriver://clerk:Wr0ng-s3cret-pw@127.0.0.1/db",
     "database URL 'postgres+nodriver://clerk:***@127.0.0.1/db': unknown driver"),
    ("mysql://clerk:Wr0ng-s3cret-pw@127.0.0.1/db",
     "database URL 'mysql://clerk:***@127.0.0.1/db': only sqlite and postgresql"),
])
def test_a_malformed_database_url_is_named_with_its_password_masked(url, shown, tmp_path,
                                                                      monkeypatch, capsys):
    monkeypatch.setenv("PROCUREMENT_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    for words in (["cases", "list", "--org", "demo-city"], ["db", "upgrade"]):
        assert main(words) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"error: {shown}") and len(err.splitlines()) == 1, err
        assert SECRET not in err
    assert main(["doctor"]) == 1
    out = capsys.readouterr()
    assert SECRET not in out.out + out.err and "FAIL database" in out.out + out.err
