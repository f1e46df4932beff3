"""Read-only views of a case shared by the workspace and the review queue.

Answers, checklists, board report, decisions and the audit history, all shown in the user's
language from the case's pack. User-typed text goes through `widgets.plain` or a dataframe
(which never renders markup).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from procurement import events
from procurement.services import BOARD_REPORT_FIELDS
from procurement.ui import widgets
from procurement.ui.state import event_title, format_jst, lang, pick, t, word
from procurement.vocabulary import decision_note


def render_header(pack, case) -> None:
    """Title, status, level and pack of a case."""
    st.title(f"#{case.id} {widgets.plain(case.title)}")
    with st.container(horizontal=True):
        st.badge(word("case_status", case.status), color=STATUS_COLORS.get(case.status, "gray"),
                 icon=":material/flag:")
        widgets.level_badge(pack, case.level)
    st.caption(t("case.meta", department=widgets.plain(case.department),
                 owner=widgets.plain(case.owner_name),
                      pack=case.pack_ref, updated=format_jst(case.updated_at), version=case.version))
    if case.purpose:
        # The reviewer judges the case against what it is for; the planner sees it on every step.
        st.markdown(f"**{t('intake.purpose')}**: {widgets.plain(case.purpose)}")
    if not case.pack_matches:
        st.warning(t("case.pack_changed"))


STATUS_COLORS = {
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
        t("case.returned_by", reviewer=widgets.plain(decision.actor), time=format_jst(decision.created_at))
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
            "ID": q.id,
            t("review.col_answer"): widgets.option_label(pack, q.id, value) if value is not None
            else t("review.not_answered"),
            t("review.col_question"): pick(q.text),
            t("review.col_step"): widgets.step_title(pack, q.step),
            t("review.col_provenance"): widgets.provenance_label(q.provenance),
        })
    st.dataframe(pd.DataFrame(rows), hide_index=True)


def checklist_rows(pack, case, checklist) -> list[dict[str, Any]]:
    result = case.classification
    required = set(result.required_items) if result is not None else set()
    recommended = set(result.recommended_items) if result is not None else set()
    rows = []
    for item in checklist.items:
        if item.id not in required and item.id not in recommended:
            continue
        entry = case.checklist.get(item.id)
        rows.append({
            "ID": item.id,
            t("checklist.col_status"): word("checklist_status", entry.status if entry else "pending"),
            t("checklist.col_need"): t("checklist.required") if item.id in required
            else t("checklist.recommended"),
            t("checklist.col_evidence"): entry.evidence if entry else "",
            t("checklist.col_item"): pick(item.text),
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
        st.markdown(f"**{pick(checklist.title)}**")
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
            t("history.col_time"): format_jst(d.created_at),
            t("history.col_actor"): d.actor,
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
    """The case's audit events, oldest first, in readable form (JST)."""
    events = svc.case_history(actor, case.id)
    if not events:
        st.caption(t("history.empty"))
        return
    rows = [
        {
            t("history.col_seq"): e.seq,
            t("history.col_time"): format_jst(e.occurred_at),
            t("history.col_actor"): e.actor,
            t("history.col_event"): event_title(e.event_type),
            t("history.col_details"): event_details(pack, e),
        }
        for e in events
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key=f"history_{case.id}")
    st.caption(t("history.chain_note"))
