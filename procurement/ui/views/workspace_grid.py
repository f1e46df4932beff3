"""The workspace's checklists as grids: one row per applicable item, edited in place, with
filters, bulk status for the selected rows and per-category counts. 充足 needs evidence where the
item asks for it; a refused row is kept on the page, not stored."""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from procurement.errors import ProcurementError
from procurement.records.policy import (
    CHECKLIST_STATUSES,
    SETTLED_CHECKLIST_STATUSES,
)
from procurement.ui import case_views, widgets
from procurement.ui.state import (
    callback,
    error_text,
    flash,
    get_services,
    pick,
    plain,
    t,
    word,
    words,
)
from procurement.ui.views.workspace_core import (
    GRID_PREFIX,
    VIEW_KEY,
    write_case,
)

# --- checklists as grids ---------------------------------------------------------------------


def _settled(entry, item) -> bool:
    """Whether an item needs nothing more (as submission counts it, evidence included)."""
    if entry is None or entry.status not in SETTLED_CHECKLIST_STATUSES:
        return False
    if entry.status == "not_applicable":
        return bool((entry.evidence or "").strip())
    return bool((entry.evidence or "").strip()) or not item.evidence_required


def _grid_items(case, checklist) -> tuple[list, set[str], set[str]]:
    result = case.classification
    required, recommended = set(result.required_items), set(result.recommended_items)
    items = [i for i in checklist.items if i.id in required or i.id in recommended]
    return items, required, recommended


def _grid_keys(cl_id: str) -> dict[str, str]:
    return {name: f"{GRID_PREFIX}{cl_id}_{name}" for name in
            ("snapshot", "nonce", "required_only", "open_only", "error", "pending", "select")}


def _grid_widget_key(cl_id: str) -> str:
    keys = _grid_keys(cl_id)
    return f"grid_{cl_id}_{st.session_state.get(keys['nonce'], 0)}"


def _remount(cl_id: str, select: bool = False) -> None:
    """Start the grid afresh from what is stored (a new widget: its edits are forgotten), with
    every row selected or none."""
    keys = _grid_keys(cl_id)
    st.session_state.pop(keys["snapshot"], None)
    st.session_state[keys["select"]] = select
    st.session_state[keys["nonce"]] = st.session_state.get(keys["nonce"], 0) + 1


def _grid_rows(pack, case, checklist, filtered: bool = True) -> list[dict[str, Any]]:
    """The grid's rows as stored now (with the filters the user chose, when `filtered`), with
    the pending rows this page holds (refused for want of evidence) in place of what is
    stored."""
    keys = _grid_keys(checklist.id)
    items, required, recommended = _grid_items(case, checklist)
    pending = st.session_state.get(keys["pending"], {}) if filtered else {}
    required_only = filtered and st.session_state.get(keys["required_only"], False)
    open_only = filtered and st.session_state.get(keys["open_only"], False)
    status_words = words("checklist_status")
    select = bool(st.session_state.get(keys["select"], False))
    rows = []
    for item in items:
        entry = case.checklist.get(item.id)
        if required_only and item.id not in required:
            continue
        if open_only and _settled(entry, item) and item.id not in pending:
            continue
        status, evidence = pending.get(item.id) or (
            (entry.status, entry.evidence) if entry else ("pending", ""))
        need, why = widgets.item_need(pack, item, required, recommended)
        rows.append({
            "sel": select,
            "id": item.id,
            "text": pick(item.text),
            "why": t("grid.need_why", need=need, why=why),
            "status": status_words[status],
            "evidence": evidence or "",
        })
    return rows


def _grid_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["sel", "id", "text", "why", "status", "evidence"])


def _current_grid(cl_id: str) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """The grid's snapshot and the edits the user made on it since it was mounted."""
    keys = _grid_keys(cl_id)
    snapshot = st.session_state.get(keys["snapshot"]) or []
    state = st.session_state.get(_grid_widget_key(cl_id)) or {}
    edits = state.get("edited_rows", {}) if isinstance(state, dict) else {}
    return snapshot, {int(k): v for k, v in edits.items()}


def _selected(cl_id: str) -> list[str]:
    snapshot, edits = _current_grid(cl_id)
    return [row["id"] for i, row in enumerate(snapshot)
            if edits.get(i, {}).get("sel", row["sel"])]


@callback
def save_grid(case_id: int, cl_id: str) -> None:
    """Cells edited in a checklist grid: every row whose status or evidence now differs from
    what is stored is saved in one batch. A row set to 充足 without the evidence its item needs
    is kept on the page (not stored) and named under the grid; the others are saved."""
    view = st.session_state.get(VIEW_KEY)
    if view is None or view.id != case_id:
        return
    svc = get_services()
    pack = svc.registry.resolve(f"{view.pack_id}@{view.pack_version}")
    keys = _grid_keys(cl_id)
    snapshot, edits = _current_grid(cl_id)
    by_word = {w: code for code, w in words("checklist_status").items()}
    changes, pending = {}, {}
    for i, row in enumerate(snapshot):
        cells = edits.get(i, {})
        status = by_word.get(cells.get("status", row["status"]), "pending")
        evidence = cells.get("evidence", row["evidence"])
        evidence = "" if evidence is None else str(evidence)
        entry = view.checklist.get(row["id"])
        stored = (entry.status, entry.evidence) if entry else ("pending", "")
        if (status, evidence) == stored:
            continue
        if status == "met" and not evidence.strip() and pack.item(row["id"]).evidence_required:
            pending[row["id"]] = (status, evidence)
        else:
            changes[row["id"]] = (status, evidence)
    st.session_state[keys["pending"]] = pending
    st.session_state.pop(keys["error"], None)
    if changes:
        write_case(case_id, lambda s, actor, version: s.set_checklist_items(actor, case_id, changes,
                                                                        version),
               error_key=keys["error"])


@callback
def _set_filter(cl_id: str, name: str) -> None:
    keys = _grid_keys(cl_id)
    st.session_state[keys[name]] = bool(st.session_state.get(f"bulk_{cl_id}_{name}"))
    _remount(cl_id)


@callback
def _select_all(cl_id: str, value: bool) -> None:
    _remount(cl_id, select=value)


@callback
def apply_bulk(case_id: int, cl_id: str) -> None:
    """The bulk action: the chosen status for every selected row; rows whose evidence is empty
    get the common evidence typed beside it. 充足 without evidence is refused, naming the rows."""
    view = st.session_state.get(VIEW_KEY)
    if view is None or view.id != case_id:
        return
    keys = _grid_keys(cl_id)
    selected = _selected(cl_id)
    status = st.session_state.get(f"bulk_{cl_id}_status")
    common = (st.session_state.get(f"bulk_{cl_id}_evidence") or "").strip()
    if not selected or status not in CHECKLIST_STATUSES:
        st.session_state[keys["error"]] = "bulk.nothing_selected"
        return
    pack = get_services().registry.resolve(f"{view.pack_id}@{view.pack_version}")
    snapshot, edits = _current_grid(cl_id)
    current = {row["id"]: edits.get(i, {}).get("evidence", row["evidence"]) or ""
               for i, row in enumerate(snapshot)}
    changes, missing = {}, []
    for item_id in selected:
        evidence = current.get(item_id, "") or common
        if status == "met" and not evidence.strip() and pack.item(item_id).evidence_required:
            missing.append(item_id)
        changes[item_id] = (status, evidence)
    if missing:
        st.session_state[keys["error"]] = ("bulk.evidence_missing", ", ".join(missing))
        return
    if write_case(case_id, lambda s, actor, version: s.set_checklist_items(actor, case_id, changes,
                                                                        version)):
        st.session_state.pop(keys["error"], None)
        st.session_state[keys["pending"]] = {}
        st.session_state[f"bulk_{cl_id}_evidence"] = ""
        flash("success", "bulk.done", count=len(changes), status=word("checklist_status", status))
        _remount(cl_id)


def _grid_error(cl_id: str) -> None:
    keys = _grid_keys(cl_id)
    error = st.session_state.get(keys["error"])
    pending = st.session_state.get(keys["pending"]) or {}
    if pending:
        st.error(t("grid.evidence_pending", items=", ".join(pending)), icon=":material/error:")
    if isinstance(error, ProcurementError):
        st.error(error_text(error), icon=":material/error:")
    elif isinstance(error, tuple):
        st.error(t(error[0], items=error[1]), icon=":material/error:")
    elif isinstance(error, str):
        st.error(t(error), icon=":material/error:")


def render_category_counts(case, checklist) -> None:
    """Per category: how many of its applicable items need nothing more."""
    items, _required, _recommended = _grid_items(case, checklist)
    counts: dict[str, list[int]] = {}
    for item in items:
        done = _settled(case.checklist.get(item.id), item)
        pair = counts.setdefault(item.category, [0, 0])
        pair[0] += int(done)
        pair[1] += 1
    st.markdown(" ".join(
        widgets.badge_markup(t("grid.category_count", category=case_views.category_label(c),
                               done=d, total=n), "green" if d == n else "gray",
                             ":material/check_circle:" if d == n else None)
        for c, (d, n) in counts.items()))


def render_checklist(pack, case, checklist, editable: bool) -> None:
    """One checklist as a grid: a row per applicable item (number, text, required or
    recommended with the rule or layer that made it so, status, evidence), edited in place and
    saved as each cell is left; filters, bulk status for the selected rows, per-category
    counts."""
    items, required, _recommended = _grid_items(case, checklist)
    if not items:
        return
    keys = _grid_keys(checklist.id)
    if pick(checklist.title) != pick(pack.step(checklist.step).title):
        st.subheader(plain(pick(checklist.title)))  # not the step's heading a second time
    settled = sum(1 for i in items if _settled(case.checklist.get(i.id), i))
    st.caption(t("checklist.summary", settled=settled, total=len(items),
                 required=len([i for i in items if i.id in required])))
    render_category_counts(case, checklist)
    status_words = words("checklist_status")
    if not editable:
        # Every item, all rows in view: the filters belong to editing (their switches are not
        # shown here).
        rows = _grid_rows(pack, case, checklist, filtered=False)
        st.dataframe(_grid_frame(rows).drop(columns=["sel"]), hide_index=True,
                     column_config=_grid_columns(status_words, False), row_height=_ROW_HEIGHT,
                     height=_grid_height(len(rows)), key=f"grid_view_{checklist.id}")
        return

    with st.container(horizontal=True, vertical_alignment="bottom", key=f"bulkbar_{checklist.id}"):
        for name in ("required_only", "open_only"):
            st.toggle(t(f"grid.{name}"), key=f"bulk_{checklist.id}_{name}",
                      value=st.session_state.get(keys[name], False),
                      on_change=_set_filter, args=(checklist.id, name))

    if keys["snapshot"] not in st.session_state:
        st.session_state[keys["snapshot"]] = _grid_rows(pack, case, checklist)
    snapshot = st.session_state[keys["snapshot"]]
    if not snapshot:
        st.info(t("grid.nothing_open"))
    else:
        st.data_editor(
            _grid_frame(snapshot), key=_grid_widget_key(checklist.id), hide_index=True,
            column_config=_grid_columns(status_words, True),
            disabled=["id", "text", "why"], num_rows="fixed", row_height=_ROW_HEIGHT,
            height=_grid_height(len(snapshot)),
            on_change=save_grid, args=(case.id, checklist.id),
        )
    _grid_error(checklist.id)
    st.caption(t("grid.help"))

    selected = _selected(checklist.id)
    with st.container(border=True, key=f"bulk_{checklist.id}"):
        st.markdown(f"**{t('bulk.heading')}** " + t("bulk.selected", count=len(selected)))
        with st.container(horizontal=True, vertical_alignment="bottom"):
            st.button(t("bulk.select_all"), key=f"bulk_{checklist.id}_all",
                      icon=":material/select_check_box:", on_click=_select_all,
                      args=(checklist.id, True))
            st.button(t("bulk.select_none"), key=f"bulk_{checklist.id}_none",
                      icon=":material/check_box_outline_blank:", on_click=_select_all,
                      args=(checklist.id, False))
        left, middle, right = st.columns([2, 3, 2], vertical_alignment="bottom")
        left.selectbox(t("bulk.status"), CHECKLIST_STATUSES, key=f"bulk_{checklist.id}_status",
                       format_func=status_words.__getitem__, index=0)
        middle.text_input(t("bulk.evidence"), key=f"bulk_{checklist.id}_evidence",
                          max_chars=2000, placeholder=t("checklist.evidence_hint"))
        right.button(t("bulk.apply", count=len(selected)), key=f"bulk_{checklist.id}_apply",
                     type="primary", icon=":material/done_all:", disabled=not selected,
                     on_click=apply_bulk, args=(case.id, checklist.id), width="stretch")


_ROW_HEIGHT = 72


def _grid_height(rows: int) -> int:
    """Tall enough for every row (header 38 px, borders): the page scrolls, not the grid."""
    return 38 + _ROW_HEIGHT * rows + 2


def _grid_columns(status_words: dict[str, str], editable: bool) -> dict[str, Any]:
    cc = st.column_config
    columns: dict[str, Any] = {
        "id": cc.TextColumn(t("checklist.col_no"), width=60),
        "text": cc.TextColumn(t("checklist.col_item"), width=218),
        "why": cc.TextColumn(t("checklist.col_why"), width=140, help=t("grid.why_help")),
        "status": cc.SelectboxColumn(t("checklist.col_status"), width=92, required=True,
                                     options=[status_words[s] for s in CHECKLIST_STATUSES],
                                     help=t("checklist.status_help")),
        "evidence": cc.TextColumn(t("checklist.col_evidence"), width=156, max_chars=2000,
                                  help=t("grid.evidence_help")),
    }
    if editable:
        columns["sel"] = cc.CheckboxColumn(t("grid.col_select"), width=60,
                                           help=t("grid.select_help"))
    return columns
