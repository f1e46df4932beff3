"""The report a case's pack asks for (to the Advisory Board, or the body the pack names), as a
document.

Project details, objectives, risk mitigation, the QA plan including operation, with the
classification behind it; rendered as a workbook or as a printable HTML page
(`procurement.caio.documents`). The addressee is the `body` of the pack's `report` step (the
national Advisory Board, a municipality's own committee, an ethics committee...): no step or
level id is named here. Levels read in the words of the case's own pack; people and
organisations by name; the pack by title and edition, with its exact version and fingerprint
kept as fields for auditors. Until the case is approved the document is marked 下書き.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from procurement.caio.documents import (
    Document,
    Field,
    Section,
    label,
    level_text,
    render_document_html,
    write_document_xlsx,
)
from procurement.caio.portfolio import (
    OperationRow,
    next_review_due,
)
from procurement.db.models import BOARD_REPORT_FIELDS, Case, Organisation
from procurement.errors import InputError, NotFoundError, ProcurementError
from procurement.exports.case import is_draft, report_step
from procurement.exports.labels import format_source, pack_title
from procurement.files import atomic_output
from procurement.records import policy
from procurement.records.core import ServiceCore
from procurement.records.views import Actor
from procurement.vocabulary import ismap_text, word
from procurement.vocabulary import (
    words as words_of,  # `words` names the document's texts
)

if TYPE_CHECKING:
    from procurement.caio.incidents import IncidentView
    from procurement.caio.operation import OperationView
    from procurement.records.views import CaseView, OrgView

# --------------------------------------------------------------------------- board report content

# Texts (str) and table headers (tuple[str, ...]) of the board report, by language.
_BOARD_TEXT: dict[str, dict[str, Any]] = {
    "ja": {
        "title": "報告書",  # when the pack names no report step
        "notice": ("本書のリスク判定は、公開情報をもとに再構成したルールパックによるものであり、"
                   "ガイドライン別紙の公式な様式・判定基準ではありません。各判定理由の出典と確度"
                   "（{provenance}の別）を併記しています。"),
        "case": "1. 案件の概要", "classification": "2. リスク判定", "answers": "3. 判定シートへの回答",
        "board": "4. 報告事項", "checklists": "5. チェックシートの状況",
        "operation": "6. 運用状況", "incidents": "7. リスク事案",
        "details": "付記. 判定に用いたルールパックの詳細",
        "no_reasons": "判定理由: 該当した判定規則はありません。",
        "case_id": "案件番号", "org": "組織", "owner": "担当者", "addressee": "報告先",
        "status": "状態", "submitted_at": "提出日時", "approved_at": "承認日時",
        "level": word("concept", "level", "ja"), "complete": "回答の完全性",
        "pack": "ルールパック", "pack_ref": "ルールパックの版", "fingerprint": "フィンガープリント",
        "pack_matches": "ルールパックの一致",
        "reasons_h": ("規則", "判定理由", "根拠となった回答", "確度", "出典"),
        "blocking_h": ("指摘", word("concept", "blocking", "ja"), "根拠となった回答", "確度",
                       "出典"),
        "answers_h": ("設問番号", "設問", "回答", "確度"),
        "unanswered": "未回答の設問",
        "checklist_h": ("チェックシート", "必須", *(word("checklist_status", s, "ja") for s in
                                                 ("met", "not_met", "pending", "not_applicable"))),
        "open_items_h": ("項目番号", "項目", "状態", "根拠"),
        "open_items_note": "5-2. 未充足・未確認の必須項目",
        "last_review": "最終定期確認日", "next_review": "次回定期確認期限",
        "incidents_h": ("事案番号", "発生日", "重大度", "内容", "対応", "CAIO報告", "外部報告",
                        "状態"),
        "no_operation": "運用は開始されていません。", "no_incidents": "記録されたリスク事案はありません。",
        "not_required": ("この案件の現在のリスク区分（{level}）では、{body}への報告は必須では"
                         "ありません。"),
        "reference": "{org} 案件{id}",
    },
    "en": {
        "title": "Report",  # when the pack names no report step
        "notice": ("The classification in this document comes from a rule pack reconstructed from "
                   "public sources; it is not the guideline's official sheet or decision rule. The "
                   "source and provenance ({provenance}) of every reason are "
                   "shown."),
        "case": "1. Case", "classification": "2. Classification", "answers": "3. Answers",
        "board": "4. Report", "checklists": "5. Checklists",
        "operation": "6. Operation", "incidents": "7. Incidents",
        "details": "Annex. The rule pack behind the classification",
        "no_reasons": "Reasons: no rule of the pack applied.",
        "case_id": "Case ID", "org": "Organisation", "addressee": "Addressee",
        "owner": "Owner", "status": "Status", "submitted_at": "Submitted at",
        "approved_at": "Approved at", "level": "Level", "complete": "Complete",
        "pack": "Rule pack", "pack_ref": "Pack version", "fingerprint": "Fingerprint",
        "pack_matches": "Pack matches",
        "reasons_h": ("Rule", "Reason", "Answers behind it", "Provenance", "Source"),
        "blocking_h": ("Finding", word("concept", "blocking", "en"), "Answers behind it",
                       "Provenance", "Source"),
        "answers_h": ("Question", "Text", "Answer", "Provenance"),
        "unanswered": "Unanswered questions",
        "checklist_h": ("Checklist", "Required", *(word("checklist_status", s, "en") for s in
                                                   ("met", "not_met", "pending", "not_applicable"))),
        "open_items_h": ("Item", "Text", "Status", "Evidence"),
        "open_items_note": "5-2. Required items not met or not yet checked",
        "last_review": "Last review", "next_review": "Next review due",
        "incidents_h": ("ID", "Occurred", "Severity", "Description", "Actions", "Reported to CAIO",
                        "Reported onward", "Status"),
        "no_operation": "Not in operation.", "no_incidents": "No incident recorded.",
        "not_required": ("At the case's current level ({level}) no report to the {body} is "
                         "required."),
        "reference": "{org} case {id}",
    },
}


def _pick(texts: Any, lang: str) -> str:
    if texts is None:
        return ""
    if isinstance(texts, str):
        return texts
    return texts.get(lang) or texts.get("ja") or ""


def _answer_words(pack: Any, qid: str, value: Any, lang: str) -> str:
    """An answer in the words of its question's options (the value itself for free text or
    an option the pack does not know)."""
    values = value if isinstance(value, list) else [value]
    if pack is None:
        return ", ".join(str(v) for v in values)
    try:
        question = pack.question(qid)
    except (ProcurementError, KeyError):
        return ", ".join(str(v) for v in values)
    words = []
    for v in values:
        try:
            words.append(_pick(question.option(v).label, lang))
        except (ProcurementError, KeyError, TypeError):
            words.append(str(v))
    return ", ".join(words)


def _inputs_text(pack: Any, inputs: Any, lang: str) -> str:
    """The answers that made a rule fire: `HR-1: 国民・住民（一般の人）`, one per line."""
    return "\n".join(f"{q}: {_answer_words(pack, q, v, lang)}" for q, v in sorted(inputs.items()))


def report_title(step: Any, lang: str, fallback: str) -> str:
    """The document's title from the pack's report step: its title, as a document (`…への報告`
    becomes `…への報告書` in Japanese); `fallback` when the pack names no report step."""
    if step is None:
        return fallback
    title = _pick(step.title, lang)
    if lang == "ja" and title.endswith("報告"):
        return title + "書"
    return title or fallback


def _operation_row(op) -> OperationRow:
    return OperationRow(
        case_id=op.case_id, started_on=op.started_on, vendor=op.vendor, model_name=op.model_name,
        model_version=op.model_version, ismap_listing=op.ismap_listing,
        review_interval_months=op.review_interval_months, last_reviewed_on=op.last_reviewed_on,
        ended_on=op.ended_on, end_evidence=op.end_evidence,
    )


class BoardReportService(ServiceCore):
    """The board report of a case, read as an actor."""

    if TYPE_CHECKING:  # provided by the other mixins of `procurement.services.Services`
        def get_case(self, actor: Actor, case_id: int) -> CaseView: ...
        def get_org(self, actor: Actor, code: str) -> OrgView: ...
        def get_operation(self, actor: Actor, case_id: int) -> OperationView | None: ...
        def list_incidents(self, actor: Actor, case_id: int | None = None) -> list[IncidentView]: ...

    def board_report_document(self, actor: Actor, case_id: int, *, lang: str = "ja") -> Document:
        """The board report of one case as a document, read as `actor` (anyone of the case's
        organisation may read it; the CAIO's office sends it)."""
        words = _BOARD_TEXT.get(lang, _BOARD_TEXT["ja"])

        def field(name: str) -> str:  # a record field's words (`procurement.vocabulary`)
            return word("record_field", name, lang)
        case = self.get_case(actor, case_id)
        can_read = policy.may(actor, "operation.read")
        op = self.get_operation(actor, case_id) if can_read else None
        incidents = self.list_incidents(actor, case_id) if can_read else []
        pack = None
        try:
            pack = self.registry.resolve(f"{case.pack_id}@{case.pack_version}")
        except ProcurementError:  # a pack no longer installed still leaves a document
            pack = None
        result = case.classification

        def case_level(level_id: str | None) -> str:
            if level_id and pack is not None:
                try:
                    return _pick(pack.level(level_id).label, lang)
                except (ProcurementError, KeyError):  # an id the pack lacks is shown as it is
                    return level_id
            return level_text(level_id, None, lang)  # no pack: the id as it is

        step, required = report_step(pack, result)
        body = _pick(step.body, lang) if step is not None and step.body else ""
        org_name = self.get_org(actor, case.org_code).name
        sections = [
            Section(words["case"], fields=(
                *((Field(words["addressee"], body),) if body else ()),
                Field(words["case_id"], case.id),
                Field(words["org"], org_name),
                Field(field("department"), case.department),
                Field(field("purpose"), case.purpose),
                Field(words["owner"], case.owner_name),
                Field(words["status"], word("case_status", case.status, lang)),
                Field(words["submitted_at"], case.submitted_at),
                Field(words["approved_at"], case.approved_at),
            )),
        ]
        source_lang = lang if lang == "ja" else None
        reason_rows = tuple(
            (r.rule_id, _pick(r.message, lang), _inputs_text(pack, r.inputs, lang),
             word("provenance", r.provenance, lang), format_source(r.source, source_lang))
            for r in (result.reasons if result else [])
        )
        blocking_rows = tuple(
            (f.id, _pick(f.message, lang), _inputs_text(pack, f.inputs, lang),
             word("provenance", f.provenance, lang),
             format_source(f.source, source_lang))
            for f in (result.blocking if result else [])
        )
        classification_fields = [
            Field(words["level"], case_level(case.level)),
            Field(words["complete"], bool(case.is_complete)),
            *((Field(words["pack"], pack_title(pack, lang)),) if pack is not None else ()),
        ]
        if result is not None and result.unanswered:
            classification_fields.append(Field(words["unanswered"],
                                               ("、" if lang == "ja" else ", ")
                                               .join(result.unanswered)))
        not_required = ""
        if body and not required:
            not_required = words["not_required"].format(level=case_level(case.level), body=body)
        sections.append(Section(words["classification"], fields=tuple(classification_fields),
                                # No empty table: a case no rule applied to says so.
                                headers=words["reasons_h"] if reason_rows else (),
                                rows=reason_rows,
                                note="\n".join(n for n in (
                                    "" if reason_rows or result is None
                                    else words["no_reasons"], not_required) if n)))
        if blocking_rows:
            sections.append(Section(words["blocking_h"][1], headers=words["blocking_h"],
                                    rows=blocking_rows))
        answer_rows = []
        for qid, value in case.answers.items():
            text, answer, provenance = qid, _answer_words(pack, qid, value, lang), ""
            if pack is not None:
                try:
                    question = pack.question(qid)
                    text = _pick(question.text, lang)
                    provenance = word("provenance", question.provenance, lang)
                    if question.is_text:
                        answer = str(value)
                except (ProcurementError, KeyError):  # an answer the pack no longer knows stays raw
                    pass
            answer_rows.append((qid, text, answer, provenance))
        if pack is not None:
            order = {q.id: index for index, q in enumerate(pack.questions)}
            answer_rows.sort(key=lambda row: (order.get(row[0], len(order)), row[0]))
        sections.append(Section(words["answers"], headers=words["answers_h"], rows=tuple(answer_rows)))
        report = case.board_report or {}
        sections.append(Section(words["board"], fields=tuple(
            Field(word("board_field", name, lang),
                  (report.get(name) or "").strip() or label(lang, "empty"))
            for name in BOARD_REPORT_FIELDS
        )))
        if pack is not None and result is not None:
            required_items = set(result.required_items)
            counts_rows = []
            open_rows = []
            for checklist in pack.checklists:
                ids = [i.id for i in checklist.items if i.id in required_items]
                states = Counter(
                    case.checklist[i].status if i in case.checklist else "pending" for i in ids
                )
                counts_rows.append((_pick(checklist.title, lang), len(ids), states["met"],
                                    states["not_met"], states["pending"], states["not_applicable"]))
                for item in checklist.items:
                    if item.id not in required_items:
                        continue
                    entry = case.checklist.get(item.id)
                    status = entry.status if entry else "pending"
                    if status in ("not_met", "pending"):
                        open_rows.append((item.id, _pick(item.text, lang),
                                          word("checklist_status", status, lang),
                                          entry.evidence if entry else ""))
            sections.append(Section(words["checklists"], headers=words["checklist_h"],
                                    rows=tuple(counts_rows)))
            if open_rows:
                sections.append(Section(words["open_items_note"], headers=words["open_items_h"],
                                        rows=tuple(open_rows)))
        if op is not None:
            sections.append(Section(words["operation"], fields=(
                Field(field("started_on"), op.started_on),
                Field(field("vendor"), op.vendor),
                Field(field("model_name"), op.model_name),
                Field(field("model_version"), op.model_version),
                Field(field("ismap_listing"), ismap_text(op.ismap_listing, lang)),
                Field(field("review_interval_months"), op.review_interval_months),
                Field(words["last_review"], op.last_reviewed_on),
                Field(words["next_review"], next_review_due(_operation_row(op))),
                Field(field("ended_on"), op.ended_on),
                Field(field("end_evidence"), op.end_evidence),
            )))
        else:
            sections.append(Section(words["operation"], note=words["no_operation"]))
        sections.append(Section(
            words["incidents"], headers=words["incidents_h"] if incidents else (),
            rows=tuple(
                (i.id, i.occurred_on, word("severity", i.severity, lang), i.description,
                 i.actions_taken, i.reported_to_caio_at, i.reported_onward_at,
                 word("incident_status", i.status, lang))
                for i in sorted(incidents, key=lambda i: (i.occurred_on, i.id))
            ),
            note="" if incidents else words["no_incidents"],
        ))
        # The exact pack, for auditors (the same as the data exports), apart at the end: the
        # reader of the report names the pack by its title and edition (section 2).
        sections.append(Section(words["details"], fields=(
            Field(words["pack_ref"], case.pack_key),
            Field(words["fingerprint"], case.pack_fingerprint),
            Field(words["pack_matches"], bool(case.pack_matches)),
        )))
        now = self.now()
        return Document(
            lang=lang,
            title=report_title(step, lang, words["title"]),
            subtitle=f"{case.title}（{org_name}）" if lang == "ja" else f"{case.title} ({org_name})",
            reference=words["reference"].format(org=org_name, id=case.id),
            generated_at=now,
            generated_by=actor.display_name or actor.username,
            notice=words["notice"].format(provenance=(
                "".join(f"「{w}」" for w in words_of("provenance", lang).values()) if lang == "ja"
                else ", ".join(words_of("provenance", lang).values()))),
            sections=tuple(sections),
            draft=word("case_status", "draft", lang) if is_draft(case.status) else "",
        )

    def write_board_report(self, actor: Actor, case_id: int, out: str | Path, *,
                           lang: str = "ja") -> Document:
        """Write the board report of a case to `out`: `.html` gives the printable page, `.xlsx`
        the workbook. Returns the document written."""
        suffix = Path(out).suffix.lower()
        if suffix not in (".xlsx", ".html", ".htm"):
            raise InputError(f"{out}: the board report is written as .xlsx or .html, not "
                             f"{suffix or 'no suffix'}", field="out", value=str(out))
        doc = self.board_report_document(actor, case_id, lang=lang)
        if suffix == ".xlsx":
            write_document_xlsx(doc, out)
        else:
            with atomic_output(out) as tmp:
                tmp.write_text(render_document_html(doc), encoding="utf-8")
        return doc

    def case_org_code(self, case_id: int) -> str:
        """The organisation a case belongs to (for the command line, which acts per
        organisation)."""
        with self.read() as s:
            code = s.scalar(select(Organisation.code).join(Case, Case.org_id == Organisation.id)
                            .where(Case.id == case_id))
        if code is None:
            raise NotFoundError(f"case {case_id} not found", kind="case", id=case_id)
        return code

