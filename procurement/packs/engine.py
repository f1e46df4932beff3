"""The classification engine: answers + a resolved pack -> level, completeness, reasons, findings,
required steps and items. Pure and deterministic; no I/O.

Semantics (documented in docs/rule-packs.md):
- Questions are visited in pack order; a question applies unless its `applies_when` is false on the
  answers of the questions before it. Answers to questions that do not apply are ignored, and a
  condition on such a question is false (it will never be answered), not unknown.
- Rules fire only when their condition is true. The first firing `stop` rule decides the level
  alone and settles the case (nothing else is needed). Otherwise the level is the highest of the
  pack's `default_level` and every firing rule's level, so a missing answer never lowers it.
- Blocking findings fire when true. Steps apply unless false; an item is required unless its
  `required_when` is false (a missing answer never drops a requirement), recommended when its
  `recommended_when` is true and it is not required.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from procurement.errors import InputError
from procurement.packs.conditions import NOT_APPLICABLE, Cond
from procurement.packs.pack import ResolvedPack


class InvalidAnswersError(InputError):
    """Answers that do not fit the pack: an unknown question id or an option it does not have."""

    code = "invalid_answers"

    def __init__(self, message: str, problems: list[str], **params: Any) -> None:
        super().__init__(message, problems=problems, **params)
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Reason:
    """A rule that fired: why the level is what it is."""

    rule_id: str
    level: str
    inputs: dict[str, str]
    message: dict[str, str]
    provenance: str
    source: dict[str, str]
    layer: str = ""

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id, "level": self.level, "inputs": dict(self.inputs),
            "message": self.message[lang] if lang else dict(self.message),
            "provenance": self.provenance, "source": dict(self.source), "layer": self.layer,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """A blocking finding: something that must be resolved whatever the level."""

    id: str
    inputs: dict[str, str]
    message: dict[str, str]
    provenance: str
    source: dict[str, str]
    layer: str = ""

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        return {
            "id": self.id, "inputs": dict(self.inputs),
            "message": self.message[lang] if lang else dict(self.message),
            "provenance": self.provenance, "source": dict(self.source), "layer": self.layer,
        }


@dataclass(slots=True)
class Classification:
    """The result of `classify`."""

    level: str
    complete: bool
    unanswered: list[str]
    applicable_questions: list[str]
    ignored_answers: list[str]
    reasons: list[Reason]
    blocking: list[Finding]
    required_steps: list[str]
    required_items: list[str]
    recommended_items: list[str]
    pack_id: str
    pack_version: str
    fingerprint: str
    answers: dict[str, str] = field(default_factory=dict)

    @property
    def pack_ref(self) -> str:
        return f"{self.pack_id}@{self.pack_version}#{self.fingerprint[:12]}"

    @property
    def is_blocked(self) -> bool:
        return bool(self.blocking)

    def to_dict(self, lang: str | None = "ja") -> dict[str, Any]:
        """The JSON shape printed by `procurement classify` (messages in `lang`; both if None)."""
        return {
            "level": self.level,
            "complete": self.complete,
            "unanswered": list(self.unanswered),
            "applicable_questions": list(self.applicable_questions),
            "ignored_answers": list(self.ignored_answers),
            "reasons": [r.to_dict(lang) for r in self.reasons],
            "blocking": [b.to_dict(lang) for b in self.blocking],
            "required_steps": list(self.required_steps),
            "required_items": list(self.required_items),
            "recommended_items": list(self.recommended_items),
            "pack": {"id": self.pack_id, "version": self.pack_version, "fingerprint": self.fingerprint},
        }


def check_answers(pack: ResolvedPack, answers: Any) -> dict[str, str]:
    """Validate answers against the pack; return them without unanswered (None) entries."""
    if not isinstance(answers, Mapping):
        raise InvalidAnswersError(
            f"answers must be an object mapping question ids to option values; got {type(answers).__name__}",
            [f"not an object: {type(answers).__name__}"], pack=pack.key,
        )
    options = pack._options  # type: ignore[attr-defined]
    clean: dict[str, str] = {}
    problems: list[str] = []
    for qid, value in answers.items():
        allowed = options.get(qid)
        if allowed is None:
            problems.append(f"unknown question {qid!r}")
        elif value is None:
            continue
        elif not isinstance(value, str) or value not in allowed:
            problems.append(f"{qid}: {value!r} is not an option (options: {', '.join(pack.question(qid).option_values)})")
        else:
            clean[qid] = value
    if problems:
        raise InvalidAnswersError(
            f"invalid answers for pack {pack.key}: " + "; ".join(problems), problems, pack=pack.key
        )
    return clean


def classify(pack: ResolvedPack, answers: Mapping[str, str | None]) -> Classification:
    """Classify one set of answers (question id -> option value; None or absent = unanswered)."""
    given = check_answers(pack, answers)
    effective: dict[str, str] = {}
    applicable: list[str] = []
    unanswered: list[str] = []
    ignored: list[str] = []
    for q in pack.questions:
        cond = q.applies
        if cond is None or cond.evaluate(effective, None) is not False:
            applicable.append(q.id)
            v = given.get(q.id)
            if v is not None:
                effective[q.id] = v
            elif q.required:
                unanswered.append(q.id)
        else:
            # A question that does not apply will never be answered: conditions on it are
            # false rather than unknown (so nothing stays required because of it).
            effective[q.id] = NOT_APPLICABLE
            if q.id in given:
                ignored.append(q.id)

    rank = pack._level_rank  # type: ignore[attr-defined]
    levels = pack.levels
    level_rank = rank[pack.default_level]
    fired = []
    stop_rule = None
    for rule in pack.rules:
        if rule.cond.evaluate(effective, None) is True:
            if rule.stop:
                stop_rule = rule
                break
            fired.append(rule)
            r = rank[rule.level]
            if r > level_rank:
                level_rank = r
    if stop_rule is not None:
        fired = [stop_rule]
        level_rank = rank[stop_rule.level]
        unanswered = []  # a stop rule settles the case: no other answer is needed

    reasons = [
        Reason(r.id, r.level, r.cond.inputs(effective, None), r.message, r.provenance, r.source, r.layer)
        for r in fired
    ]
    blocking = [
        Finding(b.id, b.cond.inputs(effective, level_rank), b.message, b.provenance, b.source, b.layer)
        for b in pack.blocking
        if b.cond.evaluate(effective, level_rank) is True
    ]
    plan = _plan(pack)
    steps, required, recommended = plan.static[level_rank]
    if plan.has_dynamic:
        steps, required, recommended = _dynamic_lists(plan, effective, level_rank)
    else:
        steps, required, recommended = list(steps), list(required), list(recommended)
    return Classification(
        level=levels[level_rank].id,
        complete=not unanswered,
        unanswered=unanswered,
        applicable_questions=applicable,
        ignored_answers=ignored,
        reasons=reasons,
        blocking=blocking,
        required_steps=steps,
        required_items=required,
        recommended_items=recommended,
        pack_id=pack.id,
        pack_version=pack.version,
        fingerprint=pack.fingerprint,
        answers={k: v for k, v in effective.items() if v},
    )


# -- precomputation ------------------------------------------------------------------------------
# Most step and item conditions depend only on the level (e.g. `level_at_least: low`). They are
# evaluated once per level and cached on the pack; only conditions on answers are evaluated per
# classification. Same results, several times faster (see bench/classify.py).


def _uses_answers(cond: Cond | None) -> bool:
    if cond is None:
        return False
    return bool(cond.questions) or any(_uses_answers(c) for c in cond.children)


@dataclass(frozen=True, slots=True)
class _Plan:
    #: level rank -> (steps, required items, recommended items), valid when nothing is dynamic
    static: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...]
    has_dynamic: bool
    #: (id, cond or None) in order, for the dynamic path
    #: level rank -> ((id, cond that reads answers or None, static result), ...)
    dyn_steps: tuple[tuple[tuple[str, Cond | None, bool], ...], ...]
    #: level rank -> ((id, required cond or None, recommended cond or None, static required,
    #: static recommended), ...); a cond is kept only when it reads answers
    dyn_items: tuple[tuple[tuple[str, Cond | None, Cond | None, bool, bool], ...], ...]


def _plan(pack: ResolvedPack) -> _Plan:
    plan = pack.__dict__.get("_engine_plan")
    if plan is None:
        steps = tuple((s.id, s.applies) for s in pack.steps)
        items = tuple((i.id, i.required_cond, i.recommended_cond) for i in pack.items)
        dynamic = any(_uses_answers(c) for _, c in steps) or any(
            _uses_answers(rq) or _uses_answers(rc) for _, rq, rc in items
        )
        static, dyn_steps, dyn_items = [], [], []
        for rank in range(len(pack.levels)):
            st, rq, rc = _dynamic_lists_raw(steps, items, {}, rank)
            static.append((tuple(st), tuple(rq), tuple(rc)))
            dyn_steps.append(tuple(
                (sid, cond if _uses_answers(cond) else None, sid in st) for sid, cond in steps
            ))
            dyn_items.append(tuple(
                (iid, q if _uses_answers(q) else None, c if _uses_answers(c) else None,
                 q is not None and q.evaluate({}, rank) is not False,
                 c is not None and c.evaluate({}, rank) is True)
                for iid, q, c in items
            ))
        plan = _Plan(tuple(static), dynamic, tuple(dyn_steps), tuple(dyn_items))
        object.__setattr__(pack, "_engine_plan", plan)
    return plan


def _dynamic_lists(plan: _Plan, answers: dict[str, str], rank: int):
    # Only conditions that read answers are evaluated; level-only ones come from the cache.
    steps, required, recommended = [], [], []
    for sid, cond, static in plan.dyn_steps[rank]:
        if static if cond is None else cond.evaluate(answers, rank) is not False:
            steps.append(sid)
    for iid, rq, rc, req_static, rec_static in plan.dyn_items[rank]:
        req = req_static if rq is None else rq.evaluate(answers, rank) is not False
        if req:
            required.append(iid)
        elif rec_static if rc is None else rc.evaluate(answers, rank) is True:
            recommended.append(iid)
    return steps, required, recommended


def _dynamic_lists_raw(steps, items, answers, rank):
    out_steps = [sid for sid, cond in steps if cond is None or cond.evaluate(answers, rank) is not False]
    required: list[str] = []
    recommended: list[str] = []
    for iid, rq, rc in items:
        if rq is not None and rq.evaluate(answers, rank) is not False:
            required.append(iid)
        elif rc is not None and rc.evaluate(answers, rank) is True:
            recommended.append(iid)
    return out_steps, required, recommended
