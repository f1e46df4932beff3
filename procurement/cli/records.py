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

from procurement.cli.common import services_for
from procurement.errors import InputError, ProcurementError

#: Environment variable read by `users add` when neither --password-stdin nor a terminal is there.
PASSWORD_ENV = "PROCUREMENT_NEW_PASSWORD"


def register(sub) -> None:
    """Add this group's commands to the `procurement` parser."""
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION")
    db_sub.required = True
    up = db_sub.add_parser("upgrade", help="create the database or migrate it to the newest schema")
    up.set_defaults(handler=_db_upgrade)

    token = sub.add_parser(
        "setup-token", help="print a new one-time token for the first-run setup in the browser",
        description="Only while the installation has no users. The token replaces any other; "
                    "the app asks for it on its first-run page.")
    token.set_defaults(handler=_setup_token)

    demo = sub.add_parser("demo", help="demo data")
    demo_sub = demo.add_subparsers(dest="demo_command", metavar="ACTION")
    demo_sub.required = True
    seed = demo_sub.add_parser("seed", help="create the demo organisations, users and cases")
    seed.set_defaults(handler=_demo_seed)

    cases = sub.add_parser("cases", help="cases")
    cases_sub = cases.add_subparsers(dest="cases_command", metavar="ACTION")
    cases_sub.required = True
    imp = cases_sub.add_parser(
        "import", help="create draft cases from a JSON array (all or nothing)",
        description='FILE is a JSON array of {"title", "department", "purpose"?, "pack"?, '
                    '"answers": {...}, '
                    '"checklist"?: {"ITEM": {"status", "evidence"}}}.',
    )
    imp.add_argument("--org", required=True, metavar="CODE", help="organisation code")
    imp.add_argument("--as", dest="as_user", metavar="USERNAME",
                     help="the planner who owns the cases (default: the organisation's first "
                          "active planner)")
    imp.add_argument("file", metavar="FILE", help="JSON file ('-' for standard input)")
    imp.set_defaults(handler=_cases_import)
    clist = cases_sub.add_parser(
        "list", help="list cases with their level and exact pack",
        description="JSON (--format json): an array of objects with the keys id, title, "
                    "department, status, level (null while the classification is incomplete), "
                    "pack (id@x.y.z#fingerprint) and updated_at (ISO 8601 with offset).",
    )
    clist.add_argument("--org", metavar="CODE", help="organisation code (default: every one)")
    clist.add_argument("--status", metavar="S", help="only cases in this status, e.g. submitted")
    clist.add_argument("--format", choices=("table", "json"), default="table")
    clist.set_defaults(handler=_cases_list)

    users = sub.add_parser("users", help="user accounts (administrators)")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION")
    users_sub.required = True
    add = users_sub.add_parser(
        "add", help="add a user",
        description=f"The password is read from standard input with --password-stdin, else from "
                    f"${PASSWORD_ENV}, else asked for at the terminal.",
    )
    add.add_argument("--org", required=True, metavar="CODE", help="organisation code")
    add.add_argument("--username", required=True)
    add.add_argument("--display-name", required=True)
    add.add_argument("--roles", required=True,
                     help="comma-separated: planner, reviewer, auditor, pack_admin, admin")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input")
    add.add_argument("--email", metavar="ADDRESS",
                     help="where the user's e-mail notifications go (optional)")
    add.set_defaults(handler=_users_add)

    orgs = sub.add_parser("orgs", help="organisations (administrators)")
    orgs_sub = orgs.add_subparsers(dest="orgs_command", metavar="ACTION")
    orgs_sub.required = True
    oadd = orgs_sub.add_parser("add", help="add an organisation")
    oadd.add_argument("--code", required=True, help="short code, also its audit chain name")
    oadd.add_argument("--name", required=True)
    oadd.add_argument("--kind", required=True, choices=("ministry", "municipality"))
    oadd.add_argument("--pack", metavar="REF",
                      help="rule pack, e.g. city-strict@1 (default: the national edition in "
                           "force on each case's date)")
    oadd.set_defaults(handler=_orgs_add)
    olist = orgs_sub.add_parser(
        "list", help="list organisations and the exact pack each one uses",
        description="JSON (--format json): an array of objects with the keys code, name, kind "
                    "and pack (id@x.y.z#fingerprint, or null: the national edition in force on "
                    "each case's date).",
    )
    olist.add_argument("--format", choices=("table", "json"), default="table")
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
    print(f"added user {user.username} to {user.org_code} with roles {','.join(user.roles)}")
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
