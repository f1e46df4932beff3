"""The reviewer's desk (審査): the inbox of submitted cases, one case laid out for reading, and
the decision: approve with intent, or return with a comment.

The inbox lists the organisation's submitted cases longest waiting first, with level, who
submitted them, for how long they wait, whether they come back, and why this reviewer may not
approve one (four eyes). A case opens (`?case=N` works too) as a document to read top down: on a
resubmission what changed since it was returned, the contradictions the pack's consistency rules
find, the summary, every question and answer in full, why it got its level, the checklists with
the item text first, the report, and the history at the bottom. Approving first records the
consultations the case's pack asks for (`Services.record_consultation`), then asks for
confirmation naming the level and the pack by title and edition.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd
import streamlit as st

from procurement import events
from procurement.db.models import BOARD_REPORT_FIELDS
from procurement.errors import ProcurementError
from procurement.fiscal import to_jst
from procurement.packs import check_consistency
from procurement.records import readiness
from procurement.records.consultations import ADVICE, NOTE_MAX_LENGTH
from procurement.ui import case_views, style, widgets
from procurement.ui.state import (
    callback,
    flash,
    format_jst,
    get_services,
    lang,
    pick,
    plain,
    run_page,
    t,
    word,
    words,
)

#: Session keys: the case open for review, the approval awaiting confirmation (case id and
#: version), the comment, and the inbox's case ids in table order (for the row selection).
PICK_KEY = "review_case"
CONFIRM_KEY = "review_confirm"
COMMENT_KEY = "review_comment"
ROWS_KEY = "review_inbox_ids"
TABLE_KEY = "review_inbox"


# --------------------------------------------------------------------------- helpers


def day_text(value: date | datetime | None) -> str:
    """A day as the reader writes it: 2026年11月30日 in Japanese, 2026-11-30 in English; a
    timestamp is taken in JST."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        value = to_jst(value).date()
    return value.isoformat() if lang() == "en" else f"{value.year}年{value.month}月{value.day}日"


def pack_text(pack) -> str:
    """The pack by title and edition, e.g. 生成AIの…（バージョン 2.0.0、2026年6月12日版）."""
    return t("review.pack_text", title=pick(pack.title), version=pack.version,
             edition=day_text(pack.edition))


def resolve_pack(svc, pack_id: str, version: str):
    """The exact pack of a case, or None when it is no longer installed."""
    try:
        return svc.registry.resolve(f"{pack_id}@{version}")
    except ProcurementError:
        return None


def _table(rows: list[dict[str, Any]]) -> None:
    """A table that shows every cell in full, wrapped (st.table renders Markdown: every cell goes
    through `plain`)."""
    st.table(pd.DataFrame([{k: plain(v) for k, v in row.items()} for row in rows]),
             hide_index=True)


def open_case(case_id: int) -> None:
    st.session_state[PICK_KEY] = case_id
    st.session_state.pop(CONFIRM_KEY, None)
    st.session_state.pop(COMMENT_KEY, None)
    st.query_params["case"] = str(case_id)


def close_case() -> None:
    for key in (PICK_KEY, CONFIRM_KEY, COMMENT_KEY):
        st.session_state.pop(key, None)
    st.query_params.pop("case", None)


@callback
def _row_selected() -> None:
    """A row picked in the inbox table opens its case."""
    selection = st.session_state.get(TABLE_KEY)
    rows = list(getattr(getattr(selection, "selection", None), "rows", None) or [])
    ids = st.session_state.get(ROWS_KEY) or []
    if rows and rows[0] < len(ids):
        open_case(ids[rows[0]])


# --------------------------------------------------------------------------- the inbox

#: The inbox's columns in screen order: what decides the order (days waiting) and what a
#: reviewer reads first (level, title, and why they may not approve a case, shown only when a
#: case is blocked) fit the table of a 1024 px window without scrolling sideways (the title
#: gives way, down to `TITLE_AT_LEAST` pixels); the case number comes last.
INBOX_COLUMNS = ("days", "level", "title", "conflict", "round", "submitted", "submitter",
                 "department", "case")
TITLE_AT_LEAST = 160
SELECT_WIDTH = 32  # the row selection's check box


def render_inbox(svc, actor) -> None:
    st.title(t("review.heading"))
    entries = svc.review_inbox(actor)
    if not entries:
        st.info(t("review.empty"))
        return
    st.caption(t("review.inbox_caption", count=len(entries)))
    blocked = sum(1 for e in entries if e.conflict)
    if blocked:
        st.info(t("review.inbox_blocked", count=blocked), icon=":material/group:")
    rows = []
    for e in entries:
        pack = resolve_pack(svc, e.pack_id, e.pack_version)
        rows.append({
            "days": e.days_waiting,
            "level": widgets.level_label(pack, e.level) if pack else (e.level or "-"),
            "title": e.title,
            "round": word("concept", "resubmission" if e.resubmission else "first_submission"),
            "submitter": e.submitted_by,
            "department": e.department,
            "submitted": day_text(e.submitted_at),
            "case": e.case_id,
            "conflict": word("four_eyes", e.conflict) if e.conflict else "",
        })
    # The column only when a case is blocked, so that the table fits the screen.
    names = INBOX_COLUMNS if blocked else tuple(n for n in INBOX_COLUMNS if n != "conflict")
    headings = {name: t(f"review.col_{name}") for name in names}
    widths = {name: widgets.column_width(headings[name], (row[name] for row in rows))
              for name in names}
    room = style.TABLE_WIDTH_AT_1024 - SELECT_WIDTH - sum(
        widths[n] for n in ("days", "level", "conflict") if n in names)
    widths["title"] = max(TITLE_AT_LEAST, min(widths["title"], room))
    st.session_state[ROWS_KEY] = [e.case_id for e in entries]
    # st.dataframe shows cells as text (no markup); a picked row opens its case.
    config = {headings[name]: (st.column_config.NumberColumn(width=widths[name], format="%d")
                               if name in ("days", "case")
                               else st.column_config.TextColumn(width=widths[name]))
              for name in names}
    st.dataframe(pd.DataFrame([{headings[n]: row[n] for n in names} for row in rows]),
                 hide_index=True, key=TABLE_KEY, on_select=_row_selected,
                 selection_mode="single-row", column_config=config, width="stretch")
    # A selectbox shows its options as plain text (not markdown): the title as typed.
    labels = {e.case_id: f"#{e.case_id} {e.title}（{day_text(e.submitted_at)}）"
              if lang() == "ja" else f"#{e.case_id} {e.title} ({day_text(e.submitted_at)})"
              for e in entries}
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    picked = left.selectbox(t("review.open_pick"), list(labels), key="review_open_pick",
                            format_func=labels.__getitem__)
    if right.button(t("review.open"), key="review_open", type="primary",
                    icon=":material/fact_check:"):
        open_case(picked)
        st.rerun()


# --------------------------------------------------------------------------- one case


def render_summary(svc, actor, pack, case, entry) -> None:
    st.title(f"#{case.id} {plain(case.title)}")
    with st.container(horizontal=True):
        st.badge(word("case_status", case.status),
                 color=case_views.STATUS_COLORS.get(case.status, "gray"), icon=":material/flag:")
        widgets.level_badge(pack, case.level)
        if entry is not None:
            st.badge(word("concept", "resubmission" if entry.resubmission
                          else "first_submission"), color="blue", icon=":material/replay:")
    rows = [
        (t("review.col_department"), case.department),
        (t("review.sum_owner"), case.owner_name),
    ]
    if entry is not None:
        rows += [(t("review.col_submitter"), entry.submitted_by),
                 (t("review.col_submitted"), day_text(entry.submitted_at)),
                 (t("review.col_days"), t("review.days", days=entry.days_waiting))]
    rows += [(t("review.sum_pack"), pack_text(pack))]
    if case.purpose:
        rows.append((word("record_field", "purpose"), case.purpose))
    _table([{t("review.col_item"): k, t("review.col_value"): v} for k, v in rows])
    if not case.pack_matches:
        st.warning(t("case.pack_changed"))


def change_value(pack, change, value: Any) -> str:
    """One side of a change in words: an answer's option label, an item's status and evidence,
    a text as written."""
    if change.kind == "answer":
        return "-" if value is None else events.option_label(pack, change.key, value, lang())
    if change.kind == "item":
        if not isinstance(value, dict):
            return word("checklist_status", "pending")
        status = word("checklist_status", value.get("status") or "pending")
        evidence = (value.get("evidence") or "").strip()
        return f"{status}（{evidence}）" if evidence and lang() == "ja" else (
            f"{status} ({evidence})" if evidence else status)
    return str(value) if value not in (None, "") else "-"


def change_subject(pack, change) -> str:
    if change.kind == "answer":
        return widgets.question_title(pack, change.key)
    if change.kind == "item":
        return widgets.item_title(pack, change.key)
    if change.kind == "board":
        return word("board_field", change.key)
    return word("record_field", change.key)


def render_changes(svc, actor, pack, case) -> None:
    """On a resubmission: what changed since the return, on top of everything else."""
    since = svc.changes_since_last_return(actor, case.id)
    if since is None:
        return
    with st.container(border=True, key="review_changes"):
        st.subheader(t("review.changes_heading" if since.since == "returned"
                       else "review.changes_heading_approved"), anchor=False)
        if since.since == "returned":
            st.markdown(t("review.changes_returned", time=day_text(since.since_at),
                          name=plain(since.since_by)))
            st.markdown(f"> {plain(since.comment) or '-'}")
        else:
            st.markdown(t("review.changes_approved", time=day_text(since.since_at),
                          name=plain(since.since_by)))
        if not since.changes:
            st.info(t("review.changes_none"))
            return
        st.markdown(t("review.changes_count", count=len(since.changes)))
        _table([{
            t("review.col_kind"): word("change_kind", c.kind),
            t("review.col_what"): change_subject(pack, c),
            t("review.col_before"): change_value(pack, c, c.old),
            t("review.col_after"): change_value(pack, c, c.new),
            t("review.col_by"): "、".join(c.changed_by) if lang() == "ja"
            else ", ".join(c.changed_by),
        } for c in since.changes])


def render_consistency(pack, case) -> None:
    """The pack's consistency rules that the answers and checklist records trip, as warnings."""
    statuses = {item: entry.status for item, entry in case.checklist.items()}
    try:
        findings = check_consistency(pack, case.answers, statuses)
    except ProcurementError:  # answers the pack no longer accepts: the gaps say so
        return
    if not findings:
        return
    st.subheader(t("review.consistency_heading", count=len(findings)), anchor=False)
    st.caption(t("review.consistency_help"))
    items = {item.id for item in pack.items}
    for finding in findings:
        inputs = "; ".join(
            plain(widgets.item_title(pack, key) + " = " + word("checklist_status", value))
            if key in items
            else plain(widgets.question_title(pack, key) + " = "
                       + events.option_label(pack, key, value, lang()))
            for key, value in finding.inputs.items())
        st.warning(f"{plain(pick(finding.message))}  \n{inputs}", icon=":material/rule:")


def render_answers(pack, case) -> None:
    """Every applicable question with its answer, both in full, step by step."""
    result = case.classification
    applicable = set(result.applicable_questions) if result is not None else set(case.answers)
    by_step: dict[str, list[dict[str, Any]]] = {}
    for q in pack.questions:
        if q.id not in applicable and q.id not in case.answers:
            continue
        value = case.answers.get(q.id)
        by_step.setdefault(q.step, []).append({
            t("review.col_question"): f"{q.id} {pick(q.text)}",
            t("review.col_answer"): events.option_label(pack, q.id, value, lang())
            if value is not None else t("review.not_answered"),
        })
    st.subheader(t("review.answers", count=sum(len(r) for r in by_step.values())), anchor=False)
    for step_id, rows in by_step.items():
        st.markdown(f"**{plain(widgets.step_title(pack, step_id))}**")
        _table(rows)


def render_checklists(pack, case) -> None:
    """Each checklist's applicable items: the item's text first, then need, result, evidence."""
    result = case.classification
    required = set(result.required_items) if result is not None else set()
    recommended = set(result.recommended_items) if result is not None else set()
    st.subheader(t("review.checklists"), anchor=False)
    for checklist in pack.checklists:
        rows = []
        for item in checklist.items:
            if item.id not in required and item.id not in recommended:
                continue
            entry = case.checklist.get(item.id)
            rows.append({
                t("review.col_item"): f"{item.id} {pick(item.text)}",
                t("review.col_need"): t("review.required") if item.id in required
                else t("review.recommended"),
                t("review.col_status"): word("checklist_status",
                                             entry.status if entry else "pending"),
                t("review.col_evidence"): entry.evidence if entry and entry.evidence else "-",
            })
        if rows:
            st.markdown(f"**{plain(pick(checklist.title))}**")
            _table(rows)


def render_board_report(pack, case) -> None:
    applies = case.classification is not None and any(
        step.kind == "report" for step in pack.report_steps(case.classification))
    if not case.board_report and not applies:
        return
    st.subheader(t("review.board_report"), anchor=False)
    if not case.board_report:
        st.caption(t("review.board_none"))
        return
    _table([{t("review.col_item"): word("board_field", name),
             t("review.col_value"): case.board_report.get(name) or "-"}
            for name in BOARD_REPORT_FIELDS])


# --------------------------------------------------------------------------- consultations


def render_consultation(svc, actor, case, step, writable: bool) -> None:
    """One report or consultation step of the pack: what is recorded, and the form to record it."""
    with st.container(border=True):
        st.markdown(f"**{plain(pick(step.title))}**")
        if step.body:
            st.caption(t("review.consult_body", body=plain(pick(step.body))))
        if step.help:
            st.caption(plain(pick(step.help)))
        recorded = step.recorded
        if recorded is not None:
            st.success(t("review.consult_recorded", date=day_text(recorded.reported_on),
                         advice=word("consultation_advice", recorded.advice),
                         name=plain(recorded.recorded_by_name),
                         time=format_jst(recorded.recorded_at)), icon=":material/task_alt:")
            if recorded.note:
                st.markdown(f"> {plain(recorded.note)}")
        else:
            st.warning(t("review.consult_missing"), icon=":material/pending_actions:")
            if step.previous is not None:
                st.caption(t("review.consult_previous", date=day_text(step.previous.reported_on),
                             advice=word("consultation_advice", step.previous.advice)))
        if not writable:
            return
        start = recorded or step.previous
        today = to_jst(svc.clock()).date()
        advice_words = words("consultation_advice")
        with st.form(f"consult_{step.step_id}"):
            left, right = st.columns([1, 2])
            day = left.date_input(t("review.consult_date"),
                                  value=start.reported_on if start else today, max_value=today,
                                  key=f"consult_date_{step.step_id}", format="YYYY/MM/DD")
            advice = right.radio(t("review.consult_advice"), ADVICE,
                                 index=ADVICE.index(start.advice) if start else 0,
                                 format_func=advice_words.__getitem__, horizontal=True,
                                 key=f"consult_advice_{step.step_id}")
            note = st.text_area(t("review.consult_note"), value=start.note if start else "",
                                max_chars=NOTE_MAX_LENGTH, key=f"consult_note_{step.step_id}")
            saved = st.form_submit_button(
                t("review.consult_update" if recorded else "review.consult_save"),
                key=f"consult_save_{step.step_id}", icon=":material/edit_note:",
                type="secondary" if recorded else "primary")
        if saved:
            svc.record_consultation(actor, case.id, step.step_id, reported_on=day,
                                    advice=advice, note=note or "")
            flash("success", "review.consult_saved", step=plain(pick(step.title)))
            st.rerun()


# --------------------------------------------------------------------------- the decision


def render_decision(svc, actor, pack, case) -> None:
    st.subheader(t("review.decide"), anchor=False)
    steps = svc.consultation_steps(actor, case.id)
    if steps:
        st.markdown(f"**{t('review.consult_heading')}**")
        st.caption(t("review.consult_intro"))
        for step in steps:
            render_consultation(svc, actor, case, step, writable=True)
    missing = [s for s in steps if s.recorded is None]
    conflict = svc.approval_conflicts(actor, [case.id]).get(case.id)
    if conflict is not None:
        st.info(t("review.conflict", reason=word("four_eyes", conflict)), icon=":material/group:")
    comment = st.text_area(t("review.comment"), key=COMMENT_KEY, max_chars=5000,
                           help=t("review.comment_help"))
    if st.session_state.get(CONFIRM_KEY) == (case.id, case.version) and not missing \
            and conflict is None:
        render_confirmation(svc, actor, pack, case, steps, comment)
        return
    approve_col, return_col = st.columns(2)
    if missing:
        approve_col.caption(t("review.needs_consultation",
                              steps="、".join(plain(pick(s.title)) for s in missing)
                              if lang() == "ja" else ", ".join(plain(pick(s.title))
                                                              for s in missing)))
    if approve_col.button(t("review.approve"), key="approve_case", type="primary",
                          icon=":material/check_circle:",
                          disabled=bool(missing) or conflict is not None):
        st.session_state[CONFIRM_KEY] = (case.id, case.version)
        st.rerun()
    if return_col.button(t("review.return"), key="return_case", icon=":material/undo:"):
        if not (comment or "").strip():
            # The service refuses too; saying it here keeps the reviewer on the form.
            st.error(t("review.comment_required"))
            return
        svc.return_case(actor, case.id, comment, case.version)
        flash("success", "review.returned", id=case.id)
        close_case()
        st.rerun()


def render_confirmation(svc, actor, pack, case, steps, comment: str) -> None:
    """The approval, spelled out once more: case, level, pack by title and edition, and what
    was recorded of each consultation; then confirm or go back."""
    with st.container(border=True, key="review_confirmation"):
        st.markdown(f"**{t('review.confirm_heading')}**")
        st.markdown(t("review.confirm_text"))
        lines = [t("review.confirm_case", id=case.id, title=plain(case.title)),
                 t("review.confirm_level", level=plain(widgets.level_label(pack, case.level))),
                 t("review.confirm_pack", pack=plain(pack_text(pack)))]
        lines += [t("review.confirm_consult", step=plain(pick(s.title)),
                    date=day_text(s.recorded.reported_on),
                    advice=word("consultation_advice", s.recorded.advice))
                  for s in steps if s.recorded is not None]
        st.markdown("\n".join(f"- {line}" for line in lines))
        yes, no = st.columns(2)
        if yes.button(t("review.confirm_yes"), key="confirm_approve", type="primary",
                      icon=":material/verified:"):
            svc.approve(actor, case.id, case.version, comment=comment or "")
            flash("success", "review.approved", id=case.id)
            close_case()
            st.rerun()
        if no.button(t("review.confirm_no"), key="cancel_approve", icon=":material/close:"):
            st.session_state.pop(CONFIRM_KEY, None)
            st.rerun()


def render_case(svc, actor, case_id: int) -> None:
    if st.button(t("review.back"), key="review_back", icon=":material/arrow_back:"):
        close_case()
        st.rerun()
    case = svc.get_case(actor, case_id)
    pack = svc.registry.resolve(case.pack_key)
    entry = next((e for e in svc.review_inbox(actor) if e.case_id == case.id), None)
    render_summary(svc, actor, pack, case, entry)
    waiting = case.status == "submitted"
    if not waiting:
        st.info(t("review.not_waiting", status=word("case_status", case.status)))
    if waiting:
        render_changes(svc, actor, pack, case)
    render_consistency(pack, case)
    gaps = readiness.submission_gaps(pack, case)
    if gaps:
        st.warning(t("review.gaps", count=len(gaps)))
    render_answers(pack, case)
    if case.classification is not None:
        widgets.result_panel(pack, case.classification, live=False)
    render_checklists(pack, case)
    render_board_report(pack, case)
    if waiting:
        render_decision(svc, actor, pack, case)
    with st.expander(t("review.history_heading"), icon=":material/history:"):
        st.markdown(f"**{t('review.decisions')}**")
        case_views.render_decisions(case)
        st.markdown(f"**{t('review.history')}**")
        case_views.render_history(svc, actor, pack, case)


def body(actor) -> None:
    svc = get_services()
    wanted = st.query_params.get("case")
    if wanted is not None and str(wanted).isdigit() \
            and st.session_state.get(PICK_KEY) != int(wanted):
        open_case(int(wanted))
    case_id = st.session_state.get(PICK_KEY)
    if case_id is None:
        render_inbox(svc, actor)
    else:
        render_case(svc, actor, case_id)


def render() -> None:
    """The page, for reviewers only."""
    run_page(body, roles=("reviewer",))
