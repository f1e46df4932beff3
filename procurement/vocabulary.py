"""Codes to words: one Japanese and one English word for every code the app stores.

Statuses, decisions, checklist statuses, roles, organisation kinds, incident severities and
statuses, ISMAP listings, audit event types and the reasons an approval was voided are stored
as codes. Every screen, workbook and report translates them here, so a code has exactly one
word per language everywhere (a test checks that no catalog or document defines its own).

    word("case_status", "submitted", "ja")  -> "審査中"
    words("severity", "en")                 -> {"low": "Low", ...}   (selectbox labels)
    event_word("case.submitted", "en")      -> "Submission"
    VoidReason("checklist_changed", {"item": "PC-G1"}).describe("ja")
    decision_note("void", stored_comment, "ja")

Catalogs of the UI refer to these words as `{@kind.code}` (e.g. `{@concept.blocking}`) instead of
repeating them; what an audit event's payload says is put in words by `procurement.events`.

Void reasons are codes with parameters (`VoidReason`), stored as JSON. Events and cases written
before codes existed hold English prose; `read_void_reason` still understands it (the audit
chain forbids rewriting them).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

LANGUAGES = ("ja", "en")


@dataclass(frozen=True)
class Term:
    """The words for one code. `replaces`: Japanese words once used for the same code, which
    no catalog, module or document may use again (tests/test_vocabulary.py looks for them)."""

    ja: str
    en: str
    replaces: tuple[str, ...] = ()

    def in_(self, lang: str) -> str:
        return self.en if lang == "en" else self.ja


#: kind -> code -> words. Kinds are the kinds of code the app stores.
TERMS: dict[str, dict[str, Term]] = {
    "case_status": {
        "draft": Term("下書き", "Draft", ("作成中",)),
        "submitted": Term("審査中", "In review", ("提出済み", "提出済")),
        "returned": Term("差戻し", "Returned", ("差し戻し",)),
        "approved": Term("承認済み", "Approved", ("承認済",)),
        "withdrawn": Term("取下げ", "Withdrawn", ("取り下げ",)),
        "in_operation": Term("運用中", "In operation"),
        "retired": Term("運用終了", "Retired"),
    },
    "decision": {
        "classification": Term("判定", "Classification"),
        "submission": Term("提出", "Submission"),
        "return": Term("差戻し", "Return", ("差し戻し",)),
        "approval": Term("承認", "Approval"),
        "withdrawal": Term("取下げ", "Withdrawal", ("取り下げ",)),
        "reassessment": Term("再判定", "Re-assessment", ("再評価",)),
        "void": Term("承認の失効", "Approval voided",
                     ("承認の取り消し", "承認の取消し", "承認取消", "承認失効", "承認は取り消",
                      "承認を取り消", "承認が取り消")),
    },
    "checklist_status": {
        "pending": Term("未確認", "Not checked", ("未対応",)),
        "met": Term("充足", "Met", ("対応済み",)),
        "not_met": Term("未充足", "Not met"),
        "not_applicable": Term("該当なし", "Not applicable", ("該当なし（理由を記入）",)),
    },
    "role": {
        "planner": Term("担当職員", "Planner", ("企画者",)),
        "reviewer": Term("審査者（AI統括責任者等）", "Reviewer (CAIO or delegate)"),
        "auditor": Term("監査担当者", "Auditor", ("監査者",)),
        "pack_admin": Term("ルールパック管理者", "Rule-pack administrator"),
        "admin": Term("システム管理者", "System administrator"),
    },
    "org_kind": {
        "ministry": Term("府省庁", "Ministry or agency"),
        "municipality": Term("地方公共団体", "Local government"),
    },
    "severity": {
        "low": Term("軽微", "Low"),
        "medium": Term("中程度", "Medium"),
        "high": Term("重大", "High"),
        "critical": Term("極めて重大", "Critical"),
    },
    "incident_status": {
        "open": Term("対応中", "Open"),
        "closed": Term("対応完了", "Closed"),
    },
    "ismap": {
        "ismap": Term("ISMAP登録", "ISMAP listed", ("ISMAP登録あり",)),
        "ismap_liu": Term("ISMAP-LIU登録", "ISMAP-LIU listed", ("ISMAP-LIU登録あり",)),
        "not_listed": Term("未登録", "Not listed", ("登録なし",)),
        "not_applicable": Term("対象外（自組織構築等）", "Not applicable (in-house etc.)",
                               ("対象外（自組織での構築など）",)),
    },
    "board_state": {
        "missing": Term("未作成", "Not started"),
        "incomplete": Term("記入中", "Incomplete"),
        "complete": Term("記入済み", "Complete", ("記入済",)),
    },
    # The fields of the report to the Advisory Board (`BOARD_REPORT_FIELDS`).
    "board_field": {
        "project_details": Term("事業の内容", "Project details", ("事業の概要",)),
        "objectives": Term("目的", "Objectives"),
        "risk_mitigation": Term("リスク低減策", "Risk mitigation"),
        "qa_plan": Term("品質保証計画（運用を含む）", "QA plan (including operation)",
                        ("品質保証計画(運用を含む)",)),
        "schedule": Term("スケジュール", "Schedule"),
        "contact": Term("連絡先", "Contact"),
    },
    # Fields of cases, operation records and incidents named in audit event details.
    "record_field": {
        "title": Term("件名", "Title"),
        "department": Term("担当部署", "Department"),
        "purpose": Term("利用目的", "Purpose"),
        "vendor": Term("事業者", "Vendor"),
        "model_name": Term("モデル", "Model"),
        "model_version": Term("モデルのバージョン", "Model version"),
        "ismap_listing": Term("ISMAP", "ISMAP"),
        "review_interval_months": Term("定期確認の間隔（月）", "Review interval (months)"),
        "started_on": Term("運用開始日", "Operation started on"),
        "ended_on": Term("運用終了日", "Operation ended on"),
        "end_evidence": Term("データ返却・削除の証跡", "Data return/deletion evidence"),
        "reviewed_on": Term("確認日", "Reviewed on"),
        "note": Term("メモ", "Note"),
        "occurred_on": Term("発生日", "Occurred on"),
        "severity": Term("重大度", "Severity"),
        "description": Term("事案の内容", "Description"),
        "actions_taken": Term("対応内容", "Actions taken"),
        "reported_to_caio_at": Term("CAIOへの報告日時", "Reported to the CAIO at"),
        "reported_onward_at": Term("外部への報告日時", "Reported onward at"),
        "comment": Term("コメント", "Comment"),
        "reported_on": Term("報告・協議の日", "Reported on"),
        "advice": Term("助言の有無", "Advice"),
    },
    # What the reviewer records of a report or consultation step before approving.
    "consultation_advice": {
        "received": Term("助言あり", "Advice received"),
        "none": Term("助言なし", "No advice"),
    },
    # Why a reviewer may not approve a case (separation of duties, `approval_conflicts`).
    "four_eyes": {
        "owner": Term("自分が担当の案件", "You own this case"),
        "submitted": Term("自分が提出した案件", "You submitted this case"),
        "changed": Term("自分が内容を変更した案件", "You changed this case"),
    },
    # What a line of "changes since the return" is about (`Services.changes_since_last_return`).
    "change_kind": {
        "answer": Term("質問への回答", "Answer"),
        "item": Term("チェックリスト項目", "Checklist item"),
        "board": Term("報告書の記載", "Report field"),
        "detail": Term("案件情報", "Case details"),
    },
    # E-mail notifications (`procurement.notify`): what a message is about, and where it is.
    "notification_kind": {
        "case_submitted": Term("審査の依頼", "Review requested"),
        "case_returned": Term("差戻しの連絡", "Case returned"),
        "case_approved": Term("承認の連絡", "Case approved"),
        "review_due": Term("定期確認の期限", "Periodic review due"),
    },
    "notification_status": {
        "queued": Term("送信待ち", "Waiting"),
        "sending": Term("送信中", "Sending"),
        "sent": Term("送信完了", "Sent"),
        "failed": Term("送信不能", "Gave up"),
    },
    # How sure a pack element is (`provenance` of questions, rules and items).
    "provenance": {
        "confirmed": Term("公式資料で確認", "Confirmed (official)"),
        "secondary": Term("二次情報に基づく", "From secondary sources"),
        "inferred": Term("独自の再構成（推定）", "Our reconstruction (inferred)"),
    },
    # Words for things that are not stored codes but must read the same everywhere.
    "concept": {
        "blocking": Term("是正が必要な事項", "Blocking finding", ("阻害要因", "阻止")),
        "unclassified": Term("未判定", "Not yet classified"),
        "level": Term("リスク区分", "Risk level"),
        "checklist_item": Term("チェックリスト項目", "Checklist item", ("チェック項目",)),
        "incident": Term("リスク事案", "Risk incident"),
        "board_report": Term("報告書", "Report"),
        "consultation": Term("協議・報告の記録", "Consultation record"),
        "resubmission": Term("再提出", "Resubmitted"),
        "first_submission": Term("初回", "First submission"),
    },
}


@dataclass(frozen=True)
class EventType:
    """One audit event type: its words and the payload keys a reader may rely on."""

    code: str
    term: Term
    params: tuple[str, ...] = ()


def _events(*rows: tuple[str, str | Term, str]) -> dict[str, EventType]:
    return {code: EventType(code, ja if isinstance(ja, Term) else Term(ja, en))
            for code, ja, en in rows}


_DECISION = TERMS["decision"]

#: Every audit event type the app writes (docs/audit-log.md lists them; a test compares). An
#: event that records a decision is named by the decision's own words: it is the same act.
EVENT_TYPES: dict[str, EventType] = _events(
    ("org.created", "組織を登録", "Organisation created"),
    ("org.pack_set", "使用するルールパックを変更", "Rule pack of the organisation changed"),
    ("user.created", "利用者を登録", "User created"),
    ("user.activated", "利用者を有効化", "User activated"),
    ("user.deactivated", "利用者を無効化", "User deactivated"),
    ("user.password_reset", "パスワードを再設定", "Password reset"),
    ("user.roles_changed", "利用者の役割を変更", "User roles changed"),
    ("user.email_set", "利用者のメールアドレスを変更", "User e-mail address changed"),
    ("user.unlocked", "サインインの制限を解除", "Sign-in lock lifted"),
    ("auth.signed_in", "サインイン", "Signed in"),
    ("auth.failed", "サインインに失敗", "Sign-in failed"),
    ("auth.locked", "サインインを一時制限", "Sign-in locked"),
    ("case.created", "案件を作成", "Case created"),
    ("case.details_saved", "案件情報を保存", "Case details saved"),
    ("case.answers_saved", "回答を保存", "Answers saved"),
    ("case.classified", "リスク区分が変化", "Risk level changed"),
    ("case.checklist_set", "チェックリスト項目を更新", "Checklist item updated"),
    ("case.board_report_saved", "報告書を保存", "Report saved"),
    ("case.consultation_recorded", "協議・報告の結果を記録", "Consultation recorded"),
    ("case.submitted", _DECISION["submission"], ""),
    ("case.returned", _DECISION["return"], ""),
    ("case.approved", _DECISION["approval"], ""),
    ("case.withdrawn", _DECISION["withdrawal"], ""),
    ("case.reassessed", _DECISION["reassessment"], ""),
    ("approval.voided", _DECISION["void"], ""),
    ("operation.started", "運用を開始", "Operation started"),
    ("operation.updated", "運用内容を変更", "Operation changed"),
    ("operation.reviewed", "定期確認を記録", "Periodic review recorded"),
    ("operation.ended", "運用を終了", "Operation ended"),
    ("incident.created", "リスク事案を記録", "Risk incident recorded"),
    ("incident.updated", "リスク事案を更新", "Risk incident updated"),
    ("incident.closed", "リスク事案の対応を完了", "Risk incident closed"),
    ("pack.installed", "ルールパックを登録", "Rule pack installed"),
)

#: Which decision each transition event records (the event and the decision share their words).
EVENT_DECISIONS: dict[str, str] = {
    "case.submitted": "submission", "case.returned": "return", "case.approved": "approval",
    "case.withdrawn": "withdrawal", "case.reassessed": "reassessment", "approval.voided": "void",
}


def word(kind: str, code: str | None, lang: str = "ja") -> str:
    """The word for `code` of `kind` in `lang`; an unknown code is shown as it is."""
    if code is None:
        return ""
    term = TERMS[kind].get(code)
    return term.in_(lang) if term is not None else code


def words(kind: str, lang: str = "ja") -> dict[str, str]:
    """Every code of `kind` -> its word, in the registry's order (for selectboxes)."""
    return {code: term.in_(lang) for code, term in TERMS[kind].items()}


def event_word(event_type: str, lang: str = "ja") -> str:
    """The words for an audit event type; an unknown type is shown as it is."""
    known = EVENT_TYPES.get(event_type)
    return known.term.in_(lang) if known is not None else event_type


def ismap_text(value: str | None, lang: str = "ja") -> str:
    """An ISMAP listing as stored (`code` or `code:reference`) in words, reference kept."""
    if not value:
        return ""
    code, _, reference = value.partition(":")
    text = word("ismap", code, lang)
    return f"{text} ({reference.strip()})" if reference.strip() else text


# -------------------------------------------------------------------------------------------
# Void reasons

#: Why an approval was voided: code -> (words with {params}, parameter names).
VOID_REASONS: dict[str, tuple[Term, tuple[str, ...]]] = {
    "answers_changed": (Term("回答の変更", "answers changed"), ()),
    "board_report_changed": (Term("報告書の変更", "board report changed"), ()),
    "checklist_changed": (Term("チェックリスト項目 {item} の変更", "checklist item {item} changed"),
                          ("item",)),
    "reassessed": (Term("{pack} による再判定", "re-assessed under {pack}"), ("pack",)),
}


@dataclass(frozen=True)
class VoidReason:
    """Why an approval was voided: a code and its parameters (e.g. the checklist item)."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in VOID_REASONS:
            raise ValueError(f"unknown void reason {self.code!r}")
        missing = [p for p in VOID_REASONS[self.code][1] if p not in self.params]
        if missing:
            raise ValueError(f"void reason {self.code}: missing parameter(s) {missing}")

    def describe(self, lang: str = "ja") -> str:
        """The reason in words, parameters filled in."""
        template = VOID_REASONS[self.code][0].in_(lang)
        return template.format(**{k: str(v) for k, v in self.params.items()})

    def to_payload(self) -> dict[str, Any]:
        """The JSON-ready form stored in events and decisions."""
        return {"code": self.code, "params": dict(self.params)}

    def to_text(self) -> str:
        """The stored text of `cases.approval_voided_reason` and the `void` decision's comment."""
        return json.dumps(self.to_payload(), ensure_ascii=False, sort_keys=True)


# The English prose stored before void reasons were codes (read only, never written again).
_LEGACY_VOID = {
    "answers_changed": re.compile(r"answers changed"),
    "board_report_changed": re.compile(r"board report changed"),
    "checklist_changed": re.compile(r"checklist item (?P<item>.+?) changed"),
    "reassessed": re.compile(r"re-assessment under (?P<pack>.+?): obligations grew \((?P<growth>.*)\);"
                             r" the case needs approval again"),
}


def read_void_reason(stored: Any) -> VoidReason | None:
    """The reason of a stored void: a code payload (dict or its JSON text) or legacy prose.

    None when the text is of no known form (shown as it is by callers)."""
    if stored is None:
        return None
    if isinstance(stored, str):
        text = stored.strip()
        if text.startswith("{"):
            try:
                stored = json.loads(text)
            except ValueError:
                return None
        else:
            for code, pattern in _LEGACY_VOID.items():
                if match := pattern.fullmatch(text):
                    return VoidReason(code, match.groupdict())
            return None
    if isinstance(stored, dict) and stored.get("code") in VOID_REASONS:
        try:
            return VoidReason(str(stored["code"]), dict(stored.get("params") or {}))
        except ValueError:
            return None
    return None


def describe_void_reason(stored: Any, lang: str = "ja") -> str:
    """A stored void reason in words; text of no known form is returned as it is."""
    reason = read_void_reason(stored)
    if reason is not None:
        return reason.describe(lang)
    return stored if isinstance(stored, str) else ""


# -------------------------------------------------------------------------------------------
# Decision comments

#: The note a re-assessment decision carried before it stored no text of its own (read only).
_LEGACY_REASSESSMENT = re.compile(r"re-assessed under (?P<pack>\S+) \(was (?P<old>\S+)\)")
_REASSESSMENT_NOTE = Term("{pack}（変更前: {old}）", "{pack} (was {old})")


def decision_note(kind: str, comment: str | None, lang: str = "ja", *,
                  pack: str | None = None) -> str:
    """What a decision's comment says, in `lang`.

    A `void` decision's comment is its reason (a code, or older English prose); a
    `reassessment` is described by the pack it moved the case to (`pack`, from the decision's
    own pack columns), followed by the operator's comment if any; older re-assessments stored an
    English note, read back here. Any other comment is what a person wrote, shown as written.
    """
    text = (comment or "").strip()
    if kind == "void":
        return describe_void_reason(text, lang)
    if kind == "reassessment":
        if match := _LEGACY_REASSESSMENT.fullmatch(text):
            return _REASSESSMENT_NOTE.in_(lang).format(**match.groupdict())
        if pack:
            return f"{pack}: {text}" if text else pack
    return text
