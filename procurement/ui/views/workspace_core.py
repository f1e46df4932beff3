"""The workspace's core: where the user is (the page's query parameters), saving a change of
the case shown against the version this page showed, refilling widgets when the stored case
moved on, and the small helper in the browser that saves text while the user types.

Shared by the workspace's modules: `workspace` (the page and its steps' frame),
`workspace_steps` (questions, intake, board report, submission), `workspace_grid` (checklists)
and `workspace_documents` (downloads and the print view).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import streamlit as st

from procurement.db.models import BOARD_REPORT_FIELDS
from procurement.errors import ConflictError, InputError, ProcurementError, WorkflowError
from procurement.records.cases import CASE_DETAIL_FIELDS
from procurement.ui.state import (
    CASE_KEY,
    callback,
    current_actor,
    error_text,
    flash,
    get_services,
    t,
)

log = logging.getLogger(__name__)

SEEN_KEY = "_workspace_seen"  # (case id, version) the widgets were last filled from
TAB_KEY = "workspace_tab"
VIEW_KEY = "_workspace_view"  # the case as last read or saved by this session
ERROR_PREFIX = "_ws_error_"  # + widget key: the refusal to show under that field
GRID_PREFIX = "_grid_"  # grid snapshots, nonces, filters and pending rows, per checklist
HELPER_KEY = "_ws_helper"
SCROLL_KEY = "_ws_scroll"
FRAME_KEY = "_ws_frame"  # what the last whole-page run drew around the work area (workspace.frame)
LEFT_KEY = "_ws_left"  # text fields left in this run's callbacks (their drafts are older)
DRAWN_KEY = "_ws_drawn"  # (case, pack) the whole-page run hands to the work area it draws
WIDGET_PREFIXES = ("answer_", "board_", "intake_", "grid_", GRID_PREFIX, ERROR_PREFIX,
                   "bulk_")
#: Query parameters of this page.
CASE_PARAM, STEP_PARAM, VIEW_PARAM = "case", "step", "view"
#: Text fields saved while the user types (after a pause), besides when they are left.
DRAFT_DELAY_MS = 1000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- where the user is -----------------------------------------------------------------------


def param(name: str) -> str | None:
    value = st.query_params.get(name)
    return value if isinstance(value, str) and value else None


def location() -> int | None:
    """The case this page shows: `?case=N`, else the one last opened in this tab (written into
    the address then, so that a reload keeps it)."""
    raw = param(CASE_PARAM)
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
def go_to(step_id: str) -> None:
    st.query_params[STEP_PARAM] = step_id
    st.session_state[SCROLL_KEY] = st.session_state.get(SCROLL_KEY, 0) + 1


# --- saving ----------------------------------------------------------------------------------


def write_case(case_id: int, action: Callable[[Any, Any, int], Any], error_key: str | None = None
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
    write_case(case_id, lambda svc, actor, version: svc.save_answers(actor, case_id, {qid: value},
                                                                 version),
           error_key=ERROR_PREFIX + f"answer_{qid}")


def _left(key: str) -> None:
    """Note that the field `key` was left (its whole text saved) in this run: a draft of it that
    reached the server in the same run was sent before, so it is older (save_draft)."""
    st.session_state.setdefault(LEFT_KEY, set()).add(key)


def forget_left() -> None:
    """After the run's callbacks: the next run's drafts are compared afresh."""
    st.session_state.pop(LEFT_KEY, None)


#: The case's text fields by widget key prefix: which fields, and the service method that saves
#: them (`svc.<method>(actor, case_id, {name: value}, version)`).
TEXT_FIELDS = {"board": (BOARD_REPORT_FIELDS, "save_board_report"),
               "intake": (CASE_DETAIL_FIELDS, "save_case_details")}


def _text_field(key: str) -> tuple[str, str] | None:
    """(field name, service method) of a text field's widget key (`board_objectives`), else
    None."""
    prefix, _, name = key.partition("_")
    fields, method = TEXT_FIELDS.get(prefix, ((), ""))
    return (name, method) if name in fields else None


def _save_text(case_id: int, key: str, value: str) -> None:
    field = _text_field(key)
    if field is None:
        return
    name, method = field
    write_case(case_id, lambda svc, actor, version: getattr(svc, method)(
        actor, case_id, {name: value}, version), error_key=ERROR_PREFIX + key)


@callback
def save_text_field(case_id: int, key: str) -> None:
    """A text field left: its whole text saved (and its draft in this run ignored)."""
    _left(key)
    _save_text(case_id, key, st.session_state.get(key) or "")


@callback
def save_draft() -> None:
    """A text field's content after a pause in typing (the page's helper sends it): saved like
    leaving the field, without touching the field itself (the user is still typing in it)."""
    view = st.session_state.get(VIEW_KEY)
    if view is None:
        return
    draft = (st.session_state.get(HELPER_KEY) or {}).get("draft") or {}
    key, value = draft.get("key"), draft.get("value")
    if not isinstance(key, str) or not isinstance(value, str):
        return
    if key in st.session_state.get(LEFT_KEY, ()):
        # Sent before the field was left, and delivered with the leaving in one run: the text
        # saved on leaving is the newer one.
        return
    if key in ("intake_title", "intake_department") and not value.strip():
        return  # an empty title while retyping it is not a refusal worth showing yet
    _save_text(view.id, key, value)


def sync_widgets(case) -> bool:
    """Refill widgets from the stored case whenever it is not the version they show; returns
    whether it did."""
    if st.session_state.get(SEEN_KEY) == (case.id, case.version):
        return False
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and key.startswith(WIDGET_PREFIXES):
            del st.session_state[key]
    seen = st.session_state.get(SEEN_KEY)
    if seen and seen[0] == case.id and seen[1] is not None:
        # Moved on without this session: someone else saved.
        st.info(t("workspace.reloaded"), icon=":material/sync:")
    st.session_state[SEEN_KEY] = (case.id, case.version)
    return True


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
