"""The administration page (AppTest from app.py): organisations and accounts added, changed and
refused through the browser, checked against the services; only administrators get the page."""

from __future__ import annotations

import re

import pytest

from procurement.errors import AuthenticationError
from tests.fixtures.services import TEST_PASSWORD
from tests.ui.conftest import ROLE_USERS
from tests.ui.helpers import assert_clean, texts

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ADMIN_PAGE = "procurement/ui/pages/admin.py"
PASSWORD_KEYS = ("admin_user_password", "admin_user_password2", "admin_reset_password",
                 "admin_reset_password2")
NEW_PASSWORD = "new passphrase 2026"


def open_admin(make_app, actor, lang=None):
    at = make_app(actor, lang=lang)
    at.switch_page(ADMIN_PAGE).run()
    assert_clean(at)
    return at


def user_table(at):
    """The users table (first tab) as a DataFrame with the Japanese column names."""
    return at.dataframe[0].value


def org_table(at):
    """The organisations table (second tab)."""
    return at.dataframe[1].value


def fill(at, values: dict) -> None:
    for key, value in values.items():
        at.text_input(key=key).set_value(value)


def assert_no_password_kept(at, *passwords: str) -> None:
    """No session value (user state or keyed widget) holds a password after the submit."""
    state = at.session_state.to_dict()
    for key in PASSWORD_KEYS:
        assert state.get(key, "") == "", key
    for password in passwords:
        assert not [k for k, v in state.items() if password in repr(v)]


def test_admin_adds_an_organisation_and_a_user_who_can_sign_in(ui_actors, ui_services, make_app):
    admin = ui_actors["a-admin"]
    at = open_admin(make_app, admin)
    assert at.title[0].value == "組織と利用者の管理"

    fill(at, {"admin_org_code": "city-y", "admin_org_name": "Y市"})
    at.selectbox(key="admin_org_kind").set_value("municipality")
    at.button(key="admin_org_submit").click().run()
    assert_clean(at)
    assert "組織 city\\-y" in texts(at) and "追加しました" in texts(at)
    org = ui_services.get_org(admin, "city-y")
    assert (org.name, org.kind, org.pack_ref) == ("Y市", "municipality", None)
    assert at.text_input(key="admin_org_code").value == ""  # the form is ready for the next one

    at.selectbox(key="admin_user_org").set_value("city-y")
    fill(at, {"admin_user_username": "y-planner", "admin_user_display_name": "Y 企画",
              "admin_user_password": NEW_PASSWORD, "admin_user_password2": NEW_PASSWORD})
    at.multiselect(key="admin_user_roles").set_value(["planner", "reviewer"])
    at.button(key="admin_user_submit").click().run()
    assert_clean(at)
    assert "利用者 y\\-planner" in texts(at)
    assert_no_password_kept(at, NEW_PASSWORD)
    actor = ui_services.authenticate("y-planner", NEW_PASSWORD)
    assert actor.org_code == "city-y" and actor.roles == frozenset({"planner", "reviewer"})
    listed = user_table(at)
    assert "y-planner" in set(listed["ユーザー名"])
    row = listed[listed["ユーザー名"] == "y-planner"].iloc[0]
    assert row["役割"] == "担当職員・審査者（AI統括責任者等）" and row["有効"] == "はい"
    assert row["最終サインイン"] == "-"  # the table was drawn before the sign-in above


def test_mismatched_or_short_password_is_refused_in_japanese(ui_actors, ui_services, make_app):
    admin = ui_actors["a-admin"]
    at = open_admin(make_app, admin)
    before = [u.username for u in ui_services.list_users(admin)]
    fill(at, {"admin_user_username": "a-new", "admin_user_display_name": "新人",
              "admin_user_password": NEW_PASSWORD, "admin_user_password2": NEW_PASSWORD + "x"})
    at.multiselect(key="admin_user_roles").set_value(["planner"])
    at.button(key="admin_user_submit").click().run()
    assert_clean(at)
    assert "一致しません" in at.error[0].value
    assert_no_password_kept(at, NEW_PASSWORD)
    # What was typed besides the passwords stays, so only the passwords need entering again.
    assert at.text_input(key="admin_user_username").value == "a-new"

    fill(at, {"admin_user_password": "short", "admin_user_password2": "short"})
    at.button(key="admin_user_submit").click().run()
    assert_clean(at)
    assert "パスワードは 8 文字以上にしてください" in at.error[0].value
    assert_no_password_kept(at, "short")

    fill(at, {"admin_user_username": "bad name", "admin_user_password": NEW_PASSWORD,
              "admin_user_password2": NEW_PASSWORD})
    at.button(key="admin_user_submit").click().run()
    assert_clean(at)
    assert "ユーザー名「bad name」は使えません" in at.error[0].value
    assert [u.username for u in ui_services.list_users(admin)] == before


def test_a_bad_organisation_is_refused_and_nothing_is_created(ui_actors, ui_services, make_app):
    admin = ui_actors["a-admin"]
    at = open_admin(make_app, admin)
    fill(at, {"admin_org_code": "Bad Code", "admin_org_name": "X"})
    at.button(key="admin_org_submit").click().run()
    assert_clean(at)
    assert "組織コード「Bad Code」は使えません" in at.error[0].value
    fill(at, {"admin_org_code": "city-x"})  # taken by the fixtures
    at.button(key="admin_org_submit").click().run()
    assert "組織コード「city-x」は使えません" in at.error[0].value
    assert [o.code for o in ui_services.list_orgs(admin)] == ["city-x", "org-a"]


def test_deactivating_a_user_stops_their_sign_in(ui_actors, ui_services, make_app):
    at = open_admin(make_app, ui_actors["a-admin"])
    at.selectbox(key="admin_manage_user").set_value("a-admin").run()
    assert at.button(key="admin_deactivate").disabled  # never lock yourself out
    at.selectbox(key="admin_manage_user").set_value("a-planner").run()
    at.button(key="admin_deactivate").click().run()
    assert_clean(at)
    assert "a\\-planner を無効にしました" in texts(at)
    with pytest.raises(AuthenticationError):
        ui_services.authenticate("a-planner", TEST_PASSWORD)
    table = user_table(at)
    assert table[table["ユーザー名"] == "a-planner"].iloc[0]["有効"] == "いいえ"

    at.button(key="admin_reactivate").click().run()
    assert_clean(at)
    assert ui_services.authenticate("a-planner", TEST_PASSWORD).username == "a-planner"


def test_admin_unlocks_an_account_and_sets_a_new_password(ui_actors, ui_services, make_app):
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            ui_services.authenticate("x-planner", "wrong password")
    at = open_admin(make_app, ui_actors["a-admin"])
    table = user_table(at)
    # A moment in Japan time, in words (2026年12月1日 00:16), never an ISO string.
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}",
                        table[table["ユーザー名"] == "x-planner"].iloc[0]["ロック解除予定"])
    at.selectbox(key="admin_manage_user").set_value("x-planner").run()
    assert "ロック中" in texts(at)
    at.button(key="admin_unlock").click().run()
    assert_clean(at)
    assert "ロックを解除しました" in texts(at)
    assert ui_services.authenticate("x-planner", TEST_PASSWORD).org_code == "city-x"
    assert at.button(key="admin_unlock").disabled

    fill(at, {"admin_reset_password": NEW_PASSWORD, "admin_reset_password2": "different"})
    at.button(key="admin_reset_submit").click().run()
    assert "一致しません" in at.error[0].value
    assert_no_password_kept(at, NEW_PASSWORD, "different")
    assert ui_services.authenticate("x-planner", TEST_PASSWORD)  # unchanged

    fill(at, {"admin_reset_password": NEW_PASSWORD, "admin_reset_password2": NEW_PASSWORD})
    at.button(key="admin_reset_submit").click().run()
    assert_clean(at)
    assert "パスワードを再設定しました" in texts(at)
    assert_no_password_kept(at, NEW_PASSWORD)
    assert ui_services.authenticate("x-planner", NEW_PASSWORD).username == "x-planner"
    with pytest.raises(AuthenticationError):
        ui_services.authenticate("x-planner", TEST_PASSWORD)


def test_admin_changes_an_organisations_pack(ui_actors, ui_services, make_app):
    admin = ui_actors["a-admin"]
    ui_services.create_org(admin, "org-n", "日付省", "ministry")   # no pack: by date
    at = open_admin(make_app, admin)
    orgs = org_table(at)
    assert orgs[orgs["組織コード"] == "org-n"].iloc[0]["ルールパック"].startswith("施行日に応じた国の版")
    at.selectbox(key="admin_pack_org").set_value("city-x").run()
    # city-x stored the short ref "city-strict@1": the picker starts at the pack it stands for.
    assert at.selectbox(key="admin_pack_choice_city-x").value == "city-strict@1.0.0"
    assert at.button(key="admin_pack_set").disabled
    at.selectbox(key="admin_pack_org").set_value("org-a").run()
    at.selectbox(key="admin_pack_choice_org-a").set_value("jp-national@1.0.0").run()
    at.button(key="admin_pack_set").click().run()
    assert_clean(at)
    assert ui_services.get_org(admin, "org-a").pack_ref == "jp-national@1.0.0#bab7afb0ffd6"
    assert ui_services.resolve_pack("org-a").key == "jp-national@1.0.0"
    at.selectbox(key="admin_pack_choice_org-a").set_value("").run()
    at.button(key="admin_pack_set").click().run()
    assert ui_services.get_org(admin, "org-a").pack_ref is None


def test_user_text_is_shown_literally(ui_actors, ui_services, make_app):
    admin = ui_actors["a-admin"]
    evil = "<img src=x onerror=alert(1)> [link](http://example.invalid)"
    ui_services.create_user(admin, "org-a", "evil", evil, TEST_PASSWORD, ["planner"])
    at = open_admin(make_app, admin)
    at.selectbox(key="admin_manage_user").set_value("evil").run()
    for element in (*at.markdown, *at.caption, *at.success, *at.error):
        assert not getattr(element.proto, "allow_html", False)
        assert "<img" not in str(element.value).replace("\\<img", "")
    assert at.selectbox(key="admin_manage_user").format_func("evil").startswith("evil — <img")


def test_the_page_in_english(ui_actors, make_app):
    at = open_admin(make_app, ui_actors["a-admin"], lang="en")
    assert at.title[0].value == "Organisations and users"
    fill(at, {"admin_user_username": "a-x", "admin_user_display_name": "X",
              "admin_user_password": "abc", "admin_user_password2": "abd"})
    at.multiselect(key="admin_user_roles").set_value(["planner"])
    at.button(key="admin_user_submit").click().run()
    assert "The two passwords differ" in at.error[0].value


@pytest.mark.parametrize("role", sorted(set(ROLE_USERS) - {"admin"}))
def test_other_roles_cannot_open_the_page(role, ui_actors, make_app):
    from procurement.ui import navigation

    actor = ui_actors[ROLE_USERS[role]]
    assert "admin" not in {spec.url_path for spec in navigation.pages_for(actor.roles)}
    at = make_app(actor)
    with pytest.raises(ValueError):
        at.switch_page(ADMIN_PAGE)  # not in this role's navigation at all
    # Even the page script run on its own refuses them before showing anything.
    from streamlit.testing.v1 import AppTest

    page = AppTest.from_file(str(navigation_root() / ADMIN_PAGE), default_timeout=60)
    page.session_state["actor"] = actor
    page.run()
    assert not page.exception
    assert "システム管理者" in page.error[0].value
    assert not page.title and not page.get("arrow_data_frame")


def navigation_root():
    from tests.ui.conftest import APP

    return APP.parent
