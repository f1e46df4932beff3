"""Settings from the environment: where the database and the rule packs are.

One place reads the environment so that the CLI, the app and the tests agree.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root (the folder holding `app.py`, `rules/` and `data/`).
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def rules_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The folder searched (recursively) for rule packs."""
    if override:
        return Path(override)
    env = os.environ.get("PROCUREMENT_RULES_DIR")
    return Path(env) if env else PROJECT_ROOT / "rules"


def database_url(override: str | None = None) -> str:
    """The SQLAlchemy URL: `PROCUREMENT_DATABASE_URL`, else a SQLite file under `data/`."""
    if override:
        return override
    env = os.environ.get("PROCUREMENT_DATABASE_URL")
    if env:
        return env
    return f"sqlite:///{PROJECT_ROOT / 'data' / 'procurement.sqlite'}"
