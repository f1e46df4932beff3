"""The review workflow: submit, return, approve, withdraw.

A planner submits a draft or returned case once nothing is missing (`readiness`); a reviewer of
the organisation returns it with a comment or approves it; an approval is pinned to the answers
hash and the exact pack. Before approving, every report or consultation step of the case's pack
that applies to it must be recorded for the current submission (`procurement.records.
consultations`). A planner may withdraw a case that is not running.

Submitting, returning and approving queue e-mail notifications in the same transaction
(`procurement.notify`); once committed, this process's sender is woken to send them. A failure
to send never undoes or blocks the step.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from procurement.db.models import AuditEvent, Case
from procurement.errors import InputError, WorkflowError
from procurement.notify import worker
from procurement.notify.service import queue_case_notice
from procurement.records import checks, policy, readiness
from procurement.records.cases import require_same_pack
from procurement.records.consultations import missing_steps
from procurement.records.core import ServiceCore
from procurement.records.views import Actor, CaseView, case_view

#: Events that change what an approval covers (answers, checklist, board report). A reviewer's
#: own records (comments, a recorded consultation) are not among them.
CONTENT_EVENTS = ("case.created", "case.answers_saved", "case.checklist_set",
                  "case.board_report_saved")


def four_eyes_conflicts(s: Session, actor: Actor, case_ids: Iterable[int]) -> dict[int, str]:
    """Cases among `case_ids` that `actor` may not approve (separation of duties): case id ->
    `submitted` (they submitted it last) or `changed` (they changed its answers, checklist or
    report since its last approval, or ever if it was never approved). Read from the audit
    trail, which holds every change with its author."""
    ids = list(case_ids)
    if not ids:
        return {}
    rows = s.execute(
        select(AuditEvent.case_id, AuditEvent.seq, AuditEvent.event_type, AuditEvent.actor)
        .where(AuditEvent.chain == actor.org_code, AuditEvent.case_id.in_(ids),
               AuditEvent.event_type.in_((*CONTENT_EVENTS, "case.approved", "case.submitted")))
        .order_by(AuditEvent.case_id, AuditEvent.seq)
    ).all()
    # Keyed by AuditEvent.case_id (nullable in the table; never None for the ids selected).
    changed: dict[int | None, bool] = {}
    submitter: dict[int | None, str] = {}
    for case_id, _seq, event_type, author in rows:
        if event_type == "case.approved":
            changed[case_id] = False  # what came before is covered by that approval
        elif event_type == "case.submitted":
            submitter[case_id] = author
        elif author == actor.username:
            changed[case_id] = True
    conflicts: dict[int, str] = {}
    for case_id in ids:
        if submitter.get(case_id) == actor.username:
            conflicts[case_id] = "submitted"
        elif changed.get(case_id):
            conflicts[case_id] = "changed"
    return conflicts


class WorkflowService(ServiceCore):
    """Moving a case through review."""

    def approval_conflicts(self, actor: Actor, case_ids: Iterable[int]) -> dict[int, str]:
        """The cases among `case_ids` that `actor` may not approve, with why (see
        `four_eyes_conflicts`; the owner of a case never approves it either: `owner`)."""
        ids = list(case_ids)
        with self.read() as s:
            conflicts = {cid: "owner" for cid, in s.execute(
                select(Case.id).where(Case.id.in_(ids), Case.owner_id == actor.user_id,
                                      Case.org_id == actor.org_id))}
            for case_id, reason in four_eyes_conflicts(s, actor, ids).items():
                conflicts.setdefault(case_id, reason)
            return conflicts

    def submit(self, actor: Actor, case_id: int, expected_version: int,
               comment: str = "") -> CaseView:
        """Send a draft (or returned) case for approval (planner), refused unless nothing is
        missing by `procurement.records.readiness.submission_gaps`: every applicable question
        answered, no blocking finding, every required checklist item settled, the board report
        filled in when that step applies.

        A refusal is a WorkflowError whose params carry `gaps` (`[{"kind", "id", "step"}]`, in
        the order the app lists them), `gap_count`, and the `unanswered` questions and
        `blocking` findings among them; its message lists every gap.
        """
        comment = _comment(comment)
        with self.unit_of_work(actor, "case.submit") as uow:
            case = uow.load_case(case_id, expected_version)
            if case.status not in policy.SUBMITTABLE_STATUSES:
                raise WorkflowError(f"case {case.id} is {case.status}; only a draft or returned "
                                    "case can be submitted", case_id=case.id, status=case.status)
            pack = require_same_pack(self.registry, case)
            # The stored case as the app shows it: the same facts, the same rules.
            gaps = readiness.submission_gaps(pack, case_view(uow.session, self.registry, case))
            if gaps:
                raise WorkflowError(
                    f"case {case.id} cannot be submitted; {len(gaps)} thing(s) missing: "
                    f"{readiness.describe_gaps(gaps)}",
                    case_id=case.id, gaps=[g.to_dict() for g in gaps], gap_count=len(gaps),
                    unanswered=[g.id for g in gaps if g.kind == "question"],
                    blocking=[g.id for g in gaps if g.kind == "blocking"],
                )
            uow.transition(case, "submitted", "submission", comment)
            queued = queue_case_notice(uow, self.registry, case, "case_submitted")
            view = case_view(uow.session, self.registry, case)
        _sent_soon(queued)
        return view

    def return_case(self, actor: Actor, case_id: int, comment: str,
                    expected_version: int) -> CaseView:
        """Send a submitted case back to its planner with a comment (reviewer)."""
        if not isinstance(comment, str) or not comment.strip():
            raise InputError("returning a case requires a comment saying what to change",
                             field="comment", case_id=case_id)
        comment = _comment(comment)
        with self.unit_of_work(actor, "case.return") as uow:
            case = uow.load_case(case_id, expected_version)
            if case.status != "submitted":
                raise WorkflowError(f"case {case.id} is {case.status}; only a submitted case can "
                                    "be returned", case_id=case.id, status=case.status)
            uow.transition(case, "returned", "return", comment)
            queued = queue_case_notice(uow, self.registry, case, "case_returned")
            view = case_view(uow.session, self.registry, case)
        _sent_soon(queued)
        return view

    def approve(self, actor: Actor, case_id: int, expected_version: int,
                comment: str = "") -> CaseView:
        """Approve a submitted case (reviewer other than its owner); pinned to its answers hash
        and pack fingerprint.

        Refused (WorkflowError with `step` and `reason="consultation_missing"`) while a report
        or consultation step of the case's pack applies to it and the reviewer has not recorded
        it for the current submission (`record_consultation`)."""
        comment = _comment(comment)
        with self.unit_of_work(actor, "case.approve") as uow:
            case = uow.load_case(case_id, expected_version)
            if case.status != "submitted":
                raise WorkflowError(f"case {case.id} is {case.status}; only a submitted case can "
                                    "be approved", case_id=case.id, status=case.status)
            if case.owner_id == actor.user_id:
                raise WorkflowError(f"case {case.id}: the owner cannot approve their own case",
                                    case_id=case.id, username=actor.username,
                                    rule="four_eyes", reason="owner")
            conflict = four_eyes_conflicts(uow.session, actor, [case.id]).get(case.id)
            if conflict is not None:
                raise WorkflowError(
                    f"case {case.id}: separation of duties: {actor.username} "
                    + ("submitted this case" if conflict == "submitted" else
                       "changed its answers, checklist or report since its last approval")
                    + "; another reviewer must approve it",
                    rule="four_eyes", reason=conflict, case_id=case.id, username=actor.username)
            pack = require_same_pack(self.registry, case)
            missing = missing_steps(pack, uow.session, case)
            if missing:
                step = missing[0]
                raise WorkflowError(
                    f"case {case.id}: record the {step.kind} of step {step.id} "
                    f"({step.title.get('en') or step.id}) for this submission before approving"
                    + (f" (also: {', '.join(m.id for m in missing[1:])})" if len(missing) > 1
                       else ""),
                    consultation_missing=[m.id for m in missing], step=step.id,
                    reason="consultation_missing", case_id=case.id)
            case.approved_at = uow.now
            case.approval_voided_at = None
            case.approval_voided_reason = None
            uow.transition(case, "approved", "approval", comment)
            queued = queue_case_notice(uow, self.registry, case, "case_approved")
            view = case_view(uow.session, self.registry, case)
        _sent_soon(queued)
        return view

    def withdraw(self, actor: Actor, case_id: int, expected_version: int,
                 comment: str = "") -> CaseView:
        """Abandon a case (planner); it stays on record, read-only."""
        comment = _comment(comment)
        with self.unit_of_work(actor, "case.withdraw") as uow:
            case = uow.load_case(case_id, expected_version)
            if case.status not in policy.WITHDRAWABLE_STATUSES:
                raise WorkflowError(f"case {case.id} is {case.status} and cannot be withdrawn",
                                    case_id=case.id, status=case.status)
            uow.transition(case, "withdrawn", "withdrawal", comment)
            return case_view(uow.session, self.registry, case)


def _sent_soon(queued: int) -> None:
    """Once the step is committed with its messages, have this process's sender send them."""
    if queued:
        worker.wake()


def _comment(value: object) -> str:
    """A decision's comment, checked like every other text (see `procurement.records.checks`)."""
    return checks.text(value, "comment", required=False, multiline=True,
                       max_length=checks.LONG_TEXT_MAX_LENGTH)
