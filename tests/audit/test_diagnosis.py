"""Random tampering with an in-memory chain (seeded, so repeatable): every change but a cut at
the end is caught, the first bad seq is never after the tampered position, and the diagnosis
never crashes."""

from __future__ import annotations

import random

from procurement.audit import GENESIS_HASH, EventRecord, verify_rows


def make_chain(n: int) -> list[dict]:
    rows, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        row = {"chain": "c", "seq": seq, "occurred_at": f"2026-06-12T00:{seq % 60:02d}:00Z",
               "actor": f"user{seq % 3}", "event_type": "answers.saved", "case_id": seq % 4 or None,
               "payload": f'{{"i":{seq}}}', "prev_hash": prev, "hash": ""}
        row["hash"] = prev = EventRecord.from_row(row).compute_hash()
        rows.append(row)
    return rows


def tamper(rows: list[dict], rng: random.Random) -> tuple[str, int]:
    """Apply one random change; return its kind and the lowest seq it touched."""
    kind = rng.choice(["edit", "delete", "swap", "renumber_after_delete", "duplicate"])
    i = rng.randrange(len(rows) - 1)
    seq = rows[i]["seq"]
    if kind == "edit":
        rows[i][rng.choice(["actor", "payload", "hash", "prev_hash", "occurred_at"])] = (
            "2020-01-01T00:00:00Z" if rng.random() < 0.2 else "x" * 64)
    elif kind == "delete":
        del rows[i]
    elif kind == "swap":
        j = rng.randrange(i + 1, len(rows))
        rows[i]["seq"], rows[j]["seq"] = rows[j]["seq"], rows[i]["seq"]
    elif kind == "renumber_after_delete":
        del rows[i]
        for row in rows[i:]:
            row["seq"] -= 1
    else:
        rows.insert(i, {**rows[i], "actor": "intruder"})
    return kind, seq


def test_random_tampering_is_caught_at_or_before_the_change():
    rng = random.Random(20260612)
    for _ in range(300):
        rows = make_chain(rng.randint(2, 40))
        kind, seq = tamper(rows, rng)
        rng.shuffle(rows)  # sources need not be sorted
        [report] = verify_rows(rows)
        assert not report.ok, (kind, seq)
        assert report.bad_seq <= seq, (kind, seq, report.describe())
        assert report.describe().startswith(f"FAIL c seq {report.bad_seq}: ")


def test_untouched_random_chains_verify():
    for n in (1, 2, 17):
        [report] = verify_rows(make_chain(n))
        assert report.ok and report.count == n
