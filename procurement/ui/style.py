"""The look of the app beyond Streamlit's theme (`.streamlit/config.toml` [theme]): type, focus,
click targets, layout at 1366 and 1024 px, the workspace's step list, and printing on A4.

Following the Digital Agency's design system where Streamlit allows: Noto Sans JP with a
generous line height and strict line breaking for Japanese, at least 44 px click targets, a
clearly visible focus ring, contrast of at least 4.5:1. Streamlit's own English words (the
"Running..." indicator, "Press Enter to apply") are hidden and, where they carry meaning, ours are
shown instead. Rules select Streamlit's elements by `data-testid` and ours by the documented
`st-key-<key>` class only.

`apply()` injects the rules into the page (one invisible element); `entry.run()` calls it on
every script run, before the page, so that every page, the sign-in page too, looks the same (and
the sidebar keeps its width from page to page).
"""

from __future__ import annotations

import streamlit as st

from procurement.ui.state import t

#: The width in pixels of a table spanning the page in a 1024 px wide window (the narrowest
#: the app is laid out for): 1024 - the 15rem sidebar - 2 x 1.5rem padding (_CSS below), less
#: the table's border. Tables fit the columns that matter first into it (`widgets.fit_columns`).
TABLE_WIDTH_AT_1024 = 734

#: DADS-like colours (contrast on white: text 16:1, primary 12:1, focus ring on text).
PRIMARY = "#0017c1"
FOCUS = "#ffd43d"
TEXT = "#1a1a1a"

_CSS = """
html, body, [data-testid="stApp"] {
  font-family: "Noto Sans JP", "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic UI", Meiryo,
    sans-serif;
}
[data-testid="stMarkdownContainer"], [data-testid="stCaptionContainer"], label, p, li {
  line-break: strict;
  word-break: normal;
  overflow-wrap: anywhere;
}
/* Captions (help under fields, the sidebar's who-is-signed-in) in a grey that keeps 4.5:1 on
   the sidebar's grey background too (Streamlit's own faded grey does not). */
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p {
  color: #4d4d4d !important; opacity: 1 !important;
}
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li {
  line-height: 1.75;
}
/* Room for the content at 1366 and 1024 px: a narrower sidebar, less padding. */
[data-testid="stSidebar"] { min-width: 15rem !important; max-width: 15rem !important; }
/* Menu entries wrap rather than end in "…" (ポートフォリオ（CAIO）is wider than the menu). */
[data-testid="stSidebarNavLink"] span[label],
[data-testid="stSidebarNavLink"] span[label] [data-testid="stMarkdownContainer"] {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
}
/* Headline figures (caio_widgets.render_figures): one row that wraps; a figure is never
   narrower than its label, so a label reads in full instead of ending in "…". */
[class*="st-key-figures_"] > [data-testid="stElementContainer"] { min-width: fit-content !important; }
/* The case list's table is exactly as tall as its rows (views/cases.py). Streamlit gives the
   grid inside the 1 px border a minimum of one row's table height, border included, so a
   one-row table would overflow its frame by 2 px (a sliver below the row). */
.st-key-case_table_box .stDataFrameGlideDataEditor { min-height: 0 !important; }
[data-testid="stMainBlockContainer"] {
  padding-left: 1.5rem !important; padding-right: 1.5rem !important;
  padding-top: 2.5rem !important; max-width: 100% !important;
}
[data-testid="stMainBlockContainer"] h1 { font-size: 2rem; padding-top: 0.25rem; }
[data-testid="stMainBlockContainer"] h2 { font-size: 1.5rem; }
[data-testid="stMainBlockContainer"] h3 { font-size: 1.25rem; }
/* 44 px click targets. */
[data-testid="stBaseButton-primary"], [data-testid="stBaseButton-secondary"],
[data-testid="stBaseButton-tertiary"], [data-testid="stPopoverButton"],
[data-testid="stDownloadButton"] button, [data-testid="stPageLink-NavLink"],
[data-testid="stSidebarNavLink"] {
  min-height: 44px;
}
[data-testid="stRadioOption"], [data-testid="stCheckbox"] label {
  min-height: 44px; align-items: center;
}
[data-testid="stRadioOption"] + [slot="description"] { margin-top: -0.5rem; margin-bottom: 0.25rem; }
/* A focus ring that is seen on any background. */
button:focus-visible, a:focus-visible, input:focus-visible, textarea:focus-visible,
[role="radio"]:focus-visible, [tabindex]:focus-visible {
  outline: 3px solid __FOCUS__ !important;
  outline-offset: 2px !important;
  box-shadow: 0 0 0 5px #000 !important;
}
/* Streamlit's English hints: hidden; our captions say how saving works. */
[data-testid="InputInstructions"] { display: none !important; }
/* Streamlit's "Running..." indicator in English: replaced by ours. */
[data-testid="stStatusWidget"] { font-size: 0 !important; }
[data-testid="stStatusWidget"] * { font-size: 0 !important; }
[data-testid="stStatusWidget"]::after {
  content: "__RUNNING__"; font-size: 0.875rem; color: __TEXT__;
}
/* Table toolbars (English tooltips; the page offers its own downloads). */
[data-testid="stElementToolbar"] { display: none !important; }
/* The workspace: a step list of fixed width, never wrapping across the page. */
[data-testid="stColumn"]:has(.st-key-ws_nav) {
  flex: 0 0 13rem !important; width: 13rem !important; min-width: 13rem !important;
}
[data-testid="stColumn"]:has(.st-key-ws_nav) + [data-testid="stColumn"] {
  flex: 1 1 0 !important; width: auto !important; min-width: 0 !important;
}
/* Columns that do not wrap scroll sideways on their own; that would also make the result
   panel stick to this row instead of the page. */
[data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] .st-key-ws_nav) {
  overflow: visible !important;
}
.st-key-ws_nav button { justify-content: flex-start !important; text-align: left; }
.st-key-ws_nav button > div { justify-content: flex-start !important; width: 100%; }
.st-key-ws_nav button p { text-align: left; white-space: normal; }
/* Narrower than 1200 px: the step list becomes one line above the step, scrolling sideways
   instead of wrapping, so the step itself gets the whole width. */
@media (max-width: 1199px) {
  [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] .st-key-ws_nav) {
    flex-direction: column !important; flex-wrap: nowrap !important;
  }
  [data-testid="stColumn"]:has(.st-key-ws_nav),
  [data-testid="stColumn"]:has(.st-key-ws_nav) + [data-testid="stColumn"] {
    flex: 1 1 auto !important; width: 100% !important; min-width: 0 !important;
  }
  .st-key-ws_nav {
    flex-direction: row !important; flex-wrap: nowrap !important; overflow-x: auto;
    align-items: center; padding-bottom: 0.25rem;
  }
  .st-key-ws_nav > div { flex: 0 0 auto !important; width: auto !important; }
  .st-key-ws_nav button p { white-space: nowrap; }
}
/* Content and result side by side when there is room, one under the other when not. */
.st-key-ws_split + div [data-testid="stHorizontalBlock"],
.st-key-ws_split [data-testid="stHorizontalBlock"] { flex-wrap: wrap !important; }
.st-key-ws_split [data-testid="stColumn"] { min-width: 22rem !important; flex: 1 1 22rem !important; }
/* The result beside the questions stays in view while the user scrolls through them. */
.st-key-ws_split [data-testid="stColumn"]:last-child {
  position: sticky; top: 0.75rem; align-self: flex-start;
  max-height: calc(100vh - 1.5rem); overflow-y: auto;
}
.st-key-_ws_helper { display: none !important; }
/* Read-only answers in full contrast. */
[data-testid="stMarkdownContainer"] { color: inherit; }
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  [data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"],
  [data-testid="stDecoration"], [data-testid="stStatusWidget"], [data-testid="stBottom"],
  [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
  [data-testid="stPageLink"], [data-testid="stPopover"], [data-testid="stButton"],
  [data-testid="stDownloadButton"], [data-testid="stElementToolbar"],
  [data-testid="stTabs"] [role="tablist"], .st-key-ws_nav, .st-key-ws_stepbuttons,
  .st-key-print_hint {
    display: none !important;
  }
  .st-key-ws_split [data-testid="stColumn"]:last-child {
    position: static !important; max-height: none !important; overflow: visible !important;
  }
  [data-testid="stAppViewContainer"], [data-testid="stMain"], [data-testid="stApp"] {
    position: static !important; overflow: visible !important; height: auto !important;
  }
  [data-testid="stMainBlockContainer"] {
    padding: 0 !important; max-width: 100% !important; width: 100% !important;
  }
  [data-testid="stVerticalBlockBorderWrapper"], [data-testid="stAlert"],
  [data-testid="stExpander"], tr, .st-key-result_panel { break-inside: avoid; }
  h1, h2, h3 { break-after: avoid; }
  [data-testid="stTable"] table { font-size: 9.5pt; }
  [data-testid="stTable"] thead { display: table-header-group; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def css() -> str:
    """The rules, with our words for what Streamlit says in English, in the user's language."""
    return (_CSS.replace("__FOCUS__", FOCUS).replace("__TEXT__", TEXT)
            .replace("__RUNNING__", t("style.running").replace('"', "'")))


def apply() -> None:
    """Inject the rules into the page being drawn (an element without height)."""
    st.html(f"<style>{css()}</style>")
