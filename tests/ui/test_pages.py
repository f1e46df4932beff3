"""Every page renders for every role (AppTest from app.py), sign-in, first run, lock, timeout."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.fixtures.services import TEST_PASSWORD
from tests.ui.conftest import ROLE_USERS
from tests.ui.helpers import PAGES, assert_clean, open_step, texts

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.mark.parametrize("role", sorted(ROLE_USERS))
def test_every_page_renders_for_every_role(role, ui_actors, ui_services, make_app):
    """Every page of the navigation (ours and other areas'), in both languages."""
    from procurement.ui import navigation

    planner = ui_actors["a-planner"]
    case = ui_services.create_case(planner, "議事録要約システム", "総務課",
                                   answers={"SC-1": "yes", "HR-1": "public"})
    actor = ui_actors[ROLE_USERS[role]]
    visible = navigation.pages_for(frozenset(actor.roles))
    hidden = [spec for spec in navigation.PAGES if spec not in visible]
    assert {"cases", "workspace"} <= {spec.url_path for spec in visible}
    assert ("review" in {spec.url_path for spec in visible}) == (role == "reviewer")
    for lang in ("ja", "en"):
        at = make_app(actor, lang=lang)
        assert_clean(at)
        at.session_state["case_id"] = case.id
        for spec in visible:
            at.switch_page(spec.path).run()
            assert_clean(at)
            assert at.title, f"{spec.path} shows no title for {role} ({lang})"
        for spec in hidden:
            with pytest.raises(ValueError):
                at.switch_page(spec.path)  # not in this role's navigation at all


def test_signed_out_visitor_gets_the_sign_in_page_only(ui_actors, make_app):
    at = make_app()
    assert_clean(at)
    assert at.title[0].value == "サインイン"
    with pytest.raises(ValueError):
        at.switch_page(PAGES["cases"])


def test_first_run_creates_the_administrator_and_signs_in(ui_services, make_app):
    token = ui_services.new_setup_token()  # as printed on the server's console
    at = make_app()
    assert "初期設定" in at.title[0].value
    for key, value in {
        "first_org_code": "city-a", "first_org_name": "A市", "first_username": "root",
        "first_display_name": "管理 者", "first_password": TEST_PASSWORD,
        "first_password2": TEST_PASSWORD, "first_setup_token": token,
    }.items():
        at.text_input(key=key).set_value(value)
    at.selectbox(key="first_org_kind").set_value("municipality")
    at.button(key="first_submit").click().run()
    assert_clean(at)
    assert at.session_state["actor"].username == "root"
    assert at.title[0].value == "案件一覧"
    assert ui_services.has_users()
    assert [u.username for u in ui_services.list_users(at.session_state["actor"])] == ["root"]


def test_first_run_refuses_a_short_password_in_japanese(ui_services, make_app):
    token = ui_services.new_setup_token()
    at = make_app()
    for key, value in {
        "first_org_code": "city-a", "first_org_name": "A市", "first_username": "root",
        "first_display_name": "管理 者", "first_password": "short", "first_password2": "short",
        "first_setup_token": token,
    }.items():
        at.text_input(key=key).set_value(value)
    at.button(key="first_submit").click().run()
    assert_clean(at)
    assert "パスワードは" in at.error[0].value and "文字以上" in at.error[0].value
    assert not ui_services.has_users()


def sign_in(at, username, password):
    at.text_input(key="signin_username").set_value(username)
    at.text_input(key="signin_password").set_value(password)
    return at.button(key="signin_submit").click().run()


def test_sign_in_sign_out_and_lockout_message(ui_actors, make_app):
    at = make_app()
    sign_in(at, "a-planner", TEST_PASSWORD)
    assert_clean(at)
    assert at.session_state["actor"].username == "a-planner"
    assert "ようこそ" in texts(at)
    at.button(key="sign_out").click().run()
    assert "actor" not in at.session_state
    assert at.title[0].value == "サインイン"

    for _ in range(4):
        sign_in(at, "a-planner", "wrong password")
        assert "サインインできませんでした" in at.error[0].value
    sign_in(at, "a-planner", "wrong password")
    message = at.error[0].value
    # Locked: even the right password is refused, with the very message of any failure (it
    # tells an outsider nothing about the account).
    sign_in(at, "a-planner", TEST_PASSWORD)
    assert "actor" not in at.session_state
    assert at.error[0].value == message
    sign_in(at, "nobody", TEST_PASSWORD)
    assert at.error[0].value == message


def test_first_run_without_the_setup_token_creates_nobody(ui_services, make_app):
    """The attack: on an empty database, any visitor used to be offered the setup."""
    ui_services.new_setup_token()
    at = make_app()
    for key, value in {
        "first_org_code": "evil", "first_org_name": "乗っ取り", "first_username": "root",
        "first_display_name": "管理 者", "first_password": TEST_PASSWORD,
        "first_password2": TEST_PASSWORD, "first_setup_token": "guessed",
    }.items():
        at.text_input(key=key).set_value(value)
    at.button(key="first_submit").click().run()
    assert_clean(at)
    assert "セットアップ用トークンが正しくありません" in at.error[0].value
    assert not ui_services.has_users() and "actor" not in at.session_state


def test_idle_session_times_out_and_says_so(ui_actors, ui_services, make_app):
    from procurement.db.models import WebSession

    at = make_app(ui_actors["a-planner"])
    with ui_services.engine.begin() as conn:
        conn.execute(WebSession.__table__.update().values(
            last_seen_at=datetime.now(UTC) - timedelta(hours=2)))
    at.run()
    assert "actor" not in at.session_state
    assert "サインアウトしました" in texts(at)
    assert at.title[0].value == "サインイン"


def test_language_switch_to_english_and_back(ui_actors, make_app):
    at = make_app(ui_actors["a-planner"])
    assert at.title[0].value == "案件一覧"
    at.button_group(key="lang_switch").set_value("en").run() if hasattr(at, "button_group") else None
    assert at.title[0].value == "Cases"
    assert at.session_state["lang"] == "en"


JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]")
GLOSS = re.compile(r"\\?\([^()]*\\?\)")


def visible_texts(at) -> list[str]:
    """Every text of the page, including widget labels and option labels."""
    found = texts(at).splitlines()
    for kind in ("radio", "selectbox", "text_input", "text_area", "button", "toggle"):
        for widget in getattr(at, kind):
            found.append(str(widget.label))
            found += [str(o) for o in getattr(widget, "options", [])]
    return found


def test_english_screens_do_not_mix_languages(ui_actors, ui_services, make_app):
    planner = ui_actors["a-planner"]
    case = ui_services.create_case(planner, "Minutes summariser", "General Affairs",
                                   answers={"SC-1": "yes", "SC-4": "terms_of_service",
                                            "HR-1": "public", "HR-3": "conf2_input"})
    at = make_app(planner, lang="en")
    at.session_state["case_id"] = case.id
    at.switch_page(PAGES["workspace"]).run()
    seen: list[str] = []
    for step_id in ("intake", "scope", "classification", "board_report", "procurement_checklist",
                    "contract_checklist", "submission", "approval"):
        open_step(at, step_id)
        assert_clean(at)
        seen += visible_texts(at)
    at.switch_page(PAGES["cases"]).run()
    seen += visible_texts(at)
    assert "Possibly high risk" in "\n".join(seen)
    # User data (names) may be Japanese; a source citation names a Japanese document; pack
    # text may gloss a legal term in parentheses, e.g. "designated secrets (特定秘密)".
    user_data = [planner.display_name]
    mixed = [
        line for line in seen
        if JAPANESE.search(GLOSS.sub("", line))
        and not any(name in line for name in user_data)
        # (markdown escapes, as in "Source\\:", are not seen on the screen)
        and not line.replace("\\", "").strip().startswith("Source:")
    ]
    assert mixed == [], "\n".join(mixed)


def test_user_text_is_never_markup(ui_actors, ui_services, make_app):
    planner, reviewer = ui_actors["a-planner"], ui_actors["a-reviewer"]
    evil = '<img src=x onerror=alert(1)> **bold** [link](http://example.invalid) ![i](http://x.invalid/i.png)'
    case = ui_services.create_case(planner, evil, evil, answers={"SC-1": "yes"})
    ui_services.save_board_report(planner, case.id, {"objectives": evil}, case.version)
    for actor, page in ((planner, "workspace"), (planner, "cases"), (reviewer, "workspace")):
        at = make_app(actor)
        at.session_state["case_id"] = case.id
        at.switch_page(PAGES[page]).run()
        assert_clean(at)
        for element in (*at.markdown, *at.caption, *at.title, *at.warning, *at.info, *at.error):
            assert not getattr(element.proto, "allow_html", False)
            body = str(element.value)
            # Escaped, the characters show literally; unescaped they would be a link or an image.
            assert "](http" not in body.replace("\\](http", "")
            assert "<img" not in body.replace("\\<img", "")
        assert any("\\<img src=x" in str(el.value) for el in (*at.title, *at.markdown)) or page == "cases"


def test_workspace_without_a_case_points_to_the_case_list(ui_actors, make_app):
    at = make_app(ui_actors["a-planner"])
    at.switch_page(PAGES["workspace"]).run()
    assert_clean(at)
    assert "案件が選ばれていません" in texts(at)


def test_a_case_of_another_organisation_is_not_shown(ui_actors, ui_services, make_app):
    city_case = ui_services.create_case(ui_actors["x-planner"], "市の案件", "企画課")
    at = make_app(ui_actors["a-planner"])
    at.session_state["case_id"] = city_case.id
    at.switch_page(PAGES["workspace"]).run()
    assert_clean(at)
    assert "対象が見つかりません" in at.error[0].value  # error.not_found, with what to do next
    assert "市の案件" not in texts(at)


def test_case_version_is_the_cheap_check_behind_the_workspace_cache(ui_actors, ui_services):
    from procurement.errors import NotFoundError

    planner = ui_actors["a-planner"]
    case = ui_services.create_case(planner, "版の確認", "総務課")
    assert ui_services.case_version(planner, case.id) == case.version == 1
    saved = ui_services.save_answers(planner, case.id, {"SC-1": "yes"}, case.version)
    assert ui_services.case_version(planner, case.id) == saved.version == 2
    with pytest.raises(NotFoundError):
        ui_services.case_version(ui_actors["x-planner"], case.id)  # another organisation's case


def test_a_session_of_an_account_deactivated_since_sign_in_is_signed_out(ui_actors, ui_services,
                                                                        make_app):
    at = make_app(ui_actors["a-planner"])
    assert at.title[0].value == "案件一覧"
    ui_services.set_user_active(ui_actors["a-admin"], "a-planner", False)
    at.run()  # deactivation ended the session: the very next run signs out
    assert "actor" not in at.session_state
    assert "このアカウントは無効にされたため、サインアウトしました。" in texts(at)
    assert at.title[0].value == "サインイン"


def test_roles_changed_since_sign_in_change_the_pages_offered(ui_actors, ui_services, make_app):
    from procurement.db.models import User

    at = make_app(ui_actors["a-planner"])
    with ui_services.engine.begin() as conn:
        conn.execute(User.__table__.update().where(User.__table__.c.username == "a-planner")
                     .values(roles="auditor,planner"))
    at.run()
    assert at.session_state["actor"].roles == frozenset({"auditor", "planner"})


@pytest.mark.parametrize("role,landing", [("planner", "cases"), ("reviewer", "review"),
                                          ("auditor", "cases"), ("admin", "cases")])
def test_every_page_has_its_own_address_and_the_root_lands_by_role(role, landing, ui_actors,
                                                                  make_app):
    """No page of ours is Streamlit's default page (which answers at `/` only: its own address
    would show the English "Page not found" dialog); the root forwards to the landing page."""
    from procurement.ui import navigation

    roles = frozenset({role})
    assert not any(default for _spec, default in navigation.routes_for(roles))
    assert navigation.landing_for(roles).url_path == landing
    assert navigation.ROOT_URL_PATH not in {spec.url_path for spec in navigation.PAGES}
    # The app opened at its root shows the landing page (the forward ran).
    at = make_app(ui_actors[ROLE_USERS[role]])
    assert_clean(at)
    assert at.title[0].value == {"cases": "案件一覧", "review": "審査待ちの案件"}[landing]
