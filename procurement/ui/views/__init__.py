"""The code of our pages, one module per page.

The scripts in `procurement/ui/pages/` only import a module from here and call its `render()`:
Streamlit compiles a page script on every run in AppTest (and once per server otherwise),
while an imported module is compiled once per process.
"""
