"""Read-only views of a case shared by the workspace and the review queue.

Answers, checklists, board report, decisions and the audit history, all shown in the user's
language from the case's pack. User-typed text goes through `widgets.plain` or a dataframe
(which never renders markup).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import streamlit as st

from procurement import events
from procurement.services import BOARD_REPORT_FIELDS
from procurement.ui import widgets
from procurement.ui.state import current_actor, event_title, get_services, lang, pick, plain, t, word
from procurement.vocabulary import decision_note

#: How long a tab keeps the names of its organisation's people before reading them again.
NAMES_TTL_SECONDS = 60.0


def display_names() -> dict[str, str]:
    """username -> display name in the signed-in user's organisation (kept for a minute):
    people are named by name on every screen, never by their username."""
    actor = current_actor()
    if actor is None:
        return {}
    cache = st.session_state.get("_names")
    now = time.monotonic()
    if cache is not None and cache[0] == actor.org_id and now - cache[1] < NAMES_TTL_SECONDS:
        return cache[2]
    names = get_services().display_names(actor)
    st.session_state["_names"] = (actor.org_id, now, names)
    return names


def person(username: str | None) -> str:
    """A user named by display name (the username only when the account is unknown here)."""
    if not username:
        return "-"
    return display_names().get(username, username)


def pack_name(pack) -> str:
    """A pack as people name it: its title and edition date (the fingerprint is for details).

    Plain text (no markdown escaping): callers showing it as markdown pass it through `plain`.
    A Japanese title that closes with a bracket takes the date inside it
    (「…（国・第2.0版、2026年6月12日版）」), so brackets do not pile up one after another."""
    title = pick(pack.title)
    edition = widgets.when(pack.edition, False)
    if title.endswith("）"):
        return t("case.pack_name_inside", head=title[:-1], edition=edition)
    return t("case.pack_name", title=title, edition=edition)


def render_header(pack, case, saved_line: bool = True) -> None:
    """Title, status, level (未判定 until answered; red with the count when something blocks),
    who and when (unless `saved_line` is off: the workspace says it beside the step being
    edited), the pack by name, and the purpose of a case."""
    with st.container(key="case_header"):
        _header(pack, case, saved_line)


def _header(pack, case, saved_line: bool) -> None:
    st.title(f"#{case.id} {widgets.plain(case.title)}")
    result = case.classification
    complete = bool(result.complete) if result is not None else case.is_complete
    blocking = len(result.blocking) if result is not None else int(case.has_blocking)
    shown = widgets.shown_level(pack, case.level, complete, blocking)
    line = [
        widgets.badge_markup(word("case_status", case.status),
                             STATUS_COLORS.get(case.status, "gray"), ":material/flag:"),
        widgets.badge_markup(t("result.level", level=shown.text), shown.color, shown.icon),
    ]
    if blocking:
        line.append(widgets.badge_markup(t("case.blocking_count", count=blocking), "red",
                                         ":material/block:"))
    st.markdown(" ".join(line))
    if saved_line:
        st.caption(t("case.meta", department=widgets.plain(case.department),
                     owner=widgets.plain(case.owner_name), pack=widgets.plain(pack_name(pack)),
                     updated=widgets.when(case.updated_at), version=case.version))
    else:
        st.caption(t("case.meta_short", department=widgets.plain(case.department),
                     owner=widgets.plain(case.owner_name), pack=widgets.plain(pack_name(pack))))
    if case.purpose:
        # The reviewer judges the case against what it is for; the planner sees it on every step.
        st.markdown(f"**{t('intake.purpose')}**: {widgets.plain(case.purpose)}")
    if not case.pack_matches:
        st.warning(t("case.pack_changed"))


STATUS_COLORS: dict[str, widgets.BadgeColor] = {
    "draft": "gray", "submitted": "blue", "returned": "orange", "approved": "green",
    "withdrawn": "gray", "in_operation": "violet", "retired": "gray",
}


def last_decision(case, kind: str):
    """The newest decision of `kind` on the case, or None."""
    return next((d for d in reversed(case.decisions) if d.kind == kind), None)


def render_return_notice(case) -> None:
    """The reviewer's comment, shown to the planner while the case is returned."""
    if case.status != "returned":
        return
    decision = last_decision(case, "return")
    if decision is None:
        return
    st.warning(
        t("case.returned_by", reviewer=widgets.plain(person(decision.actor)),
          time=widgets.when(decision.created_at))
        + "  \n" + widgets.plain(decision.comment),
        icon=":material/undo:",
    )


def render_answers(pack, case) -> None:
    """Every applicable question with its answer (or a 'not answered' mark), by step."""
    result = case.classification
    applicable = set(result.applicable_questions) if result is not None else set(case.answers)
    rows = []
    for q in pack.questions:
        if q.id not in applicable and q.id not in case.answers:
            continue
        value = case.answers.get(q.id)
        # Short columns first, so the answer stays visible in a narrow column.
        rows.append({
            t("checklist.col_no"): q.id,
            t("review.col_answer"): widgets.option_label(pack, q.id, value) if value is not None
            else t("review.not_answered"),
            t("review.col_question"): pick(q.text),
            t("review.col_step"): widgets.step_title(pack, q.step),
            t("review.col_provenance"): widgets.provenance_label(q.provenance),
        })
    st.dataframe(pd.DataFrame(rows), hide_index=True)


def checklist_rows(pack, case, checklist) -> list[dict[str, Any]]:
    """One row per applicable item: number, status, required or recommended and why, evidence,
    text, category."""
    result = case.classification
    required = set(result.required_items) if result is not None else set()
    recommended = set(result.recommended_items) if result is not None else set()
    rows = []
    for item in checklist.items:
        if item.id not in required and item.id not in recommended:
            continue
        entry = case.checklist.get(item.id)
        need, why = widgets.item_need(pack, item, required, recommended)
        rows.append({
            t("checklist.col_no"): item.id,
            t("checklist.col_status"): word("checklist_status", entry.status if entry else "pending"),
            t("checklist.col_need"): need,
            t("checklist.col_evidence"): entry.evidence if entry else "",
            t("checklist.col_item"): pick(item.text),
            t("checklist.col_why"): why,
            t("checklist.col_category"): category_label(item.category),
        })
    return rows


def category_label(category: str) -> str:
    """A checklist category id as text (translated when the catalogs know it)."""
    key = f"category.{category}"
    text = t(key)
    return category if text == key else text


def render_checklists(pack, case) -> None:
    """Every checklist's applicable items with status and evidence."""
    for checklist in pack.checklists:
        rows = checklist_rows(pack, case, checklist)
        if not rows:
            continue
        st.markdown(f"**{plain(pick(checklist.title))}**")
        st.dataframe(pd.DataFrame(rows), hide_index=True)


def render_board_report(case) -> None:
    """The board report's fields as stored (or a note that there is none)."""
    if case.board_report is None:
        st.caption(t("board.none"))
        return
    for name in BOARD_REPORT_FIELDS:
        st.markdown(f"**{word('board_field', name)}**")
        st.text(case.board_report.get(name) or "-")


def render_decisions(case) -> None:
    """Submissions, returns, approvals with their comments, newest last. A void's comment is its
    reason, a re-assessment's the pack it moved to: both shown in words."""
    rows = [
        {
            t("history.col_time"): widgets.when(d.created_at),
            t("history.col_actor"): person(d.actor),
            t("history.col_decision"): word("decision", d.kind),
            t("history.col_comment"): decision_note(d.kind, d.comment, lang(),
                                                    pack=f"{d.pack_id}@{d.pack_version}"),
        }
        for d in case.decisions
        if d.kind != "classification"
    ]
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True)
    else:
        st.caption(t("history.no_decisions"))


def event_details(pack, event) -> str:
    """A one-line, readable account of what an audit event changed (`procurement.events`)."""
    return events.describe_event(event.event_type, event.payload, lang(), pack=pack)


def render_history(svc, actor, pack, case) -> None:
    """The case's audit events, oldest first, in readable form (Japan time, people by
    name)."""
    events = svc.case_history(actor, case.id)
    if not events:
        st.caption(t("history.empty"))
        return
    rows = [
        {
            t("history.col_seq"): e.seq,
            t("history.col_time"): widgets.when(e.occurred_at),
            t("history.col_actor"): person(e.actor),
            t("history.col_event"): event_title(e.event_type),
            t("history.col_details"): event_details(pack, e),
        }
        for e in events
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key=f"history_{case.id}")
    st.caption(t("history.chain_note"))


# --- the print view --------------------------------------------------------------------------


def _table(rows: list[dict[str, Any]]) -> None:
    """A static table (prints whole, unlike a scrolling grid); cells are escaped text."""
    st.table(pd.DataFrame([{k: plain(v) for k, v in row.items()} for row in rows]),
             hide_index=True)


def render_print(pack, case, printed_by: str = "") -> None:
    """The whole case on one page for printing on A4 (`@media print` in `procurement.ui.style`
    hides the app around it): what it is, the result and why, every answer, every checklist,
    the report and the decisions. Tables are static, so nothing is cut off on paper."""
    render_header(pack, case)
    st.caption(t("print.printed", time=widgets.when(datetime.now(UTC)),
                 who=plain(printed_by or "-")))
    result = case.classification
    if result is None:
        return
    with st.container(key="print_result"):
        st.subheader(t("result.title"), anchor=False)
        shown = widgets.shown_level(pack, case.level, result.complete, len(result.blocking))
        st.markdown(f"**{t('result.level', level=plain(shown.text))}**")
        level = next((lv for lv in pack.levels if lv.id == result.level), None)
        if level is not None and result.complete:
            if pick(level.help):
                st.markdown(f"{t('result.meaning')}: {plain(pick(level.help))}")
            if pick(getattr(level, "next_steps", None)):
                st.markdown(f"{t('result.next_steps')}: {plain(pick(level.next_steps))}")
        for finding in result.blocking:
            st.markdown(f"- {word('concept', 'blocking')}: {plain(pick(finding.message))}")
        for reason in (r for r in result.reasons if r.level == result.level):
            st.markdown(f"- {plain(pick(reason.message))}")
    st.subheader(t("print.answers"), anchor=False)
    applicable = set(result.applicable_questions)
    rows = []
    for q in pack.questions:
        if q.id not in applicable and q.id not in case.answers:
            continue
        value = case.answers.get(q.id)
        rows.append({
            t("checklist.col_no"): q.id,
            t("review.col_question"): pick(q.text),
            t("review.col_answer"): widgets.option_label(pack, q.id, value)
            if value is not None else t("review.not_answered"),
        })
    if rows:
        _table(rows)
    for checklist in pack.checklists:
        rows = checklist_rows(pack, case, checklist)
        if not rows:
            continue
        st.subheader(plain(pick(checklist.title)), anchor=False)
        keep = (t("checklist.col_no"), t("checklist.col_item"), t("checklist.col_need"),
                t("checklist.col_status"), t("checklist.col_evidence"))
        _table([{k: row[k] for k in keep} for row in rows])
    if pack.report_steps(result) or case.board_report:
        st.subheader(plain(pick(pack.report_steps(result)[0].title)) if pack.report_steps(result)
                     else t("print.report"), anchor=False)
        report = case.board_report or {}
        _table([{t("print.field"): word("board_field", name),
                 t("print.content"): report.get(name) or t("board.empty")}
                for name in BOARD_REPORT_FIELDS])
    decisions = [d for d in case.decisions if d.kind != "classification"]
    if decisions:
        st.subheader(t("review.decisions"), anchor=False)
        _table([{t("history.col_time"): widgets.when(d.created_at),
                 t("history.col_actor"): person(d.actor),
                 t("history.col_decision"): word("decision", d.kind),
                 t("history.col_comment"): decision_note(d.kind, d.comment, lang(),
                                                         pack=f"{d.pack_id}@{d.pack_version}")}
                for d in decisions])
