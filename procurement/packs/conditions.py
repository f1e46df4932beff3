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
from typing import Any

#: The engine's value for a question that does not apply: it will never be answered, so a
#: condition on it is false, not unknown. Never a valid option value (ids are non-empty).
NOT_APPLICABLE = ""

#: True, False, or None for "unknown".
Truth = bool | None
Evaluator = Callable[[Mapping[str, str], int | None], Truth]


@dataclass(slots=True)
class Cond:
    """A compiled condition: the closure, its declarative form and what it refers to."""

    kind: str
    raw: Any
    evaluate: Evaluator
    questions: tuple[str, ...] = ()
    children: tuple[Cond, ...] = ()
    values: frozenset[str] = frozenset()

    def inputs(self, answers: Mapping[str, str], level_rank: int | None) -> dict[str, str]:
        """The answers that made this condition true (for explaining a fired rule)."""
        out: dict[str, str] = {}
        if self.kind in ("all", "not"):
            for child in self.children:
                out.update(child.inputs(answers, level_rank))
        elif self.kind == "any":
            for child in self.children:
                if child.evaluate(answers, level_rank) is True:
                    out.update(child.inputs(answers, level_rank))
        elif self.kind == "count_in":
            for q in self.questions:
                if answers.get(q) in self.values:
                    out[q] = answers[q]
        else:
            for q in self.questions:
                if answers.get(q):
                    out[q] = answers[q]
        return out


@dataclass
class CompileContext:
    """What a condition may refer to where it stands, and where errors are collected."""

    #: question id -> its option values (only the questions this condition may refer to)
    questions: Mapping[str, frozenset[str]]
    #: level id -> rank (low to high)
    levels: Mapping[str, int]
    #: level conditions are valid only where the level is known (steps, items, blocking findings)
    allow_level: bool
    #: where the condition stands, to say so in errors (e.g. "applies_when of question SC-2")
    where: str = ""
    #: every question id of the pack, to tell "unknown" from "not allowed here"
    all_questions: frozenset[str] = frozenset()
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


#: The registry: condition type name -> ConditionType. Docs and schema are generated from it.
CONDITIONS: dict[str, ConditionType] = {}


def _register(name: str, params_schema: dict[str, Any], needs_level: bool = False):
    def deco(fn):
        doc = (fn.__doc__ or "").strip().splitlines()[0]
        CONDITIONS[name] = ConditionType(name, doc, needs_level, params_schema, fn)
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
            "items and blocking findings)",
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


def _params(params: Any, ctx: CompileContext, path, keys: dict[str, type]) -> dict | None:
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


def _question(qid: str, ctx: CompileContext, path) -> frozenset[str] | None:
    if qid in ctx.questions:
        return ctx.questions[qid]
    if qid in ctx.all_questions:
        ctx.error(
            path,
            f"question {qid!r} cannot be used in {ctx.where or 'this place'} "
            "(an applies_when may only refer to questions declared before it)",
        )
    else:
        ctx.error(path, f"unknown question {qid!r}")
    return None


def _option(qid: str, value: str, options: frozenset[str], ctx: CompileContext, path) -> bool:
    if value in options:
        return True
    ctx.error(path, f"question {qid!r} has no option {value!r} (options: {', '.join(sorted(options))})")
    return False


def _level(raw: Any, ctx: CompileContext, path) -> int | None:
    if not isinstance(raw, str) or raw not in ctx.levels:
        ctx.error(path, f"unknown level {_show(raw)} (levels: {', '.join(ctx.levels)})")
        return None
    return ctx.levels[raw]


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
def _answer_equals(params, ctx, path):
    """True when the question's answer is the given option value (unknown while unanswered)."""
    p = _params(params, ctx, path, {"question": str, "value": str})
    if p is None:
        return None
    options = _question(p["question"], ctx, path + ("question",))
    if options is None or not _option(p["question"], p["value"], options, ctx, path + ("value",)):
        return None
    q, value = p["question"], p["value"]

    def evaluate(answers, level, q=q, value=value):
        v = answers.get(q)
        return None if v is None else v == value

    return Cond("answer_equals", None, evaluate, questions=(q,))


@_register(
    "answer_in",
    {"type": "object", "properties": {"question": _Q, "values": _VS},
     "required": ["question", "values"], "additionalProperties": False},
)
def _answer_in(params, ctx, path):
    """True when the question's answer is one of the given option values (unknown while unanswered)."""
    p = _params(params, ctx, path, {"question": str, "values": list})
    if p is None:
        return None
    options = _question(p["question"], ctx, path + ("question",))
    if options is None:
        return None
    ok = all(
        _option(p["question"], v, options, ctx, path + ("values", i)) for i, v in enumerate(p["values"])
    )
    if not ok:
        return None
    q, values = p["question"], frozenset(p["values"])

    def evaluate(answers, level, q=q, values=values):
        v = answers.get(q)
        return None if v is None else v in values

    return Cond("answer_in", None, evaluate, questions=(q,), values=values)


@_register(
    "answered",
    {"type": "object", "properties": {"question": _Q},
     "required": ["question"], "additionalProperties": False},
)
def _answered(params, ctx, path):
    """True when the question has an answer, False when it has none (never unknown)."""
    p = _params(params, ctx, path, {"question": str})
    if p is None or _question(p["question"], ctx, path + ("question",)) is None:
        return None
    q = p["question"]

    def evaluate(answers, level, q=q):
        # NOT_APPLICABLE ("") marks a question that does not apply: never answered.
        return bool(answers.get(q))

    return Cond("answered", None, evaluate, questions=(q,))


@_register(
    "count_in",
    {"type": "object",
     "properties": {"questions": _VS, "values": _VS, "at_least": {"type": "integer", "minimum": 1}},
     "required": ["questions", "values", "at_least"], "additionalProperties": False},
)
def _count_in(params, ctx, path):
    """True when at least N of the questions have an answer in the values; unknown while that is still open."""
    p = _params(params, ctx, path, {"questions": list, "values": list, "at_least": int})
    if p is None:
        return None
    ok = True
    known: set[str] = set()
    for i, qid in enumerate(p["questions"]):
        options = _question(qid, ctx, path + ("questions", i))
        if options is None:
            ok = False
        else:
            known |= options
    if len(set(p["questions"])) != len(p["questions"]):
        ctx.error(path + ("questions",), "a question is listed twice")
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

    def evaluate(answers, level, qs=qs, values=values, n=n):
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

    return Cond("count_in", None, evaluate, questions=qs, values=values)


def _children(params, ctx, path, name) -> list[Cond] | None:
    if not isinstance(params, list) or not params:
        ctx.error(path, f"{name!r} takes a non-empty list of conditions; got {_show(params)}")
        return None
    children = [compile_condition(c, ctx, path + (i,)) for i, c in enumerate(params)]
    return None if any(c is None for c in children) else children


@_register("all", {"type": "array", "items": {"$ref": "#/$defs/Condition"}, "minItems": 1})
def _all(params, ctx, path):
    """True when every listed condition is true; False when one is false; else unknown (Kleene and)."""
    children = _children(params, ctx, path, "all")
    if children is None:
        return None
    fns = tuple(c.evaluate for c in children)

    def evaluate(answers, level, fns=fns):
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
def _any(params, ctx, path):
    """True when one listed condition is true; False when all are false; else unknown (Kleene or)."""
    children = _children(params, ctx, path, "any")
    if children is None:
        return None
    fns = tuple(c.evaluate for c in children)

    def evaluate(answers, level, fns=fns):
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
def _not(params, ctx, path):
    """True when the condition is false, False when it is true; unknown stays unknown."""
    child = compile_condition(params, ctx, path)
    if child is None:
        return None
    fn = child.evaluate

    def evaluate(answers, level, fn=fn):
        v = fn(answers, level)
        return None if v is None else not v

    return Cond("not", None, evaluate, children=(child,))


@_register("level_at_least", _LEVEL, needs_level=True)
def _level_at_least(params, ctx, path):
    """True when the classification level is the given level or higher (steps, items, blocking only)."""
    rank = _level(params, ctx, path)
    if rank is None:
        return None

    def evaluate(answers, level, rank=rank):
        return None if level is None else level >= rank

    return Cond("level_at_least", None, evaluate)


@_register("level_is", _LEVEL, needs_level=True)
def _level_is(params, ctx, path):
    """True when the classification level is exactly the given level (steps, items, blocking only)."""
    rank = _level(params, ctx, path)
    if rank is None:
        return None

    def evaluate(answers, level, rank=rank):
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
