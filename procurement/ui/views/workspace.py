"""Case workspace: the pack's steps that apply, each answer saved as given, the live result beside
them, the checklists as grids, the case's documents, and its history in its own tab.

Where the user is lives in the address: `/workspace?case=12&step=classification` (query
parameters of this page), so a reload or a link opened in a new tab comes back to the same case
and step (the session cookie keeps the user signed in); a user of another organisation opening
the link is told the case does not exist. The page never moves to another step by itself: only
the step list and the 次へ / 前へ buttons do. `&view=print` shows the whole case laid out for
printing on A4.

Every write carries the version this page showed (`expected_version`); when someone else saved
in between, the service refuses with ConflictError, the user is told, and the page reloads the
stored case instead of overwriting it. An input the services refuse (an empty title, `met`
without evidence) is shown under its field, and what the user typed stays there to correct.

What a reload can still lose (documented for users in the page's help captions): text typed in
a field during the last second before the reload (text fields are saved when left and after
each pause in typing), a comment for the reviewer that was not submitted, and checklist rows
refused for want of evidence (kept on the page, not stored).
"""
from __future__ import annotations

import streamlit as st

from procurement.errors import ProcurementError
from procurement.records import readiness
from procurement.records.policy import EDITABLE_STATUSES
from procurement.ui import case_views, navigation, widgets
from procurement.ui.state import (
    CASE_KEY,
    current_actor,
    get_services,
    pick,
    plain,
    resolve_actor,
    run_page,
    show_flashes,
    t,
    word,
)
from procurement.ui.views.workspace_core import (
    DRAWN_KEY,
    FRAME_KEY,
    STEP_PARAM,
    TAB_KEY,
    TEXT_FIELDS,
    VIEW_KEY,
    VIEW_PARAM,
    forget_left,
    go_to,
    load_case,
    location,
    param,
    render_helper,
    sync_widgets,
)
from procurement.ui.views.workspace_documents import render_documents, render_print
from procurement.ui.views.workspace_grid import render_checklist
from procurement.ui.views.workspace_steps import (
    render_approval,
    render_board_report,
    render_intake,
    render_questions,
    render_submission,
)

# --- the page --------------------------------------------------------------------------------


def body(actor) -> None:
    svc = get_services()
    forget_left()  # the run's callbacks are over
    case_id = location()
    if case_id is None:
        st.title(t("nav.workspace"))
        st.info(t("workspace.no_case"))
        st.page_link(navigation.script("procurement/ui/pages/cases.py"), label=t("nav.cases"),
                     icon=":material/folder_open:")
        return
    try:
        case = load_case(svc, actor, case_id)
    except ProcurementError:
        # Another organisation's case (or none): nothing of it is shown, and the tab forgets it.
        st.session_state.pop(CASE_KEY, None)
        st.session_state.pop(VIEW_KEY, None)
        raise
    pack = svc.registry.resolve(f"{case.pack_id}@{case.pack_version}")
    sync_widgets(case)

    if param(VIEW_PARAM) == "print":
        render_print(svc, actor, pack, case)
        return

    case_views.render_header(pack, case, saved_line=False)  # the step says when it was saved
    render_documents(svc, actor, pack, case)
    case_views.render_return_notice(case)
    editable = actor.has_role("planner") and case.status in EDITABLE_STATUSES
    if not editable:
        st.info(t("workspace.read_only", status=word("case_status", case.status)))
    elif case.status == "approved":
        st.warning(t("workspace.approved_edit_voids"))
    elif case.status == "in_operation":
        # The system keeps running, but without the approval it ran under (policy.HOLDS_APPROVAL_STATUSES).
        st.warning(t("workspace.in_operation_edit_voids"))

    # Only the open tab runs (on_change="rerun"): the history is read when someone looks at it.
    work, history = st.tabs([t("workspace.tab_work"), t("workspace.tab_history")],
                            key=TAB_KEY, on_change="rerun")
    if work.open is not False:
        with work:
            render_work(pack, case, editable)
    if history.open:
        with history:
            case_views.render_history(svc, actor, pack, case)


def _step_of(pack, step_ids: list[str], requested: str | None, done: set[str]) -> str:
    """The step to show: the one in the address when it applies; on first opening, the first
    step with something left to do; a step that no longer applies gives way to the nearest
    applicable step before it (and the address says so)."""
    if requested in step_ids:
        return requested
    if requested is None:
        chosen = next((s for s in step_ids if s not in done), step_ids[0])
    else:
        order = [s.id for s in pack.steps]
        before = order[:order.index(requested)] if requested in order else []
        chosen = next((s for s in reversed(before) if s in step_ids), step_ids[0])
        st.info(t("workspace.step_gone", step=widgets.step_title(pack, requested)),
                icon=":material/info:")
    st.query_params[STEP_PARAM] = chosen
    return chosen


def render_step_nav(pack, step_ids: list[str], current: str, done: set[str]) -> None:
    """Every step that applies, one per line (never wrapping across the page): the current one
    stands out, finished ones carry a check and the word 完了."""
    with st.container(key="ws_nav"):
        st.markdown(f"**{t('workspace.steps_heading')}**  \n"
                    + t("workspace.progress_done", done=len(done & set(step_ids)),
                        total=len(step_ids)))
        for number, step_id in enumerate(step_ids, start=1):
            finished = step_id in done
            label = t("workspace.nav_item", number=number, title=widgets.step_title(pack, step_id))
            if finished:
                # Never broken inside the word (「完 / 了」) when the label wraps.
                label += "\u2060".join(t("workspace.nav_done"))
            st.button(label, key=f"nav_{step_id}", width="stretch",
                      type="primary" if step_id == current else "secondary",
                      icon=":material/check_circle:" if finished else
                      (":material/arrow_right:" if step_id == current
                       else ":material/radio_button_unchecked:"),
                      help=t("workspace.nav_current") if step_id == current else None,
                      on_click=go_to, args=(step_id,))


def frame(pack, case) -> tuple:
    """What the page draws around the work area (header, document menu, notices) from this
    case: a change inside the work area that alters any of it redraws the whole page."""
    result = case.classification
    complete = bool(result.complete) if result is not None else case.is_complete
    blocking = len(result.blocking) if result is not None else int(case.has_blocking)
    return (case.id, case.status, case.title, case.department, case.purpose, case.owner_name,
            case.level, complete, blocking, case.pack_matches,
            bool(pack.report_steps(result) or case.board_report))


def render_work(pack, case, editable: bool) -> None:
    """The work area: drawn with the page, then run again alone (`render_work_area`) for
    every change made inside it."""
    st.session_state[FRAME_KEY] = frame(pack, case)
    st.session_state[DRAWN_KEY] = (case, pack)
    render_work_area(case.id, editable)


def _area_rerun_case(case_id: int):
    """On a run of the work area alone: the case and pack as stored now, or None when the
    whole page must be drawn again (the session ended, the case changed by someone else, or a
    change that reaches the header: the level, the status, the title...)."""
    if resolve_actor() is None:
        return None
    svc = get_services()
    try:
        case = load_case(svc, current_actor(), case_id)
    except ProcurementError:
        return None
    pack = svc.registry.resolve(f"{case.pack_id}@{case.pack_version}")
    if sync_widgets(case) or frame(pack, case) != st.session_state.get(FRAME_KEY):
        return None
    return case, pack


@st.fragment
def render_work_area(case_id: int, editable: bool) -> None:
    """The step list and the current step (its content, the live result beside it).

    A Streamlit fragment: an answer, a grid cell, a saved text or a step change inside it runs
    this function alone, so what the user feels after each click is this part, not the whole
    page. When a change reaches beyond it (the level or status in the header...), the whole
    page is drawn again."""
    forget_left()
    drawn = st.session_state.pop(DRAWN_KEY, None)
    if drawn is not None and drawn[0].id == case_id:
        case, pack = drawn  # drawn with the whole page in this run
    else:
        now = _area_rerun_case(case_id)
        if now is None:
            st.rerun()
        case, pack = now
        show_flashes()
    step_ids = [s.id for s in pack.steps if s.id in case.classification.required_steps]
    done = readiness.completed_steps(pack, case)
    current = _step_of(pack, step_ids, param(STEP_PARAM), done)
    if editable:
        render_helper([f"{prefix}_{name}" for prefix, (fields, _save) in TEXT_FIELDS.items()
                       for name in fields])
    nav, main = st.columns([1, 4], gap="medium", wrap=False)
    with nav:
        render_step_nav(pack, step_ids, current, done)
    with main:
        render_step(pack, case, step_ids, current, editable)


def render_step(pack, case, step_ids: list[str], current: str, editable: bool) -> None:
    step = pack.step(current)
    st.header(plain(pick(step.title)), anchor=False)
    st.caption(t("workspace.saved_line", updated=widgets.when(case.updated_at),
                 version=case.version), help=t("workspace.saved_help"))
    if pick(step.help):
        st.caption(plain(pick(step.help)))
    if pick(getattr(step, "body", None)):
        st.caption(t("workspace.step_body", body=plain(pick(step.body))))
    checklists = [c for c in pack.checklists if c.step == current]
    if checklists:
        render_checklist_step(pack, case, current, checklists, editable)
    else:
        with st.container(key="ws_split"):
            content, panel = st.columns([3, 2], gap="medium")
        with content:
            render_step_content(pack, case, current, editable)
        with panel:
            widgets.result_panel(pack, case.classification, live=editable, case=case)
    render_step_buttons(pack, step_ids, current)


def render_step_content(pack, case, step_id: str, editable: bool) -> None:
    if step_id == "intake":
        render_intake(pack, case, editable)
    render_questions(pack, case, step_id, editable)
    # A report step (the national Advisory Board, a municipality's own committee) holds the
    # report's fields.
    if getattr(pack.step(step_id), "kind", None) == "report":
        render_board_report(case, editable)
    if step_id == readiness.submission_step(pack):
        render_submission(pack, case, editable)
    if step_id == "approval":
        render_approval(case)


def render_checklist_step(pack, case, step_id: str, checklists, editable: bool) -> None:
    """A checklist step: its questions (if any), the consistency warnings that concern the
    checklist, the grids, and the result panel folded away below."""
    render_questions(pack, case, step_id, editable)
    result = case.classification
    if getattr(pack, "consistency", ()):
        from procurement.packs import check_consistency

        try:
            found = check_consistency(pack, result.answers or {},
                                      {i: e.status for i, e in case.checklist.items()})
        except ProcurementError:
            found = []
        for finding in found:
            st.warning(plain(pick(finding.message)), icon=":material/rule:")
    for checklist in checklists:
        render_checklist(pack, case, checklist, editable)
    if step_id == readiness.submission_step(pack):
        render_submission(pack, case, editable)
    with st.expander(t("workspace.result_details"), icon=":material/shield:"):
        widgets.result_panel(pack, result, live=editable, case=case)


def render_step_buttons(pack, step_ids: list[str], current: str) -> None:
    position = step_ids.index(current)
    with st.container(horizontal=True, key="ws_stepbuttons"):
        if position > 0:
            st.button(t("workspace.previous", step=widgets.step_title(pack, step_ids[position - 1])),
                      key="previous_step", icon=":material/arrow_back:",
                      on_click=go_to, args=(step_ids[position - 1],))
        if position + 1 < len(step_ids):
            st.button(t("workspace.next", step=widgets.step_title(pack, step_ids[position + 1])),
                      key="next_step", icon=":material/arrow_forward:", type="primary",
                      on_click=go_to, args=(step_ids[position + 1],))


def render() -> None:
    """The page, for every signed-in user."""
    run_page(body)
