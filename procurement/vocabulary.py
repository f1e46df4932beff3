"""Codes to words: one Japanese and one English word for every code the app stores.

Statuses, decisions, checklist statuses, roles, organisation kinds, incident severities and
statuses, ISMAP listings, audit event types and the reasons an approval was voided are stored
as codes. Every screen, workbook and report translates them here, so a code has exactly one
word per language everywhere (a test checks that no catalog or document defines its own).

    word("case_status", "submitted", "ja")  -> "審査中"
    event_word("case.submitted", "en")      -> "Submitted for review"
    VoidReason("checklist_changed", {"item": "PC-G1"}).describe("ja")

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
    """The words for one code."""

    ja: str
    en: str

    def in_(self, lang: str) -> str:
        return self.en if lang == "en" else self.ja


#: kind -> code -> words. Kinds are the kinds of code the app stores.
TERMS: dict[str, dict[str, Term]] = {
    "case_status": {
        "draft": Term("下書き", "Draft"),
        "submitted": Term("審査中", "In review"),
        "returned": Term("差戻し", "Returned"),
        "approved": Term("承認済み", "Approved"),
        "withdrawn": Term("取下げ", "Withdrawn"),
        "in_operation": Term("運用中", "In operation"),
        "retired": Term("運用終了", "Retired"),
    },
    "decision": {
        "classification": Term("判定", "Classification"),
        "submission": Term("提出", "Submission"),
        "return": Term("差戻し", "Return"),
        "approval": Term("承認", "Approval"),
        "withdrawal": Term("取下げ", "Withdrawal"),
        "reassessment": Term("再判定", "Re-assessment"),
        "void": Term("承認の失効", "Approval voided"),
    },
    "checklist_status": {
        "pending": Term("未確認", "Not checked"),
        "met": Term("充足", "Met"),
        "not_met": Term("未充足", "Not met"),
        "not_applicable": Term("該当なし", "Not applicable"),
    },
    "role": {
        "planner": Term("担当職員", "Planner"),
        "reviewer": Term("審査者（AI統括責任者等）", "Reviewer (CAIO or delegate)"),
        "auditor": Term("監査担当者", "Auditor"),
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
        "ismap": Term("ISMAP登録", "ISMAP listed"),
        "ismap_liu": Term("ISMAP-LIU登録", "ISMAP-LIU listed"),
        "not_listed": Term("未登録", "Not listed"),
        "not_applicable": Term("対象外（自組織構築等）", "Not applicable (in-house etc.)"),
    },
    "board_state": {
        "missing": Term("未作成", "Not started"),
        "incomplete": Term("記入中", "Incomplete"),
        "complete": Term("記入済み", "Complete"),
    },
    # Words for things that are not stored codes but must read the same everywhere.
    "concept": {
        "blocking": Term("是正が必要な事項", "Must be corrected"),
        "unclassified": Term("未判定", "Not yet classified"),
        "incident": Term("リスク事案", "Risk incident"),
        "board_report": Term("報告書", "Report"),
    },
}


@dataclass(frozen=True)
class EventType:
    """One audit event type: its words and the payload keys a reader may rely on."""

    code: str
    term: Term
    params: tuple[str, ...] = ()


def _events(*rows: tuple[str, str, str]) -> dict[str, EventType]:
    return {code: EventType(code, Term(ja, en)) for code, ja, en in rows}


#: Every audit event type the app writes (docs/audit-log.md lists them; a test compares).
EVENT_TYPES: dict[str, EventType] = _events(
    ("org.created", "組織を登録", "Organisation created"),
    ("org.pack_set", "使用するルールパックを変更", "Rule pack of the organisation changed"),
    ("user.created", "利用者を登録", "User created"),
    ("user.activated", "利用者を有効化", "User activated"),
    ("user.deactivated", "利用者を無効化", "User deactivated"),
    ("user.password_reset", "パスワードを再設定", "Password reset"),
    ("user.roles_changed", "利用者の役割を変更", "User roles changed"),
    ("user.unlocked", "サインインの制限を解除", "Sign-in lock lifted"),
    ("auth.signed_in", "サインイン", "Signed in"),
    ("auth.failed", "サインインに失敗", "Sign-in failed"),
    ("auth.locked", "サインインを一時制限", "Sign-in locked"),
    ("case.created", "案件を作成", "Case created"),
    ("case.details_saved", "案件情報を保存", "Case details saved"),
    ("case.answers_saved", "回答を保存", "Answers saved"),
    ("case.classified", "リスク区分が変化", "Risk level changed"),
    ("case.checklist_set", "チェック項目を更新", "Checklist item updated"),
    ("case.board_report_saved", "報告書を保存", "Report saved"),
    ("case.submitted", "審査を依頼", "Submitted for review"),
    ("case.returned", "差戻し", "Returned"),
    ("case.approved", "承認", "Approved"),
    ("case.withdrawn", "取下げ", "Withdrawn"),
    ("case.reassessed", "ルールパックで再判定", "Re-assessed under a rule pack"),
    ("approval.voided", "承認の失効", "Approval voided"),
    ("operation.started", "運用を開始", "Operation started"),
    ("operation.updated", "運用内容を変更", "Operation changed"),
    ("operation.reviewed", "定期確認を記録", "Periodic review recorded"),
    ("operation.ended", "運用を終了", "Operation ended"),
    ("incident.created", "リスク事案を記録", "Risk incident recorded"),
    ("incident.updated", "リスク事案を更新", "Risk incident updated"),
    ("incident.closed", "リスク事案の対応を完了", "Risk incident closed"),
    ("pack.installed", "ルールパックを登録", "Rule pack installed"),
)


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
