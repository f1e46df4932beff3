"""Entry point of the app: the web server's routes around it, and the pages a user may see.

Run with `streamlit run app.py` (or `procurement serve`). Streamlit finds the `st.App` below and
serves it: when the server imports this file (no script run in progress) it builds the ASGI app
around this same file, adding the session-cookie routes and the upload guard
(`procurement/ui/server.py`); when Streamlit runs it as the script, it routes to the pages
declared in `procurement/ui/navigation.py`.
"""

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

if get_script_run_ctx(suppress_warning=True) is None:
    from procurement.ui import server

    server.announce_setup_token()
    app = st.App(__file__, routes=server.routes(), middleware=server.middleware())
else:
    from procurement.ui import navigation, state

    # The icon is a file of the package: a `:material/...:` or emoji icon makes every browser
    # fetch it from Google's or a CDN's servers, which an isolated government network refuses.
    st.set_page_config(page_title="生成AI調達・利活用ガイド", page_icon=navigation.FAVICON,
                       layout="wide")
    actor = state.begin_run()
    pages = [st.Page(spec.path, title=state.t(spec.title_key), icon=spec.icon,
                     url_path=spec.url_path, default=default)
             for spec, default in navigation.routes_for(frozenset(actor.roles) if actor else None)]
    state.render_sidebar(actor)
    state.render_cookie_sync()
    st.navigation(pages, position="sidebar" if actor else "hidden").run()
