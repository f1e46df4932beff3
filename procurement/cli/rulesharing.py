"""CLI commands for sharing rule packs and re-assessing cases.

    procurement reassess --pack REF [--org CODE] [--format table|json] [--apply] [--as USERNAME]
    procurement packs install FILE... [--org CODE] [--dry-run]
    procurement packs installed
    procurement packs bundle REF --out FILE
    procurement packs select --org CODE (REF | --clear)

Library errors end with a message on stderr and exit 1 for `reassess`, 2 for the `packs`
commands (that group's convention); a refused install prints its report and exits 1.
`reassess` is registered here; the `packs` commands are added to the pack group by
`register_store(packs_subparsers)`, called from procurement/cli/packs.py. They parse options and
call `procurement.sharing.installed` and `procurement.sharing.reassess`; the output shapes are a contract
(the JSON of `reassess` is an array of `procurement.sharing.reassess.ROW_KEYS` objects).
"""

from __future__ import annotations

import argparse
import os
import sys
import unicodedata
from pathlib import Path
from typing import cast

from procurement.cli.common import add_command, services_for
from procurement.errors import NotFoundError, ProcurementError
from procurement.files import atomic_output


def register(sub) -> None:
    """Add `reassess` to the `procurement` parser."""
    re_ = add_command(
        sub, "reassess", help="re-assess stored cases under another rule pack (dry run unless --apply)",
        description="Classify the stored answers of every affected case under --pack and report "
                    "per case what changes. With --org: every case of that organisation; "
                    "without: every case assessed under another version of the same pack. "
                    "Withdrawn and retired cases keep their pack.",
        examples=["procurement reassess --pack jp-national@2.0.0 --org demo-ministry"],
    )
    re_.add_argument("--pack", required=True, metavar="REF",
                     help="the new pack, e.g. jp-national@2 or city-strict@1.0.0")
    re_.add_argument("--org", metavar="CODE", help="only this organisation's cases")
    re_.add_argument("--format", choices=("table", "json"), default="table",
                     help="output format (default: table)")
    re_.add_argument("--apply", action="store_true",
                     help="move the cases to the new pack (audited); void approvals whose "
                          "obligations grew")
    re_.add_argument("--as", dest="as_user", metavar="USERNAME",
                     help="with --apply: the pack_admin or admin recorded as deciding (default: "
                          "each organisation's first active pack_admin, else admin)")
    re_.set_defaults(handler=_reassess)


def register_store(packs_sub) -> None:
    """Add the pack-store commands to the `packs` group's subparsers."""
    inst = add_command(
        packs_sub, "install", help="install a shared pack (a folder, a zip bundle, or pack.yaml + tests)",
        description="The pack is validated, its own test cases are run, and it is installed only "
                    "if everything passes. Installed content is immutable: changed content needs "
                    "a new version.",
        examples=["procurement packs install city-shared.zip --org kanagawa-x --dry-run"],
    )
    inst.add_argument("files", nargs="+", metavar="FILE",
                      help="a zip bundle, a pack folder, or pack.yaml and its test files")
    inst.add_argument("--org", metavar="CODE",
                      help="the organisation whose audit chain records the installation "
                           "(default: the installation's own chain)")
    inst.add_argument("--dry-run", action="store_true",
                      help="only print the validation report; install nothing")
    inst.set_defaults(handler=_install)

    lst = add_command(
        packs_sub, "installed", help="list the installed pack versions",
        description="One line per pack version installed in the database: "
                    "ID@VERSION#FINGERPRINT, when, by whom, from which file. The packs under the "
                    "rules folder are always available and not listed.",
        examples=["procurement packs installed"],
    )
    lst.set_defaults(handler=_installed)

    bun = add_command(
        packs_sub, "bundle", help="write a pack as a zip bundle for publishing",
        description="The pack (from the rules folder or the database) with its tests, as a zip "
                    "bundle another installation can install.",
        examples=["procurement packs bundle city-strict@2 --out city-strict-2.zip"],
    )
    bun.add_argument("ref", metavar="REF", help="ID, ID@MAJOR or ID@X.Y.Z")
    bun.add_argument("--out", required=True, metavar="FILE", help="the zip file to write (.zip)")
    bun.set_defaults(handler=_bundle)

    sel = add_command(
        packs_sub, "select", help="choose the pack of an organisation's new cases",
        description="Existing cases keep their pack (see `procurement reassess`).",
        examples=["procurement packs select --org kanagawa-x city-strict@2",
                  "procurement packs select --org kanagawa-x --clear"],
    )
    sel.add_argument("--org", required=True, metavar="CODE", help="organisation code")
    sel.add_argument("ref", nargs="?", metavar="REF", help="the pack: ID, ID@MAJOR or ID@X.Y.Z")
    sel.add_argument("--clear", action="store_true",
                     help="no explicit pack: the national edition in force on the case date")
    sel.set_defaults(handler=_select)


# --------------------------------------------------------------------------------------------
# helpers


def _fail(exc: ProcurementError, code: int = 1) -> int:
    print(f"error: {exc.message}", file=sys.stderr)
    return code


#: Exit code of a library error in the `packs` group (its convention; `reassess` uses 1).
_PACKS_ERROR = 2


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _clip(text: str, limit: int) -> str:
    if _width(text) <= limit:
        return text
    out, used = "", 0
    for ch in text:
        w = _width(ch)
        if used + w > limit - 1:
            break
        out += ch
        used += w
    return out + "…"


def render_table(header: list[str], rows: list[list[str]]) -> str:
    """A plain table aligned for wide (Japanese) characters."""
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _ids(ids) -> str:
    return ",".join(ids) if ids else "-"


def reassess_table(rows) -> str:
    header = ["case", "title", "level", "+items", "-items", "+steps", "-steps", "new questions",
              "blocking"]
    body = [
        [str(r.case_id), _clip(r.title, 30),
         (r.old_level or "-") if r.old_level == r.new_level else f"{r.old_level} -> {r.new_level}",
         _ids(r.added_items), _ids(r.removed_items), _ids(r.added_steps), _ids(r.removed_steps),
         _ids(r.new_questions), _ids(r.blocking)]
        for r in rows
    ]
    return render_table(header, body)


def _apply_actor(svc, org_code: str, username: str | None):
    """The named user recorded for an organisation's re-assessment decisions."""
    admin = svc.system_actor(org_code)
    users = [u for u in svc.list_users(admin, org_code) if u.is_active]
    if username is not None:
        chosen = [u for u in users if u.username == username]
        if not chosen or not {"pack_admin", "admin"} & set(chosen[0].roles):
            raise NotFoundError(f"no active pack_admin or admin {username!r} in organisation "
                                f"{org_code!r}", kind="user", id=username, org=org_code)
        return svc.actor_for(username, via="cli")
    for role in ("pack_admin", "admin"):
        for user in users:
            if role in user.roles:
                return svc.actor_for(user.username, via="cli")
    raise NotFoundError(f"organisation {org_code!r} has no active pack_admin or admin to record "
                        "the re-assessment; add one with `procurement users add`",
                        kind="user", org=org_code)


# --------------------------------------------------------------------------------------------
# handlers


def _reassess(args: argparse.Namespace) -> int:
    from procurement.sharing import reassess

    try:
        svc = services_for(args)
        plan = svc.plan_reassessment(args.pack, org_code=args.org)
    except ProcurementError as exc:
        return _fail(exc)
    for warning in plan.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for case_id, ref in plan.unavailable:
        print(f"warning: case {case_id} was assessed under {ref}, which is not available: "
              "not re-assessed", file=sys.stderr)
    if args.format == "json":
        print(reassess.rows_to_json(plan.rows))
    else:
        print(reassess_table(plan.rows) if plan.rows else "no case to re-assess")
        changed = len(plan.changed_rows)
        print(f"{len(plan.rows)} case(s) under another pack than {plan.pack.key}; {changed} with "
              f"differences{'' if args.apply else ' (dry run: nothing changed)'}")
    if not args.apply:
        return 0
    try:
        result = svc.apply_reassessment(plan, lambda org: _apply_actor(svc, org, args.as_user))
    except ProcurementError as exc:
        return _fail(exc)
    out = sys.stderr if args.format == "json" else sys.stdout
    print(f"moved {len(result.moved)} case(s) to {plan.pack.ref}", file=out)
    if result.voided:
        print(f"approval voided (re-approval needed): {', '.join(map(str, result.voided))}",
              file=out)
    for case_id, reason in result.refused:
        print(f"error: case {case_id} not moved: {reason}", file=sys.stderr)
    return 1 if result.refused else 0


def _install(args: argparse.Namespace) -> int:
    from procurement.sharing import installed as packstore

    try:
        svc = services_for(args)
        bundle, source = packstore.files_from_paths(args.files)
        if args.dry_run:
            report = svc.check_upload(bundle, source_name=source)
            _print_report(report)
            return 0 if report.is_installable else 1
        actor = svc.system_actor(args.org) if args.org else packstore.installation_actor()
        view = svc.install_pack(actor, bundle, source_name=source)
    except packstore.PackRefusedError as exc:
        _print_report(exc.params["report"])
        return 1
    except ProcurementError as exc:
        return _fail(exc, _PACKS_ERROR)
    print(f"installed {view.pack_id}@{view.version}#{view.fingerprint[:12]} from "
          f"{view.source_name} by {view.installed_by}")
    return 0


def _print_report(report) -> None:
    print(f"{report.source_name}: {report.status}: {report.message}")
    for line in report.errors:
        print(f"  error: {line}")
    for failure in report.test_failures:
        print(f"  test failed: {failure}")
    if report.tests_run and not report.test_failures:
        print(f"  {report.tests_run} test case(s) passed")


def _installed(args: argparse.Namespace) -> int:

    try:
        svc = services_for(args)
        views = svc.list_installed_packs()
    except ProcurementError as exc:
        return _fail(exc, _PACKS_ERROR)
    if not views:
        print("no pack installed (packs under rules/ are always available)")
    for v in views:
        print(f"{v.pack_id}@{v.version}#{v.fingerprint[:12]}  {v.installed_at.isoformat(timespec='seconds')}"
              f"  {v.installed_by}  {v.source_name}")
    return 0


def _bundle(args: argparse.Namespace) -> int:
    if Path(args.out).suffix.lower() != ".zip":
        print(f"error: --out {args.out}: a bundle is a zip file; name it FILE.zip", file=sys.stderr)
        return 2
    try:
        svc = services_for(args)
        _name, data = svc.export_bundle(args.ref, created_by=os.environ.get("USER", ""))
    except ProcurementError as exc:
        return _fail(exc, _PACKS_ERROR)
    out = Path(args.out)
    try:
        with atomic_output(out) as tmp:  # a reader never sees half a bundle
            tmp.write_bytes(data)
    except OSError as exc:
        print(f"error: cannot write {out}: {exc.strerror}", file=sys.stderr)
        return 1
    from procurement.sharing.bundles import Manifest, read_bundle

    bundle = read_bundle(data, source=str(out))
    manifest = cast(Manifest, bundle.manifest)  # the bundle just written has its manifest
    print(f"wrote {out}: {manifest.pack_id}@{manifest.version}, "
          f"{len(bundle.files)} files, fingerprint {manifest.fingerprint}")
    return 0


def _select(args: argparse.Namespace) -> int:

    if bool(args.ref) == bool(args.clear):
        print("error: give a pack REF or --clear", file=sys.stderr)
        return 2
    try:
        svc = services_for(args)
        operator = svc.system_actor(args.org)
        old = svc.get_org(operator, args.org).pack_ref
        org = svc.set_org_pack(operator, args.org, None if args.clear else args.ref)
    except ProcurementError as exc:
        return _fail(exc, _PACKS_ERROR)
    new = org.pack_ref or "the national edition in force on the case date"
    print(f"{org.code}: new cases use {new} (was {old or 'national by date'})")
    return 0
