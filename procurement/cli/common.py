"""What every command group shares: services built from the command's options."""

from __future__ import annotations

import argparse
import sys


def services_for(args: argparse.Namespace):
    """Services on the configured database with the packs of `--rules-dir` and the installed
    ones; a pack that no longer loads is a warning on stderr, not a failure."""
    from procurement.runtime import open_services

    return open_services(
        rules_dir=getattr(args, "rules_dir", None),
        warn=lambda message: print(f"warning: {message}", file=sys.stderr),
    )
