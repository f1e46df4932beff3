"""The case workbook: one case's filled sheets, laid out to be printed and filed.

    build_case_workbook(engine, case_id, out, *, registry=None, org_codes=None,
                        generated_by="", now=None) -> Path

Sheets: 高リスク判定 (the case, its answers with question texts, the level and the reasons of the
pack in force for it, blocking findings), 報告書 (the Advisory Board report, when there is one),
one sheet per checklist of the pack (調達, 契約, 利用ルール: every item, whether it is required or
recommended for this case, its result and evidence), and 判定履歴 (the decisions). Each prints
on A4 portrait, fitted to the page width, with the case id and title in the header and page
numbers in the footer; long text wraps.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from procurement import vocabulary
from procurement.errors import InputError, NotFoundError, ProcurementError
from procurement.db.models import BOARD_REPORT_FIELDS
from procurement.exports.labels import (
    PackTexts, answer_text, decode_answer, format_source, ja, ja_word, with_code,
)
from procurement.exports.sheets import Styles, open_workbook, setup_print, write_text
from procurement.db.reading import read_connection
from procurement.files import atomic_output
from procurement.fiscal import fiscal_year, fiscal_year_label, to_jst_naive
from procurement.db.models import (
    Answer, BoardReport, Case, ChecklistResult, Decision, Organisation, User,
)
from procurement.vocabulary import decision_note, describe_void_reason

DETERMINATION, REPORT, HISTORY = "高リスク判定", "報告書", "判定履歴"

_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def build_case_workbook(
    engine: Engine,
    case_id: int,
    out: str | os.PathLike[str],
    *,
    registry: Any | None = None,
    org_codes: tuple[str, ...] | None = None,
    generated_by: str = "",
    now: datetime | None = None,
) -> Path:
    """Write the workbook of case `case_id` to `out`.

    `org_codes` limits which organisations' cases may be exported (the caller's own, in the UI);
    a case outside them is reported as not found, like one that does not exist.
    """
    out = Path(out)
    now = now or datetime.now(timezone.utc)
    with atomic_output(out) as tmp:
        with read_connection(engine, snapshot=True) as conn:
            data = _load(conn, case_id, org_codes)
        _write(tmp, data, PackTexts(registry), generated_by, now)
    return out


def _load(conn, case_id: int, org_codes: tuple[str, ...] | None) -> dict[str, Any]:
    case = conn.execute(select(*Case.__table__.columns).where(Case.id == case_id)).first()
    org = None
    if case is not None:
        org = conn.execute(select(Organisation.code, Organisation.name)
                           .where(Organisation.id == case.org_id)).first()
    if case is None or (org_codes is not None and (org is None or org.code not in org_codes)):
        raise NotFoundError(f"case {case_id} does not exist", case_id=case_id)
    users = {uid: (name, display) for uid, name, display in
             conn.execute(select(User.id, User.username, User.display_name))}
    return {
        "case": case,
        "org": org,
        "users": users,
        "answers": conn.execute(select(Answer.question_id, Answer.value, Answer.answered_by,
                                       Answer.answered_at).where(Answer.case_id == case_id)
                                .order_by(Answer.id)).all(),
        "checks": {r.item_id: r for r in conn.execute(
            select(ChecklistResult.item_id, ChecklistResult.status, ChecklistResult.evidence,
                   ChecklistResult.updated_by, ChecklistResult.updated_at)
            .where(ChecklistResult.case_id == case_id))},
        "report": conn.execute(select(*BoardReport.__table__.columns)
                               .where(BoardReport.case_id == case_id)).first(),
        "decisions": conn.execute(select(*Decision.__table__.columns)
                                  .where(Decision.case_id == case_id)
                                  .order_by(Decision.created_at, Decision.id)).all(),
    }


def _classify(pack: Any, answers: dict[str, Any]) -> Any | None:
    """The pack's verdict on the stored answers (None when the pack cannot judge them)."""
    if pack is None:
        return None
    from procurement.packs import classify

    try:
        return classify(pack, {k: v for k, v in answers.items() if isinstance(v, str)})
    except (ProcurementError, InputError):
        return None


class _Sheet:
    """A printable form: label/value blocks and small tables, written top to bottom."""

    def __init__(self, book, styles: Styles, name: str, header: str, widths: list[float]) -> None:
        self.sheet = book.add_worksheet(name)
        self.s = styles
        self.row = 0
        for col, width in enumerate(widths):
            self.sheet.set_column(col, col, width)
        self.width = len(widths)
        setup_print(self.sheet, header_text=header, landscape=False, repeat_rows=None)

    def title(self, text: str) -> None:
        self.sheet.write_string(self.row, 0, text, self.s.title)
        self.row += 2

    def value(self, col: int, value: Any, boxed: bool = True) -> None:
        s, sheet = self.s, self.sheet
        if value is None or value == "":
            sheet.write_blank(self.row, col, None, s.boxed)
        elif isinstance(value, datetime):
            sheet.write_datetime(self.row, col, to_jst_naive(value), s.datetime)
        elif isinstance(value, bool):
            write_text(sheet, self.row, col, "はい / yes" if value else "いいえ / no", s.boxed,
                       s.boxed_quoted)
        elif isinstance(value, (int, float)):
            sheet.write_number(self.row, col, value, s.int)
        else:
            write_text(sheet, self.row, col, str(value), s.boxed, s.boxed_quoted)

    def field(self, label: str, value: Any) -> None:
        """A label and its value spanning the remaining columns."""
        self.sheet.write_string(self.row, 0, label, self.s.label)
        if self.width > 2 and not isinstance(value, datetime):
            self.sheet.merge_range(self.row, 1, self.row, self.width - 1, "", self.s.boxed)
        self.value(1, value)
        self.row += 1

    def header(self, labels: list[str]) -> None:
        for col, label in enumerate(labels):
            self.sheet.write_string(self.row, col, label, self.s.header_ja)
        self.row += 1

    def line(self, values: list[Any]) -> None:
        for col, value in enumerate(values):
            self.value(col, value)
        self.row += 1

    def gap(self) -> None:
        self.row += 1


def _sheet_name(text: str, used: set[str]) -> str:
    name = _BAD_SHEET_CHARS.sub("_", text)[:28] or "sheet"
    candidate, n = name, 2
    while candidate in used:
        candidate, n = f"{name[:26]}({n})", n + 1
    used.add(candidate)
    return candidate


def _write(path: Path, data: dict[str, Any], texts: PackTexts, generated_by: str,
           now: datetime) -> None:
    case, org, users = data["case"], data["org"], data["users"]

    def who(uid: int | None) -> str:
        if uid is None:
            return ""
        name, display = users.get(uid, (str(uid), ""))
        return f"{display} ({name})" if display else name

    pack = texts.pack(case.pack_id, case.pack_version)
    answers = {a.question_id: decode_answer(a.value) for a in data["answers"]}
    verdict = _classify(pack, answers)
    header = f"案件 {case.id} {case.title}"
    book, s = open_workbook(path, title=header, author=generated_by or "procurement")
    try:
        used = {DETERMINATION, REPORT, HISTORY}
        # -- 高リスク判定 -------------------------------------------------------------
        sh = _Sheet(book, s, DETERMINATION, header, [22, 44, 26, 18, 18])
        sh.title("高リスク判定シート / High-risk determination")
        sh.field("案件ID / Case", case.id)
        sh.field("件名 / Title", case.title)
        sh.field("組織 / Organisation", f"{org.name} ({org.code})" if org else "")
        sh.field("担当部署 / Department", case.department)
        sh.field("利用目的 / Purpose", case.purpose)
        sh.field("担当者 / Owner", who(case.owner_id))
        sh.field("状態 / Status", with_code("case_status", case.status))
        level_label = texts.level_label(case.pack_id, case.pack_version, case.level)
        sh.field("リスク区分 / Level",
                 f"{level_label} ({case.level})" if level_label
                 else (case.level or ja_word("concept", "unclassified")))
        sh.field("判定完了 / Complete", bool(case.is_complete))
        sh.field(f"{ja_word('concept', 'blocking')} / {vocabulary.word('concept', 'blocking', 'en')}",
                 bool(case.has_blocking))
        sh.field("ルールパック / Pack",
                 f"{case.pack_id}@{case.pack_version} #{case.pack_fingerprint[:12]}")
        if pack is None:
            sh.field("注意 / Note", "このパック版は導入されていないため設問文を表示できません / "
                                    "this pack version is not installed: question texts unknown")
        elif pack.fingerprint != case.pack_fingerprint:
            sh.field("注意 / Note", "導入済みパックの指紋が記録と異なります / the installed pack's "
                                    f"fingerprint differs ({pack.fingerprint[:12]})")
        sh.field("作成日時 / Created (JST)", _aware(case.created_at))
        sh.field("年度 / Fiscal year", fiscal_year_label(fiscal_year(_aware(case.created_at))))
        sh.field("提出日時 / Submitted (JST)", _aware(case.submitted_at))
        sh.field("承認日時 / Approved (JST)", _aware(case.approved_at))
        if case.approval_voided_at:
            sh.field(f"{ja_word('decision', 'void')} / Approval voided",
                     _aware(case.approval_voided_at))
            sh.field(f"{ja_word('decision', 'void')}の理由 / Reason",
                     describe_void_reason(case.approval_voided_reason))
        sh.gap()
        sh.header(["設問ID / Question", "設問 / Text", "回答 / Answer", "回答者 / By",
                   "回答日時 / At (JST)"])
        by_id = {a.question_id: a for a in data["answers"]}
        order = [q.id for q in pack.questions] if pack is not None else []
        order += [qid for qid in by_id if qid not in order]
        for qid in order:
            a = by_id.get(qid)
            question = pack.element(qid) if pack is not None else None
            value = answers.get(qid)
            label = texts.answer_label(case.pack_id, case.pack_version, qid, value)
            shown = f"{label} ({answer_text(value)})" if label else answer_text(value)
            sh.line([qid, ja(getattr(question, "text", None)), shown if a else "(未回答)",
                     who(a.answered_by) if a else "", _aware(a.answered_at) if a else None])
        if verdict is not None:
            sh.gap()
            sh.header(["判定理由 / Reason", "内容 / Message", "区分 / Level", "根拠の確度", "出典"])
            for reason in verdict.reasons:
                sh.line([reason.rule_id, ja(reason.message), reason.level, reason.provenance,
                         format_source(reason.source)])
            for finding in verdict.blocking:
                sh.line([finding.id, ja(finding.message), ja_word("concept", "blocking"),
                         finding.provenance,
                         format_source(finding.source)])
            if verdict.unanswered:
                sh.line(["未回答 / Unanswered", ", ".join(verdict.unanswered), "", "", ""])

        # -- 報告書 -----------------------------------------------------------------
        report = data["report"]
        if report is not None:
            sh = _Sheet(book, s, REPORT, header, [26, 80])
            sh.title("アドバイザリーボードへの報告 / Report to the Advisory Board")
            sh.field("案件ID / Case", case.id)
            sh.field("件名 / Title", case.title)
            for key in BOARD_REPORT_FIELDS:  # the order the guideline lists them
                sh.field(f"{ja_word('board_field', key)} / "
                         f"{vocabulary.word('board_field', key, 'en')}", getattr(report, key))
            sh.field("更新者 / Updated by", who(report.updated_by))
            sh.field("更新日時 / Updated (JST)", _aware(report.updated_at))

        # -- checklists ----------------------------------------------------------------
        required = set(verdict.required_items) if verdict is not None else set()
        recommended = set(verdict.recommended_items) if verdict is not None else set()
        checklists = list(pack.checklists) if pack is not None else []
        known = {it.id for cl in checklists for it in cl.items}
        orphans = [item_id for item_id in data["checks"] if item_id not in known]
        for cl in checklists:
            _write_checklist(book, s, header, _sheet_name(ja(cl.title) or cl.id, used),
                             ja(cl.title) or cl.id, [(it.id, ja(it.text), it.category)
                                                     for it in cl.items],
                             data["checks"], required, recommended, who)
        if orphans:
            _write_checklist(book, s, header, _sheet_name("その他の項目", used),
                             "パックにない項目 / Items not in the pack",
                             [(i, "", "") for i in orphans], data["checks"], required,
                             recommended, who)

        # -- 判定履歴 -------------------------------------------------------------------
        sh = _Sheet(book, s, HISTORY, header, [19, 12, 18, 12, 44, 22])
        sh.title("判定履歴 / Decisions")
        sh.header(["日時 / At (JST)", "種別 / Kind", "判断者 / By", "区分 / Level",
                   "コメント / Comment", "パック / Pack"])
        for d in data["decisions"]:
            pack_ref = f"{d.pack_id}@{d.pack_version}"
            sh.line([_aware(d.created_at), with_code("decision", d.kind),
                     who(d.actor_id), d.level,
                     decision_note(d.kind, d.comment, "ja", pack=pack_ref), pack_ref])
        sh.gap()
        sh.field("出力日時 / Generated (JST)", now)
        sh.field("出力者 / Generated by", generated_by or "(CLI)")
    finally:
        book.close()


def _write_checklist(book, s: Styles, header: str, name: str, title: str,
                     items: list[tuple[str, str, str]], checks: dict[str, Any],
                     required: set[str], recommended: set[str], who) -> None:
    sh = _Sheet(book, s, name, header, [9, 46, 12, 10, 40, 16, 18])
    sh.title(title)
    sh.header(["項目ID / Item", "項目 / Text", "要否 / Need", "結果 / Result",
               "根拠・確認内容 / Evidence", "更新者 / By", "更新日時 / At (JST)"])
    sh.sheet.repeat_rows(sh.row - 1)
    for item_id, text, _category in items:
        need = ("必須 / required" if item_id in required
                else "推奨 / recommended" if item_id in recommended else "—")
        r = checks.get(item_id)
        sh.line([item_id, text, need,
                 # No record yet is `pending`, as on screen and in the board report.
                 with_code("checklist_status", r.status if r else "pending"),
                 r.evidence if r else "", who(r.updated_by) if r else "",
                 _aware(r.updated_at) if r else None])


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)
