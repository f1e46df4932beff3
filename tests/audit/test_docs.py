"""docs/audit-log.md stays true: its worked example matches the code, and its stand-alone
recomputation script agrees with `verify_database` on a real database."""

from __future__ import annotations

import re
import subprocess
import sys

from procurement.audit import EventRecord, verify_database
from procurement.config import PROJECT_ROOT
from procurement.db import create_db_engine
from tests.audit.chains import build_chains, run_sql
from tests.audit.test_canonical import CANONICAL_1, EVENT_1, EVENT_2

DOC = (PROJECT_ROOT / "docs" / "audit-log.md").read_text(encoding="utf-8")


def python_block_after(heading: str) -> str:
    section = DOC[DOC.index(heading):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_worked_example_numbers_are_the_codes():
    assert f"hash(1) = {EVENT_1['hash']}" in DOC
    assert f"hash(2) = {EVENT_2['hash']}" in DOC
    assert CANONICAL_1 in DOC
    assert EventRecord.from_row(EVENT_2).canonical() in DOC


def test_standalone_recomputation_agrees_with_verify(tmp_path):
    script = tmp_path / "recompute.py"
    script.write_text(python_block_after("### Recompute a whole SQLite database"), encoding="utf-8")
    path = tmp_path / "db.sqlite"
    engine = create_db_engine(f"sqlite:///{path}")
    try:
        build_chains(engine)

        def recompute() -> list[str]:
            done = subprocess.run([sys.executable, str(script), str(path)],
                                  capture_output=True, text=True, timeout=60, check=True)
            return done.stdout.splitlines()

        assert recompute() == [r.describe() for r in verify_database(engine)]
        run_sql(engine, "UPDATE audit_events SET payload = '{}' WHERE chain = 'demo-city' AND seq = 4")
        assert recompute()[0] == "FAIL demo-city seq 4"
    finally:
        engine.dispose()
