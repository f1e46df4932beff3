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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from procurement.db.models import Answer, Case, Organisation
from procurement.errors import (
    InputError,
    NotFoundError,
    PermissionDeniedError,
    ProcurementError,
)
from procurement.packs import classify
from procurement.records import policy
from procurement.records.core import ServiceCore
from procurement.vocabulary import VoidReason

#: The keys of one row in the JSON output of `procurement reassess` (a contract: keep them).
ROW_KEYS = (
    "case_id", "title", "old_level", "new_level", "added_items", "removed_items",
    "added_steps", "removed_steps", "new_questions", "blocking",
)


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


# --------------------------------------------------------------------------------------------
# Planning: stored cases -> rows (read only)


@dataclass(frozen=True)
class ReassessmentPlan:
    """The rows of a dry run, with what apply needs to move the cases safely."""

    pack: Any  # the new ResolvedPack
    rows: tuple[ReassessmentRow, ...]
    #: cases whose old pack is not available: (case_id, "id@version"); not in `rows`
    unavailable: tuple[tuple[int, str], ...] = ()
    #: notes for the operator (e.g. an old pack whose content changed under the same version)
    warnings: tuple[str, ...] = ()
    #: case id -> version read, so apply refuses a case changed since the preview
    versions: dict[int, int] = field(default_factory=dict, repr=False, compare=False)

    @property
    def changed_rows(self) -> list[ReassessmentRow]:
        return [row for row in self.rows if row.is_changed]


class _PackAnswers:
    """Per pack: which answers it accepts, so answers to removed questions or options are
    treated as unanswered under it instead of failing the whole run."""

    def __init__(self, pack) -> None:
        self.pack = pack
        self.options = {q.id: frozenset(q.option_values) for q in pack.questions}
        self.level_order = tuple(level.id for level in pack.levels)

    def usable(self, answers: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
        options = self.options
        return {q: v for q, v in answers if v in options.get(q, ())}


def _find_old_pack(registry, pack_id: str, version: str, fingerprint: str, warnings: list[str]):
    try:
        pack = registry.resolve(f"{pack_id}@{version}")
    except ProcurementError:
        return None
    if pack.fingerprint != fingerprint:
        warnings.append(
            f"{pack_id}@{version}: the stored cases were assessed under content "
            f"{fingerprint[:12]}, the available content is {pack.fingerprint[:12]}; compared "
            "with the available content"
        )
    return pack


# --------------------------------------------------------------------------------------------
# Applying: move each case to the new pack, one audited transaction per case


@dataclass(frozen=True)
class ApplyResult:
    """What `apply_reassessment` did."""

    moved: tuple[int, ...] = ()
    voided: tuple[int, ...] = ()
    #: cases not moved: (case_id, reason), e.g. changed by someone since the preview
    refused: tuple[tuple[int, str], ...] = ()


def _nameless_operator_error(actor):
    return PermissionDeniedError(
        "a re-assessment is recorded under a named user: act as a pack_admin or admin of the "
        "organisation", username=actor.username,
    )


class ReassessService(ServiceCore):
    """Previewing and applying the re-assessment of stored cases under another pack."""

    def plan_reassessment(self, pack_ref: str, *, org_code: str | None = None,
                          actor=None, include_closed: bool = False) -> ReassessmentPlan:
        """Classify every affected stored case under the pack `pack_ref` and compare (no writes).

        Affected: with `org_code`, every case of that organisation; without it, every case of any
        organisation assessed under another version of the same pack id. Cases already under exactly
        this pack, and closed cases (withdrawn, retired) unless `include_closed`, are left out. An
        `actor` (the app) confines the run to its own organisation; the CLI passes none.

        Loads cases and answers in two queries and classifies in memory; cases with the same answers
        under the same pair of packs are classified once.
        """
        try:
            new_pack = self.registry.resolve(pack_ref)
        except ProcurementError as exc:
            raise InputError(f"--pack: unknown rule pack {pack_ref!r} ({exc.message})",
                             field="pack", value=pack_ref) from exc
        if actor is not None:
            if org_code not in (None, actor.org_code):
                raise NotFoundError(f"organisation {org_code!r} not found", kind="organisation", id=org_code)
            org_code = actor.org_code

        cases_q = select(Case.id, Case.title, Case.status, Case.pack_id, Case.pack_version,
                         Case.pack_fingerprint, Case.version, Organisation.code).join(
            Organisation, Case.org_id == Organisation.id)
        if org_code is not None:
            cases_q = cases_q.where(Organisation.code == org_code)
        else:
            cases_q = cases_q.where(Case.pack_id == new_pack.id)
        if not include_closed:
            cases_q = cases_q.where(Case.status.not_in(sorted(policy.CLOSED_STATUSES)))
        wanted = cases_q.subquery()
        answers_q = (select(Answer.case_id, Answer.question_id, Answer.value)
                     .join(wanted, wanted.c.id == Answer.case_id)
                     .order_by(Answer.case_id, Answer.question_id))

        # A plain Core connection: rows come back as tuples, without ORM bookkeeping (this is most
        # of the cost of a dry run). Both reads share one transaction, so they see the same state.
        with self.read(snapshot=True) as s:
            conn = s.connection()
            if org_code is not None and conn.scalar(
                select(Organisation.id).where(Organisation.code == org_code)
            ) is None:
                raise NotFoundError(f"organisation {org_code!r} not found", kind="organisation", id=org_code)
            cases = conn.execute(cases_q.order_by(Case.id)).all()
            answer_rows = conn.execute(answers_q).all()

        decoded: dict[str, Any] = {}
        answers_by_case: dict[int, list[tuple[str, Any]]] = {}
        for case_id, question_id, raw in answer_rows:
            value = decoded.get(raw)
            if value is None:
                value = decoded[raw] = json.loads(raw)
            answers_by_case.setdefault(case_id, []).append((question_id, value))

        new = _PackAnswers(new_pack)
        old_packs: dict[tuple[str, str, str], _PackAnswers | None] = {}
        warnings: list[str] = []
        unavailable: list[tuple[int, str]] = []
        diffs: dict[tuple[Any, ...], ResultDiff] = {}
        new_results: dict[tuple[Any, ...], Any] = {}
        rows: list[ReassessmentRow] = []
        versions: dict[int, int] = {}
        for case_id, title, status, pid, pver, pfp, version, code in cases:
            if pid == new_pack.id and pver == new_pack.version and pfp == new_pack.fingerprint:
                continue
            key = (pid, pver, pfp)
            if key not in old_packs:
                found = _find_old_pack(self.registry, pid, pver, pfp, warnings)
                old_packs[key] = _PackAnswers(found) if found is not None else None
            old = old_packs[key]
            if old is None:
                unavailable.append((case_id, f"{pid}@{pver}"))
                continue
            answers = tuple(answers_by_case.get(case_id, ()))
            memo = (key, answers)
            diff = diffs.get(memo)
            if diff is None:
                new_answers = new.usable(answers)
                new_key = tuple(sorted(new_answers.items()))
                new_result = new_results.get(new_key)
                if new_result is None:
                    new_result = new_results[new_key] = classify(new_pack, new_answers)
                old_result = classify(old.pack, old.usable(answers))
                diff = diffs[memo] = diff_results(old_result, new_result, level_order=new.level_order)
            rows.append(_row(case_id, title, diff, org_code=code, status=status,
                             old_pack=f"{pid}@{pver}"))
            versions[case_id] = version
        return ReassessmentPlan(pack=new_pack, rows=tuple(rows), unavailable=tuple(unavailable),
                                warnings=tuple(dict.fromkeys(warnings)), versions=versions)

    def apply_reassessment(self, plan: ReassessmentPlan, actor_for: Callable[[str], Any], *,
                           comment: str = "") -> ApplyResult:
        """Move every case of `plan` to its new pack; void approvals whose obligations grew.

        `actor_for(org_code)` gives the named user acting for each organisation (pack_admin or
        admin); decisions and events are recorded under that user in the organisation's own chain.
        Each case is one transaction (pack change, `reassessment` decision, `case.reassessed` event,
        and when its approval is voided, a `void` decision and `approval.voided` event), so a case
        changed since the preview is refused alone (ConflictError) and nothing half-done remains.
        """
        new_pack = plan.pack
        new = _PackAnswers(new_pack)
        moved: list[int] = []
        voided: list[int] = []
        refused: list[tuple[int, str]] = []
        actors: dict[str, Any] = {}
        for row in plan.rows:
            was_voided = False
            try:
                if row.org_code not in actors:
                    actors[row.org_code] = actor_for(row.org_code)
                actor = actors[row.org_code]
                if actor.user_id is None:
                    raise _nameless_operator_error(actor)
                with self.unit_of_work(actor, "reassess.apply") as uow:
                    case = uow.load_case(row.case_id, plan.versions.get(row.case_id))
                    s = uow.session
                    stored = s.execute(select(Answer.question_id, Answer.value)
                                       .where(Answer.case_id == case.id)).all()
                    answers = new.usable(tuple((q, json.loads(v)) for q, v in stored))
                    result = classify(new_pack, answers)
                    old_ref = f"{case.pack_id}@{case.pack_version}"
                    old_fp = case.pack_fingerprint
                    case.pack_id = new_pack.id
                    case.pack_version = new_pack.version
                    case.pack_fingerprint = new_pack.fingerprint
                    case.level = result.level
                    case.is_complete = bool(result.complete)
                    case.has_blocking = bool(result.blocking)
                    uow.touch(case)
                    # The decision names its pack in its own columns; the comment holds only what
                    # the operator wrote (`procurement.vocabulary.decision_note` shows both).
                    uow.decide(case, "reassessment", comment)
                    uow.audit("case.reassessed", case.id, {
                        "old_pack": old_ref, "old_fingerprint": old_fp, "new_pack": new_pack.ref,
                        "new_fingerprint": new_pack.fingerprint, "comment": comment,
                        **{k: v for k, v in row.to_dict().items() if k not in ("case_id", "title")},
                    })
                    if row.obligations_grew:
                        was_voided = uow.void_approval(case, VoidReason("reassessed", {
                            "pack": new_pack.key, "old_level": row.old_level,
                            "new_level": row.new_level, "items": list(row.added_items),
                            "steps": list(row.added_steps), "questions": list(row.new_questions),
                            "blocking": list(row.blocking)}))
                # Counted only once the transaction has committed.
                moved.append(row.case_id)
                if was_voided:
                    voided.append(row.case_id)
            except ProcurementError as exc:
                refused.append((row.case_id, exc.message))
        return ApplyResult(tuple(moved), tuple(voided), tuple(refused))
