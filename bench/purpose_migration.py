"""Benchmark: migration 0002 (cases.purpose) on a SQLite database full of cases.

    python bench/purpose_migration.py [--cases 100000]

Builds two identical SQLite files at revision 0001 holding one organisation, one user and N
cases (bulk inserted; the set-up is not what is measured), then times, in one run:

1. the shipped migration 0002 (`upgrade_to_head`): the column is added in place
   (ALTER TABLE ... ADD COLUMN with a plain-string server default);
2. the same column added by copying the table, which is what batch mode does on SQLite when the
   default is a SQL expression (`server_default=sa.text("''")`): the cost 0002 avoids.

Machines are noisy (about 15 %): compare the figures inside one run, as ratios.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from alembic import command  # noqa: E402
from alembic.operations import Operations  # noqa: E402
from alembic.runtime.migration import MigrationContext  # noqa: E402

from procurement.db import create_db_engine  # noqa: E402
from procurement.db.migrations import alembic_config, upgrade_to_head  # noqa: E402


def build_v1(path: Path, n: int) -> None:
    """A SQLite file at revision 0001 with n cases (tables reflected: the 0001 schema)."""
    engine = create_db_engine(f"sqlite:///{path}", migrate=False)
    now = datetime(2026, 7, 1, tzinfo=UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
    meta = sa.MetaData()
    meta.reflect(engine, only=["organisations", "users", "cases"])
    orgs, users, cases = (meta.tables[t] for t in ("organisations", "users", "cases"))
    with engine.begin() as conn:
        conn.execute(orgs.insert(), {"id": 1, "code": "org-a", "name": "テスト省",
                                     "kind": "ministry", "created_at": now})
        conn.execute(users.insert(), {"id": 1, "org_id": 1, "username": "a-planner",
                                      "display_name": "企画", "password_hash": "x",
                                      "roles": "planner", "is_active": True, "failed_logins": 0,
                                      "created_at": now})
        batch = []
        for i in range(1, n + 1):
            batch.append({"id": i, "org_id": 1, "title": f"案件 {i}", "department": "総務課",
                          "owner_id": 1, "status": "draft", "pack_id": "jp-national",
                          "pack_version": "2.0.0", "pack_fingerprint": "0" * 64, "level": "low",
                          "is_complete": True, "has_blocking": False, "answers_hash": "0" * 64,
                          "version": 1, "created_at": now, "updated_at": now})
            if len(batch) == 5000:
                conn.execute(cases.insert(), batch)
                batch = []
        if batch:
            conn.execute(cases.insert(), batch)
    engine.dispose()


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        shipped, copied = Path(tmp) / "shipped.sqlite", Path(tmp) / "copied.sqlite"
        build_v1(shipped, args.cases)
        shutil.copy(shipped, copied)

        engine = create_db_engine(f"sqlite:///{shipped}", migrate=False)
        in_place = timed(lambda: upgrade_to_head(engine))

        other = create_db_engine(f"sqlite:///{copied}", migrate=False)

        def recreate() -> None:
            with other.begin() as conn:
                ops = Operations(MigrationContext.configure(conn))
                with ops.batch_alter_table("cases", recreate="always") as batch:
                    batch.add_column(sa.Column("purpose", sa.Text(),
                                               server_default=sa.text("''"), nullable=False))

        copy = timed(recreate)
        other.dispose()
        with engine.connect() as conn:  # every existing case got the default
            assert conn.execute(sa.text("SELECT count(*) FROM cases WHERE purpose = ''")
                                ).scalar() == args.cases
        engine.dispose()

    print(f"cases: {args.cases:,}")
    print(f"0002 in place (ALTER TABLE ADD COLUMN): {in_place * 1000:8.1f} ms")
    print(f"same column by copying the table:       {copy * 1000:8.1f} ms "
          f"({copy / in_place:.0f}x the in-place migration)")


if __name__ == "__main__":
    main()
