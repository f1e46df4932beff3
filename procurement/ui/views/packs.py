"""The rule-pack page (pack administrators and administrators).

Four tabs: the layer tree (national, then the packs extending it) with each pack's questions,
rules, findings and items, their provenance, source and layer, the organisation's choice and a
bundle download; upload of a pack with the full validation report (loader errors, the pack's own
tests) before anything is installed; a readable diff between any two packs or versions; and
re-assessment of the organisation's cases under another pack, previewed before it is applied.
All work is done by `procurement.sharing.installed`, `procurement.sharing.reassess` and `procurement.packs`.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from procurement.errors import InputError, ProcurementError
from procurement.packs import diff_packs
from procurement.records import policy
from procurement.sharing import bundles
from procurement.sharing import installed as packstore
from procurement.sharing.bundles import BundleError
from procurement.ui.i18n import catalog
from procurement.ui.state import (
    flash,
    format_jst,
    get_services,
    lang,
    pick,
    run_page,
    show_error,
    t,
    word,
)
from procurement.ui.widgets import level_label, plain, provenance_label, source_text

ROLES = ("pack_admin", "admin")
REPORT_KEY = "packs_report"  # {"report": UploadReport, "bundle": Bundle}
PLAN_KEY = "packs_plan"  # ReassessmentPlan of the last preview
RESULT_KEY = "packs_apply_result"  # {"result": ApplyResult, "pack": key}


# -- helpers ----------------------------------------------------------------------------------


def _element_text(element: Any) -> str:
    for name in ("text", "message", "label", "title"):
        value = getattr(element, name, None)
        if value:
            return pick(value)
    return ""


def _element_rows(elements) -> list[dict[str, str]]:
    return [
        {
            t("packs.col_id"): el.id,
            t("packs.col_text"): _element_text(el),
            t("packs.col_provenance"): provenance_label(getattr(el, "provenance", None)),
            t("packs.col_source"): source_text(getattr(el, "source", None)),
            t("packs.col_layer"): getattr(el, "layer", "") or "",
        }
        for el in elements
    ]


def _org_choice(services, actor) -> str | None:
    return services.get_org(actor, actor.org_code).pack_ref


# -- layers -----------------------------------------------------------------------------------


def render_layers(services, actor) -> None:
    installed = {v.key: v for v in services.list_installed_packs()}
    choice = _org_choice(services, actor)
    st.caption(t("packs.org_choice", org=actor.org_code,
                 pack=choice or t("packs.national_by_date")))
    nodes = packstore.flatten_tree(packstore.layer_tree(services.registry, installed))
    lines = []
    for node in nodes:
        kind = t("packs.layer_national") if node.depth == 0 else t("packs.layer_local")
        origin = (t("packs.installed_on", when=format_jst(installed[node.key].installed_at))
                  if node.is_installed else t("packs.shipped"))
        lines.append(f"{'　' * 2 * node.depth}{'└ ' if node.depth else ''}**{plain(node.key)}** "
                     f"{plain(pick(node.pack.title))} — {kind} · {origin}")
    st.markdown("  \n".join(lines) if lines else t("packs.none"))

    keys = [node.key for node in nodes]
    if not keys:
        return
    default = keys.index(choice) if choice in keys else 0
    key = st.selectbox(t("packs.browse"), keys, index=default, key="packs_browse")
    pack = services.registry.resolve(key)
    st.subheader(plain(pick(pack.title)))
    st.caption(t("packs.meta", edition=format_jst(pack.edition, False),
                  effective=format_jst(pack.effective_from, False), layers=" → ".join(pack.layers),
                  fingerprint=pack.fingerprint[:12]))
    left, right = st.columns(2)
    with left:
        if st.button(t("packs.select_for_org", org=actor.org_code), key="packs_select",
                     icon=":material/check_circle:", disabled=choice == pack.key):
            services.set_org_pack(actor, actor.org_code, pack.key)
            flash("success", "packs.selected", org=actor.org_code, pack=pack.key)
            st.rerun()
        if choice and st.button(t("packs.clear_choice"), key="packs_clear"):
            services.set_org_pack(actor, actor.org_code, None)
            flash("success", "packs.cleared", org=actor.org_code)
            st.rerun()
    with right:
        name, data = services.export_bundle(pack.key, created_by=actor.username)
        st.download_button(t("packs.download_bundle", name=name), data=data, file_name=name,
                           mime="application/zip", key="packs_download",
                           icon=":material/download:")
    for kind, elements in (
        ("questions", pack.questions), ("rules", pack.rules), ("blocking", pack.blocking),
        ("items", pack.items), ("steps", pack.steps),
    ):
        with st.expander(t(f"packs.kind_{kind}", count=len(elements)), expanded=kind == "questions"):
            st.dataframe(_element_rows(elements), hide_index=True, width="stretch")


# -- upload -----------------------------------------------------------------------------------


def _bundle_error_text(exc: BundleError) -> str:
    reason = exc.params.get("reason", "")
    # File and member names come from the uploader: shown literally, never as markdown.
    return t("packs.bundle_error", source=plain(exc.params.get("source", "")),
             member=plain(exc.params.get("member", "") or "-"),
             reason=t(f"packs.bundle_reason.{reason}") if reason else "",
             detail=exc.params.get("detail", ""))


def render_upload(services, actor) -> None:
    st.caption(t("packs.upload_help"))
    files = st.file_uploader(t("packs.upload"), type=["yaml", "yml", "json", "md", "lock", "zip"],
                             accept_multiple_files=True, key="packs_upload",
                             max_upload_size=max(1, bundles.MAX_BUNDLE_BYTES // (1024 * 1024)))
    if st.button(t("packs.check"), key="packs_check", icon=":material/rule:", disabled=not files):
        st.session_state.pop(REPORT_KEY, None)
        uploads = [(f.name, f.getvalue()) for f in files or []]
        source = uploads[0][0] if len(uploads) == 1 else ", ".join(n for n, _ in uploads)
        try:
            bundle = packstore.files_from_uploads(uploads, source_name=source)
            report = services.check_upload(bundle, source_name=source)
        except BundleError as exc:
            st.error(_bundle_error_text(exc), icon=":material/gpp_bad:")
            return
        except InputError as exc:
            reason = exc.params.get("reason")
            if reason is None:
                raise
            st.error(t(f"packs.upload_reason.{reason}", member=plain(exc.params.get("member", "")),
                       files=plain(", ".join(exc.params.get("files", [])))),
                     icon=":material/error:")
            return
        st.session_state[REPORT_KEY] = {"report": report, "bundle": bundle}
    held = st.session_state.get(REPORT_KEY)
    if not held:
        return
    report = held["report"]
    status_kind = {"ok": st.success, "already_installed": st.info}.get(report.status, st.error)
    status_kind(t(f"packs.status.{report.status}", pack=report.pack_key or "-",
                  source=plain(report.source_name), run=report.tests_run,
                  failed=len(report.test_failures)))
    st.caption(t("packs.files", files=plain(", ".join(report.files))))
    if report.errors:
        st.markdown(t("packs.errors_heading"))
        st.code("\n".join(report.errors), language=None)
    if report.test_failures:
        st.markdown(t("packs.failures_heading"))
        st.code("\n".join(f"{f.file}: {f.case}\n    {f.message}" for f in report.test_failures),
                language=None)
    if report.status == "ok":
        if st.button(t("packs.install", pack=report.pack_key), key="packs_install", type="primary",
                     icon=":material/install_desktop:"):
            view = services.install_pack(actor, held["bundle"],
                                          source_name=report.source_name)
            st.session_state.pop(REPORT_KEY, None)
            flash("success", "packs.installed", pack=view.key)
            st.rerun()


# -- diff -------------------------------------------------------------------------------------


def _describe(pack, element_id: str, kind: str) -> str:
    if kind == "options" and ":" in element_id:
        qid, value = element_id.split(":", 1)
        element = pack.element(qid)
        label = value
        for option in getattr(element, "options", ()):
            if option.value == value:
                label = pick(option.label)
        return f"{qid} → {label}"
    element = pack.element(element_id)
    return f"{element_id} {_element_text(element)}".strip() if element is not None else element_id


def _field_names(fields) -> str:
    """Element or pack field names in the user's language (the name itself when unknown)."""
    texts = catalog(lang())
    return ", ".join(texts.get(f"packs.field.{name}", name) for name in fields)


def render_diff(services, actor) -> None:
    keys = [pack.key for pack in services.registry.packs()]
    if len(keys) < 2:
        st.info(t("packs.diff_need_two"))
        return
    national = [k for k in keys if k.startswith("jp-national@")]
    left, right = st.columns(2)
    with left:
        a_key = st.selectbox(t("packs.diff_a"), keys, key="packs_diff_a",
                             index=keys.index(national[0]) if national else 0)
    with right:
        b_key = st.selectbox(t("packs.diff_b"), keys, key="packs_diff_b",
                             index=keys.index(national[-1]) if len(national) > 1 else 1)
    # Sources change with every edition; hiding them first shows what behaves differently.
    ignore_source = st.checkbox(t("packs.diff_ignore_source"), key="packs_diff_ignore", value=True)
    a, b = services.registry.resolve(a_key), services.registry.resolve(b_key)
    diff = diff_packs(a, b, ignore=("source",) if ignore_source else ())
    if diff.is_empty:
        st.success(t("packs.diff_none", a=a.key, b=b.key))
        return
    if diff.metadata:
        st.markdown(t("packs.diff_metadata", fields=_field_names(diff.metadata)))
    for kind, part in diff.kinds.items():
        if part.is_empty:
            continue
        st.markdown(f"**{t(f'packs.diff_kind.{kind}')}**")
        lines = [f"＋ {plain(_describe(b, x, kind))}" for x in part.added]
        lines += [f"－ {plain(_describe(a, x, kind))}" for x in part.removed]
        lines += [f"～ {plain(_describe(b, x, kind))} ({plain(_field_names(fields))})"
                  for x, fields in part.changed.items()]
        st.markdown("  \n".join(lines))


# -- re-assessment ----------------------------------------------------------------------------


def _ids(values) -> str:
    return ", ".join(values) if values else ""


def render_reassess(services, actor) -> None:
    st.caption(t("packs.reassess_help", org=actor.org_code))
    keys = [pack.key for pack in services.registry.packs()]
    national = [k for k in keys if k.startswith("jp-national@")]
    target = st.selectbox(t("packs.reassess_target"), keys, key="packs_target",
                          index=keys.index(national[-1]) if national else 0)
    if st.button(t("packs.preview"), key="packs_preview", icon=":material/preview:"):
        st.session_state.pop(RESULT_KEY, None)
        st.session_state[PLAN_KEY] = services.plan_reassessment(target, actor=actor)
    held = st.session_state.get(RESULT_KEY)
    if held is not None:
        result = held["result"]
        st.success(t("packs.applied", moved=len(result.moved), pack=held["pack"]))
        if result.voided:
            st.warning(t("packs.voided", cases=", ".join(map(str, result.voided))))
        for case_id, reason in result.refused:
            st.error(t("packs.refused", case=case_id, reason=reason))
    plan = st.session_state.get(PLAN_KEY)
    if plan is None or plan.pack.key != target:
        return
    pack = plan.pack
    if not plan.rows:
        st.info(t("packs.reassess_none", pack=pack.key))
        return
    would_void = [r.case_id for r in plan.rows
                  if r.obligations_grew and r.status in policy.HOLDS_APPROVAL_STATUSES]
    st.markdown(t("packs.reassess_summary", cases=len(plan.rows), changed=len(plan.changed_rows),
                  voided=len(would_void), pack=pack.key))
    for case_id, ref in plan.unavailable:
        st.warning(t("packs.reassess_unavailable", case=case_id, pack=ref))
    st.dataframe([
        {
            t("packs.col_case"): row.case_id,
            t("field.title"): row.title,
            t("field.status"): word("case_status", row.status) if row.status else "",
            t("packs.col_old_pack"): row.old_pack,
            t("packs.col_level"): (
                level_label(pack, row.new_level) if row.old_level == row.new_level
                else f"{level_label(pack, row.old_level)} → {level_label(pack, row.new_level)}"),
            t("packs.col_added_items"): _ids(row.added_items),
            t("packs.col_removed_items"): _ids(row.removed_items),
            t("packs.col_added_steps"): _ids(row.added_steps),
            t("packs.col_removed_steps"): _ids(row.removed_steps),
            t("packs.col_new_questions"): _ids(row.new_questions),
            t("packs.col_blocking"): _ids(row.blocking),
        }
        for row in plan.rows
    ], hide_index=True, width="stretch")
    confirmed = st.checkbox(t("packs.apply_confirm", cases=len(plan.rows), pack=pack.key),
                            key="packs_apply_confirm")
    if st.button(t("packs.apply"), key="packs_apply", type="primary", disabled=not confirmed,
                 icon=":material/published_with_changes:"):
        outcome = services.apply_reassessment(plan, lambda org: actor)
        st.session_state[RESULT_KEY] = {"result": outcome, "pack": pack.key}
        st.session_state.pop(PLAN_KEY, None)
        st.rerun()


# -- page -------------------------------------------------------------------------------------


def body(actor) -> None:
    services = get_services()
    st.title(t("nav.packs"))
    for problem in services.load_installed_packs():
        st.warning(t("packs.load_problem", problem=problem))
    layers, upload, diff, again = st.tabs([
        t("packs.tab_layers"), t("packs.tab_upload"), t("packs.tab_diff"), t("packs.tab_reassess"),
    ])
    for tab, body in ((layers, render_layers), (upload, render_upload), (diff, render_diff),
                      (again, render_reassess)):
        with tab:
            try:
                body(services, actor)
            except ProcurementError as exc:
                # One tab's problem must not hide the others.
                show_error(exc)


def render() -> None:
    """The page, for pack administrators and administrators."""
    run_page(body, ROLES)
