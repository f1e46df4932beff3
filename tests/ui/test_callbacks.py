"""Every widget callback of the app runs only for a live session.

Streamlit runs widget callbacks before the page body: a callback that is not wrapped by
`procurement.ui.state.callback` would act for a session that has ended (the first version stored
an admin's password reset and a workspace autosave after two idle hours). This test reads the
code of `procurement/ui` and fails on any callback that is not wrapped; the services refuse the
write of an ended session anyway, and a second test shows the page refusing the click.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import procurement.ui
from procurement.db.models import WebSession
from tests.ui.helpers import assert_clean

UI = Path(procurement.ui.__file__).parent
CALLBACK_KEYWORDS = {"on_change", "on_click", "on_submit", "on_done_change", "on_select"}
#: Callbacks that must work without a session: switching the language, signing out, and the
#: cookie component's acknowledgement.
ALLOWED = {("state.py", "_switch_language"), ("state.py", "_sign_out_clicked"),
           ("state.py", "_cookie_done"),
           # a pass-through parameter: its callers' arguments are checked where they are written
           ("widgets.py", "on_change")}
#: Factories that return `callback(...)`-wrapped functions.
WRAPPERS = {"callback", "_handled"}


def _decorated(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                target = deco.func if isinstance(deco, ast.Call) else deco
                name = getattr(target, "attr", None) or getattr(target, "id", None)
                if name == "callback":
                    names.add(node.name)
    return names


def _module_of(path: Path) -> str:
    return "procurement.ui." + ".".join(path.relative_to(UI).with_suffix("").parts)


def unguarded_callbacks() -> list[str]:
    found = []
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(UI.rglob("*.py"))}
    decorated = {_module_of(path): _decorated(tree) for path, tree in trees.items()}
    for path, tree in trees.items():
        # Wrapped here, or wrapped where it is imported from.
        guarded = set(decorated[_module_of(path)])
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in decorated:
                guarded |= {a.asname or a.name for a in node.names
                            if a.name in decorated[node.module]}
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            for keyword in call.keywords:
                if keyword.arg not in CALLBACK_KEYWORDS:
                    continue
                value = keyword.value
                if isinstance(value, ast.Constant):  # "rerun", "ignore", None
                    continue
                if isinstance(value, ast.Call):
                    func = getattr(value.func, "attr", None) or getattr(value.func, "id", None)
                    if func in WRAPPERS:
                        continue
                name = getattr(value, "attr", None) or getattr(value, "id", None)
                if name in guarded or (path.name, name) in ALLOWED:
                    continue
                found.append(f"{path.relative_to(UI)}:{call.lineno} {keyword.arg}={name}")
    return found


def test_every_callback_is_wrapped_so_that_an_ended_session_changes_nothing():
    assert unguarded_callbacks() == []


def test_the_wrappers_really_wrap():
    for path in sorted(UI.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == "_handled":
                assert "callback(" in ast.unparse(node), path


def test_a_click_after_the_idle_timeout_stores_nothing(ui_actors, ui_services, make_app):
    """The attack, in the page: an administrator idle for two hours clicks "reset password"."""
    at = make_app(ui_actors["a-admin"])
    at.switch_page("procurement/ui/pages/admin.py").run()
    assert_clean(at)
    with ui_services.engine.begin() as conn:
        conn.execute(WebSession.__table__.update().values(
            last_seen_at=datetime.now(UTC) - timedelta(hours=2)))
    before = ui_services.list_users(ui_actors["a-admin"])
    at.selectbox(key="admin_manage_user").set_value("a-planner")
    at.text_input(key="admin_reset_password").set_value("an attacker's choice")
    at.text_input(key="admin_reset_password2").set_value("an attacker's choice")
    at.button(key="admin_reset_submit").click().run()
    assert "actor" not in at.session_state
    assert ui_services.list_users(ui_actors["a-admin"]) == before
    assert ui_services.authenticate("a-planner", "correct horse battery").username == "a-planner"
