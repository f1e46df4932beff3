"""Cases: creating them, reading them, and recording answers, checklist items and the report.

A planner of the organisation writes; everyone of the organisation reads (auditors only read).
Every write takes `expected_version` and raises ConflictError when the stored version differs.
Answers, checklist items and the report are assessed: a change to an approved case voids its
approval. Intake details (title, department, purpose) say what the case is and are not assessed:
changing them never voids an approval (the event records old and new values).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import String, or_, select

from procurement import fiscal
from procurement.db.models import (
    BOARD_REPORT_FIELDS,
    Answer,
    AuditEvent,
    BoardReport,
    Case,
    ChecklistResult,
    Organisation,
    User,
)
from procurement.errors import InputError, NotFoundError, ProcurementError, WorkflowError
from procurement.packs import Classification, ResolvedPack, classify
from procurement.records import checks, policy
from procurement.records.core import ServiceCore, UnitOfWork
from procurement.records.organisations import pack_for
from procurement.records.views import (
    Actor,
    CaseSummary,
    CaseView,
    EventView,
    answers_hash,
    case_pack,
    case_view,
    dump_answer,
    event_view,
    summary_of,
)
from procurement.vocabulary import VoidReason

#: A case's intake details (what it is, not how it is assessed), edited by `save_case_details`.
CASE_DETAIL_FIELDS = ("title", "department", "purpose")
#: The longest purpose (利用目的) accepted, in characters: a paragraph or two, as in the reports.
PURPOSE_MAX_LENGTH = 2000
#: The longest text each intake detail accepts (title and department: their column sizes).
CASE_DETAIL_MAX_LENGTHS: dict[str, int] = {
    # Both columns are String(n) with a length.
    "title": cast(int, cast(String, Case.__table__.c.title.type).length),
    "department": cast(int, cast(String, Case.__table__.c.department.type).length),
    "purpose": PURPOSE_MAX_LENGTH,
}


@dataclass(frozen=True)
class NewCase:
    """A case being created, with what its records and event need."""

    case: Case
    pack: ResolvedPack
    answers: dict[str, Any]
    result: Classification


def created_payload(new: NewCase) -> dict[str, Any]:
    """The payload of a `case.created` event."""
    case = new.case
    return {
        "title": case.title, "department": case.department, "purpose": case.purpose,
        "pack": new.pack.ref, "answers": new.answers,
        "answers_hash": case.answers_hash, "level": case.level,
        "complete": case.is_complete, "blocking": [f.id for f in new.result.blocking],
    }


class CaseService(ServiceCore):
    """Reading and writing cases."""

    # -- reading ------------------------------------------------------------------------------

    def get_case(self, actor: Actor, case_id: int) -> CaseView:
        """The case with answers, checklist, board report, live classification and decisions."""
        with self.read() as s:
            case = s.get(Case, case_id)
            if case is None or case.org_id != actor.org_id:
                raise NotFoundError(f"case {case_id} not found", kind="case", id=case_id)
            return case_view(s, self.registry, case)

    def case_version(self, actor: Actor, case_id: int) -> int:
        """The stored version of a case: one cheap read, so that a caller holding a `CaseView`
        of that version (the app, on every rerun) can skip reading the whole case again."""
        with self.read() as s:
            row = s.execute(select(Case.version, Case.org_id).where(Case.id == case_id)).first()
            if row is None or row.org_id != actor.org_id:
                raise NotFoundError(f"case {case_id} not found", kind="case", id=case_id)
            return int(row.version)

    def list_cases(
        self, actor: Actor, mine: bool = False, status: str | None = None,
        level: str | None = None, search: str | None = None,
    ) -> list[CaseSummary]:
        """The actor's organisation's cases, newest change first, filtered."""
        with self.read() as s:
            stmt = (
                select(Case, User.display_name, Organisation.code)
                .join(User, Case.owner_id == User.id)
                .join(Organisation, Case.org_id == Organisation.id)
                .where(Case.org_id == actor.org_id)
            )
            if mine:
                stmt = stmt.where(Case.owner_id == actor.user_id)
            if status:
                if status not in policy.CASE_STATUSES:
                    raise InputError(f"unknown case status {status!r}; one of "
                                     f"{', '.join(policy.CASE_STATUSES)}", field="status",
                                     value=status)
                stmt = stmt.where(Case.status == status)
            if level:
                stmt = stmt.where(Case.level == level)
            if search:
                like = f"%{search.strip()}%"
                stmt = stmt.where(or_(Case.title.ilike(like), Case.department.ilike(like),
                                      Case.purpose.ilike(like)))
            stmt = stmt.order_by(Case.updated_at.desc(), Case.id.desc())
            return [summary_of(c, owner, code) for c, owner, code in s.execute(stmt)]

    def case_history(self, actor: Actor, case_id: int) -> list[EventView]:
        """The audit events of one case, oldest first."""
        with self.read() as s:
            case = s.get(Case, case_id)
            if case is None or case.org_id != actor.org_id:
                raise NotFoundError(f"case {case_id} not found", kind="case", id=case_id)
            rows = s.scalars(
                select(AuditEvent)
                .where(AuditEvent.chain == actor.org_code, AuditEvent.case_id == case_id)
                .order_by(AuditEvent.seq)
            )
            return [event_view(e) for e in rows]

    # -- writing ------------------------------------------------------------------------------

    def create_case(
        self, actor: Actor, title: str, department: str, pack_ref: str | None = None,
        answers: Mapping[str, Any] | None = None, purpose: str = "",
    ) -> CaseView:
        """A new draft case, classified from `answers` (planner); `purpose` (利用目的) is optional
        here and may be written later with `save_case_details`."""
        with self.unit_of_work(actor, "case.create") as uow:
            case = self._create_case(uow, title, department, pack_ref, answers, where="",
                                     purpose=purpose)
            return case_view(uow.session, self.registry, case)

    def _create_case(self, uow: UnitOfWork, title: Any, department: Any, pack_ref: Any,
                     answers: Any, where: str, purpose: Any = "") -> Case:
        new = self._new_case(uow, title, department, pack_ref, answers, where, purpose)
        uow.session.flush()  # the case's id
        self._record_new_case(uow, new)
        return new.case

    def _new_case(self, uow: UnitOfWork, title: Any, department: Any, pack_ref: Any,
                  answers: Any, where: str, purpose: Any = "") -> NewCase:
        """A new case, checked and classified, added to the session (not yet flushed)."""
        title = case_detail("title", title, where)
        department = case_detail("department", department, where)
        purpose = case_detail("purpose", purpose, where)
        if pack_ref is not None and not isinstance(pack_ref, str):
            raise InputError(f"{where}pack must be a pack reference such as 'jp-national@2'",
                             field=f"{where}pack", value=pack_ref)
        if answers is None:
            answers = {}
        if not isinstance(answers, Mapping):
            raise InputError(f"{where}answers must be an object of question id -> value",
                             field=f"{where}answers", value=answers)
        answers = {k: v for k, v in answers.items() if v is not None}
        org = uow.session.get(Organisation, uow.actor.org_id)
        assert org is not None
        pack = pack_for(self.registry, org, pack_ref, fiscal.to_jst(uow.now).date())
        result = classify(pack, answers)
        owner = uow.user_id("own cases")
        case = Case(
            org_id=org.id, title=title, department=department, purpose=purpose, owner_id=owner,
            status="draft", pack_id=pack.id, pack_version=str(pack.version),
            pack_fingerprint=pack.fingerprint, level=result.level,
            is_complete=bool(result.complete), has_blocking=bool(result.blocking),
            answers_hash=answers_hash(answers), version=1, created_at=uow.now,
            updated_at=uow.now,
        )
        uow.session.add(case)
        return NewCase(case, pack, answers, result)

    def _record_new_case(self, uow: UnitOfWork, new: NewCase) -> None:
        """The answers, the first classification decision and the `case.created` event of a
        flushed new case."""
        case = new.case
        for qid, value in new.answers.items():
            uow.session.add(Answer(case_id=case.id, question_id=qid, value=dump_answer(value),
                                   answered_by=case.owner_id, answered_at=uow.now))
        uow.decide(case, "classification")
        uow.audit("case.created", case.id, created_payload(new))

    def save_case_details(
        self, actor: Actor, case_id: int, fields: Mapping[str, Any], expected_version: int,
    ) -> CaseView:
        """Save some or all intake details of a case (CASE_DETAIL_FIELDS: title, department,
        purpose), with the same role, organisation and status checks as `save_answers`.

        These details say what the case is; they are not assessed (no rule reads them, and an
        approval is pinned to the answers hash and the pack fingerprint, which they do not
        change). So editing them does NOT void an approval and does not re-classify: renaming a
        department or clarifying the purpose of an approved (or running) system must not send
        it back through review. The event `case.details_saved` records every old and new value,
        so the change stays visible in the case history and the audit log.
        """
        if not isinstance(fields, Mapping):
            raise InputError("fields must be a mapping of field name -> text", value=fields)
        unknown = sorted(set(fields) - set(CASE_DETAIL_FIELDS))
        if unknown:
            raise InputError(
                f"unknown case detail field(s) {', '.join(map(str, unknown))}; allowed: "
                f"{', '.join(CASE_DETAIL_FIELDS)}", field=str(unknown[0]), fields=unknown,
                allowed=list(CASE_DETAIL_FIELDS),
            )
        values = {name: case_detail(name, value, where="") for name, value in fields.items()}
        with self.unit_of_work(actor, "case.edit") as uow:
            case = uow.load_case(case_id, expected_version)
            check_editable(case)
            changes = {
                name: {"old": getattr(case, name), "new": value}
                for name, value in values.items() if getattr(case, name) != value
            }
            if changes:
                for name, change in changes.items():
                    setattr(case, name, change["new"])
                uow.touch(case)
                uow.audit("case.details_saved", case.id, {"changes": changes})
            return case_view(uow.session, self.registry, case)

    def save_answers(
        self, actor: Actor, case_id: int, answers: Mapping[str, Any], expected_version: int,
    ) -> CaseView:
        """Merge `answers` into the case (a None value clears that answer) and re-classify."""
        if not isinstance(answers, Mapping):
            raise InputError("answers must be a mapping of question id -> value", value=answers)
        with self.unit_of_work(actor, "case.edit") as uow:
            case = uow.load_case(case_id, expected_version)
            check_editable(case)
            s = uow.session
            rows = {a.question_id: a for a in
                    s.scalars(select(Answer).where(Answer.case_id == case.id))}
            current = {q: json.loads(a.value) for q, a in rows.items()}
            merged = dict(current)
            for qid, value in answers.items():
                if value is None:
                    merged.pop(qid, None)
                else:
                    merged[qid] = value
            changes = {
                q: {"old": current.get(q), "new": merged.get(q)}
                for q in sorted(set(current) | set(merged)) if current.get(q) != merged.get(q)
            }
            if not changes:
                return case_view(s, self.registry, case)
            pack = require_case_pack(self.registry, case)
            result = classify(pack, merged)
            user_id = uow.user_id("answer questions")
            for qid, change in changes.items():
                row = rows.get(qid)
                if change["new"] is None:
                    s.delete(row)
                elif row is None:
                    s.add(Answer(case_id=case.id, question_id=qid, value=dump_answer(change["new"]),
                                 answered_by=user_id, answered_at=uow.now))
                else:
                    row.value = dump_answer(change["new"])
                    row.answered_by = user_id
                    row.answered_at = uow.now
            old_level = case.level
            _store_result(case, result, merged)
            uow.touch(case)
            uow.audit("case.answers_saved", case.id, {
                "changes": changes, "answers_hash": case.answers_hash, "level": case.level,
                "complete": case.is_complete, "blocking": [f.id for f in result.blocking],
            })
            if old_level != case.level:
                uow.decide(case, "classification")
                uow.audit("case.classified", case.id, {"old": old_level, "new": case.level})
            uow.void_approval(case, VoidReason("answers_changed"))
            return case_view(s, self.registry, case)

    def set_checklist_item(
        self, actor: Actor, case_id: int, item_id: str, status: str, evidence: str,
        expected_version: int,
    ) -> CaseView:
        """Record the status and evidence of one checklist item (`met` needs evidence unless
        the item says `evidence_required: false`: InputError naming the item)."""
        return self.set_checklist_items(actor, case_id, {item_id: (status, evidence)},
                                        expected_version)

    def set_checklist_items(
        self, actor: Actor, case_id: int, changes: Mapping[str, Any], expected_version: int,
    ) -> CaseView:
        """Record several checklist items at once: `changes` maps item id -> (status,
        evidence). One transaction and one version bump for the whole batch; one
        `case.checklist_set` event per item that really changes (an unchanged item writes
        nothing). Every item is checked before anything is written, so a batch with one bad
        item (unknown id or status, or `met` without evidence where the item needs it) is
        refused whole, the InputError naming that item (`item_id`)."""
        if not isinstance(changes, Mapping):
            raise InputError("changes must be a mapping of item id -> (status, evidence)",
                             value=changes)
        pairs: list[tuple[Any, Any, Any]] = []
        for item_id, value in changes.items():
            if not isinstance(value, (tuple, list)) or len(value) != 2:
                raise InputError(f"checklist item {item_id}: give (status, evidence)",
                                 field="status", item_id=item_id, value=value)
            pairs.append((item_id, value[0], value[1]))
        with self.unit_of_work(actor, "case.edit") as uow:
            case = uow.load_case(case_id, expected_version)
            check_editable(case)
            pack = require_case_pack(self.registry, case)
            checked = {item_id: checklist_value(pack, item_id, status, evidence, where="")
                       for item_id, status, evidence in pairs}
            s = uow.session
            rows = {r.item_id: r for r in s.scalars(select(ChecklistResult).where(
                ChecklistResult.case_id == case.id,
                ChecklistResult.item_id.in_(list(checked))))} if checked else {}
            updates = []
            for item_id, (status, evidence) in checked.items():
                row = rows.get(item_id)
                old = None if row is None else {"status": row.status, "evidence": row.evidence}
                new = {"status": status, "evidence": evidence}
                if old != new:
                    updates.append((item_id, row, old, new))
            if not updates:
                return case_view(s, self.registry, case)
            user_id = uow.user_id("record checklist items")
            for item_id, row, _old, new in updates:
                if row is None:
                    s.add(ChecklistResult(case_id=case.id, item_id=item_id, status=new["status"],
                                          evidence=new["evidence"], updated_by=user_id,
                                          updated_at=uow.now))
                else:
                    row.status, row.evidence = new["status"], new["evidence"]
                    row.updated_by, row.updated_at = user_id, uow.now
            uow.touch(case)
            for item_id, _row, old, new in updates:
                uow.audit("case.checklist_set", case.id, {"item_id": item_id, "old": old,
                                                          "new": new})
            # The first changed item voids an approval; the case is then a draft and the
            # others change nothing more.
            uow.void_approval(case, VoidReason("checklist_changed", {"item": updates[0][0]}))
            return case_view(s, self.registry, case)

    def display_names(self, actor: Actor) -> dict[str, str]:
        """username -> display name of every account of the actor's organisation: the app
        names people (in histories, decisions) by name, and the audit trail keeps usernames."""
        with self.read() as s:
            rows = s.execute(select(User.username, User.display_name)
                             .where(User.org_id == actor.org_id))
            return {username: name for username, name in rows}

    def save_board_report(
        self, actor: Actor, case_id: int, fields: Mapping[str, Any], expected_version: int,
    ) -> CaseView:
        """Save some or all fields of the board report (BOARD_REPORT_FIELDS)."""
        unknown = sorted(set(fields) - set(BOARD_REPORT_FIELDS))
        if unknown:
            raise InputError(
                f"unknown board report field(s) {', '.join(unknown)}; allowed: "
                f"{', '.join(BOARD_REPORT_FIELDS)}", fields=unknown,
                allowed=list(BOARD_REPORT_FIELDS),
            )
        values = {
            name: checks.text(value, name, required=False, multiline=True, strip=False,
                              max_length=checks.LONG_TEXT_MAX_LENGTH)
            for name, value in fields.items()
        }
        with self.unit_of_work(actor, "case.edit") as uow:
            case = uow.load_case(case_id, expected_version)
            check_editable(case)
            s = uow.session
            user_id = uow.user_id("write reports")
            report = s.scalar(select(BoardReport).where(BoardReport.case_id == case.id))
            if report is None:
                report = BoardReport(case_id=case.id, updated_by=user_id, updated_at=uow.now,
                                     **{f: "" for f in BOARD_REPORT_FIELDS})
                s.add(report)
            changes = {
                name: {"old": getattr(report, name), "new": value}
                for name, value in values.items() if getattr(report, name) != value
            }
            if not changes:
                return case_view(s, self.registry, case)
            for name, change in changes.items():
                setattr(report, name, change["new"])
            report.updated_by, report.updated_at = user_id, uow.now
            uow.touch(case)
            uow.audit("case.board_report_saved", case.id, {"changes": changes})
            uow.void_approval(case, VoidReason("board_report_changed"))
            return case_view(s, self.registry, case)


# --------------------------------------------------------------------------------------------


def _store_result(case: Case, result: Classification, answers: Mapping[str, Any]) -> None:
    case.answers_hash = answers_hash(answers)
    case.level = result.level
    case.is_complete = bool(result.complete)
    case.has_blocking = bool(result.blocking)


def require_case_pack(registry: Any, case: Case) -> ResolvedPack:
    """The exact pack of `case`; WorkflowError when it is no longer installed."""
    pack = case_pack(registry, case)
    if pack is None:
        raise WorkflowError(
            f"case {case.id} is assessed under {case.pack_id}@{case.pack_version}, which is no "
            "longer installed", case_id=case.id, pack=f"{case.pack_id}@{case.pack_version}",
        )
    return pack


def require_same_pack(registry: Any, case: Case) -> ResolvedPack:
    """The case's pack, refusing a decision if its content changed under the same version:
    a submission or approval must be pinned to the rules that were actually shown."""
    pack = require_case_pack(registry, case)
    if pack.fingerprint != case.pack_fingerprint:
        raise WorkflowError(
            f"case {case.id}: pack {case.pack_id}@{case.pack_version} changed since the case was "
            f"assessed (fingerprint {case.pack_fingerprint[:12]} -> {pack.fingerprint[:12]}); "
            "re-assess the case first", case_id=case.id,
            stored=case.pack_fingerprint, current=pack.fingerprint,
        )
    return pack


def check_editable(case: Case) -> None:
    if case.status not in policy.EDITABLE_STATUSES:
        raise WorkflowError(
            f"case {case.id} is {case.status} and cannot be edited"
            + (" until a reviewer returns it" if case.status == "submitted" else ""),
            case_id=case.id, status=case.status,
        )


def checklist_value(pack: ResolvedPack, item_id: Any, status: Any, evidence: Any,
                    where: str) -> tuple[str, str]:
    """A checklist item's status and evidence, checked against the pack and the vocabulary.

    `met` is a claim that something is in place: it needs evidence (where it is shown, e.g.
    "仕様書 3.2 節"), unless the pack's item says `evidence_required: false`."""
    try:
        item = pack.item(item_id)
    except (KeyError, ProcurementError) as exc:
        raise InputError(f"{where}unknown checklist item {item_id!r} in {pack.id}@{pack.version}",
                         field="item_id", value=item_id) from exc
    if status not in policy.CHECKLIST_STATUSES:
        raise InputError(
            f"{where}checklist item {item_id}: status {status!r} is not one of "
            f"{', '.join(policy.CHECKLIST_STATUSES)}", field="status", value=status,
            item_id=item_id)
    if evidence is not None and not isinstance(evidence, str):
        raise InputError(f"{where}checklist item {item_id}: evidence must be text",
                         field="evidence", value=evidence, item_id=item_id)
    evidence = checks.text(evidence, "evidence", required=False, multiline=True, strip=False,
                           max_length=checks.LONG_TEXT_MAX_LENGTH)
    if status == "met" and item.evidence_required and not evidence.strip():
        raise InputError(
            f"{where}checklist item {item_id}: 'met' needs evidence (where it is shown, e.g. "
            "the section of the specification)", field="evidence", item_id=str(item_id),
            reason="evidence_required")
    return str(status), evidence


def case_detail(name: str, value: Any, where: str) -> str:
    """One intake detail of a case, checked and trimmed: title and department are required
    and fit their columns; purpose is optional multi-line text of at most PURPOSE_MAX_LENGTH
    characters, its line ends made LF."""
    return checks.text(value, f"{where}{name}", required=name != "purpose",
                       max_length=CASE_DETAIL_MAX_LENGTHS[name], multiline=name == "purpose")
