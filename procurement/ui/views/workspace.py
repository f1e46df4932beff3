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

import io
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from procurement.db.models import BOARD_REPORT_FIELDS
from procurement.errors import ConflictError, InputError, ProcurementError, WorkflowError
from procurement.fiscal import to_jst
from procurement.records import readiness
from procurement.records.cases import CASE_DETAIL_FIELDS, CASE_DETAIL_MAX_LENGTHS
from procurement.records.policy import (
    CHECKLIST_STATUSES,
    EDITABLE_STATUSES,
    HOLDS_APPROVAL_STATUSES,
    SETTLED_CHECKLIST_STATUSES,
)
from procurement.ui import case_views, navigation, style, widgets
from procurement.ui.state import (
    CASE_KEY,
    callback,
    current_actor,
    error_text,
    flash,
    get_services,
    lang,
    pick,
    plain,
    run_page,
    t,
    word,
    words,
)

log = logging.getLogger(__name__)

SEEN_KEY = "_workspace_seen"  # (case id, version) the widgets were last filled from
TAB_KEY = "workspace_tab"
VIEW_KEY = "_workspace_view"  # the case as last read or saved by this session
ERROR_PREFIX = "_ws_error_"  # + widget key: the refusal to show under that field
GRID_PREFIX = "_grid_"  # grid snapshots, nonces, filters and pending rows, per checklist
HELPER_KEY = "_ws_helper"
SCROLL_KEY = "_ws_scroll"
WIDGET_PREFIXES = ("answer_", "board_", "intake_", "grid_", GRID_PREFIX, ERROR_PREFIX,
                   "bulk_")
#: Query parameters of this page.
CASE_PARAM, STEP_PARAM, VIEW_PARAM = "case", "step", "view"
#: Text fields saved while the user types (after a pause), besides when they are left.
DRAFT_DELAY_MS = 1000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- where the user is -----------------------------------------------------------------------


def _param(name: str) -> str | None:
    value = st.query_params.get(name)
    return value if isinstance(value, str) and value else None


def location() -> int | None:
    """The case this page shows: `?case=N`, else the one last opened in this tab (written into
    the address then, so that a reload keeps it)."""
    raw = _param(CASE_PARAM)
    if raw is not None:
        try:
            case_id = int(raw)
        except ValueError:
            return None
        st.session_state[CASE_KEY] = case_id
        return case_id
    opened = st.session_state.get(CASE_KEY)
    if isinstance(opened, int):
        st.query_params[CASE_PARAM] = str(opened)
        return opened
    return None


@callback
def _go_to(step_id: str) -> None:
    st.query_params[STEP_PARAM] = step_id
    st.session_state[SCROLL_KEY] = st.session_state.get(SCROLL_KEY, 0) + 1


# --- saving ----------------------------------------------------------------------------------


def _write(case_id: int, action: Callable[[Any, Any, int], Any], error_key: str | None = None
           ) -> bool:
    """Run one save for the signed-in actor against the version this session knows.

    The known version is the one the page showed, moved on by this session's own saves (so two
    quick changes in a row do not trip over each other). Someone else's save in between makes
    the service refuse with ConflictError: reported, and every widget is then refilled from the
    stored case. A refused input (InputError, WorkflowError) changes nothing stored: it is kept
    under `error_key` and shown under its field, whose widget keeps what the user typed.
    Returns whether it was saved.
    """
    actor = current_actor()
    seen = st.session_state.get(SEEN_KEY)
    if actor is None or not seen or seen[0] != case_id:
        return False
    try:
        view = action(get_services(), actor, seen[1])
    except ConflictError as exc:
        flash("error", exc)
        st.session_state[SEEN_KEY] = (case_id, None)  # refill every widget, stay on this step
        return False
    except ProcurementError as exc:
        if error_key is not None and isinstance(exc, (InputError, WorkflowError)):
            st.session_state[error_key] = exc
        else:
            flash("error", exc)
            st.session_state[SEEN_KEY] = (case_id, None)
        return False
    except Exception:  # noqa: BLE001 - a callback error would otherwise reach the browser
        log.exception("unexpected error while saving case %s", case_id)
        flash("error", "error.unexpected")
        st.session_state[SEEN_KEY] = (case_id, None)
        return False
    if error_key is not None:
        st.session_state.pop(error_key, None)
    st.session_state[SEEN_KEY] = (view.id, view.version)
    # The view the write returned is what is stored now: the run that follows shows it
    # instead of reading the case again.
    st.session_state[VIEW_KEY] = view
    return True


def field_error(key: str) -> None:
    """The refusal of the last save of field `key`, right under the field."""
    exc = st.session_state.get(ERROR_PREFIX + key)
    if exc is not None:
        st.error(error_text(exc), icon=":material/error:")


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
    if isinstance(value, list):
        value = value or None
    elif isinstance(value, str) and not value.strip():
        value = None
    _write(case_id, lambda svc, actor, version: svc.save_answers(actor, case_id, {qid: value},
                                                                 version),
           error_key=ERROR_PREFIX + f"answer_{qid}")


@callback
def save_board_field(case_id: int, name: str) -> None:
    _save_board(case_id, name, st.session_state.get(f"board_{name}") or "")


def _save_board(case_id: int, name: str, value: str) -> None:
    _write(case_id, lambda svc, actor, version: svc.save_board_report(
        actor, case_id, {name: value}, version), error_key=ERROR_PREFIX + f"board_{name}")


@callback
def save_detail(case_id: int, name: str) -> None:
    _save_detail(case_id, name, st.session_state.get(f"intake_{name}") or "")


def _save_detail(case_id: int, name: str, value: str) -> None:
    _write(case_id, lambda svc, actor, version: svc.save_case_details(
        actor, case_id, {name: value}, version), error_key=ERROR_PREFIX + f"intake_{name}")


@callback
def save_draft() -> None:
    """A text field's content after a pause in typing (the page's helper sends it): saved like
    leaving the field, without touching the field itself (the user is still typing in it)."""
    view = st.session_state.get(VIEW_KEY)
    if view is None:
        return
    case_id = view.id
    draft = (st.session_state.get(HELPER_KEY) or {}).get("draft") or {}
    key, value = draft.get("key"), draft.get("value")
    if not isinstance(key, str) or not isinstance(value, str):
        return
    if key.startswith("board_") and key[len("board_"):] in BOARD_REPORT_FIELDS:
        _save_board(case_id, key[len("board_"):], value)
    elif key.startswith("intake_") and key[len("intake_"):] in CASE_DETAIL_FIELDS:
        name = key[len("intake_"):]
        if name != "purpose" and not value.strip():
            return  # an empty title while retyping it is not a refusal worth showing yet
        _save_detail(case_id, name, value)


def sync_widgets(case) -> None:
    """Refill widgets from the stored case whenever it is not the version they show."""
    if st.session_state.get(SEEN_KEY) == (case.id, case.version):
        return
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and key.startswith(WIDGET_PREFIXES):
            del st.session_state[key]
    seen = st.session_state.get(SEEN_KEY)
    if seen and seen[0] == case.id and seen[1] is not None:
        # Moved on without this session: someone else saved.
        st.info(t("workspace.reloaded"), icon=":material/sync:")
    st.session_state[SEEN_KEY] = (case.id, case.version)


# --- the page's helper in the browser --------------------------------------------------------

_HELPER_JS = """
export default function (component) {
  const { data, setTriggerValue } = component;
  if (!data) return;
  const w = window;
  const state = w.__procurementWorkspace = w.__procurementWorkspace || { timers: {} };
  state.keys = new Set(data.keys || []);
  state.delay = data.delay || 1000;
  state.send = setTriggerValue;
  const keyOf = (el) => {
    const box = el.closest('[class*="st-key-"]');
    if (!box) return null;
    for (const name of box.classList) {
      if (name.startsWith("st-key-") && state.keys.has(name.slice(7))) return name.slice(7);
    }
    return null;
  };
  const schedule = (el) => {
    const key = keyOf(el);
    if (!key) return;
    clearTimeout(state.timers[key]);
    state.timers[key] = setTimeout(() => {
      if (state.composing) return;
      state.send("draft", { key: key, value: el.value, at: Date.now() });
    }, state.delay);
  };
  if (!state.installed) {
    state.installed = true;
    // Japanese is typed through an input method: nothing is sent while a word is composed.
    document.addEventListener("compositionstart", () => { state.composing = true; }, true);
    document.addEventListener("compositionend", (ev) => {
      state.composing = false; schedule(ev.target);
    }, true);
    document.addEventListener("input", (ev) => {
      const el = ev.target;
      if (!(el instanceof HTMLTextAreaElement || el instanceof HTMLInputElement)) return;
      if (ev.isComposing || state.composing) return;
      schedule(el);
    }, true);
  }
  if (data.scroll && state.scrolled !== data.scroll) {
    state.scrolled = data.scroll;
    const main = document.querySelector('[data-testid="stMain"]');
    if (main) main.scrollTo({ top: 0 });
    w.scrollTo({ top: 0 });
  }
  // On a narrow screen the step list is one sideways-scrolling line: show the current step
  // (after each run, and when the window becomes narrower).
  state.showCurrent = () => {
    const strip = document.querySelector(".st-key-ws_nav");
    const current = strip && Array.from(
      strip.querySelectorAll('[data-testid="stBaseButton-primary"]')).find(
      (b) => b.offsetParent !== null);
    if (current && strip.scrollWidth > strip.clientWidth) {
      const shift = current.getBoundingClientRect().left - strip.getBoundingClientRect().left;
      strip.scrollLeft = Math.max(0, strip.scrollLeft + shift - 24);
    }
  };
  if (!state.resizeInstalled) {
    state.resizeInstalled = true;
    w.addEventListener("resize", () => {
      clearTimeout(state.resizeTimer);
      state.resizeTimer = setTimeout(() => state.showCurrent(), 200);
    });
  }
  setTimeout(() => state.showCurrent(), 150);
}
"""
_helper = st.components.v2.component("procurement_workspace_helper", js=_HELPER_JS)


def render_helper(keys: list[str]) -> None:
    """Sends the text of `keys` fields (of the case this page shows) after each pause in
    typing, and scrolls to the top after a step change. Renders nothing visible."""
    _helper(key=HELPER_KEY, data={"keys": keys, "delay": DRAFT_DELAY_MS,
                                  "scroll": st.session_state.get(SCROLL_KEY, 0)},
            on_draft_change=save_draft)


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
                         on_change=save_detail, args=(case.id, name))
        else:
            st.text_input(label, key=key, max_chars=CASE_DETAIL_MAX_LENGTHS[name],
                          placeholder=t(f"intake.{name}_hint"),
                          on_change=save_detail, args=(case.id, name))
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
                     on_change=save_board_field, args=(case.id, name))
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


def render_gaps(pack, gaps, case_id: int | None = None) -> None:
    """What is missing, one line each, with a button to each step where something is missing."""
    st.markdown("\n".join(f"- {plain(gap_text(pack, g))}" for g in gaps))
    if case_id is None:
        return
    steps = list(dict.fromkeys(g.step for g in gaps))
    with st.container(horizontal=True):
        for step_id in steps:
            st.button(t("submit.go_to", step=widgets.step_title(pack, step_id)),
                      key=f"gap_go_{step_id}", icon=":material/arrow_forward:",
                      on_click=_go_to, args=(step_id,))


def render_submission(pack, case, editable: bool) -> None:
    gaps = readiness.submission_gaps(pack, case)
    if case.status in ("submitted", "approved"):
        st.success(t(f"submit.already_{case.status}"))
        return
    if not editable:
        return
    if gaps:
        st.warning(t("submit.missing_count", count=len(gaps)))
        render_gaps(pack, gaps, case.id)
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


def _grid_rows(pack, case, checklist) -> list[dict[str, Any]]:
    """The grid's rows as stored now (filters applied), with the pending rows this page holds
    (refused for want of evidence) in place of what is stored."""
    keys = _grid_keys(checklist.id)
    items, required, recommended = _grid_items(case, checklist)
    pending = st.session_state.get(keys["pending"], {})
    required_only = st.session_state.get(keys["required_only"], False)
    open_only = st.session_state.get(keys["open_only"], False)
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
        _write(case_id, lambda s, actor, version: s.set_checklist_items(actor, case_id, changes,
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
    if _write(case_id, lambda s, actor, version: s.set_checklist_items(actor, case_id, changes,
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
        st.dataframe(_grid_frame(_grid_rows(pack, case, checklist)).drop(columns=["sel"]),
                     hide_index=True, column_config=_grid_columns(status_words, False),
                     row_height=_ROW_HEIGHT, key=f"grid_view_{checklist.id}")
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
            height=38 + _ROW_HEIGHT * len(snapshot) + 2,
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


def _grid_columns(status_words: dict[str, str], editable: bool) -> dict[str, Any]:
    cc = st.column_config
    columns: dict[str, Any] = {
        "id": cc.TextColumn(t("checklist.col_no"), width=62),
        "text": cc.TextColumn(t("checklist.col_item"), width=262),
        "why": cc.TextColumn(t("checklist.col_why"), width=164, help=t("grid.why_help")),
        "status": cc.SelectboxColumn(t("checklist.col_status"), width=92, required=True,
                                     options=[status_words[s] for s in CHECKLIST_STATUSES],
                                     help=t("checklist.status_help")),
        "evidence": cc.TextColumn(t("checklist.col_evidence"), width=180, max_chars=2000,
                                  help=t("grid.evidence_help")),
    }
    if editable:
        columns["sel"] = cc.CheckboxColumn(t("grid.col_select"), width=64,
                                           help=t("grid.select_help"))
    return columns


# --- downloads and printing ------------------------------------------------------------------


def _stamp() -> str:
    return to_jst(datetime.now(UTC)).strftime("%Y%m%d-%H%M")


def _still_signed_in(svc, actor) -> None:
    # The file is made when the button is clicked, outside a page run: a session ended since
    # the page was drawn gets nothing.
    if actor.session_id is not None:
        svc.resume_session(session_id=actor.session_id)


def _case_workbook(svc, actor, case_id: int) -> Callable[[], bytes]:
    def build() -> bytes:
        from procurement.exports import build_case_workbook
        from procurement.files import scratch_dir

        _still_signed_in(svc, actor)
        path = scratch_dir() / f"case-{case_id}-{datetime.now().timestamp():.6f}.xlsx"
        try:
            build_case_workbook(svc.engine, case_id, path, registry=svc.registry,
                                org_codes=(actor.org_code,),
                                generated_by=actor.display_name or actor.username)
            return path.read_bytes()
        finally:
            Path(path).unlink(missing_ok=True)
    return build


def _board_document(svc, actor, case_id: int, kind: str, language: str
                    ) -> Callable[[], bytes]:
    def build() -> bytes:
        from procurement.caio.documents import render_document_html, write_document_xlsx

        _still_signed_in(svc, actor)
        doc = svc.board_report_document(actor, case_id, lang=language)
        if kind == "html":
            return render_document_html(doc).encode("utf-8")
        out = io.BytesIO()
        write_document_xlsx(doc, out)
        return out.getvalue()
    return build


def render_documents(svc, actor, pack, case) -> None:
    """The case's own documents, at any status: the print view, the case workbook and, when the
    case reports to a body, the report as Excel and as a printable page (made on click; a
    document of a case not yet approved says it is a draft)."""
    with st.popover(t("docs.button"), icon=":material/print:", key="docs_menu"):
        st.caption(t("docs.intro"))
        st.page_link(navigation.script("procurement/ui/pages/workspace.py"),
                     label=t("docs.print_view"), icon=":material/print:",
                     query_params={CASE_PARAM: str(case.id), VIEW_PARAM: "print"})
        st.download_button(t("docs.case_workbook"), data=_case_workbook(svc, actor, case.id),
                           file_name=f"{t('docs.case_file')}-{case.id}-{_stamp()}.xlsx",
                           mime=XLSX, key="dl_case_workbook", on_click="ignore",
                           icon=":material/table_view:", width="stretch")
        report_steps = pack.report_steps(case.classification)
        if report_steps or case.board_report:
            name = pick(report_steps[0].title) if report_steps else t("docs.report")
            language = lang()
            st.download_button(t("docs.report_xlsx", name=name),
                               data=_board_document(svc, actor, case.id, "xlsx", language),
                               file_name=f"{t('docs.report_file')}-{case.id}-{_stamp()}.xlsx",
                               mime=XLSX, key="dl_report_xlsx", on_click="ignore",
                               icon=":material/description:", width="stretch")
            st.download_button(t("docs.report_html", name=name),
                               data=_board_document(svc, actor, case.id, "html", language),
                               file_name=f"{t('docs.report_file')}-{case.id}-{_stamp()}.html",
                               mime="text/html", key="dl_report_html", on_click="ignore",
                               icon=":material/print:", width="stretch")


def render_print(svc, actor, pack, case) -> None:
    """The whole case on one page, for printing on A4 from the browser."""
    st.page_link(navigation.script("procurement/ui/pages/workspace.py"),
                 label=t("docs.back_to_case"), icon=":material/arrow_back:", query_params={CASE_PARAM: str(case.id)})
    with st.container(key="print_hint"):  # not printed (style.py)
        st.caption(t("docs.print_hint"))
    case_views.render_print(pack, case, printed_by=actor.display_name)


# --- the page --------------------------------------------------------------------------------


def body(actor) -> None:
    svc = get_services()
    style.apply()
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

    if _param(VIEW_PARAM) == "print":
        render_print(svc, actor, pack, case)
        return

    case_views.render_header(pack, case)
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
                label += t("workspace.nav_done")
            st.button(label, key=f"nav_{step_id}", width="stretch",
                      type="primary" if step_id == current else "secondary",
                      icon=":material/check_circle:" if finished else
                      (":material/arrow_right:" if step_id == current
                       else ":material/radio_button_unchecked:"),
                      help=t("workspace.nav_current") if step_id == current else None,
                      on_click=_go_to, args=(step_id,))


def render_work(pack, case, editable: bool) -> None:
    """The step list, the current step's content, and the live result beside it."""
    result = case.classification
    step_ids = [s.id for s in pack.steps if s.id in result.required_steps]
    done = readiness.completed_steps(pack, case)
    current = _step_of(pack, step_ids, _param(STEP_PARAM), done)
    if editable:
        keys = [f"board_{n}" for n in BOARD_REPORT_FIELDS] + [f"intake_{n}"
                                                              for n in CASE_DETAIL_FIELDS]
        render_helper(keys)

    nav, main = st.columns([1, 4], gap="medium", wrap=False)
    with nav:
        render_step_nav(pack, step_ids, current, done)
    with main:
        step = pack.step(current)
        st.header(plain(pick(step.title)), anchor=False)
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
                widgets.result_panel(pack, result, case=case)
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
        widgets.result_panel(pack, result, case=case)


def render_step_buttons(pack, step_ids: list[str], current: str) -> None:
    position = step_ids.index(current)
    with st.container(horizontal=True, key="ws_stepbuttons"):
        if position > 0:
            st.button(t("workspace.previous", step=widgets.step_title(pack, step_ids[position - 1])),
                      key="previous_step", icon=":material/arrow_back:",
                      on_click=_go_to, args=(step_ids[position - 1],))
        if position + 1 < len(step_ids):
            st.button(t("workspace.next", step=widgets.step_title(pack, step_ids[position + 1])),
                      key="next_step", icon=":material/arrow_forward:", type="primary",
                      on_click=_go_to, args=(step_ids[position + 1],))


def render() -> None:
    """The page, for every signed-in user."""
    run_page(body)
