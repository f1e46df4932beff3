"""Every document the app produces, printed by a real spreadsheet client (LibreOffice) and by a
real browser (Chromium, for the HTML board report): A4 pages, every cell's text in full on paper
(nothing cut off by a row too low or a column too narrow), long texts continued on following
rows, Japanese dates in the page headers, and 下書き on every page of a case not yet approved.

The workbooks are converted in one `soffice` run (a few seconds). Skipped with the reason when
LibreOffice, poppler or Chromium is missing locally; a failure in CI (`CI=true`), where `.ci/run`
installs them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, date, datetime

import openpyxl
import pytest

from procurement.demo import HIGH, LOW
from procurement.exports import ExportFilters, build_case_workbook, build_organisation_workbook
from procurement.exports.printing import split_to_rows
from tests.exports.printed import page_sizes, printed_text, require_tools, shown, squeeze, to_pdf
from tests.fixtures.services import submit_filled

pytestmark = pytest.mark.print

#: Longer than one row can hold at its width: continues on following rows.
LONG_PURPOSE = "".join(f"{n}. 住民からの問い合わせに、公開情報を根拠とした回答案を示します。"
                       "回答は必ず職員が確認してから送ります。\n" for n in range(1, 36))
LONG_EVIDENCE = "仕様書 第3章 第2節及び別紙2の確認結果。" * 60
NOW = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)  # 2026年7月1日 12:00 JST


@pytest.fixture
def db_url(sqlite_url):
    """SQLite only: printing does not depend on the database (the exports are tested on
    PostgreSQL elsewhere)."""
    return sqlite_url


@pytest.fixture
def cases(services, admin, planner, reviewer):
    """A draft high case with long texts everywhere, and an approved one in operation with an
    incident; people with display names."""
    svc = services
    svc.create_user(admin, "org-a", "k-tanaka", "企画 花子", "correct horse battery",
                    ["planner"])
    author = svc.actor_for("k-tanaka")
    draft = svc.create_case(author, "国民向けFAQチャットボット（問い合わせ対応の自動化・試行）",
                            "デジタル推進課 サービス企画係", answers=dict(HIGH),
                            purpose=LONG_PURPOSE)
    draft = svc.set_checklist_item(author, draft.id, "PC-G1", "met", LONG_EVIDENCE,
                                   draft.version)
    draft = svc.save_board_report(author, draft.id, {
        "project_details": "問い合わせ対応の自動化。\n" * 5, "objectives": "待ち時間の短縮",
        "risk_mitigation": "=回答案は職員が確認する（数式ではない文字列）", "qa_plan": LONG_EVIDENCE,
        "schedule": "2026年10月 試行", "contact": "デジタル推進課 内線1234",
    }, draft.version)
    approved = svc.create_case(author, "議事録要約", "総務課", answers=dict(LOW),
                               purpose="会議録の要約案を作る。")
    approved = submit_filled(svc, author, approved)
    approved = svc.approve(reviewer, approved.id, approved.version, "承認します")
    svc.start_operation(author, approved.id, approved.version, started_on=date(2026, 7, 1),
                        vendor="株式会社テスト", model_name="model-x", model_version="2026-06",
                        ismap_listing="ismap:C25-0001", review_interval_months=6)
    svc.create_incident(author, approved.id, occurred_on=date(2026, 7, 1), severity="medium",
                        description="誤った窓口を案内した。" * 20)
    return draft, svc.get_case(author, approved.id)


def _cells(path, *, tables: bool):
    """(sheet, coordinate, text that must be on paper) of every non-empty cell of a workbook.

    Forms continue a long text on the following rows, so all of it must print. A data table
    keeps one record per row (machine readers rely on it), so a cell holding more than one row
    can show (409 pt: ~25 lines at its column's width) prints that much, its start; the whole
    text stays in the cell (and prints in full in the case workbook)."""
    book = openpyxl.load_workbook(path)
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                text = shown(cell)
                if not text:
                    continue
                if tables and isinstance(cell.value, str):
                    width = sheet.column_dimensions[cell.column_letter].width or 8.43
                    text = split_to_rows(text, width - 0.71)[0]  # XlsxWriter adds 0.71
                yield sheet.title, cell.coordinate, text


def _headers_on_every_page(path, pdf) -> None:
    """Each printed page of a table sheet of the organisation workbook (its page header names
    the sheet) repeats the header rows; every column's header is on every page that prints
    that column: a table `w` pages wide and `t` tall prints each column header `t` times."""
    book = openpyxl.load_workbook(path)
    pages: dict[str, list[str]] = {}
    for page in printed_text(pdf).split("\f"):
        if not page.strip():
            continue
        head = page.strip().splitlines()[0]
        sheet = next(name for name in book.sheetnames if f" {name} " in head)
        pages.setdefault(sheet, []).append(squeeze(page))
    assert set(pages) == set(book.sheetnames)
    for name in book.sheetnames[1:]:  # the first is the summary, a form
        sheet = book[name]
        ja = [c.value for c in sheet[1] if c.value]
        en = [c.value for c in sheet[2] if c.value]
        assert all(squeeze(ja[0]) in p and squeeze(en[0]) in p for p in pages[name]), name
        wide = sheet.page_setup.fitToWidth or 1
        tall = len(pages[name]) / wide
        assert tall == int(tall), (name, len(pages[name]), wide)
        for header in (*ja, *en):
            shown_on = sum(squeeze(header) in p for p in pages[name])
            assert shown_on >= tall, (name, header, shown_on, tall)


def test_every_workbook_prints_on_a4_with_every_cell_in_full(services, reviewer, cases,
                                                             tmp_path, records_registry):
    require_tools()
    draft, approved = cases
    engine = services.engine
    tables = {"organisation", "periodic"}  # the rest are forms
    books = {
        "case_draft": build_case_workbook(engine, draft.id, tmp_path / "case_draft.xlsx",
                                          registry=records_registry, generated_by="監査 桜",
                                          now=NOW),
        "case_approved": build_case_workbook(engine, approved.id, tmp_path / "case_ok.xlsx",
                                             registry=records_registry, now=NOW),
        "organisation": build_organisation_workbook(
            engine, tmp_path / "org.xlsx", filters=ExportFilters(org_codes=("org-a",)),
            registry=records_registry, generated_by="監査 桜", now=NOW).path,
    }
    books["board"] = tmp_path / "board.xlsx"
    services.write_board_report(reviewer, draft.id, books["board"])
    books["periodic"] = tmp_path / "periodic.xlsx"
    services.write_periodic_report_for(reviewer, 2026, books["periodic"])

    pdfs = to_pdf(list(books.values()), tmp_path)
    texts = {}
    for name, path in books.items():
        pdf = pdfs[path]
        assert all("(A4)" in size for size in page_sizes(pdf)), (name, page_sizes(pdf))
        texts[name] = printed_text(pdf)
        on_paper = squeeze(texts[name])
        cut = [(sheet, ref, text[:40]) for sheet, ref, text
               in _cells(path, tables=name in tables) if squeeze(text) not in on_paper]
        assert cut == [], f"{name}: cells not printed in full: {cut[:10]}"

    _headers_on_every_page(books["organisation"], pdfs[books["organisation"]])

    # The long purpose continues over several rows; nothing of it is lost.
    pieces = split_to_rows(LONG_PURPOSE, 75.0)
    assert len(pieces) > 1
    assert all(squeeze(piece) in squeeze(texts["case_draft"]) for piece in pieces)

    # Japanese dates in the page headers; 下書き on every page of the draft's documents only.
    def headers(name):  # the first line of each page is its header
        return [p.strip().splitlines()[0] for p in texts[name].split("\f") if p.strip()]

    for name in ("case_draft", "board"):
        assert all("下書き" in header for header in headers(name)), name
    assert not any("下書き" in header for header in headers("case_approved"))
    # Words for people: display names, no usernames; provenance in words, not its codes.
    for name in ("case_draft", "case_approved", "board", "periodic"):
        assert "企画 花子" in texts[name].replace("\u3000", " ") or name == "periodic", name
        assert "k-tanaka" not in texts[name], name
        assert not re.search(r"\b(inferred|secondary|confirmed)\b", texts[name]), name
    # A case no rule applied to says so instead of printing an empty table of reasons; the
    # exact pack and its fingerprint come last, in the annex.
    assert "該当した判定規則はありません" in texts["case_approved"]
    assert "根拠の確度" not in texts["case_approved"] and "根拠の確度" in texts["case_draft"]
    assert texts["case_draft"].index("付記") > texts["case_draft"].index("根拠の確度")
    assert "2026年7月1日現在" in texts["case_draft"] and "2026年7月1日現在" in texts["organisation"]
    assert "令和8年" in texts["periodic"] and "作成" in texts["periodic"]


def test_the_html_board_report_prints_on_a4_with_its_draft_mark_on_every_page(
        services, reviewer, cases, tmp_path):
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    require_tools()
    if not os.path.exists(chromium):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is missing but CI=true: .ci/run must install it")
        pytest.skip("print test skipped: chromium not installed")
    draft, _approved = cases
    page = tmp_path / "board.html"
    doc = services.write_board_report(reviewer, draft.id, page)
    pdf = tmp_path / "board.pdf"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                    "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    assert page_sizes(pdf) and all("(A4)" in s or "595" in s for s in page_sizes(pdf))
    text = printed_text(pdf)
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) > 1 and all("下書き" in p for p in pages)
    # The running header and the page numbers interrupt a text that goes over a page break.
    on_paper = squeeze(text)
    running = squeeze(f"{doc.title} {doc.reference} {doc.draft} 2026年7月1日作成")
    assert on_paper.count(running) == len(pages)
    # Page numbers (`3/9`), a line of their own: removed before squeezing, so that they cannot
    # take the digits of a text they interrupt with them.
    on_paper = squeeze(re.sub(r"^\s*\d+\s*/\s*\d+\s*$", "", text, flags=re.M)).replace(
        running, "")
    for section in doc.sections:
        for field in section.fields:
            value = field.value
            if isinstance(value, str) and value:
                assert squeeze(value) in on_paper, (field.label, value[:40])
    assert squeeze(LONG_EVIDENCE) in on_paper  # the QA plan, in full
