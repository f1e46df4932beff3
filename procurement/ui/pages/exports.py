"""Audit exports in the browser (reviewers and auditors): the organisation workbook for a period,
one case's printable workbook, and CSV files, each built on request and offered for download.

All work is done by `procurement.exports` (tested without Streamlit); this page collects the
filters, shows a progress bar while a large workbook is written, and keeps the finished file in
the session so the download button survives reruns. Users only ever export their own
organisation.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import streamlit as st

from procurement.exports import (
    ExportFilters,
    build_case_workbook,
    build_organisation_workbook,
    write_answers_csv,
    write_audit_csv,
)
from procurement.fiscal import JST
from procurement.records.policy import CASE_STATUSES
from procurement.ui.state import get_services, run_page, t, word

ROLES = ("reviewer", "auditor")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RESULT_KEY = "exports_result"  # {"kind": ..., "name": ..., "data": bytes, "lines": [...]}


def _build(kind: str, suffix: str, write) -> bytes:
    """Run `write(path)` into a temporary file and return its bytes (the file is removed)."""
    fd, name = tempfile.mkstemp(prefix="procurement-export-", suffix=suffix)
    os.close(fd)
    try:
        write(Path(name))
        return Path(name).read_bytes()
    finally:
        Path(name).unlink(missing_ok=True)


def _stamp() -> str:
    return datetime.now(UTC).astimezone(JST).strftime("%Y%m%d-%H%M")


def _keep(kind: str, name: str, data: bytes, mime: str, lines: list[str]) -> None:
    st.session_state[RESULT_KEY] = {"kind": kind, "name": name, "data": data, "mime": mime,
                                    "lines": lines}


def _show_result(kind: str) -> None:
    result = st.session_state.get(RESULT_KEY)
    if not result or result["kind"] != kind:
        return
    for line in result["lines"]:
        st.caption(line)
    st.download_button(t("exports.download", name=result["name"]), data=result["data"],
                       file_name=result["name"], mime=result["mime"], key=f"exports_download_{kind}",
                       icon=":material/download:", type="primary")


def _filters(actor) -> ExportFilters:
    services = get_services()
    left, right = st.columns(2)
    with left:
        date_from = st.date_input(t("exports.from"), value=None, key="exports_from",
                                  format="YYYY-MM-DD")
    with right:
        date_to = st.date_input(t("exports.to"), value=None, key="exports_to",
                                format="YYYY-MM-DD")
    # Labels are looked up now, not inside format_func: Streamlit may call it later, outside
    # this run (e.g. AppTest), where the user's language is not at hand.
    status_names = {s: word("case_status", s) for s in CASE_STATUSES}
    statuses = st.multiselect(t("exports.status"), CASE_STATUSES, key="exports_status",
                              format_func=status_names.__getitem__,
                              placeholder=t("exports.all"))
    pack_ids = sorted({p.id for p in services.registry.packs()})
    everything = t("exports.all")
    pack = st.selectbox(t("exports.pack"), [None, *pack_ids], key="exports_pack",
                        format_func=lambda p: everything if p is None else p)
    return ExportFilters(org_codes=(actor.org_code,), date_from=date_from, date_to=date_to,
                         statuses=tuple(statuses), pack_id=pack)


def render_organisation(actor) -> None:
    st.subheader(t("exports.org_heading"))
    st.caption(t("exports.org_help", org=actor.org_code))
    filters = _filters(actor)
    if st.button(t("exports.build"), key="exports_build", icon=":material/table_view:"):
        services = get_services()
        bar = st.progress(0.0, text=t("exports.progress_start"))

        def progress(done: int, total: int, sheet: str) -> None:
            bar.progress(min(done / total, 1.0) if total else 1.0,
                         text=t("exports.progress", done=done, total=total, sheet=sheet))

        outcome = {}

        def write(path: Path) -> None:
            outcome["result"] = build_organisation_workbook(
                services.engine, path, filters=filters, registry=services.registry,
                generated_by=f"{actor.display_name} ({actor.username})", progress=progress)

        data = _build("org", ".xlsx", write)
        bar.progress(1.0, text=t("exports.progress_done"))
        result = outcome["result"]
        lines = [t("exports.rows", sheet=sheet, rows=rows) for sheet, rows in result.rows.items()]
        lines += [t("exports.chain_ok" if r.ok else "exports.chain_fail", chain=r.chain,
                    count=r.count, head=r.head or "-", detail=r.describe()) for r in result.chains]
        _keep("org", f"audit-{actor.org_code}-{_stamp()}.xlsx", data, XLSX, lines)
    _show_result("org")


def render_case(actor) -> None:
    st.subheader(t("exports.case_heading"))
    services = get_services()
    cases = services.list_cases(actor)
    if not cases:
        st.info(t("exports.no_cases"))
        return
    by_id = {c.id: c for c in cases}
    case_id = st.selectbox(t("exports.case"), list(by_id), key="exports_case",
                           format_func=lambda i: f"{i}: {by_id[i].title}")
    if st.button(t("exports.case_build"), key="exports_case_build", icon=":material/print:"):
        with st.spinner(t("exports.progress_start")):
            data = _build("case", ".xlsx", lambda path: build_case_workbook(
                services.engine, case_id, path, registry=services.registry,
                org_codes=(actor.org_code,),
                generated_by=f"{actor.display_name} ({actor.username})"))
        _keep("case", f"case-{case_id}-{_stamp()}.xlsx", data, XLSX, [])
    _show_result("case")


def render_csv(actor) -> None:
    st.subheader(t("exports.csv_heading"))
    st.caption(t("exports.csv_help"))
    kinds = {k: t(f"exports.csv_{k}") for k in ("audit", "answers")}
    kind = st.radio(t("exports.csv_kind"), tuple(kinds), key="exports_csv_kind",
                    format_func=kinds.__getitem__, horizontal=True)
    if st.button(t("exports.csv_build"), key="exports_csv_build", icon=":material/csv:"):
        services = get_services()
        filters = ExportFilters(org_codes=(actor.org_code,))
        rows = {}

        def write(path: Path) -> None:
            if kind == "audit":
                rows["n"] = write_audit_csv(services.engine, path, filters=filters)
            else:
                rows["n"] = write_answers_csv(services.engine, path, filters=filters,
                                              registry=services.registry)

        with st.spinner(t("exports.progress_start")):
            data = _build("csv", ".csv", write)
        _keep("csv", f"{kind}-{actor.org_code}-{_stamp()}.csv", data, "text/csv",
              [t("exports.csv_rows", rows=rows["n"])])
    _show_result("csv")


def body(actor) -> None:
    st.title(t("exports.heading"))
    st.caption(t("exports.intro"))
    org_tab, case_tab, csv_tab = st.tabs([t("exports.tab_org"), t("exports.tab_case"),
                                          t("exports.tab_csv")])
    with org_tab:
        render_organisation(actor)
    with case_tab:
        render_case(actor)
    with csv_tab:
        render_csv(actor)


run_page(body, roles=ROLES)
