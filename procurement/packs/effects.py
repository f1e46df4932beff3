"""Which options can raise the level, derived from the rules (for the UI to mark them).

`option_effects(pack)` maps question id -> option value -> the highest level towards which the
option counts. An option counts towards a rule whose level is above the pack's `default_level`
when it appears *positively* in the rule's condition:

- `answer_equals` / `answer_in`: the listed values; under a `not`, the question's other options;
- `count_in`: the listed values of each listed question (under a `not`: nothing);
- `points_at_least`: the options with points > 0 (under a `not`: nothing);
- `answered`: every option of the question (any answer counts; under a `not`: nothing);
- `all` / `any`: each branch; `not` swaps the polarity of what it holds.

So it includes both an option that alone makes the rule fire (HR-1 `public` -> `high`) and one
that only counts towards it together with others (HR-1 `gov_external` -> `review`, one of the two
answers `count_in` needs). It is a static reading of the rules: it does not follow which
questions apply, and an option that lowers the level (a mitigation under `not`) is not listed.
Options that count towards no such rule are absent.
"""

from __future__ import annotations

from typing import Any

from procurement.packs.conditions import Cond
from procurement.packs.pack import ResolvedPack


def _positive_options(cond: Cond, positive: bool, pack: ResolvedPack, out: set[tuple[str, str]]) -> None:
    kind = cond.kind
    if kind in ("all", "any"):
        for child in cond.children:
            _positive_options(child, positive, pack, out)
    elif kind == "not":
        for child in cond.children:
            _positive_options(child, not positive, pack, out)
    elif kind in ("answer_equals", "answer_in"):
        qid = cond.questions[0]
        listed = _listed_values(cond)
        for value in pack.question(qid).option_values:
            if (value in listed) == positive:
                out.add((qid, value))
    elif not positive:
        return
    elif kind == "count_in":
        for qid in cond.questions:
            for value in pack.question(qid).option_values:
                if value in cond.values:
                    out.add((qid, value))
    elif kind == "points_at_least":
        assert cond.points is not None
        for qid, points, _lo, _hi, _multiple in cond.points.spec:
            for value, pts in points.items():
                if pts > 0:
                    out.add((qid, value))
    elif kind == "answered":
        qid = cond.questions[0]
        for value in pack.question(qid).option_values:
            out.add((qid, value))


def _listed_values(cond: Cond) -> frozenset[str]:
    if cond.kind == "answer_in":
        return cond.values
    raw: Any = cond.raw["answer_equals"]
    return frozenset({raw["value"]})


def option_effects(pack: ResolvedPack) -> dict[str, dict[str, str]]:
    """question id -> {option value -> the highest level id it counts towards}, for the options
    that count towards a rule above `default_level` (see the module docstring); questions and
    options in pack order."""
    rank = pack.level_rank
    floor = rank(pack.default_level)
    best: dict[tuple[str, str], str] = {}
    for rule in pack.rules:
        if rank(rule.level) <= floor or rule.cond is None:
            continue
        found: set[tuple[str, str]] = set()
        _positive_options(rule.cond, True, pack, found)
        for key in found:
            if key not in best or rank(rule.level) > rank(best[key]):
                best[key] = rule.level
    out: dict[str, dict[str, str]] = {}
    for q in pack.questions:
        for value in q.option_values:
            level = best.get((q.id, value))
            if level is not None:
                out.setdefault(q.id, {})[value] = level
    return out
