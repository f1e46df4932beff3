"""Real processes against a real database: an appender killed with SIGKILL mid-run loses no
committed event and leaves a chain that verifies; several appenders on one chain at once see no
error, lose nothing and produce one unbroken chain. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import text

from procurement.audit import append_event, verify_database
from procurement.db import make_session_factory

APPENDER = Path(__file__).with_name("appender.py")
#: Upper bound for a child process before the test kills it and fails (never hit when healthy).
GUARD_S = 120


def start_appender(url: str, chain: str, count: int, label: str, start_at: float = 0.0):
    return subprocess.Popen(
        [sys.executable, str(APPENDER), url, chain, str(count), label, str(start_at)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def guard(proc: subprocess.Popen) -> threading.Timer:
    """Kill a stuck child so a broken build fails instead of hanging CI."""
    timer = threading.Timer(GUARD_S, proc.kill)
    timer.daemon = True
    timer.start()
    return timer


def parse_commits(lines: list[str]) -> list[tuple[str, int, int]]:
    commits = []
    for line in lines:
        if line.startswith("committed "):
            _, label, i, seq = line.split()
            commits.append((label, int(i), int(seq)))
    return commits


def stored_events(engine, chain: str) -> list[tuple[int, str, dict]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT seq, actor, payload FROM audit_events WHERE chain = :c ORDER BY seq"),
            {"c": chain},
        ).all()
    return [(seq, actor, json.loads(payload)) for seq, actor, payload in rows]


def kill_after_commits(url: str, label: str, commits_before_kill: int) -> list[str]:
    proc = start_appender(url, "demo-city", 100_000, label)
    timer = guard(proc)
    lines: list[str] = []
    try:
        while sum(line.startswith("committed ") for line in lines) < commits_before_kill:
            line = proc.stdout.readline()
            if not line:
                raise AssertionError(
                    f"appender ended early (rc={proc.wait()}): {lines[-3:]} {proc.stderr.read()}"
                )
            lines.append(line.strip())
            assert not line.startswith("error"), line
        os.kill(proc.pid, signal.SIGKILL)  # mid-run: usually inside a transaction
        proc.wait()
        lines.extend(line.strip() for line in proc.stdout.read().splitlines())
    finally:
        timer.cancel()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    return lines


def test_sigkilled_appender_loses_no_committed_event(engine, db_url):
    lines = kill_after_commits(db_url, "first", 25) + kill_after_commits(db_url, "second", 15)
    commits = parse_commits(lines)
    stored = stored_events(engine, "demo-city")
    stored_keys = {(payload["label"], payload["i"]): seq for seq, _, payload in stored}
    for label, i, seq in commits:
        assert stored_keys.get((label, i)) == seq, f"committed event {label}/{i} (seq {seq}) lost"
    # At most the transaction in flight when the kill came may have committed unreported.
    assert len(commits) <= len(stored) <= len(commits) + 2
    assert [seq for seq, _, _ in stored] == list(range(1, len(stored) + 1))
    [report] = verify_database(engine)
    assert report.ok and report.count == len(stored)

    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    # The chain goes on from where the killed process left it.
    with make_session_factory(engine).begin() as session:
        event = append_event(session, chain="demo-city", actor="after", event_type="test.after",
                             case_id=None, payload={})
        assert event.seq == len(stored) + 1
    [report] = verify_database(engine)
    assert report.ok and report.count == len(stored) + 1


def test_concurrent_appenders_share_one_unbroken_chain(engine, db_url):
    processes, per_process = 4, 40
    start_at = time.time() + 2.0  # all of them past their imports, then go together
    procs = [start_appender(db_url, "demo-city", per_process, f"p{n}", start_at)
             for n in range(processes)]
    timers = [guard(p) for p in procs]
    outputs = []
    for proc, timer in zip(procs, timers):
        out, err = proc.communicate()
        timer.cancel()
        outputs.append((proc.returncode, out, err))
    for rc, out, err in outputs:
        assert rc == 0, f"appender failed (rc={rc}): {out[-2000:]} {err[-2000:]}"
        assert "error" not in out, out[-2000:]

    commits = parse_commits(line for _, out, _ in outputs for line in out.splitlines())
    total = processes * per_process
    assert len(commits) == total
    assert sorted(seq for _, _, seq in commits) == list(range(1, total + 1))  # no fork, no gap
    stored = stored_events(engine, "demo-city")
    assert [seq for seq, _, _ in stored] == list(range(1, total + 1))
    assert {(p["label"], p["i"]) for _, _, p in stored} == {
        (f"p{n}", i) for n in range(processes) for i in range(per_process)
    }
    [report] = verify_database(engine)
    assert report.ok and report.count == total
