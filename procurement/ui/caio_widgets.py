"""Pieces shared by the CAIO's pages (portfolio, operation): level names and colours, and the
periodic-report download.

Levels are named by each case's own pack and coloured by the level's `tone` (a pack's word,
not a level id): nothing here knows which levels a pack has.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import date
from typing import Any

import streamlit as st

from procurement import fiscal
from procurement.caio.levels import LevelCatalog
from procurement.ui.state import format_jst, lang, t

#: Chart colour of each level tone (`procurement.packs.model.Tone`); "neutral" also colours
#: the cases not yet classified and levels whose pack is unknown.
TONE_COLORS = {"neutral": "#9e9e9e", "info": "#1e88e5", "success": "#43a047",
               "warning": "#fb8c00", "danger": "#e53935"}
#: Roles that may build the periodic report (the portfolio's readers).
PERIODIC_ROLES = frozenset({"reviewer", "auditor", "admin"})


def tone_color(tone: str | None) -> str:
    """The chart colour of a level tone (unknown tones: neutral)."""
    return TONE_COLORS.get(tone or "neutral", TONE_COLORS["neutral"])


def case_level_text(svc: Any, case: Any) -> str:
    """A case's level in words as its own pack names it ("not yet classified" without a level;
    the id when the pack is not installed)."""
    catalog = LevelCatalog.from_registry(svc.registry, [(case.pack_id, case.pack_version)])
    return catalog.label(case.pack_id, case.pack_version, case.level, lang())


def render_figures(figures: Mapping[str, int], key: str) -> None:
    """Headline figures (label -> number) in one row that wraps: each figure keeps a width in
    which its label reads in full (style.py, `.st-key-figures_<key>`), so at 1024 px a figure
    that does not fit moves to the next row instead of cutting its label short."""
    with st.container(horizontal=True, key=f"figures_{key}"):
        for label, value in figures.items():
            st.metric(label, value, border=True)


def render_periodic_download(svc, actor, today: date, key: str) -> None:
    """Fiscal-year choice, build button and download of the periodic report workbook."""
    st.subheader(t("portfolio.periodic"))
    current = fiscal.fiscal_year(today)
    years = list(range(current, current - 5, -1))
    # Labels are computed now, in the user's language, not later inside a callback.
    labels = {y: t("portfolio.fy_label", year=y, reiwa=fiscal.fiscal_year_label(y)) for y in years}
    fy = st.selectbox(t("portfolio.fiscal_year"), years, key=f"{key}_fy",
                      format_func=labels.__getitem__)
    start, end = fiscal.fiscal_year_dates(fy)
    st.caption(t("portfolio.periodic_help", start=format_jst(start, False),
                 end=format_jst(end, False)))
    state_key = f"{key}_report"
    if st.button(t("portfolio.build"), key=f"{key}_build", icon=":material/table_view:"):
        buffer = io.BytesIO()
        with st.spinner(t("portfolio.building")):
            result = svc.write_periodic_report_for(actor, fy, buffer, lang=lang())
        st.session_state[state_key] = (fy, buffer.getvalue(), result.systems, result.incidents)
    built = st.session_state.get(state_key)
    if built and built[0] == fy:
        _, data, systems, incidents = built
        st.success(t("portfolio.built", systems=systems, incidents=incidents))
        st.download_button(
            t("portfolio.download"), data, key=f"{key}_download",
            file_name=f"periodic-report-{actor.org_code}-FY{fy}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            icon=":material/download:",
        )
