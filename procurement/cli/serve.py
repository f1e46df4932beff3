"""CLI command `procurement serve`: the web app, from any folder, with the project's settings.

    procurement serve [--port PORT] [--address ADDRESS]

Runs Streamlit on the app's entry script (`procurement.config.app_script()`: the repository's
`app.py` in a checkout, the copy an installed package carries otherwise). Streamlit reads the
`.streamlit/config.toml` beside that script, so the project's settings apply whatever the
current folder (no tracebacks for users, no usage statistics, the upload limit); the address
defaults to 127.0.0.1, this machine only. Before the server starts, the database is opened and
migrated (a new default database says where it was created) and its location is printed; on an
installation without users the server prints the one-time setup token.
"""

from __future__ import annotations

import argparse
import os
import sys

from procurement.cli.common import add_command

#: Streamlit's usual port.
DEFAULT_PORT = 8501
DEFAULT_ADDRESS = "127.0.0.1"


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r} (1-65535)")
    return port


def register(sub) -> None:
    """Add this group's commands to the `procurement` parser."""
    cmd = add_command(
        sub, "serve", help="run the web app (default http://127.0.0.1:8501)",
        description="Run the web app with the project's Streamlit settings, from any folder. "
                    "It listens on this machine only unless --address says otherwise; behind a "
                    "reverse proxy on another host use --address 0.0.0.0 (docs/deployment.md). "
                    "The database is PROCUREMENT_DATABASE_URL, else the default SQLite file; "
                    "stop with Ctrl+C.",
        examples=["procurement serve --address 0.0.0.0 --port 8080"],
    )
    cmd.add_argument("--port", type=_port, default=DEFAULT_PORT, metavar="PORT",
                     help=f"TCP port to listen on (default {DEFAULT_PORT})")
    cmd.add_argument("--address", default=DEFAULT_ADDRESS, metavar="ADDRESS",
                     help=f"address to listen on (default {DEFAULT_ADDRESS}: this machine only; "
                          "0.0.0.0: every interface)")
    cmd.set_defaults(handler=run_serve)


def streamlit_arguments(args: argparse.Namespace) -> list[str]:
    """The `streamlit` command line that serves the app for `args`."""
    from procurement import config

    return ["run", str(config.app_script()),
            "--server.port", str(args.port), "--server.address", args.address,
            "--server.headless", "true"]


def run_serve(args: argparse.Namespace) -> int:
    """Open (and migrate) the database, say where it is, then hand over to Streamlit."""
    from procurement import config
    from procurement.cli.common import services_for
    from procurement.db.errors import where

    if args.rules_dir:
        # The app reads the environment (it runs in this process, but builds its own services).
        os.environ["PROCUREMENT_RULES_DIR"] = str(args.rules_dir)
    services = services_for(args)
    services.engine.dispose()
    print(f"procurement: database {where(config.database_url())}; rule packs "
          f"{config.rules_dir()}", file=sys.stderr, flush=True)
    from procurement.ui.entry import run_streamlit

    return run_streamlit(streamlit_arguments(args))
