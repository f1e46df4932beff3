"""Benchmark: classifications per second, the time to load and resolve the shipped packs, and
generated points packs (100 questions classified; 200 questions measured in bytes and loaded).

    python bench/classify.py [--n 10000] [--repeat 5] [--rules-dir DIR]

Prints figures only (no thresholds: compare as ratios within one run; machines are noisy).
Goals: >= 20,000 classifications/s on one core for the shipped packs (issue 2) and for a
generated 100-question points pack (issue 12); pack loading < 0.5 s. Rates are given per wall
clock (median of the runs) and per CPU time of this process (best run), which is steadier on a
shared machine; the first line times `sum(range(1000))` so that figures from different machines
can be compared.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from procurement.packs import PackRegistry, classify, load_pack_dir
from procurement.packs.yamlreader import MAX_ALIASES, MAX_BYTES, MAX_DEPTH, MAX_NODES


def answer_sets(pack, n: int, seed: int = 20260612) -> list[dict]:
    """n reproducible answer sets: mostly complete, some partial; for the national packs mostly
    in scope."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        answers: dict = {}
        for q in pack.questions:
            if q.is_text:
                answers[q.id] = "説明" * rng.randint(0, 20)
            elif q.multiple:
                answers[q.id] = [v for v in q.option_values if rng.random() < 0.3]
            else:
                answers[q.id] = rng.choice(q.option_values)
        if "SC-1" in answers:
            answers["SC-1"] = "yes" if rng.random() < 0.95 else "no"
            answers["SC-2"] = "no" if rng.random() < 0.97 else "yes"
        if rng.random() < 0.2:  # an unfinished case
            for qid in rng.sample(sorted(answers), 3):
                del answers[qid]
        out.append(answers)
    return out


def points_pack_yaml(questions: int, *, multiple_every: int = 10, groups: int = 4) -> str:
    """A generated pack of `questions` points questions with four options each (every
    `multiple_every`-th one multiple choice), a multiple-choice mitigation question and a free
    text; levels I-IV on the total score with a mitigation discount (II, III, IV unless
    mitigated, IV whatever the mitigations), one rule per group of questions (sub-scores), a
    blocking finding, a flag, a consistency rule, a report step and items."""
    src = "source: {document: generated benchmark pack}"
    lines = [
        "id: bench-points", "version: 1.0.0", "title: {ja: 点数の性能確認用パック, en: Points benchmark pack}",
        "edition: 2026-01-01", "effective_from: 2026-01-01", "publisher: {ja: 生成, en: Generated}",
        "source: {document: generated benchmark pack}", "license: CC0-1.0", "languages: [ja, en]",
        "default_level: I", "levels:",
    ]
    for lv, tone in (("I", "success"), ("II", "info"), ("III", "warning"), ("IV", "danger")):
        lines.append(f"  - {{id: {lv}, label: {{ja: 区分{lv}, en: Class {lv}}}, tone: {tone}, "
                     f"high_risk: {'true' if lv == 'IV' else 'false'}, provenance: inferred, {src}}}")
    lines.append("questions:")
    qids = [f"Q-{i:03d}" for i in range(1, questions + 1)]
    for i, qid in enumerate(qids, 1):
        multiple = i % multiple_every == 0
        lines += [
            f"  - id: {qid}",
            "    step: assess",
            f"    text: {{ja: 質問{i}の文です。どの程度当てはまりますか。, en: \"Question {i}, how far does it apply?\"}}",
            f"    help: {{ja: 質問{i}の説明です。, en: Help for question {i}.}}",
        ]
        if multiple:
            lines.append("    multiple: true")
        lines.append("    options:")
        for v, pts in (("none", 0), ("some", 1), ("much", 2), ("all", 3)):
            lines.append(f"      - {{value: {v}, label: {{ja: 選択肢{v}, en: Option {v}}}, points: {pts}}}")
        lines += ["    provenance: inferred", f"    {src}"]
    lines += [
        "  - id: MIT", "    step: assess", "    multiple: true",
        "    text: {ja: 軽減策, en: Mitigations}", "    options:",
        "      - {value: a, label: {ja: 軽減策A, en: Mitigation A}, points: 2}",
        "      - {value: b, label: {ja: 軽減策B, en: Mitigation B}, points: 2}",
        "      - {value: c, label: {ja: 軽減策C, en: Mitigation C}, points: 1}",
        "    provenance: inferred", f"    {src}",
        "  - id: NOTE", "    step: assess", "    kind: text", "    required: false",
        "    text: {ja: 補足, en: Notes}", "    provenance: inferred", f"    {src}",
    ]
    all_q = "[" + ", ".join(qids) + "]"
    high = 3 * questions  # the most a single-choice set gives; multiple ones can give more
    lines.append("rules:")
    for rid, level, frac in (("R-II", "II", 0.3), ("R-III", "III", 0.45), ("R-IV-MITIGATED", "IV", 0.7)):
        lines += [f"  - id: {rid}", f"    level: {level}",
                  f"    when: {{points_at_least: {{questions: {all_q}, at_least: {int(high * frac)}}}}}",
                  f"    message: {{ja: 点数が{int(high * frac)}点以上, en: Score {int(high * frac)} or more}}",
                  "    provenance: inferred", f"    {src}"]
    lines += ["  - id: R-IV", "    level: IV", "    when:", "      all:",
              f"        - {{points_at_least: {{questions: {all_q}, at_least: {int(high * 0.55)}}}}}",
              "        - not: {points_at_least: {questions: [MIT], at_least: 4}}",
              "    message: {ja: 区分IV, en: Class IV}", "    provenance: inferred", f"    {src}"]
    size = max(1, questions // groups)
    for g in range(groups):
        group = qids[g * size:(g + 1) * size]
        if not group:
            break
        lines += [f"  - id: R-G{g}", "    level: III",
                  f"    when: {{points_at_least: {{questions: [{', '.join(group)}], at_least: {int(len(group) * 2.2)}}}}}",
                  f"    message: {{ja: 観点{g}が高い, en: Group {g} is high}}", "    provenance: inferred", f"    {src}"]
    lines += [
        "blocking:", "  - id: B-1", (f"    when: {{all: [{{answer_equals: {{question: {qids[0]}, value: all}}}}, "
        f"{{answer_equals: {{question: {qids[1]}, value: all}}}}]}}"),
        "    message: {ja: 止める, en: Blocked}", "    provenance: inferred", f"    {src}",
        "flags:", "  - id: F-1", "    label: {ja: 注記, en: Note}", "    message: {ja: 補足あり, en: Has notes}",
        "    when: {answered: {question: NOTE}}", "    provenance: inferred", f"    {src}",
        "consistency:", "  - id: C-1", "    when: {item_status_in: {item: I-1, statuses: [not_met]}}",
        "    message: {ja: 未達, en: Not met}", "    provenance: inferred", f"    {src}",
        "steps:",
        "  - {id: assess, title: {ja: 評価, en: Assess}, provenance: inferred, " + src + "}",
        "  - {id: report, title: {ja: 報告, en: Report}, kind: report, body: {ja: 委員会, en: Committee}, "
        "applies_when: {level_at_least: III}, provenance: inferred, " + src + "}",
        "checklists:", "  - id: list", "    title: {ja: 一覧, en: List}", "    step: assess", "    items:",
        "      - {id: I-1, category: process, text: {ja: 項目1, en: Item 1}, required_when: {level_at_least: I}, "
        "provenance: inferred, " + src + "}",
        "      - {id: I-2, category: process, text: {ja: 項目2, en: Item 2}, required_when: {level_at_least: III}, "
        "recommended_when: {level_at_least: II}, provenance: inferred, " + src + "}",
    ]
    return "\n".join(lines) + "\n"


def load_generated(text: str):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "pack"
        folder.mkdir()
        (folder / "pack.yaml").write_text(text, encoding="utf-8")
        t0 = time.perf_counter()
        pack = load_pack_dir(folder)
        return pack, time.perf_counter() - t0


def rate(pack, batch, repeat: int) -> tuple[float, float, float]:
    """(median rate by wall clock, best rate by CPU time, rate of classify + to_dict by CPU)."""
    rates, cpu_rates = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        for answers in batch:
            classify(pack, answers)
        rates.append(len(batch) / (time.perf_counter() - t0))
        cpu_rates.append(len(batch) / max(time.process_time() - c0, 1e-9))
    c0 = time.process_time()
    for answers in batch:
        classify(pack, answers).to_dict("ja")
    with_dict = len(batch) / max(time.process_time() - c0, 1e-9)
    return statistics.median(rates), max(cpu_rates), with_dict


def calibration() -> float:
    """Microseconds for sum(range(1000)), best of 5 (a rough measure of the machine's speed)."""
    import timeit

    return min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rules-dir")
    args = parser.parse_args()

    print(f"calibration: sum(range(1000)) takes {calibration():.1f} µs on this machine")
    loads = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        registry = PackRegistry.discover(args.rules_dir)
        loads.append(time.perf_counter() - t0)
    print(f"load+resolve {len(registry)} packs: median {statistics.median(loads) * 1000:.1f} ms "
          f"(min {min(loads) * 1000:.1f} ms over {args.repeat} runs)")

    packs = [registry.resolve(ref) for ref in ("jp-national@1", "jp-national@2", "city-strict", "example-impact")
             if ref in registry]
    for pack in packs:
        median, cpu, with_dict = rate(pack, answer_sets(pack, args.n), args.repeat)
        print(f"{pack.ref}: classify {median:,.0f}/s (wall, median), {cpu:,.0f}/s (CPU, best; batch of "
              f"{args.n:,}); classify+to_dict {with_dict:,.0f}/s (CPU)")

    text100 = points_pack_yaml(100)
    pack100, load100 = load_generated(text100)
    median, cpu, with_dict = rate(pack100, answer_sets(pack100, args.n), args.repeat)
    print(f"generated 100-question points pack ({len(pack100.questions)} questions, {len(pack100.rules)} rules, "
          f"{len(text100.encode()):,} bytes, loaded in {load100 * 1000:.0f} ms): classify {median:,.0f}/s "
          f"(wall, median), {cpu:,.0f}/s (CPU, best); classify+to_dict {with_dict:,.0f}/s (CPU)")

    text200 = points_pack_yaml(200, groups=20)
    pack200, load200 = load_generated(text200)
    print(f"generated 200-question points pack: {len(text200.encode()):,} bytes "
          f"({len(text200.encode()) / MAX_BYTES:.0%} of the {MAX_BYTES:,}-byte limit), "
          f"{len(pack200.questions)} questions, loaded in {load200 * 1000:.0f} ms")
    print(f"loader limits: {MAX_BYTES:,} bytes per file, {MAX_NODES:,} values after aliases, "
          f"nesting depth {MAX_DEPTH}, {MAX_ALIASES:,} aliases")


if __name__ == "__main__":
    main()
