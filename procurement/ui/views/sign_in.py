"""Sign-in page: the organisation's single sign-on (when configured) and local accounts; on a
database without users, the first-run screen that creates the administrator."""

import streamlit as st

from procurement.errors import AuthenticationError
from procurement.records.policy import ORG_KINDS
from procurement.ui.state import (
    SSO_PROBLEM_KEY,
    client_address,
    error_text,
    flash,
    get_services,
    guarded,
    plain,
    show_flashes,
    sign_in,
    sso_enabled,
    t,
    words,
)


def render_first_run(svc) -> None:
    """Create the first organisation and its administrator, then sign them in."""
    st.title(t("auth.first_run_title"))
    st.info(t("auth.first_run_intro"))
    with st.form("first_run"):
        org_code = st.text_input(t("auth.org_code"), key="first_org_code", help=t("auth.org_code_help"))
        org_name = st.text_input(t("auth.org_name"), key="first_org_name")
        org_kind = st.selectbox(t("auth.org_kind"), ORG_KINDS, key="first_org_kind",
                                format_func=words("org_kind").__getitem__)
        username = st.text_input(t("auth.username"), key="first_username")
        display_name = st.text_input(t("auth.display_name"), key="first_display_name")
        password = st.text_input(t("auth.password"), type="password", key="first_password")
        confirm = st.text_input(t("auth.password_confirm"), type="password", key="first_password2")
        setup_token = st.text_input(t("auth.setup_token"), type="password", key="first_setup_token",
                                    help=t("auth.setup_token_help"))
        submitted = st.form_submit_button(t("auth.create_admin"), key="first_submit", type="primary")
    if submitted:
        if password != confirm:
            st.error(t("auth.password_mismatch"))
            return
        with guarded():
            actor = svc.create_first_admin(org_code.strip(), org_name, org_kind, username.strip(),
                                           display_name, password, setup_token=setup_token or "")
            sign_in(actor)
            flash("success", "auth.first_run_done", name=plain(actor.display_name))
            st.rerun()


def render_single_sign_on() -> None:
    """The organisation's sign-in (OpenID Connect), and why the last one did not work, if so.

    A button in the page body rather than a widget callback: `st.login` navigates away, and a
    callback would run only for a live session (`state.callback`)."""
    problem = st.session_state.get(SSO_PROBLEM_KEY)
    if problem == "sso_stale":
        st.info(t("auth.sso_stale"), icon=":material/schedule:")
    elif problem:
        st.error(t(f"auth.{problem}"), icon=":material/error:")
    if st.button(t("auth.sso_button"), key="sso_sign_in", type="primary",
                 icon=":material/badge:"):
        st.session_state.pop(SSO_PROBLEM_KEY, None)
        st.login()
    st.caption(t("auth.sso_or_local"))


def render_sign_in(svc) -> None:
    """Single sign-on when configured, then username and password; failures and locks are
    explained."""
    st.title(t("auth.title"))
    st.caption(t("app.tagline"))
    if sso_enabled():
        render_single_sign_on()
    with st.form("sign_in"):
        username = st.text_input(t("auth.username"), key="signin_username")
        password = st.text_input(t("auth.password"), type="password", key="signin_password")
        submitted = st.form_submit_button(t("auth.sign_in"), key="signin_submit", type="primary")
    if not submitted:
        return
    try:
        actor = svc.authenticate(username.strip(), password, client=client_address())
    except AuthenticationError as exc:
        # One message for every failure: it never tells a locked account from a wrong password.
        st.error(error_text(exc), icon=":material/error:")
        return
    sign_in(actor)
    flash("success", "auth.welcome", name=plain(actor.display_name))
    st.rerun()


def render() -> None:
    """The page: sign-in, or first-run setup while the database has no users."""
    show_flashes()
    with guarded():
        services = get_services()
        if services.has_users():
            render_sign_in(services)
        else:
            render_first_run(services)
