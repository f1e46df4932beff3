"""The CAIO's portfolio: every case of the organisation at a glance (reviewers and auditors).

Figures come from `procurement.caio.portfolio` (plain Python, tested without Streamlit); this page only
lays them out: headline numbers, charts where a picture says it faster (levels, statuses,
departments, the monthly trend), then the lists the CAIO acts on, and the periodic report
download.
"""

import altair as alt
import pandas as pd
import streamlit as st

from procurement.caio.portfolio import compute_portfolio
from procurement.ui.caio_widgets import render_figures, render_periodic_download, tone_color
from procurement.ui.state import format_jst, get_services, lang, plain, run_page, t, word
from procurement.vocabulary import describe_void_reason

ROLES = ("reviewer", "auditor")


def _bar(counts: dict[str, int], names: dict[str, str], title: str, colors: dict[str, str] | None):
    frame = pd.DataFrame({"key": list(counts), "count": list(counts.values())})
    frame["label"] = [names.get(k, k) for k in frame["key"]]
    order = list(frame["label"])
    color = (alt.Color("key:N", legend=None,
                       scale=alt.Scale(domain=list(colors), range=list(colors.values())))
             if colors else alt.value("#1e88e5"))
    return (
        alt.Chart(frame, title=title)
        .mark_bar()
        .encode(x=alt.X("count:Q", title=t("portfolio.count"), axis=alt.Axis(tickMinStep=1)),
                y=alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=240)),
                color=color, tooltip=[alt.Tooltip("label:N", title=title),
                                      alt.Tooltip("count:Q", title=t("portfolio.count"))])
    )


def level_names(p, rows) -> dict[str, str]:
    """Level group key -> label, as each group's pack names it; with cases on several scales
    (packs with levels of their own) the label also names the scale's pack."""
    several = len(p.scales) > 1
    names = {}
    for g in p.levels:
        text = g.text(lang())
        if several and g.level is not None:
            text = f"{rows.levels.scale_title(g.scale, lang())}: {text}"
        names[g.key] = text
    return names


def render_charts(p, levels: dict[str, str]) -> None:
    colors = {g.key: tone_color(g.tone) for g in p.levels}
    left, right = st.columns(2)
    with left:
        st.altair_chart(_bar(p.by_level, levels, t("portfolio.by_level"), colors),
                        width="stretch")
    with right:
        statuses = {s: word("case_status", s) for s in p.by_status}
        st.altair_chart(_bar(p.by_status, statuses, t("portfolio.by_status"), None),
                        width="stretch")
    rows = [
        {"department": dept, "key": level, "level": levels.get(level, level), "count": n}
        for dept, counts in p.level_by_department.items() for level, n in counts.items()
    ]
    if rows:
        frame = pd.DataFrame(rows)
        order = list(p.by_department)
        known = [g.key for g in p.levels if g.key in set(frame["key"])]
        chart = (
            alt.Chart(frame, title=t("portfolio.by_department"))
            .mark_bar()
            .encode(
                x=alt.X("sum(count):Q", title=t("portfolio.count"), axis=alt.Axis(tickMinStep=1)),
                y=alt.Y("department:N", sort=order, title=None, axis=alt.Axis(labelLimit=240)),
                color=alt.Color("level:N", title=t("portfolio.level"),
                                legend=alt.Legend(labelLimit=240),
                                scale=alt.Scale(domain=[levels.get(k, k) for k in known],
                                                range=[colors[k] for k in known])),
                tooltip=["department:N", "level:N", "count:Q"],
            )
        )
        st.altair_chart(chart, width="stretch")
    series = [("created", t("portfolio.created")), ("submitted", t("portfolio.submitted")),
              ("approved", t("portfolio.approved"))]
    trend = pd.DataFrame([
        {"month": m.month, "series": name, "order": index, "count": getattr(m, key)}
        for m in p.trend for index, (key, name) in enumerate(series)
    ])
    names = [name for _, name in series]
    chart = (
        alt.Chart(trend, title=t("portfolio.trend"))
        .mark_bar()
        .encode(
            x=alt.X("month:O", title=t("portfolio.month")),
            xOffset=alt.XOffset("series:N", sort=names),
            y=alt.Y("count:Q", title=t("portfolio.count"), axis=alt.Axis(tickMinStep=1)),
            color=alt.Color("series:N", sort=names, title=None,
                            scale=alt.Scale(domain=names, range=["#90caf9", "#1e88e5", "#2e7d32"])),
            tooltip=["month:O", "series:N", "count:Q"],
        )
    )
    st.altair_chart(chart, width="stretch")


def render_lists(p, levels: dict[str, str]) -> None:
    st.subheader(t("portfolio.high_risk"))
    if p.high_risk:
        st.dataframe(pd.DataFrame([
            {t("portfolio.col_id"): c.id, t("portfolio.col_title"): c.title,
             t("portfolio.col_department"): c.department,
             t("portfolio.col_status"): word("case_status", c.status),
             t("portfolio.col_board_report"): word("board_state", c.board_report)}
            for c in p.high_risk
        ]), hide_index=True, key="portfolio_high_risk")
    else:
        st.caption(t("portfolio.none"))

    st.subheader(t("portfolio.waiting"))
    if p.waiting:
        st.dataframe(pd.DataFrame([
            {t("portfolio.col_id"): w.case.id, t("portfolio.col_title"): w.case.title,
             t("portfolio.col_level"): w.case.level_text(lang()),
             t("portfolio.col_submitted"): format_jst(w.case.submitted_at),
             t("portfolio.col_days"): w.days_waiting}
            for w in p.waiting
        ]), hide_index=True, key="portfolio_waiting")
    else:
        st.caption(t("portfolio.none"))

    st.subheader(t("portfolio.voided"))
    if p.voided:
        st.dataframe(pd.DataFrame([
            {t("portfolio.col_id"): v.case.id, t("portfolio.col_title"): v.case.title,
             t("portfolio.col_voided_at"): format_jst(v.voided_at),
             t("portfolio.col_reason"): describe_void_reason(v.reason, lang()),
             t("portfolio.col_reapproved"): t("common.yes") if v.is_reapproved else t("common.no")}
            for v in p.voided
        ]), hide_index=True, key="portfolio_voided")
    else:
        st.caption(t("portfolio.none"))

    if p.running_unapproved:
        st.subheader(t("portfolio.running_unapproved"))
        st.warning(t("portfolio.running_unapproved_help"), icon=":material/gpp_maybe:")
        st.dataframe(pd.DataFrame([
            {t("portfolio.col_id"): c.id, t("portfolio.col_title"): c.title,
             t("portfolio.col_status"): word("case_status", c.status),
             t("portfolio.col_voided_at"): format_jst(c.approval_voided_at),
             t("portfolio.col_reason"): describe_void_reason(c.approval_voided_reason, lang())}
            for c in p.running_unapproved
        ]), hide_index=True, key="portfolio_running_unapproved")

    st.subheader(t("portfolio.reviews"))
    if p.reviews:
        st.dataframe(pd.DataFrame([
            {t("portfolio.col_id"): r.case.id, t("portfolio.col_title"): r.case.title,
             t("portfolio.col_model"): f"{r.operation.model_name} {r.operation.model_version}",
             t("portfolio.col_last_review"): format_jst(r.operation.last_reviewed_on),
             t("portfolio.col_next_review"): format_jst(r.next_due),
             t("portfolio.col_review_state"): (t("portfolio.overdue", days=r.days_overdue)
                                               if r.is_due else t("portfolio.on_schedule"))}
            for r in p.reviews
        ]), hide_index=True, key="portfolio_reviews")
    else:
        st.caption(t("portfolio.no_running"))


def body(actor) -> None:
    svc = get_services()
    st.title(t("portfolio.heading"))
    rows = svc.load_portfolio_rows(actor)
    p = compute_portfolio(rows, now=svc.clock())
    org_name = svc.get_org(actor, actor.org_code).name
    st.caption(t("portfolio.as_of", org=plain(org_name), date=format_jst(p.today, False)))
    if not p.total:
        st.info(t("portfolio.empty"))
        return
    levels = level_names(p, rows)
    render_figures({t("portfolio.total"): p.total, t("portfolio.high_count"): len(p.high_risk),
                    t("portfolio.waiting_count"): len(p.waiting),
                    t("portfolio.reviews_due_count"): len(p.reviews_due),
                    t("portfolio.open_incidents"): p.open_incidents}, key="portfolio")
    if p.reviews_due:
        st.warning(t("portfolio.reviews_due_warning", count=len(p.reviews_due)),
                   icon=":material/event_busy:")
    render_charts(p, levels)
    render_lists(p, levels)
    render_periodic_download(svc, actor, p.today, key="portfolio")


run_page(body, roles=ROLES)
