"""Case list: my cases or my organisation's, with search and filters; open or start a case.

A case opens at its own address (`/workspace?case=N`), so it can be reloaded, bookmarked and
sent by e-mail. The list names each case's level as 未判定 until every required question is
answered, and says beside it whether something blocks the case. A case whose approval was
voided (by a later change or a re-assessment) says so, with when and why, so a lost approval is
never missed. The new-case form keeps what was typed when something is refused, and says what
is wrong under the field concerned.
"""

from __future__ import annotations

from typing import Any, cast

import pandas as pd
import streamlit as st

from procurement.caio.levels import LevelCatalog
from procurement.errors import InputError, ProcurementError
from procurement.records.cases import CASE_DETAIL_MAX_LENGTHS, PURPOSE_MAX_LENGTH
from procurement.records.policy import CASE_STATUSES
from procurement.ui import navigation, style, widgets
from procurement.ui.state import (
    CASE_KEY,
    callback,
    error_text,
    flash,
    get_services,
    lang,
    plain,
    run_page,
    t,
    word,
)
from procurement.vocabulary import describe_void_reason

WORKSPACE = navigation.script("procurement/ui/pages/workspace.py")
OPEN_CLICK_KEY = "case_open_click"
OPEN_PENDING_KEY = "_case_open_pending"
OPEN_IDS_KEY = "_case_open_ids"  # the case ids of the table's rows, as last drawn
NEW_CASE_FIELDS = ("title", "department", "purpose", "pack")


def level_choices(svc, actor, cases) -> dict[str, str]:
    """Level id -> label for the level filter (`LevelCatalog.level_choices`): the levels of
    the organisation's pack first, then those of the other packs the listed cases are assessed
    under."""
    org_pack = svc.resolve_pack(actor.org_code)
    keys = {(c.pack_id, c.pack_version) for c in cases} | {(org_pack.id, org_pack.version)}
    catalog = LevelCatalog.from_registry(svc.registry, keys)
    return catalog.level_choices((org_pack.id, org_pack.version), lang())


def void_cause(reason: str | None) -> str:
    """Why an approval was voided, in the user's language (the stored text when unknown)."""
    return describe_void_reason(reason, lang()).strip() or "-"


def voided_text(case) -> str:
    """The list's mark for a case whose approval was voided (empty when it was not)."""
    if case.approval_voided_at is None:
        return ""
    return t("cases.voided", time=widgets.when(case.approval_voided_at),
             cause=void_cause(case.approval_voided_reason))


def open_case(case_id: int) -> None:
    """Go to the case's own address in the workspace."""
    st.session_state[CASE_KEY] = case_id
    st.switch_page(WORKSPACE, query_params={"case": str(case_id)})


def _field_errors() -> dict[str, Any]:
    return st.session_state.setdefault("_new_case_errors", {})


def render_new_case(svc, actor) -> None:
    """Start a draft: title, department, purpose (optional), and the rule pack (the
    organisation's by default). A refusal is shown under its field; the form stays open with
    everything typed."""
    default_pack = svc.resolve_pack(actor.org_code)
    refs: list[str | None] = [None] + sorted({p.key for p in svc.registry.packs()})
    from procurement.ui.case_views import pack_name

    # Packs by title and edition date, as people name them (never the id or fingerprint).
    # A selectbox shows its options as plain text (not markdown): no `plain` escaping here,
    # or its backslashes would show.
    names = {p.key: pack_name(p) for p in svc.registry.packs()}
    labels = {r: (t("cases.pack_default", pack=pack_name(default_pack)) if r is None
                  else names.get(r, r)) for r in refs}
    errors = _field_errors()
    with st.expander(t("cases.new"), icon=":material/add:", expanded=bool(errors),
                     key="new_case_box"):
        with st.form("new_case", clear_on_submit=False, enter_to_submit=False):
            title = st.text_input(f"{t('cases.title')} {widgets.need_markup(True)}",
                                  key="new_case_title",
                                  max_chars=CASE_DETAIL_MAX_LENGTHS["title"],
                                  placeholder=t("intake.title_hint"))
            slots = {"title": st.empty()}
            department = st.text_input(f"{t('cases.department')} {widgets.need_markup(True)}",
                                       key="new_case_department",
                                       max_chars=CASE_DETAIL_MAX_LENGTHS["department"],
                                       placeholder=t("intake.department_hint"))
            slots["department"] = st.empty()
            purpose = st.text_area(f"{t('intake.purpose')} {widgets.need_markup(False)}",
                                   key="new_case_purpose", max_chars=PURPOSE_MAX_LENGTH,
                                   help=t("intake.purpose_help"),
                                   placeholder=t("intake.purpose_hint"))
            slots["purpose"] = st.empty()
            pack_ref = st.selectbox(
                f"{t('cases.pack')} {widgets.need_markup(False)}", refs, key="new_case_pack",
                format_func=labels.__getitem__, help=t("cases.pack_help"),
            )
            slots["pack"] = st.empty()
            slots["other"] = st.empty()
            created = st.form_submit_button(t("cases.create"), key="create_case", type="primary",
                                            icon=":material/add:")
        if created:
            errors.clear()
            try:
                case = svc.create_case(actor, title, department, pack_ref=pack_ref,
                                       purpose=purpose or "")
            except InputError as exc:
                field = str(exc.params.get("field") or "")
                errors[field if field in NEW_CASE_FIELDS else "other"] = exc
            except ProcurementError as exc:
                errors["other"] = exc
            else:
                for key in ("new_case_title", "new_case_department", "new_case_purpose"):
                    st.session_state.pop(key, None)
                flash("success", "cases.created", title=plain(case.title))
                open_case(case.id)
        for field, error in errors.items():
            slots.get(field, slots["other"]).error(error_text(error), icon=":material/error:")


@callback
def _open_clicked() -> None:
    """A row's 開く button: the case of that row (as the table was drawn) opens next."""
    click = st.session_state.get(OPEN_CLICK_KEY)
    row = click.get("row") if click is not None else None
    ids = st.session_state.get(OPEN_IDS_KEY, ())
    if isinstance(row, int) and 0 <= row < len(ids):
        st.session_state[OPEN_PENDING_KEY] = ids[row]


def _shown_levels(svc, cases, fallback: dict[str, str]) -> dict[int, str]:
    """Each case's level as the list shows it: 未判定 until answered, with the pack's own
    label; a pack no longer installed shows the stored level id's label of any pack."""
    packs: dict[str, Any] = {}
    out = {}
    for c in cases:
        key = f"{c.pack_id}@{c.pack_version}"
        if key not in packs:
            try:
                packs[key] = svc.registry.resolve(key)
            except ProcurementError:
                packs[key] = None
        pack = packs[key]
        if pack is None:
            out[c.id] = fallback.get(c.level, c.level or "-") if c.is_complete else \
                word("concept", "unclassified")
        else:
            out[c.id] = widgets.shown_level(pack, c.level, c.is_complete).text
    return out


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
                         time=widgets.when(case.returned_at), name=plain(case.returned_by))
                + "**  \n" + (plain(case.comment) or "-"))
            if button_col.button(t("review.returned_open"), key=f"returned_open_{case.case_id}",
                                 icon=":material/edit_note:"):
                open_case(case.case_id)


def body(actor) -> None:
    svc = get_services()
    pending = st.session_state.pop(OPEN_PENDING_KEY, None)
    if pending is not None:
        open_case(pending)
    st.title(t("cases.heading"))
    render_returned_banner(svc, actor)
    if actor.has_role("planner"):
        render_new_case(svc, actor)

    c1, c2, c3, c4 = st.columns([3, 2, 2, 2], vertical_alignment="bottom")
    search = c1.text_input(t("cases.search"), key="case_search", placeholder=t("cases.search_hint"))
    # Option labels are computed now, in the user's language, not later inside a callback.
    status_names: dict[str | None, str] = {None: t("cases.all"), **{s: word("case_status", s) for s in CASE_STATUSES}}
    status = c2.selectbox(t("cases.status"), list(status_names), key="case_status",
                          format_func=status_names.__getitem__)
    # Planners start with their own cases; everyone may look at the whole organisation.
    mine = c4.toggle(t("cases.mine"), key="case_mine", value=actor.has_role("planner"))
    # The level filter offers the levels of the packs in use, so it is filled from the cases.
    listed = svc.list_cases(actor, mine=mine, status=status, search=search or None)
    levels = level_choices(svc, actor, listed)
    level_names: dict[str | None, str] = {None: t("cases.all"), **cast("dict[str | None, str]", levels)}
    level = c3.selectbox(t("cases.level"), list(level_names), key="case_level",
                         format_func=level_names.__getitem__)
    cases = listed if level is None else [c for c in listed if c.level == level]
    org_name = svc.get_org(actor, actor.org_code).name
    st.caption(t("cases.count", count=len(cases), org=plain(org_name)))
    if not cases:
        st.info(t("cases.empty"))
        return
    voided = sum(1 for c in cases if c.approval_voided_at is not None)
    if voided:
        st.warning(t("cases.voided_notice", count=voided), icon=":material/gpp_maybe:")
    shown = _shown_levels(svc, cases, levels)
    rows = [{
        "id": c.id,
        "open": t("cases.open_row"),
        "title": c.title,
        "status": word("case_status", c.status),
        "level": shown[c.id],
        "blocking": t("cases.blocking_yes") if c.has_blocking else "",
        "voided": voided_text(c),
        "updated": widgets.when(c.updated_at),
        "department": c.department,
        "owner": c.owner_name,
    } for c in cases]
    columns = _columns(rows, bool(voided))
    st.session_state[OPEN_IDS_KEY] = tuple(c.id for c in cases)
    # st.dataframe shows cell text as text (never markdown or HTML), so titles are safe here.
    # The number comes first in the data (tests and exports read it), the open button first on
    # screen.
    order = [columns["open"][0]] + [label for name, (label, _c) in columns.items()
                                    if name != "open"]
    with st.container(key="case_table_box"):
        st.dataframe(pd.DataFrame([{label: row[name] for name, (label, _c) in columns.items()}
                                   for row in rows]),
                     hide_index=True, key="case_table",
                     column_config={label: config for label, config in columns.values()},
                     column_order=order, height=table_height(len(rows)), on_select="ignore")
    # The same, for the keyboard: pick a case and open it.
    choices = {c.id: (f"#{c.id} {c.title}（{status_names[c.status]}）" if lang() == "ja"
                      else f"#{c.id} {c.title} ({status_names[c.status]})") for c in cases}
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    picked = left.selectbox(t("cases.open_pick"), list(choices), key="open_case_select",
                            format_func=choices.__getitem__)
    if right.button(t("cases.open"), key="open_case", type="primary", icon=":material/edit_note:",
                    width="stretch"):
        open_case(picked)


#: Rows and header of Streamlit's grid (default theme), and its border, in pixels.
TABLE_ROW_PX = 35
TABLE_BORDER_PX = 1
#: The most rows the case list shows before it scrolls inside the table.
TABLE_ROWS_AT_MOST = 15


def table_height(rows: int) -> int:
    """The height of a table of `rows` rows that is exactly as tall as its header and rows
    (Streamlit's own sum: rows and header of 35 px, a 1 px border above and below), so no empty
    sliver of a further row shows; past `TABLE_ROWS_AT_MOST` rows the table scrolls."""
    shown = max(1, min(rows, TABLE_ROWS_AT_MOST))
    return TABLE_ROW_PX * (shown + 1) + 2 * TABLE_BORDER_PX


#: The columns a reader needs first, in screen order: they fit the table of a 1024 px window
#: without scrolling sideways (the title gives way, down to `TITLE_AT_LEAST` pixels); the
#: others follow and may need a sideways scroll.
FIRST_COLUMNS = ("open", "id", "title", "status", "level", "blocking")
TITLE_AT_LEAST = 160
OPEN_WIDTH = 64  # the 開く button


def _columns(rows: list[dict[str, Any]], with_voided: bool) -> dict[str, tuple[str, Any]]:
    """name -> (the column's heading, its configuration), in the data's order: each column as
    wide as its heading and values need (`widgets.column_width`), the title shortened when the
    `FIRST_COLUMNS` would not fit at 1024 px."""
    cc = st.column_config
    names = ("id", "open", "title", "status", "level", "blocking") + (
        ("voided",) if with_voided else ()) + ("updated", "department", "owner")
    headings = {name: t(f"cases.col_{name}") for name in names}
    widths = {name: widgets.column_width(headings[name], (row[name] for row in rows),
                                         at_most=280 if name == "voided" else 320)
              for name in names}
    widths["open"] = OPEN_WIDTH
    room = style.TABLE_WIDTH_AT_1024 - sum(widths[n] for n in FIRST_COLUMNS if n != "title")
    widths["title"] = max(TITLE_AT_LEAST, min(widths["title"], room))
    configs: dict[str, Any] = {
        "id": cc.NumberColumn(width=widths["id"], format="%d"),
        "open": cc.ButtonColumn(width=OPEN_WIDTH, key=OPEN_CLICK_KEY, on_click=_open_clicked,
                                type="primary"),
    }
    return {name: (headings[name], configs.get(name) or cc.TextColumn(width=widths[name]))
            for name in names}


def render() -> None:
    """The page, for every signed-in user."""
    run_page(body)
