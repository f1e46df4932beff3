"""Small helpers shared by the app tests (finding text, switching pages, checking for errors)."""

from __future__ import annotations

PAGES = {
    "cases": "procurement/ui/pages/cases.py",
    "workspace": "procurement/ui/pages/workspace.py",
    "review": "procurement/ui/pages/review.py",
    "sign_in": "procurement/ui/pages/sign_in.py",
}


def go(at, page: str):
    """Switch the AppTest to one of our pages and run it."""
    return at.switch_page(PAGES[page]).run()


def texts(at) -> str:
    """All visible text of the last run, joined (markdown, captions, alerts, titles, badges)."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "error", "warning",
                 "info", "success", "text"):
        parts += [str(el.value) for el in getattr(at, kind)]
    for el in at.get("badge") if hasattr(at, "get") else []:
        parts.append(str(getattr(el, "label", "")))
    # The word joiners `plain()` puts into data are invisible in the browser.
    return "\n".join(parts).replace("\u2060", "")


def assert_clean(at) -> None:
    """No exception element and no apology for an unexpected error on the page."""
    assert not at.exception, [e.value for e in at.exception]
    unexpected = [e.value for e in at.error if "予期しない" in e.value or "unexpected" in e.value]
    assert not unexpected, unexpected


def signed_in(at, actor, services=None):
    """Preset `at` as a browser tab signed in as `actor`: a real server-side session on the
    app's database (what the sign-in form creates), its id in the tab's state."""
    from procurement.runtime import open_services

    svc = services or open_services()
    session_id, _ticket = svc.start_session(actor)
    at.session_state["web_session_id"] = session_id
    return session_id
