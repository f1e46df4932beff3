"""Case list: my cases or my organisation's, with search and filters; open or start a case.

A case whose approval was voided (by a later change or a re-assessment) says so in the list, with
when and why, so a lost approval is never missed.
"""

from datetime import date

import pandas as pd
import streamlit as st

from procurement.caio.levels import LevelCatalog
from procurement.records.cases import PURPOSE_MAX_LENGTH
from procurement.records.policy import CASE_STATUSES
from procurement.ui import navigation
from procurement.ui.state import (
    CASE_KEY,
    flash,
    format_jst,
    get_services,
    lang,
    plain,
    run_page,
    t,
    word,
)
from procurement.vocabulary import describe_void_reason

WORKSPACE = navigation.script("procurement/ui/pages/workspace.py")


def level_choices(svc, actor, cases) -> tuple[dict[str, str], LevelCatalog]:
    """Level id -> label for the level filter: the levels of the organisation's pack, then
    those of the other packs the listed cases are assessed under, each pack in its own order
    (a level shared by several editions is named by the newest); and the catalog of the
    cases' packs (each case's level is named by its own pack)."""
    org_pack = svc.resolve_pack(actor.org_code)
    keys = {(c.pack_id, c.pack_version) for c in cases} | {(org_pack.id, org_pack.version)}
    catalog = LevelCatalog.from_registry(svc.registry, keys)
    first = catalog.pack(org_pack.id, org_pack.version)
    others = sorted((p for p in catalog.packs() if p is not first),
                    key=lambda p: p.levels[0].pack_order if p.levels else (date.min, ()),
                    reverse=True)
    names: dict[str, str] = {}
    for pack in ([first] if first is not None else []) + others:
        for level in pack.levels:
            names.setdefault(level.id, level.text(lang()))
    return names, catalog


def void_cause(reason: str | None) -> str:
    """Why an approval was voided, in the user's language (the stored text when unknown)."""
    return describe_void_reason(reason, lang()).strip() or "-"


def voided_text(case) -> str:
    """The list's mark for a case whose approval was voided (empty when it was not)."""
    if case.approval_voided_at is None:
        return ""
    return t("cases.voided", time=format_jst(case.approval_voided_at),
             cause=void_cause(case.approval_voided_reason))


def open_case(case_id: int) -> None:
    st.session_state[CASE_KEY] = case_id
    st.switch_page(WORKSPACE)


def render_new_case(svc, actor) -> None:
    """Start a draft: title, department, purpose (optional), and the rule pack (the
    organisation's by default)."""
    default_pack = svc.resolve_pack(actor.org_code)
    refs = [None] + sorted({p.key for p in svc.registry.packs()})
    with st.expander(t("cases.new"), icon=":material/add:", expanded=False):
        with st.form("new_case", clear_on_submit=False):
            title = st.text_input(t("cases.title"), key="new_case_title", max_chars=300)
            department = st.text_input(t("cases.department"), key="new_case_department", max_chars=200)
            purpose = st.text_area(t("intake.purpose"), key="new_case_purpose",
                                   max_chars=PURPOSE_MAX_LENGTH, help=t("intake.purpose_help"),
                                   placeholder=t("intake.purpose_hint"))
            pack_ref = st.selectbox(
                t("cases.pack"), refs, key="new_case_pack",
                format_func={r: r or t("cases.pack_default", pack=default_pack.key) for r in refs}.__getitem__,
                help=t("cases.pack_help"),
            )
            created = st.form_submit_button(t("cases.create"), key="create_case", type="primary")
        if created:
            case = svc.create_case(actor, title, department, pack_ref=pack_ref,
                                   purpose=purpose or "")
            flash("success", "cases.created", title=plain(case.title))
            open_case(case.id)


def render_returned_banner(svc, actor) -> None:
    """A planner's cases that a reviewer returned, first thing on the page: each with who
    returned it when, the reviewer's comment, and a button that opens it to fix."""
    if not actor.has_role("planner"):
        return
    returned = svc.returned_cases(actor)
    if not returned:
        return
    with st.container(border=True, key="returned_banner"):
        st.warning(t("review.returned_banner", count=len(returned)), icon=":material/undo:")
        for case in returned:
            text_col, button_col = st.columns([5, 1], vertical_alignment="center")
            text_col.markdown(
                "**" + t("review.returned_item", id=case.case_id, title=plain(case.title),
                         time=format_jst(case.returned_at), name=plain(case.returned_by))
                + "**  \n" + (plain(case.comment) or "-"))
            if button_col.button(t("review.returned_open"), key=f"returned_open_{case.case_id}",
                                 icon=":material/edit_note:"):
                open_case(case.case_id)


def body(actor) -> None:
    svc = get_services()
    st.title(t("cases.heading"))
    render_returned_banner(svc, actor)
    if actor.has_role("planner"):
        render_new_case(svc, actor)

    c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
    search = c1.text_input(t("cases.search"), key="case_search", placeholder=t("cases.search_hint"))
    # Option labels are computed now, in the user's language, not later inside a callback.
    status_names = {None: t("cases.all"), **{s: word("case_status", s) for s in CASE_STATUSES}}
    status = c2.selectbox(t("cases.status"), list(status_names), key="case_status",
                          format_func=status_names.__getitem__)
    # Planners start with their own cases; everyone may look at the whole organisation.
    mine = c4.toggle(t("cases.mine"), key="case_mine", value=actor.has_role("planner"))
    # The level filter offers the levels of the packs in use, so it is filled from the cases.
    listed = svc.list_cases(actor, mine=mine, status=status, search=search or None)
    levels, catalog = level_choices(svc, actor, listed)
    level_names = {None: t("cases.all"), **levels}
    level = c3.selectbox(t("cases.level"), list(level_names), key="case_level",
                         format_func=level_names.__getitem__)
    cases = listed if level is None else [c for c in listed if c.level == level]
    st.caption(t("cases.count", count=len(cases), org=actor.org_code))
    if not cases:
        st.info(t("cases.empty"))
        return
    voided = sum(1 for c in cases if c.approval_voided_at is not None)
    if voided:
        st.warning(t("cases.voided_notice", count=voided), icon=":material/gpp_maybe:")
    table = pd.DataFrame(
        [
            {
                t("cases.col_id"): c.id,
                t("cases.col_title"): c.title,
                t("cases.col_department"): c.department,
                t("cases.col_owner"): c.owner_name,
                t("cases.col_status"): word("case_status", c.status),
                t("cases.col_voided"): voided_text(c),
                t("cases.col_level"): (catalog.label(c.pack_id, c.pack_version, c.level, lang())
                                       if c.level else "-"),
                t("cases.col_complete"): t("common.yes") if c.is_complete else t("common.no"),
                t("cases.col_blocking"): t("common.yes") if c.has_blocking else "",
                t("cases.col_updated"): format_jst(c.updated_at),
            }
            for c in cases
        ]
    )
    # st.dataframe shows cell text as text (never markdown or HTML), so titles are safe here.
    st.dataframe(table, hide_index=True, key="case_table")
    choices = {c.id: f"#{c.id} {c.title} ({status_names[c.status]})" for c in cases}
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    picked = left.selectbox(t("cases.open_pick"), list(choices), key="open_case_select",
                            format_func=choices.__getitem__)
    if right.button(t("cases.open"), key="open_case", type="primary", icon=":material/edit_note:"):
        open_case(picked)


def render() -> None:
    """The page, for every signed-in user."""
    run_page(body)
