"""Importing cases from a JSON array (`procurement cases import`): all or nothing.

Every entry is checked and classified first, outside any write transaction (its fields, its
pack, its answers and checklist against that pack). Only when all are valid are they written,
in one short transaction of a few statements (the cases, then answers, decisions and checklist
rows in bulk, then the events, the chain's head read once), so a large import holds the write
lock, and makes every other save wait, as briefly as possible: `python bench/import_lock.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, insert, select

from procurement import fiscal
from procurement.db.models import Answer, Case, ChecklistResult, Decision, Organisation
from procurement.errors import InputError, ProcurementError
from procurement.packs import Classification, ResolvedPack, classify
from procurement.records.cases import (
    CASE_DETAIL_FIELDS,
    CaseService,
    NewCase,
    case_detail,
    checklist_value,
    created_payload,
)
from procurement.records.organisations import org_by_code, pack_for
from procurement.records.views import Actor, CaseView, answers_hash, case_view, dump_answer

#: Keys an entry may have.
ENTRY_KEYS = frozenset({"title", "department", "purpose", "pack", "answers", "checklist"})


@dataclass(frozen=True)
class _Prepared:
    """One valid entry, checked and classified, ready to write."""

    title: str
    department: str
    purpose: str
    pack: ResolvedPack
    answers: dict[str, Any]
    result: Classification
    checklist: tuple[tuple[str, str, str], ...]  # (item id, status, evidence)


class ImportService(CaseService):
    """Creating many cases at once."""

    def import_cases(self, actor: Actor, entries: Any) -> list[CaseView]:
        """Create draft cases from `entries` (the `cases import` JSON array), all or nothing.

        Every entry is checked first; InputError lists each bad entry by index
        (`params["errors"] = [{"index", "reason"}]`) and nothing is written.
        """
        if not isinstance(entries, list):
            raise InputError("the import must be a JSON array of cases",
                             value=type(entries).__name__)
        with self.read() as s:
            org = org_by_code(s, actor.org_code)
        on = fiscal.to_jst(self.now()).date()
        errors: list[dict[str, Any]] = []
        prepared: list[_Prepared] = []
        packs: dict[Any, ResolvedPack] = {}
        for i, entry in enumerate(entries):
            try:
                prepared.append(_prepare(self.registry, org, entry, on, packs))
            except ProcurementError as exc:
                errors.append({"index": i, "reason": exc.message})
        if errors:
            raise InputError(
                f"{len(errors)} of {len(entries)} entries are invalid; nothing was imported: "
                + "; ".join(f"[{e['index']}] {e['reason']}" for e in errors),
                errors=errors,
            )
        with self.unit_of_work(actor, "case.import") as uow:
            user_id = uow.user_id("import cases")
            cases = [Case(
                org_id=org.id, title=p.title, department=p.department, purpose=p.purpose,
                owner_id=user_id, status="draft", pack_id=p.pack.id, pack_version=p.pack.version,
                pack_fingerprint=p.pack.fingerprint, level=p.result.level,
                is_complete=bool(p.result.complete), has_blocking=bool(p.result.blocking),
                answers_hash=answers_hash(p.answers), version=1, created_at=uow.now,
                updated_at=uow.now) for p in prepared]
            uow.session.add_all(cases)
            uow.session.flush()  # their ids
            answers, decisions, items, events = [], [], [], []
            for case, p in zip(cases, prepared):
                answers += [{"case_id": case.id, "org_id": case.org_id, "question_id": qid, "value": dump_answer(value),
                             "answered_by": user_id, "answered_at": uow.now}
                            for qid, value in p.answers.items()]
                decisions.append({
                    "case_id": case.id, "org_id": case.org_id, "kind": "classification", "actor_id": user_id,
                    "comment": "", "level": case.level, "pack_id": case.pack_id,
                    "pack_version": case.pack_version, "pack_fingerprint": case.pack_fingerprint,
                    "answers_hash": case.answers_hash, "created_at": uow.now})
                events.append(("case.created", case.id,
                               created_payload(NewCase(case, p.pack, p.answers, p.result))))
                for item_id, status, evidence in p.checklist:
                    items.append({"case_id": case.id, "org_id": case.org_id, "item_id": item_id, "status": status,
                                  "evidence": evidence, "updated_by": user_id,
                                  "updated_at": uow.now})
                    events.append(("case.checklist_set", case.id, {
                        "item_id": item_id, "old": None,
                        "new": {"status": status, "evidence": evidence}}))
            connection = uow.session.connection()
            for table, rows in ((Answer.__table__, answers), (Decision.__table__, decisions),
                                (ChecklistResult.__table__, items)):
                if rows:
                    connection.execute(insert(cast(Table, table)), rows)
            uow.audit_many(events)
            ids = [case.id for case in cases]
        with self.read() as s:
            return [case_view(s, self.registry, case) for case in
                    s.scalars(select(Case).where(Case.id.in_(ids)).order_by(Case.id))]


def _prepare(registry: Any, org: Organisation, entry: Any, on: date,
             packs: dict[Any, ResolvedPack]) -> _Prepared:
    """One entry checked against its pack and classified (InputError naming what is wrong)."""
    if not isinstance(entry, dict):
        raise InputError("an entry must be an object with title, department and answers")
    unknown = sorted(set(entry) - ENTRY_KEYS)
    if unknown:
        raise InputError(f"unknown key(s) {', '.join(map(str, unknown))}; allowed: "
                         f"{', '.join(sorted(ENTRY_KEYS))}")
    details = {name: case_detail(name, entry.get(name, ""), where="")
               for name in CASE_DETAIL_FIELDS}
    if "answers" not in entry or not isinstance(entry["answers"], dict):
        raise InputError("answers must be an object of question id -> value")
    pack_ref = entry.get("pack")
    if pack_ref is not None and not isinstance(pack_ref, str):
        raise InputError(f"pack must be a pack reference such as 'jp-national@2', not {pack_ref!r}")
    pack = packs.get(pack_ref)
    if pack is None:  # many cases of one import name the same pack: resolve it once
        pack = packs[pack_ref] = pack_for(registry, org, pack_ref, on)
    answers = {k: v for k, v in entry["answers"].items() if v is not None}
    result = classify(pack, answers)
    checklist = entry.get("checklist")
    rows: list[tuple[str, str, str]] = []
    if checklist is not None:
        if not isinstance(checklist, dict):
            raise InputError("checklist must be an object of item id -> {status, evidence}")
        for item_id, item in checklist.items():
            if not isinstance(item, dict):
                raise InputError(f"checklist item {item_id} must be an object with status and "
                                 "evidence")
            extra = sorted(set(item) - {"status", "evidence"})
            if extra:
                raise InputError(f"checklist item {item_id}: unknown key(s) {', '.join(extra)}")
            status, evidence = checklist_value(pack, item_id, item.get("status"),
                                               item.get("evidence", ""), where="")
            rows.append((item_id, status, evidence))
    return _Prepared(details["title"], details["department"], details["purpose"], pack,
                     answers, result, tuple(rows))
