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


def open_step(at, step_id: str):
    """Go to a step of the open case with its button in the step list, like a user."""
    at.button(key=f"nav_{step_id}").click().run()
    assert_clean(at)
    assert at.query_params.get("step") == step_id, at.query_params
    return at


def step_buttons(at) -> list[str]:
    """The steps the step list offers, by id."""
    return [str(b.key)[4:] for b in at.button if str(b.key or "").startswith("nav_")]


def settle_with_bulk(at, checklist_id: str, evidence: str, required_only: bool = True):
    """The bulk action of a checklist grid, as a user does it: show the required items only,
    select every item shown, choose 充足, type a common evidence, apply."""
    if required_only:
        at.toggle(key=f"bulk_{checklist_id}_required_only").set_value(True).run()
        assert_clean(at)
    at.button(key=f"bulk_{checklist_id}_all").click().run()
    assert_clean(at)
    at.selectbox(key=f"bulk_{checklist_id}_status").set_value("met")
    at.text_input(key=f"bulk_{checklist_id}_evidence").set_value(evidence)
    at.button(key=f"bulk_{checklist_id}_apply").click().run()
    assert_clean(at)
    return at
