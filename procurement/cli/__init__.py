"""The `procurement` command: parses options and hands off to the library.

Each command group lives in its own module with a `register(subparsers)` function; this module
only wires them together and turns library errors into a message and an exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from procurement.cli import audit, exports, packs, records, reports, rulesharing

#: Command-group modules, in the order their commands appear in `--help`.
GROUPS = (packs, records, audit, exports, rulesharing, reports)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="procurement",
        description="Risk classification and procurement records for generative AI (DS-920).",
    )
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
        parser.add_argument(
            "--rules-dir", metavar="DIR", default=None,
            help="folder searched for rule packs (default: $PROCUREMENT_RULES_DIR, else rules/)",
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
