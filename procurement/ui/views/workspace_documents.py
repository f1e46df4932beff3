"""The planner's own documents from the workspace, at any status: the case workbook, the
report to the Advisory Board as Excel and as a printable page (made when clicked; a document of a
case not yet approved says it is a draft), and the print view of the whole case on A4."""
from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import streamlit as st

from procurement.fiscal import to_jst
from procurement.ui import case_views, navigation
from procurement.ui.state import (
    lang,
    pick,
    t,
)
from procurement.ui.views.workspace_core import (
    CASE_PARAM,
    VIEW_PARAM,
    XLSX,
)

# --- downloads and printing ------------------------------------------------------------------


def _stamp() -> str:
    return to_jst(datetime.now(UTC)).strftime("%Y%m%d-%H%M")


def _still_signed_in(svc, actor) -> None:
    # The file is made when the button is clicked, outside a page run: a session ended since
    # the page was drawn gets nothing.
    if actor.session_id is not None:
        svc.resume_session(session_id=actor.session_id)


def _case_workbook(svc, actor, case_id: int) -> Callable[[], bytes]:
    def build() -> bytes:
        from procurement.exports import build_case_workbook
        from procurement.files import scratch_dir

        _still_signed_in(svc, actor)
        path = scratch_dir() / f"case-{case_id}-{datetime.now().timestamp():.6f}.xlsx"
        try:
            build_case_workbook(svc.engine, case_id, path, registry=svc.registry,
                                org_codes=(actor.org_code,),
                                generated_by=actor.display_name or actor.username)
            return path.read_bytes()
        finally:
            Path(path).unlink(missing_ok=True)
    return build


def _board_document(svc, actor, case_id: int, kind: str, language: str
                    ) -> Callable[[], bytes]:
    def build() -> bytes:
        from procurement.caio.documents import render_document_html, write_document_xlsx

        _still_signed_in(svc, actor)
        doc = svc.board_report_document(actor, case_id, lang=language)
        if kind == "html":
            return render_document_html(doc).encode("utf-8")
        out = io.BytesIO()
        write_document_xlsx(doc, out)
        return out.getvalue()
    return build


def render_documents(svc, actor, pack, case) -> None:
    """The case's own documents, at any status: the print view, the case workbook and, when the
    case reports to a body, the report as Excel and as a printable page (made on click; a
    document of a case not yet approved says it is a draft)."""
    with st.popover(t("docs.button"), icon=":material/print:", key="docs_menu"):
        st.caption(t("docs.intro"))
        st.page_link(navigation.script("procurement/ui/pages/workspace.py"),
                     label=t("docs.print_view"), icon=":material/print:",
                     query_params={CASE_PARAM: str(case.id), VIEW_PARAM: "print"})
        st.download_button(t("docs.case_workbook"), data=_case_workbook(svc, actor, case.id),
                           file_name=f"{t('docs.case_file')}-{case.id}-{_stamp()}.xlsx",
                           mime=XLSX, key="dl_case_workbook", on_click="ignore",
                           icon=":material/table_view:", width="stretch")
        report_steps = pack.report_steps(case.classification)
        if report_steps or case.board_report:
            name = pick(report_steps[0].title) if report_steps else t("docs.report")
            language = lang()
            st.download_button(t("docs.report_xlsx", name=name),
                               data=_board_document(svc, actor, case.id, "xlsx", language),
                               file_name=f"{t('docs.report_file')}-{case.id}-{_stamp()}.xlsx",
                               mime=XLSX, key="dl_report_xlsx", on_click="ignore",
                               icon=":material/description:", width="stretch")
            st.download_button(t("docs.report_html", name=name),
                               data=_board_document(svc, actor, case.id, "html", language),
                               file_name=f"{t('docs.report_file')}-{case.id}-{_stamp()}.html",
                               mime="text/html", key="dl_report_html", on_click="ignore",
                               icon=":material/print:", width="stretch")


def render_print(svc, actor, pack, case) -> None:
    """The whole case on one page, for printing on A4 from the browser."""
    st.page_link(navigation.script("procurement/ui/pages/workspace.py"),
                 label=t("docs.back_to_case"), icon=":material/arrow_back:", query_params={CASE_PARAM: str(case.id)})
    with st.container(key="print_hint"):  # not printed (style.py)
        st.caption(t("docs.print_hint"))
    case_views.render_print(pack, case, printed_by=actor.display_name)
