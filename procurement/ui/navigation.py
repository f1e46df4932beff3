"""The app's pages, declared once: script, title key, icon, and the roles that see each.

To add a page: put its script under `procurement/ui/pages/`, add one `PageSpec` line to `PAGES`
and its title key to an i18n area file. `app.py` builds `st.navigation` from this list for the
signed-in actor; a signed-out visitor only ever gets the sign-in page.

Work comes to the people who act on it: a reviewer lands on the review queue, whose menu entry
counts the cases waiting (`menu_title`); everyone else lands on the case list.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

#: The folder page paths are relative to: the one holding the `procurement` package (the
#: repository in a checkout, site-packages when installed).
PAGES_ROOT = Path(__file__).resolve().parents[2]
log = logging.getLogger(__name__)

ROLES = ("planner", "reviewer", "auditor", "pack_admin", "admin")
ANY_ROLE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PageSpec:
    """One page of the app."""

    path: str  # relative to the folder holding the `procurement` package (`script()` for a file)
    title_key: str  # i18n key of the menu title
    icon: str  # a Streamlit material icon
    url_path: str  # stable URL slug
    roles: frozenset[str] = ANY_ROLE  # who sees it; empty = every signed-in user
    default: bool = False  # the landing page after sign-in
    #: The landing page of a user holding one of these roles (before `default`).
    landing_roles: frozenset[str] = frozenset()
    #: i18n key of the menu title with a `{count}` of waiting work, and the `Services` method
    #: counting it for the actor (`method(actor) -> int`); shown when the count is not zero.
    count_key: str = ""
    count_method: str = ""


#: The browser tab's icon, served by the app itself (tests/ui/test_browser_hostile_data.py checks
#: that no page makes the browser fetch anything from another origin).
FAVICON = str(Path(__file__).resolve().parent / "static" / "favicon.png")

#: The URL slug of the signed-in root page (`routes_for`). Streamlit serves that page at `/`
#: only; the slug is never shown, but must be unique among the pages.
ROOT_URL_PATH = "start"

SIGN_IN = PageSpec("procurement/ui/pages/sign_in.py", "nav.sign_in", ":material/login:", "sign-in")

PAGES: tuple[PageSpec, ...] = (
    PageSpec("procurement/ui/pages/cases.py", "nav.cases", ":material/folder_open:", "cases",
             default=True),
    PageSpec("procurement/ui/pages/workspace.py", "nav.workspace", ":material/edit_note:",
             "workspace"),
    PageSpec("procurement/ui/pages/review.py", "nav.review", ":material/fact_check:", "review",
             roles=frozenset({"reviewer"}), landing_roles=frozenset({"reviewer"}),
             count_key="nav.review_count", count_method="inbox_count"),
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


def script(path: str) -> str:
    """The absolute file of a page path (`PageSpec.path`). Streamlit resolves a relative page
    path against the entry script's folder, which is the repository for `streamlit run app.py`
    but `procurement/_shipped/` for an installed package (`procurement serve`); absolute paths
    name the same page in both. Use it for `st.Page`, `st.switch_page` and `st.page_link`."""
    return str(PAGES_ROOT / path)


def pages_for(roles: frozenset[str] | None) -> list[PageSpec]:
    """The pages a user with `roles` sees, in menu order; None (signed out) gets sign-in only."""
    if roles is None:
        return [SIGN_IN]
    return [spec for spec in PAGES if not spec.roles or spec.roles & roles]


def landing_for(roles: frozenset[str]) -> PageSpec:
    """The page a signed-in user with `roles` starts on: the first page whose `landing_roles`
    they hold (a reviewer's queue), else the `default` page (the case list)."""
    specs = pages_for(roles)
    landing = next((spec for spec in specs if spec.landing_roles & roles), None)
    return landing or next((spec for spec in specs if spec.default), specs[0])


def routes_for(roles: frozenset[str] | None) -> list[tuple[PageSpec, bool]]:
    """(page, is the default) for `st.navigation`.

    Signed in, no page of ours is the default: Streamlit serves its default page at `/` only,
    and answers that page's own address (`/cases`, an old bookmark) with an English "Page not
    found" dialog. The app's root is a hidden page of its own instead (`ROOT_URL_PATH`,
    `entry.run`) that forwards to the user's `landing_for` page, so every page answers at its
    own address.

    Signed out, the sign-in page answers at the root and at every page's address, so that a
    link to a case (`/workspace?case=5`) shows the sign-in form there and, once signed in, the
    page itself with its parameters."""
    if roles is not None:
        return [(spec, False) for spec in pages_for(roles)]
    return [(SIGN_IN, True)] + [
        (PageSpec(SIGN_IN.path, SIGN_IN.title_key, SIGN_IN.icon, spec.url_path), False)
        for spec in PAGES
    ]


def menu_title(spec: PageSpec, actor, t, services=None) -> str:
    """The menu title of `spec` for `actor` in the user's language (`t` translates): with the
    count of waiting work when the page counts some and it is not zero. A count that cannot be
    read (the database is busy) leaves the plain title: the menu must always show."""
    if not spec.count_key or actor is None:
        return t(spec.title_key)
    try:
        if services is None:
            from procurement.ui.state import get_services

            services = get_services()
        count = int(getattr(services, spec.count_method)(actor))
    except Exception:
        log.warning("could not count %s for the menu", spec.count_method, exc_info=True)
        return t(spec.title_key)
    return t(spec.count_key, count=count) if count else t(spec.title_key)
