"""A separate process that appends audit events, for the crash and concurrency tests.

    python tests/audit/appender.py URL CHAIN COUNT LABEL [START_AT]

Appends COUNT events to CHAIN, one transaction each, and prints `committed LABEL I SEQ` (flushed)
after each commit returns, so the parent knows exactly which events were committed before it
killed us. Waits until the epoch time START_AT first, so that several appenders start together.
Any error is printed as `error ...` and ends the process with exit code 1.
"""

from __future__ import annotations

import sys
import time
import traceback


def main(argv: list[str]) -> int:
    url, chain, count, label = argv[0], argv[1], int(argv[2]), argv[3]
    start_at = float(argv[4]) if len(argv) > 4 else 0.0

    from procurement.audit import append_event
    from procurement.db import create_db_engine, make_session_factory

    engine = create_db_engine(url, migrate=False)
    sessions = make_session_factory(engine)
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)
    print("ready", flush=True)
    try:
        for i in range(count):
            with sessions.begin() as session:
                event = append_event(
                    session,
                    chain=chain,
                    actor=f"appender-{label}",
                    event_type="test.append",
                    case_id=i,
                    payload={"label": label, "i": i, "note": "監査テスト"},
                )
                seq = event.seq
            print(f"committed {label} {i} {seq}", flush=True)
    except Exception:
        print("error " + traceback.format_exc().replace("\n", " | "), flush=True)
        return 1
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
