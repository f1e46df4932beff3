"""Entry point of the app: `streamlit run app.py` here, or `procurement serve` from any folder.

When the web server imports this file it builds the `st.App` around it (session-cookie routes,
upload guard, single sign-on: procurement/ui/server.py); when Streamlit runs it as the page
script, it routes to the pages of procurement/ui/navigation.py. Both live in
procurement/ui/entry.py; an installed package carries this same file (setup.py).
"""

import streamlit as st

from procurement.ui import entry

if entry.serving():
    app = st.App(__file__, **entry.server_options())
else:
    entry.run()
