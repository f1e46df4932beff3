"""How long a failed sign-in takes, by reason: an attacker must not tell an unknown user name, a
wrong password, a locked-out client and a deactivated account apart by the time of the answer.

    python bench/sign_in_timing.py [--rounds 30] [--url sqlite:///...]

Signs in against a fresh database with the real password hashing (scrypt) and prints the median
and the 10th/90th percentiles of each kind of failure and of a success, and each failure's median
as a ratio of the wrong-password median (1.0 = indistinguishable). Figures, not assertions: this
machine is shared, so compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from procurement.db import create_db_engine  # noqa: E402
from procurement.errors import AuthenticationError  # noqa: E402
from procurement.packs import PackRegistry  # noqa: E402
from procurement.records.accounts import MAX_FAILED_LOGINS  # noqa: E402
from procurement.services import Services  # noqa: E402

PASSWORD = "correct horse battery"


def timed(svc: Services, username: str, password: str, client: str) -> float:
    start = time.perf_counter()
    try:
        svc.authenticate(username, password, client=client)
    except AuthenticationError:
        pass
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="sign-in-bench-")
    engine = create_db_engine(args.url or f"sqlite:///{folder}/bench.sqlite")
    svc = Services(engine, PackRegistry.discover())
    admin = svc.create_first_admin("org-a", "テスト省", "ministry", "admin", "管理", PASSWORD)
    svc.create_user(admin, "org-a", "alice", "利用者", PASSWORD, ["planner"])
    svc.create_user(admin, "org-a", "locked", "利用者", PASSWORD, ["planner"])
    gone = svc.create_user(admin, "org-a", "gone", "利用者", PASSWORD, ["planner"])
    svc.set_user_active(admin, gone.username, False)
    for _ in range(MAX_FAILED_LOGINS):   # the attacker's client is now locked out of "locked"
        timed(svc, "locked", "wrong password", "198.51.100.7")
    cases = {
        "wrong password": ("alice", "wrong password", "203.0.113.1"),
        "unknown user": ("nobody", "wrong password", "203.0.113.2"),
        "locked-out client": ("locked", PASSWORD, "198.51.100.7"),
        "deactivated": ("gone", PASSWORD, "203.0.113.3"),
        "success": ("alice", PASSWORD, "203.0.113.4"),
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):   # interleaved, so that load on the machine hits every kind
        for name, (user, password, client) in cases.items():
            if name == "wrong password":   # never reach the lock on the measured account
                svc.authenticate("alice", PASSWORD, client=client)
            samples[name].append(timed(svc, user, password, client))
    base = statistics.median(samples["wrong password"])
    print(f"{'attempt':<20} {'median ms':>10} {'p10 ms':>8} {'p90 ms':>8} {'ratio':>6}")
    for name, values in samples.items():
        deciles = statistics.quantiles(values, n=10)
        median = statistics.median(values)
        print(f"{name:<20} {median * 1000:>10.1f} {deciles[0] * 1000:>8.1f} "
              f"{deciles[-1] * 1000:>8.1f} {median / base:>6.2f}")
    engine.dispose()


if __name__ == "__main__":
    main()
