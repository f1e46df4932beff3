"""CLI commands for the audit log: `procurement audit verify`.

    procurement audit verify [--chain CODE] [--head SEQ:HASH] [--xlsx FILE]

Exit 0 printing `OK <chain> <count> events, head <seq>:<hash>` per chain; exit 1 printing
`FAIL <chain> seq <n>: <problem>: <detail>` for each broken chain (OK lines for the others);
exit 2 for bad options or an unreadable source. Without `--xlsx` the chains are read from the
database (`PROCUREMENT_DATABASE_URL`); with it, from the audit sheet of an exported workbook.
"""

from __future__ import annotations

import argparse
import sys

from procurement.cli.common import add_command
from procurement.errors import ProcurementError


def register(sub) -> None:
    """Add this group's commands to the `procurement` parser."""
    group = add_command(sub, "audit", help="verify the hash-chained audit log",
                        examples=["procurement audit verify"])
    commands = group.add_subparsers(dest="audit_command", metavar="COMMAND")
    commands.required = True

    verify = add_command(
        commands, "verify",
        help="re-compute every audit chain and report its head or the first bad event",
        description="Re-compute every audit chain (one per organisation) from the database or "
        "an exported workbook. Exit 0 if all verify, 1 if any chain is broken, 2 on bad input. "
        "Keep the printed heads outside the database (docs/operations.md): --head then catches "
        "a deleted tail.",
        examples=["procurement audit verify --chain demo-ministry --head 57:3f1c9a..."],
    )
    verify.add_argument("--chain", metavar="CODE", help="verify only this organisation's chain")
    verify.add_argument(
        "--head",
        metavar="SEQ:HASH",
        help="also fail unless event SEQ still has HASH (catches a deleted tail); "
        "needs --chain when there are several chains",
    )
    verify.add_argument(
        "--xlsx",
        metavar="FILE",
        help="verify the audit sheet of an exported workbook instead of the database",
    )
    verify.set_defaults(handler=run_verify)


def _read_workbook_rows(path: str):
    try:
        from procurement.exports import read_audit_sheet
    except ImportError as exc:
        raise ProcurementError(
            f"cannot verify {path}: reading workbooks needs procurement.exports.read_audit_sheet, "
            f"which this installation does not have ({exc})",
            path=path,
        ) from exc
    return read_audit_sheet(path)


def collect_reports(args: argparse.Namespace):
    """The chain reports for the source the options name (database or workbook)."""
    from procurement import audit

    if getattr(args, "xlsx", None):
        return audit.verify_rows(_read_workbook_rows(args.xlsx), chain=args.chain, head=args.head)
    from procurement.db import create_db_engine

    if args.head is not None:
        audit.parse_head(args.head)  # a malformed --head is reported before touching the database
    engine = create_db_engine()
    try:
        return audit.verify_database(
            engine, chain=args.chain, head=args.head
        )
    finally:
        engine.dispose()


def run_verify(args: argparse.Namespace) -> int:
    """Print one line per chain; 0 when every chain verifies, 1 when one does not."""
    try:
        reports = collect_reports(args)
    except ProcurementError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not reports:
        print("no audit events")
        return 0
    for report in reports:
        print(report.describe())
    return 0 if all(report.ok for report in reports) else 1
