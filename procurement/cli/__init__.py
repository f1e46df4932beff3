"""The `procurement` command: parses options and hands off to the library.

Each command group lives in its own module with a `register(subparsers)` function; this module
only wires them together and turns library errors into a message and an exit code.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from procurement import __version__
from procurement.cli import (
    audit,
    doctor,
    exports,
    notify,
    packs,
    records,
    reports,
    rulesharing,
    serve,
)
from procurement.cli.common import RULES_DIR_HELP, HelpFormatter

log = logging.getLogger(__name__)

#: Command-group modules, in the order their commands appear in `--help`.
GROUPS = (serve, doctor, packs, records, audit, exports, rulesharing, reports, notify)

EXAMPLES = """examples:
  procurement serve             # the app on http://127.0.0.1:8501
  procurement demo seed         # demo organisations, users and cases
  procurement packs list        # the rule packs available
  procurement doctor            # check the database, packs and audit chains
  procurement export --help     # what a command does, with an example"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="procurement",
        description="Risk classification and procurement records for generative AI in Japanese "
                    "public administration (Digital Agency guideline DS-920).",
        epilog=EXAMPLES, formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"procurement {__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for group in GROUPS:
        group.register(sub)
    _add_rules_dir_everywhere(parser)
    return parser


def _add_rules_dir_everywhere(parser: argparse.ArgumentParser) -> None:
    """Give every command `--rules-dir DIR`, so any command that reads packs honours it.

    A group may declare the option itself (with its own help); the rest get it here, so no
    command can forget it.
    """
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _add_rules_dir_everywhere(child)
            return
    if "--rules-dir" not in parser._option_string_actions:
        parser.add_argument("--rules-dir", metavar="DIR", default=None, help=RULES_DIR_HELP)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every failure ends with `error: <what and where>` on stderr and the
    command's exit code, never a traceback (the log level DEBUG shows it for developers)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a message, no traceback
        return _report(exc)


def _report(exc: BaseException) -> int:
    from sqlalchemy.exc import DBAPIError

    from procurement import config
    from procurement.db.errors import translate, where
    from procurement.errors import ProcurementError

    log.debug("command failed", exc_info=exc)
    if isinstance(exc, DBAPIError):
        translated = translate(exc, config.database_url())
        if translated is not None:
            exc = translated
        else:
            text = str(getattr(exc, "orig", exc)).strip().splitlines()
            print(f"error: the database refused the change ({where(config.database_url())}): "
                  f"{text[0] if text else type(exc).__name__}", file=sys.stderr)
            return 1
    if isinstance(exc, ProcurementError):
        print(f"error: {exc.message}", file=sys.stderr)
    elif isinstance(exc, UnicodeError):
        print(f"error: the input is not valid UTF-8 text: {exc}", file=sys.stderr)
    elif isinstance(exc, OSError):
        place = f" ({exc.filename})" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{place}", file=sys.stderr)
    else:
        print(f"error: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
    return 1
