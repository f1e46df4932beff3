"""Wiring for a running process: the services on the configured database, with every pack.

The app, every CLI command and the benchmarks build their `Services` here, so that each of them
sees the same packs: the ones shipped under the rules directory and the ones installed into the
database (`procurement.sharing.installed`). Building services anywhere else would miss the
installed ones.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from procurement import config
from procurement.db import create_db_engine
from procurement.packs import PackRegistry
from procurement.services import Services


def open_services(
    database_url: str | None = None,
    rules_dir: str | None = None,
    *,
    warn: Callable[[str], None] | None = None,
    notice: Callable[[str], None] | None = None,
) -> Services:
    """Services on `database_url` (default: the configured one), migrated to the newest schema,
    with the packs under `rules_dir` and every pack installed in the database.

    An installed pack that no longer loads (say its parent was removed from the rules directory)
    is reported through `warn` and left out; it never stops the others from loading. When this
    call creates the default SQLite database (the first start without
    `PROCUREMENT_DATABASE_URL`), `notice` is told where it is.

    Once the packs are known, organisation pack choices stored as ranges by earlier versions of
    the app (`city-strict`, `jp-national@2`) are pinned to the exact version they resolve to
    (`Services.pin_stored_pack_refs`, recorded in each organisation's chain). This is a start-up
    step rather than a migration because only a process holding the pack registry can resolve a
    range; it writes nothing when every choice is already exact.
    """
    url = database_url or config.database_url()
    created = new_default_database(url)
    svc = Services(create_db_engine(url), PackRegistry.discover(rules_dir))
    if created is not None and notice is not None:
        notice(f"created the database {created} (set PROCUREMENT_DATABASE_URL to use another)")
    for problem in svc.load_installed_packs():
        if warn is not None:
            warn(str(problem))
    svc.pin_stored_pack_refs()
    return svc


def new_default_database(url: str) -> Path | None:
    """The file of the default SQLite database when `url` is it and it does not exist yet."""
    if url != config.default_database_url():
        return None
    path = Path(make_url(url).database or "")
    return None if path.exists() else path
