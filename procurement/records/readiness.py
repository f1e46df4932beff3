"""What a case still lacks: which steps are done, and what stops it from being submitted.

The one place the submission rules live: `Services.submit` refuses a case for which
`submission_gaps` is not empty, and the app shows the same list (progress indicator, refusal
list), so a script, the CLI and the browser all apply the same rules. A case can be submitted
when every required, applicable question is answered, nothing is blocking, every required
checklist item is `met` with its evidence (unless the item needs none) or `not_applicable` with a
reason, and, when the board report step applies, every field of the report is filled in.

Plain Python (no streamlit, no database): it reads a case view (`procurement.services.CaseView`
or anything with the same attributes) and its pack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from procurement.db.models import BOARD_REPORT_FIELDS
from procurement.errors import NotFoundError
from procurement.records import policy

#: Checklist statuses that settle a required item (`not_applicable` needs a reason as evidence).
SETTLED_STATUSES = policy.SETTLED_CHECKLIST_STATUSES
#: Steps a planner works through; `approval` belongs to the reviewer.
REVIEWER_STEPS = frozenset({"approval"})
#: Gap kinds, in the order `submission_gaps` lists them, with the English phrase for messages.
GAP_PHRASES = {
    "question": "question {id} is not answered",
    "blocking": "blocking finding {id}",
    "board_field": "board report field {id} is empty",
    "item_pending": "checklist item {id} is pending",
    "item_not_met": "checklist item {id} is not met",
    "item_reason": "checklist item {id} is not applicable without a reason",
    "item_evidence": "checklist item {id} is met without evidence",
}


@dataclass(frozen=True)
class Gap:
    """One thing missing before submission, and the step where it is fixed."""

    #: question | blocking | item_pending | item_not_met | item_reason | item_evidence |
    #: board_field
    kind: str
    id: str  # question id, finding id, item id or board report field
    step: str

    def to_dict(self) -> dict[str, str]:
        """`{"kind", "id", "step"}`: the shape carried by a refused submission's error."""
        return {"kind": self.kind, "id": self.id, "step": self.step}

    def describe(self) -> str:
        """One English line, e.g. "checklist item PC-Q3 is pending (step procurement_checklist)"."""
        return f"{GAP_PHRASES[self.kind].format(id=self.id)} (step {self.step})"


def _question_step(pack: Any, qid: str, default: str = "classification") -> str:
    try:
        step: str = pack.question(qid).step
        return step
    except NotFoundError:  # a question gone from the pack still shows as missing
        return default


def item_step(pack: Any, item_id: str) -> str:
    """The step at which a checklist item is worked on (its checklist's step)."""
    item = pack.item(item_id)
    step: str = pack.checklist(item.checklist).step
    return step


def item_gaps(pack: Any, case: Any) -> list[Gap]:
    """Required items not yet settled, in pack order."""
    result = case.classification
    required = set(result.required_items)
    gaps = []
    for item in pack.items:
        if item.id not in required:
            continue
        entry = case.checklist.get(item.id)
        status = entry.status if entry is not None else "pending"
        step = item_step(pack, item.id)
        if status == "not_met":
            gaps.append(Gap("item_not_met", item.id, step))
        elif status not in SETTLED_STATUSES:
            gaps.append(Gap("item_pending", item.id, step))
        elif status == "not_applicable" and not (entry.evidence or "").strip():
            gaps.append(Gap("item_reason", item.id, step))
        elif (status == "met" and item.evidence_required
              and not (entry.evidence or "").strip()):
            # Recorded before the services asked for evidence (`checklist_value`).
            gaps.append(Gap("item_evidence", item.id, step))
    return gaps


def report_step(pack: Any, case: Any) -> str | None:
    """The id of the pack's first `report` step that applies to the case (the national pack's
    report to the Advisory Board, a municipal pack's report to its own body), or None. The
    report's fields (`BOARD_REPORT_FIELDS`) are filled in at that step."""
    required = set(case.classification.required_steps)
    return next((s.id for s in pack.steps_of_kind("report") if s.id in required), None)


def board_report_gaps(pack: Any, case: Any) -> list[Gap]:
    """Empty report fields, when a report step of the pack applies."""
    step = report_step(pack, case)
    if step is None:
        return []
    report = case.board_report or {}
    return [Gap("board_field", name, step) for name in BOARD_REPORT_FIELDS
            if not (report.get(name) or "").strip()]


def submission_gaps(pack: Any, case: Any) -> list[Gap]:
    """Everything that stops `case` from being submitted; empty when it may be submitted."""
    result = case.classification
    gaps = [Gap("question", qid, _question_step(pack, qid)) for qid in result.unanswered]
    for finding in result.blocking:
        first_input = next(iter(finding.inputs), None)
        gaps.append(Gap("blocking", finding.id,
                        _question_step(pack, first_input) if first_input else "classification"))
    gaps += board_report_gaps(pack, case)
    gaps += item_gaps(pack, case)
    return gaps


def describe_gaps(gaps: list[Gap]) -> str:
    """The gaps as one English sentence part, "a; b; c" (for error messages and logs)."""
    return "; ".join(g.describe() for g in gaps)


def submission_step(pack: Any) -> str | None:
    """The step where the planner submits the case: the pack's `submission` step, else the last
    step a planner works on before the reviewer's (a pack need not name a submission step: the
    four-level example ends its planner's part with its control checks). Report, consultation
    and operation steps are not the planner's last step: the reviewer records the first two,
    and operation follows approval."""
    ids = [step.id for step in pack.steps]
    if "submission" in ids:
        return "submission"
    candidate = None
    for step in pack.steps:
        if step.id in REVIEWER_STEPS:
            break
        if getattr(step, "kind", None) is None:
            candidate = step.id
    return candidate


def completed_steps(pack: Any, case: Any) -> set[str]:
    """The steps of `case` that have nothing left to do (for the progress indicator)."""
    result = case.classification
    applicable = set(result.applicable_questions)
    open_steps = {g.step for g in submission_gaps(pack, case)}
    for q in pack.questions:
        if q.id in applicable and q.id not in case.answers:
            open_steps.add(q.step)
    done = set()
    submit_at = submission_step(pack)
    for step_id in result.required_steps:
        if step_id == submit_at and step_id not in open_steps:
            if case.status in ("submitted", "approved", "in_operation", "retired"):
                done.add(step_id)
        elif step_id in REVIEWER_STEPS:
            if case.status in ("approved", "in_operation", "retired"):
                done.add(step_id)
        elif step_id not in open_steps:
            done.add(step_id)
    return done
