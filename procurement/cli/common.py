"""What every command group shares: services built from the command's options, and one way to
declare a command (description, examples, the same placeholders everywhere).

Placeholders in usage lines are upper-case words naming what is expected, the same word for the
same thing in every command: CODE (an organisation code), ID (a case id), REF (a pack reference:
ID, ID@MAJOR or ID@X.Y.Z), FILE, DIR, PATH (a pack folder or its pack.yaml), DATE, YEAR,
USERNAME, STATUS. Options with a fixed set of values show them as {a,b}.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from typing import Any

#: The one description of `--rules-dir`, whichever command declares it.
RULES_DIR_HELP = ("folder searched for rule packs (default: $PROCUREMENT_RULES_DIR, else the "
                  "packs shipped with procurement)")


class HelpFormatter(argparse.HelpFormatter):
    """Wraps descriptions paragraph by paragraph, and keeps the example lines of the epilog as
    written (argparse would otherwise join them into one paragraph)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        blocks = []
        for block in text.split("\n\n"):
            lines = block.splitlines()
            if lines and (lines[0].endswith(":") and len(lines) > 1
                          or all(line.startswith("  ") for line in lines)):
                blocks.append("\n".join(indent + line for line in lines))
            else:
                blocks.append(textwrap.fill(" ".join(block.split()), width,
                                            initial_indent=indent, subsequent_indent=indent))
        return "\n\n".join(blocks)


def add_command(sub: Any, name: str, *, help: str, description: str | None = None,
                examples: Sequence[str] = (), parents: Sequence[argparse.ArgumentParser] = ()
                ) -> argparse.ArgumentParser:
    """A (sub)command with its one-line `help` (shown in its group's list), a `description`
    (default: the help as a sentence) and `examples` shown under `example:` in its --help."""
    epilog = None
    if examples:
        epilog = ("example:\n" if len(examples) == 1 else "examples:\n") + "\n".join(
            f"  {line}" for line in examples)
    return sub.add_parser(
        name, help=help, description=description or (help[0].upper() + help[1:] + "."),
        epilog=epilog, formatter_class=HelpFormatter, parents=list(parents),
    )


def services_for(args: argparse.Namespace):
    """Services on the configured database with the packs of `--rules-dir` and the installed
    ones; a pack that no longer loads is a warning on stderr, not a failure. The first command
    on a new default database says where it created it."""
    from procurement.runtime import open_services

    return open_services(
        rules_dir=getattr(args, "rules_dir", None),
        warn=lambda message: print(f"warning: {message}", file=sys.stderr),
        notice=lambda message: print(f"procurement: {message}", file=sys.stderr),
    )
