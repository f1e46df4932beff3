"""The case workbook: one case's filled sheets, laid out to be printed and filed.

    build_case_workbook(engine, case_id, out, *, registry=None, org_codes=None,
                        generated_by="", now=None) -> Path

Sheets: 高リスク判定 (the case, its answers with question texts, the level and the reasons of the
pack in force for it, blocking findings), 報告書 (the report the pack asks for, to the body it
names, when there is one), one sheet per checklist of the pack (調達, 契約, 利用ルール: every
item, whether it is required or recommended for this case, its result and evidence), and 判定履歴
(the decisions). Each prints on A4 portrait, fitted to the page width, with the case and title in
the page header beside the date of the export, and page numbers in the footer; every row is as
tall as its text, and a text longer than a row holds continues on the following rows.

It is a Japanese document for people: names of people and organisations rather than usernames
and codes, the pack by title and edition (its exact id, version and fingerprint in one field for
auditors), levels in the words of the case's own pack, dates as 2026年11月30日. Until the case is
approved (or in operation, or retired after operation) every page says 下書き.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from procurement.db.models import (
    BOARD_REPORT_FIELDS,
    Answer,
    BoardReport,
    Case,
    ChecklistResult,
    Decision,
    Organisation,
    User,
)
from procurement.db.reading import read_connection
from procurement.errors import InputError, NotFoundError, ProcurementError
from procurement.exports.labels import (
    PackTexts,
    answer_text,
    decode_answer,
    format_source,
    ja,
    ja_word,
    jp_date,
    pack_title,
)
from procurement.exports.sheets import Form, PageText, Styles, open_workbook
from procurement.files import atomic_output
from procurement.fiscal import as_utc, fiscal_year, fiscal_year_label, to_jst
from procurement.records.policy import EVER_APPROVED_STATUSES
from procurement.vocabulary import decision_note, describe_void_reason

DETERMINATION, REPORT, HISTORY = "高リスク判定", "報告書", "判定履歴"

_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")

#: Every sheet is drawn on 20 grid columns of 5 units (A4 portrait at 100 %).
_GRID = [5.0] * 20
#: Spans of the labelled fields: label, value.
_LABEL_SPAN = 5


def is_draft(status: str) -> bool:
    """Whether a case's documents are drafts: its content has not been approved (approved, in
    operation, or retired after operation)."""
    return status not in EVER_APPROVED_STATUSES


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
    now = now or datetime.now(UTC)
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
        return classify(pack, {k: v for k, v in answers.items() if v is not None})
    except (ProcurementError, InputError):
        return None


def _sheet_name(text: str, used: set[str]) -> str:
    name = _BAD_SHEET_CHARS.sub("_", text)[:28] or "sheet"
    candidate, n = name, 2
    while candidate in used:
        candidate, n = f"{name[:26]}({n})", n + 1
    used.add(candidate)
    return candidate


def report_step(pack: Any, verdict: Any | None) -> tuple[Any | None, bool]:
    """The pack's `report` step for a case, and whether it applies to the case's result.

    The step the result requires when there is one; else the pack's first `report` step (the
    document still names its body, and says the report is not required); None when the pack
    asks for no report at all."""
    if pack is None:
        return None, False
    if verdict is not None:
        for step in pack.report_steps(verdict):
            if step.kind == "report":
                return step, True
    steps = pack.steps_of_kind("report")
    return (steps[0] if steps else None), False


class _Words:
    """Names for people and levels, looked up once per workbook."""

    def __init__(self, users: dict[int, tuple[str, str]], texts: PackTexts) -> None:
        self.users = users
        self.texts = texts

    def person(self, uid: int | None) -> str:
        """A user's display name (the username only when there is none)."""
        if uid is None:
            return ""
        name, display = self.users.get(uid, (str(uid), ""))
        return display or name

    def level(self, pack_id: str, version: str, level_id: str | None) -> str:
        """A level in the words of the pack it was decided under (its id if the pack lacks it)."""
        if not level_id:
            return ""
        return self.texts.level_label(pack_id, version, level_id) or level_id


def _write(path: Path, data: dict[str, Any], texts: PackTexts, generated_by: str,
           now: datetime) -> None:
    case = data["case"]
    names = _Words(data["users"], texts)
    pack = texts.pack(case.pack_id, case.pack_version)
    answers = {a.question_id: decode_answer(a.value) for a in data["answers"]}
    verdict = _classify(pack, answers)
    draft = ja_word("case_status", "draft") if is_draft(case.status) else ""
    header = f"案件 {case.id} {case.title}"
    page = PageText(header, date=f"{jp_date(now)}現在", draft=draft)
    book, s = open_workbook(path, title=header + (f"（{draft}）" if draft else ""),
                            author=generated_by or "procurement")
    try:
        used = {DETERMINATION, REPORT, HISTORY}
        _write_determination(book, s, page, data, pack, verdict, answers, names, draft)
        step, _applies = report_step(pack, verdict)
        if data["report"] is not None:
            _write_report(book, s, page, data, pack, step, names, draft)
        _write_checklists(book, s, page, data, pack, verdict, names, draft, used)
        _write_history(book, s, page, data, names, generated_by, now, draft)
    finally:
        book.close()


def _form(book, s: Styles, name: str, page: PageText) -> Form:
    return Form(book, s, name, _GRID, page, label_span=_LABEL_SPAN)


def _write_determination(book, s: Styles, page: PageText, data: dict[str, Any], pack: Any,
                         verdict: Any, answers: dict[str, Any], names: _Words,
                         draft: str) -> None:
    case, org = data["case"], data["org"]
    sh = _form(book, s, DETERMINATION, page)
    sh.title("高リスク判定シート", draft)
    sh.field("案件番号", case.id)
    sh.field("件名", case.title)
    sh.field("組織", org.name if org else "")
    sh.field("担当部署", case.department)
    sh.field("利用目的", case.purpose)
    sh.field("担当者", names.person(case.owner_id))
    sh.field("状態", ja_word("case_status", case.status))
    sh.field(ja_word("concept", "level"),
             names.level(case.pack_id, case.pack_version, case.level)
             or ja_word("concept", "unclassified"))
    sh.field("判定の完了", bool(case.is_complete))
    sh.field(ja_word("concept", "blocking"), bool(case.has_blocking))
    if pack is not None:
        sh.field("ルールパック", pack_title(pack))
    if pack is None:
        sh.field("注意", "この版のルールパックは導入されていないため、設問文を表示できません。")
    elif pack.fingerprint != case.pack_fingerprint:
        sh.field("注意", "導入済みのルールパックの指紋が記録と異なります"
                         f"（導入済み: {pack.fingerprint}）。")
    sh.field("作成日時", as_utc(case.created_at))
    sh.field("年度", fiscal_year_label(fiscal_year(as_utc(case.created_at))))
    sh.field("提出日時", as_utc(case.submitted_at))
    sh.field("承認日時", as_utc(case.approved_at))
    if case.approval_voided_at:
        sh.field(f"{ja_word('decision', 'void')}の日時", as_utc(case.approval_voided_at))
        sh.field(f"{ja_word('decision', 'void')}の理由",
                 describe_void_reason(case.approval_voided_reason))
    if verdict is not None and verdict.flags:
        sh.field("注記", "\n".join(ja(f.label) or f.id for f in verdict.flags))
    sh.gap()

    answer_spans = [2, 7, 4, 3, 4]
    sh.header(["設問番号", "設問", "回答", "回答者", "回答日時"], answer_spans)
    by_id = {a.question_id: a for a in data["answers"]}
    order = [q.id for q in pack.questions] if pack is not None else []
    order += [qid for qid in by_id if qid not in order]
    texts = names.texts
    for qid in order:
        a = by_id.get(qid)
        question = pack.element(qid) if pack is not None else None
        value = answers.get(qid)
        label = texts.answer_label(case.pack_id, case.pack_version, qid, value)
        if a is None:
            shown = "（未回答）"
        elif label:
            shown = label
        elif isinstance(value, list) and not value:
            shown = "（該当なし）"  # a multiple choice answered with nothing selected
        else:
            shown = answer_text(value)
        sh.line([qid, ja(getattr(question, "text", None)), shown,
                 names.person(a.answered_by) if a else "",
                 as_utc(a.answered_at) if a else None], answer_spans)
    if verdict is not None:
        _write_reasons(sh, case, verdict, names)
    # The exact pack, for auditors (the same id, version and fingerprint as the data exports),
    # apart at the end: a reader names the pack by its title and edition (above).
    sh.gap()
    sh.section("付記　判定に用いたルールパックの詳細")
    sh.field("ルールパックの版", f"{case.pack_id}@{case.pack_version}")
    sh.field("フィンガープリント", case.pack_fingerprint)


def _write_reasons(sh: Form, case: Any, verdict: Any, names: _Words) -> None:
    """The reasons of the pack for the case's level, its blocking findings, what is
    unanswered."""
    sh.gap()
    if not verdict.reasons and not verdict.blocking:
        # No empty table: say that no rule of the pack applied (the level is its default).
        sh.field("判定理由", "該当した判定規則はありません。")
    else:
        _write_reason_table(sh, case, verdict, names)
    if verdict.unanswered:
        sh.gap()
        sh.field("未回答の設問", "、".join(verdict.unanswered))


def _write_reason_table(sh: Form, case: Any, verdict: Any, names: _Words) -> None:
    reason_spans = [3, 7, 3, 3, 4]
    sh.header(["規則", "判定理由", ja_word("concept", "level"), "根拠の確度", "出典"],
              reason_spans)
    for reason in verdict.reasons:
        sh.line([reason.rule_id, ja(reason.message),
                 names.level(case.pack_id, case.pack_version, reason.level),
                 ja_word("provenance", reason.provenance),
                 format_source(reason.source, "ja")], reason_spans)
    for finding in verdict.blocking:
        sh.line([finding.id, ja(finding.message), ja_word("concept", "blocking"),
                 ja_word("provenance", finding.provenance),
                 format_source(finding.source, "ja")], reason_spans)


def _write_report(book, s: Styles, page: PageText, data: dict[str, Any], pack: Any, step: Any,
                  names: _Words, draft: str) -> None:
    case, report = data["case"], data["report"]
    sh = _form(book, s, REPORT, page)
    title = ja(getattr(step, "title", None)) or ja_word("concept", "board_report")
    sh.title(title, draft)
    body = ja(getattr(step, "body", None))
    if body:
        sh.field("報告先", body)
    sh.field("案件番号", case.id)
    sh.field("件名", case.title)
    for key in BOARD_REPORT_FIELDS:  # the order the guideline lists them
        sh.field(ja_word("board_field", key), getattr(report, key))
    sh.field("更新者", names.person(report.updated_by))
    sh.field("更新日時", as_utc(report.updated_at))


def _write_checklists(book, s: Styles, page: PageText, data: dict[str, Any], pack: Any,
                      verdict: Any, names: _Words, draft: str, used: set[str]) -> None:
    required = set(verdict.required_items) if verdict is not None else set()
    recommended = set(verdict.recommended_items) if verdict is not None else set()
    checklists = list(pack.checklists) if pack is not None else []
    known = {it.id for cl in checklists for it in cl.items}
    orphans = [item_id for item_id in data["checks"] if item_id not in known]
    for cl in checklists:
        _write_checklist(book, s, page, _sheet_name(ja(cl.title) or cl.id, used),
                         ja(cl.title) or cl.id, [(it.id, ja(it.text)) for it in cl.items],
                         data["checks"], required, recommended, names, draft)
    if orphans:
        _write_checklist(book, s, page, _sheet_name("その他の項目", used),
                         "ルールパックにない項目", [(i, "") for i in orphans], data["checks"],
                         required, recommended, names, draft)


def _write_checklist(book, s: Styles, page: PageText, name: str, title: str,
                     items: list[tuple[str, str]], checks: dict[str, Any],
                     required: set[str], recommended: set[str], names: _Words,
                     draft: str) -> None:
    sh = _form(book, s, name, page)
    sh.title(title, draft)
    spans = [2, 6, 1, 2, 5, 2, 2]
    sh.header(["項目番号", "項目", "要否", "結果", "根拠・確認内容", "更新者", "更新日"], spans)
    sh.sheet.repeat_rows(sh.row - 1)  # the column headings on every printed page
    for item_id, text in items:
        need = ("必須" if item_id in required else "推奨" if item_id in recommended else "—")
        r = checks.get(item_id)
        sh.line([item_id, text, need,
                 # No record yet is `pending`, as on screen and in the board report.
                 ja_word("checklist_status", r.status if r else "pending"),
                 r.evidence if r else "", names.person(r.updated_by) if r else "",
                 _day(r.updated_at) if r else None], spans)


def _write_history(book, s: Styles, page: PageText, data: dict[str, Any], names: _Words,
                   generated_by: str, now: datetime, draft: str) -> None:
    sh = _form(book, s, HISTORY, page)
    sh.title("判定履歴", draft)
    spans = [4, 2, 3, 3, 5, 3]
    sh.header(["日時", "種別", "判断者", ja_word("concept", "level"), "コメント",
               "ルールパック"], spans)
    texts = names.texts
    previous = None
    for d in data["decisions"]:
        pack_ref = f"{d.pack_id}@{d.pack_version}"
        decided_under = texts.pack(d.pack_id, d.pack_version)
        # The pack is named where it changes; 同上 ("as above") where it stays, as on paper forms.
        shown = ("同上" if pack_ref == previous
                 else pack_title(decided_under) if decided_under is not None else pack_ref)
        previous = pack_ref
        sh.line([as_utc(d.created_at), ja_word("decision", d.kind), names.person(d.actor_id),
                 names.level(d.pack_id, d.pack_version, d.level),
                 decision_note(d.kind, d.comment, "ja", pack=pack_ref), shown], spans)
    sh.gap()
    sh.field("出力日時", now)
    sh.field("出力者", generated_by or "（コマンドライン）")




def _day(value: datetime | None):
    """The JST calendar day of a stored moment."""
    return to_jst(as_utc(value)).date() if value is not None else None
