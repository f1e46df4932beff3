"""The administration page (administrators): the installation's organisations and user accounts.

Three tabs. Users: every account with its roles, e-mail address, state and last sign-in (JST), a
form to add one, and for a chosen account deactivate / reactivate, unlock, the e-mail address
and a new password. Organisations: the list with each one's rule-pack choice, a form to add one,
and a change of an organisation's pack. Notifications: whether e-mail is configured (never the
password), how many messages wait, were sent or were given up, the ones that failed with the
server's answer, and a retry. Every change goes through `procurement.services`, which checks the
admin role and audit-logs it.

Forms are handled in their submit callbacks: a callback runs before the page and may still empty
widgets, so the password fields are cleared there and a password never outlives its submit in
the session; results and errors are shown by `flash` at the top of the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import streamlit as st

from procurement.errors import ProcurementError
from procurement.fiscal import JST, as_utc
from procurement.notify import worker
from procurement.records.organisations import national_edition_on
from procurement.records.policy import ORG_KINDS
from procurement.records.policy import ROLES as ALL_ROLES
from procurement.records.security import MIN_PASSWORD_LENGTH
from procurement.ui.state import (
    callback,
    flash,
    format_jst,
    get_services,
    pick,
    plain,
    run_page,
    show_error,
    t,
    word,
    words,
)

log = logging.getLogger(__name__)

ROLES = ("admin",)

# Widget keys. The password ones are emptied by every callback that reads them.
NEW_PASSWORD = "admin_user_password"
NEW_PASSWORD2 = "admin_user_password2"
RESET_PASSWORD = "admin_reset_password"
RESET_PASSWORD2 = "admin_reset_password2"
PASSWORD_KEYS = (NEW_PASSWORD, NEW_PASSWORD2, RESET_PASSWORD, RESET_PASSWORD2)
MANAGED_USER = "admin_manage_user"
EMAIL_KEY = "admin_user_new_email"
ALL = ""  # the organisation filter "every organisation"
NATIONAL_BY_DATE = ""  # the pack choice "national edition in force by date" (None in services)


# -- helpers ----------------------------------------------------------------------------------


def _handled(work: Callable[..., None]) -> Callable[..., None]:
    """A submit callback: library errors become translated flashes, anything else an apology
    (never a traceback), and the password fields are emptied whatever happened."""

    def handled(*args: Any) -> None:
        try:
            work(*args)
        except ProcurementError as exc:
            flash("error", exc)
        except Exception:  # noqa: BLE001 - the user must never see a traceback; the log keeps it
            log.exception("unexpected error on the administration page")
            flash("error", "error.unexpected")
        finally:
            for key in PASSWORD_KEYS:
                if key in st.session_state:
                    st.session_state[key] = ""

    return callback(handled)




def _is_locked(user, now: datetime) -> bool:
    until = as_utc(user.locked_until)
    return until is not None and until > now


def _national_in_force(svc) -> str | None:
    try:
        return national_edition_on(svc.registry, svc.clock().astimezone(JST).date()).key
    except ProcurementError:
        return None


def _pack_labels(svc) -> dict[str, str]:
    """Pack choice -> label in the user's language (computed in the run, see navigation docs)."""
    in_force = _national_in_force(svc)
    labels: dict[str, str] = {
        NATIONAL_BY_DATE: t("admin.pack_by_date", pack=in_force or "-"),
    }
    for pack in svc.registry.packs():
        labels[pack.key] = f"{pack.key} — {pick(pack.title)}"
    return labels


def _stored_choice(svc, pack_ref: str | None) -> str:
    """The registry key an organisation's stored ref stands for (the ref itself if unknown)."""
    if pack_ref is None:
        return NATIONAL_BY_DATE
    try:
        return svc.registry.resolve(pack_ref).key
    except ProcurementError:
        return pack_ref


def _role_names(roles) -> str:
    return "・".join(word("role", r) for r in roles)


# -- users ------------------------------------------------------------------------------------


def _add_user(actor) -> None:
    state = st.session_state
    password, confirm = state.get(NEW_PASSWORD, ""), state.get(NEW_PASSWORD2, "")
    if password != confirm:
        flash("error", "admin.password_mismatch")
        return
    user = get_services().create_user(
        actor, state["admin_user_org"], (state.get("admin_user_username") or "").strip(),
        state.get("admin_user_display_name") or "", password, state.get("admin_user_roles") or [],
        email=(state.get("admin_user_email") or "").strip() or None)
    flash("success", "admin.user_added", username=plain(user.username), org=plain(user.org_code))
    for key in ("admin_user_username", "admin_user_display_name", "admin_user_email"):
        state[key] = ""
    state["admin_user_roles"] = []


def _set_active(actor, username: str, is_active: bool) -> None:
    get_services().set_user_active(actor, username, is_active)
    flash("success", "admin.user_activated" if is_active else "admin.user_deactivated",
          username=plain(username))


def _unlock(actor, username: str) -> None:
    get_services().unlock_user(actor, username)
    flash("success", "admin.user_unlocked", username=plain(username))


def _set_email(actor, username: str) -> None:
    address = (st.session_state.get(EMAIL_KEY) or "").strip() or None
    get_services().set_user_email(actor, username, address)
    flash("success", "notify.email_set" if address else "notify.email_cleared",
          username=plain(username))


def _retry_notifications(actor) -> None:
    count = get_services().retry_notifications(actor)
    worker.wake()
    flash("success", "notify.retried", count=count)


def _reset_password(actor, username: str) -> None:
    state = st.session_state
    if state.get(RESET_PASSWORD, "") != state.get(RESET_PASSWORD2, ""):
        flash("error", "admin.password_mismatch")
        return
    get_services().set_user_password(actor, username, state.get(RESET_PASSWORD, ""))
    flash("success", "admin.password_reset", username=plain(username))


def render_user_list(users, now: datetime) -> None:
    st.dataframe([
        {
            t("admin.col_org"): u.org_code,
            t("admin.col_username"): u.username,
            t("admin.col_display_name"): u.display_name,
            t("notify.col_email"): u.email or "",
            t("admin.col_roles"): _role_names(u.roles),
            t("admin.col_active"): t("common.yes") if u.is_active else t("common.no"),
            t("admin.col_locked_until"): format_jst(as_utc(u.locked_until))
            if _is_locked(u, now) else "-",
            t("admin.col_last_login"): format_jst(u.last_login_at),
            t("admin.col_created"): format_jst(u.created_at),
        }
        for u in users
    ], hide_index=True, width="stretch", key="admin_users_table")


def render_add_user(actor, orgs) -> None:
    st.subheader(t("admin.user_add_heading"))
    org_labels = {o.code: f"{o.code} — {o.name}" for o in orgs}
    role_labels = {r: word("role", r) for r in ALL_ROLES}
    codes = list(org_labels)
    with st.form("admin_user_form"):
        left, right = st.columns(2)
        left.selectbox(t("admin.org"), codes, key="admin_user_org",
                       index=codes.index(actor.org_code) if actor.org_code in codes else 0,
                       format_func=org_labels.__getitem__)
        right.multiselect(t("admin.roles"), ALL_ROLES, key="admin_user_roles",
                          format_func=role_labels.__getitem__, placeholder=t("admin.roles_pick"))
        left.text_input(t("auth.username"), key="admin_user_username", max_chars=100,
                        help=t("admin.username_help"))
        right.text_input(t("auth.display_name"), key="admin_user_display_name", max_chars=200)
        left.text_input(t("notify.email"), key="admin_user_email", max_chars=254,
                        help=t("notify.email_help"), placeholder="name@example.go.jp")
        left.text_input(t("auth.password"), type="password", key=NEW_PASSWORD,
                        help=t("admin.password_help", min_length=MIN_PASSWORD_LENGTH))
        right.text_input(t("auth.password_confirm"), type="password", key=NEW_PASSWORD2)
        st.form_submit_button(t("admin.user_add"), key="admin_user_submit", type="primary",
                              icon=":material/person_add:", on_click=_handled(_add_user),
                              args=(actor,))


def render_manage_user(actor, users, now: datetime) -> None:
    st.subheader(t("admin.manage_heading"))
    by_name = {u.username: u for u in users}
    if st.session_state.get(MANAGED_USER) not in by_name:
        st.session_state.pop(MANAGED_USER, None)
    labels = {name: f"{name} — {u.display_name} ({u.org_code})" for name, u in by_name.items()}
    username = st.selectbox(t("admin.manage_pick"), list(by_name), key=MANAGED_USER,
                            format_func=labels.__getitem__)
    user = by_name[username]
    locked = _is_locked(user, now)
    state = t("admin.state_active") if user.is_active else t("admin.state_inactive")
    if locked:
        state += " · " + t("admin.state_locked", until=format_jst(as_utc(user.locked_until)))
    st.caption(t("admin.manage_state", username=plain(user.username), state=state,
                 roles=_role_names(user.roles)))
    first, second = st.columns(2)
    if user.is_active:
        is_self = user.username == actor.username
        first.button(t("admin.deactivate"), key="admin_deactivate", icon=":material/person_off:",
                     disabled=is_self, help=t("admin.deactivate_self") if is_self else None,
                     on_click=_handled(_set_active), args=(actor, user.username, False))
    else:
        first.button(t("admin.reactivate"), key="admin_reactivate", icon=":material/person_check:",
                     on_click=_handled(_set_active), args=(actor, user.username, True))
    second.button(t("admin.unlock"), key="admin_unlock", icon=":material/lock_open:",
                  disabled=not locked, on_click=_handled(_unlock), args=(actor, user.username))
    with st.form("admin_email_form"):
        st.markdown(t("notify.email_heading", username=plain(user.username)))
        # One field per account, starting at its stored address.
        st.session_state.setdefault(EMAIL_KEY + "_of", None)
        if st.session_state[EMAIL_KEY + "_of"] != user.username:
            st.session_state[EMAIL_KEY] = user.email or ""
            st.session_state[EMAIL_KEY + "_of"] = user.username
        st.text_input(t("notify.email"), key=EMAIL_KEY, max_chars=254,
                      help=t("notify.email_help"), placeholder="name@example.go.jp")
        st.form_submit_button(t("notify.email_save"), key="admin_email_submit",
                              icon=":material/mail:", on_click=_handled(_set_email),
                              args=(actor, user.username))
    with st.form("admin_reset_form"):
        st.markdown(t("admin.reset_heading", username=plain(user.username)))
        left, right = st.columns(2)
        left.text_input(t("admin.new_password"), type="password", key=RESET_PASSWORD,
                        help=t("admin.password_help", min_length=MIN_PASSWORD_LENGTH))
        right.text_input(t("auth.password_confirm"), type="password", key=RESET_PASSWORD2)
        st.form_submit_button(t("admin.reset"), key="admin_reset_submit", icon=":material/key:",
                              on_click=_handled(_reset_password), args=(actor, user.username))


def render_users(svc, actor) -> None:
    now = svc.clock()
    orgs = svc.list_orgs(actor)
    everyone = t("admin.all_orgs")
    org_filter = st.selectbox(t("admin.filter_org"), [ALL, *(o.code for o in orgs)],
                              key="admin_users_org",
                              format_func=lambda code: code or everyone)
    users = svc.list_users(actor, org_filter or None)
    st.caption(t("admin.user_count", count=len(users)))
    render_user_list(users, now)
    if users:
        render_manage_user(actor, users, now)
    render_add_user(actor, orgs)


# -- organisations ----------------------------------------------------------------------------


def _add_org(actor) -> None:
    state = st.session_state
    org = get_services().create_org(
        actor, (state.get("admin_org_code") or "").strip(), state.get("admin_org_name") or "",
        state["admin_org_kind"], state.get("admin_org_pack") or None)
    flash("success", "admin.org_added", org=plain(org.code), name=plain(org.name))
    for key in ("admin_org_code", "admin_org_name"):
        state[key] = ""


def _set_pack(actor, code: str, key: str) -> None:
    ref = st.session_state.get(key) or None
    get_services().set_org_pack(actor, code, ref)
    flash("success", "admin.org_pack_set", org=plain(code), pack=ref or t("admin.pack_by_date_short"))


def render_org_list(svc, orgs) -> None:
    in_force = _national_in_force(svc) or "-"
    st.dataframe([
        {
            t("admin.col_code"): o.code,
            t("admin.col_name"): o.name,
            t("admin.col_kind"): word("org_kind", o.kind),
            t("admin.col_pack"): o.pack_ref or t("admin.pack_by_date", pack=in_force),
            t("admin.col_created"): format_jst(o.created_at),
        }
        for o in orgs
    ], hide_index=True, width="stretch", key="admin_orgs_table")


def render_org_pack(svc, actor, orgs, labels) -> None:
    st.subheader(t("admin.org_pack_heading"))
    st.caption(t("admin.org_pack_help"))
    by_code = {o.code: o for o in orgs}
    org_labels = {code: f"{code} — {o.name}" for code, o in by_code.items()}
    code = st.selectbox(t("admin.org"), list(by_code), key="admin_pack_org",
                        format_func=org_labels.__getitem__)
    current = _stored_choice(svc, by_code[code].pack_ref)
    choices = dict(labels)
    if current not in choices:  # a stored ref whose pack is no longer installed
        choices[current] = t("admin.pack_unavailable", pack=current)
    options = list(choices)
    key = f"admin_pack_choice_{code}"  # one picker per organisation, starting at its choice
    choice = st.selectbox(t("admin.pack"), options, index=options.index(current), key=key,
                          format_func=choices.__getitem__)
    st.button(t("admin.org_pack_apply"), key="admin_pack_set", icon=":material/check_circle:",
              disabled=choice == current, on_click=_handled(_set_pack), args=(actor, code, key))


def render_add_org(actor, labels) -> None:
    st.subheader(t("admin.org_add_heading"))
    kind_labels = words("org_kind")
    with st.form("admin_org_form"):
        left, right = st.columns(2)
        left.text_input(t("auth.org_code"), key="admin_org_code", max_chars=64,
                        help=t("auth.org_code_help"))
        right.text_input(t("auth.org_name"), key="admin_org_name", max_chars=200)
        left.selectbox(t("auth.org_kind"), ORG_KINDS, key="admin_org_kind",
                       format_func=kind_labels.__getitem__)
        right.selectbox(t("admin.pack"), list(labels), key="admin_org_pack",
                        format_func=labels.__getitem__, help=t("admin.pack_help"))
        st.form_submit_button(t("admin.org_add"), key="admin_org_submit", type="primary",
                              icon=":material/domain_add:", on_click=_handled(_add_org),
                              args=(actor,))


def render_orgs(svc, actor) -> None:
    orgs = svc.list_orgs(actor)
    labels = _pack_labels(svc)
    st.caption(t("admin.org_count", count=len(orgs)))
    render_org_list(svc, orgs)
    render_org_pack(svc, actor, orgs, labels)
    render_add_org(actor, labels)


# -- notifications ----------------------------------------------------------------------------


def render_notifications(svc, actor) -> None:
    overview = svc.notification_overview(actor)
    if overview.problem:
        st.error(t("notify.misconfigured", problem=plain(overview.problem)),
                 icon=":material/error:")
    elif overview.settings is None:
        st.info(t("notify.off"), icon=":material/mail_lock:")
    else:
        settings = overview.settings
        st.success(t("notify.on", host=plain(settings["host"]), port=settings["port"],
                     sender=plain(settings["sender"])), icon=":material/mail:")
        st.caption(t("notify.details",
                     starttls=t("common.yes") if settings["starttls"] == "yes" else t("common.no"),
                     login=plain(settings["user"]) if settings["user"] else t("common.no"),
                     base=plain(settings["base_url"]) or t("notify.no_base")))
    counts = overview.counts
    names = words("notification_status")
    cols = st.columns(len(counts))
    for col, (status, count) in zip(cols, counts.items()):
        col.metric(names[status], count)
    st.subheader(t("notify.troubled_heading"))
    if not overview.troubled:
        st.caption(t("notify.troubled_none"))
    else:
        kinds = words("notification_kind")
        st.dataframe([
            {
                t("notify.col_created"): format_jst(n.created_at),
                t("notify.col_kind"): kinds.get(n.kind, n.kind),
                t("notify.col_case"): n.case_id if n.case_id is not None else "",
                t("notify.col_email"): n.recipient,
                t("notify.col_status"): names.get(n.status, n.status),
                t("notify.col_attempts"): n.attempts,
                t("notify.col_next"): format_jst(n.next_attempt_at) if n.status == "queued"
                else "",
                t("notify.col_error"): n.last_error,
            }
            for n in overview.troubled
        ], hide_index=True, width="stretch", key="admin_notifications_table")
    failed = counts.get("failed", 0)
    st.button(t("notify.retry", count=failed), key="admin_notify_retry",
              icon=":material/restart_alt:", disabled=not failed,
              on_click=_handled(_retry_notifications), args=(actor,))
    st.caption(t("notify.cron_help"))


# -- page -------------------------------------------------------------------------------------


def body(actor) -> None:
    svc = get_services()
    st.title(t("admin.heading"))
    st.caption(t("admin.intro"))
    users_tab, orgs_tab, notify_tab = st.tabs([t("admin.tab_users"), t("admin.tab_orgs"),
                                               t("notify.tab")])
    for tab, render_tab in ((users_tab, render_users), (orgs_tab, render_orgs),
                            (notify_tab, render_notifications)):
        with tab:
            try:
                render_tab(svc, actor)
            except ProcurementError as exc:
                # One tab's problem must not hide the other.
                show_error(exc)


def render() -> None:
    """The page, for administrators only."""
    run_page(body, ROLES)
