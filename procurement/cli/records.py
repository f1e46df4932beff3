"""CLI commands for the records: `db upgrade`, `demo seed`, `cases import`, `users add`,
`orgs add|list`, `cases list`.

These parse options and call `procurement.services`; the operator at the command line has
database access, so `users add` and `orgs add` act as the `system` administrator. Output lines
are a contract (see docs/operations.md): keep them stable.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

from procurement.cli.common import add_command, services_for
from procurement.errors import InputError, ProcurementError

#: Environment variable read by `users add` when neither --password-stdin nor a terminal is there.
PASSWORD_ENV = "PROCUREMENT_NEW_PASSWORD"


def register(sub) -> None:
    """Add this group's commands to the `procurement` parser."""
    fmt: dict[str, Any] = {"choices": ("table", "json"), "default": "table",
           "help": "output format (default table; json is the stable shape for scripts)"}

    db = add_command(sub, "db", help="create or migrate the database schema",
                     examples=["procurement db upgrade"])
    db_sub = db.add_subparsers(dest="db_command", metavar="COMMAND")
    db_sub.required = True
    up = add_command(
        db_sub, "upgrade", help="create the database or migrate it to the newest schema",
        description="Apply the migrations this version ships (the app and every command also "
                    "do it on first use). Prints `OK <URL without password> at revision REV`. "
                    "Safe with several processes starting at once.",
        examples=[("PROCUREMENT_DATABASE_URL=postgresql+psycopg://app:PASSWORD@db/procurement "
                  "procurement db upgrade")],
    )
    up.set_defaults(handler=_db_upgrade)

    token = add_command(
        sub, "setup-token", help="print a new one-time token for the first-run setup in the browser",
        description="Only while the installation has no users. The token replaces any other; "
                    "the app asks for it on its first-run page.",
        examples=["procurement setup-token"])
    token.set_defaults(handler=_setup_token)

    demo = add_command(sub, "demo", help="create demonstration organisations, users and cases",
                       examples=["procurement demo seed"])
    demo_sub = demo.add_subparsers(dest="demo_command", metavar="COMMAND")
    demo_sub.required = True
    seed = add_command(
        demo_sub, "seed", help="create the demo organisations, users and cases",
        description="Two organisations (demo-ministry, demo-city), their users (password "
                    "demo-pass: never on a real installation) and cases in every status. Does "
                    "nothing when the demo data is already there.",
        examples=["procurement demo seed"])
    seed.set_defaults(handler=_demo_seed)

    cases = add_command(sub, "cases", help="import and list cases",
                        examples=["procurement cases list --org demo-ministry"])
    cases_sub = cases.add_subparsers(dest="cases_command", metavar="COMMAND")
    cases_sub.required = True
    imp = add_command(
        cases_sub, "import", help="create draft cases from a JSON array (all or nothing)",
        description='FILE is a JSON array of {"title", "department", "purpose"?, "pack"?, '
                    '"answers": {...}, '
                    '"checklist"?: {"ITEM": {"status", "evidence"}}}.',
        examples=["procurement cases import --org kanagawa-x --as tanaka cases.json"],
    )
    imp.add_argument("--org", required=True, metavar="CODE", help="organisation code")
    imp.add_argument("--as", dest="as_user", metavar="USERNAME",
                     help="the planner who owns the cases (default: the organisation's first "
                          "active planner)")
    imp.add_argument("file", metavar="FILE", help="JSON file ('-' for standard input)")
    imp.set_defaults(handler=_cases_import)
    clist = add_command(
        cases_sub, "list", help="list cases with their level and exact pack",
        description="JSON (--format json): an array of objects with the keys id, title, "
                    "department, status, level (null while the classification is incomplete), "
                    "pack (id@x.y.z#fingerprint) and updated_at (ISO 8601 with offset).",
        examples=["procurement cases list --org demo-ministry --status submitted --format json"],
    )
    clist.add_argument("--org", metavar="CODE", help="organisation code (default: every one)")
    clist.add_argument("--status", metavar="STATUS",
                       help="only cases in this status, e.g. submitted")
    clist.add_argument("--format", **fmt)
    clist.set_defaults(handler=_cases_list)

    users = add_command(sub, "users", help="user accounts (administrators)",
                        examples=["procurement users add --help"])
    users_sub = users.add_subparsers(dest="users_command", metavar="COMMAND")
    users_sub.required = True
    add = add_command(
        users_sub, "add", help="add a user",
        description=f"The password is read from standard input with --password-stdin, else from "
                    f"${PASSWORD_ENV}, else asked for at the terminal.",
        examples=[("echo 'a long password' | procurement users add --org kanagawa-x "
                  "--username tanaka --display-name '田中 一郎' --roles planner --password-stdin")],
    )
    add.add_argument("--org", required=True, metavar="CODE", help="organisation code")
    add.add_argument("--username", required=True, metavar="USERNAME",
                     help="the name to sign in with (no spaces; single sign-on may match it)")
    add.add_argument("--display-name", required=True, metavar="NAME",
                     help="the person's name as shown in the app and the audit log")
    add.add_argument("--roles", required=True, metavar="ROLES",
                     help="comma-separated: planner, reviewer, auditor, pack_admin, admin")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input")
    add.add_argument("--email", metavar="ADDRESS",
                     help="the person's e-mail address: where e-mail notifications go, and what "
                          "single sign-on matches with PROCUREMENT_SSO_MATCH=email (optional)")
    add.set_defaults(handler=_users_add)
    email = add_command(
        users_sub, "set-email", help="set or clear a user's e-mail address",
        description="Set the e-mail address single sign-on matches when PROCUREMENT_SSO_MATCH="
                    "email; an empty ADDRESS clears it. Recorded in the audit log.",
        examples=[("procurement users set-email --org kanagawa-x --username tanaka "
                   "--email tanaka@city.example.lg.jp")],
    )
    email.add_argument("--org", required=True, metavar="CODE", help="organisation code")
    email.add_argument("--username", required=True, metavar="USERNAME", help="the account")
    email.add_argument("--email", required=True, metavar="ADDRESS",
                       help="the e-mail address ('' clears it)")
    email.set_defaults(handler=_users_set_email)

    orgs = add_command(sub, "orgs", help="organisations (administrators)",
                       examples=["procurement orgs list"])
    orgs_sub = orgs.add_subparsers(dest="orgs_command", metavar="COMMAND")
    orgs_sub.required = True
    oadd = add_command(
        orgs_sub, "add", help="add an organisation",
        description="A ministry or municipality; its code also names its audit chain.",
        examples=[("procurement orgs add --code kanagawa-x --name X市 --kind municipality "
                  "--pack city-strict@2")],
    )
    oadd.add_argument("--code", required=True, metavar="CODE",
                      help="short code, also its audit chain name")
    oadd.add_argument("--name", required=True, metavar="NAME", help="the organisation's name")
    oadd.add_argument("--kind", required=True, choices=("ministry", "municipality"),
                      help="a national ministry or agency, or a municipality")
    oadd.add_argument("--pack", metavar="REF",
                      help="rule pack, e.g. city-strict@1 (default: the national edition in "
                           "force on each case's date)")
    oadd.set_defaults(handler=_orgs_add)
    olist = add_command(
        orgs_sub, "list", help="list organisations and the exact pack each one uses",
        description="JSON (--format json): an array of objects with the keys code, name, kind "
                    "and pack (id@x.y.z#fingerprint, or null: the national edition in force on "
                    "each case's date).",
        examples=["procurement orgs list --format json"],
    )
    olist.add_argument("--format", **fmt)
    olist.set_defaults(handler=_orgs_list)


def _fail(exc: ProcurementError) -> int:
    print(f"error: {exc.message}", file=sys.stderr)
    return 1


def _db_upgrade(args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url

    from procurement import config
    from procurement.db import create_db_engine
    from procurement.db.migrations import current_revision

    try:
        engine = create_db_engine()
    except ProcurementError as exc:
        return _fail(exc)
    url = make_url(config.database_url()).render_as_string(hide_password=True)
    print(f"OK {url} at revision {current_revision(engine)}")
    engine.dispose()
    return 0


def _setup_token(args: argparse.Namespace) -> int:
    try:
        token = services_for(args).new_setup_token()
    except ProcurementError as exc:
        return _fail(exc)
    print(token)
    return 0


def _demo_seed(args: argparse.Namespace) -> int:
    from procurement.demo import seed_demo
    from procurement.demo.operations import seed_demo_operations

    try:
        svc = services_for(args)
        summary = seed_demo(svc)
        # Systems in operation and incidents, so the CAIO's pages and reports have content.
        running = seed_demo_operations(svc) if summary is not None else 0
    except ProcurementError as exc:
        return _fail(exc)
    if summary is None:
        print("demo data already present: nothing done")
        return 0
    for org_code, count in summary.cases_by_org.items():
        print(f"seeded {org_code}: {summary.users_by_org[org_code]} users, {count} cases")
    print(f"seeded operation: {running} systems in operation, with their incidents")
    print("demo passwords: see docs/operations.md")
    return 0


def _cases_import(args: argparse.Namespace) -> int:
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as exc:
        print(f"error: {args.file} is not valid JSON: {exc.msg} at line {exc.lineno} column "
              f"{exc.colno}", file=sys.stderr)
        return 1
    try:
        svc = services_for(args)
        actor = _import_actor(svc, args.org, args.as_user)
        views = svc.import_cases(actor, entries)
    except InputError as exc:
        errors = exc.params.get("errors")
        if not errors:
            return _fail(exc)
        for err in errors:
            print(f"error: entry {err['index']}: {err['reason']}", file=sys.stderr)
        print(f"nothing imported: {len(errors)} invalid entr{'y' if len(errors) == 1 else 'ies'}",
              file=sys.stderr)
        return 1
    except ProcurementError as exc:
        return _fail(exc)
    for view in views:
        state = "complete" if view.is_complete else "incomplete"
        print(f"created case {view.id} {view.level} {state} {view.title}")
    print(f"imported {len(views)} case{'' if len(views) == 1 else 's'} into {args.org}")
    return 0


def _import_actor(svc, org_code: str, username: str | None):
    from procurement.errors import NotFoundError

    admin = svc.system_actor(org_code)
    users = [u for u in svc.list_users(admin, org_code) if u.is_active and "planner" in u.roles]
    if username is not None:
        users = [u for u in users if u.username == username]
        if not users:
            raise NotFoundError(f"no active planner {username!r} in organisation {org_code!r}",
                                kind="user", id=username, org=org_code)
    if not users:
        raise NotFoundError(f"organisation {org_code!r} has no active planner to own the cases; "
                            "add one with `procurement users add`", kind="user", org=org_code)
    return svc.actor_for(users[0].username, via="cli")


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise InputError("the passwords differ", field="password")
        return first
    raise InputError(f"no password given: use --password-stdin or set {PASSWORD_ENV}",
                     field="password")


def _users_add(args: argparse.Namespace) -> int:
    try:
        password = _read_password(args)
        svc = services_for(args)
        user = svc.create_user(
            svc.system_actor(args.org), args.org, args.username, args.display_name, password,
            [r.strip() for r in args.roles.split(",") if r.strip()], email=args.email,
        )
    except ProcurementError as exc:
        return _fail(exc)
    print(f"added user {user.username} to {user.org_code} with roles {','.join(user.roles)}"
          + (f" and e-mail {user.email}" if user.email else ""))
    return 0


def _users_set_email(args: argparse.Namespace) -> int:
    try:
        svc = services_for(args)
        operator = svc.system_actor(args.org)
        # Usernames are unique in the installation; --org guards against editing someone else.
        if not any(u.username == args.username for u in svc.list_users(operator, args.org)):
            print(f"error: no user {args.username!r} in {args.org}", file=sys.stderr)
            return 1
        user = svc.set_user_email(operator, args.username, args.email)
    except ProcurementError as exc:
        return _fail(exc)
    print(f"{user.username}: e-mail {user.email or '(none)'}")
    return 0


def _orgs_add(args: argparse.Namespace) -> int:
    try:
        svc = services_for(args)
        org = _create_org_as_system(svc, args.code, args.name, args.kind, args.pack)
    except ProcurementError as exc:
        return _fail(exc)
    print(f"added organisation {org.code} ({org.kind}) pack {org.pack_ref or 'national by date'}")
    return 0


def _create_org_as_system(svc, code, name, kind, pack):
    from procurement.services import Actor

    # The operator needs no organisation of their own to create the first one.
    operator = Actor(None, "system", "system", 0, code, frozenset({"admin"}), "cli")
    return svc.create_org(operator, code, name, kind, pack)


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(v)) for v in column) for column in zip(header, *rows)]
    for row in [header, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())


def _orgs_list(args: argparse.Namespace) -> int:
    try:
        svc = services_for(args)
        orgs = svc.list_orgs(svc.installation_operator())
    except ProcurementError as exc:
        return _fail(exc)
    if args.format == "json":
        print(json.dumps([{"code": o.code, "name": o.name, "kind": o.kind, "pack": o.pack_ref}
                          for o in orgs], ensure_ascii=False, indent=2))
        return 0
    _print_table(["CODE", "NAME", "KIND", "PACK"],
                 [[o.code, o.name, o.kind, o.pack_ref or "- (national by date)"] for o in orgs])
    return 0


def _cases_list(args: argparse.Namespace) -> int:
    try:
        svc = services_for(args)
        operator = svc.installation_operator()
        codes = [args.org] if args.org else [o.code for o in svc.list_orgs(operator)]
        cases = [
            (code, case) for code in codes
            for case in svc.list_cases(svc.system_actor(code), status=args.status)
        ]
    except ProcurementError as exc:
        return _fail(exc)
    rows = [{
        "id": c.id, "title": c.title, "department": c.department, "status": c.status,
        "level": c.level if c.is_complete else None,
        "pack": f"{c.pack_key}#{c.pack_fingerprint[:12]}",
        "updated_at": c.updated_at.isoformat(),
    } for _, c in cases]
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    _print_table(["ID", "ORG", "STATUS", "LEVEL", "PACK", "UPDATED_AT", "TITLE"],
                 [[str(r["id"]), code, str(r["status"]), str(r["level"] or "-"), str(r["pack"]),
                   str(r["updated_at"]), str(r["title"])] for (code, _), r in zip(cases, rows)])
    return 0
