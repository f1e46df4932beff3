"""The periodic report (定期報告): one organisation's generative-AI systems of a fiscal year.

A workbook for one organisation and one fiscal year (年度, April to March, named the 令和 way:
令和8年度): a summary, every system in scope with its purpose, department, level, status, pack
and fingerprint, vendor, model, ISMAP listing and review dates, the year's incidents, and the
year's changes (decisions and every audited change). Which systems are in scope is decided by
`procurement.caio.portfolio.select_fiscal_year`, after the cases whose level their own pack marks
`out_of_scope` are left out.

Levels read in the words of each case's own pack, counted in the pack's order of levels; people by
display name; the pack by title and edition (its exact version and fingerprint in their own
columns for auditors). The form counts years by era, so its page header dates it the same way
(令和8年11月30日作成); cells hold real dates. In Japanese (`lang="ja"`) the labels are Japanese
only; the English header row of each table stays for machine reading.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy import select

from procurement import fiscal
from procurement.caio.documents import (
    _file_path,
    _write_value,
    level_text,
    level_words,
    pack_level_words,
)
from procurement.caio.incidents import SEVERITIES
from procurement.caio.portfolio import (
    CaseRow,
    FiscalYearSystem,
    PortfolioRows,
    count_by_status,
    next_review_due,
    select_fiscal_year,
)
from procurement.db.models import Organisation, User
from procurement.errors import ProcurementError
from procurement.events import describe_event
from procurement.exports.labels import jp_date, pack_title, wareki_date
from procurement.exports.printing import lines_needed
from procurement.exports.sheets import Column, PageText, Table, open_workbook, write_text
from procurement.records.core import ServiceCore
from procurement.records.views import Actor
from procurement.vocabulary import decision_note, event_word, ismap_text, word

PERIODIC_SYSTEM_COLUMNS = (
    Column("Case ID", "案件番号", "int", 8),
    Column("Title", "件名", "wrap", 28),
    Column("Purpose", "目的", "wrap", 36),
    Column("Department", "担当部署", "text", 16),
    Column("Level", "リスク区分", "text", 14),
    Column("Status", "状態", "text", 10),
    Column("Pack", "ルールパック", "wrap", 30),
    Column("Pack version", "ルールパックの版", "code", 20),
    Column("Pack fingerprint", "フィンガープリント", "code", 14),
    Column("Vendor", "事業者", "text", 18),
    Column("Model", "モデル", "text", 18),
    Column("Model version", "モデルのバージョン", "text", 14),
    Column("ISMAP", "ISMAP", "text", 18),
    Column("Approved at", "承認日時", "datetime", 24),
    Column("Operation started", "運用開始日", "date", 15),
    Column("Operation ended", "運用終了日", "date", 15),
    Column("Review interval (months)", "定期確認の間隔（月）", "int", 10),
    Column("Last review", "最終定期確認日", "date", 15),
    Column("Next review due", "次回定期確認期限", "date", 15),
    Column("Incidents in year", "年度内のリスク事案", "int", 10),
    Column("Changes in year", "年度内の変更", "wrap", 44),
    Column("Audited changes in year", "年度内の記録件数", "int", 10),
)

PERIODIC_INCIDENT_COLUMNS = (
    Column("Case ID", "案件番号", "int", 8),
    Column("Title", "件名", "wrap", 28),
    Column("Incident ID", "事案番号", "int", 8),
    Column("Occurred on", "発生日", "date", 15),
    Column("Severity", "重大度", "text", 10),
    Column("Description", "内容", "wrap", 40),
    Column("Actions taken", "対応", "wrap", 40),
    Column("Reported to CAIO", "CAIOへの報告日時", "datetime", 24),
    Column("Reported onward", "外部への報告日時", "datetime", 24),
    Column("Status", "状態", "text", 10),
)

PERIODIC_CHANGE_COLUMNS = (
    Column("Case ID", "案件番号", "int", 8),
    Column("Title", "件名", "wrap", 28),
    Column("Occurred at", "日時", "datetime", 24),
    Column("Event", "記録種別コード", "code", 20),
    Column("Event name", "記録種別", "text", 22),
    Column("Actor", "実施者", "text", 16),
    Column("Detail", "内容", "wrap", 44),
    Column("Audit seq", "監査ログ番号", "int", 10),
)

SUMMARY_COLUMNS = (
    Column("Item", "項目", "text", 30),
    Column("Value", "値", "wrap", 62),
)

#: The summary's labels, per language (the table's English header row is the same in both).
_SUMMARY_LABELS = {
    "ja": {
        "org": "組織", "fy": "年度", "period": "対象期間", "generated_at": "作成日時",
        "generated_by": "作成者", "systems": "対象システム数", "by_level": "リスク区分別",
        "by_status": "状態別（作成時点）", "incidents": "年度内のリスク事案",
        "by_severity": "重大度別", "reviews": "年度末までに期限の来る定期確認",
        "changes": "年度内の記録件数", "note": "注記",
        "note_text": "リスク区分は、公開情報から再構成したルールパックによる判定です（公式の様式では"
                     "ありません）。各案件のリスク区分は、その案件を判定したルールパックの言葉で示し"
                     "ています。ルールパックがガイドラインの適用範囲外とする区分の案件は含みません。",
        "fy_value": "{label}（{year}年度）", "period_value": "{start}～{end}",
        "made": "{date}作成", "title": "定期報告 {label} {org}",
    },
    "en": {
        "org": "Organisation", "fy": "Fiscal year", "period": "Period (JST)",
        "generated_at": "Generated at", "generated_by": "Generated by",
        "systems": "Systems in scope", "by_level": "By level",
        "by_status": "By status (when generated)", "incidents": "Incidents in year",
        "by_severity": "Incidents by severity", "reviews": "Reviews due by year end",
        "changes": "Audited changes in year", "note": "Note",
        "note_text": "Levels come from rule packs reconstructed from public sources, not the "
                     "official sheets; each case's level is named as the pack that assessed it "
                     "names it. Cases at a level their pack puts outside the guideline are left out.",
        "fy_value": "{label}", "period_value": "{start} – {end}",
        "made": "Made {date}", "title": "Periodic report {label} {org}",
    },
}


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


class _Packs:
    """The packs the cases were assessed under, resolved once each (None when not installed)."""

    def __init__(self, registry: Any | None) -> None:
        self.registry = registry
        self._found: dict[tuple[str, str], Any | None] = {}

    def get(self, case: CaseRow) -> Any | None:
        key = (case.pack_id, case.pack_version)
        if key not in self._found:
            found = None
            if self.registry is not None:
                try:
                    found = self.registry.resolve(f"{case.pack_id}@{case.pack_version}")
                except ProcurementError:
                    found = None
            self._found[key] = found
        return self._found[key]

    def out_of_scope(self, case: CaseRow) -> bool:
        """Whether the case's own pack says its level is outside the guideline."""
        pack = self.get(case)
        if pack is None or not case.level:
            return False
        try:
            return bool(pack.level(case.level).out_of_scope)
        except ProcurementError:
            return False


def _changes_summary(system: FiscalYearSystem, lang: str, levels: dict[str, str]) -> str:
    """One line per decision and per operation milestone of the year, in time order."""
    lines: list[tuple[datetime, str]] = []
    for d in system.decisions:
        text = word("decision", d.kind, lang)
        if d.level and d.kind == "approval":
            text += f" ({level_text(d.level, levels, lang)})"
        if d.kind in ("void", "return", "reassessment"):
            pack = f"{d.pack_id}@{d.pack_version}" if d.pack_id else None
            note = decision_note(d.kind, d.comment, lang, pack=pack)
            text += f": {note}" if note else ""
        lines.append((d.created_at, text))
    for change in system.changes:
        if change.event_type in _MILESTONE_EVENTS:
            detail = describe_event(change.event_type, change.payload, lang, levels=levels)
            text = event_word(change.event_type, lang) + (f": {detail}" if detail else "")
            lines.append((change.occurred_at, text))
    lines.sort(key=lambda item: item[0])
    if lang == "ja":
        return "\n".join(f"{jp_date(when)} {text}" for when, text in lines)
    return "\n".join(f"{fiscal.to_jst(when):%Y-%m-%d} {text}" for when, text in lines)


def _count_by_level(cases: Iterable[CaseRow], packs: _Packs, lang: str,
                    fallback: Callable[[CaseRow], dict[str, str]]) -> dict[str, int]:
    """Cases per level in words, in the order of the levels in their packs (a pack's first
    level first; packs in the order their cases come), not yet classified last."""
    counts: Counter[str] = Counter()
    order: dict[str, tuple[int, int]] = {}
    pack_order: dict[tuple[str, str], int] = {}
    unclassified = word("concept", "unclassified", lang)
    for case in cases:
        if not case.level:
            counts[unclassified] += 1
            order.setdefault(unclassified, (1 << 30, 0))
            continue
        pack = packs.get(case)
        key = (case.pack_id, case.pack_version)
        pack_order.setdefault(key, len(pack_order))
        rank = 1 << 20
        words = level_text(case.level, fallback(case), lang)
        if pack is not None:
            try:
                rank = pack.level_rank(case.level)
                words = pack.text(pack.level(case.level).label, lang) or words
            except ProcurementError:
                pass
        counts[words] += 1
        order.setdefault(words, (rank, pack_order[key]))
    return {name: counts[name] for name in sorted(counts, key=lambda n: (order[n], n))}


def write_periodic_report(
    rows: PortfolioRows,
    fy: int,
    out: str | Path | IO[bytes],
    *,
    generated_at: datetime,
    generated_by: str,
    lang: str = "ja",
    levels: dict[str, str] | None = None,
    pack_levels: dict[tuple[str, str], dict[str, str]] | None = None,
    registry: Any | None = None,
    people: dict[str, str] | None = None,
) -> PeriodicReportResult:
    """Write the periodic-report workbook of `fy` for the organisation in `rows` to `out`
    (a path or a binary file object). Returns the counts written.

    `registry`: the packs, from which each case's level gets its words, its place in the order
    of levels and whether it is out of scope (such cases are left out). Without it, `levels`
    (level id -> words, `procurement.caio.documents.level_words`) and `pack_levels` (the words of
    each case's own pack, `pack_level_words`, which win) name the levels. `people`: username ->
    display name, for the actors of audited changes."""
    packs = _Packs(registry)
    if registry is not None:
        rows = replace(rows, cases=tuple(c for c in rows.cases if not packs.out_of_scope(c)))
    start, end = fiscal.fiscal_year_dates(fy)
    systems = select_fiscal_year(rows, fy)
    with _file_path(out) as path:
        return _write_periodic(rows, fy, systems, path, start, end, generated_at, generated_by,
                               lang, levels or {}, pack_levels or {}, packs, people or {})


def _write_periodic(rows, fy, systems, path, start, end, generated_at, generated_by, lang,
                    levels, pack_levels, packs: _Packs, people: dict[str, str]):
    texts = _SUMMARY_LABELS.get(lang, _SUMMARY_LABELS["ja"])
    fy_label = fiscal.fiscal_year_label(fy, lang)
    made = wareki_date(generated_at) if lang == "ja" else fiscal.to_jst(generated_at).date()
    title = texts["title"].format(label=fy_label, org=rows.org_name)
    book, styles = open_workbook(path, title=title, author=generated_by, lang=lang)
    page = PageText(title, date=texts["made"].format(date=made))
    # The summary is the first tab but is filled last, once the counts are known.
    summary = Table(book, styles, "概要", SUMMARY_COLUMNS, landscape=False, page=page,
                    key_columns=0)
    system_table = Table(book, styles, "システム一覧", PERIODIC_SYSTEM_COLUMNS, page=page,
                         key_columns=2)
    incident_table = Table(book, styles, "リスク事案", PERIODIC_INCIDENT_COLUMNS, page=page,
                           key_columns=2)
    change_table = Table(book, styles, "年度内の変更", PERIODIC_CHANGE_COLUMNS, page=page,
                         key_columns=2)

    def case_levels(case: CaseRow) -> dict[str, str]:
        return pack_levels.get((case.pack_id, case.pack_version), levels)

    def level_of(case: CaseRow) -> str:
        pack = packs.get(case)
        if pack is not None and case.level:
            try:
                return pack.text(pack.level(case.level).label, lang) or case.level
            except ProcurementError:
                pass
        return level_text(case.level, case_levels(case), lang)

    severity_counts: Counter = Counter()
    reviews_overdue = 0
    for system in systems:
        case, op = system.case, system.operation
        due = next_review_due(op) if op is not None else None
        if due is not None and due <= end:
            reviews_overdue += 1
        pack = packs.get(case)
        system_table.append([
            case.id, case.title, case.purpose, case.department, level_of(case),
            word("case_status", case.status, lang),
            pack_title(pack, lang) if pack is not None else case.pack_ref, case.pack_ref,
            case.pack_fingerprint[:12],
            op.vendor if op else None, op.model_name if op else None,
            op.model_version if op else None, ismap_text(op.ismap_listing, lang) if op else None,
            case.approved_at, op.started_on if op else None, op.ended_on if op else None,
            op.review_interval_months if op else None, op.last_reviewed_on if op else None, due,
            len(system.incidents),
            _changes_summary(system, lang, case_levels(case)),
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
                event_word(change.event_type, lang), people.get(change.actor, change.actor),
                describe_event(change.event_type, change.payload, lang, levels=case_levels(case)),
                change.seq,
            ])

    def counts_text(counts: dict[str, int], name: Callable[[str], str]) -> str:
        return "\n".join(f"{name(k)}: {v}" for k, v in counts.items()) or "0"

    cases = [system.case for system in systems]
    severities = {k: severity_counts[k] for k in SEVERITIES if severity_counts[k]}
    if lang == "ja":
        period = texts["period_value"].format(start=wareki_date(start), end=wareki_date(end))
    else:
        period = texts["period_value"].format(start=start.isoformat(), end=end.isoformat())

    summary_rows = [
        [texts["org"], rows.org_name],
        [texts["fy"], texts["fy_value"].format(label=fy_label, year=fy)],
        [texts["period"], period],
        [texts["generated_at"], generated_at],
        [texts["generated_by"], generated_by],
        [texts["systems"], len(systems)],
        [texts["by_level"],
         counts_text(_count_by_level(cases, packs, lang, case_levels), lambda k: k)],
        [texts["by_status"],
         counts_text(count_by_status(cases), lambda k: word("case_status", k, lang))],
        [texts["incidents"], incident_table.count],
        [texts["by_severity"], counts_text(severities, lambda k: word("severity", k, lang))],
        [texts["reviews"], reviews_overdue],
        [texts["changes"], change_table.count],
        [texts["note"], texts["note_text"]],
    ]
    sheet = summary.sheet
    for item, value in summary_rows:
        # Mixed kinds in one column: numbers stay numbers, the timestamp a JST date-time.
        write_text(sheet, summary.row, 0, item, styles.text, styles.text_quoted)
        _write_value(sheet, summary.row, 1, value, styles, lang)
        summary.set_lines(summary.row, max(
            lines_needed(item, SUMMARY_COLUMNS[0].width),
            lines_needed(value, SUMMARY_COLUMNS[1].width) if isinstance(value, str) else 1))
        summary.row += 1
    for table in (summary, system_table, incident_table, change_table):
        table.finish()
    book.close()
    return PeriodicReportResult(fy, rows.org_code, len(systems), incident_table.count,
                                change_table.count)


class PeriodicReportService(ServiceCore):
    """The periodic report, read as an actor."""

    if TYPE_CHECKING:  # provided by `procurement.caio.portfolio.PortfolioService` in `Services`
        def load_portfolio_rows(
            self, actor: Actor, org_code: str | None = None, *,
            changes_period: tuple[date, date] | None = None,
        ) -> PortfolioRows: ...

    def write_periodic_report_for(
        self, actor: Actor, fy: int, out: str | Path | IO[bytes], *, org_code: str | None = None,
        lang: str = "ja",
    ) -> PeriodicReportResult:
        """Read the actor's organisation and write its periodic report of `fy` to `out`."""
        rows = self.load_portfolio_rows(actor, org_code, changes_period=fiscal.fiscal_year_dates(fy))
        with self.read() as s:  # the organisation's people, named in its audited changes
            people = {name: display for name, display in s.execute(
                select(User.username, User.display_name)
                .join(Organisation, User.org_id == Organisation.id)
                .where(Organisation.code == rows.org_code)) if display}
        return write_periodic_report(
            rows, fy, out, generated_at=self.now(),
            generated_by=actor.display_name or actor.username, lang=lang,
            levels=level_words(self.registry, lang),
            pack_levels=pack_level_words(self.registry,
                                         ((c.pack_id, c.pack_version) for c in rows.cases), lang),
            registry=self.registry, people=people)
