"""The board report (workbook and printable HTML) and the periodic workbook: hostile text inert."""

from __future__ import annotations

import re
from datetime import UTC, date
from html.parser import HTMLParser

import openpyxl
import pytest

from procurement.errors import InputError, NotFoundError

HOSTILE = {
    "project_details": "<script>alert('x')</script> & <img src=x onerror=alert(1)>",
    "objectives": "=cmd|' /C calc'!A0",
    "risk_mitigation": "+SUM(1,2)\n二行目",
    "qa_plan": "@qa 計画 😀",
    "schedule": "2026年10月\x07 試行",
    "contact": "-1 内線 1234",
}


@pytest.fixture
def db_url(sqlite_url):
    """SQLite only here: the document reads through `Services.get_case` and
    `procurement.caio.operation`, both covered on PostgreSQL elsewhere; rendering does not depend on
    the database."""
    return sqlite_url


@pytest.fixture
def reported_case(services, planner, reviewer, approved_high_case):
    """The approved high-risk case back in draft with a hostile board report (saving the report
    voids the approval; the report document does not need an approval). The services refuse
    control characters at input, so the one in `schedule` is stored the way older data or a
    hand-edited database could hold it: directly."""
    from sqlalchemy import text

    typed = {k: v.replace("\x07", "") for k, v in HOSTILE.items()}
    view = services.save_board_report(planner, approved_high_case.id, typed,
                                      approved_high_case.version)
    with services.engine.begin() as conn:
        conn.execute(text("UPDATE board_reports SET schedule = :s WHERE case_id = :c"),
                     {"s": HOSTILE["schedule"], "c": view.id})
    return services.get_case(planner, view.id)


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


def test_html_escapes_every_user_value(services, reviewer, reported_case, tmp_path):
    out = tmp_path / "board.html"
    services.write_board_report(reviewer, reported_case.id, out)
    page = out.read_text(encoding="utf-8")
    parsed = _Collect()
    parsed.feed(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert not any(name.startswith("on") for name, _ in parsed.attrs)
    text = "".join(parsed.text)
    assert "<script>alert('x')</script> & <img src=x onerror=alert(1)>" in text
    assert "=cmd|' /C calc'!A0" in text
    # Titled by the pack's report step, addressed to the step's body.
    assert "アドバイザリーボードへの報告書" in text and "先進的AI利活用アドバイザリーボード" in text
    assert "再構成したルールパック" in text  # reconstructed content reads as such
    assert '<html lang="ja">' in page and "@page" in page


def test_workbook_keeps_formula_like_text_as_text(services, reviewer, reported_case, tmp_path):
    out = tmp_path / "board.xlsx"
    services.write_board_report(reviewer, reported_case.id, out)
    sheet = openpyxl.load_workbook(out).active
    cells = {c.value: c for row in sheet.iter_rows() for c in row if isinstance(c.value, str)}
    for name in ("objectives", "risk_mitigation", "qa_plan", "contact"):
        cell = cells[HOSTILE[name]]
        assert cell.data_type == "s" and cell.quotePrefix, name
    assert "2026年10月 試行" in cells  # the bell character Excel rejects is gone
    labels = [sheet.cell(row=r, column=1).value for r in range(1, sheet.max_row + 1)]
    assert "4. 報告事項" in labels and "品質保証計画（運用を含む）" in labels
    assert sheet.page_setup.paperSize == 9 and sheet.page_setup.orientation == "portrait"


def test_document_carries_classification_operation_and_incidents(
        services, planner, reviewer, approved_high_case):
    case = approved_high_case
    op = services.start_operation(planner, case.id, case.version, started_on=date(2026, 7, 1), vendor="V社",
        model_name="m", model_version="1", ismap_listing="ismap_liu", review_interval_months=12)
    services.create_incident(planner, case.id, occurred_on=date(2026, 7, 1),
                              severity="critical", description="個人情報の出力")
    doc = services.board_report_document(reviewer, op.case_id, lang="en")
    sections = {s.title: s for s in doc.sections}
    classification = sections["2. Classification"]
    fields = {f.label: f.value for f in classification.fields}
    assert fields["Level"] and fields["Complete"] is True
    assert fields["Rule pack"].endswith(")")  # its title and edition
    # The exact pack and its fingerprint, for auditors, in the annex at the end.
    assert doc.sections[-1].title.startswith("Annex")
    details = {f.label: f.value for f in doc.sections[-1].fields}
    assert details["Fingerprint"] == case.pack_fingerprint
    assert details["Pack version"] == case.pack_key
    assert any(row[0].startswith("R-HIGH") for row in classification.rows)
    operation_fields = {f.label: f.value for f in sections["6. Operation"].fields}
    assert operation_fields["ISMAP"] == "ISMAP-LIU listed"
    assert operation_fields["Next review due"] == date(2027, 7, 1)
    (incident,) = sections["7. Incidents"].rows
    assert incident[2:4] == ("Critical", "個人情報の出力")


def test_board_report_of_another_organisation_is_not_found(services, other_reviewer,
                                                          approved_high_case, tmp_path):
    with pytest.raises(NotFoundError):
        services.write_board_report(other_reviewer, approved_high_case.id,
                           tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()


def test_board_report_needs_a_known_format(services, reviewer, approved_high_case, tmp_path):
    with pytest.raises(InputError, match=re.escape(".pdf")):
        services.write_board_report(reviewer, approved_high_case.id, tmp_path / "x.pdf")


def test_periodic_report_keeps_hostile_text_inert(tmp_path):
    """User text in the periodic workbook: formula-like text stays quoted text, control
    characters Excel rejects are dropped, markup stays literal."""
    from datetime import datetime

    from procurement.caio.periodic import write_periodic_report
    from procurement.caio.portfolio import CaseRow, IncidentRow, OperationRow, PortfolioRows

    utc = UTC
    case = CaseRow(id=1, org_code="o", title="=1+1", department="@dept", status="in_operation",
                   level="high", is_complete=True, pack_id="jp-national", pack_version="2.0.0",
                   pack_fingerprint="a" * 64, created_at=datetime(2026, 4, 1, tzinfo=utc),
                   purpose="<b>目的</b>\x0b")
    rows = PortfolioRows(
        org_code="o", org_name="-org", cases=(case,),
        operations=(OperationRow(1, date(2026, 4, 2), vendor="+vendor", model_name="m",
                                 model_version="1", ismap_listing="ismap:=X"),),
        incidents=(IncidentRow(1, 1, date(2026, 5, 1), "low", "=cmd|' /C calc'!A0", "\tTab",
                               None, None, "open"),),
    )
    out = tmp_path / "hostile.xlsx"
    write_periodic_report(rows, 2026, out, generated_at=datetime(2026, 6, 1, tzinfo=utc),
                          generated_by="=me")
    book = openpyxl.load_workbook(out)
    systems = book["システム一覧"]
    assert systems["B3"].value == "=1+1" and systems["B3"].quotePrefix
    assert systems["C3"].value == "<b>目的</b>"
    assert systems["D3"].value == "@dept" and systems["D3"].quotePrefix
    assert systems["J3"].value == "+vendor" and systems["J3"].quotePrefix
    incident = book["リスク事案"]
    assert incident["F3"].value == "=cmd|' /C calc'!A0" and incident["F3"].quotePrefix
    assert incident["G3"].value == "\tTab" and incident["G3"].quotePrefix
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"
