"""The closed vocabulary of conditions a rule pack may use, registered in this one module.

A condition in YAML is a mapping with exactly one key, the condition type, e.g.
`{answer_equals: {question: SC-1, value: "no"}}`. At load time each condition is compiled into a
`Cond` node holding a closure `evaluate(answers, level_rank)`; nothing from the data is ever
evaluated as code. Evaluation is three-valued: True, False, or None (unknown: it depends on a
question that has not been answered yet).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import is_
from typing import Any, cast

#: The engine's value for a question that does not apply: it will never be answered, so a
#: condition on it is false, not unknown. Never a valid answer (option values are non-empty ids,
#: a multiple-choice answer is a tuple, an empty free text is no answer).
NOT_APPLICABLE = ""

#: Checklist item statuses, as recorded for a case (`item_status_in`); no record = `pending`.
ITEM_STATUSES: tuple[str, ...] = ("met", "not_met", "not_applicable", "pending")

#: True, False, or None for "unknown".
Truth = bool | None
#: Answers as the engine holds them: question id -> option value (single choice), a tuple of
#: option values (multiple choice), the text (free text) or NOT_APPLICABLE; in consistency rules
#: also checklist item id -> status.
Answers = Mapping[str, Any]
Evaluator = Callable[[Answers, int | None], Truth]


def is_answered(value: Any) -> bool:
    """An engine value that is an answer (not missing, not NOT_APPLICABLE); `()` is an answer."""
    return value is not None and value != NOT_APPLICABLE


@dataclass(frozen=True, slots=True)
class QInfo:
    """What a condition needs to know about a question it refers to."""

    #: option values in pack order (empty for a free-text question)
    options: tuple[str, ...] = ()
    multiple: bool = False
    text: bool = False
    #: option value -> points, for the options that carry points
    points: Mapping[str, int] = field(default_factory=dict)

    @property
    def option_set(self) -> frozenset[str]:
        return frozenset(self.options)

    def points_bounds(self) -> tuple[int, int]:
        """(lowest, highest) points this question can still add while unanswered: an unanswered
        question may stay so or not apply (0), or get any answer."""
        if not self.points:
            return 0, 0
        if self.multiple:
            return 0, sum(p for p in self.points.values() if p > 0)
        values = [self.points.get(o, 0) for o in self.options]
        return min(0, *values), max(0, *values)


@dataclass(slots=True)
class Cond:
    """A compiled condition: the closure, its declarative form and what it refers to."""

    kind: str
    raw: Any
    evaluate: Evaluator
    questions: tuple[str, ...] = ()
    children: tuple[Cond, ...] = ()
    values: frozenset[str] = frozenset()
    #: checklist items read (item_status_in)
    items: tuple[str, ...] = ()
    #: points_at_least: the question list's points (totals, ranges, contributing answers)
    points: PointsGroup | None = None
    at_least: int = 0

    def inputs(self, answers: Answers, level_rank: int | None) -> dict[str, Any]:
        """The answers (and item statuses) that made this condition true, for explanations."""
        out: dict[str, Any] = {}
        if self.kind in ("all", "not"):
            for child in self.children:
                out.update(child.inputs(answers, level_rank))
        elif self.kind == "any":
            for child in self.children:
                if child.evaluate(answers, level_rank) is True:
                    out.update(child.inputs(answers, level_rank))
        elif self.kind == "count_in":
            for q in self.questions:
                v = answers.get(q)
                if isinstance(v, tuple):
                    if any(x in self.values for x in v):
                        out[q] = v
                elif v in self.values:
                    out[q] = v
        elif self.kind == "points_at_least":
            assert self.points is not None
            out.update(points_inputs(answers, self.points))
        elif self.kind == "item_status_in":
            for item in self.items:
                out[item] = answers.get(item) or "pending"
        else:
            for q in self.questions:
                v = answers.get(q)
                if is_answered(v):
                    out[q] = v
        return out


@dataclass
class CompileContext:
    """What a condition may refer to where it stands, and where errors are collected."""

    #: question id -> what conditions need of it (only the questions this condition may refer to)
    questions: Mapping[str, QInfo]
    #: level id -> rank (low to high)
    levels: Mapping[str, int]
    #: level conditions are valid only where the level is known (steps, items, blocking
    #: findings, flags, consistency rules)
    allow_level: bool
    #: where the condition stands, to say so in errors (e.g. "applies_when of question SC-2")
    where: str = ""
    #: every question id of the pack, to tell "unknown" from "not allowed here"
    all_questions: frozenset[str] = frozenset()
    #: item conditions are valid only in consistency rules
    allow_items: bool = False
    #: every checklist item id of the pack
    items: frozenset[str] = frozenset()
    errors: list[tuple[tuple[Any, ...], str]] = field(default_factory=list)

    def error(self, path: tuple[Any, ...], message: str) -> None:
        self.errors.append((path, message))


@dataclass(frozen=True)
class ConditionType:
    """One registered condition type."""

    name: str
    doc: str
    needs_level: bool
    params_schema: dict[str, Any]
    compiler: Callable[[Any, CompileContext, tuple[Any, ...]], Cond | None]
    needs_items: bool = False


#: The registry: condition type name -> ConditionType. Docs and schema are generated from it.
CONDITIONS: dict[str, ConditionType] = {}


Compiler = Callable[[Any, "CompileContext", tuple[Any, ...]], "Cond | None"]


def _register(name: str, params_schema: dict[str, Any], needs_level: bool = False,
              needs_items: bool = False) -> Callable[[Compiler], Compiler]:
    def deco(fn: Compiler) -> Compiler:
        doc = (fn.__doc__ or "").strip().splitlines()[0]
        CONDITIONS[name] = ConditionType(name, doc, needs_level, params_schema, fn, needs_items)
        return fn

    return deco


def compile_condition(raw: Any, ctx: CompileContext, path: tuple[Any, ...] = ()) -> Cond | None:
    """Compile one declarative condition; on error record it in `ctx` and return None."""
    if not isinstance(raw, Mapping) or len(raw) != 1:
        ctx.error(
            path,
            "a condition is a mapping with exactly one key, the condition type "
            f"(one of: {', '.join(sorted(CONDITIONS))}); got {_show(raw)}",
        )
        return None
    (name, params), = raw.items()
    ctype = CONDITIONS.get(name)
    if ctype is None:
        ctx.error(path, f"unknown condition type {name!r} (known: {', '.join(sorted(CONDITIONS))})")
        return None
    if ctype.needs_level and not ctx.allow_level:
        ctx.error(
            path + (name,),
            f"condition {name!r} needs the classification level, which is not known in "
            f"{ctx.where or 'this place'} (level conditions are allowed in steps, checklist "
            "items, blocking findings, flags and consistency rules)",
        )
        return None
    if ctype.needs_items and not ctx.allow_items:
        ctx.error(
            path + (name,),
            f"condition {name!r} reads checklist item statuses, which are known only in "
            f"consistency rules (not in {ctx.where or 'this place'})",
        )
        return None
    cond = ctype.compiler(params, ctx, path + (name,))
    if cond is not None:
        cond.raw = {name: params}
    return cond


# -- helpers -----------------------------------------------------------------------------------


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _params(params: Any, ctx: CompileContext, path: tuple[Any, ...], keys: dict[str, type]) -> dict[str, Any] | None:
    if not isinstance(params, Mapping):
        ctx.error(path, f"expected a mapping with keys {', '.join(keys)}; got {_show(params)}")
        return None
    ok = True
    for key in params:
        if key not in keys:
            ctx.error(path + (key,), f"unknown key {key!r} (allowed: {', '.join(keys)})")
            ok = False
    for key, typ in keys.items():
        if key not in params:
            ctx.error(path, f"missing key {key!r}")
            ok = False
        elif typ is int and (isinstance(params[key], bool) or not isinstance(params[key], int)):
            ctx.error(path + (key,), f"expected an integer; got {_show(params[key])}")
            ok = False
        elif typ is str and not isinstance(params[key], str):
            ctx.error(path + (key,), f"expected a string; got {_show(params[key])}")
            ok = False
        elif typ is list and (
            not isinstance(params[key], list)
            or not params[key]
            or not all(isinstance(v, str) for v in params[key])
        ):
            ctx.error(path + (key,), f"expected a non-empty list of strings; got {_show(params[key])}")
            ok = False
    return dict(params) if ok else None


def _question(qid: str, ctx: CompileContext, path: tuple[Any, ...], *, condition: str) -> QInfo | None:
    """The question a condition refers to, or None (error recorded). Free-text questions can
    only be tested with `answered`."""
    info = ctx.questions.get(qid)
    if info is None:
        if qid in ctx.all_questions:
            ctx.error(
                path,
                f"question {qid!r} cannot be used in {ctx.where or 'this place'} "
                "(an applies_when may only refer to questions declared before it)",
            )
        else:
            ctx.error(path, f"unknown question {qid!r}")
        return None
    if info.text and condition != "answered":
        ctx.error(path, f"question {qid!r} is a free-text question: only `answered` applies to it, "
                        f"not {condition!r}")
        return None
    return info


def _option(qid: str, value: str, options: frozenset[str], ctx: CompileContext, path: tuple[Any, ...]) -> bool:
    if value in options:
        return True
    ctx.error(path, f"question {qid!r} has no option {value!r} (options: {', '.join(sorted(options))})")
    return False


def _level(raw: Any, ctx: CompileContext, path: tuple[Any, ...]) -> int | None:
    if not isinstance(raw, str) or raw not in ctx.levels:
        ctx.error(path, f"unknown level {_show(raw)} (levels: {', '.join(ctx.levels)})")
        return None
    return ctx.levels[raw]


def _unique(values: list[str], ctx: CompileContext, path: tuple[Any, ...], what: str) -> bool:
    if len(set(values)) != len(values):
        ctx.error(path, f"{what} is listed twice")
        return False
    return True


# -- the vocabulary ----------------------------------------------------------------------------

_Q = {"type": "string", "description": "question id"}
_V = {"type": "string", "description": "option value"}
_VS = {"type": "array", "items": {"type": "string"}, "minItems": 1}
_LEVEL = {"type": "string", "description": "level id"}


@_register(
    "answer_equals",
    {"type": "object", "properties": {"question": _Q, "value": _V},
     "required": ["question", "value"], "additionalProperties": False},
)
def _answer_equals(params: Any, ctx: CompileContext, path: tuple[Any, ...]) -> Cond | None:
    """True when the question's answer is the given option value (unknown while unanswered)."""
    p = _params(params, ctx, path, {"question": str, "value": str})
    if p is None:
        return None
    info = _question(p["question"], ctx, path + ("question",), condition="answer_equals")
    if info is None:
        return None
    if info.multiple:
        ctx.error(path + ("question",), f"question {p['question']!r} takes several answers "
                                        "(multiple: true): use answer_in, true when any selected value is listed")
        return None
    if not _option(p["question"], p["value"], info.option_set, ctx, path + ("value",)):
        return None
    q, value = p["question"], p["value"]

    def evaluate(answers: Answers, level: int | None, q: str = q, value: str = value) -> Truth:
        v = answers.get(q)
        return None if v is None else v == value

    return Cond("answer_equals", None, evaluate, questions=(q,))


@_register(
    "answer_in",
    {"type": "object", "properties": {"question": _Q, "values": _VS},
     "required": ["question", "values"], "additionalProperties": False},
)
def _answer_in(params: Any, ctx: CompileContext, path: tuple[Any, ...]) -> Cond | None:
    """True when the question's answer is one of the given option values (multiple choice: any selected value is); unknown while unanswered."""
    p = _params(params, ctx, path, {"question": str, "values": list})
    if p is None:
        return None
    info = _question(p["question"], ctx, path + ("question",), condition="answer_in")
    if info is None:
        return None
    options = info.option_set
    ok = all(
        _option(p["question"], v, options, ctx, path + ("values", i)) for i, v in enumerate(p["values"])
    )
    if not ok:
        return None
    q, values = p["question"], frozenset(p["values"])

    if info.multiple:
        def evaluate(answers: Answers, level: int | None, q: str = q, values: frozenset[str] = values) -> Truth:
            v = answers.get(q)
            if v is None:
                return None
            # NOT_APPLICABLE ("") iterates as nothing: false.
            for x in v:
                if x in values:
                    return True
            return False
    else:
        def evaluate(answers: Answers, level: int | None, q: str = q, values: frozenset[str] = values) -> Truth:
            v = answers.get(q)
            return None if v is None else v in values

    return Cond("answer_in", None, evaluate, questions=(q,), values=values)


@_register(
    "answered",
    {"type": "object", "properties": {"question": _Q},
     "required": ["question"], "additionalProperties": False},
)
def _answered(params: Any, ctx: CompileContext, path: tuple[Any, ...]) -> Cond | None:
    """True when the question has an answer, False when it has none (never unknown)."""
    p = _params(params, ctx, path, {"question": str})
    if p is None or _question(p["question"], ctx, path + ("question",), condition="answered") is None:
        return None
    q = p["question"]

    def evaluate(answers: Answers, level: int | None, q: str = q) -> Truth:
        # NOT_APPLICABLE ("") marks a question that does not apply: never answered. An empty
        # multiple-choice answer () is an answer ("none of these").
        v = answers.get(q)
        return v is not None and v != NOT_APPLICABLE

    return Cond("answered", None, evaluate, questions=(q,))


@_register(
    "count_in",
    {"type": "object",
     "properties": {"questions": _VS, "values": _VS, "at_least": {"type": "integer", "minimum": 1}},
     "required": ["questions", "values", "at_least"], "additionalProperties": False},
)
def _count_in(params: Any, ctx: CompileContext, path: tuple[Any, ...]) -> Cond | None:
    """True when at least N of the questions have an answer in the values; unknown while that is still open."""
    p = _params(params, ctx, path, {"questions": list, "values": list, "at_least": int})
    if p is None:
        return None
    ok = True
    known: set[str] = set()
    multi: set[str] = set()
    for i, qid in enumerate(p["questions"]):
        info = _question(qid, ctx, path + ("questions", i), condition="count_in")
        if info is None:
            ok = False
        else:
            known |= info.option_set
            if info.multiple:
                multi.add(qid)
    if not _unique(p["questions"], ctx, path + ("questions",), "a question"):
        ok = False
    if ok:
        for i, v in enumerate(p["values"]):
            if v not in known:
                ctx.error(path + ("values", i), f"{v!r} is not an option of any of the listed questions")
                ok = False
    n = p["at_least"]
    if n < 1 or n > len(p["questions"]):
        ctx.error(path + ("at_least",), f"at_least must be between 1 and {len(p['questions'])}; got {n}")
        ok = False
    if not ok:
        return None
    qs, values = tuple(p["questions"]), frozenset(p["values"])

    evaluate: Evaluator  # one of two closures, typed alike
    if multi:
        multiple = frozenset(multi)

        def evaluate_multiple(answers: Answers, level: int | None, qs: tuple[str, ...] = qs,
                              values: frozenset[str] = values, n: int = n,
                              multiple: frozenset[str] = multiple) -> Truth:
            true = unknown = 0
            for q in qs:
                v = answers.get(q)
                if v is None:
                    unknown += 1
                elif q in multiple:
                    for x in v:
                        if x in values:
                            true += 1
                            break
                elif v in values:
                    true += 1
            if true >= n:
                return True
            if true + unknown < n:
                return False
            return None

        evaluate = evaluate_multiple
    else:
        def evaluate_single(answers: Answers, level: int | None, qs: tuple[str, ...] = qs,
                            values: frozenset[str] = values, n: int = n) -> Truth:
            true = unknown = 0
            for q in qs:
                v = answers.get(q)
                if v is None:
                    unknown += 1
                elif v in values:
                    true += 1
            if true >= n:
                return True
            if true + unknown < n:
                return False
            return None

        evaluate = evaluate_single

    return Cond("count_in", None, evaluate, questions=qs, values=values)


PointsSpec = tuple[tuple[str, Mapping[str, int], int, int, bool], ...]


#: The memo entry holding the points vector of a classification (built by the engine).
POINTS_VECTOR = "points-vector"


@dataclass(slots=True)
class PointsVector:
    """The points of the choice questions in one classification: `values[position[q]]` (None
    while unanswered, 0 when the question does not apply or its options carry no points). The
    engine builds one per classification, with one `position` mapping per pack."""

    values: list[int | None]
    position: Mapping[str, int]


#: question list -> the small int that stands for it in the engine's memo (shared by every
#: condition on the same list, in every pack of the process)
_MEMO_KEYS: dict[tuple[str, ...], int] = {}


class PointsGroup:
    """The points of one list of questions: totals, ranges and contributing answers.

    Built once per condition at load time. Once the engine has computed the points of every
    question of a classification (a PointsVector, kept in the answers' memo), each condition
    adds up its questions with C-level operations over the vector (a slice when its questions
    sit side by side in it, as they do when listed in pack order), so a pack of 100 questions
    and several thresholds stays fast; without that vector (a condition evaluated on its own)
    it adds them up directly.
    """

    __slots__ = ("_layout_cache", "highs", "key", "lows", "memo_key", "spec")

    def __init__(self, spec: PointsSpec) -> None:
        self.spec = spec
        self.key: tuple[str, ...] = tuple(q for q, *_ in spec)
        # A small int standing for the question list in the memo: hashing a tuple of a hundred
        # ids at every look-up would cost more than the look-up saves.
        self.memo_key: int = _MEMO_KEYS.setdefault(self.key, len(_MEMO_KEYS))
        #: what each question (in `key` order) can still add while unanswered
        self.lows: tuple[int, ...] = tuple(lo for _q, _p, lo, _hi, _m in spec)
        self.highs: tuple[int, ...] = tuple(hi for _q, _p, _lo, hi, _m in spec)
        self._layout_cache: tuple[Any, tuple[int, ...], tuple[int, int] | None] = (None, (), None)

    def _layout(self, vector: PointsVector) -> tuple[Any, tuple[int, ...], tuple[int, int] | None]:
        """(the vector's position mapping, this group's indices in it, the slice (start, stop)
        when they are side by side), computed once per mapping and swapped in as one value so
        that threads sharing the group never see half of it."""
        layout = self._layout_cache
        if layout[0] is not vector.position:
            indices = tuple(vector.position[q] for q in self.key)
            run = (indices[0], indices[0] + len(indices))
            layout = (vector.position, indices, run if indices == tuple(range(*run)) else None)
            self._layout_cache = layout
        return layout

    def _values(self, vector: PointsVector) -> list[int | None]:
        """This group's entries of the vector, in `key` order."""
        _position, indices, run = self._layout(vector)
        if run is not None:
            return vector.values[run[0]:run[1]]
        return list(map(vector.values.__getitem__, indices))

    def _vector(self, answers: Answers) -> PointsVector:
        memo = getattr(answers, "memo", None)
        vector = memo.get(POINTS_VECTOR) if memo is not None else None
        return vector if vector is not None else self._direct(answers)

    def range(self, answers: Answers) -> tuple[int, int, int]:
        """(total, lowest, highest): the points of the answers given (a question that does
        not apply adds 0), and the range the total can still reach when the unanswered
        questions are answered (or stay unanswered)."""
        return self.range_of(self._vector(answers))

    def range_of(self, vector: PointsVector) -> tuple[int, int, int]:
        """`range` on a vector already built."""
        values = self._values(vector)
        try:
            # An unanswered question (None) raises the TypeError caught below.
            total = sum(cast("list[int]", values))
            return total, total, total
        except TypeError:  # an unanswered question (None) among them
            pass
        # In C: the answers' points (None and 0 left out), and the bounds of the unanswered.
        unanswered = list(map(is_, values, repeat(None)))
        total = sum(filter(None, values))
        return (total, total + sum(compress(self.lows, unanswered)),
                total + sum(compress(self.highs, unanswered)))

    def _direct(self, answers: Answers) -> PointsVector:
        # Robust against answers the engine did not check (tests evaluating a condition alone).
        get = answers.get
        values: list[int | None] = []
        for _q, pts, _lo, _hi, multiple in self.spec:
            v = get(_q)
            if v is None:
                values.append(None)
            elif multiple:
                values.append(sum(pts.get(x, 0) for x in v))
            else:
                values.append(pts.get(v, 0))
        return PointsVector(values, {q: i for i, q in enumerate(self.key)})

    def by_question(self, answers: Answers) -> dict[str, int | None]:
        """question id -> points of its answer (None while unanswered), in question order;
        questions that do not apply are left out."""
        values = self._values(self._vector(answers))
        return {q: v for q, v in zip(self.key, values) if answers.get(q) != NOT_APPLICABLE}

    def inputs(self, answers: Answers) -> dict[str, Any]:
        """The answers that add points (other than 0), in question order, for explanations."""
        values = self._values(self._vector(answers))
        return {q: answers[q] for q, v in zip(self.key, values) if v}


def _memo(answers: Answers) -> dict[Any, Any] | None:
    # The engine passes answers carrying a `memo` dict once they are final, so that several
    # rules on the same questions (thresholds) add the points up once per classification. The
    # question ids are the key: a question's points are fixed in a pack.
    return getattr(answers, "memo", None)


def points_memo(answers: Answers, group: PointsGroup) -> tuple[int, int, int]:
    memo = _memo(answers)
    if memo is None:
        return group.range(answers)
    found = memo.get(group.memo_key)
    if found is None:
        found = memo[group.memo_key] = group.range(answers)
    return found


def points_inputs(answers: Answers, group: PointsGroup) -> dict[str, Any]:
    memo = _memo(answers)
    if memo is None:
        return group.inputs(answers)
    key = ("inputs", group.memo_key)
    found = memo.get(key)
    if found is None:
        found = memo[key] = group.inputs(answers)
    return dict(found)


@_register(
    "points_at_least",
    {"type": "object",
     "properties": {"questions": _VS, "at_least": {"type": "integer"}},
     "required": ["questions", "at_least"], "additionalProperties": False},
)
def _points_at_least(params: Any, ctx: CompileContext, path: tuple[Any, ...]) -> Cond | None:
    """True when the points of the questions' answers add up to at least N; False when even the best answers to the unanswered ones cannot reach N; else unknown."""
    p = _params(params, ctx, path, {"questions": list, "at_least": int})
    if p is None:
        return None
    ok = _unique(p["questions"], ctx, path + ("questions",), "a question")
    spec = []
    for i, qid in enumerate(p["questions"]):
        info = _question(qid, ctx, path + ("questions", i), condition="points_at_least")
        if info is None:
            ok = False
            continue
        if not info.points:
            ctx.error(path + ("questions", i), f"question {qid!r} has no option with points")
            ok = False
            continue
        lo, hi = info.points_bounds()
        # every option, 0 for those without points: the look-up table then never misses
        spec.append((qid, {o: info.points.get(o, 0) for o in info.options}, lo, hi, info.multiple))
    if not ok:
        return None
    n = p["at_least"]
    low = sum(s[2] for s in spec)
    high = sum(s[3] for s in spec)
    if n > high:
        ctx.error(path + ("at_least",), f"at_least {n} can never be reached: the listed questions give at most {high} points")
        return None
    if n <= low:
        ctx.error(path + ("at_least",), f"at_least {n} is always reached: the listed questions give at least {low} points")
        return None
    group = PointsGroup(tuple(spec))

    def evaluate(answers: Answers, level: int | None, group: PointsGroup = group, n: int = n,
                 key: int = group.memo_key) -> Truth:
        # points_memo inlined: this runs for every points rule of every classification
        memo = getattr(answers, "memo", None)
        if memo is None:
            found = group.range(answers)
        else:
            found = memo.get(key)
            if found is None:
                vector = memo.get(POINTS_VECTOR)
                found = memo[key] = (group.range(answers) if vector is None
                                     else group.range_of(vector))
        if found[1] >= n:
            return True
        if found[2] < n:
            return False
        return None

    return Cond("points_at_least", None, evaluate, questions=group.key, points=group, at_least=n)


@_register(
    "item_status_in",
    {"type": "object",
     "properties": {"item": {"type": "string", "description": "checklist item id"},
                    "statuses": {"type": "array", "items": {"enum": list(ITEM_STATUSES)}, "minItems": 1}},
     "required": ["item", "statuses"], "additionalProperties": False},
    needs_level=False, needs_items=True,
)
def _item_status_in(params: Any, ctx: CompileContext, path: tuple[Any, ...]) -> Cond | None:
    """True when the checklist item's recorded status is one of the statuses (no record counts as pending; consistency rules only)."""
    p = _params(params, ctx, path, {"item": str, "statuses": list})
    if p is None:
        return None
    item = p["item"]
    ok = True
    if item not in ctx.items:
        ctx.error(path + ("item",), f"unknown checklist item {item!r}")
        ok = False
    for i, st in enumerate(p["statuses"]):
        if st not in ITEM_STATUSES:
            ctx.error(path + ("statuses", i), f"unknown status {st!r} (statuses: {', '.join(ITEM_STATUSES)})")
            ok = False
    if not _unique(p["statuses"], ctx, path + ("statuses",), "a status"):
        ok = False
    if not ok:
        return None
    statuses = frozenset(p["statuses"])

    def evaluate(answers: Answers, level: int | None, item: str = item, statuses: frozenset[str] = statuses) -> Truth:
        return (answers.get(item) or "pending") in statuses

    return Cond("item_status_in", None, evaluate, items=(item,), values=statuses)


def _children(params: Any, ctx: CompileContext, path: tuple[Any, ...], name: str) -> list[Cond] | None:
    if not isinstance(params, list) or not params:
        ctx.error(path, f"{name!r} takes a non-empty list of conditions; got {_show(params)}")
        return None
    children = [compile_condition(c, ctx, path + (i,)) for i, c in enumerate(params)]
    return None if any(c is None for c in children) else cast("list[Cond]", children)


@_register("all", {"type": "array", "items": {"$ref": "#/$defs/Condition"}, "minItems": 1})
def _all(params: Any, ctx: CompileContext, path: tuple[Any, ...]) -> Cond | None:
    """True when every listed condition is true; False when one is false; else unknown (Kleene and)."""
    children = _children(params, ctx, path, "all")
    if children is None:
        return None
    fns = tuple(c.evaluate for c in children)

    def evaluate(answers: Answers, level: int | None, fns: tuple[Evaluator, ...] = fns) -> Truth:
        result: Truth = True
        for fn in fns:
            v = fn(answers, level)
            if v is False:
                return False
            if v is None:
                result = None
        return result

    return Cond("all", None, evaluate, children=tuple(children))


@_register("any", {"type": "array", "items": {"$ref": "#/$defs/Condition"}, "minItems": 1})
def _any(params: Any, ctx: CompileContext, path: tuple[Any, ...]) -> Cond | None:
    """True when one listed condition is true; False when all are false; else unknown (Kleene or)."""
    children = _children(params, ctx, path, "any")
    if children is None:
        return None
    fns = tuple(c.evaluate for c in children)

    def evaluate(answers: Answers, level: int | None, fns: tuple[Evaluator, ...] = fns) -> Truth:
        result: Truth = False
        for fn in fns:
            v = fn(answers, level)
            if v is True:
                return True
            if v is None:
                result = None
        return result

    return Cond("any", None, evaluate, children=tuple(children))


@_register("not", {"$ref": "#/$defs/Condition"})
def _not(params: Any, ctx: CompileContext, path: tuple[Any, ...]) -> Cond | None:
    """True when the condition is false, False when it is true; unknown stays unknown."""
    child = compile_condition(params, ctx, path)
    if child is None:
        return None
    fn = child.evaluate

    def evaluate(answers: Answers, level: int | None, fn: Evaluator = fn) -> Truth:
        v = fn(answers, level)
        return None if v is None else not v

    return Cond("not", None, evaluate, children=(child,))


@_register("level_at_least", _LEVEL, needs_level=True)
def _level_at_least(params: Any, ctx: CompileContext, path: tuple[Any, ...]) -> Cond | None:
    """True when the classification level is the given level or higher (steps, items, blocking only)."""
    rank = _level(params, ctx, path)
    if rank is None:
        return None

    def evaluate(answers: Answers, level: int | None, rank: int = rank) -> Truth:
        return None if level is None else level >= rank

    return Cond("level_at_least", None, evaluate)


@_register("level_is", _LEVEL, needs_level=True)
def _level_is(params: Any, ctx: CompileContext, path: tuple[Any, ...]) -> Cond | None:
    """True when the classification level is exactly the given level (steps, items, blocking only)."""
    rank = _level(params, ctx, path)
    if rank is None:
        return None

    def evaluate(answers: Answers, level: int | None, rank: int = rank) -> Truth:
        return None if level is None else level == rank

    return Cond("level_is", None, evaluate)


def condition_json_schema() -> dict[str, Any]:
    """The JSON Schema of a condition, generated from the registry."""
    return {
        "description": "A condition: a mapping with exactly one key, the condition type.",
        "oneOf": [
            {
                "type": "object",
                "description": ct.doc,
                "properties": {ct.name: ct.params_schema},
                "required": [ct.name],
                "additionalProperties": False,
            }
            for ct in CONDITIONS.values()
        ],
    }
