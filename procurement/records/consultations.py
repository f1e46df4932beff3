"""Consultations: what the reviewer records of a report or consultation step before approving.

A case's pack says which steps of kind `report` or `consultation` apply to its result
(`ResolvedPack.report_steps(result)`): the national pack's report to the Advisory Board for a
high case, a municipality's own committee, the CAIO for a case marked for review. Before
approving, the reviewer records for each such step when it was reported, whether advice was
received, and a note; `WorkflowService.approve` refuses while one is missing for the current
submission. Nothing here names a step: the steps, their titles and bodies come from the pack.

Recording is the reviewer's act, not a change of the case: it does not touch the case's version,
does not count as changing the case for the four-eyes rule (`workflow.CONTENT_EVENTS` leaves its
event out) and voids nothing.

    svc.consultation_steps(actor, case_id) -> [ConsultationStep]
    svc.record_consultation(actor, case_id, step_id, reported_on=date, advice="received",
                            note="...") -> ConsultationView
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from procurement import fiscal
from procurement.caio.fields import parse_day
from procurement.db.models import Case, Consultation, Decision, User
from procurement.errors import InputError, NotFoundError, WorkflowError
from procurement.packs import ResolvedPack, classify
from procurement.records import checks
from procurement.records.cases import require_case_pack
from procurement.records.core import ServiceCore
from procurement.records.views import Actor, load_answers

#: What the reviewer may record as the outcome (words: vocabulary kind `consultation_advice`).
ADVICE = ("received", "none")
#: The longest note accepted, in characters.
NOTE_MAX_LENGTH = 5000


@dataclass(frozen=True)
class ConsultationView:
    """One recorded consultation."""

    id: int
    case_id: int
    submission_id: int
    step_id: str
    reported_on: date
    advice: str
    note: str
    recorded_by: str  # username
    recorded_by_name: str  # display name
    recorded_at: datetime


@dataclass(frozen=True)
class ConsultationStep:
    """A report or consultation step that applies to the case, with what is recorded for it.

    `title` and `body` are the pack's texts ({lang: text}); `recorded` is the record for the
    current submission (None: still to record); `previous` is the newest record of an earlier
    submission (what the form may start from)."""

    step_id: str
    kind: str
    title: dict[str, str]
    body: dict[str, str] | None
    help: dict[str, str] | None
    recorded: ConsultationView | None
    previous: ConsultationView | None


def current_submission_id(s: Session, case_id: int) -> int | None:
    """The id of the case's newest `submission` decision (None: never submitted)."""
    return s.scalar(select(Decision.id).where(Decision.case_id == case_id,
                                              Decision.kind == "submission")
                    .order_by(Decision.id.desc()).limit(1))


def applicable_steps(pack: ResolvedPack, s: Session, case: Case) -> tuple[Any, ...]:
    """The pack's report and consultation steps that apply to the case's stored answers."""
    return pack.report_steps(classify(pack, load_answers(s, case.id)))


def missing_steps(pack: ResolvedPack, s: Session, case: Case) -> list[Any]:
    """The applicable steps with no consultation recorded for the current submission."""
    steps = applicable_steps(pack, s, case)
    if not steps:
        return []
    submission = current_submission_id(s, case.id)
    recorded = set() if submission is None else set(s.scalars(
        select(Consultation.step_id).where(Consultation.submission_id == submission)))
    return [step for step in steps if step.id not in recorded]


def _views(s: Session, rows: list[Consultation]) -> list[ConsultationView]:
    ids = {r.recorded_by for r in rows}
    names = {uid: (username, display) for uid, username, display in s.execute(
        select(User.id, User.username, User.display_name).where(User.id.in_(ids)))} if ids else {}
    return [ConsultationView(r.id, r.case_id, r.submission_id, r.step_id, r.reported_on, r.advice,
                             r.note, *names.get(r.recorded_by, ("", "")), r.recorded_at)
            for r in rows]


class ConsultationService(ServiceCore):
    """Recording the consultations a case's pack asks for before approval."""

    def consultation_steps(self, actor: Actor, case_id: int) -> list[ConsultationStep]:
        """The report and consultation steps that apply to the case (pack order), each with its
        record for the current submission and the newest earlier one."""
        with self.read() as s:
            case = s.get(Case, case_id)
            if case is None or case.org_id != actor.org_id:
                raise NotFoundError(f"case {case_id} not found", kind="case", id=case_id)
            pack = require_case_pack(self.registry, case)
            steps = applicable_steps(pack, s, case)
            if not steps:
                return []
            submission = current_submission_id(s, case.id)
            rows = _views(s, list(s.scalars(
                select(Consultation).where(Consultation.case_id == case.id)
                .order_by(Consultation.id))))
            out = []
            for step in steps:
                mine = [r for r in rows if r.step_id == step.id]
                current = next((r for r in reversed(mine) if r.submission_id == submission), None)
                earlier = next((r for r in reversed(mine) if r.submission_id != submission), None)
                out.append(ConsultationStep(step.id, step.kind, dict(step.title),
                                            dict(step.body) if step.body else None,
                                            dict(step.help) if step.help else None,
                                            current, earlier))
            return out

    def record_consultation(self, actor: Actor, case_id: int, step_id: str, *,
                            reported_on: date | str, advice: str,
                            note: str = "") -> ConsultationView:
        """Record (or correct) the consultation of one applicable step for the case's current
        submission (reviewer). The case must be submitted; `step_id` must be a report or
        consultation step that applies to it; `reported_on` a JST date not in the future;
        `advice` one of ADVICE."""
        if advice not in ADVICE:
            raise InputError(f"advice {advice!r} is not one of {', '.join(ADVICE)}",
                             field="advice", value=advice)
        note = checks.text(note, "note", required=False, multiline=True,
                           max_length=NOTE_MAX_LENGTH)
        with self.unit_of_work(actor, "case.consult") as uow:
            s = uow.session
            # Not `load_case(..., expected_version)`: the record is not a change of the case,
            # so it neither needs nor bumps the case's version.
            case = uow.load_case(case_id)
            if case.status != "submitted":
                raise WorkflowError(
                    f"case {case.id} is {case.status}; consultations are recorded while it is "
                    "submitted for review", case_id=case.id, status=case.status)
            pack = require_case_pack(self.registry, case)
            steps = {step.id: step for step in applicable_steps(pack, s, case)}
            if step_id not in steps:
                raise InputError(
                    f"case {case.id}: {step_id!r} is not a report or consultation step that "
                    f"applies to it (applicable: {', '.join(steps) or 'none'})",
                    field="step", value=step_id, case_id=case.id)
            today = fiscal.to_jst(uow.now).date()
            # Not bounded below: the report may predate the case's record here (a case moved
            # from the spreadsheets).
            day = parse_day(reported_on, "reported_on", today)
            submission = current_submission_id(s, case.id)
            assert submission is not None  # a submitted case has a submission decision
            user_id = uow.user_id("record consultations")
            row = s.scalar(select(Consultation).where(Consultation.submission_id == submission,
                                                      Consultation.step_id == step_id))
            old = None if row is None else {"reported_on": row.reported_on.isoformat(),
                                            "advice": row.advice, "note": row.note}
            if row is None:
                row = Consultation(case_id=case.id, submission_id=submission, step_id=step_id,
                                   reported_on=day, advice=advice, note=note,
                                   recorded_by=user_id, recorded_at=uow.now)
                s.add(row)
            else:
                row.reported_on, row.advice, row.note = day, advice, note
                row.recorded_by, row.recorded_at = user_id, uow.now
            payload: dict[str, Any] = {
                "step": step_id, "kind": steps[step_id].kind, "reported_on": day.isoformat(),
                "advice": advice, "note": note, "submission_id": submission,
            }
            if old is not None:
                payload["old"] = old
            uow.audit("case.consultation_recorded", case.id, payload)
            return _views(s, [row])[0]
