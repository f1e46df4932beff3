"""The CAIO's documents: the periodic report (定期報告) for a fiscal year, and the board report.

* The periodic report is a workbook for one organisation and one fiscal year (年度, April to
  March, 令和 notation alongside): a summary, every system in scope with its purpose, department,
  level, status, pack and fingerprint, vendor, model, ISMAP listing and review dates, the year's
  incidents, and the year's changes (decisions and every audited change). Which systems are in
  scope is decided by `procurement.caio.portfolio.select_fiscal_year`.
* The board report is the document for one case that goes to the Advisory Board secretariat
  (project details, objectives, risk mitigation, QA plan including operation, with the
  classification behind it), as a workbook and as a printable HTML page.

Both are built in two steps: a plain document (data already in the reader's language) from the
services, then a renderer. Workbooks go through `procurement.exports.sheets` (streaming writer,
sanitised cells, bilingual headers, print layout); the HTML page escapes every value and carries
no script.
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from procurement import fiscal
from procurement.caio import operation as operations
from procurement.errors import InputError, NotFoundError, ProcurementError
from procurement.exports.cells import clean_text
from procurement.db.models import Case, Organisation
from procurement.exports.sheets import Column, Table, open_workbook, setup_print, write_text
from procurement.caio.portfolio import (
    FiscalYearSystem,
    OperationRow,
    PortfolioRows,
    count_by_level,
    count_by_status,
    load_portfolio_rows,
    next_review_due,
    select_fiscal_year,
)

#: Words used by both documents, per language. The documents are Japanese by default: they go to
#: the Digital Agency's secretariat.
LABELS: dict[str, dict[str, str]] = {
    "ja": {
        "level.out_of_scope": "対象外", "level.low": "低", "level.review": "要確認",
        "level.high": "高リスクの可能性", "level.unclassified": "未判定",
        "status.draft": "作成中", "status.submitted": "審査中", "status.returned": "差戻し",
        "status.approved": "承認済", "status.withdrawn": "取下げ", "status.in_operation": "運用中",
        "status.retired": "運用終了",
        "severity.low": "軽微", "severity.medium": "中", "severity.high": "重大",
        "severity.critical": "極めて重大",
        "incident.open": "対応中", "incident.closed": "完了",
        "ismap.ismap": "ISMAP登録", "ismap.ismap_liu": "ISMAP-LIU登録",
        "ismap.not_listed": "未登録", "ismap.not_applicable": "対象外（自組織構築等）",
        "decision.submission": "提出", "decision.return": "差戻し", "decision.approval": "承認",
        "decision.withdrawal": "取下げ", "decision.reassessment": "再判定",
        "decision.void": "承認の失効", "decision.classification": "判定",
        "board.missing": "未作成", "board.incomplete": "記入中", "board.complete": "記入済",
        "empty": "（未記入）", "yes": "はい", "no": "いいえ",
    },
    "en": {
        "level.out_of_scope": "Out of scope", "level.low": "Low", "level.review": "Review",
        "level.high": "Possibly high-risk", "level.unclassified": "Not classified",
        "status.draft": "Draft", "status.submitted": "Submitted", "status.returned": "Returned",
        "status.approved": "Approved", "status.withdrawn": "Withdrawn",
        "status.in_operation": "In operation", "status.retired": "Retired",
        "severity.low": "Low", "severity.medium": "Medium", "severity.high": "High",
        "severity.critical": "Critical",
        "incident.open": "Open", "incident.closed": "Closed",
        "ismap.ismap": "ISMAP listed", "ismap.ismap_liu": "ISMAP-LIU listed",
        "ismap.not_listed": "Not listed", "ismap.not_applicable": "Not applicable (in-house etc.)",
        "decision.submission": "Submission", "decision.return": "Return",
        "decision.approval": "Approval", "decision.withdrawal": "Withdrawal",
        "decision.reassessment": "Re-assessment", "decision.void": "Approval voided",
        "decision.classification": "Classification",
        "board.missing": "Not started", "board.incomplete": "Incomplete",
        "board.complete": "Complete",
        "empty": "(not filled in)", "yes": "Yes", "no": "No",
    },
}


def label(lang: str, key: str) -> str:
    """The document word for `key` (e.g. `level.high`), or the raw value after the dot."""
    table = LABELS.get(lang, LABELS["ja"])
    return table.get(key, key.split(".", 1)[-1])


def ismap_text(value: str, lang: str = "ja") -> str:
    """An ISMAP listing as stored (`code` or `code:reference`) in readable form."""
    if not value:
        return ""
    code, _, reference = value.partition(":")
    text = label(lang, f"ismap.{code}")
    return f"{text} ({reference.strip()})" if reference.strip() else text


# =========================================================================== periodic report

PERIODIC_SYSTEM_COLUMNS = (
    Column("Case ID", "案件ID", "int", 8),
    Column("Title", "件名", "wrap", 30),
    Column("Purpose", "目的", "wrap", 36),
    Column("Department", "担当部署", "text", 16),
    Column("Level", "リスク区分", "text", 14),
    Column("Status", "状態", "text", 10),
    Column("Pack", "ルールパック", "text", 20),
    Column("Pack fingerprint", "フィンガープリント", "text", 18),
    Column("Vendor", "事業者", "text", 18),
    Column("Model", "モデル", "text", 18),
    Column("Model version", "モデルのバージョン", "text", 14),
    Column("ISMAP", "ISMAP", "text", 18),
    Column("Approved at", "承認日時", "datetime", 18),
    Column("Operation started", "運用開始日", "date", 12),
    Column("Operation ended", "運用終了日", "date", 12),
    Column("Review interval (months)", "定期確認の間隔（月）", "int", 10),
    Column("Last review", "最終定期確認日", "date", 12),
    Column("Next review due", "次回定期確認期限", "date", 12),
    Column("Incidents in year", "年度内のリスク事案", "int", 10),
    Column("Changes in year", "年度内の変更", "wrap", 40),
    Column("Audited changes in year", "年度内の記録件数", "int", 10),
)

PERIODIC_INCIDENT_COLUMNS = (
    Column("Case ID", "案件ID", "int", 8),
    Column("Title", "件名", "wrap", 28),
    Column("Incident ID", "事案ID", "int", 8),
    Column("Occurred on", "発生日", "date", 12),
    Column("Severity", "重大度", "text", 10),
    Column("Description", "内容", "wrap", 40),
    Column("Actions taken", "対応", "wrap", 40),
    Column("Reported to CAIO", "CAIOへの報告日時", "datetime", 18),
    Column("Reported onward", "外部への報告日時", "datetime", 18),
    Column("Status", "状態", "text", 10),
)

PERIODIC_CHANGE_COLUMNS = (
    Column("Case ID", "案件ID", "int", 8),
    Column("Title", "件名", "wrap", 28),
    Column("Occurred at", "日時", "datetime", 18),
    Column("Event", "記録種別", "text", 24),
    Column("Actor", "実施者", "text", 14),
    Column("Detail", "内容", "wrap", 40),
    Column("Audit seq", "監査ログ番号", "int", 10),
)

SUMMARY_COLUMNS = (
    Column("Item", "項目", "text", 34),
    Column("Value", "値", "wrap", 50),
)


@dataclass(frozen=True)
class PeriodicReportResult:
    """What was written: the file, and the counts the CLI and the page report."""

    fiscal_year: int
    org_code: str
    systems: int
    incidents: int
    changes: int


@contextmanager
def _file_path(out: str | Path | IO[bytes]) -> Iterator[str]:
    """A path to write the workbook to: `out` itself, or a temporary file copied into the
    binary file object `out` afterwards (the streaming writer works on files, not buffers)."""
    if isinstance(out, (str, Path)):
        yield str(out)
        return
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="procurement-report-")
    os.close(handle)
    try:
        yield path
        with open(path, "rb") as written:
            shutil.copyfileobj(written, out)
    finally:
        os.unlink(path)


#: Audit events listed by name in the systems sheet (decisions are listed from their own table).
_MILESTONE_EVENTS = {
    "operation.started": {"ja": "運用開始", "en": "Operation started"},
    "operation.updated": {"ja": "運用内容の変更", "en": "Operation changed"},
    "operation.reviewed": {"ja": "定期確認", "en": "Periodic review"},
    "operation.ended": {"ja": "運用終了", "en": "Operation ended"},
}


def _changes_summary(system: FiscalYearSystem, lang: str) -> str:
    """One line per decision and per operation milestone of the year, in time order."""
    lines: list[tuple[datetime, str]] = []
    for d in system.decisions:
        text = label(lang, "decision." + d.kind)
        if d.level and d.kind == "approval":
            text += f" ({label(lang, 'level.' + d.level)})"
        if d.comment and d.kind in ("void", "return", "reassessment"):
            text += f": {d.comment}"
        lines.append((d.created_at, text))
    for change in system.changes:
        names = _MILESTONE_EVENTS.get(change.event_type)
        if names:
            text = names.get(lang, names["en"]) + (f": {change.detail}" if change.detail else "")
            lines.append((change.occurred_at, text))
    lines.sort(key=lambda item: item[0])
    return "\n".join(f"{fiscal.to_jst(when):%Y-%m-%d} {text}" for when, text in lines)


def write_periodic_report(
    rows: PortfolioRows,
    fy: int,
    out: str | Path | IO[bytes],
    *,
    generated_at: datetime,
    generated_by: str,
    lang: str = "ja",
) -> PeriodicReportResult:
    """Write the periodic-report workbook of `fy` for the organisation in `rows` to `out`
    (a path or a binary file object). Returns the counts written."""
    start, end = fiscal.fiscal_year_dates(fy)
    systems = select_fiscal_year(rows, fy)
    with _file_path(out) as path:
        return _write_periodic(rows, fy, systems, path, start, end, generated_at, generated_by,
                               lang)


def _write_periodic(rows, fy, systems, path, start, end, generated_at, generated_by, lang):
    book, styles = open_workbook(
        path,
        title=f"定期報告 {fy}年度 ({fiscal.fiscal_year_label(fy)}) {rows.org_code}",
        author=generated_by,
    )
    # The summary is the first tab but is filled last, once the counts are known.
    summary = Table(book, styles, "概要", SUMMARY_COLUMNS, landscape=False)
    system_table = Table(book, styles, "システム一覧", PERIODIC_SYSTEM_COLUMNS)
    incident_table = Table(book, styles, "リスク事案", PERIODIC_INCIDENT_COLUMNS)
    change_table = Table(book, styles, "年度内の変更", PERIODIC_CHANGE_COLUMNS)

    severity_counts: Counter = Counter()
    reviews_overdue = 0
    for system in systems:
        case, op = system.case, system.operation
        due = next_review_due(op) if op is not None else None
        if due is not None and due <= end:
            reviews_overdue += 1
        system_table.append([
            case.id, case.title, case.purpose, case.department,
            label(lang, f"level.{case.level or 'unclassified'}"), label(lang, f"status.{case.status}"),
            case.pack_ref, case.pack_fingerprint[:12],
            op.vendor if op else None, op.model_name if op else None,
            op.model_version if op else None, ismap_text(op.ismap_listing, lang) if op else None,
            case.approved_at, op.started_on if op else None, op.ended_on if op else None,
            op.review_interval_months if op else None, op.last_reviewed_on if op else None, due,
            len(system.incidents), _changes_summary(system, lang), len(system.changes),
        ])
        for inc in system.incidents:
            severity_counts[inc.severity] += 1
            incident_table.append([
                case.id, case.title, inc.id, inc.occurred_on, label(lang, f"severity.{inc.severity}"),
                inc.description, inc.actions_taken, inc.reported_to_caio_at, inc.reported_onward_at,
                label(lang, f"incident.{inc.status}"),
            ])
        for change in system.changes:
            change_table.append([case.id, case.title, change.occurred_at, change.event_type,
                                 change.actor, change.detail, change.seq])

    def counts_text(counts: dict[str, int], prefix: str) -> str:
        return "\n".join(f"{label(lang, prefix + k)}: {v}" for k, v in counts.items()) or "0"

    cases = [system.case for system in systems]
    severities = {k: severity_counts[k] for k in operations.SEVERITIES if severity_counts[k]}

    summary_rows = [
        ["組織 / Organisation", f"{rows.org_name} ({rows.org_code})"],
        ["年度 / Fiscal year", f"{fy}年度（{fiscal.fiscal_year_label(fy)}） / FY{fy}"],
        ["対象期間 / Period (JST)", f"{start.isoformat()} – {end.isoformat()}"],
        ["作成日時 / Generated at", generated_at],
        ["作成者 / Generated by", generated_by],
        ["対象システム数 / Systems in scope", len(systems)],
        ["リスク区分別 / By level", counts_text(count_by_level(cases), "level.")],
        ["状態別（作成時点） / By status (when generated)", counts_text(count_by_status(cases), "status.")],
        ["年度内のリスク事案 / Incidents in year", incident_table.count],
        ["重大度別 / Incidents by severity", counts_text(severities, "severity.")],
        ["年度末までに期限の来る定期確認 / Reviews due by year end", reviews_overdue],
        ["年度内の記録件数 / Audited changes in year", change_table.count],
        ["注記 / Note",
         "リスク区分は公開情報から再構成したルールパックによる判定です（公式様式ではありません）。"
         " / Levels come from rule packs reconstructed from public sources, not the official sheets."],
    ]
    for item, value in summary_rows:
        # Mixed kinds in one column: numbers stay numbers, the timestamp a JST date-time.
        write_text(summary.sheet, summary.row, 0, item, styles.text, styles.text_quoted)
        _write_value(summary.sheet, summary.row, 1, value, styles, lang)
        summary.row += 1
    for table in (summary, system_table, incident_table, change_table):
        table.finish()
    book.close()
    return PeriodicReportResult(fy, rows.org_code, len(systems), incident_table.count,
                                change_table.count)


# =========================================================================== board report


@dataclass(frozen=True)
class Field:
    """One labelled value of a document section (`value` already in the reader's language,
    except dates and timestamps, which renderers format in JST)."""

    label: str
    value: Any


@dataclass(frozen=True)
class Section:
    """A section of a document: labelled fields and/or a table."""

    title: str
    fields: tuple[Field, ...] = ()
    headers: tuple[str, ...] = ()
    rows: tuple[tuple[Any, ...], ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Document:
    """A printable document: title, who/when, sections. Renderers add nothing but layout."""

    lang: str
    title: str
    subtitle: str
    reference: str  # short id in page headers, e.g. "demo-ministry #12"
    generated_at: datetime
    generated_by: str
    notice: str
    sections: tuple[Section, ...] = field(default_factory=tuple)


def format_value(value: Any, lang: str = "ja") -> str:
    """A value as document text: timestamps in JST, dates ISO, booleans as words."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return fiscal.to_jst(value).strftime("%Y-%m-%d %H:%M JST")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return label(lang, "yes" if value else "no")
    return str(value)


def write_document_xlsx(doc: Document, out: str | Path | IO[bytes]) -> None:
    """The document as a one-sheet workbook laid out for A4 portrait printing."""
    with _file_path(out) as path:
        _write_document(doc, path)


def _write_document(doc: Document, path: str) -> None:
    book, s = open_workbook(path, title=doc.title, author=doc.generated_by)
    sheet = book.add_worksheet("報告書" if doc.lang == "ja" else "Report")
    width = max([2] + [len(sec.headers) for sec in doc.sections])
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, max(width - 1, 1), 60 if width <= 2 else 26)
    setup_print(sheet, header_text=doc.reference, landscape=False, repeat_rows=None)
    row = 0
    write_text(sheet, row, 0, doc.title, s.title, s.title)
    row += 1
    write_text(sheet, row, 0, doc.subtitle, s.text, s.text_quoted)
    row += 1
    write_text(sheet, row, 0, f"{format_value(doc.generated_at)} / {doc.generated_by}", s.text,
               s.text_quoted)
    row += 1
    if width > 1:
        # Our own fixed text, never a formula: safe to write without the quote check.
        sheet.merge_range(row, 0, row, width - 1, clean_text(doc.notice), s.wrap)
        sheet.set_row(row, 45)
    else:
        write_text(sheet, row, 0, doc.notice, s.wrap, s.wrap_quoted)
    row += 2
    for sec in doc.sections:
        write_text(sheet, row, 0, sec.title, s.header_ja, s.header_ja)
        row += 1
        for fld in sec.fields:
            write_text(sheet, row, 0, fld.label, s.label, s.label)
            _write_value(sheet, row, 1, fld.value, s, doc.lang)
            row += 1
        if sec.headers:
            for col, heading in enumerate(sec.headers):
                write_text(sheet, row, col, heading, s.header_en, s.header_en)
            row += 1
            for values in sec.rows:
                for col, value in enumerate(values):
                    _write_value(sheet, row, col, value, s, doc.lang)
                row += 1
        if sec.note:
            write_text(sheet, row, 0, sec.note, s.wrap, s.wrap_quoted)
            row += 1
        row += 1
    book.close()


def _write_value(sheet, row: int, col: int, value: Any, s, lang: str) -> None:
    if value is None or value == "":
        return
    if isinstance(value, bool):
        write_text(sheet, row, col, format_value(value, lang), s.boxed, s.boxed_quoted)
    elif isinstance(value, (int, float)):
        sheet.write_number(row, col, value, s.int if isinstance(value, int) else s.number)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, col, fiscal.to_jst_naive(value), s.datetime)
    elif isinstance(value, date):
        sheet.write_datetime(row, col, value, s.date)
    else:
        write_text(sheet, row, col, str(value), s.boxed, s.boxed_quoted)


_HTML_STYLE = """
@page { size: A4 portrait; margin: 18mm 15mm; }
body { font-family: "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", "Meiryo", sans-serif;
       font-size: 10.5pt; line-height: 1.55; color: #111; max-width: 190mm; margin: 0 auto; }
h1 { font-size: 16pt; margin: 0 0 2mm; }
h2 { font-size: 12pt; border-bottom: 1.5px solid #333; margin: 7mm 0 2mm; page-break-after: avoid; }
.meta { color: #444; margin: 0; }
.notice { border: 1px solid #b58900; background: #fdf6e3; padding: 2mm 3mm; margin: 4mm 0; }
table { border-collapse: collapse; width: 100%; page-break-inside: auto; }
th, td { border: 1px solid #888; padding: 1.2mm 2mm; vertical-align: top; text-align: left; }
th { background: #eef2f7; }
table.fields th { width: 30%; }
tr { page-break-inside: avoid; }
td { white-space: pre-wrap; overflow-wrap: break-word; }
thead th, tbody td:first-child { white-space: nowrap; }
.note { color: #444; font-size: 9.5pt; }
@media print { .notice { background: none; } }
"""


def render_document_html(doc: Document) -> str:
    """The document as one printable HTML page. Every value is escaped; no script, no links
    out: the page can be saved, mailed and printed as it is."""
    esc = html.escape
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(doc.lang)}"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        'style-src \'unsafe-inline\'">',
        f"<title>{esc(doc.title)} – {esc(doc.reference)}</title>",
        f"<style>{_HTML_STYLE}</style></head><body>",
        f"<h1>{esc(doc.title)}</h1>",
        f'<p class="meta">{esc(doc.subtitle)}</p>',
        f'<p class="meta">{esc(format_value(doc.generated_at))} / {esc(doc.generated_by)}</p>',
        f'<p class="notice">{esc(doc.notice)}</p>',
    ]
    for sec in doc.sections:
        out.append(f"<section><h2>{esc(sec.title)}</h2>")
        if sec.fields:
            out.append('<table class="fields"><tbody>')
            for fld in sec.fields:
                out.append(
                    f"<tr><th>{esc(fld.label)}</th><td>{esc(format_value(fld.value, doc.lang))}</td></tr>"
                )
            out.append("</tbody></table>")
        if sec.headers:
            out.append("<table><thead><tr>")
            out.extend(f"<th>{esc(h)}</th>" for h in sec.headers)
            out.append("</tr></thead><tbody>")
            for values in sec.rows:
                cells = "".join(f"<td>{esc(format_value(v, doc.lang))}</td>" for v in values)
                out.append(f"<tr>{cells}</tr>")
            out.append("</tbody></table>")
        if sec.note:
            out.append(f'<p class="note">{esc(sec.note)}</p>')
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out)


# --------------------------------------------------------------------------- board report content

_BOARD_TEXT = {
    "ja": {
        "title": "先進的AI利活用アドバイザリーボードへの報告書",
        "notice": ("本書のリスク判定は、公開情報をもとに再構成したルールパックによるものであり、"
                   "ガイドライン別紙の公式な様式・判定基準ではありません。各判定理由の出典と確度"
                   "（confirmed / secondary / inferred）を併記しています。"),
        "case": "1. 案件の概要", "classification": "2. リスク判定", "answers": "3. 判定シートへの回答",
        "board": "4. 報告事項", "checklists": "5. チェックシートの状況",
        "operation": "6. 運用状況", "incidents": "7. リスク事案",
        "case_id": "案件ID", "org": "組織", "department": "担当部署", "owner": "起案者",
        "status": "状態", "submitted_at": "提出日時", "approved_at": "承認日時",
        "level": "リスク区分", "complete": "回答の完全性", "pack": "ルールパック",
        "fingerprint": "フィンガープリント", "pack_matches": "ルールパックの一致",
        "reasons_h": ("規則ID", "判定理由", "入力", "確度", "出典"),
        "blocking_h": ("指摘ID", "阻害要因", "入力", "確度", "出典"),
        "answers_h": ("設問ID", "設問", "回答", "確度"),
        "unanswered": "未回答の設問",
        "project_details": "事業の内容", "objectives": "目的",
        "risk_mitigation": "リスク低減策", "qa_plan": "品質保証計画（運用を含む）",
        "schedule": "スケジュール", "contact": "連絡先",
        "checklist_h": ("チェックシート", "必須", "充足", "未充足", "未確認", "該当なし"),
        "open_items_h": ("項目ID", "項目", "状態", "根拠"),
        "open_items_note": "5-2. 未充足・未確認の必須項目",
        "started_on": "運用開始日", "vendor": "事業者", "model": "モデル",
        "model_version": "モデルのバージョン", "ismap": "ISMAP", "interval": "定期確認の間隔（月）",
        "last_review": "最終定期確認日", "next_review": "次回定期確認期限", "ended_on": "運用終了日",
        "end_evidence": "データ返却・削除の証跡",
        "incidents_h": ("事案ID", "発生日", "重大度", "内容", "対応", "CAIO報告", "外部報告", "状態"),
        "no_operation": "運用は開始されていません。", "no_incidents": "記録されたリスク事案はありません。",
        "not_high": ("この案件の現在のリスク区分は「高リスクの可能性」ではありません。"
                     "ボードへの報告は必須ではありません。"),
        "pending": "未確認", "met": "充足", "not_met": "未充足", "not_applicable": "該当なし",
    },
    "en": {
        "title": "Report to the Advanced AI Utilization Advisory Board",
        "notice": ("The classification in this document comes from a rule pack reconstructed from "
                   "public sources; it is not the guideline's official sheet or decision rule. The "
                   "source and provenance (confirmed / secondary / inferred) of every reason are "
                   "shown."),
        "case": "1. Case", "classification": "2. Classification", "answers": "3. Answers",
        "board": "4. Report", "checklists": "5. Checklists",
        "operation": "6. Operation", "incidents": "7. Incidents",
        "case_id": "Case ID", "org": "Organisation", "department": "Department",
        "owner": "Owner", "status": "Status", "submitted_at": "Submitted at",
        "approved_at": "Approved at", "level": "Level", "complete": "Complete",
        "pack": "Rule pack", "fingerprint": "Fingerprint", "pack_matches": "Pack matches",
        "reasons_h": ("Rule", "Reason", "Inputs", "Provenance", "Source"),
        "blocking_h": ("Finding", "Blocking finding", "Inputs", "Provenance", "Source"),
        "answers_h": ("Question", "Text", "Answer", "Provenance"),
        "unanswered": "Unanswered questions",
        "project_details": "Project details", "objectives": "Objectives",
        "risk_mitigation": "Risk mitigation", "qa_plan": "QA plan (including operation)",
        "schedule": "Schedule", "contact": "Contact",
        "checklist_h": ("Checklist", "Required", "Met", "Not met", "Pending", "N/A"),
        "open_items_h": ("Item", "Text", "Status", "Evidence"),
        "open_items_note": "5-2. Required items not met or not yet checked",
        "started_on": "Operation started", "vendor": "Vendor", "model": "Model",
        "model_version": "Model version", "ismap": "ISMAP",
        "interval": "Review interval (months)", "last_review": "Last review",
        "next_review": "Next review due", "ended_on": "Operation ended",
        "end_evidence": "Data return/deletion evidence",
        "incidents_h": ("ID", "Occurred", "Severity", "Description", "Actions", "Reported to CAIO",
                        "Reported onward", "Status"),
        "no_operation": "Not in operation.", "no_incidents": "No incident recorded.",
        "not_high": ("This case is not currently classified as possibly high-risk; a report to the "
                     "Board is not required."),
        "pending": "Pending", "met": "Met", "not_met": "Not met", "not_applicable": "N/A",
    },
}


def _pick(texts: Any, lang: str) -> str:
    if texts is None:
        return ""
    if isinstance(texts, str):
        return texts
    return texts.get(lang) or texts.get("ja") or ""


def _source_text(source: Any) -> str:
    if not source:
        return ""
    if isinstance(source, dict):
        return " / ".join(str(v) for v in source.values() if v)
    return str(source)


def _inputs_text(inputs: dict[str, Any]) -> str:
    return ", ".join(f"{q}={v}" for q, v in sorted(inputs.items()))


def board_report_document(svc, actor, case_id: int, *, lang: str = "ja") -> Document:
    """The board report of one case as a document, read as `actor` (anyone of the case's
    organisation may read it; the CAIO's office sends it)."""
    words = _BOARD_TEXT.get(lang, _BOARD_TEXT["ja"])
    case = svc.get_case(actor, case_id)
    op = operations.get_operation(svc, actor, case_id) if actor.has_role(
        *operations.READER_ROLES) else None
    incidents = operations.list_incidents(svc, actor, case_id) if actor.has_role(
        *operations.READER_ROLES) else []
    pack = None
    try:
        pack = svc.registry.resolve(f"{case.pack_id}@{case.pack_version}")
    except ProcurementError:  # a pack no longer installed still leaves a document
        pack = None
    result = case.classification

    def level_text(level_id: str | None) -> str:
        if level_id and pack is not None:
            try:
                return _pick(pack.level(level_id).label, lang)
            except (ProcurementError, KeyError):  # an id the pack lacks is shown as it is
                return level_id
        return label(lang, f"level.{level_id or 'unclassified'}")

    sections = [
        Section(words["case"], fields=(
            Field(words["case_id"], case.id),
            Field(words["org"], case.org_code),
            Field(words["department"], case.department),
            Field(words["owner"], case.owner_name),
            Field(words["status"], label(lang, f"status.{case.status}")),
            Field(words["submitted_at"], case.submitted_at),
            Field(words["approved_at"], case.approved_at),
        )),
    ]
    reason_rows = tuple(
        (r.rule_id, _pick(r.message, lang), _inputs_text(r.inputs), r.provenance,
         _source_text(r.source))
        for r in (result.reasons if result else [])
    )
    blocking_rows = tuple(
        (f.id, _pick(f.message, lang), _inputs_text(f.inputs), f.provenance, _source_text(f.source))
        for f in (result.blocking if result else [])
    )
    classification_fields = [
        Field(words["level"], level_text(case.level)),
        Field(words["complete"], bool(case.is_complete)),
        Field(words["pack"], case.pack_ref),
        Field(words["fingerprint"], case.pack_fingerprint),
        Field(words["pack_matches"], bool(case.pack_matches)),
    ]
    if result is not None and result.unanswered:
        classification_fields.append(Field(words["unanswered"], ", ".join(result.unanswered)))
    sections.append(Section(words["classification"], fields=tuple(classification_fields),
                            headers=words["reasons_h"], rows=reason_rows,
                            note="" if case.level == "high" else words["not_high"]))
    if blocking_rows:
        sections.append(Section(words["blocking_h"][1], headers=words["blocking_h"],
                                rows=blocking_rows))
    answer_rows = []
    for qid, value in case.answers.items():
        text, answer, provenance = qid, str(value), ""
        if pack is not None:
            try:
                question = pack.question(qid)
                text, provenance = _pick(question.text, lang), question.provenance
                answer = _pick(question.option(value).label, lang)
            except (ProcurementError, KeyError):  # an answer the pack no longer knows stays raw
                pass
        answer_rows.append((qid, text, answer, provenance))
    if pack is not None:
        order = {q.id: index for index, q in enumerate(pack.questions)}
        answer_rows.sort(key=lambda row: (order.get(row[0], len(order)), row[0]))
    sections.append(Section(words["answers"], headers=words["answers_h"], rows=tuple(answer_rows)))
    report = case.board_report or {}
    sections.append(Section(words["board"], fields=tuple(
        Field(words[name], (report.get(name) or "").strip() or label(lang, "empty"))
        for name in ("project_details", "objectives", "risk_mitigation", "qa_plan", "schedule",
                     "contact")
    )))
    if pack is not None and result is not None:
        required = set(result.required_items)
        counts_rows = []
        open_rows = []
        for checklist in pack.checklists:
            ids = [i.id for i in checklist.items if i.id in required]
            states = Counter(
                case.checklist[i].status if i in case.checklist else "pending" for i in ids
            )
            counts_rows.append((_pick(checklist.title, lang), len(ids), states["met"],
                                states["not_met"], states["pending"], states["not_applicable"]))
            for item in checklist.items:
                if item.id not in required:
                    continue
                entry = case.checklist.get(item.id)
                status = entry.status if entry else "pending"
                if status in ("not_met", "pending"):
                    open_rows.append((item.id, _pick(item.text, lang), words[status],
                                      entry.evidence if entry else ""))
        sections.append(Section(words["checklists"], headers=words["checklist_h"],
                                rows=tuple(counts_rows)))
        if open_rows:
            sections.append(Section(words["open_items_note"], headers=words["open_items_h"],
                                    rows=tuple(open_rows)))
    if op is not None:
        sections.append(Section(words["operation"], fields=(
            Field(words["started_on"], op.started_on),
            Field(words["vendor"], op.vendor),
            Field(words["model"], op.model_name),
            Field(words["model_version"], op.model_version),
            Field(words["ismap"], ismap_text(op.ismap_listing, lang)),
            Field(words["interval"], op.review_interval_months),
            Field(words["last_review"], op.last_reviewed_on),
            Field(words["next_review"], next_review_due(_operation_row(op))),
            Field(words["ended_on"], op.ended_on),
            Field(words["end_evidence"], op.end_evidence),
        )))
    else:
        sections.append(Section(words["operation"], note=words["no_operation"]))
    sections.append(Section(
        words["incidents"], headers=words["incidents_h"] if incidents else (),
        rows=tuple(
            (i.id, i.occurred_on, label(lang, f"severity.{i.severity}"), i.description,
             i.actions_taken, i.reported_to_caio_at, i.reported_onward_at,
             label(lang, f"incident.{i.status}"))
            for i in sorted(incidents, key=lambda i: (i.occurred_on, i.id))
        ),
        note="" if incidents else words["no_incidents"],
    ))
    now = svc.clock()
    return Document(
        lang=lang,
        title=words["title"],
        subtitle=f"{case.title} ({case.org_code} #{case.id})",
        reference=f"{case.org_code} #{case.id}",
        generated_at=now,
        generated_by=actor.display_name or actor.username,
        notice=words["notice"],
        sections=tuple(sections),
    )


def _operation_row(op) -> OperationRow:
    return OperationRow(
        case_id=op.case_id, started_on=op.started_on, vendor=op.vendor, model_name=op.model_name,
        model_version=op.model_version, ismap_listing=op.ismap_listing,
        review_interval_months=op.review_interval_months, last_reviewed_on=op.last_reviewed_on,
        ended_on=op.ended_on, end_evidence=op.end_evidence,
    )


def write_board_report(svc, actor, case_id: int, out: str | Path, *, lang: str = "ja") -> Document:
    """Write the board report of a case to `out`: `.html` gives the printable page, `.xlsx` the
    workbook. Returns the document written."""
    suffix = Path(out).suffix.lower()
    if suffix not in (".xlsx", ".html", ".htm"):
        raise InputError(f"{out}: the board report is written as .xlsx or .html, not {suffix or 'no suffix'}",
                         field="out", value=str(out))
    doc = board_report_document(svc, actor, case_id, lang=lang)
    if suffix == ".xlsx":
        write_document_xlsx(doc, out)
    else:
        Path(out).write_text(render_document_html(doc), encoding="utf-8")
    return doc


def write_periodic_report_for(
    svc, actor, fy: int, out: str | Path | IO[bytes], *, org_code: str | None = None,
    lang: str = "ja",
) -> PeriodicReportResult:
    """Read the actor's organisation and write its periodic report of `fy` to `out`."""
    rows = load_portfolio_rows(svc, actor, org_code, changes_period=fiscal.fiscal_year_dates(fy))
    return write_periodic_report(rows, fy, out, generated_at=svc.clock(),
                                 generated_by=actor.display_name or actor.username, lang=lang)


def case_org_code(svc, case_id: int) -> str:
    """The organisation a case belongs to (for the command line, which acts per organisation)."""
    with Session(svc.engine) as s:
        code = s.scalar(select(Organisation.code).join(Case, Case.org_id == Organisation.id)
                        .where(Case.id == case_id))
    if code is None:
        raise NotFoundError(f"case {case_id} not found", kind="case", id=case_id)
    return code
