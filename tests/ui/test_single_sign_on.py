"""Single sign-on: an identity from the organisation's provider (`st.user`, as `st.login` leaves
it) starts a server-side session of the matching local account, only while the provider's
sign-in is fresh; otherwise the sign-in page says why. Local accounts keep working beside it.

These run the app in AppTest with a seeded `st.user`; tests/ui/test_oidc_browser.py signs in
through a real OpenID provider in Chromium.
"""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from procurement.db.models import AuditEvent, WebSession
from procurement.records.sso import SSO_REFUSALS
from procurement.ui.i18n import CATALOG_DIR
from tests.ui.conftest import APP
from tests.ui.helpers import texts

AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "x" * 32,
        "client_id": "procurement-app", "client_secret": "s",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}


def _app(identity: dict | None):
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets["auth"] = AUTH
    if identity is not None:
        at.user = {"is_logged_in": True, **identity}
    return at.run()


def _sessions(svc):
    with svc.read() as s:
        return s.execute(select(WebSession.user_id, WebSession.via)).all()


def test_a_fresh_identity_signs_the_matching_account_in_with_a_server_side_session(
        ui_actors, ui_services):
    at = _app({"preferred_username": "a-planner", "auth_time": int(time.time()) - 5,
               "email": "someone@example.go.jp"})
    assert at.session_state["actor"].username == "a-planner"
    assert _sessions(ui_services) == [(ui_actors["a-planner"].user_id, "sso")]
    with ui_services.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.event_type == "auth.signed_in")
                          .order_by(AuditEvent.id.desc())).first()
    assert json.loads(event.payload)["method"] == "sso"
    # The next run resumes the server-side session, as after a password sign-in.
    at.run()
    assert at.session_state["actor"].username == "a-planner"
    assert len(_sessions(ui_services)) == 1


@pytest.mark.parametrize("identity, message", [
    # Streamlit keeps the identity cookie 30 days: an old sign-in must not start a session.
    ({"preferred_username": "a-planner", "auth_time": 1_700_000_000}, "もう一度サインイン"),
    ({"preferred_username": "nobody", "iat": "now"}, "登録されていません"),
    ({"email": "a@example.go.jp", "iat": "now"}, "利用者を特定する情報が届きませんでした"),
])
def test_an_old_or_unknown_identity_signs_nobody_in_and_the_page_says_why(
        ui_actors, ui_services, identity, message):
    identity = {k: (int(time.time()) if v == "now" else v) for k, v in identity.items()}
    at = _app(identity)
    assert "actor" not in at.session_state and _sessions(ui_services) == []
    assert message in texts(at)
    assert at.button(key="sso_sign_in").label == "組織のアカウントでサインイン"
    assert at.text_input(key="signin_username")  # local accounts stay


def test_matching_by_e_mail_needs_an_address_the_provider_verified(ui_actors, ui_services,
                                                                  monkeypatch):
    admin = ui_actors["a-admin"]
    ui_services.set_user_email(admin, "a-reviewer", "Reviewer@Example.go.jp")
    monkeypatch.setenv("PROCUREMENT_SSO_MATCH", "email")
    now = int(time.time())
    at = _app({"email": "reviewer@example.go.jp", "email_verified": False, "iat": now})
    assert "actor" not in at.session_state and "確認されていません" in texts(at)
    at = _app({"email": "reviewer@example.go.jp", "email_verified": True, "iat": now})
    assert at.session_state["actor"].username == "a-reviewer"


def test_without_single_sign_on_the_page_has_only_the_local_form(ui_actors):
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not [b for b in at.button if b.key == "sso_sign_in"]
    assert at.text_input(key="signin_username")


def test_every_refusal_has_its_words():
    for lang in ("ja", "en"):
        catalog = json.loads((CATALOG_DIR / lang / "auth.json").read_text(encoding="utf-8"))
        assert {f"auth.{r}" for r in (*SSO_REFUSALS, "sso_stale")} <= catalog.keys()
