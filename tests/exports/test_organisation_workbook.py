"""The organisation workbook, read back with openpyxl and pandas and compared with the database;
hostile text stays text; the audit sheet verifies offline and fails when one cell is edited."""

from __future__ import annotations

import re
import zipfile
from datetime import UTC, date, datetime

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from procurement.audit import verify_database
from procurement.cli import main as cli_main
from procurement.db.models import Answer, AuditEvent, Case, ChecklistResult, Decision
from procurement.errors import InputError, NotFoundError
from procurement.exports import ExportFilters, build_organisation_workbook, verify_workbook
from procurement.exports.cells import EXCEL_CELL_LIMIT, FORMULA_STARTS, strip_illegal, utf16_len
from procurement.exports.organisation import (
    ANSWERS,
    AUDIT,
    AUDIT_MORE,
    CASES,
    CHECKLIST,
    DECISIONS,
    PACKS,
    SUMMARY,
)
from procurement.fiscal import fiscal_year, fiscal_year_label, to_jst_naive
from tests.exports.conftest import CONTROL_EVIDENCE, CONTROL_TITLE, HOSTILE, LONG_TEXT


def _export(engine, tmp_path, registry, **filters):
    out = tmp_path / "org.xlsx"
    result = build_organisation_workbook(engine, out, filters=ExportFilters(**filters),
                                         registry=registry, generated_by="テスト監査人")
    return out, result


def _sheet_xml(path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist()
                if n.startswith("xl/worksheets/sheet")}


def _frame(path, sheet) -> pd.DataFrame:
    return pd.read_excel(path, sheet_name=sheet, header=1)


def test_workbook_has_every_sheet_in_order_with_bilingual_frozen_filtered_headers(
        hostile_sqlite, tmp_path, records_registry):
    out, result = _export(hostile_sqlite.services.engine, tmp_path, records_registry,
                          org_codes=("org-a",))
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[:7] == [SUMMARY, CASES, ANSWERS, DECISIONS, CHECKLIST, AUDIT, PACKS]
    for name in (CASES, ANSWERS, DECISIONS, CHECKLIST, AUDIT, PACKS):
        sheet = book[name]
        assert sheet.freeze_panes == "A3", name
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A2:"), name
        assert sheet["A1"].font.b and sheet["A2"].font.b, name
        assert sheet["A1"].font.name == "游ゴシック"
        assert sheet.column_dimensions["A"].width > 5
        # Japanese heading above, stable English name below.
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", str(sheet["A1"].value)), name
        assert re.fullmatch(r"[a-z_]+", str(sheet["A2"].value)), name
    assert book[AUDIT].cell(2, 13).value == "hash"
    assert result.rows[CASES] == len(hostile_sqlite.case_ids) + 2


def test_no_cell_anywhere_is_a_formula(hostile_sqlite, tmp_path, records_registry):
    out, _ = _export(hostile_sqlite.services.engine, tmp_path, records_registry)
    for name, xml in _sheet_xml(out).items():
        assert "<f>" not in xml and "<f " not in xml, name
    book = openpyxl.load_workbook(out)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)


def test_hostile_text_survives_as_readable_text_flagged_as_text(hostile, tmp_path,
                                                                records_registry):
    out, _ = _export(hostile.services.engine, tmp_path, records_registry, org_codes=("org-a",))
    book = openpyxl.load_workbook(out)
    titles = {row[0].value: row[2] for row in book[CASES].iter_rows(min_row=3)}
    evidence_cells = {row[0].value: row[7] for row in book[CHECKLIST].iter_rows(min_row=3)}
    with hostile.services.engine.connect() as conn:
        stored_titles = dict(conn.execute(select(Case.id, Case.title)).all())
        stored_evidence = dict(conn.execute(select(ChecklistResult.case_id,
                                                   ChecklistResult.evidence)).all())
    leading = set()
    for case_id in hostile.case_ids:
        for cell, stored in ((titles[case_id], stored_titles[case_id]),
                             (evidence_cells[case_id], stored_evidence[case_id])):
            assert cell.data_type == "s"
            # What the user typed, nothing added (only a CR line end becomes LF).
            assert cell.value == stored.replace("\r", "\n")
            # Excel's own "this is text" flag: it stays text when the cell is edited again.
            assert cell.quotePrefix is (stored[0] in FORMULA_STARTS), repr(stored)
            leading.add(stored[0])
    # Every kind of formula start reached the workbook (evidence keeps a leading tab; a CR line
    # end is made LF at input, so that the text round-trips through the workbook unchanged).
    assert set("=+-@\t\uff1d") <= leading
    # Control characters Excel rejects are removed, the rest of the text kept.
    assert titles[hostile.control_case_id].value == strip_illegal(CONTROL_TITLE)
    assert titles[hostile.control_case_id].value == "制御文字とエスケープの件名"
    frame = _frame(out, CHECKLIST)
    evidence = frame.set_index("case_id")["evidence"]
    assert evidence[hostile.control_case_id] == "証跡 終わり"
    assert strip_illegal(CONTROL_EVIDENCE) == "証跡 終わり"
    # Longer than a cell: cut with a visible marker, within Excel's limit.
    long_cell = evidence[hostile.long_case_id]
    assert utf16_len(long_cell) <= EXCEL_CELL_LIMIT
    assert long_cell.startswith(LONG_TEXT[:1000])
    assert long_cell.endswith(f"truncated: {len(LONG_TEXT):,} characters in total］")
    # Emoji, HTML and mixed scripts come back unchanged through pandas too.
    assert set(stored_titles[i] for i in hostile.case_ids) <= set(_frame(out, CASES)["title"])
    assert {h for h in HOSTILE if h[0] not in "\t\r"} <= set(_frame(out, CASES)["title"])


def test_round_trip_matches_the_database(hostile, tmp_path, records_registry):
    engine = hostile.services.engine
    out, result = _export(engine, tmp_path, records_registry, org_codes=("org-a",))
    with Session(engine) as conn:
        org_a = conn.execute(select(Case).where(Case.title != "別組織の案件")
                             .order_by(Case.id)).scalars().all()
        answers = conn.execute(select(Answer).where(Answer.case_id.in_([c.id for c in org_a]))
                               ).scalars().all()
        decisions = conn.execute(select(Decision).where(
            Decision.case_id.in_([c.id for c in org_a]))).scalars().all()
        checks = conn.execute(select(ChecklistResult).where(
            ChecklistResult.case_id.in_([c.id for c in org_a]))).scalars().all()
        events = conn.execute(select(AuditEvent).where(AuditEvent.chain == "org-a")
                              .order_by(AuditEvent.seq)).scalars().all()

    cases = _frame(out, CASES).set_index("case_id")
    assert list(cases.index) == [c.id for c in org_a]
    for c in org_a:
        row = cases.loc[c.id]
        assert row["status"] == c.status and row["level"] == c.level
        assert row["pack_fingerprint"] == c.pack_fingerprint
        assert bool(row["is_complete"]) is c.is_complete
        assert int(row["version"]) == c.version
        # A real date in JST (pandas reads it as a timestamp, not text), to the second.
        assert row["created_at"] == pd.Timestamp(to_jst_naive(c.created_at)).floor("s") or \
            abs(row["created_at"] - pd.Timestamp(to_jst_naive(c.created_at))) < pd.Timedelta("1ms")
        assert row["fiscal_year"] == fiscal_year_label(fiscal_year(c.created_at)) == "令和8年度"
    assert pd.api.types.is_datetime64_any_dtype(cases["created_at"])

    frame = _frame(out, ANSWERS)
    assert len(frame) == len(answers)
    got = {(r.case_id, r.question_id): r.value for r in frame.itertuples()}
    import json
    assert got == {(a.case_id, a.question_id): json.loads(a.value) for a in answers}
    sc1 = frame[frame.question_id == "SC-1"].iloc[0]
    assert sc1["question"] == records_registry.resolve("jp-national@2").question("SC-1").text["ja"]
    assert sc1["label"] == "はい"

    frame = _frame(out, DECISIONS)
    assert sorted(frame["decision_id"]) == sorted(d.id for d in decisions)
    comments = set(frame["comment"].dropna())
    assert '=HYPERLINK("x") 直してください' in comments

    frame = _frame(out, CHECKLIST)
    assert len(frame) == len(checks)

    frame = _frame(out, AUDIT)
    assert list(frame["seq"]) == [e.seq for e in events]
    assert list(frame["hash"]) == [e.hash for e in events]
    assert list(frame["prev_hash"]) == [e.prev_hash for e in events]
    # A payload longer than a cell continues on the continuation sheet; read back whole.
    from procurement.exports import read_audit_sheet
    assert [r["payload"] for r in read_audit_sheet(out)] == [e.payload for e in events]
    assert frame["payload_parts"].max() >= 2
    assert list(frame["event_type"]) == [e.event_type for e in events]
    assert frame["occurred_at_jst"].iloc[0] == pd.Timestamp(
        to_jst_naive(events[0].occurred_at)).round("s")

    # The summary states the filters, who and when, and each chain's verdict and head.
    summary = [[c for c in row if c is not None]
               for row in openpyxl.load_workbook(out)[SUMMARY].iter_rows(values_only=True)]
    flat = "\n".join(" | ".join(str(c) for c in row) for row in summary)
    head = verify_database(engine, chain="org-a")[0].head
    assert head in flat and "テスト監査人" in flat and "org-a" in flat
    assert result.chains[0].head == head and result.chains_ok
    assert result.by_status == {"draft": len(org_a) - 1, "returned": 1}


def test_rule_pack_sheet_lists_each_referenced_version_with_provenance(
        hostile_sqlite, tmp_path, records_registry):
    out, _ = _export(hostile_sqlite.services.engine, tmp_path, records_registry,
                     org_codes=("org-a",))
    frame = _frame(out, PACKS)
    pack = records_registry.resolve("jp-national@2.0.0")
    mine = frame[frame.pack_version == pack.version]
    assert set(mine["pack_fingerprint"]) == {pack.fingerprint}
    assert mine["installed"].all() and mine["fingerprint_matches"].all()
    q = mine[mine.element_id == "HR-1"].iloc[0]
    assert q["kind"] == "question" and q["provenance"] == pack.question("HR-1").provenance
    assert pack.question("HR-1").source["document"] in q["source"]
    assert {"level", "question", "rule", "blocking", "step"} <= set(mine["kind"])
    assert any(k.startswith("item:") for k in mine["kind"])


def test_editing_one_cell_of_the_audit_sheet_fails_verification(hostile, tmp_path,
                                                                records_registry, capsys):
    out, _ = _export(hostile.services.engine, tmp_path, records_registry)
    assert all(r.ok for r in verify_workbook(out))
    assert cli_main(["audit", "verify", "--xlsx", str(out)]) == 0
    assert "OK org-a" in capsys.readouterr().out

    book = openpyxl.load_workbook(out)
    sheet = book[AUDIT]
    header = [c.value for c in sheet[2]]
    cell = sheet.cell(row=5, column=header.index("payload") + 1)
    cell.value = cell.value.replace("}", ',"x":1}')
    tampered = tmp_path / "tampered.xlsx"
    book.save(tampered)
    assert cli_main(["audit", "verify", "--xlsx", str(tampered)]) == 1
    assert "FAIL org-a seq 3: content changed" in capsys.readouterr().out

    for column, value in (("actor", "someone-else"), ("occurred_at", "2026-07-01T00:00:00Z"),
                          ("hash", "0" * 64)):
        book = openpyxl.load_workbook(out)
        sheet = book[AUDIT]
        sheet.cell(row=4, column=header.index(column) + 1).value = value
        book.save(tampered)
        assert cli_main(["audit", "verify", "--xlsx", str(tampered)]) == 1, column
        assert "FAIL org-a" in capsys.readouterr().out


def test_a_deleted_audit_row_fails_verification(hostile_sqlite, tmp_path, records_registry,
                                                capsys):
    out, _ = _export(hostile_sqlite.services.engine, tmp_path, records_registry,
                     org_codes=("org-a",))
    book = openpyxl.load_workbook(out)
    book[AUDIT].delete_rows(6)
    tampered = tmp_path / "tampered.xlsx"
    book.save(tampered)
    assert cli_main(["audit", "verify", "--xlsx", str(tampered)]) == 1
    assert "event missing" in capsys.readouterr().out


def test_payload_longer_than_a_cell_continues_and_still_verifies(engine, tmp_path):
    from datetime import datetime, timedelta

    from procurement.audit import NewEvent, append_bulk

    big = {"evidence": LONG_TEXT * 2, "note": "=1+1"}
    start = datetime(2026, 4, 1, tzinfo=UTC)
    append_bulk(engine, "org-z", [
        NewEvent(start + timedelta(seconds=i), "user", "case.answers_saved", 1,
                 big if i == 1 else {"i": i}) for i in range(3)])
    out = tmp_path / "long.xlsx"
    result = build_organisation_workbook(engine, out)
    assert result.rows[AUDIT] == 3 and result.rows[AUDIT_MORE] >= 2 and result.chains_ok
    assert [r.describe()[:2] for r in verify_workbook(out)] == ["OK"]
    from procurement.exports import read_audit_sheet

    rows = list(read_audit_sheet(out))
    with engine.connect() as conn:
        stored = conn.scalar(select(AuditEvent.payload).where(AuditEvent.seq == 2))
    assert rows[1]["payload"] == stored and len(stored) > 2 * EXCEL_CELL_LIMIT


def test_filters_select_period_status_pack_and_organisation(demo_engine, tmp_path,
                                                            records_registry):
    out, everything = _export(demo_engine, tmp_path, records_registry)
    assert set(c.chain for c in everything.chains) == {"demo-city", "demo-ministry"}
    all_cases = _frame(out, CASES)

    out, city = _export(demo_engine, tmp_path, records_registry, org_codes=("demo-city",))
    assert set(_frame(out, CASES)["org"]) == {"demo-city"}
    assert [c.chain for c in city.chains] == ["demo-city"]

    out, approved = _export(demo_engine, tmp_path, records_registry, statuses=("approved",))
    assert set(_frame(out, CASES)["status"]) == {"approved"}
    assert approved.rows[CASES] == (all_cases["status"] == "approved").sum()

    out, _ = _export(demo_engine, tmp_path, records_registry, pack_id="city-strict")
    assert set(_frame(out, CASES)["pack_id"]) == {"city-strict"}

    # A period before edition 2: only cases alive then, decisions taken then, and each audit
    # chain from its start up to the end of the period (so it still verifies).
    out, early = _export(demo_engine, tmp_path, records_registry,
                         date_to=date(2026, 6, 11))
    cases = _frame(out, CASES)
    assert len(cases) and (cases["created_at"] < pd.Timestamp("2026-06-12")).all()
    decisions = _frame(out, DECISIONS)
    assert (decisions["created_at"] < pd.Timestamp("2026-06-12")).all()
    audit = _frame(out, AUDIT)
    assert (audit["occurred_at_jst"] < pd.Timestamp("2026-06-12")).all()
    assert early.chains_ok and all(r.ok for r in verify_workbook(out))
    assert len(audit) < everything.rows[AUDIT]

    out, late = _export(demo_engine, tmp_path, records_registry, date_from=date(2026, 8, 1))
    decisions = _frame(out, DECISIONS)
    assert (decisions["created_at"] >= pd.Timestamp("2026-08-01")).all()
    assert late.rows[AUDIT] == everything.rows[AUDIT]  # chains always start at seq 1


def test_bad_filters_are_named(demo_engine, tmp_path):
    (tmp_path / "out").mkdir()
    with pytest.raises(NotFoundError, match="'nowhere' does not exist"):
        build_organisation_workbook(demo_engine, tmp_path / "out" / "x.xlsx",
                                    filters=ExportFilters(org_codes=("nowhere",)))
    assert not list((tmp_path / "out").iterdir())  # nothing half-written is left behind
    with pytest.raises(InputError, match="unknown status 'done'"):
        ExportFilters(statuses=("done",))
    with pytest.raises(InputError, match="starts after it ends"):
        ExportFilters(date_from=date(2026, 5, 1), date_to=date(2026, 4, 1))


def test_progress_is_reported_up_to_the_total(demo_engine, tmp_path):
    seen = []
    build_organisation_workbook(demo_engine, tmp_path / "p.xlsx",
                                progress=lambda done, total, sheet: seen.append((done, total)))
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1] > 0


def test_export_does_not_block_a_writer(demo_engine, tmp_path, records_registry):
    """The export reads a snapshot without the write lock: a service write during it succeeds."""
    from procurement.services import Services

    svc = Services(demo_engine, records_registry)
    planner = svc.actor_for("ministry-planner")
    created = []

    def progress(done, total, sheet):
        if not created:
            created.append(svc.create_case(planner, "エクスポート中の新規案件", "総務課"))

    out = tmp_path / "during.xlsx"
    before = build_organisation_workbook(demo_engine, tmp_path / "before.xlsx")
    result = build_organisation_workbook(demo_engine, out, progress=progress)
    assert created
    # The snapshot predates the write: same cases as before, and the chain still verifies.
    assert result.rows[CASES] == before.rows[CASES] and result.chains_ok
    assert all(r.ok for r in verify_workbook(out))


def test_generated_at_is_shown_in_jst(demo_engine, tmp_path):
    now = datetime(2026, 3, 31, 15, 30, tzinfo=UTC)  # 2026-04-01 00:30 JST
    out = tmp_path / "t.xlsx"
    build_organisation_workbook(demo_engine, out, now=now)
    values = [v for row in openpyxl.load_workbook(out)[SUMMARY].iter_rows(values_only=True)
              for v in row if isinstance(v, datetime)]
    assert datetime(2026, 4, 1, 0, 30) in values
