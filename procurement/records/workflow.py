"""The review workflow: submit, return, approve, withdraw.

A planner submits a draft or returned case once nothing is missing (`readiness`); a reviewer of
the organisation returns it with a comment or approves it; an approval is pinned to the answers
hash and the exact pack. A planner may withdraw a case that is not running.
"""

from __future__ import annotations

from procurement.errors import InputError, WorkflowError
from procurement.records import policy, readiness
from procurement.records.cases import require_same_pack
from procurement.records.core import ServiceCore
from procurement.records.views import Actor, CaseView, case_view


class WorkflowService(ServiceCore):
    """Moving a case through review."""

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
            return case_view(uow.session, self.registry, case)

    def return_case(self, actor: Actor, case_id: int, comment: str,
                    expected_version: int) -> CaseView:
        """Send a submitted case back to its planner with a comment (reviewer)."""
        if not isinstance(comment, str) or not comment.strip():
            raise InputError("returning a case requires a comment saying what to change",
                             field="comment", case_id=case_id)
        with self.unit_of_work(actor, "case.return") as uow:
            case = uow.load_case(case_id, expected_version)
            if case.status != "submitted":
                raise WorkflowError(f"case {case.id} is {case.status}; only a submitted case can "
                                    "be returned", case_id=case.id, status=case.status)
            uow.transition(case, "returned", "return", comment.strip())
            return case_view(uow.session, self.registry, case)

    def approve(self, actor: Actor, case_id: int, expected_version: int,
                comment: str = "") -> CaseView:
        """Approve a submitted case (reviewer other than its owner); pinned to its answers hash
        and pack fingerprint."""
        with self.unit_of_work(actor, "case.approve") as uow:
            case = uow.load_case(case_id, expected_version)
            if case.status != "submitted":
                raise WorkflowError(f"case {case.id} is {case.status}; only a submitted case can "
                                    "be approved", case_id=case.id, status=case.status)
            if case.owner_id == actor.user_id:
                raise WorkflowError(f"case {case.id}: the owner cannot approve their own case",
                                    case_id=case.id, username=actor.username)
            require_same_pack(self.registry, case)
            case.approved_at = uow.now
            case.approval_voided_at = None
            case.approval_voided_reason = None
            uow.transition(case, "approved", "approval", comment)
            return case_view(uow.session, self.registry, case)

    def withdraw(self, actor: Actor, case_id: int, expected_version: int,
                 comment: str = "") -> CaseView:
        """Abandon a case (planner); it stays on record, read-only."""
        with self.unit_of_work(actor, "case.withdraw") as uow:
            case = uow.load_case(case_id, expected_version)
            if case.status not in policy.WITHDRAWABLE_STATUSES:
                raise WorkflowError(f"case {case.id} is {case.status} and cannot be withdrawn",
                                    case_id=case.id, status=case.status)
            uow.transition(case, "withdrawn", "withdrawal", comment)
            return case_view(uow.session, self.registry, case)
