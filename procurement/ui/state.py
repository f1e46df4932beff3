"""Per-session state of the app: services, the signed-in actor, language, errors, JST dates.

Every page uses these helpers instead of touching `st.session_state` keys directly, so the keys
below are the whole session contract (tests preset them before the first run):

- `web_session_id`: the server-side session this tab is signed in with (`procurement.records.
  sessions`); the actor is resumed from it at the start of every run.
- `actor`: the signed-in `procurement.services.Actor` as resumed this run, or absent.
- `lang`: "ja" (default) or "en".
- `case_id`: the case open in the workspace.
- `_sso_problem`: why a single sign-on identity did not sign anyone in (the sign-in page says so).
"""

from __future__ import annotations

import functools
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import streamlit as st

from procurement import config, events, vocabulary
from procurement.errors import AuthenticationError, ProcurementError
from procurement.fiscal import to_jst
from procurement.records.sessions import SessionEndedError
from procurement.ui.i18n import DEFAULT_LANGUAGE, LANGUAGES, catalog, placeholders, translate

log = logging.getLogger(__name__)

#: Japan has had no daylight saving time since 1951, so a fixed offset is exact.

ACTOR_KEY = "actor"
LANG_KEY = "lang"
SESSION_KEY = "web_session_id"
PENDING_COOKIE_KEY = "_cookie_action"
CASE_KEY = "case_id"
FLASH_KEY = "_flash"
SSO_PROBLEM_KEY = "_sso_problem"
_LANG_WIDGET = "lang_switch"



# --- services --------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _build_services(database_url: str, rules_dir: str):
    # Imported here so that a page importing `state` does not pay for the whole stack twice,
    # and cached per (URL, rules folder): one engine per database for the whole server.
    # `open_services` is the one place services are built, so the app sees the packs installed
    # in the database as well as the shipped ones; a pack that no longer loads is logged.
    from procurement.notify import worker
    from procurement.runtime import open_services

    svc = open_services(database_url, rules_dir, warn=log.warning)
    # This process sends the e-mail notifications its users' changes queue (when configured).
    worker.start(svc)
    return svc


def get_services():
    """The shared `Services` for the configured database (PROCUREMENT_DATABASE_URL) and rules."""
    return _build_services(config.database_url(), str(config.rules_dir()))


# --- language --------------------------------------------------------------------------------


# The language of the script run in progress. A page asks for it hundreds of times per run and
# each session-state read costs ~0.1 ms, so `begin_run` reads it once per run; the value lives
# in a thread-local because each session's run executes on its own script thread.
_run = threading.local()


def _session_lang() -> str:
    value = st.session_state.get(LANG_KEY, DEFAULT_LANGUAGE)
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def lang() -> str:
    """The user's language ("ja" unless switched)."""
    return getattr(_run, "lang", None) or _session_lang()


def begin_run():
    """Start of every script run (app.py): resume the signed-in session (or end it), fix the
    run's language. Returns the signed-in actor, or None."""
    _run.lang = None  # callbacks read the session itself
    try:
        actor = resolve_actor()
    except ProcurementError as exc:  # e.g. the database cannot be reached: say so, show nothing
        _run.lang = _session_lang()
        show_error(exc)
        st.stop()
    _run.lang = _session_lang()
    return actor


def t(key: str, **params: Any) -> str:
    """The catalog text for `key` in the user's language."""
    return translate(lang(), key, **params)


def word(kind: str, code: str | None) -> str:
    """The vocabulary's word for a stored code in the user's language (`procurement.vocabulary`:
    the one place codes get words; the catalogs hold none)."""
    return vocabulary.word(kind, code, lang())


def words(kind: str) -> dict[str, str]:
    """Every code of `kind` -> its word in the user's language (option labels, computed in the
    run: a `format_func` must not translate later, outside it)."""
    return vocabulary.words(kind, lang())


def event_title(event_type: str) -> str:
    """An audit event type in words, in the user's language."""
    return events.event_title(event_type, lang())


def pick(texts: Any) -> str:
    """The user's language from a `{ja, en}` mapping of pack text (Japanese when missing)."""
    if texts is None:
        return ""
    if isinstance(texts, str):
        return texts
    getter = texts.get if isinstance(texts, dict) else (lambda k, d=None: getattr(texts, k, d))
    return getter(lang()) or getter(DEFAULT_LANGUAGE) or ""


def _switch_language() -> None:
    st.session_state[LANG_KEY] = st.session_state[_LANG_WIDGET]
    _run.lang = None


def render_language_switch() -> None:
    """The ja / en switch (each language named in itself, so anyone can find theirs)."""
    st.session_state[_LANG_WIDGET] = lang()
    st.segmented_control(
        translate(lang(), "common.language"),
        LANGUAGES,
        format_func=lambda code: translate(code, "common.language_name"),
        key=_LANG_WIDGET,
        required=True,
        on_change=_switch_language,
    )


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")
#: WORD JOINER: invisible and zero-width. Placed after every ':' (breaks "http://", ":material/x:"
#: and ":smile:"), between "www" and "." and before "@": the autolink and shortcode transforms
#: run on the text after escapes are resolved, so backslashes alone do not stop them.
_WORD_JOINER = "\u2060"
_AUTOLINK_TRIGGERS = re.compile(r"(?i)(?<=:)|(?<=www)(?=\.)|(?=@)")


def plain(text: Any) -> str:
    """`text` (a user's or a pack's) escaped so that Streamlit's markdown shows it literally: no
    link (bare URLs included), image, HTML, emphasis, colour, icon or math. Every element that
    renders markdown (captions, labels, options, alerts, tabs, expanders, `st.table` cells) gets
    data through this; `st.text`, `st.code` and `st.dataframe` cells show text as it is."""
    value = _AUTOLINK_TRIGGERS.sub(_WORD_JOINER, str(text if text is not None else ""))
    return _MARKDOWN_SPECIAL.sub(r"\\\1", value).replace("\n", "  \n")


# --- dates -----------------------------------------------------------------------------------


def format_jst(value: datetime | date | None, with_time: bool = True) -> str:
    """A moment in words, in Japan time, in the user's language: `2026年11月30日 13:05` (ja) or
    `30 Nov 2026 13:05` (en); a date alone when `with_time` is False. Never an ISO string on a
    screen."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        # Stored timestamps are UTC; a naive one can only be UTC that lost its zone.
        local = to_jst(value)
        day, clock = local.date(), local.strftime("%H:%M")
    else:
        day, clock = value, ""
    if lang() == "ja":
        text = f"{day.year}年{day.month}月{day.day}日"
    else:
        text = f"{day.day} {day.strftime('%b')} {day.year}"
    return f"{text} {clock}" if with_time and clock else text


# --- actor and session -----------------------------------------------------------------------


def client_address() -> str:
    """The browser's address as the server sees it (the sign-in back-off is kept per address)."""
    try:
        value = st.context.ip_address
    except Exception:  # noqa: BLE001 - no request context: no address
        return ""
    return value if isinstance(value, str) else ""


def current_actor():
    """The signed-in actor (resolved from the server-side session at the start of the run), or
    None."""
    return st.session_state.get(ACTOR_KEY)


#: Why a session ended -> the catalog key that tells the user.
_ENDED_MESSAGES = {
    "idle": "auth.session_expired",
    "deactivated": "auth.account_inactive",
    "roles_changed": "auth.session_roles_changed",
    "password_reset": "auth.session_password_reset",
}


def resolve_actor():
    """The actor of this browser tab's server-side session, checked now (idle timeout,
    revocation, the account as stored): from the session id this tab holds, else from the
    session cookie (a reload, a link opened in a new tab). None when signed out; an ended
    session is forgotten and the user is told why.

    The start of every run calls it, and so does every guarded widget callback (callbacks run
    before the page body)."""
    svc = get_services()
    session_id = st.session_state.get(SESSION_KEY)
    token = None if session_id is not None else session_cookie()
    if session_id is None and not token:
        if ACTOR_KEY in st.session_state:  # an actor without a session is not signed in
            _forget(keep_flashes=True)
        return _sign_in_from_identity()
    try:
        actor = svc.resume_session(session_id=session_id, token=token)
    except SessionEndedError as exc:
        reason = str(exc.params.get("reason", ""))
        _forget(keep_flashes=True)
        # Say why, unless it is only a stale cookie of a session nobody here knew of.
        if reason in _ENDED_MESSAGES or (session_id is not None and reason != "unknown"):
            flash("warning", _ENDED_MESSAGES.get(reason, "auth.session_ended"),
                  minutes=int(config.session_timeout_minutes()))
        queue_cookie("clear")
        return None
    st.session_state[SESSION_KEY] = actor.session_id
    st.session_state[ACTOR_KEY] = actor
    _bind(actor.session_id)
    return actor


def session_cookie() -> str | None:
    """The session cookie of this tab's connection, if any."""
    from procurement.ui.server import COOKIE

    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # noqa: BLE001 - no request context: no cookie
        return None
    return value if isinstance(value, str) and value else None


def _bind(session_id: int | None) -> None:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    from procurement.ui import server

    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is not None:
        server.bind(ctx.session_id, session_id)


def sign_in(actor, via: str = "password") -> None:
    """Start a server-side session for `actor` (who just proved who they are) and have the
    browser fetch its cookie; drafts of a previous user are not carried over."""
    session_id, ticket = get_services().start_session(actor, via=via, client=client_address())
    _forget()
    st.session_state[SESSION_KEY] = session_id
    st.session_state[ACTOR_KEY] = replace(actor, session_id=session_id)
    _bind(session_id)
    queue_cookie("establish", ticket=ticket)


def sso_enabled() -> bool:
    """Whether single sign-on is configured (`[auth]` for `st.login`, from secrets.toml or the
    `PROCUREMENT_OIDC_*` variables through `st.App(secrets=...)`)."""
    try:
        return bool(st.secrets.load_if_toml_exists() and st.secrets.get("auth"))
    except Exception:  # noqa: BLE001 - unreadable secrets: no single sign-on
        return False


def _identity() -> dict[str, Any] | None:
    """The identity provider's claims about this browser (`st.user`), if it signed in."""
    try:
        if not st.user.is_logged_in:
            return None
        return dict(st.user.to_dict())
    except Exception:  # noqa: BLE001 - no request context (AppTest) or no auth: no identity
        return None


def _sign_in_from_identity():
    """Start a session from a single sign-on identity, when it is fresh and maps to an account.

    Streamlit keeps the identity cookie for 30 days, so `st.user` alone would undo the idle
    timeout and every revocation: only a sign-in at the provider within
    `config.sso_max_age_seconds()` (its `auth_time`, else the token's `iat`) starts a session.
    Otherwise the sign-in page offers to sign in again (`st.login`, which asks the provider
    to re-authenticate). Returns the actor, or None."""
    if not sso_enabled():
        return None
    claims = _identity()
    if claims is None:
        return None
    signed_at = claims.get("auth_time") or claims.get("iat")
    if (not isinstance(signed_at, (int, float))
            or time.time() - float(signed_at) > config.sso_max_age_seconds()):
        st.session_state[SSO_PROBLEM_KEY] = "sso_stale"
        return None
    try:
        actor = get_services().sign_in_with_identity(
            claims, match=config.sso_match(), claim=config.sso_claim(), client=client_address())
    except AuthenticationError as exc:
        st.session_state[SSO_PROBLEM_KEY] = str(exc.params.get("reason") or "sso_no_account")
        return None
    st.session_state.pop(SSO_PROBLEM_KEY, None)
    sign_in(actor, via="sso")
    flash("success", "auth.welcome", name=plain(actor.display_name))
    return st.session_state[ACTOR_KEY]


def sign_out() -> None:
    """End the session on the server (a copied cookie is then worthless), forget everything the
    tab held but the language, and have the browser delete the cookie."""
    session_id = st.session_state.get(SESSION_KEY)
    if session_id is not None:
        try:
            get_services().end_session(session_id)
        except ProcurementError:
            log.warning("could not end session %s on sign-out", session_id, exc_info=True)
    _forget()
    queue_cookie("clear")


def _forget(keep_flashes: bool = False) -> None:
    keep_lang = _session_lang()
    flashes = st.session_state.get(FLASH_KEY, []) if keep_flashes else []
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state[LANG_KEY] = keep_lang
    if flashes:
        st.session_state[FLASH_KEY] = flashes
    _bind(None)


def queue_cookie(action: str, ticket: str | None = None) -> None:
    """Have the page POST to the cookie route (`establish` with the sign-in ticket, or
    `clear`) on this run; `render_cookie_sync` does it."""
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    prefix = f"/{base}" if base else ""
    st.session_state[PENDING_COOKIE_KEY] = {
        "url": f"{prefix}/api/session/{action}", "ticket": ticket, "nonce": secrets.token_hex(8)}


_COOKIE_JS = """
export default function (component) {
  const { data, setTriggerValue } = component;
  if (!data || !data.url) return;
  window.__procurementCookie = window.__procurementCookie || new Set();
  if (window.__procurementCookie.has(data.nonce)) return;  // a rerun re-mounts: POST once
  window.__procurementCookie.add(data.nonce);
  fetch(data.url, {
    method: "POST", credentials: "same-origin", cache: "no-store",
    headers: { "Content-Type": "application/json", "X-Procurement": "1" },
    body: JSON.stringify({ ticket: data.ticket || null }),
  }).then((r) => setTriggerValue("done", { nonce: data.nonce, status: r.status }))
    .catch(() => setTriggerValue("done", { nonce: data.nonce, status: 0 }));
}
"""
_cookie_sync = st.components.v2.component("procurement_cookie_sync", js=_COOKIE_JS)


def _cookie_done() -> None:
    done = (st.session_state.get("_cookie_sync") or {}).get("done") or {}
    pending = st.session_state.get(PENDING_COOKIE_KEY)
    if pending and done.get("nonce") == pending["nonce"]:
        st.session_state.pop(PENDING_COOKIE_KEY, None)


def render_cookie_sync() -> None:
    """Send the pending cookie request (after sign-in or sign-out), once; app.py calls it on
    every run. Renders nothing visible."""
    pending = st.session_state.get(PENDING_COOKIE_KEY)
    if pending:
        _cookie_sync(key="_cookie_sync", data=pending, on_done_change=_cookie_done)


def callback(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a widget callback so that it runs only for a live session: Streamlit runs callbacks
    before the page body, so without this an expired session's click would still act. (The
    services refuse a write of an ended session anyway; this also keeps the page from acting
    on anything else.) A test checks that every callback in the UI is wrapped."""

    @functools.wraps(fn)
    def guarded_callback(*args: Any, **kwargs: Any) -> Any:
        if resolve_actor() is None:
            return None
        return fn(*args, **kwargs)

    guarded_callback.__procurement_guarded__ = True  # type: ignore[attr-defined]
    return guarded_callback


def has_any_role(actor, roles: Iterable[str]) -> bool:
    """Whether `actor` holds one of `roles` (an empty `roles` means any signed-in user)."""
    roles = frozenset(roles)
    return actor is not None and (not roles or bool(roles & frozenset(actor.roles)))


def require_roles(*roles: str):
    """The actor if signed in with one of `roles`; otherwise explain and stop the page."""
    actor = current_actor()
    if actor is None:
        st.warning(t("auth.sign_in_required"))
        st.stop()
    if not has_any_role(actor, roles):
        st.error(t("auth.not_allowed", roles=(", " if lang() == "en" else "、").join(word("role", r) for r in roles)))
        st.stop()
    return actor


# --- messages and errors ---------------------------------------------------------------------


def flash(kind: str, key: str | ProcurementError, **params: Any) -> None:
    """A message shown once at the top of the next page run (survives `st.rerun`).

    `key` is a catalog key, or a library error (shown as `error.<code>`); callbacks use this
    because they run before the page and cannot place elements themselves.
    """
    st.session_state.setdefault(FLASH_KEY, []).append((kind, key, params))


def show_flashes() -> None:
    """Show and forget the pending flash messages."""
    for kind, key, params in st.session_state.pop(FLASH_KEY, []):
        text = error_text(key) if isinstance(key, ProcurementError) else t(key, **params)
        {"success": st.success, "warning": st.warning, "error": st.error}.get(kind, st.info)(text)


def _param_text(name: str, value: Any) -> str:
    if isinstance(value, datetime):
        return format_jst(value)
    if name == "status" and isinstance(value, str):
        # A case's status, or an incident's (a closed incident refuses changes).
        kind = "incident_status" if value in vocabulary.TERMS["incident_status"] else "case_status"
        return word(kind, value)
    if name == "field" and isinstance(value, str):
        label = catalog(lang()).get(f"field.{value}")
        return label if label is not None else value
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(str(v) for v in value)
    return str(value)


def error_text(exc: ProcurementError) -> str:
    """The translated message for a library error, with what to do next.

    The most specific catalog entry whose fields the error can fill wins:
    `error.<code>.field_<field>`, then `error.<code>.<param>` for each param the error carries,
    then `error.<code>`; a code without any entry gets `error.generic`.
    """
    texts = catalog(lang())
    params = {name: _param_text(name, value) for name, value in exc.params.items()}
    candidates = []
    if isinstance(exc.params.get("field"), str):
        candidates.append(f"error.{exc.code}.field_{exc.params['field']}")
    candidates += [f"error.{exc.code}.{name}" for name in exc.params]
    candidates.append(f"error.{exc.code}")
    for key in candidates:
        template = texts.get(key)
        if template is not None and placeholders(template) <= params.keys():
            return t(key, **params)
    return t("error.generic", code=exc.code)


def show_error(exc: ProcurementError) -> None:
    """Show a library error in the user's language, with what to do next."""
    st.error(error_text(exc), icon=":material/error:")


@contextmanager
def guarded():
    """Show library errors as messages, and anything unexpected as an apology (never a traceback).

    Streamlit's own control flow (`st.rerun`, `st.stop`, `st.switch_page`) derives from
    BaseException and passes through untouched.
    """
    try:
        yield
    except ProcurementError as exc:
        show_error(exc)
    except Exception:  # noqa: BLE001 - the user must never see a traceback; the log keeps it
        log.exception("unexpected error in a page")
        st.error(t("error.unexpected"), icon=":material/error:")


def run_page(body: Callable[[Any], None], roles: Iterable[str] = ()) -> None:
    """Run a page body for a signed-in actor holding one of `roles`, with errors shown kindly."""
    show_flashes()
    actor = require_roles(*roles)
    with guarded():
        body(actor)


def _sign_out_clicked() -> None:
    sign_out()
    flash("info", "auth.signed_out")
    if _identity() is not None:
        # Also forget the provider's identity (Streamlit's 30-day cookie) and end the provider's
        # session: `st.logout` navigates to /auth/logout, whose response also deletes our cookie
        # (server.ClearOnLogout), since the page's own clear request may not run first.
        st.logout()


def org_name(actor) -> str:
    """The name of the actor's organisation, as people call it (read once per session; the
    code when it cannot be read)."""
    cached = st.session_state.get("_org_name")
    if isinstance(cached, tuple) and cached[0] == actor.org_code:
        return cached[1]
    try:
        name = get_services().get_org(actor, actor.org_code).name
    except Exception:  # the sidebar must never break a page
        log.exception("could not read the name of organisation %s", actor.org_code)
        return actor.org_code
    st.session_state["_org_name"] = (actor.org_code, name)
    return name


def render_sidebar(actor) -> None:
    """Language switch, who is signed in, and sign-out: the same on every page."""
    with st.sidebar:
        render_language_switch()
        if actor is not None:
            st.caption(t("auth.signed_in_as", name=plain(actor.display_name),
                         org=plain(org_name(actor)))
                       + "  \n" + " · ".join(word("role", role) for role in sorted(actor.roles)))
            st.button(t("auth.sign_out"), key="sign_out", icon=":material/logout:",
                      on_click=_sign_out_clicked)
