"""What stops a submission, and which steps are done (plain Python, no Streamlit): the rules
`Services.submit` enforces and the app shows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from procurement.packs import classify
from procurement.records.readiness import Gap, completed_steps, describe_gaps, item_step, submission_gaps
from procurement.services import BOARD_REPORT_FIELDS, CaseView, ChecklistEntry

NOW = datetime(2026, 7, 1, tzinfo=UTC)
LOW = {"SC-1": "yes", "SC-2": "no", "SC-3": "fy2026_or_later", "SC-4": "in_house",
       "HR-1": "staff_limited", "HR-2": "internal_support", "HR-3": "public_only",
       "HR-4": "always_reviewed"}


@pytest.fixture(scope="module")
def pack(records_registry):
    return records_registry.resolve("jp-national@2.0.0")


def case_of(pack, answers, checklist=None, board=None, status="draft") -> CaseView:
    return CaseView(
        id=1, org_code="org-a", title="t", department="d", owner_id=1, owner_name="o",
        status=status, pack_id=pack.id, pack_version=pack.version, pack_fingerprint=pack.fingerprint,
        level=None, is_complete=False, has_blocking=False, version=1, created_at=NOW,
        updated_at=NOW, submitted_at=None, approved_at=None, answers=dict(answers),
        checklist=checklist or {}, board_report=board, classification=classify(pack, answers),
    )


def all_met(pack, answers, status="met", evidence="spec 1"):
    required = classify(pack, answers).required_items
    return {i: ChecklistEntry(status, evidence, "o", NOW) for i in required}


def test_a_complete_low_case_with_every_required_item_met_may_be_submitted(pack):
    case = case_of(pack, LOW, all_met(pack, LOW))
    assert submission_gaps(pack, case) == []
    assert completed_steps(pack, case) == {"intake", "scope", "classification",
                                           "procurement_checklist", "contract_checklist"}


def test_unanswered_questions_are_listed_with_their_step(pack):
    answers = {k: v for k, v in LOW.items() if k not in ("SC-3", "HR-2")}
    gaps = submission_gaps(pack, case_of(pack, answers, all_met(pack, LOW)))
    assert Gap("question", "SC-3", "scope") in gaps and Gap("question", "HR-2", "classification") in gaps
    assert "scope" not in completed_steps(pack, case_of(pack, answers))


def test_not_applicable_needs_a_reason_and_not_met_is_a_gap(pack):
    checklist = all_met(pack, LOW)
    checklist["PC-G1"] = ChecklistEntry("not_applicable", "  ", "o", NOW)
    checklist["CC-2"] = ChecklistEntry("not_met", "", "o", NOW)
    del checklist["PC-S1"]
    gaps = submission_gaps(pack, case_of(pack, LOW, checklist))
    assert gaps == [
        Gap("item_reason", "PC-G1", "procurement_checklist"),
        Gap("item_pending", "PC-S1", "procurement_checklist"),
        Gap("item_not_met", "CC-2", "contract_checklist"),
    ]
    checklist["PC-G1"] = ChecklistEntry("not_applicable", "no vendor AI governance: in-house", "o", NOW)
    assert Gap("item_reason", "PC-G1", "procurement_checklist") not in submission_gaps(
        pack, case_of(pack, LOW, checklist))


def test_high_cases_need_every_board_report_field_and_low_cases_none(pack):
    high = {**LOW, "HR-1": "public"}
    board = {name: "x" for name in BOARD_REPORT_FIELDS} | {"qa_plan": " "}
    gaps = submission_gaps(pack, case_of(pack, high, all_met(pack, high), board))
    assert gaps == [Gap("board_field", "qa_plan", "board_report")]
    assert submission_gaps(pack, case_of(pack, LOW, all_met(pack, LOW), None)) == []


def test_a_municipal_case_reports_to_its_own_body_not_the_national_board(records_registry):
    """city-strict 2.0.0 (on jp-municipal) replaces the Advisory Board step by the municipality's
    own report step: the report fields are asked for at that step, and the board step never."""
    city = records_registry.resolve("city-strict@2.0.0")
    high = {**LOW, "HR-1": "public", "LQ-1": "no", "MQ-1": "lgwan"}
    result = classify(city, high)
    assert "municipal_report" in result.required_steps
    assert "board_report" not in result.required_steps
    board = {name: "x" for name in BOARD_REPORT_FIELDS} | {"objectives": ""}
    gaps = submission_gaps(city, case_of(city, high, all_met(city, high), board))
    assert [g for g in gaps if g.kind == "board_field"] == [
        Gap("board_field", "objectives", "municipal_report")]


def test_a_blocking_finding_stops_submission(pack):
    blocked = {**LOW, "SC-4": "terms_of_service", "HR-3": "conf2_input"}
    gaps = submission_gaps(pack, case_of(pack, blocked, all_met(pack, blocked)))
    assert [g.kind for g in gaps] == ["blocking"]


def test_usage_rules_are_worked_on_at_submission(pack):
    assert item_step(pack, "UR-1") == "submission"
    assert item_step(pack, "CC-1") == "contract_checklist"
    case = case_of(pack, LOW, all_met(pack, LOW), status="submitted")
    assert "submission" in completed_steps(pack, case)
    assert "approval" not in completed_steps(pack, case)


def test_gaps_travel_as_dicts_and_read_as_english(pack):
    gaps = [Gap("question", "SC-3", "scope"), Gap("item_reason", "PC-G1", "procurement_checklist")]
    assert [g.to_dict() for g in gaps] == [
        {"kind": "question", "id": "SC-3", "step": "scope"},
        {"kind": "item_reason", "id": "PC-G1", "step": "procurement_checklist"}]
    assert Gap(**gaps[0].to_dict()) == gaps[0]
    assert describe_gaps(gaps) == ("question SC-3 is not answered (step scope); checklist item "
                                   "PC-G1 is not applicable without a reason (step "
                                   "procurement_checklist)")


def test_only_the_ui_package_imports_streamlit():
    """The rules (and everything else outside procurement/ui) are plain Python."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "procurement"
    offenders = []
    for path in sorted(root.rglob("*.py")):
        if (root / "ui") in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "streamlit" or n.startswith("streamlit.") for n in names):
                offenders.append(f"{path.relative_to(root.parent)}:{node.lineno}")
    assert offenders == []
