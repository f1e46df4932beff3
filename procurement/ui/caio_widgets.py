"""Pieces shared by the CAIO's pages (portfolio, operation): level names and colours, and the
periodic-report download."""

from __future__ import annotations

import io
from datetime import date

import streamlit as st

from procurement import fiscal
from procurement.caio.documents import level_words
from procurement.ui.state import lang, t, word

LEVEL_COLORS = {"out_of_scope": "#9e9e9e", "low": "#43a047", "review": "#fb8c00",
                "high": "#e53935", "unclassified": "#bdbdbd"}
#: Roles that may build the periodic report (the portfolio's readers).
PERIODIC_ROLES = frozenset({"reviewer", "auditor", "admin"})


def level_names(svc) -> dict[str, str]:
    """Level id -> label from the installed packs (the newest wins, as in the reports), plus
    'not yet classified'."""
    names = level_words(svc.registry, lang())
    names["unclassified"] = word("concept", "unclassified")
    return names


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
    st.caption(t("portfolio.periodic_help", start=start.isoformat(), end=end.isoformat()))
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
