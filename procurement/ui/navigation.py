"""The app's pages, declared once: script, title key, icon, and the roles that see each.

To add a page: put its script under `procurement/ui/pages/`, add one `PageSpec` line to `PAGES`
and its title key to an i18n area file. `app.py` builds `st.navigation` from this list for the
signed-in actor; a signed-out visitor only ever gets the sign-in page.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROLES = ("planner", "reviewer", "auditor", "pack_admin", "admin")
ANY_ROLE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PageSpec:
    """One page of the app."""

    path: str  # relative to the folder holding app.py
    title_key: str  # i18n key of the menu title
    icon: str  # a Streamlit material icon
    url_path: str  # stable URL slug
    roles: frozenset[str] = ANY_ROLE  # who sees it; empty = every signed-in user
    default: bool = False  # the landing page after sign-in


#: The browser tab's icon, served by the app itself (tests/ui/test_browser_hostile_data.py checks
#: that no page makes the browser fetch anything from another origin).
FAVICON = str(Path(__file__).resolve().parent / "static" / "favicon.png")

SIGN_IN = PageSpec("procurement/ui/pages/sign_in.py", "nav.sign_in", ":material/login:", "sign-in")

PAGES: tuple[PageSpec, ...] = (
    PageSpec("procurement/ui/pages/cases.py", "nav.cases", ":material/folder_open:", "cases",
             default=True),
    PageSpec("procurement/ui/pages/workspace.py", "nav.workspace", ":material/edit_note:",
             "workspace"),
    PageSpec("procurement/ui/pages/review.py", "nav.review", ":material/fact_check:", "review",
             roles=frozenset({"reviewer"})),
    PageSpec("procurement/ui/pages/portfolio.py", "nav.portfolio", ":material/monitoring:",
             "portfolio", roles=frozenset({"reviewer", "auditor"})),
    PageSpec("procurement/ui/pages/operation.py", "nav.operation", ":material/settings_suggest:",
             "operation", roles=frozenset({"planner", "reviewer", "auditor"})),
    PageSpec("procurement/ui/pages/exports.py", "nav.exports", ":material/download:",
             "exports", roles=frozenset({"reviewer", "auditor"})),
    PageSpec("procurement/ui/pages/packs.py", "nav.packs", ":material/rule_settings:", "packs",
             roles=frozenset({"pack_admin", "admin"})),
    PageSpec("procurement/ui/pages/admin.py", "nav.admin", ":material/admin_panel_settings:",
             "admin", roles=frozenset({"admin"})),
)


def pages_for(roles: frozenset[str] | None) -> list[PageSpec]:
    """The pages a user with `roles` sees, in menu order; None (signed out) gets sign-in only."""
    if roles is None:
        return [SIGN_IN]
    return [spec for spec in PAGES if not spec.roles or spec.roles & roles]


def routes_for(roles: frozenset[str] | None) -> list[tuple[PageSpec, bool]]:
    """(page, is the default) for `st.navigation`. Signed out, the sign-in page answers at its
    own address and at every page's address, so that a link to a case (`/workspace?case=5`)
    shows the sign-in form there and, once signed in, the page itself with its parameters."""
    specs = pages_for(roles)
    if roles is not None:
        return [(spec, spec.default or len(specs) == 1) for spec in specs]
    return [(SIGN_IN, True)] + [
        (PageSpec(SIGN_IN.path, SIGN_IN.title_key, SIGN_IN.icon, spec.url_path), False)
        for spec in PAGES
    ]
