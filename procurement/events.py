"""Audit events in words: what an event is called and what its payload says, in ja or en.

The case history on screen and the periodic report's list of changes both describe events
here, so one event reads the same everywhere. Codes in a payload (statuses, checklist statuses,
severities, ISMAP listings, void reasons, field names) are named with `procurement.vocabulary`
words, levels and answers with the labels of the case's pack when it is known; text a person
typed is shown as typed (shortened to one line). A payload is never shown as JSON, and an
event type the registry does not know gets no details rather than English ones.

    event_title("case.checklist_set", "ja")                           -> "チェックリスト項目を更新"
    describe_event("case.checklist_set", payload, "ja", pack=pack)
        -> "チェックリスト項目 PC-G1: 未確認 → 充足（仕様書 3.2 節）"
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from procurement import fiscal
from procurement.vocabulary import (
    EVENT_TYPES,
    TERMS,
    Term,
    describe_void_reason,
    event_word,
    ismap_text,
    word,
)

#: Sentences of the details, per language (fields filled with words already translated).
PHRASES: dict[str, Term] = {
    "other_event": Term("その他の記録（{type}）", "Other record ({type})"),
    "none": Term("（なし）", "(none)"),
    "yes": Term("はい", "Yes"),
    "no": Term("いいえ", "No"),
    "list_sep": Term("、", ", "),
    "created": Term("件名「{title}」、{level_word}: {level}", "title “{title}”, {level_word}: {level}"),
    "checklist": Term("{item_word} {item}: {old} → {new}", "{item_word} {item}: {old} → {new}"),
    "evidence": Term("{status}（{evidence}）", "{status} ({evidence})"),
    "reassessed": Term("{old} → {new}（{level_word}: {old_level} → {new_level}）",
                       "{old} → {new} ({level_word}: {old_level} → {new_level})"),
    "board_saved": Term("{board}: {fields}", "{board}: {fields}"),
    "resumed": Term("運用を再開", "operation resumed"),
    "incident": Term("事案 #{id}", "incident #{id}"),
    "org": Term("{name}（{code}、{kind}）", "{name} ({code}, {kind})"),
    "user": Term("{display_name}（{username}）: {roles}", "{display_name} ({username}): {roles}"),
    "failed": Term("{username}（連続 {count} 回目）", "{username} (failure {count} in a row)"),
    "locked": Term("{username}（{until} まで）", "{username} (until {until})"),
    "pinned": Term("版を固定", "version pinned"),
    "by_date": Term("施行日に応じた国の版", "national edition in force"),
}


def _phrase(key: str, lang: str, **params: Any) -> str:
    template = PHRASES[key].in_(lang)
    return template.format(**params) if params else template


def event_title(event_type: str, lang: str = "ja") -> str:
    """The event type in words; a type the registry does not know is named as such."""
    if event_type in EVENT_TYPES:
        return event_word(event_type, lang)
    return _phrase("other_event", lang, type=event_type)


# --------------------------------------------------------------------------- values


def _pick(texts: Any, lang: str) -> str:
    if isinstance(texts, Mapping):
        return str(texts.get(lang) or texts.get("ja") or "")
    return str(texts or "")


def level_label(pack: Any, level_id: str | None, lang: str = "ja",
                levels: Mapping[str, str] | None = None) -> str:
    """A level id in words: the pack's label, else `levels[id]`, else the id; none yet is
    "not yet classified"."""
    if not level_id:
        return word("concept", "unclassified", lang)
    for lv in getattr(pack, "levels", None) or ():
        if lv.id == level_id:
            return _pick(lv.label, lang)
    if levels and level_id in levels:
        return levels[level_id]
    return level_id


def option_label(pack: Any, question_id: str, value: Any, lang: str = "ja") -> str:
    """An answer in words: the label of the chosen option(s) in the pack, else the value."""
    if value is None:
        return "-"
    options: dict[Any, str] = {}
    for q in getattr(pack, "questions", None) or ():
        if q.id == question_id:
            options = {o.value: _pick(o.label, lang) for o in q.options}
            break
    values = value if isinstance(value, list) else [value]
    return _phrase("list_sep", lang).join(
        options.get(v, str(v)) if isinstance(v, (str, int, float, bool)) else str(v)
        for v in values)


def short(value: Any, limit: int = 60) -> str:
    """A stored text on one line, cut with an ellipsis (a history line is a one-line account)."""
    text = " ".join(str(value if value is not None else "").split())
    if not text:
        return "-"
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _moment(value: Any) -> str:
    """An ISO timestamp of a payload in JST, or the text as it is."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return short(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return fiscal.to_jst(moment).strftime("%Y-%m-%d %H:%M JST")


def field_value(name: str, value: Any, lang: str = "ja") -> str:
    """A payload value of a record field in words (codes translated, timestamps in JST)."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return _phrase("yes" if value else "no", lang)
    if name == "severity":
        return word("severity", str(value), lang)
    if name == "status":
        return word("incident_status", str(value), lang)
    if name == "ismap_listing":
        return ismap_text(str(value), lang)
    if name.endswith("_at"):
        return _moment(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return short(value)


def _field(name: str, lang: str) -> str:
    return word("record_field", name, lang)


def _fields(payload: Mapping[str, Any], names: tuple[str, ...], lang: str) -> list[str]:
    return [f"{_field(n, lang)}: {field_value(n, payload[n], lang)}"
            for n in names if payload.get(n) not in (None, "")]


def _changes(old: Mapping[str, Any], new: Mapping[str, Any], lang: str) -> list[str]:
    return [f"{_field(n, lang)}: {field_value(n, old.get(n), lang)} → "
            f"{field_value(n, new.get(n), lang)}" for n in new]


def _status(value: Any, lang: str) -> str:
    return word("case_status", value, lang) if value else "-"


def _checklist_state(value: Any, lang: str) -> str:
    """A checklist item's stored state ({status, evidence}; none yet means not checked)."""
    if not isinstance(value, Mapping):
        return word("checklist_status", "pending", lang)
    status = word("checklist_status", value.get("status") or "pending", lang)
    evidence = short(value.get("evidence"), 40) if value.get("evidence") else ""
    return _phrase("evidence", lang, status=status, evidence=evidence) if evidence else status


# --------------------------------------------------------------------------- details


Describer = Callable[[Mapping[str, Any], str, Any, Mapping[str, str] | None], list[str]]


def _case_created(p, lang, pack, levels):
    return [_phrase("created", lang, title=short(p.get("title")),
                    level_word=word("concept", "level", lang),
                    level=level_label(pack, p.get("level"), lang, levels))]


def _details_saved(p, lang, pack, levels):
    changes = p.get("changes") or {}
    return [f"{_field(name, lang)}: {short(ch.get('old'))} → {short(ch.get('new'))}"
            for name, ch in changes.items() if isinstance(ch, Mapping)]


def _answers_saved(p, lang, pack, levels):
    changes = p.get("changes") or {}
    return [f"{qid}: {option_label(pack, qid, ch.get('old'), lang)} → "
            f"{option_label(pack, qid, ch.get('new'), lang)}"
            for qid, ch in changes.items() if isinstance(ch, Mapping)]


def _classified(p, lang, pack, levels):
    old = level_label(pack, p.get("old"), lang, levels)
    return [f"{old} → {level_label(pack, p.get('new'), lang, levels)}"]


def _checklist_set(p, lang, pack, levels):
    return [_phrase("checklist", lang, item_word=word("concept", "checklist_item", lang),
                    item=p.get("item_id", "-"), old=_checklist_state(p.get("old"), lang),
                    new=_checklist_state(p.get("new"), lang))]


def _board_saved(p, lang, pack, levels):
    changed = p.get("changes") or {}
    order = list(TERMS["board_field"])  # the report's own order, not the payload's
    names = [word("board_field", name, lang)
             for name in sorted(changed, key=lambda n: (order.index(n) if n in order else 99, n))]
    return [_phrase("board_saved", lang, board=word("concept", "board_report", lang),
                    fields=_phrase("list_sep", lang).join(names))]


def _transition(p, lang, pack, levels):
    text = f"{_status(p.get('old_status'), lang)} → {_status(p.get('new_status'), lang)}"
    return [f"{text}: {short(p['comment'], 200)}" if p.get("comment") else text]


def _reassessed(p, lang, pack, levels):
    text = _phrase("reassessed", lang, old=p.get("old_pack", "-"), new=p.get("new_pack", "-"),
                   level_word=word("concept", "level", lang),
                   old_level=level_label(pack, p.get("old_level"), lang, levels),
                   new_level=level_label(pack, p.get("new_level"), lang, levels))
    return [f"{text}: {short(p['comment'], 200)}" if p.get("comment") else text]


def _voided(p, lang, pack, levels):
    return [describe_void_reason(p.get("reason"), lang)]


def _operation_started(p, lang, pack, levels):
    head = [_phrase("resumed", lang)] if p.get("resumed") else []
    return head + _fields(p, ("started_on", "vendor", "model_name", "model_version",
                              "ismap_listing", "review_interval_months"), lang)


def _operation_updated(p, lang, pack, levels):
    old, new = p.get("old") or {}, p.get("new") or {}
    return _changes(old, new, lang) + _fields(p, ("note",), lang)


def _operation_reviewed(p, lang, pack, levels):
    return _fields(p, ("reviewed_on", "note"), lang)


def _operation_ended(p, lang, pack, levels):
    return _fields(p, ("ended_on", "end_evidence"), lang)


def _incident(p, lang) -> str:
    return _phrase("incident", lang, id=p.get("incident_id", "-"))


def _incident_created(p, lang, pack, levels):
    return [_incident(p, lang)] + _fields(p, ("severity", "occurred_on", "description"), lang)


def _incident_updated(p, lang, pack, levels):
    return [_incident(p, lang)] + _changes(p.get("old") or {}, p.get("new") or {}, lang)


def _incident_closed(p, lang, pack, levels):
    return [_incident(p, lang)] + _fields(p, ("actions_taken", "comment"), lang)


def _org_created(p, lang, pack, levels):
    return [_phrase("org", lang, name=short(p.get("name")), code=p.get("code", "-"),
                    kind=word("org_kind", p.get("kind"), lang))]


def _org_pack_set(p, lang, pack, levels):
    def ref(value: Any) -> str:
        return str(value) if value else _phrase("by_date", lang)

    text = f"{ref(p.get('old'))} → {ref(p.get('new'))}"
    return [text] + ([_phrase("pinned", lang)] if p.get("reason") == "pinned" else [])


def _user_created(p, lang, pack, levels):
    roles = _phrase("list_sep", lang).join(word("role", r, lang) for r in p.get("roles") or ())
    return [_phrase("user", lang, display_name=short(p.get("display_name")),
                    username=p.get("username", "-"), roles=roles)]


def _username(p, lang, pack, levels):
    return [str(p.get("username", "-"))]


def _roles_changed(p, lang, pack, levels):
    def names(roles):
        return _phrase("list_sep", lang).join(word("role", r, lang) for r in roles or ()) or "-"
    return [f"{p.get('username', '-')}: {names(p.get('old'))} → {names(p.get('new'))}"]


def _email_set(p, lang, pack, levels):
    return [f"{p.get('username', '-')}: {p.get('old') or '-'} → {p.get('new') or '-'}"]


def _auth_failed(p, lang, pack, levels):
    return [_phrase("failed", lang, username=p.get("username", "-"),
                    count=p.get("failed_logins", "-"))]


def _auth_locked(p, lang, pack, levels):
    return [_phrase("locked", lang, username=p.get("username", "-"),
                    until=_moment(p.get("locked_until")))]


def _consultation_recorded(p, lang, pack, levels):
    step_id = str(p.get("step") or "-")
    title = step_id
    for step in getattr(pack, "steps", None) or ():
        if step.id == step_id:
            title = _pick(step.title, lang) or step_id
            break
    parts = [title, f"{_field('reported_on', lang)}: {field_value('reported_on', p.get('reported_on'), lang)}"]
    if p.get("advice"):
        parts.append(f"{_field('advice', lang)}: {word('consultation_advice', p['advice'], lang)}")
    return parts + _fields(p, ("note",), lang)


def _pack_installed(p, lang, pack, levels):
    return [str(p.get("pack", "-"))]


#: event type -> its describer (every registered type has one; a test checks).
DESCRIBERS: dict[str, Describer] = {
    "org.created": _org_created,
    "org.pack_set": _org_pack_set,
    "user.created": _user_created,
    "user.activated": _username,
    "user.deactivated": _username,
    "user.password_reset": _username,
    "user.unlocked": _username,
    "user.roles_changed": _roles_changed,
    "user.email_set": _email_set,
    "auth.signed_in": _username,
    "auth.failed": _auth_failed,
    "auth.locked": _auth_locked,
    "case.created": _case_created,
    "case.details_saved": _details_saved,
    "case.answers_saved": _answers_saved,
    "case.classified": _classified,
    "case.checklist_set": _checklist_set,
    "case.board_report_saved": _board_saved,
    "case.consultation_recorded": _consultation_recorded,
    "case.submitted": _transition,
    "case.returned": _transition,
    "case.approved": _transition,
    "case.withdrawn": _transition,
    "case.reassessed": _reassessed,
    "approval.voided": _voided,
    "operation.started": _operation_started,
    "operation.updated": _operation_updated,
    "operation.reviewed": _operation_reviewed,
    "operation.ended": _operation_ended,
    "incident.created": _incident_created,
    "incident.updated": _incident_updated,
    "incident.closed": _incident_closed,
    "pack.installed": _pack_installed,
}


def describe_event(event_type: str, payload: Mapping[str, Any] | None, lang: str = "ja", *,
                   pack: Any = None, levels: Mapping[str, str] | None = None) -> str:
    """A one-line account of what an audit event recorded, in `lang`.

    `pack` (the case's pack, when known) gives levels and answers their labels; `levels`
    (level id -> label) is the fallback for levels. An unknown event type gets "".
    """
    describer = DESCRIBERS.get(event_type)
    if describer is None or not isinstance(payload, Mapping):
        return ""
    parts = [part for part in describer(payload, lang, pack, levels) if part]
    return ("; " if lang == "en" else "／").join(parts)
