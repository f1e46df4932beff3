"""The text of each message: a short Japanese subject and body with the case's link.

Pure functions (no database, no settings): the outbox stores what they return, so a message reads
the same whichever process sends it. Text a person typed (the case title, a department) is
single-line already (`procurement.records.checks` refuses line breaks there), so it cannot add
header lines; the subject is cut to the column size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from procurement.vocabulary import word

#: The subject's prefix, so that a recipient's mail rules can sort the messages.
PREFIX = "【生成AI調達】"
SUBJECT_MAX_LENGTH = 300
SIGNATURE = "このメールは生成AI調達・利活用ガイドのアプリから自動で送信しています。返信はできません。"


@dataclass(frozen=True)
class CaseFacts:
    """What a message says about a case."""

    case_id: int
    title: str
    department: str
    level: str  # the level's label in Japanese (from the case's pack)
    link: str | None  # `<base>/workspace?case=N`, or None when no base URL is configured


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def _subject(text: str) -> str:
    subject = PREFIX + " ".join(text.split())
    return subject if len(subject) <= SUBJECT_MAX_LENGTH else subject[:SUBJECT_MAX_LENGTH - 1] + "…"


def _case_lines(case: CaseFacts) -> list[str]:
    lines = [
        f"案件: #{case.case_id} {case.title}",
        f"{word('record_field', 'department')}: {case.department}",
        f"{word('concept', 'level')}: {case.level}",
        "",
    ]
    if case.link:
        lines += ["次のリンクから案件を開いてください（サインインが必要です）。", case.link]
    else:
        lines += [f"アプリにサインインし、案件一覧から案件 #{case.case_id} を開いてください。"]
    return lines


def _body(greeting: str, lead: str, case: CaseFacts, extra: list[str] | None = None) -> str:
    lines = [greeting, "", lead, "", *_case_lines(case)]
    if extra:
        lines += ["", *extra]
    lines += ["", "--", SIGNATURE]
    return "\n".join(lines) + "\n"


def submitted(case: CaseFacts, by: str, resubmitted: bool) -> Message:
    """To the organisation's reviewers: a case waits for their review."""
    verb = "再提出しました" if resubmitted else "提出しました"
    return Message(
        _subject(f"{word('notification_kind', 'case_submitted')}: #{case.case_id} {case.title}"),
        _body("審査者 各位", f"{by} さんが次の案件を審査に{verb}。", case))


def returned(case: CaseFacts, by: str, to: str) -> Message:
    """To the case's planner: the reviewer returned it (the comment is read in the app)."""
    return Message(
        _subject(f"{word('case_status', 'returned')}: #{case.case_id} {case.title}"),
        _body(f"{to} 様", f"{by} さんが次の案件を差し戻しました。直す点はアプリで案件を開くと"
                          "表示されます。", case))


def approved(case: CaseFacts, by: str, to: str) -> Message:
    """To the case's planner: the case was approved."""
    return Message(
        _subject(f"{word('decision', 'approval')}: #{case.case_id} {case.title}"),
        _body(f"{to} 様", f"{by} さんが次の案件を承認しました。", case))


def review_due(case: CaseFacts, due: date, to: str) -> Message:
    """To the planner and the reviewers: a system's periodic review falls due."""
    return Message(
        _subject(f"{word('notification_kind', 'review_due')}（{jp_date(due)}）: "
                 f"#{case.case_id} {case.title}"),
        _body(f"{to} 様", f"運用中の次のシステムは、{jp_date(due)}が定期確認の期限です。"
                          "確認を行い、アプリに記録してください。", case))


def trial_message(to: str) -> Message:
    """The message of `procurement notify test`: proves that sending works."""
    lead = ("生成AI調達・利活用ガイドからの試験送信です。このメールが届いていれば、"
            "通知の送信設定は正しく動いています。")
    lines = [f"{to} 様", "", lead, "", "--", SIGNATURE]
    return Message(_subject("通知の試験送信"), "\n".join(lines) + "\n")


def jp_date(day: date) -> str:
    """A date as Japanese readers write it: 2026年12月1日."""
    return f"{day.year}年{day.month}月{day.day}日"
