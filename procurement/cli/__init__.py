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
    return parser


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
