"""Importing cases from a JSON array (`procurement cases import`): all or nothing.

Every entry is checked first, outside any write transaction (its fields, its pack, its answers
and checklist against that pack); only when all are valid are they written, in one short
transaction, so a large import never holds the write lock while it validates.
"""

from __future__ import annotations

from typing import Any

from procurement import fiscal
from procurement.db.models import ChecklistResult, Organisation
from procurement.errors import InputError, ProcurementError
from procurement.packs import classify
from procurement.records.cases import (
    CASE_DETAIL_FIELDS,
    CaseService,
    case_detail,
    checklist_value,
    require_case_pack,
)
from procurement.records.organisations import org_by_code, pack_for
from procurement.records.views import Actor, CaseView

#: Keys an entry may have.
ENTRY_KEYS = frozenset({"title", "department", "purpose", "pack", "answers", "checklist"})


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
        for i, entry in enumerate(entries):
            try:
                _check_entry(self.registry, org, entry, on)
            except ProcurementError as exc:
                errors.append({"index": i, "reason": exc.message})
        if errors:
            raise InputError(
                f"{len(errors)} of {len(entries)} entries are invalid; nothing was imported: "
                + "; ".join(f"[{e['index']}] {e['reason']}" for e in errors),
                errors=errors,
            )
        ids = []
        with self.unit_of_work(actor, "case.import") as uow:
            user_id = uow.user_id("import cases")
            for i, entry in enumerate(entries):
                case = self._create_case(uow, entry["title"], entry["department"],
                                         entry.get("pack"), entry.get("answers"),
                                         where=f"[{i}] ", purpose=entry.get("purpose", ""))
                pack = require_case_pack(self.registry, case)
                for item_id, item in (entry.get("checklist") or {}).items():
                    status, evidence = checklist_value(pack, item_id, item.get("status"),
                                                       item.get("evidence", ""), where="")
                    uow.session.add(ChecklistResult(
                        case_id=case.id, item_id=item_id, status=status, evidence=evidence,
                        updated_by=user_id, updated_at=uow.now))
                    uow.audit("case.checklist_set", case.id,
                              {"item_id": item_id, "old": None,
                               "new": {"status": status, "evidence": evidence}})
                ids.append(case.id)
        return [self.get_case(actor, i) for i in ids]


def _check_entry(registry: Any, org: Organisation, entry: Any, on: Any) -> None:
    if not isinstance(entry, dict):
        raise InputError("an entry must be an object with title, department and answers")
    unknown = sorted(set(entry) - ENTRY_KEYS)
    if unknown:
        raise InputError(f"unknown key(s) {', '.join(map(str, unknown))}; allowed: "
                         f"{', '.join(sorted(ENTRY_KEYS))}")
    for name in CASE_DETAIL_FIELDS:
        case_detail(name, entry.get(name, ""), where="")
    if "answers" not in entry or not isinstance(entry["answers"], dict):
        raise InputError("answers must be an object of question id -> value")
    pack_ref = entry.get("pack")
    if pack_ref is not None and not isinstance(pack_ref, str):
        raise InputError(f"pack must be a pack reference such as 'jp-national@2', not {pack_ref!r}")
    pack = pack_for(registry, org, pack_ref, on)
    classify(pack, {k: v for k, v in entry["answers"].items() if v is not None})
    checklist = entry.get("checklist")
    if checklist is None:
        return
    if not isinstance(checklist, dict):
        raise InputError("checklist must be an object of item id -> {status, evidence}")
    for item_id, item in checklist.items():
        if not isinstance(item, dict):
            raise InputError(f"checklist item {item_id} must be an object with status and evidence")
        extra = sorted(set(item) - {"status", "evidence"})
        if extra:
            raise InputError(f"checklist item {item_id}: unknown key(s) {', '.join(extra)}")
        checklist_value(pack, item_id, item.get("status"), item.get("evidence", ""), where="")
