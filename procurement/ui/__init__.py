"""The Streamlit user interface: pages, widgets and message catalogs.

This is the only package that imports streamlit; every decision it shows is computed by plain
Python elsewhere in `procurement` (packs, services).
"""
