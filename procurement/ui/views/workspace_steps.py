"""The workspace's step contents besides checklists: the questions of a step, the intake
(what the case is), the report to the Advisory Board (or the pack's own body), what is missing
before submission, and the approval record."""
from __future__ import annotations

import streamlit as st

from procurement.db.models import BOARD_REPORT_FIELDS
from procurement.errors import ProcurementError, WorkflowError
from procurement.records import readiness
from procurement.records.cases import CASE_DETAIL_FIELDS, CASE_DETAIL_MAX_LENGTHS
from procurement.records.policy import (
    HOLDS_APPROVAL_STATUSES,
)
from procurement.ui import case_views, widgets
from procurement.ui.state import (
    current_actor,
    flash,
    get_services,
    pick,
    plain,
    t,
    word,
)
from procurement.ui.views.workspace_core import (
    SEEN_KEY,
    VIEW_KEY,
    field_error,
    go_to,
    save_answer,
    save_text_field,
)

# --- steps: questions, intake, board report, submission ----------------------------------------


def render_questions(pack, case, step_id: str, editable: bool) -> None:
    applicable = set(case.classification.applicable_questions)
    for q in pack.questions:
        if q.step == step_id and q.id in applicable:
            key = f"answer_{q.id}"
            widgets.question_input(pack, q, case.answers.get(q.id), key=key,
                                   on_change=save_answer, args=(case.id, q.id),
                                   disabled=not editable)
            field_error(key)


def render_intake(pack, case, editable: bool) -> None:
    """What the case is (title, department, purpose: saved as each field is left and while
    typing) and which rules assess it (the pack is our reconstruction: say so)."""
    labels = {"title": t("cases.title"), "department": t("cases.department"),
              "purpose": t("intake.purpose")}
    for name in CASE_DETAIL_FIELDS:
        key = f"intake_{name}"
        required = name != "purpose"
        label = f"{labels[name]} {widgets.need_markup(required)}"
        if not editable:
            st.markdown(f"**{labels[name]}**  \n{plain(getattr(case, name)) or '-'}")
            continue
        if key not in st.session_state:
            st.session_state[key] = getattr(case, name)
        if name == "purpose":
            st.text_area(label, key=key, max_chars=CASE_DETAIL_MAX_LENGTHS[name],
                         help=t("intake.purpose_help"), placeholder=t("intake.purpose_hint"),
                         on_change=save_text_field, args=(case.id, key))
        else:
            st.text_input(label, key=key, max_chars=CASE_DETAIL_MAX_LENGTHS[name],
                          placeholder=t(f"intake.{name}_hint"),
                          on_change=save_text_field, args=(case.id, key))
        field_error(key)
    if editable:
        # Descriptive details are not assessed, so they never void an approval (services).
        st.caption(t("intake.autosave") + (" " + t("intake.no_void")
                                           if case.status in HOLDS_APPROVAL_STATUSES else ""))
    st.markdown(f"**{t('workspace.pack_heading')}**  \n{plain(case_views.pack_name(pack))}  \n"
                + t("workspace.pack_effective",
                    effective=widgets.when(pack.effective_from, False)))
    st.info(t("workspace.reconstruction"), icon=":material/info:")
    with st.expander(t("workspace.pack_details"), icon=":material/fingerprint:"):
        st.text(t("workspace.pack_reference", ref=case.pack_ref))
        layers = tuple(pack.layers or ())
        if len(layers) > 1:
            st.text("\n".join(f"{i + 1}. {widgets.layer_title(layer)}"
                              for i, layer in enumerate(layers)))


def render_board_report(case, editable: bool) -> None:
    st.info(t("board.intro"))
    report = case.board_report or {}
    for name in BOARD_REPORT_FIELDS:
        key = f"board_{name}"
        if not editable:
            st.markdown(f"**{plain(word('board_field', name))}**  \n"
                        f"{plain(report.get(name) or '') or t('board.empty')}")
            continue
        if key not in st.session_state:
            st.session_state[key] = report.get(name, "")
        st.text_area(f"{word('board_field', name)} {widgets.need_markup(True)}", key=key,
                     help=t(f"board.{name}_help"), max_chars=10000,
                     placeholder=t(f"board.{name}_help"),
                     on_change=save_text_field, args=(case.id, key))
        field_error(key)
    if editable:
        st.caption(t("board.autosave"))


def gap_text(pack, gap: readiness.Gap) -> str:
    where = widgets.step_title(pack, gap.step)
    if gap.kind == "question":
        what = widgets.question_title(pack, gap.id)
    elif gap.kind == "blocking":
        try:
            what = pick(pack.blocking_finding(gap.id).message)
        except ProcurementError:
            what = gap.id
    elif gap.kind == "board_field":
        what = word("board_field", gap.id)
    else:
        what = widgets.item_title(pack, gap.id)
    return t(f"gap.{gap.kind}", what=what, step=where)


def render_gaps(pack, gaps, case_id: int | None = None, here: str | None = None) -> None:
    """What is missing, one line each, with a button to each other step where something is
    missing (none to the step shown, `here`)."""
    st.markdown("\n".join(f"- {plain(gap_text(pack, g))}" for g in gaps))
    if case_id is None:
        return
    steps = [s for s in dict.fromkeys(g.step for g in gaps) if s != here]
    with st.container(horizontal=True):
        for step_id in steps:
            st.button(t("submit.go_to", step=widgets.step_title(pack, step_id)),
                      key=f"gap_go_{step_id}", icon=":material/arrow_forward:",
                      on_click=go_to, args=(step_id,))


def render_submission(pack, case, editable: bool) -> None:
    gaps = readiness.submission_gaps(pack, case)
    if case.status in ("submitted", "approved"):
        st.success(t(f"submit.already_{case.status}"))
        return
    if not editable:
        return
    if gaps:
        st.warning(t("submit.missing_count", count=len(gaps)))
        render_gaps(pack, gaps, case.id, here=readiness.submission_step(pack))
    else:
        st.success(t("submit.ready"))
    comment = st.text_area(f"{t('submit.comment')} {widgets.need_markup(False)}",
                           key="submit_comment", max_chars=2000, help=t("submit.comment_help"))
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
        st.session_state[VIEW_KEY] = view
        st.session_state.pop("submit_comment", None)
        flash("success", "submit.done")
        st.rerun()


def render_approval(case) -> None:
    st.caption(t("approval.intro"))
    case_views.render_decisions(case)
