"""The periodic report (定期報告): one organisation's generative-AI systems of a fiscal year.

A workbook for one organisation and one fiscal year (年度, April to March, 令和 notation
alongside): a summary, every system in scope with its purpose, department, level, status, pack
and fingerprint, vendor, model, ISMAP listing and review dates, the year's incidents, and the
year's changes (decisions and every audited change). Which systems are in scope is decided by
`procurement.caio.portfolio.select_fiscal_year`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from procurement import fiscal
from procurement.caio.documents import _file_path, _write_value
from procurement.caio.incidents import SEVERITIES
from procurement.caio.portfolio import (
    FiscalYearSystem,
    PortfolioRows,
    count_by_status,
    level_groups,
    next_review_due,
    select_fiscal_year,
)
from procurement.events import describe_event
from procurement.exports.sheets import Column, Table, open_workbook, write_text
from procurement.records.core import ServiceCore
from procurement.records.views import Actor
from procurement.vocabulary import decision_note, event_word, ismap_text, word

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
    Column("Event", "記録種別コード", "code", 20),
    Column("Event name", "記録種別", "text", 22),
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


#: Audit events listed in the systems sheet beside the decisions (which come from their own
#: table): the operation milestones.
_MILESTONE_EVENTS = ("operation.started", "operation.updated", "operation.reviewed",
                     "operation.ended")


def _pack_words(rows: PortfolioRows, pack_id: str, version: str, lang: str) -> dict[str, str]:
    """Level id -> label of one exact pack (empty when the pack is unknown: ids are shown)."""
    pack = rows.levels.pack(pack_id, version)
    return {lv.id: lv.text(lang) for lv in pack.levels} if pack is not None else {}


def _changes_summary(system: FiscalYearSystem, lang: str, rows: PortfolioRows) -> str:
    """One line per decision and per operation milestone of the year, in time order. A
    decision's level is named by the pack it was taken under (the case's pack without one)."""
    case = system.case
    lines: list[tuple[datetime, str]] = []
    for d in system.decisions:
        text = word("decision", d.kind, lang)
        if d.level and d.kind == "approval":
            pack_id, version = ((d.pack_id, d.pack_version) if d.pack_id and d.pack_version
                                else (case.pack_id, case.pack_version))
            text += f" ({rows.levels.label(pack_id, version, d.level, lang)})"
        if d.kind in ("void", "return", "reassessment"):
            pack = f"{d.pack_id}@{d.pack_version}" if d.pack_id else None
            note = decision_note(d.kind, d.comment, lang, pack=pack)
            text += f": {note}" if note else ""
        lines.append((d.created_at, text))
    for change in system.changes:
        if change.event_type in _MILESTONE_EVENTS:
            detail = describe_event(change.event_type, change.payload, lang,
                                    levels=_pack_words(rows, case.pack_id, case.pack_version, lang))
            text = event_word(change.event_type, lang) + (f": {detail}" if detail else "")
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
    (a path or a binary file object). Returns the counts written. Levels are named, ordered and
    judged (out of scope) by each case's own pack (`CaseRow.level_info`, `rows.levels`); a
    case whose pack is unknown shows its level id."""
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
            case.level_text(lang), word("case_status", case.status, lang),
            case.pack_ref, case.pack_fingerprint[:12],
            op.vendor if op else None, op.model_name if op else None,
            op.model_version if op else None, ismap_text(op.ismap_listing, lang) if op else None,
            case.approved_at, op.started_on if op else None, op.ended_on if op else None,
            op.review_interval_months if op else None, op.last_reviewed_on if op else None, due,
            len(system.incidents),
            _changes_summary(system, lang, rows),
            len(system.changes),
        ])
        for inc in system.incidents:
            severity_counts[inc.severity] += 1
            incident_table.append([
                case.id, case.title, inc.id, inc.occurred_on, word("severity", inc.severity, lang),
                inc.description, inc.actions_taken, inc.reported_to_caio_at, inc.reported_onward_at,
                word("incident_status", inc.status, lang),
            ])
        for change in system.changes:
            change_table.append([
                case.id, case.title, change.occurred_at, change.event_type,
                event_word(change.event_type, lang), change.actor,
                describe_event(change.event_type, change.payload, lang,
                               levels=_pack_words(rows, case.pack_id, case.pack_version, lang)),
                change.seq,
            ])

    def counts_text(counts: dict[str, int], name: Callable[[str], str]) -> str:
        return "\n".join(f"{name(k)}: {v}" for k, v in counts.items()) or "0"

    cases = [system.case for system in systems]
    groups = level_groups(cases)
    several_scales = len({g.scale for g in groups if g.level is not None}) > 1

    def group_name(group) -> str:
        # With cases on several scales (packs with levels of their own), each level says whose.
        text = group.text(lang)
        if several_scales and group.level is not None:
            text = f"{rows.levels.scale_title(group.scale, lang)}: {text}"
        return text
    severities = {k: severity_counts[k] for k in SEVERITIES if severity_counts[k]}

    summary_rows = [
        ["組織 / Organisation", f"{rows.org_name} ({rows.org_code})"],
        ["年度 / Fiscal year", f"{fy}年度（{fiscal.fiscal_year_label(fy)}） / FY{fy}"],
        ["対象期間 / Period (JST)", f"{start.isoformat()} – {end.isoformat()}"],
        ["作成日時 / Generated at", generated_at],
        ["作成者 / Generated by", generated_by],
        ["対象システム数 / Systems in scope", len(systems)],
        ["リスク区分別 / By level",
         "\n".join(f"{group_name(g)}: {g.count}" for g in groups) or "0"],
        ["状態別（作成時点） / By status (when generated)",
         counts_text(count_by_status(cases), lambda k: word("case_status", k, lang))],
        ["年度内のリスク事案 / Incidents in year", incident_table.count],
        ["重大度別 / Incidents by severity",
         counts_text(severities, lambda k: word("severity", k, lang))],
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


class PeriodicReportService(ServiceCore):
    """The periodic report, read as an actor."""

    def write_periodic_report_for(
        self, actor: Actor, fy: int, out: str | Path | IO[bytes], *, org_code: str | None = None,
        lang: str = "ja",
    ) -> PeriodicReportResult:
        """Read the actor's organisation and write its periodic report of `fy` to `out`."""
        rows = self.load_portfolio_rows(actor, org_code, changes_period=fiscal.fiscal_year_dates(fy))
        return write_periodic_report(
            rows, fy, out, generated_at=self.now(),
            generated_by=actor.display_name or actor.username, lang=lang)
