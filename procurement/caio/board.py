"""The report to the Advisory Board (or the body a pack names) for one case, as a document.

Project details, objectives, risk mitigation, the QA plan including operation, with the
classification behind it; rendered as a workbook or as a printable HTML page
(`procurement.caio.documents`).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

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
from procurement.files import atomic_output
from procurement.records import policy
from procurement.records.core import ServiceCore
from procurement.records.views import Actor
from procurement.vocabulary import ismap_text, word

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
        "case_id": "案件ID", "org": "組織", "owner": "起案者",
        "status": "状態", "submitted_at": "提出日時", "approved_at": "承認日時",
        "level": "リスク区分", "complete": "回答の完全性", "pack": "ルールパック",
        "fingerprint": "フィンガープリント", "pack_matches": "ルールパックの一致",
        "reasons_h": ("規則ID", "判定理由", "入力", "確度", "出典"),
        "blocking_h": ("指摘ID", word("concept", "blocking", "ja"), "入力", "確度", "出典"),
        "answers_h": ("設問ID", "設問", "回答", "確度"),
        "unanswered": "未回答の設問",
        "checklist_h": ("チェックシート", "必須", *(word("checklist_status", s, "ja") for s in
                                                 ("met", "not_met", "pending", "not_applicable"))),
        "open_items_h": ("項目ID", "項目", "状態", "根拠"),
        "open_items_note": "5-2. 未充足・未確認の必須項目",
        "last_review": "最終定期確認日", "next_review": "次回定期確認期限",
        "incidents_h": ("事案ID", "発生日", "重大度", "内容", "対応", "CAIO報告", "外部報告", "状態"),
        "no_operation": "運用は開始されていません。", "no_incidents": "記録されたリスク事案はありません。",
        "not_high": ("この案件の現在のリスク区分は「{high}」ではありません。"
                     "ボードへの報告は必須ではありません。"),
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
        "case_id": "Case ID", "org": "Organisation",
        "owner": "Owner", "status": "Status", "submitted_at": "Submitted at",
        "approved_at": "Approved at", "level": "Level", "complete": "Complete",
        "pack": "Rule pack", "fingerprint": "Fingerprint", "pack_matches": "Pack matches",
        "reasons_h": ("Rule", "Reason", "Inputs", "Provenance", "Source"),
        "blocking_h": ("Finding", word("concept", "blocking", "en"), "Inputs", "Provenance",
                       "Source"),
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
        "not_high": ("This case is not currently classified as “{high}”; a report to the "
                     "Board is not required."),
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


def _operation_row(op) -> OperationRow:
    return OperationRow(
        case_id=op.case_id, started_on=op.started_on, vendor=op.vendor, model_name=op.model_name,
        model_version=op.model_version, ismap_listing=op.ismap_listing,
        review_interval_months=op.review_interval_months, last_reviewed_on=op.last_reviewed_on,
        ended_on=op.ended_on, end_evidence=op.end_evidence,
    )


class BoardReportService(ServiceCore):
    """The board report of a case, read as an actor."""

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

        sections = [
            Section(words["case"], fields=(
                Field(words["case_id"], case.id),
                Field(words["org"], case.org_code),
                Field(field("department"), case.department),
                Field(words["owner"], case.owner_name),
                Field(words["status"], word("case_status", case.status, lang)),
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
            Field(words["level"], case_level(case.level)),
            Field(words["complete"], bool(case.is_complete)),
            Field(words["pack"], case.pack_ref),
            Field(words["fingerprint"], case.pack_fingerprint),
            Field(words["pack_matches"], bool(case.pack_matches)),
        ]
        if result is not None and result.unanswered:
            classification_fields.append(Field(words["unanswered"], ", ".join(result.unanswered)))
        sections.append(Section(words["classification"], fields=tuple(classification_fields),
                                headers=words["reasons_h"], rows=reason_rows,
                                note=_board_note(pack, case.level, words, case_level)))
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
            Field(word("board_field", name, lang),
                  (report.get(name) or "").strip() or label(lang, "empty"))
            for name in BOARD_REPORT_FIELDS
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
        now = self.now()
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


def _board_note(pack: Any, level_id: str | None, words: dict[str, Any], name: Any) -> str:
    """The note under the classification: none when the case's own pack counts its level as
    high risk (the board report is due), else which levels would make it due, as the pack names
    them (no note when the pack is unknown or has no high-risk level)."""
    if pack is None:
        return ""
    high = pack.high_risk_levels()
    if not high or level_id in high:
        return ""
    return words["not_high"].format(high="」「".join(name(h) for h in high) if words is _BOARD_TEXT["ja"]
                                    else "”, “".join(name(h) for h in high))
