"""The printable case workbook, the CSV files, and the `procurement export` command."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import select

from procurement.cli import main as cli_main
from procurement.db.models import Answer, AuditEvent, BoardReport, Case, ChecklistResult
from procurement.errors import NotFoundError
from procurement.exports import (
    ExportFilters,
    build_case_workbook,
    write_answers_csv,
    write_audit_csv,
)
from procurement.exports.case import DETERMINATION, HISTORY, REPORT


def _high_case(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(BoardReport.case_id).order_by(BoardReport.case_id).limit(1))


def test_case_workbook_holds_the_filled_sheets_laid_out_for_printing(demo_engine, tmp_path,
                                                                     records_registry):
    case_id = _high_case(demo_engine)
    out = build_case_workbook(demo_engine, case_id, tmp_path / "case.xlsx",
                              registry=records_registry, generated_by="監査 桜")
    book = openpyxl.load_workbook(out)
    with demo_engine.connect() as conn:
        case = conn.execute(select(Case).where(Case.id == case_id)).one()
        report = conn.execute(select(BoardReport).where(BoardReport.case_id == case_id)).one()
        answers = conn.execute(select(Answer.question_id, Answer.value)
                               .where(Answer.case_id == case_id)).all()
        checks = conn.execute(select(ChecklistResult.item_id, ChecklistResult.evidence)
                              .where(ChecklistResult.case_id == case_id)).all()
    pack = records_registry.resolve(f"{case.pack_id}@{case.pack_version}")
    titles = [t for cl in pack.checklists for t in [cl.title["ja"]]]
    assert book.sheetnames[:2] == [DETERMINATION, REPORT] and book.sheetnames[-1] == HISTORY
    assert len(book.sheetnames) == 3 + len(pack.checklists), (book.sheetnames, titles)

    def values(sheet):
        return [v for row in book[sheet].iter_rows(values_only=True) for v in row if v is not None]

    first = values(DETERMINATION)
    assert case.title in first and case_id in first
    for qid, value in answers:
        assert qid in first
        assert pack.question(qid).text["ja"] in first
    # The level in the pack's own words (never its id), and the reasons of the pack.
    assert pack.level(case.level).label["ja"] in first
    assert case.level not in first
    assert any(str(v).startswith("R-") for v in first)
    assert report.project_details in values(REPORT) and report.qa_plan in values(REPORT)
    every_item = [v for name in book.sheetnames[2:-1] for v in values(name)]
    for item in pack.items:
        assert item.id in every_item
    for item_id, evidence in checks:
        assert evidence in every_item
    assert any("必須" in str(v) for v in every_item)
    assert "監査 桜" in values(HISTORY)

    with zipfile.ZipFile(out) as z:
        for name in z.namelist():
            if not name.startswith("xl/worksheets/sheet"):
                continue
            xml = z.read(name).decode("utf-8")
            # A4, fit to one page wide (fitToWidth defaults to 1), as many pages tall as needed.
            assert 'paperSize="9"' in xml and '<pageSetUpPr fitToPage="1"/>' in xml, name
            assert 'fitToHeight="0"' in xml and 'orientation="portrait"' in xml, name
            assert f"案件 {case_id}" in xml and "&amp;P / &amp;N" in xml, name
            assert "<f>" not in xml
    sheet = book[DETERMINATION]
    assert any(c.alignment.wrap_text for row in sheet.iter_rows() for c in row if c.value)


def test_case_workbook_refuses_a_case_of_another_organisation(demo_engine, tmp_path):
    with demo_engine.connect() as conn:
        city_case = conn.scalar(select(Case.id).where(Case.pack_id == "city-strict").limit(1))
    with pytest.raises(NotFoundError, match=f"case {city_case} does not exist"):
        build_case_workbook(demo_engine, city_case, tmp_path / "x.xlsx",
                            org_codes=("demo-ministry",))
    with pytest.raises(NotFoundError):
        build_case_workbook(demo_engine, 99_999, tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()


def test_audit_csv_is_utf8_with_bom_for_excel_and_matches_the_log(demo_engine, tmp_path):
    out = tmp_path / "audit.csv"
    count = write_audit_csv(demo_engine, out, filters=ExportFilters(org_codes=("demo-city",)))
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    frame = pd.read_csv(out, encoding="utf-8-sig")
    with demo_engine.connect() as conn:
        events = conn.execute(select(AuditEvent).where(AuditEvent.chain == "demo-city")
                              .order_by(AuditEvent.seq)).all()
    assert count == len(frame) == len(events)
    assert list(frame["hash"]) == [e.hash for e in events]
    assert list(frame["payload"]) == [e.payload for e in events]
    assert frame["fiscal_year"].iloc[0] == "令和8年度"
    assert "payload_parts" not in frame.columns


def test_answers_csv_neutralises_formula_like_text(hostile_sqlite, tmp_path, records_registry):
    engine = hostile_sqlite.services.engine
    out = tmp_path / "answers.csv"
    count = write_answers_csv(engine, out, registry=records_registry,
                              filters=ExportFilters(org_codes=("org-a",)))
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert len(rows) == count > 0
    titles = {r["case_title"] for r in rows}
    assert "'=1+1" in titles and "'=cmd|' /C calc'!A0" in titles and "'@SUM(1)" in titles
    assert not any(t[:1] in "=+-@\t\r" for t in titles)
    assert {r["question_id"] for r in rows} >= {"SC-1", "HR-1"}
    with engine.connect() as conn:
        stored = {(a.case_id, a.question_id): json.loads(a.value)
                  for a in conn.execute(select(Answer)).all()}
    assert {(int(r["case_id"]), r["question_id"]): r["value"] for r in rows}.items() <= \
        stored.items()


def test_export_command_writes_the_workbook_and_prints_each_chain(demo_engine, tmp_path,
                                                                  monkeypatch, capsys):
    monkeypatch.setenv("PROCUREMENT_DATABASE_URL", str(demo_engine.url))
    out = tmp_path / "org.xlsx"
    code = cli_main(["export", "--out", str(out), "--org", "demo-ministry",
                     "--from", "令和8年度", "--to", "2027-03-31", "--status", "approved",
                     "--status", "submitted", "--pack", "jp-national"])
    printed = capsys.readouterr().out.splitlines()
    assert code == 0 and out.exists()
    assert printed[0] == f"wrote {out}"
    assert any(line.startswith("  案件: ") for line in printed)
    assert printed[-1].startswith("OK demo-ministry ") and " events, head " in printed[-1]
    cases = pd.read_excel(out, sheet_name="案件", header=1)
    assert set(cases["status"]) <= {"approved", "submitted"} and len(cases)

    assert cli_main(["audit", "verify", "--xlsx", str(out)]) == 0
    assert capsys.readouterr().out.startswith("OK demo-ministry ")

    csv_out = tmp_path / "audit.csv"
    assert cli_main(["export", "--out", str(csv_out), "--csv", "audit"]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {csv_out}: ")

    case_out = tmp_path / "case.xlsx"
    assert cli_main(["export", "--out", str(case_out), "--case", "1"]) == 0
    assert case_out.exists()


@pytest.mark.parametrize("args, message", [
    (["--org", "nowhere"], "organisation 'nowhere' does not exist"),
    (["--from", "昨日"], "--from '昨日' is not a date"),
    (["--status", "finished"], "unknown status 'finished'"),
    (["--from", "2026-05-01", "--to", "2026-04-01"], "starts after it ends"),
    (["--case", "99999"], "case 99999 does not exist"),
])
def test_export_command_names_bad_input_and_leaves_no_file(demo_engine, tmp_path, monkeypatch,
                                                           capsys, args, message):
    monkeypatch.setenv("PROCUREMENT_DATABASE_URL", str(demo_engine.url))
    out = tmp_path / "out" / "x.xlsx"
    out.parent.mkdir()
    assert cli_main(["export", "--out", str(out), *args]) == 2
    assert message in capsys.readouterr().err
    assert not list(out.parent.iterdir())
