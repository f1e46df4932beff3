"""A case's purpose (利用目的) reaches the reports: the organisation workbook's 案件 sheet (a
column after the department), the case workbook's header part, and the periodic report, which
falls back to the board report's objectives only for a case without a purpose."""

from __future__ import annotations

import openpyxl
import pandas as pd

from procurement.demo import HIGH, LOW
from procurement.exports import ExportFilters, build_case_workbook, build_organisation_workbook
from procurement.exports.case import DETERMINATION
from procurement.exports.organisation import CASES
from tests.fixtures.services import submit_filled

PURPOSE = "住民からの問い合わせに、公開情報を根拠とした回答案を示す。\n回答は職員が確認する。"
FORMULA_PURPOSE = "=HYPERLINK(\"http://evil.example\",\"目的\")"


def test_the_cases_sheet_has_a_purpose_column_after_the_department(services, planner, tmp_path,
                                                                    records_registry):
    with_purpose = services.create_case(planner, "問い合わせ対応", "広報室", answers=LOW,
                                        purpose=PURPOSE)
    hostile = services.create_case(planner, "数式の目的", "総務課", purpose=FORMULA_PURPOSE)
    without = services.create_case(planner, "目的なし", "総務課")
    out = tmp_path / "org.xlsx"
    build_organisation_workbook(services.engine, out, filters=ExportFilters(org_codes=("org-a",)),
                                registry=records_registry)
    sheet = openpyxl.load_workbook(out)[CASES]
    ja = [c.value for c in sheet[1]]
    en = [c.value for c in sheet[2]]
    # Pinned on purpose: title, department, then purpose, then the owner as before.
    assert en[:6] == ["case_id", "org", "title", "department", "purpose", "owner"]
    assert ja[4] == "利用目的"
    cells = {row[0].value: row[4] for row in sheet.iter_rows(min_row=3)}
    assert cells[with_purpose.id].value == PURPOSE
    assert cells[hostile.id].value == FORMULA_PURPOSE and cells[hostile.id].quotePrefix
    assert cells[without.id].value in (None, "")
    frame = pd.read_excel(out, sheet_name=CASES, header=1).set_index("case_id")
    assert frame.loc[with_purpose.id, "purpose"] == PURPOSE


def test_the_case_workbook_shows_the_purpose_in_its_header_part(services, planner, tmp_path,
                                                                records_registry):
    case = services.create_case(planner, "問い合わせ対応", "広報室", answers=LOW, purpose=PURPOSE)
    out = build_case_workbook(services.engine, case.id, tmp_path / "case.xlsx",
                              registry=records_registry)
    rows = list(openpyxl.load_workbook(out)[DETERMINATION].iter_rows(values_only=True))
    labels = [row[0] for row in rows]
    purpose_row = rows[labels.index("利用目的")]
    # The value spans the rest of the row: its first cell after the label.
    assert [v for v in purpose_row[1:] if v is not None] == [PURPOSE]
    # In the header part: after the department, before the first table.
    assert labels.index("担当部署") < labels.index("利用目的") < labels.index("設問番号")


def test_the_periodic_report_uses_the_purpose_and_falls_back_to_the_objectives(
        services, planner, reviewer, tmp_path):
    def submitted(title, answers, purpose=""):
        view = services.create_case(planner, title, "広報室", answers=answers, purpose=purpose)
        return submit_filled(services, planner, view).id

    low_with = submitted("低リスク・目的あり", LOW, PURPOSE)
    high_with = submitted("高リスク・目的あり", HIGH, "高リスク案件の利用目的")
    high_without = submitted("高リスク・目的なし", HIGH)  # written before purposes were asked
    low_without = submitted("低リスク・目的なし", LOW)
    out = tmp_path / "periodic.xlsx"
    services.write_periodic_report_for(reviewer, 2026, out)
    systems = pd.read_excel(out, sheet_name="システム一覧", header=1).set_index("Case ID")
    purposes = systems["Purpose"].fillna("")
    assert purposes[low_with] == PURPOSE  # a non-high case is no longer reported without one
    assert purposes[high_with] == "高リスク案件の利用目的"  # its own, not the board report's
    assert purposes[high_without] == "objectives の記載"  # fill_for_submission's objectives
    assert purposes[low_without] == ""
