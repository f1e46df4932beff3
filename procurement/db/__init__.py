"""Storage: the engine (`engine`), the one read path (`reading`), the typed models (`models`) and
the Alembic migrations (`migrations`).

    from procurement.db import create_db_engine, read_session
"""

from procurement.db.engine import (
    SQLITE_BUSY_TIMEOUT_S,
    create_db_engine,
    make_session_factory,
    normalise_url,
)
from procurement.db.reading import READ_ONLY, read_session

__all__ = [
    "READ_ONLY",
    "SQLITE_BUSY_TIMEOUT_S",
    "create_db_engine",
    "make_session_factory",
    "normalise_url",
    "read_session",
]
