"""Fixtures for the app tests: a fresh SQLite file per test named by PROCUREMENT_DATABASE_URL,
seeded through the services, and AppTests started from app.py with a signed-in actor.

Organisation `org-a` (a ministry on jp-national 2.0.0) has one user per role;
`city-x` (a municipality on the `city-strict` pack) has a planner. Every password is
`TEST_PASSWORD`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.services import TEST_PASSWORD

APP = Path(__file__).resolve().parents[2] / "app.py"
ROLE_USERS = {
    "planner": "a-planner",
    "reviewer": "a-reviewer",
    "auditor": "a-auditor",
    "pack_admin": "a-packadmin",
    "admin": "a-admin",
}


@pytest.fixture
def ui_db_url(request, tmp_path, monkeypatch, fast_password_hashing) -> str:
    """The app's database, named through the environment like in production: a new SQLite file,
    or a new PostgreSQL database for a test parametrized `indirect` with "postgresql"."""
    if getattr(request, "param", "sqlite") == "postgresql":
        url = request.getfixturevalue("pg_url")
    else:
        url = f"sqlite:///{tmp_path / 'ui.sqlite'}"
    monkeypatch.setenv("PROCUREMENT_DATABASE_URL", url)
    monkeypatch.delenv("PROCUREMENT_SESSION_TIMEOUT_MINUTES", raising=False)
    yield url
    # The app caches one Services per URL; forget this test's so its engine can go.
    from procurement.ui import state

    state._build_services.clear()


@pytest.fixture
def ui_services(ui_db_url, records_registry):
    """`Services` on the app's database (real clock), for seeding and for checking results."""
    from procurement.db import create_db_engine
    from procurement.services import Services

    engine = create_db_engine(ui_db_url)
    yield Services(engine, records_registry)
    engine.dispose()


@pytest.fixture
def ui_actors(ui_services):
    """username -> Actor: one user per role in org-a, a second planner, and a city-x planner."""
    svc = ui_services
    # org-a is pinned to jp-national 2.0.0: the app runs on the real clock, and the texts these
    # tests read are 2.0.0's (2.1.0 is in force by date from 2026-12-01 JST). The by-date choice
    # is tested with a settable clock in tests/records.
    admin = svc.create_first_admin("org-a", "テスト省", "ministry", "a-admin", "管理 太郎",
                                   TEST_PASSWORD, pack_ref="jp-national@2.0.0")
    svc.create_org(admin, "city-x", "テスト市", "municipality", pack_ref="city-strict@1")
    for org, username, name, roles in (
        ("org-a", "a-planner", "企画 花子", ["planner"]),
        ("org-a", "a-planner2", "企画 次郎", ["planner"]),
        ("org-a", "a-reviewer", "審査 一郎", ["reviewer"]),
        ("org-a", "a-auditor", "監査 三郎", ["auditor"]),
        ("org-a", "a-packadmin", "規則 四郎", ["pack_admin"]),
        ("city-x", "x-planner", "市 企画", ["planner"]),
    ):
        svc.create_user(admin, org, username, name, TEST_PASSWORD, roles)
    return {name: svc.authenticate(name, TEST_PASSWORD)
            for name in ("a-admin", "a-planner", "a-planner2", "a-reviewer", "a-auditor",
                         "a-packadmin", "x-planner")}


@pytest.fixture
def make_app(ui_db_url, ui_services):
    """make_app(actor=None, lang=None) -> an AppTest of app.py, already run once; with an actor,
    the tab is signed in with a real server-side session."""
    from streamlit.testing.v1 import AppTest

    from tests.ui.helpers import signed_in

    def make(actor=None, lang: str | None = None):
        at = AppTest.from_file(str(APP), default_timeout=60)
        if actor is not None:
            signed_in(at, actor, ui_services)
        if lang is not None:
            at.session_state["lang"] = lang
        return at.run()

    return make


@pytest.fixture
def server(ui_actors, ui_db_url, tmp_path):
    """The real app (`streamlit run app.py`) on a free 127.0.0.1 port, on the tests' database
    with its users, for the browser tests."""
    from tests.ui.browser import StreamlitServer

    srv = StreamlitServer(ui_db_url, tmp_path / "streamlit.log")
    srv.start()
    yield srv
    srv.stop()
