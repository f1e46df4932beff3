"""Demo data, written through the services like any user would: organisations, accounts and
cases (`seed`), then systems in operation with incidents (`operations`).

    from procurement.demo import seed_demo, DEMO_PASSWORD
"""

from procurement.demo.seed import (
    BLOCKED,
    DEMO_PASSWORD,
    DEMO_USERS,
    HIGH,
    INCOMPLETE,
    LOW,
    OUT_OF_SCOPE,
    PURPOSES,
    REVIEW,
    seed_demo,
)

__all__ = [
    "BLOCKED", "DEMO_PASSWORD", "DEMO_USERS", "HIGH", "INCOMPLETE", "LOW", "OUT_OF_SCOPE",
    "PURPOSES", "REVIEW", "seed_demo",
]
