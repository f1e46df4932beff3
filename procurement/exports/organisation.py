"""The organisation workbook: an organisation's cases, answers, decisions, checklists, audit log
and rule packs for a period, in one file an auditor can filter, print, keep and verify.

    build_organisation_workbook(engine, out, *, filters=ExportFilters(), registry=None,
                                generated_by="", progress=None, now=None) -> ExportResult

What each sheet holds (codes as stored, Japanese labels beside them, times in JST, a 年度 column):

* 概要 Summary: filters, generation time and user, tool version, rows per sheet, cases by level and
  by status, and per audit chain the verification result and head `seq:hash`.
* 案件 Cases: cases of the selected organisations whose life overlaps the period (created on or
  before its last day, updated on or after its first), filtered by status and pack; with each
  case's purpose (利用目的) after its department.
* 回答 Answers: the current answers of those cases, in long form, in pack question order.
* 判定 Decisions: decisions on those cases taken within the period.
* チェックリスト Checklist: the current checklist results of those cases, in pack item order.
* 監査ログ Audit log: every column of `audit_events` for each chain of the selected organisations,
  from seq 1 up to the end of the period. A hash chain can only be checked from its start, so
  events before the period are included (filter them out with the 年度 / JST time columns); the
  status and pack filters do not apply to it. Payloads longer than one cell continue on
  監査ログ(続き) so that `verify_workbook` can re-join them.
* リスク事案 Incidents: the incident register (procurement.caio.operation) of the selected
  organisations' cases (status and pack filters apply), incidents that occurred within the period.
* ルールパック Rule packs: every pack version the exported cases and decisions reference, with its
  fingerprint (and whether the installed pack still has it), and each element's provenance,
  source and layer.

Everything is streamed: rows go from a server-side cursor to the sheet's temporary file, so memory
stays flat as the log grows, and the audit chain is verified in the same pass that writes it.
The file appears at `out` only when complete (written next to it, then renamed).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.engine import Engine

import procurement
from procurement.audit import ChainReport, EventRecord, format_timestamp, verify_chain
from procurement.db.models import (
    Answer,
    AuditEvent,
    Case,
    ChecklistResult,
    Decision,
    Incident,
    Organisation,
    User,
)
from procurement.db.reading import read_connection, stream
from procurement.errors import InputError, NotFoundError
from procurement.exports.cells import EXCEL_CELL_LIMIT, FORMULA_STARTS, clean_text, split_utf16
from procurement.exports.labels import (
    PackTexts,
    answer_text,
    decode_answer,
    en,
    format_source,
    ja,
    ja_word,
    jp_date,
    pack_title,
)
from procurement.exports.printing import lines_needed, max_lines, row_height
from procurement.exports.sheets import Column, Form, PageText, Table, open_workbook
from procurement.files import atomic_output
from procurement.fiscal import as_utc, fiscal_year, fiscal_year_label, jst_period_utc
from procurement.records.policy import CASE_STATUSES
from procurement.vocabulary import decision_note, describe_void_reason

#: Sheet names (Excel allows 31 characters; these are the names auditors will see and tests use).
SUMMARY, CASES, ANSWERS, DECISIONS, CHECKLIST, AUDIT, AUDIT_MORE, PACKS = (
    "概要", "案件", "回答", "判定", "チェックリスト", "監査ログ", "監査ログ(続き)", "ルールパック",
)

#: The audit sheet's columns: every column of `audit_events`, plus JST time and 年度 for people.
#: `occurred_at` stays the exact UTC text that was hashed; `verify_workbook` reads by English name.
AUDIT_COLUMNS = (
    Column("id", "事象ID", "int", 9),
    Column("chain", "チェーン(組織コード)", "code", 14),
    Column("seq", "連番", "int", 8),
    Column("occurred_at", "発生日時(UTC, ハッシュ対象)", "code", 29),
    Column("occurred_at_jst", "発生日時(JST)", "datetime", 24),
    Column("fiscal_year", "年度", "text", 11),
    Column("actor", "実行者", "text", 14),
    Column("event_type", "イベント種別", "code", 25),
    Column("case_id", "案件ID", "int", 9),
    Column("payload", "内容(JSON)", "text", 80),
    # Empty unless the payload continues on 監査ログ(続き): then the number of pieces.
    Column("payload_parts", "内容の分割数", "int", 8),
    Column("prev_hash", "前ハッシュ", "code", 34),
    Column("hash", "ハッシュ", "code", 34),
)

AUDIT_MORE_COLUMNS = (
    Column("id", "事象ID", "int", 9),
    Column("chain", "チェーン(組織コード)", "text", 14),
    Column("seq", "連番", "int", 8),
    Column("part", "分割番号", "int", 8),
    Column("payload", "内容(JSON)の続き", "text", 80),
)

CASE_COLUMNS = (
    Column("case_id", "案件ID", "int", 9),
    Column("org", "組織コード", "text", 12),
    Column("title", "件名", "wrap", 36),
    Column("department", "担当部署", "text", 18),
    Column("purpose", "利用目的", "wrap", 40),
    Column("owner", "担当者", "text", 16),
    Column("status", "状態コード", "text", 12),
    Column("status_ja", "状態", "text", 10),
    Column("level", "リスク区分コード", "text", 12),
    Column("level_ja", "リスク区分", "text", 14),
    Column("is_complete", "判定完了", "bool", 9),
    Column("has_blocking", ja_word("concept", "blocking") + "あり", "bool", 9),
    Column("pack_id", "ルールパック", "text", 14),
    Column("pack_version", "パック版", "text", 9),
    Column("pack_fingerprint", "パック指紋(SHA-256)", "code", 34),
    Column("answers_hash", "回答ハッシュ", "code", 34),
    Column("version", "更新回数", "int", 8),
    Column("created_at", "作成日時", "datetime", 24),
    Column("fiscal_year", "年度(作成)", "text", 11),
    Column("updated_at", "更新日時", "datetime", 24),
    Column("submitted_at", "提出日時", "datetime", 24),
    Column("approved_at", "承認日時", "datetime", 24),
    Column("approval_voided_at", ja_word("decision", "void") + "日時", "datetime", 24),
    # In words (`procurement.vocabulary.describe_void_reason`): the stored form is a code.
    Column("approval_voided_reason", ja_word("decision", "void") + "の理由", "wrap", 30),
    # For people: the organisation and the pack by name; the codes above stay for filters.
    Column("org_name", "組織", "text", 16),
    Column("pack_title", "ルールパック(名称と版)", "wrap", 32),
    Column("owner_username", "担当者のユーザー名", "code", 16),
)

ANSWER_COLUMNS = (
    Column("case_id", "案件ID", "int", 9),
    Column("case_title", "件名", "text", 28),
    Column("question_id", "設問ID", "text", 10),
    Column("question", "設問", "wrap", 44),
    Column("value", "回答値", "text", 18),
    Column("label", "回答", "wrap", 28),
    Column("answered_by", "回答者", "text", 14),
    Column("answered_at", "回答日時", "datetime", 24),
    Column("fiscal_year", "年度", "text", 11),
    Column("answered_by_username", "回答者のユーザー名", "code", 16),
)

DECISION_COLUMNS = (
    Column("decision_id", "判定ID", "int", 9),
    Column("case_id", "案件ID", "int", 9),
    Column("case_title", "件名", "text", 28),
    Column("kind", "種別コード", "text", 14),
    Column("kind_ja", "種別", "text", 10),
    Column("actor", "判断者", "text", 14),
    Column("comment", "コメント", "wrap", 40),
    Column("level", "リスク区分コード", "text", 12),
    Column("pack_id", "ルールパック", "text", 14),
    Column("pack_version", "パック版", "text", 9),
    Column("pack_fingerprint", "パック指紋(SHA-256)", "code", 34),
    Column("answers_hash", "回答ハッシュ", "code", 34),
    Column("created_at", "日時", "datetime", 24),
    Column("fiscal_year", "年度", "text", 11),
    Column("level_ja", "リスク区分(名称)", "text", 14),
    Column("actor_username", "判断者のユーザー名", "code", 16),
)

CHECKLIST_COLUMNS = (
    Column("case_id", "案件ID", "int", 9),
    Column("case_title", "件名", "text", 28),
    Column("checklist", "チェックシート", "text", 14),
    Column("item_id", "項目ID", "text", 9),
    Column("item", "項目", "wrap", 44),
    Column("status", "結果コード", "text", 12),
    Column("status_ja", "結果", "text", 9),
    Column("evidence", "根拠・確認内容", "wrap", 40),
    Column("updated_by", "更新者", "text", 14),
    Column("updated_at", "更新日時", "datetime", 24),
    Column("fiscal_year", "年度", "text", 11),
    Column("updated_by_username", "更新者のユーザー名", "code", 16),
)

#: The incident register (リスク事案) of the exported cases; written by `_write_incidents`.
INCIDENTS = "リスク事案"
INCIDENT_COLUMNS = (
    Column("incident_id", "事案ID", "int", 8),
    Column("case_id", "案件ID", "int", 9),
    Column("case_title", "件名", "text", 28),
    Column("occurred_on", "発生日", "date", 15),
    Column("fiscal_year", "年度(発生)", "text", 11),
    Column("severity", "重大度コード", "code", 10),
    Column("severity_ja", "重大度", "text", 10),
    Column("description", "内容", "wrap", 44),
    Column("actions_taken", "対応", "wrap", 40),
    Column("reported_to_caio_at", "CAIOへの報告日時", "datetime", 24),
    Column("reported_onward_at", "外部への報告日時", "datetime", 24),
    Column("status", "状態コード", "code", 9),
    Column("status_ja", "状態", "text", 9),
    Column("created_by", "記録者", "text", 14),
    Column("created_at", "記録日時", "datetime", 24),
    Column("updated_at", "更新日時", "datetime", 24),
    Column("version", "更新回数", "int", 8),
    Column("created_by_username", "記録者のユーザー名", "code", 16),
)

PACK_COLUMNS = (
    Column("pack_id", "ルールパック", "text", 14),
    Column("pack_version", "版", "text", 9),
    Column("pack_fingerprint", "指紋(SHA-256, 記録値)", "code", 34),
    Column("installed", "導入済み", "bool", 8),
    Column("fingerprint_matches", "指紋一致", "bool", 8),
    Column("kind", "要素種別", "text", 12),
    Column("element_id", "要素ID", "text", 12),
    Column("text_ja", "内容", "wrap", 44),
    Column("text_en", "Text (English)", "wrap", 36),
    Column("provenance", "根拠の確度", "text", 11),
    Column("source", "出典", "wrap", 36),
    Column("layer", "定義したパック", "text", 20),
)

ProgressCallback = Callable[[int, int, str], None]

#: The workbook's name on its pages and in its properties.
_TITLE = "生成AI調達 監査用エクスポート"


@dataclass(frozen=True)
class ExportFilters:
    """What goes into an organisation workbook. Empty means no restriction.

    `date_from` / `date_to` are JST calendar days, both inclusive.
    """

    org_codes: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    statuses: tuple[str, ...] = ()
    pack_id: str | None = None

    def __post_init__(self) -> None:
        for status in self.statuses:
            if status not in CASE_STATUSES:
                raise InputError(
                    f"unknown status {status!r} (one of {', '.join(CASE_STATUSES)})",
                    field="status", value=status,
                )
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InputError(
                f"the period starts after it ends: from {self.date_from} to {self.date_to}",
                field="from", value=str(self.date_from),
            )

    def describe(self) -> list[tuple[str, str, str]]:
        """(Japanese label, English label, value) for the summary sheet."""
        everything = "(すべて / all)"
        return [
            ("組織", "Organisations", ", ".join(self.org_codes) or everything),
            ("期間(開始, JST)", "From (JST, inclusive)", str(self.date_from or "(指定なし / open)")),
            ("期間(終了, JST)", "To (JST, inclusive)", str(self.date_to or "(指定なし / open)")),
            ("状態", "Statuses", ", ".join(self.statuses) or everything),
            ("ルールパック", "Pack", self.pack_id or everything),
        ]


@dataclass
class ExportResult:
    """What an export wrote: rows per sheet, case counts, and the audit chains' verdicts."""

    path: Path
    generated_at: datetime
    rows: dict[str, int] = field(default_factory=dict)
    by_level: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    chains: list[ChainReport] = field(default_factory=list)

    @property
    def chains_ok(self) -> bool:
        return all(report.ok for report in self.chains)


def build_organisation_workbook(
    engine: Engine,
    out: str | os.PathLike[str],
    *,
    filters: ExportFilters = ExportFilters(),
    registry: Any | None = None,
    generated_by: str = "",
    progress: ProgressCallback | None = None,
    now: datetime | None = None,
) -> ExportResult:
    """Write the organisation workbook to `out` and say what it holds.

    Raises NotFoundError naming an organisation code that does not exist. `registry` (a
    `PackRegistry`) supplies question and item texts; without it, or for a pack version it lacks,
    the texts stay empty and the rule-pack sheet says the version is not installed.
    `progress(done, total, sheet)` is called every few thousand rows.
    """
    out = Path(out)
    now = now or datetime.now(UTC)
    with atomic_output(out) as tmp:
        with read_connection(engine, snapshot=True) as conn:
            result = _OrganisationExport(conn, tmp, filters, registry, generated_by, progress,
                                         now).run()
    result.path = out
    return result


class Selection:
    """Which organisations, cases, decisions and audit chains an export covers (SQL conditions).

    Shared by the workbook and the CSV files so that both always select the same rows.
    """

    def __init__(self, conn, filters: ExportFilters) -> None:
        self.conn = conn
        self.filters = filters
        self.start, self.end = jst_period_utc(filters.date_from, filters.date_to)
        self.orgs = self._organisations()
        self.chains = self._chains()

    def _organisations(self) -> dict[int, str]:
        rows = self.conn.execute(select(Organisation.id, Organisation.code)).all()
        by_code = {code: oid for oid, code in rows}
        for code in self.filters.org_codes:
            if code not in by_code:
                raise NotFoundError(
                    f"organisation {code!r} does not exist (known: {', '.join(sorted(by_code))})",
                    org=code,
                )
        codes = self.filters.org_codes or tuple(sorted(by_code))
        return {by_code[c]: c for c in codes}

    def case_condition(self):
        f = self.filters
        cond: ColumnElement[bool] = Case.org_id.in_(list(self.orgs))
        if f.statuses:
            cond = and_(cond, Case.status.in_(f.statuses))
        if f.pack_id:
            cond = and_(cond, Case.pack_id == f.pack_id)
        if self.end is not None:
            cond = and_(cond, Case.created_at < self.end)
        if self.start is not None:
            cond = and_(cond, Case.updated_at >= self.start)
        return cond

    def period(self, column):
        cond: ColumnElement[bool] = true()
        if self.start is not None:
            cond = and_(cond, column >= self.start)
        if self.end is not None:
            cond = and_(cond, column < self.end)
        return cond

    def _chains(self) -> list[str]:
        if self.filters.org_codes:
            return sorted(self.orgs.values())
        present = self.conn.scalars(select(AuditEvent.chain).distinct()).all()
        return sorted(set(present) | set(self.orgs.values()))

    def audit_condition(self):
        cond: ColumnElement[bool] = AuditEvent.chain.in_(self.chains)
        if self.end is not None:
            cond = and_(cond, AuditEvent.occurred_at < self.end)
        return cond


class _OrganisationExport:
    """One export run: the snapshot connection, the workbook, and what was seen on the way."""

    def __init__(self, conn, path: Path, filters: ExportFilters, registry, generated_by: str,
                 progress: ProgressCallback | None, now: datetime) -> None:
        self.conn = conn
        self.path = path
        self.filters = filters
        self.texts = PackTexts(registry)
        self.generated_by = generated_by
        self.progress = progress
        self.now = now
        self.result = ExportResult(path=path, generated_at=now)
        self.pack_refs: set[tuple[str, str, str]] = set()
        self.done = 0
        self.total = 0

    def _count_all(self) -> int:
        cases = self.sel.case_condition()
        scalar = self.conn.scalar
        total = scalar(select(func.count()).select_from(Case).where(cases)) or 0
        for model in (Answer, ChecklistResult):
            total += scalar(select(func.count()).select_from(model).join(Case, model.case_id == Case.id)
                            .where(cases)) or 0
        total += scalar(select(func.count()).select_from(Decision).join(Case, Decision.case_id == Case.id)
                        .where(cases, self.sel.period(Decision.created_at))) or 0
        total += scalar(select(func.count()).select_from(AuditEvent)
                        .where(self.sel.audit_condition())) or 0
        # Incidents: at most this many (the sheet also filters by occurrence date).
        total += scalar(select(func.count()).select_from(Incident).join(Case, Incident.case_id == Case.id)
                        .where(Case.org_id.in_(list(self.sel.orgs)))) or 0
        return total

    def _person(self, uid: int | None) -> str | None:
        """A user's display name (None for no user)."""
        return None if uid is None else self.users.get(uid, (str(uid), str(uid)))[1]

    def _username(self, uid: int | None) -> str | None:
        return None if uid is None else self.users.get(uid, (str(uid), str(uid)))[0]

    def _tick(self, sheet: str) -> None:
        self.done += 1
        if self.progress is not None and self.done % 2000 == 0:
            self.progress(self.done, self.total, sheet)

    # -- run ------------------------------------------------------------------------------
    def run(self) -> ExportResult:
        self.sel = Selection(self.conn, self.filters)
        self.orgs, self.chains = self.sel.orgs, self.sel.chains
        # People by display name where a person reads; usernames in their own code columns.
        self.users: dict[int, tuple[str, str]] = {
            uid: (name, display or name) for uid, name, display in
            self.conn.execute(select(User.id, User.username, User.display_name))}
        self.org_names = dict(self.conn.execute(select(Organisation.id, Organisation.name)).all())
        self.case_titles: dict[int, str] = {}
        self.total = self._count_all()
        if self.progress is not None:
            self.progress(0, self.total, SUMMARY)

        book, styles = open_workbook(self.path, title=_TITLE,
                                     author=self.generated_by or "procurement")
        self.book, self.styles = book, styles
        self.day = f"{jp_date(self.now)}現在"

        def table(name: str, columns, key_columns: int = 2) -> Table:
            return Table(book, styles, name, columns, key_columns=key_columns,
                         page=PageText(f"{_TITLE} {name}", date=self.day))

        try:
            # Created first so it is the first tab; filled last, when everything is counted.
            summary = book.add_worksheet(SUMMARY)
            tables = {
                CASES: table(CASES, CASE_COLUMNS, 3),
                ANSWERS: table(ANSWERS, ANSWER_COLUMNS),
                DECISIONS: table(DECISIONS, DECISION_COLUMNS, 3),
                CHECKLIST: table(CHECKLIST, CHECKLIST_COLUMNS),
                AUDIT: table(AUDIT, AUDIT_COLUMNS, 3),
                PACKS: table(PACKS, PACK_COLUMNS),
                # After the sheets auditors and tests know by position.
                INCIDENTS: table(INCIDENTS, INCIDENT_COLUMNS, 3),
            }
            self.more: Table | None = None
            self._write_cases(tables[CASES])
            self._write_answers(tables[ANSWERS])
            self._write_decisions(tables[DECISIONS])
            self._write_checklist(tables[CHECKLIST])
            self._write_incidents(tables[INCIDENTS])
            self._write_audit(tables[AUDIT])
            self._write_packs(tables[PACKS])
            # Further sheets (e.g. incidents) go here, each a `Table` filled by one method.
            for name, sheet_table in tables.items():
                sheet_table.finish()
                self.result.rows[name] = sheet_table.count
            if self.more is not None:
                self.more.finish()
                self.result.rows[AUDIT_MORE] = self.more.count
            self._write_summary(summary)
        finally:
            book.close()
        if self.progress is not None:
            self.progress(self.total, self.total, SUMMARY)
        return self.result

    # -- sheets ---------------------------------------------------------------------------
    def _write_cases(self, table: Table) -> None:
        by_level: Counter[str] = Counter()
        by_status: Counter[str] = Counter()
        stmt = select(*Case.__table__.columns).where(self.sel.case_condition()).order_by(
            Case.org_id, Case.id)
        for c in stream(self.conn, stmt):
            self.case_titles[c.id] = c.title
            self.pack_refs.add((c.pack_id, c.pack_version, c.pack_fingerprint))
            by_level[c.level or ""] += 1
            by_status[c.status] += 1
            pack = self.texts.pack(c.pack_id, c.pack_version)
            table.append((
                c.id, self.orgs.get(c.org_id, ""), c.title, c.department, c.purpose,
                self._person(c.owner_id), c.status, ja_word("case_status", c.status),
                c.level, self.texts.level_label(c.pack_id, c.pack_version, c.level),
                c.is_complete, c.has_blocking, c.pack_id, c.pack_version, c.pack_fingerprint,
                c.answers_hash, c.version, as_utc(c.created_at), _fy(c.created_at),
                as_utc(c.updated_at), as_utc(c.submitted_at), as_utc(c.approved_at),
                as_utc(c.approval_voided_at),
                describe_void_reason(c.approval_voided_reason) if c.approval_voided_reason
                else None,
                self.org_names.get(c.org_id, ""), pack_title(pack) if pack is not None else "",
                self._username(c.owner_id),
            ))
            self._tick(CASES)
        self.result.by_level = dict(by_level)
        self.result.by_status = dict(by_status)

    def _grouped_by_case(self, stmt, key: Callable[[Any], str]) -> Iterator[Any]:
        """Rows ordered by case, each case's rows put in its pack's order."""
        group: list[Any] = []
        current = None
        for row in stream(self.conn, stmt):
            if row.case_id != current and group:
                yield from self._sorted(group, key)
                group = []
            current = row.case_id
            group.append(row)
        if group:
            yield from self._sorted(group, key)

    def _sorted(self, rows: list[Any], key: Callable[[Any], str]) -> list[Any]:
        first = rows[0]
        return sorted(rows, key=lambda r: (
            self.texts.order(first.pack_id, first.pack_version, key(r)), key(r)))

    def _write_answers(self, table: Table) -> None:
        stmt = (
            select(Answer.case_id, Answer.question_id, Answer.value, Answer.answered_by,
                   Answer.answered_at, Case.pack_id, Case.pack_version)
            .join(Case, Answer.case_id == Case.id)
            .where(self.sel.case_condition())
            .order_by(Case.org_id, Answer.case_id, Answer.id)
        )
        texts = self.texts
        for a in self._grouped_by_case(stmt, lambda r: r.question_id):
            value = decode_answer(a.value)
            question = texts.element(a.pack_id, a.pack_version, a.question_id)
            table.append((
                a.case_id, self.case_titles.get(a.case_id, ""), a.question_id,
                ja(getattr(question, "text", None)), answer_text(value),
                texts.answer_label(a.pack_id, a.pack_version, a.question_id, value),
                self._person(a.answered_by), as_utc(a.answered_at), _fy(a.answered_at),
                self._username(a.answered_by),
            ))
            self._tick(ANSWERS)

    def _write_decisions(self, table: Table) -> None:
        stmt = (
            select(*Decision.__table__.columns)
            .join(Case, Decision.case_id == Case.id)
            .where(self.sel.case_condition(), self.sel.period(Decision.created_at))
            .order_by(Decision.created_at, Decision.id)
        )
        for d in stream(self.conn, stmt):
            self.pack_refs.add((d.pack_id, d.pack_version, d.pack_fingerprint))
            table.append((
                d.id, d.case_id, self.case_titles.get(d.case_id, ""), d.kind,
                ja_word("decision", d.kind), self._person(d.actor_id),
                decision_note(d.kind, d.comment, "ja", pack=f"{d.pack_id}@{d.pack_version}"),
                d.level, d.pack_id, d.pack_version, d.pack_fingerprint, d.answers_hash,
                as_utc(d.created_at), _fy(d.created_at),
                self.texts.level_label(d.pack_id, d.pack_version, d.level),
                self._username(d.actor_id),
            ))
            self._tick(DECISIONS)

    def _write_checklist(self, table: Table) -> None:
        stmt = (
            select(ChecklistResult.case_id, ChecklistResult.item_id, ChecklistResult.status,
                   ChecklistResult.evidence, ChecklistResult.updated_by,
                   ChecklistResult.updated_at, Case.pack_id, Case.pack_version)
            .join(Case, ChecklistResult.case_id == Case.id)
            .where(self.sel.case_condition())
            .order_by(Case.org_id, ChecklistResult.case_id, ChecklistResult.id)
        )
        for r in self._grouped_by_case(stmt, lambda r: r.item_id):
            item = self.texts.element(r.pack_id, r.pack_version, r.item_id)
            table.append((
                r.case_id, self.case_titles.get(r.case_id, ""), getattr(item, "checklist", ""),
                r.item_id, ja(getattr(item, "text", None)), r.status,
                ja_word("checklist_status", r.status),
                r.evidence, self._person(r.updated_by), as_utc(r.updated_at), _fy(r.updated_at),
                self._username(r.updated_by),
            ))
            self._tick(CHECKLIST)

    def _write_incidents(self, table: Table) -> None:
        # By the incident's own date: reporting one does not touch its case, so the cases'
        # period rule (updated within the period) would miss it.
        f = self.filters
        cond: ColumnElement[bool] = Case.org_id.in_(list(self.sel.orgs))
        if f.statuses:
            cond = and_(cond, Case.status.in_(f.statuses))
        if f.pack_id:
            cond = and_(cond, Case.pack_id == f.pack_id)
        if f.date_from is not None:
            cond = and_(cond, Incident.occurred_on >= f.date_from)
        if f.date_to is not None:
            cond = and_(cond, Incident.occurred_on <= f.date_to)
        stmt = (
            select(*Incident.__table__.columns, Case.title.label("case_title"))
            .join(Case, Incident.case_id == Case.id)
            .where(cond).order_by(Case.org_id, Incident.case_id, Incident.id)
        )
        for i in stream(self.conn, stmt):
            table.append((
                i.id, i.case_id, i.case_title, i.occurred_on,
                fiscal_year_label(fiscal_year(i.occurred_on)), i.severity,
                ja_word("severity", i.severity), i.description, i.actions_taken,
                as_utc(i.reported_to_caio_at), as_utc(i.reported_onward_at), i.status,
                ja_word("incident_status", i.status), self._person(i.created_by),
                as_utc(i.created_at), as_utc(i.updated_at), i.version, self._username(i.created_by),
            ))
            self._tick(INCIDENTS)

    def _write_audit(self, table: Table) -> None:
        for chain in self.chains:
            stmt = (
                select(AuditEvent.id, AuditEvent.chain, AuditEvent.seq, AuditEvent.occurred_at,
                       AuditEvent.actor, AuditEvent.event_type, AuditEvent.case_id,
                       AuditEvent.payload, AuditEvent.prev_hash, AuditEvent.hash)
                .where(AuditEvent.chain == chain, self.sel.audit_condition())
                .order_by(AuditEvent.seq)  # (chain, seq) is unique: its index gives the order
            )
            # The chain is verified by the same pass that writes it: one read of the log.
            self.result.chains.append(verify_chain(chain, self._audit_rows(table, stmt)))

    def _audit_rows(self, table: Table, stmt) -> Iterator[EventRecord]:
        """Write each event to the sheet and hand it on to the verifier.

        The audit sheet is the one that grows to 100,000s of rows, so its row is written with
        direct cell calls rather than `Table.append`; the cell rules are the same (numbers and
        dates typed, text cleaned and quote-prefixed when formula-like), except that the
        payload and the hashed columns are written exactly as stored: `verify_workbook` must
        re-hash what the database holds (payloads are JSON, which escapes control characters).
        """
        sheet, s = table.sheet, self.styles
        number, string = sheet.write_number, sheet.write_string
        # Integers and short codes take the default style (no per-cell style attribute to
        # write: measurably cheaper at this size); dates, wrapping and quote-prefixed text carry
        # theirs. Only the payload needs more than one line: its lines set the row's height.
        f_int = f_text = None
        f_dt, f_quoted, f_wrap = s.datetime, s.text_quoted, s.text
        chain_width, actor_width, payload_width = (AUDIT_COLUMNS[i].width for i in (1, 6, 9))
        # Every row holds two hashes (64 hex digits, wrapped in their columns).
        hash_lines = lines_needed("0" * 64, AUDIT_COLUMNS[12].width)
        row_lines, heights = max_lines(), [row_height(n) for n in range(max_lines() + 1)]
        set_row = sheet.set_row
        forget = table.set_lines
        fy_by_day = _FY_BY_DAY
        row = table.row
        progress, done, total = self.progress, self.done, self.total
        quoted = FORMULA_STARTS.__contains__
        for e in stream(self.conn, stmt):
            (event_id, chain, seq, occurred_at, actor_stored, event_type_stored, case_id,
             payload, prev_hash, digest) = e
            if occurred_at.tzinfo is UTC:  # as the model returns it: skip conversions
                occurred = occurred_at.strftime(_HASHED_TIME)
            else:
                occurred_at = as_utc(occurred_at)
                occurred = format_timestamp(occurred_at)
            serial = occurred_at.timestamp() / 86400 + _SERIAL_SHIFT
            fy = fy_by_day.get(int(serial)) or _fy(occurred_at)
            payload = payload or ""
            parts = split_utf16(payload) if len(payload) * 2 > EXCEL_CELL_LIMIT else None
            actor, event_type = actor_stored or "", event_type_stored or ""
            prev_hash, digest = prev_hash or "", digest or ""
            lines = hash_lines
            number(row, 0, event_id, f_int)
            # Text longer than its column wraps (a cheap length test first: most cells are
            # short); `printing.lines_needed` says how many lines it takes.
            if len(chain) * 2.5 > chain_width - 1.5:
                lines = lines_needed(chain, chain_width)
                string(row, 1, chain, f_quoted if quoted(chain[:1]) else f_wrap)
            else:
                string(row, 1, chain, f_quoted if quoted(chain[:1]) else f_text)
            number(row, 2, seq, f_int)
            string(row, 3, occurred, f_text)
            number(row, 4, serial, f_dt)
            string(row, 5, fy, f_text)
            if actor:
                actor = clean_text(actor)
                if len(actor) * 2.5 > actor_width - 1.5:
                    lines = max(lines, lines_needed(actor, actor_width))
                    string(row, 6, actor, f_quoted if quoted(actor[:1]) else f_wrap)
                else:
                    string(row, 6, actor, f_quoted if quoted(actor[:1]) else f_text)
            if event_type:
                string(row, 7, event_type, f_quoted if quoted(event_type[:1]) else f_text)
            if case_id is not None:
                number(row, 8, case_id, f_int)
            first = parts[0] if parts else payload
            if first:
                string(row, 9, first, f_quoted if quoted(first[:1]) else f_wrap)
                if len(first) * 2.5 > payload_width - 1.5:
                    lines = max(lines, lines_needed(first, payload_width))
            if parts:
                number(row, 10, len(parts), f_int)
                self._write_more(e, parts)
            if prev_hash:
                string(row, 11, prev_hash, f_quoted if quoted(prev_hash[:1]) else f_wrap)
            if digest:
                string(row, 12, digest, f_quoted if quoted(digest[:1]) else f_wrap)
            if lines > 1:
                set_row(row, heights[min(lines, row_lines)])
            forget(row, 1)  # drops the flushed previous row's height (memory stays flat)
            row += 1
            table.row = row
            done += 1
            if progress is not None and not done % 2000:
                self.done = done
                progress(done, total, AUDIT)
            # Built directly (the row is already typed): the verifier re-hashes exactly this.
            yield EventRecord(chain, seq, occurred, actor_stored, event_type_stored, case_id,
                              payload, prev_hash.strip().lower(), digest.strip().lower())
        self.done = done

    def _write_more(self, event, parts: list[str]) -> None:
        if self.more is None:
            self.more = Table(self.book, self.styles, AUDIT_MORE, AUDIT_MORE_COLUMNS)
        for number, part in enumerate(parts[1:], start=2):
            self.more.append((event.id, event.chain, event.seq, number, part))

    def _write_packs(self, table: Table) -> None:
        for pack_id, version, fingerprint in sorted(self.pack_refs):
            pack = self.texts.pack(pack_id, version)
            installed = pack is not None
            matches = pack is not None and pack.fingerprint == fingerprint
            head = (pack_id, version, fingerprint, installed, matches)
            if pack is None:
                table.append((*head, "pack", "", ("(このバージョンは導入されていません / this "
                                                   "version is not installed)"), "", "", "", ""))
                continue
            table.append((*head, "pack", pack.key, ja(pack.title), en(pack.title), "",
                          format_source(pack.source), " > ".join(pack.layers)))
            for kind, element in _pack_elements(pack):
                table.append((
                    *head, kind, element.id, _element_text(element, "ja"),
                    _element_text(element, "en"), getattr(element, "provenance", ""),
                    format_source(getattr(element, "source", None)),
                    getattr(element, "layer", ""),
                ))

    def _write_summary(self, sheet) -> None:
        """The first sheet, for people: what was exported, by whom, what it holds and whether
        each audit chain verified. Japanese labels, English ones beside them (the designated
        column for codes and machine words), values."""
        form = Form(self.book, self.styles, SUMMARY, [28, 22, 50],
                    PageText(f"{_TITLE} {SUMMARY}", date=self.day), sheet=sheet)
        form.title("監査用エクスポート")

        def line(label_ja: str, label_en: str, value: Any) -> None:
            form.line([label_ja, label_en, value], labels=2)

        def heading(text: str) -> None:
            form.gap()
            form.header([text, "", ""])

        f = self.filters
        everything = "（すべて）"
        heading("条件")
        line("組織", "Organisations",
             "、".join(self._org_name(code) for code in f.org_codes) or everything)
        line("期間（開始）", "From (JST, inclusive)", f.date_from or "（指定なし）")
        line("期間（終了）", "To (JST, inclusive)", f.date_to or "（指定なし）")
        line("状態", "Statuses",
             "、".join(ja_word("case_status", st) for st in f.statuses) or everything)
        line("ルールパック", f"Pack{f' ({f.pack_id})' if f.pack_id else ''}",
             self._pack_name(f.pack_id) if f.pack_id else everything)
        heading("作成")
        line("作成日時", "Generated at (JST)", self.now)
        line("作成者", "Generated by", self.generated_by or "（コマンドライン）")
        line("ツール", "Tool version", f"procurement {procurement.__version__}")
        heading("シート別の行数")
        for name, count in self.result.rows.items():
            line(name, _SHEET_EN.get(name, name), count)
        heading("リスク区分別の案件数")
        for words, level, count in self._levels_in_order():
            line(words, level or "(not classified)", count)
        heading("状態別の案件数")
        for status in CASE_STATUSES:
            if status in self.result.by_status:
                line(ja_word("case_status", status), status, self.result.by_status[status])
        heading("監査ログの検証")
        for report in self.result.chains:
            line(f"監査ログ（{self._org_name(report.chain)}）", report.chain,
                 "正常（改ざんは検出されませんでした）" if report.ok else "異常あり")
            line("", "Events", report.count)
            line("", "Head seq:hash", report.head or "")
            if not report.ok:
                line("", "Problem", report.describe())
        if not self.result.chains:
            line("（監査ログなし）", "(no chains)", "")
        form.gap()
        form.note("監査ログは各組織の最初の事象から期間末までを含みます（ハッシュチェーンは先頭から"
                  "しか検証できないため）。期間内の事象は「年度」列又は日時の列で絞り込んでください。"
                  "このファイルだけから再検証するには procurement audit verify --xlsx FILE を実行し"
                  "ます。")

    def _org_name(self, code: str) -> str:
        """An organisation's name from its code (the code when it is not one of ours)."""
        by_code = {c: self.org_names.get(oid, c) for oid, c in self.orgs.items()}
        return by_code.get(code, code)

    def _pack_name(self, pack_id: str) -> str:
        """A pack id's title, from the newest installed version (the id when none is)."""
        registry = self.texts.registry
        found = [p for p in (registry.packs() if registry is not None else ()) if p.id == pack_id]
        if not found:
            return pack_id
        newest = max(found, key=lambda p: p.version_tuple)
        return ja(newest.title) or pack_id

    def _levels_in_order(self) -> list[tuple[str, str, int]]:
        """(words, level id, cases) of the exported cases' levels, in the order the packs rank
        them (a pack with levels I-IV gives I, II, III, IV), each in the words of the newest
        pack that has it; cases not classified yet last."""
        words: dict[str, str] = {}
        rank: dict[str, tuple[int, int]] = {}
        found = [self.texts.pack(pid, version) for pid, version, _fp in sorted(self.pack_refs)]
        packs = [p for p in found if p is not None]
        for order, pack in enumerate(sorted(packs, key=lambda p: (p.effective_from,
                                                                  p.version_tuple))):
            for index, level in enumerate(pack.levels):
                words[level.id] = ja(level.label) or level.id
                rank.setdefault(level.id, (index, order))
        out = []
        for level, count in self.result.by_level.items():
            if level:
                out.append((rank.get(level, (1 << 20, 0)), words.get(level, level), level, count))
            else:
                out.append(((1 << 30, 0), ja_word("concept", "unclassified"), "", count))
        return [(w, level, count) for _key, w, level, count in sorted(out)]


_SHEET_EN = {
    CASES: "Cases", ANSWERS: "Answers", DECISIONS: "Decisions", CHECKLIST: "Checklist results",
    AUDIT: "Audit log", AUDIT_MORE: "Audit log (continued payloads)", PACKS: "Rule packs",
    INCIDENTS: "Incidents",
}




_FY_BY_DAY: dict[int, str] = {}
#: `procurement.audit.format_timestamp` of a UTC datetime (checked by the export tests).
_HASHED_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"
#: Add to a Unix time in days to get the Excel serial of the JST wall-clock time.
_SERIAL_SHIFT = 9 / 24 + 25569


def _fy(value: datetime | None) -> str | None:
    """The 令和 fiscal-year label of a stored (UTC) moment, cached per JST day: the audit sheet
    asks once per event."""
    if value is None:
        return None
    value = as_utc(value)
    day = int(value.timestamp() / 86400 + _SERIAL_SHIFT)
    label = _FY_BY_DAY.get(day)
    if label is None:
        label = _FY_BY_DAY[day] = fiscal_year_label(fiscal_year(value))
    return label


def _pack_elements(pack) -> Iterable[tuple[str, Any]]:
    for level in pack.levels:
        yield "level", level
    for question in pack.questions:
        yield "question", question
    for rule in pack.rules:
        yield "rule", rule
    for finding in pack.blocking:
        yield "blocking", finding
    for step in pack.steps:
        yield "step", step
    for item in pack.items:
        yield f"item:{item.checklist}", item


def _element_text(element: Any, lang: str) -> str:
    pick = ja if lang == "ja" else en
    for attr in ("text", "label", "message", "title"):
        value = getattr(element, attr, None)
        if value:
            text = pick(value)
            options = getattr(element, "options", None)
            if options:
                text += "\n" + " / ".join(f"{o.value}: {pick(o.label)}" for o in options)
            return text
    return ""
