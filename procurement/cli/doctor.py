"""CLI command `procurement doctor`: is this installation healthy, and how is it configured?

    procurement doctor

Prints the configuration (version, where the app files, rule packs and database are, the
Streamlit settings, timeouts, single sign-on), then one line per check:

    OK <check>: <detail>
    FAIL <check>: <what is wrong and what to do>

The checks: the database is reachable (host and port named, never the password), its schema is
at the newest revision, every rule pack loads (shipped and installed in the database), every
audit chain verifies, and every setting read from the environment is valid. Exit 0 when all
pass, 1 when any fails (one FAIL line per problem).
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from procurement.cli.common import add_command
from procurement.errors import ProcurementError


def register(sub) -> None:
    """Add this group's commands to the `procurement` parser."""
    cmd = add_command(
        sub, "doctor",
        help="check the database, schema, rule packs, audit chains and settings",
        description="Show how this installation is configured, then check that the database "
                    "is reachable, its schema is the newest, every rule pack loads (shipped and "
                    "installed), every audit chain verifies and every setting is valid. Exit 0 "
                    "when all pass, 1 with one FAIL line per problem.",
        examples=["procurement doctor"],
    )
    cmd.set_defaults(handler=run_doctor)


@dataclass
class Checks:
    """The check lines printed so far, and how many failed."""

    failures: int = 0
    lines: list[str] = field(default_factory=list)

    def ok(self, check: str, detail: str) -> None:
        self._print(f"OK {check}: {detail}")

    def fail(self, check: str, detail: str) -> None:
        self.failures += 1
        self._print(f"FAIL {check}: {detail}")

    def _print(self, line: str) -> None:
        self.lines.append(line)
        print(line, flush=True)


def _setting(name: str, read) -> tuple[str, str | None]:
    """(value text, problem) of one environment setting."""
    try:
        return str(read()), None
    except ProcurementError as exc:
        return "invalid", exc.message


def streamlit_settings(script_dir: Path) -> dict[str, object]:
    """The project's Streamlit settings that matter in operation (the config file beside the
    entry script, which Streamlit reads whatever the current folder)."""
    path = script_dir / ".streamlit" / "config.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return {
        "server.address": data.get("server", {}).get("address", "(every interface)"),
        "server.maxUploadSize": data.get("server", {}).get("maxUploadSize", 200),
        "client.showErrorDetails": data.get("client", {}).get("showErrorDetails", "full"),
        "browser.gatherUsageStats": data.get("browser", {}).get("gatherUsageStats", True),
    }


def _secrets_files(script_dir: Path) -> list[Path]:
    """Where Streamlit looks for `secrets.toml` (home, current folder, beside the script)."""
    return [Path.home() / ".streamlit" / "secrets.toml", Path.cwd() / ".streamlit" / "secrets.toml",
            script_dir / ".streamlit" / "secrets.toml"]


def single_sign_on(script_dir: Path) -> tuple[str, list[str]]:
    """A description of the single sign-on configuration, and its problems."""
    from procurement import config

    problems = []
    try:
        section = config.oidc_auth_section()
    except ProcurementError as exc:
        return "invalid", [exc.message]
    if section is not None:
        source = f"PROCUREMENT_OIDC_* (provider {section['server_metadata_url']})"
    else:
        found = []
        for path in dict.fromkeys(_secrets_files(script_dir)):
            try:
                if path.is_file() and "auth" in tomllib.loads(path.read_text(encoding="utf-8")):
                    found.append(str(path))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                problems.append(f"cannot read {path}: {exc}")
        if not found:
            return "off (local accounts only)", problems
        source = f"[auth] in {', '.join(found)}"
    match, problem = _setting("PROCUREMENT_SSO_MATCH", config.sso_match)
    problems += [problem] if problem else []
    claim = config.sso_claim() if problem is None else "?"
    age, problem = _setting("PROCUREMENT_SSO_MAX_AGE_SECONDS", config.sso_max_age_seconds)
    problems += [problem] if problem else []
    return f"{source}; claim {claim} -> {match}; provider sign-in at most {age} s old", problems


def print_configuration(args: argparse.Namespace) -> list[str]:
    """Print the configuration summary; returns the problems found in the settings."""
    from sqlalchemy.engine import make_url

    from procurement import __version__, config

    problems: list[str] = []
    script_dir = config.app_dir()
    layout = ("installed package" if config.is_installed_copy() else "source checkout")
    url = config.database_url()
    try:
        parsed = make_url(url)
        shown_url = parsed.render_as_string(hide_password=True)
        is_sqlite = parsed.get_backend_name() == "sqlite"
    except Exception:  # noqa: BLE001 - reported by the database check
        shown_url, is_sqlite = "(not a valid URL)", False
    url_from = "PROCUREMENT_DATABASE_URL" if os.environ.get("PROCUREMENT_DATABASE_URL") else "default"
    rules_from = ("--rules-dir" if args.rules_dir else "PROCUREMENT_RULES_DIR"
                  if os.environ.get("PROCUREMENT_RULES_DIR") else "shipped with procurement")
    timeout, problem = _setting("PROCUREMENT_SESSION_TIMEOUT_MINUTES",
                                config.session_timeout_minutes)
    problems += [problem] if problem else []
    sso, sso_problems = single_sign_on(script_dir)
    problems += sso_problems
    settings = streamlit_settings(script_dir)
    rows = [
        ("version", f"procurement {__version__}, Python {sys.version.split()[0]}"),
        ("program", f"{Path(__file__).resolve().parents[1]} ({layout})"),
        ("app entry", str(config.app_script())),
        ("app settings", f"{script_dir / '.streamlit' / 'config.toml'}: "
                         + ", ".join(f"{k} {v}" for k, v in settings.items())),
        ("database", f"{shown_url} ({url_from})"),
        ("rule packs", f"{config.rules_dir(args.rules_dir)} ({rules_from})"),
        ("idle timeout", f"{timeout} minutes"),
        ("single sign-on", sso),
    ]
    if is_sqlite:
        busy, problem = _setting("PROCUREMENT_SQLITE_BUSY_TIMEOUT", config.sqlite_busy_timeout)
        problems += [problem] if problem else []
        rows.append(("SQLite busy timeout", f"{busy} s"))
    print("configuration:")
    for name, value in rows:
        print(f"  {name + ':':<21}{value}")
    print("checks:")
    return problems


def run_doctor(args: argparse.Namespace) -> int:
    """Print the configuration and every check; 0 when all pass, 1 otherwise."""
    from procurement import config
    from procurement.db.errors import where

    problems = print_configuration(args)
    checks = Checks()
    for problem in problems:
        checks.fail("setting", problem)

    url = config.database_url()
    engine = _reachable_engine(checks, url)
    at_head = engine is not None and _schema_at_head(checks, engine)
    registry = _shipped_packs(checks, args.rules_dir)
    if engine is not None and at_head:
        _installed_packs(checks, engine, registry)
        _audit_chains(checks, engine)
    elif engine is not None:
        checks.fail("audit chains", "not verified: the schema is not at the newest revision")
    if engine is not None:
        engine.dispose()
    if checks.failures:
        print(f"{checks.failures} problem{'s' if checks.failures != 1 else ''} "
              f"({where(url) if engine is not None else 'see above'})", file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


def _reachable_engine(checks: Checks, url: str):
    """An engine on the database (without migrating it) if it answers; None otherwise."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from procurement.db import create_db_engine
    from procurement.db.errors import database_errors, where

    try:
        parsed = make_url(url)
    except Exception as exc:  # noqa: BLE001 - any unparsable URL
        checks.fail("database", f"PROCUREMENT_DATABASE_URL is not a database URL: {exc}")
        return None
    if (parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")
            and not Path(parsed.database).exists()):
        checks.fail("database", f"{where(parsed)} does not exist yet (`procurement db "
                                "upgrade` or the first start creates it)")
        return None
    try:
        engine = create_db_engine(url, migrate=False)
        with database_errors(parsed), engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except ProcurementError as exc:
        checks.fail("database", exc.message)
        return None
    checks.ok("database", f"reachable ({where(parsed)})")
    return engine


def _schema_at_head(checks: Checks, engine) -> bool:
    from alembic.script import ScriptDirectory

    from procurement.db.migrations import (
        alembic_config,
        current_revision,
        head_revision,
    )

    head = head_revision()
    try:
        current = current_revision(engine)
    except Exception as exc:  # noqa: BLE001 - a database the migrations cannot read
        checks.fail("schema", f"cannot read the schema revision: {exc}")
        return False
    if current == head:
        checks.ok("schema", f"at revision {head}, the newest")
        return True
    if current is None:
        checks.fail("schema", f"the database is empty; `procurement db upgrade` creates the "
                              f"schema (revision {head})")
        return False
    known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if current not in known:
        checks.fail("schema", f"at revision {current}, newer than this version of procurement "
                              f"knows (its newest is {head}): upgrade procurement")
    else:
        checks.fail("schema", f"at revision {current}, not the newest ({head}): run "
                              "`procurement db upgrade` (docs/operations.md, upgrading)")
    return False


def _shipped_packs(checks: Checks, rules_dir: str | None):
    from procurement import config
    from procurement.packs import PackRegistry

    folder = config.rules_dir(rules_dir)
    try:
        registry = PackRegistry.discover(rules_dir, strict=False)
    except ProcurementError as exc:
        checks.fail("rule packs", exc.message)
        return None
    for error in registry.errors:
        checks.fail("rule packs", str(error))
    count = len(registry.packs())
    if not registry.errors:
        if count:
            checks.ok("rule packs", f"{count} packs under {folder} load")
        else:
            checks.fail("rule packs", f"no pack under {folder}")
    return registry


def _installed_packs(checks: Checks, engine, registry) -> None:
    from procurement.packs import PackRegistry
    from procurement.services import Services

    svc = Services(engine, registry if registry is not None else PackRegistry([]))
    try:
        problems = svc.load_installed_packs()
        installed = svc.list_installed_packs()
    except ProcurementError as exc:
        checks.fail("installed packs", exc.message)
        return
    for problem in problems:
        checks.fail("installed packs", str(problem))
    if not problems:
        checks.ok("installed packs", f"{len(installed)} load" if installed else "none installed")


def _audit_chains(checks: Checks, engine) -> None:
    from procurement import audit

    try:
        reports = audit.verify_database(engine)
    except ProcurementError as exc:
        checks.fail("audit chains", exc.message)
        return
    if not reports:
        checks.ok("audit chains", "no audit events yet")
    for report in reports:
        line = report.describe().split(" ", 1)[1]
        (checks.ok if report.ok else checks.fail)("audit chain", line)
