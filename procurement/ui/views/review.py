"""Review queue: submitted cases of the reviewer's organisation; everything about one case side by
side, then approve, or return it to the planner with a required comment."""

import streamlit as st

from procurement.records import readiness
from procurement.ui import case_views, widgets
from procurement.ui.state import flash, format_jst, get_services, run_page, t

PICK_KEY = "review_case"


def render_decision_form(svc, actor, case) -> None:
    st.subheader(t("review.decide"))
    if case.owner_id == actor.user_id:
        st.info(t("review.own_case"))
    comment = st.text_area(t("review.comment"), key="review_comment", max_chars=5000,
                           help=t("review.comment_help"))
    approve_col, return_col = st.columns(2)
    if approve_col.button(t("review.approve"), key="approve_case", type="primary",
                          icon=":material/check_circle:"):
        svc.approve(actor, case.id, case.version, comment=comment or "")
        flash("success", "review.approved", id=case.id)
        _forget_form()
        st.rerun()
    if return_col.button(t("review.return"), key="return_case", icon=":material/undo:"):
        if not (comment or "").strip():
            # The service refuses too; saying it here keeps the reviewer on the form.
            st.error(t("review.comment_required"))
            return
        svc.return_case(actor, case.id, comment, case.version)
        flash("success", "review.returned", id=case.id)
        _forget_form()
        st.rerun()


def _forget_form() -> None:
    for key in ("review_comment", PICK_KEY):
        st.session_state.pop(key, None)


def body(actor) -> None:
    svc = get_services()
    st.title(t("review.heading"))
    queue = svc.list_cases(actor, status="submitted")
    if not queue:
        st.info(t("review.empty"))
        return
    by_id = {c.id: c for c in queue}
    if st.session_state.get(PICK_KEY) not in by_id:
        st.session_state[PICK_KEY] = queue[-1].id  # the longest-waiting case first
    names = {
        c.id: t("review.pick_item", id=c.id, title=c.title, owner=c.owner_name,
                time=format_jst(c.submitted_at or c.updated_at))
        for c in queue
    }
    st.selectbox(t("review.pick", count=len(queue)), list(names), key=PICK_KEY,
                 format_func=names.__getitem__)
    case = svc.get_case(actor, st.session_state[PICK_KEY])
    pack = svc.registry.resolve(f"{case.pack_id}@{case.pack_version}")
    case_views.render_header(pack, case)

    gaps = readiness.submission_gaps(pack, case)
    if gaps:
        st.warning(t("review.gaps", count=len(gaps)))

    left, right = st.columns(2, gap="large")
    with left:
        st.subheader(t("review.answers"))
        case_views.render_answers(pack, case)
        widgets.result_panel(pack, case.classification, live=False)
    with right:
        st.subheader(t("review.checklists"))
        case_views.render_checklists(pack, case)
        if "board_report" in case.classification.required_steps or case.board_report:
            st.subheader(t("review.board_report"))
            case_views.render_board_report(case)
    st.subheader(t("review.history"))
    decisions_tab, history_tab = st.tabs([t("review.decisions"), t("workspace.tab_history")],
                                         key="review_tab", on_change="rerun")
    if decisions_tab.open is not False:
        with decisions_tab:
            case_views.render_decisions(case)
    if history_tab.open is not False:
        with history_tab:
            case_views.render_history(svc, actor, pack, case)
    render_decision_form(svc, actor, case)


def render() -> None:
    """The page, for reviewers only."""
    run_page(body, roles=("reviewer",))
