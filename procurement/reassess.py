"""Re-assessment of stored cases under another rule pack (a new edition, or another layer).

For each case the stored answers are classified under the pack the case was assessed under and
under the new pack; the difference is one `ReassessmentRow`. The comparison is pure
(`compare_classifications`); `plan_reassessment` loads what it needs in a few batched queries and
classifies in memory, memoising by (pack, answers) because many cases share the same answers;
`apply_reassessment` moves each re-assessed case to the new pack through the services, one
transaction per case (decision + audit event), voiding an approval whose obligations grew.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: The keys of one row in the JSON output of `procurement reassess` (a contract: keep them).
ROW_KEYS = (
    "case_id", "title", "old_level", "new_level", "added_items", "removed_items",
    "added_steps", "removed_steps", "new_questions", "blocking",
)

#: Case statuses whose approval a re-assessment can void.
APPROVED_STATUSES = frozenset({"approved", "in_operation"})


@dataclass(frozen=True)
class ReassessmentRow:
    """How one case's result changes under the new pack (ids only; the UI adds the texts)."""

    case_id: int
    title: str
    old_level: str | None
    new_level: str | None
    added_items: tuple[str, ...] = ()
    removed_items: tuple[str, ...] = ()
    added_steps: tuple[str, ...] = ()
    removed_steps: tuple[str, ...] = ()
    new_questions: tuple[str, ...] = ()
    blocking: tuple[str, ...] = ()
    # Not part of the JSON contract; used by apply and by the page.
    level_rose: bool = field(default=False, compare=False)
    org_code: str = field(default="", compare=False)
    status: str = field(default="", compare=False)
    old_pack: str = field(default="", compare=False)

    @property
    def is_changed(self) -> bool:
        """True when anything a person must act on or know about differs."""
        return bool(
            self.old_level != self.new_level or self.added_items or self.removed_items
            or self.added_steps or self.removed_steps or self.new_questions or self.blocking
        )

    @property
    def obligations_grew(self) -> bool:
        """True when the case must now do more: higher level, new items, steps, questions or
        blocking findings. An approval given under the old pack no longer covers it."""
        return bool(
            self.level_rose or self.added_items or self.added_steps or self.new_questions
            or self.blocking
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of `procurement reassess --format json`: exactly `ROW_KEYS`."""
        return {
            "case_id": self.case_id,
            "title": self.title,
            "old_level": self.old_level,
            "new_level": self.new_level,
            "added_items": list(self.added_items),
            "removed_items": list(self.removed_items),
            "added_steps": list(self.added_steps),
            "removed_steps": list(self.removed_steps),
            "new_questions": list(self.new_questions),
            "blocking": list(self.blocking),
        }


def _only_in(first: Sequence[str], second: Iterable[str]) -> tuple[str, ...]:
    """Ids of `first` that are not in `second`, in `first`'s order (pack order), no repeats."""
    other = set(second)
    seen: set[str] = set()
    out = []
    for item in first:
        if item not in other and item not in seen:
            seen.add(item)
            out.append(item)
    return tuple(out)


def _finding_ids(findings: Iterable[Any]) -> list[str]:
    return [getattr(f, "id", f) for f in findings]


@dataclass(frozen=True)
class ResultDiff:
    """The case-independent part of a row: depends only on the two classifications."""

    old_level: str | None
    new_level: str | None
    added_items: tuple[str, ...]
    removed_items: tuple[str, ...]
    added_steps: tuple[str, ...]
    removed_steps: tuple[str, ...]
    new_questions: tuple[str, ...]
    blocking: tuple[str, ...]
    level_rose: bool


def diff_results(old, new, *, level_order: Sequence[str] = ()) -> ResultDiff:
    """Compare two `Classification`s of the same answers.

    `new_questions` are questions the new pack requires that are unanswered and were not already
    missing under the old pack; `blocking` are findings the old result did not have.
    `level_order` (low to high) decides whether the level rose; an unknown level counts as rising.
    """
    rank = {level: i for i, level in enumerate(level_order)}
    old_rank = rank.get(old.level, -1)
    new_rank = rank.get(new.level, len(rank))
    return ResultDiff(
        old_level=old.level,
        new_level=new.level,
        added_items=_only_in(new.required_items, old.required_items),
        removed_items=_only_in(old.required_items, new.required_items),
        added_steps=_only_in(new.required_steps, old.required_steps),
        removed_steps=_only_in(old.required_steps, new.required_steps),
        new_questions=_only_in(new.unanswered, old.unanswered),
        blocking=_only_in(_finding_ids(new.blocking), _finding_ids(old.blocking)),
        level_rose=old.level != new.level and new_rank > old_rank,
    )


def compare_classifications(case_id: int, title: str, old, new, *,
                            level_order: Sequence[str] = ()) -> ReassessmentRow:
    """The re-assessment row of one case from its old and new `Classification` (pure)."""
    return _row(case_id, title, diff_results(old, new, level_order=level_order))


def _row(case_id: int, title: str, diff: ResultDiff, **extra: Any) -> ReassessmentRow:
    return ReassessmentRow(
        case_id=case_id,
        title=title,
        old_level=diff.old_level,
        new_level=diff.new_level,
        added_items=diff.added_items,
        removed_items=diff.removed_items,
        added_steps=diff.added_steps,
        removed_steps=diff.removed_steps,
        new_questions=diff.new_questions,
        blocking=diff.blocking,
        level_rose=diff.level_rose,
        **extra,
    )


def rows_to_json(rows: Iterable[ReassessmentRow]) -> str:
    """The JSON array printed by `procurement reassess --format json`."""
    return json.dumps([row.to_dict() for row in rows], ensure_ascii=False, indent=2)
