"""Audit event types: one registry (`procurement.vocabulary.EVENT_TYPES`), the list in
docs/audit-log.md, the types the code writes and the types a demo run writes are the same; every
one is put in words, in Japanese without English or JSON."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from procurement import events, vocabulary
from procurement.errors import AuthenticationError
from procurement.vocabulary import EVENT_TYPES

ROOT = Path(__file__).resolve().parents[2]
EVENT_TYPE = re.compile(r"^[a-z_]+\.[a-z_]+$")
#: Functions that pass an event type through as a variable (their callers are scanned).
PASS_THROUGH = {("procurement/records/core.py", "transition"),
                ("procurement/records/accounts.py", "_append"),
                ("procurement/records/core.py", "audit"),
                ("procurement/audit.py", "append_event")}


def documented_events() -> dict[str, str]:
    """event_type -> 表示名 from the table of docs/audit-log.md."""
    doc = (ROOT / "docs" / "audit-log.md").read_text(encoding="utf-8")
    section = doc[doc.index("## Event types"):doc.index("## The recipe")]
    return dict(re.findall(r"^\| `([a-z_.]+)` \| ([^|]+?) \|", section, re.MULTILINE))


def test_the_documented_event_types_are_the_registry():
    documented = documented_events()
    assert sorted(documented) == sorted(EVENT_TYPES)
    assert {e: vocabulary.event_word(e, "ja") for e in EVENT_TYPES} == documented


def _constants(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and EVENT_TYPE.match(n.value)}


def written_event_types() -> tuple[set[str], list[str]]:
    """Event types at every write site of the package: `audit(...)`, `_append(...)`,
    `transition(case, status, ...)` (writes `case.<status>`) and `event_type=` arguments. The
    second value lists write sites whose type is not a constant (outside the pass-through
    helpers), which would hide a type from this scan."""
    found: set[str] = set()
    hidden: list[str] = []
    for path in sorted((ROOT / "procurement").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = {id(n): f.name for f in ast.walk(tree)
                     if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                     for n in ast.walk(f)}
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            name = getattr(call.func, "attr", None) or getattr(call.func, "id", None)
            where = (rel, functions.get(id(call), ""))
            argument = None
            if name == "transition" and len(call.args) >= 2:
                status = call.args[1]
                if isinstance(status, ast.Constant):
                    found.add(f"case.{status.value}")
                elif where not in PASS_THROUGH:
                    hidden.append(f"{rel}:{call.lineno}")
                continue
            if name == "audit" and call.args:
                argument = call.args[0]
            elif name == "_append" and len(call.args) >= 4:
                argument = call.args[3]
            keyword = next((k.value for k in call.keywords if k.arg == "event_type"), None)
            if keyword is not None:  # e.g. EventRecord(..., event_type=...) or append_event
                found |= _constants(keyword)
                if name == "append_event" and not _constants(keyword) and where not in PASS_THROUGH:
                    hidden.append(f"{rel}:{call.lineno}")
            if argument is not None:
                constants = _constants(argument)
                if constants:
                    found |= constants
                elif where not in PASS_THROUGH:
                    hidden.append(f"{rel}:{call.lineno}")
    return found, hidden


def test_the_code_writes_exactly_the_registered_event_types():
    found, hidden = written_event_types()
    assert hidden == []
    assert sorted(found) == sorted(EVENT_TYPES)


def test_every_event_type_has_words_and_a_describer():
    assert set(events.DESCRIBERS) == set(EVENT_TYPES)
    japanese = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    for event_type in EVENT_TYPES:
        assert japanese.search(events.event_title(event_type, "ja")), event_type
        assert not japanese.search(events.event_title(event_type, "en")), event_type
    assert events.event_title("case.unknown", "ja") == "その他の記録（case.unknown）"
    assert events.describe_event("case.unknown", {"secret": "x"}, "ja") == ""


#: English that must not reach a Japanese page: payload keys, code values, old prose.
ENGLISH = re.compile(
    r"\b(changed|changes|reason|item_id|checklist item|answers|status|old|new|None|True|False|"
    r"evidence|vendor|model_name|severity|note|code|params|draft|submitted|approved|returned|"
    r"in_operation|met|pending|not_met|not_applicable|open|closed|low|medium|high|critical|"
    r"ismap_liu|not_listed|re-assess\w*)\b")


def test_a_demo_run_writes_only_registered_events_and_each_reads_in_japanese(demo_services):
    """The demo (with a withdrawal), its operations and incidents, a re-assessment under edition 2
    (which voids the pilot's approval) and a failed sign-in: every event written is registered, and
    its details in Japanese hold no English word, JSON or payload key."""
    import json

    from procurement.db.models import AuditEvent
    from procurement.demo.operations import seed_demo_operations

    svc = demo_services
    seed_demo_operations(svc)
    plan = svc.plan_reassessment("jp-national@2.0.0", org_code="demo-ministry")
    result = svc.apply_reassessment(plan, lambda org: svc.actor_for("ministry-packadmin"))
    assert result.voided  # the edition-1 pilot lost its approval
    with pytest.raises(AuthenticationError):
        svc.authenticate("ministry-planner", "wrong password")
    registry = svc.registry
    with svc.read() as s:
        rows = s.execute(select(AuditEvent.event_type, AuditEvent.payload, AuditEvent.case_id))
        written = [(t, p, c) for t, p, c in rows]
    types = {t for t, _, _ in written}
    assert types <= set(EVENT_TYPES), sorted(types - set(EVENT_TYPES))
    assert {"approval.voided", "case.reassessed", "case.checklist_set", "operation.started",
            "incident.closed", "auth.failed"} <= types
    pack = registry.resolve("jp-national@2.0.0")
    for event_type, payload, _case_id in written:
        text = events.describe_event(event_type, json.loads(payload), "ja", pack=pack)
        assert "{" not in text and "=" not in text, (event_type, text)
        assert not ENGLISH.search(text), (event_type, text)


def test_details_name_codes_with_the_vocabulary_s_words():
    item = events.describe_event("case.checklist_set", {
        "item_id": "PC-G1", "old": None, "new": {"status": "met", "evidence": "仕様書 3.2 節"}}, "ja")
    assert item == "チェックリスト項目 PC-G1: 未確認 → 充足（仕様書 3.2 節）"
    assert events.describe_event("case.checklist_set", {
        "item_id": "PC-G1", "old": {"status": "met", "evidence": ""},
        "new": {"status": "not_applicable", "evidence": "対象外の業務"}}, "en") == (
        "Checklist item PC-G1: Met → Not applicable (対象外の業務)")
    voided = {"reason": {"code": "checklist_changed", "params": {"item": "PC-G1"}}}
    assert events.describe_event("approval.voided", voided, "ja") == "チェックリスト項目 PC-G1 の変更"
    legacy = {"reason": "checklist item PC-G1 changed"}  # events written before codes
    assert events.describe_event("approval.voided", legacy, "ja") == "チェックリスト項目 PC-G1 の変更"
    submitted = {"old_status": "draft", "new_status": "submitted", "comment": "確認お願いします"}
    assert events.describe_event("case.submitted", submitted, "ja") == (
        "下書き → 審査中: 確認お願いします")
    started = {"started_on": "2026-05-01", "vendor": "株式会社テスト", "ismap_listing": "ismap:C1",
               "resumed": False}
    assert events.describe_event("operation.started", started, "ja") == (
        "運用開始日: 2026-05-01／事業者: 株式会社テスト／ISMAP: ISMAP登録 (C1)")
    updated = {"incident_id": 3, "old": {"severity": "low"}, "new": {"severity": "critical"}}
    assert events.describe_event("incident.updated", updated, "ja") == (
        "事案 #3／重大度: 軽微 → 極めて重大")
