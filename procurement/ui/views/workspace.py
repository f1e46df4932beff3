"""Case workspace: the pack's steps in order (only those that apply), each answer saved as given,
with the live result panel beside them and the case history in its own tab.

Every write carries the version this page showed (`expected_version`); when someone else saved
in between, the service refuses with ConflictError, the user is told, and the page reloads the
stored case instead of overwriting it.
"""

import logging

import streamlit as st

from procurement.records import readiness
from procurement.errors import ProcurementError, WorkflowError
from procurement.db.models import BOARD_REPORT_FIELDS
from procurement.records.cases import CASE_DETAIL_FIELDS, CASE_DETAIL_MAX_LENGTHS
from procurement.records.policy import (
    CHECKLIST_STATUSES,
    EDITABLE_STATUSES,
    HOLDS_APPROVAL_STATUSES,
    SETTLED_CHECKLIST_STATUSES,
)
from procurement.ui import case_views, navigation, widgets
from procurement.ui.state import (
    callback,
    CASE_KEY,
    current_actor,
    flash,
    format_jst,
    get_services,
    pick,
    run_page,
    t,
    word,
)

log = logging.getLogger(__name__)

SEEN_KEY = "_workspace_seen"  # (case id, version) the widgets were last filled from
STEP_KEY = "workspace_step"
TAB_KEY = "workspace_tab"
VIEW_KEY = "_workspace_view"  # the case as last read or saved by this session
WIDGET_PREFIXES = ("answer_", "item_status_", "item_evidence_", "board_", "intake_", STEP_KEY)


# --- saving ----------------------------------------------------------------------------------


def _write(case_id: int, action) -> None:
    """Run one save for the signed-in actor against the version this session knows.

    The known version is the one the page showed, moved on by this session's own saves (so two
    quick changes in a row do not trip over each other); anybody else's save in between makes
    the service refuse with ConflictError, which is reported, and every widget is then refilled
    from the stored case. Nothing is overwritten.
    """
    actor = current_actor()
    seen = st.session_state.get(SEEN_KEY)
    if actor is None or not seen or seen[0] != case_id:
        return
    try:
        view = action(get_services(), actor, seen[1])
    except ProcurementError as exc:
        flash("error", exc)
        st.session_state[SEEN_KEY] = (case_id, None)  # refill every widget, stay on this step
        return
    except Exception:  # noqa: BLE001 - a callback error would otherwise reach the browser
        log.exception("unexpected error while saving case %s", case_id)
        flash("error", "error.unexpected")
        st.session_state[SEEN_KEY] = (case_id, None)
        return
    st.session_state[SEEN_KEY] = (view.id, view.version)
    # The view the write returned is what is stored now: the run that follows shows it
    # instead of reading the case again.
    st.session_state[VIEW_KEY] = view


def load_case(svc, actor, case_id: int):
    """The case as stored now; re-read only when its version moved on since this session saw it.

    Every rerun (a click on a step, a tab) checks the stored version, a single cheap query, so
    someone else's save is always shown; the whole case is read again only when it changed.
    """
    held = st.session_state.get(VIEW_KEY)
    if held is not None and held.id == case_id and svc.case_version(actor, case_id) == held.version:
        return held
    case = svc.get_case(actor, case_id)
    st.session_state[VIEW_KEY] = case
    return case


@callback
def save_answer(case_id: int, qid: str) -> None:
    value = st.session_state.get(f"answer_{qid}")
    _write(case_id, lambda svc, actor, version: svc.save_answers(actor, case_id, {qid: value}, version))


@callback
def save_item(case_id: int, item_id: str) -> None:
    status = st.session_state.get(f"item_status_{item_id}") or "pending"
    evidence = st.session_state.get(f"item_evidence_{item_id}") or ""
    _write(case_id, lambda svc, actor, version: svc.set_checklist_item(
        actor, case_id, item_id, status, evidence, version))


@callback
def save_board_field(case_id: int, name: str) -> None:
    value = st.session_state.get(f"board_{name}") or ""
    _write(case_id, lambda svc, actor, version: svc.save_board_report(
        actor, case_id, {name: value}, version))


@callback
def save_detail(case_id: int, name: str) -> None:
    value = st.session_state.get(f"intake_{name}") or ""
    _write(case_id, lambda svc, actor, version: svc.save_case_details(
        actor, case_id, {name: value}, version))


def sync_widgets(case) -> None:
    """Refill widgets from the stored case whenever it is not the version they show."""
    if st.session_state.get(SEEN_KEY) == (case.id, case.version):
        return
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and key.startswith(WIDGET_PREFIXES) and key != STEP_KEY:
            del st.session_state[key]
    seen = st.session_state.get(SEEN_KEY)
    if not seen or seen[0] != case.id:
        st.session_state.pop(STEP_KEY, None)
    elif seen[1] is not None:  # moved on without this session: someone else saved
        st.info(t("workspace.reloaded", version=case.version), icon=":material/sync:")
    st.session_state[SEEN_KEY] = (case.id, case.version)


# --- steps -----------------------------------------------------------------------------------


def render_questions(pack, case, step_id: str, editable: bool) -> None:
    applicable = set(case.classification.applicable_questions)
    questions = [q for q in pack.questions if q.step == step_id and q.id in applicable]
    for q in questions:
        widgets.question_input(
            pack, q, case.answers.get(q.id), key=f"answer_{q.id}",
            on_change=save_answer, args=(case.id, q.id), disabled=not editable,
        )


def render_checklist(pack, case, checklist, editable: bool) -> None:
    result = case.classification
    required, recommended = set(result.required_items), set(result.recommended_items)
    items = [i for i in checklist.items if i.id in required or i.id in recommended]
    if not items:
        return
    st.subheader(pick(checklist.title))
    settled = sum(
        1 for i in items
        if case.checklist.get(i.id) and case.checklist[i.id].status in SETTLED_CHECKLIST_STATUSES
    )
    st.caption(t("checklist.summary", settled=settled, total=len(items),
                 required=len([i for i in items if i.id in required])))
    status_names = {s: word("checklist_status", s) for s in CHECKLIST_STATUSES}
    for item in items:
        entry = case.checklist.get(item.id)
        status_key, evidence_key = f"item_status_{item.id}", f"item_evidence_{item.id}"
        if status_key not in st.session_state:
            st.session_state[status_key] = entry.status if entry else "pending"
        if evidence_key not in st.session_state:
            st.session_state[evidence_key] = entry.evidence if entry else ""
        with st.container(border=True):
            st.markdown(f"**{item.id}** {pick(item.text)}")
            with st.container(horizontal=True):
                st.badge(t("checklist.required") if item.id in required else t("checklist.recommended"),
                         color="red" if item.id in required else "gray")
                st.badge(t("checklist.category", category=case_views.category_label(item.category)),
                         color="gray")
                widgets.provenance_badge(item.provenance, item.source)
            if pick(item.help):
                st.caption(pick(item.help))
            left, right = st.columns([1, 2])
            left.selectbox(t("checklist.status"), CHECKLIST_STATUSES, key=status_key,
                           format_func=status_names.__getitem__, help=t("checklist.status_help"),
                           on_change=save_item, args=(case.id, item.id),
                           disabled=not editable)
            right.text_input(t("checklist.evidence"), key=evidence_key, max_chars=2000,
                             placeholder=t("checklist.evidence_hint"),
                             on_change=save_item, args=(case.id, item.id),
                             disabled=not editable)


def render_board_report(case, editable: bool) -> None:
    st.info(t("board.intro"))
    report = case.board_report or {}
    for name in BOARD_REPORT_FIELDS:
        key = f"board_{name}"
        if key not in st.session_state:
            st.session_state[key] = report.get(name, "")
        st.text_area(word("board_field", name), key=key, help=t(f"board.{name}_help"), max_chars=10000,
                     on_change=save_board_field, args=(case.id, name),
                     disabled=not editable)
    st.caption(t("board.autosave"))


def gap_text(pack, gap: readiness.Gap) -> str:
    where = widgets.step_title(pack, gap.step)
    if gap.kind == "question":
        what = widgets.question_title(pack, gap.id)
    elif gap.kind == "blocking":
        what = gap.id
    elif gap.kind == "board_field":
        what = word("board_field", gap.id)
    else:
        what = widgets.item_title(pack, gap.id)
    return t(f"gap.{gap.kind}", what=what, step=where)


def render_gaps(pack, gaps) -> None:
    st.markdown("\n".join(f"- {widgets.plain(gap_text(pack, g))}" for g in gaps))


def render_submission(pack, case, editable: bool) -> None:
    gaps = readiness.submission_gaps(pack, case)
    if case.status in ("submitted", "approved"):
        st.success(t(f"submit.already_{case.status}"))
        return
    if not editable:
        return
    if gaps:
        st.warning(t("submit.missing_count", count=len(gaps)))
    else:
        st.success(t("submit.ready"))
    comment = st.text_area(t("submit.comment"), key="submit_comment", max_chars=2000)
    if st.button(t("submit.button"), key="submit_case", type="primary", icon=":material/send:"):
        # The service decides, on what is stored now (readiness.submission_gaps, the same rules
        # as the list above); a refusal carries the gaps, shown here in the user's language.
        try:
            view = get_services().submit(current_actor(), case.id, case.version,
                                         comment=comment or "")
        except WorkflowError as exc:
            if "gaps" not in exc.params:
                raise
            st.error(t("submit.refused"), icon=":material/block:")
            render_gaps(pack, [readiness.Gap(**g) for g in exc.params["gaps"]])
            return
        st.session_state[SEEN_KEY] = (view.id, view.version)  # our own change, not someone else's
        flash("success", "submit.done")
        st.rerun()
    if gaps:
        with st.expander(t("submit.missing_list"), expanded=False):
            render_gaps(pack, gaps)


def render_approval(case) -> None:
    st.caption(t("approval.intro"))
    case_views.render_decisions(case)


def render_intake(pack, case, editable: bool) -> None:
    """What the case is (title, department, purpose: saved as each field is left) and which
    rules assess it (the pack is our reconstruction: say so)."""
    labels = {"title": t("cases.title"), "department": t("cases.department"),
              "purpose": t("intake.purpose")}
    for name in CASE_DETAIL_FIELDS:
        key = f"intake_{name}"
        if key not in st.session_state:
            st.session_state[key] = getattr(case, name)
        if name == "purpose":
            st.text_area(labels[name], key=key, max_chars=CASE_DETAIL_MAX_LENGTHS[name],
                         help=t("intake.purpose_help"), placeholder=t("intake.purpose_hint"),
                         on_change=save_detail, args=(case.id, name), disabled=not editable)
        else:
            st.text_input(labels[name], key=key, max_chars=CASE_DETAIL_MAX_LENGTHS[name],
                          on_change=save_detail, args=(case.id, name), disabled=not editable)
    if editable:
        # Descriptive details are not assessed, so they never void an approval (services).
        st.caption(t("intake.autosave") + (" " + t("intake.no_void")
                                           if case.status in HOLDS_APPROVAL_STATUSES else ""))
    st.markdown(t("workspace.pack", title=pick(pack.title), ref=pack.ref,
                  edition=pack.edition.isoformat(), effective=pack.effective_from.isoformat()))
    st.info(t("workspace.reconstruction"), icon=":material/info:")


def render_step(pack, case, step_id: str, editable: bool) -> None:
    step = pack.step(step_id)
    st.header(pick(step.title))
    if pick(step.help):
        st.caption(pick(step.help))
    if step_id == "intake":
        render_intake(pack, case, editable)
    render_questions(pack, case, step_id, editable)
    if step_id == "board_report":
        render_board_report(case, editable)
    for checklist in pack.checklists:
        if checklist.step == step_id:
            render_checklist(pack, case, checklist, editable)
    if step_id == "submission":
        render_submission(pack, case, editable)
    if step_id == "approval":
        render_approval(case)


# --- page ------------------------------------------------------------------------------------


def body(actor) -> None:
    svc = get_services()
    case_id = st.session_state.get(CASE_KEY)
    if case_id is None:
        st.title(t("nav.workspace"))
        st.info(t("workspace.no_case"))
        st.page_link(navigation.script("procurement/ui/pages/cases.py"), label=t("nav.cases"), icon=":material/folder_open:")
        return
    case = load_case(svc, actor, case_id)
    pack = svc.registry.resolve(f"{case.pack_id}@{case.pack_version}")
    sync_widgets(case)

    case_views.render_header(pack, case)
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


def render_work(pack, case, editable: bool) -> None:
    """The steps that apply, the current step's content, and the live result beside it."""
    result = case.classification
    step_ids = [s.id for s in pack.steps if s.id in result.required_steps]
    done = readiness.completed_steps(pack, case)
    if st.session_state.get(STEP_KEY) not in step_ids:
        st.session_state[STEP_KEY] = next((s for s in step_ids if s not in done), step_ids[0])
    widgets.progress_indicator(pack, step_ids, st.session_state[STEP_KEY], done)
    step_names = {s: ("✓ " if s in done else "") + widgets.step_title(pack, s) for s in step_ids}
    st.radio(t("workspace.step"), step_ids, key=STEP_KEY, horizontal=True,
             format_func=step_names.__getitem__)
    left, right = st.columns([3, 2], gap="large")
    with left:
        render_step(pack, case, st.session_state[STEP_KEY], editable)
        position = step_ids.index(st.session_state[STEP_KEY])
        if position + 1 < len(step_ids):
            st.button(t("workspace.next", step=widgets.step_title(pack, step_ids[position + 1])),
                      key="next_step", icon=":material/arrow_forward:",
                      on_click=_go_to, args=(step_ids[position + 1],))
        st.caption(t("workspace.autosave") + " "
                   + t("workspace.saved", time=format_jst(case.updated_at), version=case.version))
    with right:
        widgets.result_panel(pack, result)


@callback
def _go_to(step_id: str) -> None:
    st.session_state[STEP_KEY] = step_id


def render() -> None:
    """The page, for every signed-in user."""
    run_page(body)
