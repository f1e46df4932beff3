"""Operation and incidents (運用・リスク事案): the organisation's registers, and one case's record.

The page opens on two registers, organisation-wide (`procurement.caio.registers`, the same columns
as the organisation workbook): systems with their operation and periodic-review standing, and
incidents, each filterable (case status, reviews due; incident status, severity), each row
opening its case. A case opens (`?case=N` works too, as does a case open in the workspace) on its
record: planners and reviewers put an approved case into operation, record periodic reviews,
change what runs, end operation with the data return/deletion evidence, and keep the incident
register; reviewers close incidents; auditors read. Every form calls `procurement.caio.operation`
(which checks roles and versions and audit-logs each change); a stale copy gets the conflict
message and the page reloads the stored record, never overwriting it.
"""

import io
from datetime import date, datetime, time
from typing import cast

import pandas as pd
import streamlit as st

from procurement.caio.documents import render_document_html, write_document_xlsx
from procurement.caio.incidents import SEVERITIES
from procurement.caio.operation import ISMAP_LISTINGS, MAX_REVIEW_INTERVAL_MONTHS
from procurement.caio.portfolio import OperationRow, next_review_due
from procurement.caio.registers import (
    INCIDENT_COLUMNS,
    OPERATION_COLUMNS,
    incident_cells,
    operation_cells,
)
from procurement.fiscal import JST, to_jst
from procurement.records import policy
from procurement.ui.caio_widgets import (
    PERIODIC_ROLES,
    case_level_text,
    render_periodic_download,
)
from procurement.ui.state import (
    CASE_KEY,
    callback,
    flash,
    format_jst,
    get_services,
    lang,
    plain,
    run_page,
    t,
    word,
    words,
)
from procurement.vocabulary import ismap_text

ROLES = ("planner", "reviewer", "auditor")
PICK_KEY = "operation_case"
#: Which view the page shows: "registers" or "case".
VIEW_KEY = "operation_view"
CASE_STATUSES = ("approved", "in_operation", "retired")


def _today(svc):
    return to_jst(svc.clock()).date()


def _is_writer(actor) -> bool:
    return policy.may(actor, "operation.write")


def _moment(enabled: bool, day, clock) -> datetime | None:
    """A JST date and time from two inputs, or None when the box is unticked."""
    if not enabled or day is None:
        return None
    return datetime.combine(day, clock or time(0, 0), tzinfo=JST)


# --------------------------------------------------------------------------- operation forms


def render_start_form(svc, actor, case, op) -> None:
    st.markdown(f"**{t('operation.start_heading')}**")
    if op is not None and op.started_on is not None and op.ended_on is None:
        st.info(t("operation.resume_note", date=format_jst(op.started_on, False)))
    with st.form("operation_start"):
        started_on = st.date_input(t("operation.started_on"), value=_today(svc),
                                   max_value=_today(svc), key="op_started_on")
        c1, c2, c3 = st.columns(3)
        vendor = c1.text_input(t("operation.vendor"), key="op_vendor", max_chars=200)
        model_name = c2.text_input(t("operation.model_name"), key="op_model_name", max_chars=200)
        model_version = c3.text_input(t("operation.model_version"), key="op_model_version",
                                      max_chars=100)
        c4, c5, c6 = st.columns(3)
        ismap = c4.selectbox(t("operation.ismap"), ISMAP_LISTINGS, key="op_ismap",
                             format_func=words("ismap").__getitem__)
        reference = c5.text_input(t("operation.ismap_reference"), key="op_ismap_ref",
                                  max_chars=150, help=t("operation.ismap_reference_help"))
        interval = c6.number_input(t("operation.interval"), min_value=1,
                                   max_value=MAX_REVIEW_INTERVAL_MONTHS, value=6, step=1,
                                   key="op_interval")
        submitted = st.form_submit_button(t("operation.start"), key="op_start", type="primary")
    if submitted:
        listing = f"{ismap}:{reference.strip()}" if reference.strip() else ismap
        svc.start_operation(actor, case.id, case.version, started_on=started_on,
                            vendor=vendor, model_name=model_name, model_version=model_version,
                            ismap_listing=listing, review_interval_months=int(interval))
        flash("success", "operation.started", id=case.id)
        st.rerun()


def render_operation_record(svc, op) -> None:
    due = next_review_due(OperationRow(
        case_id=op.case_id, started_on=op.started_on,
        review_interval_months=op.review_interval_months, last_reviewed_on=op.last_reviewed_on,
        ended_on=op.ended_on))
    rows = [
        (t("operation.started_on"), format_jst(op.started_on)),
        (t("operation.vendor"), op.vendor),
        (t("operation.model_name"), op.model_name),
        (t("operation.model_version"), op.model_version),
        (t("operation.ismap"), ismap_text(op.ismap_listing, lang())),
        (t("operation.interval"), str(op.review_interval_months or "-")),
        (t("operation.last_review"), format_jst(op.last_reviewed_on)),
        (t("operation.next_review"), format_jst(due)),
        (t("operation.ended_on"), format_jst(op.ended_on)),
        (t("operation.end_evidence"), op.end_evidence or "-"),
        (t("operation.updated"), f"{format_jst(op.updated_at)} ({op.updated_by})"),
    ]
    # Tall enough for every row: the record is read at a glance, not scrolled.
    st.dataframe(pd.DataFrame(rows, columns=[t("operation.item"), t("operation.value")]),
                 hide_index=True, key="op_record", height=36 * (len(rows) + 1) + 4)
    if due is not None and due <= _today(svc):
        st.warning(t("operation.review_due", date=format_jst(due, False)), icon=":material/event_busy:")


def render_running_forms(svc, actor, op) -> None:
    review_tab, change_tab, end_tab = st.tabs(
        [t("operation.review_tab"), t("operation.change_tab"), t("operation.end_tab")])
    today = _today(svc)
    with review_tab, st.form("operation_review"):
        reviewed_on = st.date_input(t("operation.reviewed_on"), value=today, max_value=today,
                                    key="op_reviewed_on")
        note = st.text_area(t("operation.note"), key="op_review_note", max_chars=5000)
        if st.form_submit_button(t("operation.record_review"), key="op_review", type="primary"):
            svc.record_review(actor, op.case_id, op.case_version, reviewed_on=reviewed_on,
                              note=note)
            flash("success", "operation.reviewed", date=format_jst(reviewed_on, False))
            st.rerun()
    with change_tab, st.form("operation_change"):
        c1, c2, c3 = st.columns(3)
        vendor = c1.text_input(t("operation.vendor"), value=op.vendor, key="op_new_vendor",
                               max_chars=200)
        model_name = c2.text_input(t("operation.model_name"), value=op.model_name,
                                   key="op_new_model", max_chars=200)
        model_version = c3.text_input(t("operation.model_version"), value=op.model_version,
                                      key="op_new_version", max_chars=100)
        code, _, reference = op.ismap_listing.partition(":")
        c4, c5, c6 = st.columns(3)
        ismap = c4.selectbox(t("operation.ismap"), ISMAP_LISTINGS, key="op_new_ismap",
                             index=ISMAP_LISTINGS.index(code) if code in ISMAP_LISTINGS
                             else 0,
                             format_func=words("ismap").__getitem__)
        new_reference = c5.text_input(t("operation.ismap_reference"), value=reference,
                                      key="op_new_ismap_ref", max_chars=150)
        interval = c6.number_input(t("operation.interval"), min_value=1,
                                   max_value=MAX_REVIEW_INTERVAL_MONTHS,
                                   value=op.review_interval_months or 6, step=1,
                                   key="op_new_interval")
        note = st.text_area(t("operation.change_note"), key="op_change_note", max_chars=5000)
        if st.form_submit_button(t("operation.save_change"), key="op_change"):
            listing = f"{ismap}:{new_reference.strip()}" if new_reference.strip() else ismap
            svc.update_operation(actor, op.case_id, op.case_version, vendor=vendor,
                                 model_name=model_name, model_version=model_version,
                                 ismap_listing=listing, review_interval_months=int(interval),
                                 note=note)
            flash("success", "operation.changed")
            st.rerun()
    with end_tab, st.form("operation_end"):
        ended_on = st.date_input(t("operation.ended_on"), value=today, max_value=today,
                                 key="op_ended_on")
        evidence = st.text_area(t("operation.end_evidence"), key="op_end_evidence",
                                max_chars=5000, help=t("operation.end_evidence_help"))
        if st.form_submit_button(t("operation.end"), key="op_end"):
            svc.end_operation(actor, op.case_id, op.case_version, ended_on=ended_on,
                              end_evidence=evidence)
            flash("success", "operation.ended")
            st.rerun()


# --------------------------------------------------------------------------- incidents


def _incident_rows(incidents) -> pd.DataFrame:
    return pd.DataFrame([
        {t("incident.col_id"): i.id, t("incident.col_occurred"): format_jst(i.occurred_on, False),
         t("incident.col_severity"): word("severity", i.severity),
         t("incident.col_description"): i.description,
         t("incident.col_actions"): i.actions_taken,
         t("incident.col_caio"): format_jst(i.reported_to_caio_at),
         t("incident.col_onward"): format_jst(i.reported_onward_at),
         t("incident.col_status"): word("incident_status", i.status),
         t("incident.col_by"): i.created_by}
        for i in incidents
    ])


def _report_inputs(prefix: str, label_key: str, current: datetime | None, today):
    c1, c2, c3 = st.columns([1, 1, 1])
    enabled = c1.checkbox(t(label_key), value=current is not None, key=f"{prefix}_on")
    local = to_jst(current) if current is not None else None
    day = c2.date_input(t("incident.report_date"), value=local.date() if local else today,
                        max_value=today, key=f"{prefix}_date")
    # A new report defaults to 09:00, or to now when it is earlier in the day: a default in the
    # future would be refused (before 09:00 JST the office's day has just begun).
    now = to_jst(get_services().clock())
    default = min(time(9, 0), now.time().replace(second=0, microsecond=0))
    clock = c3.time_input(t("incident.report_time"), value=local.time() if local else default,
                          key=f"{prefix}_time")
    return enabled, day, clock


def render_new_incident(svc, actor, case) -> None:
    today = _today(svc)
    with st.expander(t("incident.new"), icon=":material/report:"), st.form("incident_new"):
        c1, c2 = st.columns(2)
        occurred_on = c1.date_input(t("incident.occurred_on"), value=today, max_value=today,
                                    key="inc_occurred_on")
        severity = c2.selectbox(t("incident.severity"), SEVERITIES, index=1,
                                key="inc_severity", format_func=words("severity").__getitem__)
        description = st.text_area(t("incident.description"), key="inc_description",
                                   max_chars=20000)
        actions = st.text_area(t("incident.actions"), key="inc_actions", max_chars=20000)
        caio = _report_inputs("inc_caio", "incident.reported_to_caio", None, today)
        onward = _report_inputs("inc_onward", "incident.reported_onward", None, today)
        if st.form_submit_button(t("incident.create"), key="inc_create", type="primary"):
            svc.create_incident(actor, case.id, occurred_on=occurred_on, severity=severity,
                description=description, actions_taken=actions,
                reported_to_caio_at=_moment(*caio), reported_onward_at=_moment(*onward),
            )
            flash("success", "incident.created")
            st.rerun()


def render_open_incident(svc, actor, incident) -> None:
    today = _today(svc)
    with st.form(f"incident_edit_{incident.id}"):
        st.markdown(f"**{t('incident.edit_heading', id=incident.id)}**")
        severity = st.selectbox(t("incident.severity"), SEVERITIES,
                                index=SEVERITIES.index(incident.severity),
                                key=f"inc_sev_{incident.id}", format_func=words("severity").__getitem__)
        actions = st.text_area(t("incident.actions"), value=incident.actions_taken,
                               key=f"inc_act_{incident.id}", max_chars=20000)
        caio = _report_inputs(f"inc_caio_{incident.id}", "incident.reported_to_caio",
                              incident.reported_to_caio_at, today)
        onward = _report_inputs(f"inc_onward_{incident.id}", "incident.reported_onward",
                                incident.reported_onward_at, today)
        save_col, close_col = st.columns(2)
        save = save_col.form_submit_button(t("incident.save"), key=f"inc_save_{incident.id}")
        close = close_col.form_submit_button(
            t("incident.close"), key=f"inc_close_{incident.id}",
            disabled=not policy.may(actor, "incident.close"), help=t("incident.close_help"))
    if save or close:
        changes = {
            "severity": severity, "actions_taken": actions,
            "reported_to_caio_at": _moment(*caio), "reported_onward_at": _moment(*onward),
        }
        changes = {k: v for k, v in changes.items() if getattr(incident, k) != v}
        version = incident.version
        if changes:
            version = svc.update_incident(actor, incident.id, version, **changes).version
        if close:
            svc.close_incident(actor, incident.id, version)
            flash("success", "incident.closed", id=incident.id)
        elif changes:
            flash("success", "incident.saved", id=incident.id)
        st.rerun()


def render_incidents(svc, actor, case) -> None:
    st.subheader(t("incident.heading"))
    incidents = svc.list_incidents(actor, case.id)
    if incidents:
        st.dataframe(_incident_rows(incidents), hide_index=True, key="incident_table")
    else:
        st.caption(t("incident.none"))
    if not _is_writer(actor):
        return
    if case.status in policy.INCIDENT_CASE_STATUSES:
        render_new_incident(svc, actor, case)
    for incident in incidents:
        if incident.status == "open":
            render_open_incident(svc, actor, incident)


# --------------------------------------------------------------------------- downloads


def render_board_downloads(svc, actor, case) -> None:
    """Built on request (not on every rerun of the page), for the case version on screen."""
    st.subheader(t("operation.board_report"))
    state_key = "operation_board_report"
    stamp = (case.id, case.version, lang())
    if st.button(t("operation.board_build"), key="board_build", icon=":material/description:"):
        doc = svc.board_report_document(actor, case.id, lang=lang())
        buffer = io.BytesIO()
        write_document_xlsx(doc, buffer)
        st.session_state[state_key] = (stamp, render_document_html(doc).encode("utf-8"),
                                       buffer.getvalue())
    built = st.session_state.get(state_key)
    if not built or built[0] != stamp:
        return
    _, html_bytes, xlsx_bytes = built
    c1, c2 = st.columns(2)
    c1.download_button(t("operation.board_html"), html_bytes,
                       file_name=f"board-report-{case.org_code}-{case.id}.html",
                       mime="text/html", key="board_html", icon=":material/print:")
    c2.download_button(t("operation.board_xlsx"), xlsx_bytes,
                       file_name=f"board-report-{case.org_code}-{case.id}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key="board_xlsx", icon=":material/table_view:")


# --------------------------------------------------------------------------- registers

OPERATION_TABLE = "operation_register"
INCIDENT_TABLE = "incident_register"


def _cell(value):
    """A register cell for a table on screen: timestamps in JST, dates as dates."""
    if isinstance(value, datetime):
        return format_jst(value)
    if isinstance(value, date):
        return format_jst(value, False)
    return value


def _register_frame(columns, rows, cells) -> pd.DataFrame:
    """The register as the workbook has it: the same columns, in the reader's language. Number
    columns stay numbers (sortable), empty where there is none; other empty cells are ''."""
    data = [[_cell(v) for v in cells(row, lang())] for row in rows]
    frame = pd.DataFrame({
        c.label(lang()): pd.array([r[i] for r in data], dtype="Int64") if c.kind == "int"
        else ["" if r[i] is None else r[i] for r in data]
        for i, c in enumerate(columns)})
    return frame


def open_case(case_id: int) -> None:
    st.session_state[PICK_KEY] = case_id
    st.session_state[VIEW_KEY] = "case"


def _open_picked_row(table_key: str) -> None:
    rows = list(getattr(getattr(st.session_state.get(table_key), "selection", None), "rows",
                        None) or [])
    ids = st.session_state.get(f"{table_key}_ids") or []
    if rows and rows[0] < len(ids):
        open_case(ids[rows[0]])


@callback
def _operation_row_picked() -> None:
    """A row picked in the operation register opens its case."""
    _open_picked_row(OPERATION_TABLE)


@callback
def _incident_row_picked() -> None:
    """A row picked in the incident register opens its case."""
    _open_picked_row(INCIDENT_TABLE)


def _open_controls(key: str, labels: dict[int, str]) -> None:
    """The keyboard way to open a row's case: the list of the register's cases and a button.
    `labels` are plain text: a selectbox does not render markdown."""
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    picked = left.selectbox(t("register.open_pick"), list(labels), key=f"{key}_pick",
                            format_func=labels.__getitem__)
    if right.button(t("register.open"), key=f"{key}_open", type="primary",
                    icon=":material/open_in_new:"):
        open_case(picked)
        st.rerun()


def render_operation_register(svc, actor) -> None:
    statuses = [None, *CASE_STATUSES]
    names: dict[str | None, str] = {None: t("register.all"), **{s: word("case_status", s) for s in CASE_STATUSES}}
    left, right = st.columns([2, 3], vertical_alignment="bottom")
    status = left.selectbox(t("register.case_status"), statuses, key="register_op_status",
                            format_func=names.__getitem__)
    due_only = right.toggle(t("register.due_only"), key="register_op_due")
    rows = svc.operation_register(actor, case_status=status, due_only=due_only)
    due = sum(1 for r in rows if r.review_is_due)
    st.caption(t("register.op_count", count=len(rows), due=due))
    if not rows:
        st.info(t("register.op_empty"))
        return
    st.session_state[f"{OPERATION_TABLE}_ids"] = [r.case_id for r in rows]
    # st.dataframe shows cell text as text (never markdown), so titles are safe here.
    st.dataframe(_register_frame(OPERATION_COLUMNS, rows, operation_cells), hide_index=True,
                 key=OPERATION_TABLE, on_select=_operation_row_picked,
                 selection_mode="single-row")
    _open_controls(OPERATION_TABLE, {r.case_id: f"#{r.case_id} {r.title}" for r in rows})


def render_incident_register(svc, actor) -> None:
    statuses = [None, *policy.INCIDENT_STATUSES]
    names: dict[str | None, str] = {None: t("register.all"), **cast("dict[str | None, str]", words("incident_status"))}
    severity_words = words("severity")
    left, right = st.columns([2, 3], vertical_alignment="bottom")
    status = left.selectbox(t("register.incident_status"), statuses, key="register_inc_status",
                            format_func=names.__getitem__)
    severities = right.multiselect(t("register.severity"), SEVERITIES, key="register_inc_sev",
                                   format_func=severity_words.__getitem__,
                                   placeholder=t("register.all"))
    rows = svc.incident_register(actor, status=status, severities=severities)
    st.caption(t("register.inc_count", count=len(rows),
                 open=sum(1 for r in rows if r.status == "open")))
    if not rows:
        st.info(t("register.inc_empty"))
        return
    st.session_state[f"{INCIDENT_TABLE}_ids"] = [r.case_id for r in rows]
    st.dataframe(_register_frame(INCIDENT_COLUMNS, rows, incident_cells), hide_index=True,
                 key=INCIDENT_TABLE, on_select=_incident_row_picked, selection_mode="single-row")
    labels: dict[int, str] = {}
    for r in rows:
        labels.setdefault(r.case_id, f"#{r.case_id} {r.title}")
    _open_controls(INCIDENT_TABLE, labels)


def render_registers(svc, actor) -> None:
    st.caption(t("register.intro"))
    operations, incidents = st.tabs([t("register.op_tab"), t("register.inc_tab")])
    with operations:
        render_operation_register(svc, actor)
    with incidents:
        render_incident_register(svc, actor)


# --------------------------------------------------------------------------- one case


def render_case(svc, actor) -> None:
    if st.button(t("register.back"), key="register_back", icon=":material/arrow_back:"):
        st.session_state[VIEW_KEY] = "registers"
        st.query_params.pop("case", None)
        st.rerun()
    cases = [c for c in svc.list_cases(actor) if c.status in CASE_STATUSES]
    if not cases:
        st.info(t("operation.no_cases"))
        return
    by_id = {c.id: c for c in cases}
    wanted = st.session_state.get(CASE_KEY)
    if st.session_state.get(PICK_KEY) not in by_id:
        st.session_state[PICK_KEY] = wanted if wanted in by_id else cases[0].id
    # A selectbox shows its options as plain text (not markdown): no `plain` escaping.
    labels = {
        i: t("operation.pick_item", id=i, title=c.title,
             status=word("case_status", c.status),
             level=case_level_text(svc, c))
        for i, c in by_id.items()
    }
    st.selectbox(t("operation.pick"), list(by_id), key=PICK_KEY, format_func=labels.__getitem__)
    case = svc.get_case(actor, st.session_state[PICK_KEY])
    st.caption(t("operation.case_line", department=plain(case.department),
                 status=word("case_status", case.status),
                 level=plain(case_level_text(svc, case))))
    st.subheader(t("operation.record"))
    op = svc.get_operation(actor, case.id)
    if op is not None:
        render_operation_record(svc, op)
    else:
        st.caption(t("operation.not_started"))
    if _is_writer(actor):
        if case.status == "approved":
            render_start_form(svc, actor, case, op)
        elif case.status == "in_operation" and op is not None:
            render_running_forms(svc, actor, op)
    render_incidents(svc, actor, case)
    render_board_downloads(svc, actor, case)


# --------------------------------------------------------------------------- page


def _initial_view() -> str:
    """Where the page opens: on a case when one is named (`?case=N`, a case picked here before,
    or the case open in the workspace), else on the registers."""
    wanted = st.query_params.get("case")
    if wanted is not None and str(wanted).isdigit():
        st.session_state[PICK_KEY] = int(wanted)
        return "case"
    if st.session_state.get(PICK_KEY) is not None or st.session_state.get(CASE_KEY) is not None:
        return "case"
    return "registers"


def body(actor) -> None:
    svc = get_services()
    st.title(t("operation.heading"))
    if VIEW_KEY not in st.session_state or st.query_params.get("case") is not None:
        st.session_state[VIEW_KEY] = _initial_view()
    if st.session_state[VIEW_KEY] == "case":
        render_case(svc, actor)
    else:
        render_registers(svc, actor)
    if actor.has_role(*PERIODIC_ROLES):
        render_periodic_download(svc, actor, _today(svc), key="operation")


run_page(body, roles=ROLES)
