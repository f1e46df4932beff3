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

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import compress, count, repeat
from operator import is_, itemgetter
from typing import Any, cast

from procurement.errors import InputError
from procurement.packs.conditions import (
    ITEM_STATUSES,
    NOT_APPLICABLE,
    POINTS_VECTOR,
    Cond,
    Evaluator,
    PointsGroup,
    PointsVector,
    points_memo,
)
from procurement.packs.pack import BlockingFinding, ConsistencyRule, Flag, ResolvedPack, Rule
from procurement.packs.texts import LEGACY_LANGUAGES, pick_text

#: Characters refused in free text: control characters (C0 but tab and newline, DEL, C1), lone
#: surrogates, and the non-characters U+FFFE/U+FFFF (a workbook cannot hold them, so the audit
#: export would no longer verify; the same rule as every other text field, records/checks.py).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


class InvalidAnswersError(InputError):
    """Answers that do not fit the pack: an unknown question id, an option it does not have, a
    malformed multiple-choice list, a free text that is too long or holds control characters."""

    code = "invalid_answers"

    def __init__(self, message: str, problems: list[str], **params: Any) -> None:
        super().__init__(message, problems=problems, **params)
        self.problems = problems


class LazyMapping(Mapping[str, Any]):
    """A read-only mapping computed when first read: the inputs of a points rule (every
    answer that adds points) and the points per question cost a pass over possibly a hundred
    questions, which a caller that only wants the level need not pay."""

    __slots__ = ("_data", "_make")

    def __init__(self, make: Callable[[], dict[str, Any]]) -> None:
        self._make: Callable[[], dict[str, Any]] | None = make
        self._data: dict[str, Any] | None = None

    def _get(self) -> dict[str, Any]:
        if self._data is None:
            assert self._make is not None
            self._data = self._make()
            self._make = None
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __repr__(self) -> str:
        return repr(self._get())


class LazyList(Sequence[Any]):
    """A read-only list computed when first read (the points totals of a classification)."""

    __slots__ = ("_data", "_make")

    def __init__(self, make: Callable[[], list[Any]]) -> None:
        self._make: Callable[[], list[Any]] | None = make
        self._data: list[Any] | None = None

    def _get(self) -> list[Any]:
        if self._data is None:
            assert self._make is not None
            self._data = self._make()
            self._make = None
        return self._data

    def __getitem__(self, index: Any) -> Any:
        return self._get()[index]

    def __len__(self) -> int:
        return len(self._get())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return self._get() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._get())


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _msg(texts: Mapping[str, str] | None, lang: str | None, languages: tuple[str, ...]) -> Any:
    if texts is None:
        return None
    return pick_text(texts, lang, languages) if lang else dict(texts)


@dataclass(frozen=True, slots=True)
class Reason:
    """A rule that fired: why the level is what it is."""

    rule_id: str
    level: str
    #: the answers that made the rule true (a read-only mapping; computed when first read for
    #: rules that add points up)
    inputs: Mapping[str, Any]
    message: dict[str, str]
    provenance: str
    source: dict[str, str]
    layer: str = ""

    def to_dict(self, lang: str | None = None,
                languages: tuple[str, ...] = LEGACY_LANGUAGES) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id, "level": self.level,
            "inputs": {k: _jsonable(v) for k, v in self.inputs.items()},
            "message": _msg(self.message, lang, languages),
            "provenance": self.provenance, "source": dict(self.source), "layer": self.layer,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """A blocking finding, a flag or a consistency warning that is true for the case. Flags also
    carry a short `label`."""

    id: str
    #: the answers (and item statuses) that made it true; a mapping as for Reason.inputs
    inputs: Mapping[str, Any]
    message: dict[str, str]
    provenance: str
    source: dict[str, str]
    layer: str = ""
    label: dict[str, str] | None = None

    def to_dict(self, lang: str | None = None,
                languages: tuple[str, ...] = LEGACY_LANGUAGES) -> dict[str, Any]:
        out = {
            "id": self.id, "inputs": {k: _jsonable(v) for k, v in self.inputs.items()},
            "message": _msg(self.message, lang, languages),
            "provenance": self.provenance, "source": dict(self.source), "layer": self.layer,
        }
        if self.label is not None:
            out["label"] = _msg(self.label, lang, languages)
        return out


@dataclass(frozen=True, slots=True)
class PointsTotal:
    """One `points_at_least` condition of the pack, evaluated on the answers."""

    questions: tuple[str, ...]
    at_least: int
    #: points of the answers given (a question that does not apply adds 0)
    total: int
    #: the lowest and highest total still possible with the unanswered questions
    min_possible: int
    max_possible: int
    #: True, False, or None (unknown: open until more is answered)
    value: bool | None
    #: ids of the elements whose conditions use it (rules, findings, flags, steps, items, ...)
    used_by: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"questions": list(self.questions), "at_least": self.at_least, "total": self.total,
                "min_possible": self.min_possible, "max_possible": self.max_possible,
                "value": self.value, "used_by": list(self.used_by)}


@dataclass(slots=True)
class Classification:
    """The result of `classify`."""

    level: str
    complete: bool
    unanswered: list[str]
    applicable_questions: list[str]
    ignored_answers: list[str]
    #: the rules that fired (a read-only sequence, built when first read)
    reasons: Sequence[Reason]
    blocking: list[Finding]
    required_steps: list[str]
    required_items: list[str]
    recommended_items: list[str]
    pack_id: str
    pack_version: str
    fingerprint: str
    answers: dict[str, Any] = field(default_factory=dict)
    #: flags that are true for the case (findings with a label)
    flags: list[Finding] = field(default_factory=list)
    #: question id -> points of its answer, for every applicable question with points
    #: (None while unanswered)
    points_by_question: Mapping[str, int | None] = field(default_factory=dict)
    #: every distinct points_at_least condition of the pack, evaluated on the answers
    #: (`points_by_question` is a read-only mapping, computed when first read)
    points_totals: Sequence[PointsTotal] = field(default_factory=list)
    #: the level as the pack describes it (see ResolvedPack.level)
    tone: str = "neutral"
    high_risk: bool = False
    out_of_scope: bool = False
    #: the pack's languages, for picking message texts
    languages: tuple[str, ...] = LEGACY_LANGUAGES

    @property
    def pack_ref(self) -> str:
        return f"{self.pack_id}@{self.pack_version}#{self.fingerprint[:12]}"

    @property
    def is_blocked(self) -> bool:
        return bool(self.blocking)

    def to_dict(self, lang: str | None = "ja") -> dict[str, Any]:
        """The JSON shape printed by `procurement classify` (texts in `lang`, else the pack's
        first language; every language when None)."""
        langs = self.languages
        return {
            "level": self.level,
            "complete": self.complete,
            "unanswered": list(self.unanswered),
            "applicable_questions": list(self.applicable_questions),
            "ignored_answers": list(self.ignored_answers),
            "reasons": [r.to_dict(lang, langs) for r in self.reasons],
            "blocking": [b.to_dict(lang, langs) for b in self.blocking],
            "required_steps": list(self.required_steps),
            "required_items": list(self.required_items),
            "recommended_items": list(self.recommended_items),
            "pack": {"id": self.pack_id, "version": self.pack_version, "fingerprint": self.fingerprint},
            "level_info": {"tone": self.tone, "high_risk": self.high_risk, "out_of_scope": self.out_of_scope},
            "flags": [f.to_dict(lang, langs) for f in self.flags],
            "points": {
                "by_question": dict(self.points_by_question),
                "totals": [t.to_dict() for t in self.points_totals],
            },
        }


# -- answers -----------------------------------------------------------------------------------

_SINGLE, _MULTIPLE, _TEXT = 0, 1, 2


def _answer_spec(pack: ResolvedPack) -> dict[str, tuple[int, Any, Any]]:
    """question id -> (kind, allowed options or max length, option order), cached on the pack."""
    spec = pack.__dict__.get("_answer_spec")
    if spec is None:
        spec = {}
        for q in pack.questions:
            if q.kind == "text":
                spec[q.id] = (_TEXT, q.max_length, None)
            elif q.multiple:
                order = {v: i for i, v in enumerate(q.option_values)}
                spec[q.id] = (_MULTIPLE, frozenset(q.option_values), order)
            else:
                spec[q.id] = (_SINGLE, frozenset(q.option_values), None)
        object.__setattr__(pack, "_answer_spec", spec)
    return spec


#: Multiple-choice questions with at most this many options get a table of every selection
#: (2**n entries) for the answer check's fast path.
_SELECTION_TABLE_MAX_OPTIONS = 8


def _selections(options: tuple[str, ...]) -> dict[frozenset[str], tuple[str, ...]] | None:
    """Every possible selection -> the same selection as a tuple in option order (None when
    there are too many options for a table)."""
    if len(options) > _SELECTION_TABLE_MAX_OPTIONS:
        return None
    table: dict[frozenset[str], tuple[str, ...]] = {}
    for mask in range(1 << len(options)):
        chosen = tuple(o for i, o in enumerate(options) if mask >> i & 1)
        table[frozenset(chosen)] = chosen
    return table


def _options_text(pack: ResolvedPack, qid: str) -> str:
    return ", ".join(pack.question(qid).option_values)


class _SelectionPoints(dict[Any, Any]):
    """Points of the selections of a multiple-choice question with too many options for a
    table of every selection: added up at each look-up."""

    __slots__ = ("points",)

    def __init__(self, points: dict[str, int]) -> None:
        super().__init__({None: None})
        self.points = points

    def __missing__(self, selection: tuple[str, ...]) -> int:
        # Not kept: a question with many options has too many selections to hold them all.
        return sum(map(self.points.__getitem__, selection))


@dataclass(frozen=True, slots=True)
class _FastCheck:
    """The answer check's tables, built once per pack. The check of the single-choice answers
    and the points of every choice question are one pass in C: each answer is looked up in its
    question's table, which holds what the question accepts (a single-choice value that is not
    an option is not in it), and what the look-up finds is the answer's points."""

    #: the choice questions (single and multiple), in pack order: the slots of the points vector
    choices: tuple[str, ...]
    #: per choice question: answer -> its points (0 for options without points), and None (no
    #: answer) -> None; a multiple-choice answer is its selection as the check returns it (a
    #: tuple in option order)
    tables: tuple[dict[Any, int | None], ...]
    #: (id, kind, allowed options or max length, option order, every selection or None) of the
    #: multiple-choice and free-text questions
    special: tuple[tuple[str, int, Any, Any, Any], ...]
    #: question id -> its slot in the points vector
    position: dict[str, int]
    #: answers -> the answers to `choices` as a sequence, in C (KeyError when one is absent)
    fetch: Callable[[Mapping[str, Any]], Sequence[Any]]
    #: the multiple-choice questions: their ids, the same as `fetch` for them, `(list,) * n`,
    #: and per question its selections in option order -> themselves (empty for a question
    #: with too many options for a table), so that lists in option order are checked in C
    multiples: tuple[str, ...]
    fetch_multiples: Callable[[Mapping[str, Any]], Sequence[Any]]
    multiple_types: tuple[type, ...]
    canonical: tuple[dict[tuple[str, ...], tuple[str, ...]], ...]
    #: the entries of `special` that are free-text questions
    texts: tuple[tuple[str, int, Any, Any, Any], ...]


def _choice_table(q: Any) -> dict[Any, int | None]:
    points = {o.value: o.points or 0 for o in q.options}
    if not q.multiple:
        return {**points, None: None}
    selections = _selections(q.option_values)
    if selections is None:
        return _SelectionPoints(points)
    return {**{chosen: sum(map(points.__getitem__, chosen)) for chosen in selections.values()},
            None: None}


def _fetcher(ids: tuple[str, ...]) -> Callable[[Mapping[str, Any]], Sequence[Any]]:
    """A function returning the values of `ids` in a mapping as a sequence (KeyError when one
    is absent): `itemgetter`, which returns a bare value for one id, wrapped for fewer than two."""
    if len(ids) >= 2:
        return itemgetter(*ids)
    return lambda answers: [answers[i] for i in ids]


def _fast_check(pack: ResolvedPack) -> _FastCheck:
    fast = pack.__dict__.get("_fast_check")
    if fast is None:
        choices = [q for q in pack.questions if not q.is_text]
        multiples = [q for q in pack.questions if q.multiple]
        special = tuple((q.id, *_answer_spec(pack)[q.id], _selections(q.option_values) if q.multiple else None)
                        for q in pack.questions if q.is_text or q.multiple)
        fast = _FastCheck(
            tuple(q.id for q in choices),
            tuple(_choice_table(q) for q in choices),
            special,
            {q.id: i for i, q in enumerate(choices)},
            _fetcher(tuple(q.id for q in choices)),
            tuple(q.id for q in multiples),
            _fetcher(tuple(q.id for q in multiples)),
            (list,) * len(multiples),
            tuple({chosen: chosen for chosen in (_selections(q.option_values) or {}).values()}
                  for q in multiples),
            tuple(entry for entry in special if entry[1] == _TEXT),
        )
        object.__setattr__(pack, "_fast_check", fast)
    return fast


def check_answers(pack: ResolvedPack, answers: Any) -> dict[str, Any]:
    """Validate answers against the pack; return them without unanswered entries.

    Single choice: an option value. Multiple choice: a list of distinct option values (returned
    as a tuple in option order; an empty list is an answer). Free text: a string within the
    question's `max_length`, without control characters but tab and newline (an empty or
    blank string is no answer). None is no answer."""
    return _check(pack, answers)[0]


def _check(pack: ResolvedPack, answers: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[list[Any], list[int]] | None]:
    """check_answers, also handing on the points vector's values (see `_FastCheck`) and the
    positions of its unanswered questions (None) when the fast path computed them."""
    if not isinstance(answers, Mapping):
        raise InvalidAnswersError(
            f"answers must be an object mapping question ids to answers; got {type(answers).__name__}",
            [f"not an object: {type(answers).__name__}"], pack=pack.key,
        )
    # The common case: the few multiple-choice and free-text answers are normalised (in C when
    # they are lists in option order) and the free texts looked at one by one, then the choice
    # answers are looked up in C (see _FastCheck), and the answers found are counted: each adds
    # one, so an unknown key or an explicit None leaves the count short. Anything else goes
    # the slow way, which names every problem.
    fast = _fast_check(pack)
    try:
        clean = dict(answers)
        problems: list[str] = []
        texts = 0
        pending = fast.special
        if fast.multiples:
            # Every multiple-choice question answered with a list of distinct options in option
            # order (as the app stores them): checked and kept in C.
            try:
                values = fast.fetch_multiples(clean)
                if tuple(map(type, values)) == fast.multiple_types:
                    normal = list(map(dict.get, fast.canonical, map(tuple, values)))
                    if normal.count(None) == 0:
                        clean.update(zip(fast.multiples, normal))
                        pending = fast.texts
            except KeyError:  # one is unanswered: one by one
                pass
        for entry in pending:
            qid = entry[0]
            value = clean.get(qid)
            if value is None:
                continue
            kind = entry[1]
            # The common answers inline: a list of distinct options, a clean short text.
            if kind == _MULTIPLE:
                if value.__class__ is list:
                    chosen = frozenset(value)
                    if len(chosen) == len(value):
                        selections = entry[4]
                        if selections is not None:
                            normal = selections.get(chosen)
                            if normal is not None:
                                clean[qid] = normal
                                continue
                        elif chosen <= entry[2]:
                            clean[qid] = tuple(sorted(value, key=entry[3].__getitem__))
                            continue
            else:
                texts += 1
                if value.__class__ is str and len(value) <= entry[2] and not _CONTROL.search(value):
                    if not value.strip():
                        del clean[qid]
                    continue
            value = _check_special(pack, qid, value, entry[1:4], problems)
            if value is None:  # refused (a problem) or no answer (a blank text)
                del clean[qid]
            else:
                clean[qid] = value
        if not problems:
            # Each single-choice answer is checked by its look-up: KeyError when it is not an
            # option. When every question is answered, the points add up (None, no answer,
            # would raise TypeError) and no answer needs counting.
            try:
                choices = fast.fetch(clean)  # KeyError when a choice question has no key
                points: list[Any] = list(map(dict.__getitem__, fast.tables, choices))
                sum(points)
                gaps: list[int] = []
            except (KeyError, TypeError):
                choices = list(map(clean.get, fast.choices))  # None when absent
                points = list(map(dict.__getitem__, fast.tables, choices))
                gaps = _gaps(points)
            if len(choices) - len(gaps) + texts == len(answers):
                return clean, (points, gaps)
    except (KeyError, TypeError):  # not an option, or an unhashable answer (a list)
        pass
    return _check_answers_slowly(pack, answers), None


def _points_values(fast: _FastCheck, given: Mapping[str, Any]) -> tuple[list[int | None], list[int]]:
    """The points vector's values of checked answers and its gaps (the answer check's slow
    path)."""
    values: list[Any] = list(map(dict.__getitem__, fast.tables, map(given.get, fast.choices)))
    return values, _gaps(values)


def _gaps(values: list[Any]) -> list[int]:
    """The positions of None (unanswered) in a points vector, in C."""
    return list(compress(count(), map(is_, values, repeat(None))))


def _check_special(pack: ResolvedPack, qid: str, value: Any, entry: tuple[int, Any, Any],
                   problems: list[str]) -> Any:
    """One multiple-choice or free-text answer: the value to keep, or None (no answer, or a
    problem appended to `problems`)."""
    kind, allowed, order = entry
    if value is None:
        return None
    if kind == _MULTIPLE:
        if value.__class__ is list or value.__class__ is tuple:
            # The common case in C: distinct, known options.
            try:
                selected = set(value)
            except TypeError:
                selected = None
            if selected is not None and len(selected) == len(value) and selected <= allowed:
                return tuple(sorted(value, key=order.__getitem__)) if len(value) > 1 else tuple(value)
        if not isinstance(value, (list, tuple)):
            problems.append(f"{qid}: expected a list of option values (multiple choice); got {value!r}")
            return None
        ok = True
        seen: set[str] = set()
        for v in value:
            if not isinstance(v, str) or v not in allowed:
                problems.append(f"{qid}: {v!r} is not an option (options: {_options_text(pack, qid)})")
                ok = False
            elif v in seen:
                problems.append(f"{qid}: {v!r} is selected twice")
                ok = False
            else:
                seen.add(v)
        return tuple(sorted(value, key=order.__getitem__)) if ok else None
    if not isinstance(value, str):
        problems.append(f"{qid}: expected text; got {value!r}")
        return None
    if not value.strip():
        return None
    if len(value) > allowed:
        problems.append(f"{qid}: the text has {len(value)} characters; the limit is {allowed}")
        return None
    bad = _CONTROL.search(value)
    if bad:
        problems.append(f"{qid}: the text holds the character U+{ord(bad.group()):04X} at "
                        f"position {bad.start() + 1}, which cannot be stored; use plain text")
        return None
    return value


def _check_answers_slowly(pack: ResolvedPack, answers: Mapping[str, Any]) -> dict[str, Any]:
    # One answer at a time, in the caller's order, naming every problem.
    spec = _answer_spec(pack)
    clean: dict[str, Any] = {}
    problems: list[str] = []
    for qid, value in answers.items():
        entry = spec.get(qid)
        if entry is None:
            problems.append(f"unknown question {qid!r}")
            continue
        if value is None:
            continue
        if entry[0] == _SINGLE:
            if isinstance(value, str) and value in entry[1]:
                clean[qid] = value
            else:
                problems.append(f"{qid}: {value!r} is not an option (options: {_options_text(pack, qid)})")
            continue
        checked = _check_special(pack, qid, value, entry, problems)
        if checked is not None:
            clean[qid] = checked
    if problems:
        raise InvalidAnswersError(
            f"invalid answers for pack {pack.key}: " + "; ".join(problems), problems, pack=pack.key
        )
    return clean


class _Answers(dict[str, Any]):
    """The engine's answers; `memo` caches points totals once the answers are final. (No
    `__init__` of its own: dict's, in C, and `memo` set by the creator.)"""

    __slots__ = ("memo",)
    memo: dict[str, Any] | None


def _effective(pack: ResolvedPack, given: Mapping[str, Any],
               points: tuple[list[Any], list[int]] | None = None) -> tuple[_Answers, list[str], list[str], list[str]]:
    """The answers the conditions see (questions that do not apply marked NOT_APPLICABLE), and
    the applicable, unanswered (required) and ignored question ids, in pack order. `points`:
    the points vector's values and gaps when the answer check computed them (the list is
    used)."""
    plan = _plan(pack)
    effective = _Answers(given)
    effective.memo = None
    not_applicable: list[str] = []
    # Only questions with an applies_when can drop out; they are visited in pack order, and a
    # condition refers only to questions before its own, so answers to later questions already
    # in `effective` cannot change it.
    for qid, applies in plan.conditional_questions:
        if applies(effective, None) is False:
            # A question that does not apply will never be answered: conditions on it are
            # false rather than unknown (so nothing stays required because of it).
            effective[qid] = NOT_APPLICABLE
            not_applicable.append(qid)
    if not_applicable:
        dropped = set(not_applicable)
        applicable = [q for q in plan.question_ids if q not in dropped]
        ignored = [q for q in not_applicable if q in given]
    else:
        applicable = list(plan.question_ids)
        ignored = []
    # Every question has a key in `effective` (an answer or NOT_APPLICABLE): nothing is missing.
    missing = () if len(effective) == len(plan.question_ids) else plan.required_set.difference(effective)
    unanswered = sorted(missing, key=plan.question_order.__getitem__) if missing else []
    effective.memo = {}
    if plan.points_questions is not None:
        # The points of every question, once: each points condition then only adds them up.
        fast = _fast_check(pack)
        values, gaps = points if points is not None else _points_values(fast, given)
        position = fast.position
        if not_applicable:
            for qid in not_applicable:
                if qid in position:
                    values[position[qid]] = 0
            gaps = [i for i in gaps if values[i] is None]
        effective.memo[POINTS_VECTOR] = PointsVector(values, position)
        _add_up(plan.points_groups, values, gaps, effective.memo)
    return effective, applicable, unanswered, ignored


def classify(pack: ResolvedPack, answers: Mapping[str, Any]) -> Classification:
    """Classify one set of answers (question id -> option value, list of option values for a
    multiple-choice question, or text; None or absent = unanswered)."""
    given, points = _check(pack, answers)
    effective, applicable, unanswered, ignored = _effective(pack, given, points)
    plan = _plan(pack)

    level_rank = plan.default_rank
    fired = []
    stop_rule = None
    for rule, evaluate, stop, rule_rank in plan.rules:
        if evaluate(effective, None) is True:
            if stop:
                stop_rule = rule
                level_rank = rule_rank
                break
            fired.append(rule)
            level_rank = max(level_rank, rule_rank)
    if stop_rule is not None:
        fired = [stop_rule]
        unanswered = []  # a stop rule settles the case: no other answer is needed

    lazy = plan.lazy_inputs
    # The reasons are built when first read: a caller that wants only the level (a re-check
    # of many cases, a portfolio) does not pay for them.
    reasons = LazyList(partial(_reasons, fired, effective, lazy)) if fired else []
    blocking = [
        Finding(b.id, _inputs(b, effective, level_rank, lazy), b.message, b.provenance, b.source, b.layer)
        for b, evaluate in plan.blocking
        if evaluate(effective, level_rank) is True
    ] if plan.blocking else []
    flags = [
        Finding(f.id, _inputs(f, effective, level_rank, lazy), f.message, f.provenance, f.source, f.layer,
                label=f.label)
        for f, evaluate in plan.flags
        if evaluate(effective, level_rank) is True
    ] if plan.flags else []
    if plan.has_dynamic:
        steps, required, recommended = _dynamic_lists(plan, effective, level_rank)
    else:
        static_steps, static_required, static_recommended = plan.static[level_rank]
        steps, required, recommended = list(static_steps), list(static_required), list(static_recommended)
    by_question: Mapping[str, int | None] = {}
    totals: Sequence[PointsTotal] = []
    if plan.points_questions is not None:
        by_question, totals = _points_report(plan, effective)
    level = pack.levels[level_rank]
    return Classification(
        level=level.id,
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
        # `given` is the check's own copy: the result may keep it
        answers=({k: v for k, v in given.items() if k not in ignored} if ignored else given),
        flags=flags,
        points_by_question=by_question,
        points_totals=totals,
        tone=level.tone,
        high_risk=level.high_risk,
        out_of_scope=level.out_of_scope,
        languages=pack.languages,
    )


def _reasons(fired: list[Any], effective: _Answers, lazy: frozenset[str]) -> list[Reason]:
    return [
        Reason(r.id, r.level,
               LazyMapping(partial(r.cond.inputs, effective, None)) if r.id in lazy
               else r.cond.inputs(effective, None),
               r.message, r.provenance, r.source, r.layer)
        for r in fired
    ]


def _inputs(el: Any, effective: _Answers, level_rank: int | None, lazy: frozenset[str]) -> Mapping[str, Any]:
    if el.id in lazy:
        return LazyMapping(partial(el.cond.inputs, effective, level_rank))
    inputs: Mapping[str, Any] = el.cond.inputs(effective, level_rank)
    return inputs


def _totals(plan: _Plan, effective: _Answers) -> list[PointsTotal]:
    totals = []
    for cond, used_by in plan.points_conditions:
        # The rules filled the memo: most totals are looked up, not added up again.
        assert cond.points is not None
        total, lowest, highest = points_memo(effective, cond.points)
        value = True if lowest >= cond.at_least else False if highest < cond.at_least else None
        totals.append(PointsTotal(cond.questions, cond.at_least, total, lowest, highest, value, used_by))
    return totals


def _points_report(plan: _Plan, effective: _Answers) -> tuple[Mapping[str, int | None], Sequence[PointsTotal]]:
    # Both are computed when first read: a caller that wants only the level does not pay for
    # a report over a hundred questions.
    assert plan.points_questions is not None and effective.memo is not None
    by_question = LazyMapping(partial(plan.points_questions.by_question, effective))
    return by_question, LazyList(partial(_totals, plan, effective))


# -- consistency ---------------------------------------------------------------------------------


def check_item_statuses(pack: ResolvedPack, item_statuses: Any) -> dict[str, str]:
    """Validate checklist statuses (item id -> met | not_met | not_applicable | pending)."""
    if item_statuses is None:
        return {}
    if not isinstance(item_statuses, Mapping):
        raise InvalidAnswersError(
            f"item statuses must be an object mapping item ids to statuses; got {type(item_statuses).__name__}",
            [f"not an object: {type(item_statuses).__name__}"], pack=pack.key,
        )
    items = {i.id for i in pack.items}
    problems = []
    clean: dict[str, str] = {}
    for item_id, status in item_statuses.items():
        if item_id not in items:
            problems.append(f"unknown checklist item {item_id!r}")
        elif status is None:
            continue
        elif status not in ITEM_STATUSES:
            problems.append(f"{item_id}: {status!r} is not a status (statuses: {', '.join(ITEM_STATUSES)})")
        else:
            clean[item_id] = status
    if problems:
        raise InvalidAnswersError(
            f"invalid item statuses for pack {pack.key}: " + "; ".join(problems), problems, pack=pack.key
        )
    return clean


def check_consistency(pack: ResolvedPack, answers: Mapping[str, Any],
                      item_statuses: Mapping[str, str] | None = None) -> list[Finding]:
    """The consistency rules that are true for these answers and checklist statuses (an item
    without a recorded status is `pending`), as findings in pack order: warnings for planner
    and reviewer. Raises InvalidAnswersError for bad answers or statuses."""
    if not pack.consistency:
        check_answers(pack, answers)
        check_item_statuses(pack, item_statuses)
        return []
    statuses = check_item_statuses(pack, item_statuses)
    result = classify(pack, answers)
    given = check_answers(pack, answers)
    effective, _, _, _ = _effective(pack, given)
    # Item ids and question ids share the pack's one namespace: one mapping holds both.
    effective.update(statuses)
    level_rank = pack.level_rank(result.level)
    lazy = _plan(pack).lazy_inputs
    return [
        Finding(c.id, _inputs(c, effective, level_rank, lazy), c.message, c.provenance, c.source, c.layer)
        for c in pack.consistency
        if _compiled(c.cond).evaluate(effective, level_rank) is True
    ]


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
    #: question ids in pack order; the required ones; (id, applies_when evaluator) of those
    #: that have one, in pack order
    question_ids: tuple[str, ...] = ()
    required_set: frozenset[str] = frozenset()
    question_order: dict[str, int] = field(default_factory=dict)
    conditional_questions: tuple[tuple[str, Any], ...] = ()
    #: every question with points, in pack order (None when the pack has no points)
    points_questions: PointsGroup | None = None
    #: (one points_at_least condition per distinct (questions, at_least), ids using it)
    points_conditions: tuple[tuple[Cond, tuple[str, ...]], ...] = ()
    #: ids of the rules, findings and flags whose inputs are computed when first read (their
    #: conditions add points up)
    lazy_inputs: frozenset[str] = frozenset()
    #: the distinct question lists of the points conditions, each as (memo key, slice start and
    #: stop in the points vector or None, indices in it, what each question can still add while
    #: unanswered: lowest, highest): their ranges are added up once per classification
    points_groups: tuple[tuple[int, int | None, int, tuple[int, ...], tuple[int, ...], tuple[int, ...]], ...] = ()
    #: the rank of `default_level`; (rule, its condition's evaluator, stop, the rank of its level)
    #: in pack order; (finding, evaluator) of the blocking findings and of the flags
    default_rank: int = 0
    rules: tuple[tuple[Any, Evaluator, bool, int], ...] = ()
    blocking: tuple[tuple[Any, Evaluator], ...] = ()
    flags: tuple[tuple[Any, Evaluator], ...] = ()


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
        points_questions = None
        if any(q.has_points for q in pack.questions):
            points_questions = PointsGroup(tuple(
                (q.id, {o.value: o.points or 0 for o in q.options}, 0, 0, q.multiple)
                for q in pack.questions if q.has_points
            ))
        elements: tuple[Rule | BlockingFinding | Flag | ConsistencyRule, ...] = (
            *pack.rules, *pack.blocking, *pack.flags, *pack.consistency)
        plan = _Plan(tuple(static), dynamic, tuple(dyn_steps), tuple(dyn_items),
                     tuple(q.id for q in pack.questions), frozenset(q.id for q in pack.questions if q.required),
                     {q.id: i for i, q in enumerate(pack.questions)},
                     tuple((q.id, q.applies.evaluate) for q in pack.questions if q.applies is not None),
                     points_questions, _points_conditions(pack),
                     frozenset(el.id for el in elements
                               if any(c.kind == "points_at_least" for c in _walk(el.cond))),
                     _points_groups(pack),
                     pack.level_rank(pack.default_level),
                     tuple((r, _compiled(r.cond).evaluate, r.stop, pack.level_rank(r.level))
                           for r in pack.rules),
                     tuple((b, _compiled(b.cond).evaluate) for b in pack.blocking),
                     tuple((f, _compiled(f.cond).evaluate) for f in pack.flags))
        object.__setattr__(pack, "_engine_plan", plan)
    return plan


def _compiled(cond: Cond | None) -> Cond:
    """The compiled condition of a loaded pack's element (the loader compiles every `when`)."""
    return cast(Cond, cond)


def _walk(cond: Cond | None) -> Iterator[Cond]:
    if cond is None:
        return
    yield cond
    for child in cond.children:
        yield from _walk(child)


def _points_groups(pack: ResolvedPack) -> tuple[tuple[int, int | None, int, tuple[int, ...],
                                                      tuple[int, ...], tuple[int, ...]], ...]:
    """The distinct question lists of the pack's points conditions, laid out on the points
    vector (see _Plan.points_groups)."""
    position = _fast_check(pack).position
    groups: dict[int, tuple[int, int | None, int, tuple[int, ...], tuple[int, ...], tuple[int, ...]]] = {}
    for cond, _used_by in _points_conditions(pack):
        group = cond.points
        assert group is not None
        if group.memo_key in groups:
            continue
        indices = tuple(position[q] for q in group.key)
        start, stop = indices[0], indices[0] + len(indices)
        contiguous = indices == tuple(range(start, stop))
        groups[group.memo_key] = (group.memo_key, start if contiguous else None, stop, indices,
                                  group.lows, group.highs)
    return tuple(groups.values())


def _add_up(groups: Any, values: list[Any], gaps: list[int], memo: dict[Any, Any]) -> None:
    """Every points group's (total, lowest, highest) into the memo, as
    `PointsGroup.range_of` computes it, in one loop over the pack's groups. `gaps`: the
    positions of the unanswered questions (None) in `values`."""
    size = len(values)
    for key, start, stop, indices, lows, highs in groups:
        if start is None:
            part = list(map(values.__getitem__, indices))
            # positions in the group of its unanswered questions
            inside = list(compress(count(), map(is_, part, repeat(None)))) if gaps else ()
        else:
            part = values if start == 0 and stop == size else values[start:stop]
            inside = [i - start for i in gaps if start <= i < stop] if gaps else ()
        if not inside:
            total = sum(part)
            memo[key] = (total, total, total)
        else:
            total = sum(filter(None, part))  # None (and 0) left out
            memo[key] = (total, total + sum(map(lows.__getitem__, inside)),
                         total + sum(map(highs.__getitem__, inside)))


def _points_conditions(pack: ResolvedPack) -> tuple[tuple[Cond, tuple[str, ...]], ...]:
    """Every distinct points_at_least condition of the pack with the ids of the elements using it."""
    found: dict[tuple[tuple[str, ...], int], tuple[Cond, list[str]]] = {}
    conds: list[tuple[str, Cond | None]] = []
    conds += [(q.id, q.applies) for q in pack.questions]
    conds += [(r.id, r.cond) for r in pack.rules]
    conds += [(b.id, b.cond) for b in pack.blocking]
    conds += [(f.id, f.cond) for f in pack.flags]
    conds += [(c.id, c.cond) for c in pack.consistency]
    conds += [(s.id, s.applies) for s in pack.steps]
    for it in pack.items:
        conds += [(it.id, it.required_cond), (it.id, it.recommended_cond)]
    for el_id, cond in conds:
        for c in _walk(cond):
            if c.kind == "points_at_least":
                key = (c.questions, c.at_least)
                entry = found.setdefault(key, (c, []))
                if el_id not in entry[1]:
                    entry[1].append(el_id)
    return tuple((c, tuple(ids)) for c, ids in found.values())


def _dynamic_lists(plan: _Plan, answers: dict[str, str], rank: int) -> tuple[list[str], list[str], list[str]]:
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


def _dynamic_lists_raw(
    steps: Sequence[tuple[str, Cond | None]],
    items: Sequence[tuple[str, Cond | None, Cond | None]],
    answers: Mapping[str, Any], rank: int,
) -> tuple[list[str], list[str], list[str]]:
    out_steps = [sid for sid, cond in steps if cond is None or cond.evaluate(answers, rank) is not False]
    required: list[str] = []
    recommended: list[str] = []
    for iid, rq, rc in items:
        if rq is not None and rq.evaluate(answers, rank) is not False:
            required.append(iid)
        elif rc is not None and rc.evaluate(answers, rank) is True:
            recommended.append(iid)
    return out_steps, required, recommended
