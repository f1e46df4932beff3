"""Entry point of the Streamlit app: routes to the pages the signed-in user may see.

Run with `streamlit run app.py`. The pages and who sees them are declared in
`procurement/ui/navigation.py`; this file only builds the navigation.
"""

import streamlit as st

from procurement.ui import navigation, state

st.set_page_config(page_title="生成AI調達・利活用ガイド", page_icon=":material/policy:", layout="wide")

actor = state.begin_run()
specs = navigation.pages_for(frozenset(actor.roles) if actor else None)
pages = [
    st.Page(spec.path, title=state.t(spec.title_key), icon=spec.icon, url_path=spec.url_path,
            default=spec.default or len(specs) == 1)
    for spec in specs
]
state.render_sidebar(actor)
st.navigation(pages).run()
