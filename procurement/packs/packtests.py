"""Pack tests: YAML cases of answers with the expected result, stored in `rules/<pack>/tests/`.

A test file holds `cases:`, each with a `name` that reads as a sentence, `answers`, optionally
`items` (checklist item id -> recorded status, for consistency rules), and `expect`, which must
expect something (a case without expectations is a load error): any of level, complete,
unanswered, applicable_questions, ignored_answers, reasons (rule ids), blocking (finding ids),
flags (flag ids), consistency (consistency rule ids), required_steps, required_items,
recommended_items — exact lists — and `*_include` / `*_exclude` variants for the id lists; or
`error`: a fragment of the message of the InvalidAnswersError the answers (or item statuses) must
raise. `run_pack_tests` runs them without pytest (e.g. to refuse an uploaded pack whose own tests
fail); the pytest plugin in tests/fixtures/packs.py collects the same cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from procurement.packs.conditions import ITEM_STATUSES
from procurement.packs.engine import InvalidAnswersError, check_consistency, classify
from procurement.packs.loader import LoadError, line_for, render_path
from procurement.packs.pack import ResolvedPack
from procurement.packs.yamlreader import YamlError, read_yaml

_LISTS = ("unanswered", "applicable_questions", "ignored_answers", "reasons", "blocking", "flags",
          "consistency", "required_steps", "required_items", "recommended_items")
#: id lists that also have `*_include` / `*_exclude` variants
_SUBSET_LISTS = ("required_steps", "required_items", "recommended_items", "blocking", "flags", "reasons")


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    level: str | None = None
    complete: bool | None = None
    error: str | None = None
    unanswered: list[str] | None = None
    applicable_questions: list[str] | None = None
    ignored_answers: list[str] | None = None
    reasons: list[str] | None = None
    blocking: list[str] | None = None
    flags: list[str] | None = None
    consistency: list[str] | None = None
    required_steps: list[str] | None = None
    required_items: list[str] | None = None
    recommended_items: list[str] | None = None
    required_steps_include: list[str] | None = None
    required_steps_exclude: list[str] | None = None
    required_items_include: list[str] | None = None
    required_items_exclude: list[str] | None = None
    recommended_items_include: list[str] | None = None
    recommended_items_exclude: list[str] | None = None
    blocking_include: list[str] | None = None
    blocking_exclude: list[str] | None = None
    flags_include: list[str] | None = None
    flags_exclude: list[str] | None = None
    reasons_include: list[str] | None = None
    reasons_exclude: list[str] | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, name) is None for name in type(self).model_fields)


Status = Literal[ITEM_STATUSES]  # type: ignore[valid-type]


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1)
    answers: dict[str, Any]
    #: checklist item id -> recorded status (consistency rules read them; absent = pending)
    items: dict[str, Status] | None = None
    expect: Expect | None = None


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    description: str | None = None
    cases: list[Case] = Field(min_length=1)


@dataclass
class CaseResult:
    """One case run against a pack."""

    file: str
    line: int
    name: str
    passed: bool
    failures: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        head = f"{self.file}:{self.line}: {self.name}"
        return head + (" ... ok" if self.passed else " ... FAILED\n  " + "\n  ".join(self.failures))

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "name": self.name, "passed": self.passed,
                "failures": list(self.failures)}


def read_case_file(path: str | Path) -> tuple[list[tuple[Case, int]], list[LoadError]]:
    """The cases of one test file with their lines, or the errors that make it unreadable."""
    path = Path(path)
    try:
        raw, lines = read_yaml(path.read_bytes())
    except OSError as exc:
        return [], [LoadError(str(path), 0, "", f"cannot read the file: {exc}")]
    except YamlError as exc:
        return [], [LoadError(str(path), exc.line, "", exc.message)]
    try:
        model = CaseFile.model_validate(raw)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            errors.append(LoadError(str(path), line_for(lines, loc), render_path(raw, loc), err["msg"]))
        return [], errors
    errors = []
    for i, c in enumerate(model.cases):
        if c.expect is None or c.expect.is_empty():
            loc = ("cases", i, "expect") if c.expect is not None else ("cases", i)
            errors.append(LoadError(
                str(path), line_for(lines, loc), render_path(raw, loc),
                "a case must expect something: level, complete, reasons, blocking, flags, "
                "consistency, required_steps, required_items, ... or error",
            ))
    if errors:
        return [], errors
    return [(c, line_for(lines, ("cases", i))) for i, c in enumerate(model.cases)], []


def check_case(pack: ResolvedPack, case: Case) -> list[str]:
    """The differences between what the case expects and what the engine gives (empty = pass)."""
    exp = case.expect
    assert exp is not None, "read_case_file refuses a case without expectations"
    try:
        result = classify(pack, case.answers)
        consistency = check_consistency(pack, case.answers, case.items) if (
            exp.consistency is not None or case.items is not None) else []
    except InvalidAnswersError as exc:
        if exp.error is None:
            return [f"unexpected error: {exc}"]
        if exp.error not in str(exc):
            return [f"error {str(exc)!r} does not contain {exp.error!r}"]
        return []
    if exp.error is not None:
        return [f"expected an error containing {exp.error!r}, but the answers were accepted"]
    got: dict[str, Any] = {
        "level": result.level,
        "complete": result.complete,
        "unanswered": result.unanswered,
        "applicable_questions": result.applicable_questions,
        "ignored_answers": result.ignored_answers,
        "reasons": [r.rule_id for r in result.reasons],
        "blocking": [b.id for b in result.blocking],
        "flags": [f.id for f in result.flags],
        "consistency": [c.id for c in consistency],
        "required_steps": result.required_steps,
        "required_items": result.required_items,
        "recommended_items": result.recommended_items,
    }
    failures = []
    for key in ("level", "complete") + _LISTS:
        want = getattr(exp, key)
        if want is not None and want != got[key]:
            failures.append(f"{key}: expected {want!r}, got {got[key]!r}")
    for key in _SUBSET_LISTS:
        inc = getattr(exp, f"{key}_include", None)
        if inc:
            missing = [x for x in inc if x not in got[key]]
            if missing:
                failures.append(f"{key}: expected to include {missing!r}, got {got[key]!r}")
        exc_ = getattr(exp, f"{key}_exclude", None)
        if exc_:
            present = [x for x in exc_ if x in got[key]]
            if present:
                failures.append(f"{key}: expected not to include {present!r}")
    return failures


def run_pack_tests(pack: ResolvedPack, tests_dir: str | Path | None = None) -> list[CaseResult]:
    """Run every case in `tests_dir` (default: the pack folder's `tests/`) against `pack`.
    An unreadable test file gives one failed result naming its errors."""
    if tests_dir is None:
        if pack.path is None:
            return []
        tests_dir = pack.path / "tests"
    tests_dir = Path(tests_dir)
    results: list[CaseResult] = []
    for file in sorted(tests_dir.glob("*.yaml")) if tests_dir.is_dir() else []:
        cases, errors = read_case_file(file)
        if errors:
            results.append(CaseResult(str(file), errors[0].line, "(test file)", False, [str(e) for e in errors]))
            continue
        for case, line in cases:
            failures = check_case(pack, case)
            results.append(CaseResult(str(file), line, case.name, not failures, failures))
    return results
