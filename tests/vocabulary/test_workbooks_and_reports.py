"""Workbooks and reports say the vocabulary's words: the organisation workbook, the case
workbook and the board report name statuses, decisions, checklist results and void reasons as the
screens do, with the codes kept beside them for filters; no void reason is shown as JSON."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from procurement.exports import build_case_workbook, build_organisation_workbook
from procurement.vocabulary import TERMS, describe_void_reason, word


@pytest.fixture
def reassessed_demo(demo_services):
    """The demo with the ministry re-assessed under edition 2 (the pilot's approval voided)."""
    from procurement.demo.operations import seed_demo_operations

    svc = demo_services
    seed_demo_operations(svc)
    plan = svc.plan_reassessment("jp-national@2.0.0", org_code="demo-ministry")
    result = svc.apply_reassessment(plan, lambda org: svc.actor_for("ministry-packadmin"))
    assert result.voided
    reviewer = svc.actor_for("ministry-reviewer")
    return svc, {c.title: c.id for c in svc.list_cases(reviewer)}


def japanese(kind: str) -> set[str]:
    return {term.ja for term in TERMS[kind].values()}


def test_the_organisation_workbook_names_codes_with_the_vocabulary(reassessed_demo, tmp_path):
    svc, ids = reassessed_demo
    out = tmp_path / "org.xlsx"
    build_organisation_workbook(svc.engine, out, registry=svc.registry)
    cases = pd.read_excel(out, sheet_name="案件", header=1)
    assert set(cases["status_ja"]) <= japanese("case_status")
    assert all(word("case_status", s) == w for s, w in zip(cases["status"], cases["status_ja"]))
    reasons = dict(zip(cases["case_id"], cases["approval_voided_reason"]))
    assert reasons[ids["統計資料の要約"]] == "チェックリスト項目 PC-G1 の変更"
    assert reasons[ids["事業者向け支援制度案内AIの試行"]] == "jp-national@2.0.0 による再判定"

    decisions = pd.read_excel(out, sheet_name="判定", header=1)
    assert set(decisions["kind_ja"]) <= japanese("decision")
    notes = decisions["comment"].fillna("")
    assert not any(note.startswith("{") or "re-assessed" in note for note in notes)
    voids = decisions[decisions["kind"] == "void"]
    assert set(voids["comment"]) == {"チェックリスト項目 PC-G1 の変更", "jp-national@2.0.0 による再判定"}
    reassessed = decisions[decisions["kind"] == "reassessment"]
    assert set(reassessed["comment"]) == {"jp-national@2.0.0"}  # the pack the case moved to

    checklist = pd.read_excel(out, sheet_name="チェックリスト", header=1)
    assert set(checklist["status_ja"]) <= japanese("checklist_status")
    incidents = pd.read_excel(out, sheet_name="リスク事案", header=1)
    assert set(incidents["severity_ja"]) <= japanese("severity")
    assert set(incidents["status_ja"]) <= japanese("incident_status")


def test_the_case_workbook_names_codes_with_the_vocabulary(reassessed_demo, tmp_path):
    svc, ids = reassessed_demo
    case_id = ids["事業者向け支援制度案内AIの試行"]
    out = tmp_path / "case.xlsx"
    build_case_workbook(svc.engine, case_id, out, registry=svc.registry)
    cells = [str(c) for sheet in openpyxl.load_workbook(out)
             for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    stored = svc.get_case(svc.actor_for("ministry-reviewer"), case_id).approval_voided_reason
    # A document for people: the words alone (the codes are in the organisation workbook).
    assert "承認の失効の日時" in cells and "承認の失効の理由" in cells
    assert describe_void_reason(stored) == "jp-national@2.0.0 による再判定" in cells
    assert "下書き" in cells and "(draft)" not in " ".join(cells)  # the status
    assert "承認の失効" in cells and "再判定" in cells
    assert not any(c.startswith("{") or "re-assessed" in c for c in cells)


def test_the_board_report_names_codes_with_the_vocabulary(reassessed_demo):
    svc, ids = reassessed_demo
    reviewer = svc.actor_for("ministry-reviewer")
    doc = svc.board_report_document(reviewer, ids["国民向けFAQチャットボット"], lang="ja")
    sections = {s.title: s for s in doc.sections}
    fields = {f.label: f.value for f in sections["1. 案件の概要"].fields}
    assert fields["状態"] == word("case_status", "in_operation")
    board = {f.label for f in sections["4. 報告事項"].fields}
    assert board == japanese("board_field")
    (closed, open_) = sections["7. リスク事案"].rows
    assert (closed[2], closed[-1]) == ("重大", "対応完了") and open_[-1] == "対応中"
    operation = {f.label for f in sections["6. 運用状況"].fields}
    assert {"事業者", "モデル", "ISMAP", "運用開始日"} <= operation
