"""The two faces of `app.py`: the web server around the app, and the page router.

`app.py` (at the repository's top, and carried unchanged by an installed package as
`procurement/_shipped/app.py`, see setup.py) is only this:

    if entry.serving():
        app = st.App(__file__, **entry.server_options())
    else:
        entry.run()

Streamlit imports that file in the server process to find the `st.App` (`streamlit run app.py`
and `procurement serve` both do), and then runs the same file as the page script on every rerun.
Keeping the code here means the installed package and the repository run one implementation,
whatever folder the entry script sits in: pages are named by absolute paths
(`navigation.script`).
"""

from __future__ import annotations

import functools
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx


def serving() -> bool:
    """Whether the web server is importing the entry script (no script run in progress), as
    opposed to Streamlit running it as the page script."""
    return get_script_run_ctx(suppress_warning=True) is None


def server_options() -> dict[str, Any]:
    """The keyword arguments of `st.App`: the session-cookie routes, the middleware (upload
    guard, single sign-on) and, when single sign-on is configured through the environment, the
    `[auth]` secrets. Prints the first-run setup token on an installation without users."""
    from procurement.ui import server

    server.announce_setup_token()
    options: dict[str, Any] = {"routes": server.routes(), "middleware": server.middleware()}
    secrets = server.auth_secrets()
    if secrets is not None:
        options["secrets"] = secrets
    return options


def run() -> None:
    """One script run: resume the signed-in session, then route to the pages this user may see
    (signed out: the sign-in page, at every page's address)."""
    from procurement.ui import navigation, state, style

    # The icon is a file of the package: a `:material/...:` or emoji icon makes every browser
    # fetch it from Google's or a CDN's servers, which an isolated government network refuses.
    st.set_page_config(page_title="生成AI調達・利活用ガイド", page_icon=navigation.FAVICON,
                       layout="wide")
    actor = state.begin_run()
    roles = frozenset(actor.roles) if actor else None
    pages = [st.Page(navigation.script(spec.path), title=navigation.menu_title(spec, actor, state.t),
                     icon=spec.icon,
                     url_path=spec.url_path, default=default)
             for spec, default in navigation.routes_for(roles)]
    if roles is not None:
        # The root forwards to the landing page (navigation.routes_for says why).
        landing = navigation.landing_for(roles)
        pages.insert(0, st.Page(functools.partial(_forward, navigation.script(landing.path)),
                                title=state.t(landing.title_key),
                                url_path=navigation.ROOT_URL_PATH, default=True,
                                visibility="hidden"))
    state.render_sidebar(actor)
    state.render_cookie_sync()
    style.apply()  # the same look on every page, the sign-in page too
    st.navigation(pages, position="sidebar" if actor else "hidden").run()


def _forward(page: str) -> None:
    """The signed-in root page: go on to `page` (the user's landing page) at its own address,
    keeping the query parameters, so that the menu marks it and a reload stays on it."""
    st.switch_page(page, query_params=st.query_params.to_dict())


def run_streamlit(arguments: list[str]) -> int:
    """Streamlit's own command line in this process (`procurement serve` builds `arguments`:
    `run <entry script> --server.port ...`); returns when the server stops."""
    from streamlit.web import cli as streamlit_cli

    return int(streamlit_cli.main(args=arguments, prog_name="streamlit") or 0)
