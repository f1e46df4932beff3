"""Benchmark: classifications per second and the time to load and resolve the shipped packs.

    python bench/classify.py [--n 10000] [--repeat 5] [--rules-dir DIR]

Prints figures only (no thresholds: compare as ratios within one run; machines are noisy).
Goal from issue 2: >= 20,000 classifications/s on one core, pack loading < 0.5 s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from procurement.packs import PackRegistry, classify


def answer_sets(pack, n: int, seed: int = 20260612) -> list[dict[str, str]]:
    """n reproducible answer sets: mostly complete, some partial, some out of scope."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        answers = {q.id: rng.choice(q.option_values) for q in pack.questions}
        answers["SC-1"] = "yes" if rng.random() < 0.95 else "no"
        answers["SC-2"] = "no" if rng.random() < 0.97 else "yes"
        if rng.random() < 0.2:  # an unfinished case
            for qid in rng.sample(sorted(answers), 3):
                del answers[qid]
        out.append(answers)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rules-dir")
    args = parser.parse_args()

    loads = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        registry = PackRegistry.discover(args.rules_dir)
        loads.append(time.perf_counter() - t0)
    print(f"load+resolve {len(registry)} packs: median {statistics.median(loads) * 1000:.1f} ms "
          f"(min {min(loads) * 1000:.1f} ms over {args.repeat} runs)")

    for ref in ("jp-national@1", "jp-national@2", "city-strict"):
        if ref not in registry:
            continue
        pack = registry.resolve(ref)
        batch = answer_sets(pack, args.n)
        rates = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            for answers in batch:
                classify(pack, answers)
            rates.append(args.n / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for answers in batch:
            classify(pack, answers).to_dict("ja")
        with_dict = args.n / (time.perf_counter() - t0)
        print(f"{pack.ref}: classify {statistics.median(rates):,.0f}/s median "
              f"(max {max(rates):,.0f}/s; batch of {args.n:,}); classify+to_dict {with_dict:,.0f}/s")


if __name__ == "__main__":
    main()
