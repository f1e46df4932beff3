"""CLI commands for the CAIO's documents: `report periodic` and `report board`.

    procurement report periodic --fy YEAR --org CODE --out FILE.xlsx [--lang ja|en]
    procurement report board --case ID --out FILE.xlsx|FILE.html [--lang ja|en]

The operator at the command line has database access and acts as the `system` administrator of
the organisation concerned (reading only). Output, one line on success:

    OK periodic <org> FY<fy> (<令和N年度>): <n> systems, <n> incidents, <n> changes -> <file>
    OK board case <id> (<org>) -> <file>

and on failure `error: <message>` on standard error with exit code 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from procurement.cli.common import add_command, services_for
from procurement.errors import InputError, ProcurementError


def register(sub) -> None:
    """Add this group's commands to the `procurement` parser."""
    report = add_command(sub, "report", help="the CAIO's periodic report and board reports",
                         examples=["procurement report periodic --help"])
    report_sub = report.add_subparsers(dest="report_command", metavar="COMMAND")
    report_sub.required = True

    periodic = add_command(
        report_sub, "periodic",
        help="periodic report (定期報告) workbook of one organisation for a fiscal year",
        description="Every generative-AI system in scope during the fiscal year (April to March, "
                    "JST) with its incidents and changes.",
        examples=[("procurement report periodic --fy 令和8年度 --org demo-ministry "
                  "--out periodic.xlsx")],
    )
    periodic.add_argument("--fy", required=True, metavar="YEAR",
                          help="fiscal year: 2026, FY2026 or 令和8年度 (= 2026-04-01..2027-03-31)")
    periodic.add_argument("--org", required=True, metavar="CODE", help="organisation code")
    periodic.add_argument("--out", required=True, metavar="FILE", help="the workbook to write (.xlsx)")
    periodic.add_argument("--lang", choices=("ja", "en"), default="ja",
                          help="language of the values (headers are always both)")
    periodic.set_defaults(handler=_periodic)

    board = add_command(
        report_sub, "board", help="board report of one case for the Advisory Board secretariat",
        description="The report of a high-risk case to the Advanced AI Utilization Advisory "
                    "Board, as a workbook or a printable HTML page (the file ending chooses).",
        examples=["procurement report board --case 3 --out board-3.html --lang en"],
    )
    board.add_argument("--case", required=True, type=int, metavar="ID", help="case id")
    board.add_argument("--out", required=True, metavar="FILE",
                       help="FILE.xlsx (workbook) or FILE.html (printable page)")
    board.add_argument("--lang", choices=("ja", "en"), default="ja",
                       help="language of the values (default ja)")
    board.set_defaults(handler=_board)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def _check_out(path: str, suffixes: tuple[str, ...]) -> Path:
    out = Path(path)
    if out.suffix.lower() not in suffixes:
        raise InputError(f"--out {path}: expected a file ending in {' or '.join(suffixes)}",
                         field="out", value=path)
    if not out.parent.is_dir():
        raise InputError(f"--out {path}: folder {out.parent} does not exist", field="out",
                         value=path)
    return out


def _periodic(args: argparse.Namespace) -> int:
    from procurement import fiscal

    try:
        fy = fiscal.parse_fiscal_year(args.fy)
    except ValueError as exc:
        return _fail(f"--fy: {exc}")
    try:
        out = _check_out(args.out, (".xlsx",))
        svc = services_for(args)
        actor = svc.system_actor(args.org)
        result = svc.write_periodic_report_for(actor, fy, out, org_code=args.org, lang=args.lang)
    except ProcurementError as exc:
        return _fail(exc.message)
    except OSError as exc:
        return _fail(f"cannot write {args.out}: {exc.strerror or exc}")
    print(f"OK periodic {result.org_code} FY{fy} ({fiscal.fiscal_year_label(fy)}): "
          f"{result.systems} systems, {result.incidents} incidents, {result.changes} changes "
          f"-> {out}")
    return 0


def _board(args: argparse.Namespace) -> int:

    try:
        out = _check_out(args.out, (".xlsx", ".html", ".htm"))
        svc = services_for(args)
        org_code = svc.case_org_code(args.case)
        actor = svc.system_actor(org_code)
        svc.write_board_report(actor, args.case, out, lang=args.lang)
    except ProcurementError as exc:
        return _fail(exc.message)
    except OSError as exc:
        return _fail(f"cannot write {args.out}: {exc.strerror or exc}")
    print(f"OK board case {args.case} ({org_code}) -> {out}")
    return 0
