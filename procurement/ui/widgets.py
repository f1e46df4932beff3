"""Widgets drawn from a rule pack: badges, the step progress, questions, the live result panel.

Nothing here knows a question, level or item by id: everything is read from the pack and the
classification, so a city pack's extra question or item appears by itself. Text typed by users is
shown through `plain()` (markdown-escaped) and never as HTML.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from procurement.errors import NotFoundError
from procurement.ui.state import lang, pick, plain, t

PROVENANCE_COLORS = {"confirmed": "green", "secondary": "blue", "inferred": "orange"}
PROVENANCES = tuple(PROVENANCE_COLORS)


def source_text(source: Any) -> str:
    """A pack element's `source` ({document, locator, url, note}) as one line of text."""
    if not source:
        return ""
    if isinstance(source, str):
        return source
    if isinstance(source, dict):
        if "ja" in source or "en" in source:
            return pick(source)
        # The note is free text in English (pack authors' remarks); showing it in a Japanese
        # screen would mix languages, so it appears in the English UI only.
        parts = [source.get("document"), source.get("locator"),
                 source.get("note") if lang() == "en" else None]
        text = " / ".join(str(p) for p in parts if p)
        url = source.get("url")
        return f"{text} <{url}>" if url and text else (text or str(url or ""))
    return str(source)


def provenance_label(provenance: Any) -> str:
    """The translated name of a provenance value (confirmed / secondary / inferred)."""
    value = str(getattr(provenance, "value", provenance) or "inferred")
    return t(f"provenance.{value}") if value in PROVENANCE_COLORS else value


def provenance_badge(provenance: Any, source: Any = None) -> None:
    """A colour badge saying how sure we are of a pack element, with its source on hover."""
    value = str(getattr(provenance, "value", provenance) or "inferred")
    src = source_text(source)
    st.badge(
        provenance_label(value),
        color=PROVENANCE_COLORS.get(value, "gray"),
        icon=":material/verified:" if value == "confirmed" else ":material/info:",
        help=t("provenance.source", source=src) if src else t("provenance.no_source"),
    )


def level_label(pack, level_id: str | None) -> str:
    """The pack's label for a level id."""
    for lv in pack.levels:
        if lv.id == level_id:
            return pick(lv.label)
    return level_id or "-"


def level_color(pack, level_id: str | None) -> str:
    """Colours by position in the pack's ordered levels: the lowest gray, the highest red."""
    ids = [lv.id for lv in pack.levels]
    if level_id not in ids:
        return "gray"
    palette = ["gray", "green", "orange", "red"]
    rank = ids.index(level_id)
    if len(ids) <= len(palette):
        return palette[len(palette) - len(ids) + rank] if rank else "gray"
    return palette[min(len(palette) - 1, rank * (len(palette) - 1) // (len(ids) - 1))]


def level_badge(pack, level_id: str | None) -> None:
    """The classification level as a badge."""
    st.badge(t("result.level", level=level_label(pack, level_id)), color=level_color(pack, level_id),
             icon=":material/shield:")


def option_label(pack, question_id: str, value: Any) -> str:
    """An answer shown as its option label (the raw value when the pack has no such option)."""
    try:
        question = pack.question(question_id)
    except NotFoundError:  # an id the pack no longer has is shown as it is
        return str(value)
    for opt in question.options:
        if opt.value == value:
            return pick(opt.label)
    return str(value)


def question_title(pack, question_id: str) -> str:
    """`HR-1 利用者の範囲・種別` style title of a question."""
    try:
        return f"{question_id} {pick(pack.question(question_id).text)}"
    except NotFoundError:
        return question_id


def item_title(pack, item_id: str) -> str:
    """`PC-G1 ...` style title of a checklist item."""
    try:
        return f"{item_id} {pick(pack.item(item_id).text)}"
    except NotFoundError:
        return item_id


def step_title(pack, step_id: str) -> str:
    """The pack's title of a step in the user's language."""
    for step in pack.steps:
        if step.id == step_id:
            return pick(step.title)
    return step_id


def progress_indicator(pack, steps: Sequence[str], current: str, done: set[str]) -> None:
    """Where the user is in the steps that apply: a bar with "step 3 of 8 (2 done)"."""
    position = steps.index(current) if current in steps else 0
    st.progress((len(done & set(steps))) / max(1, len(steps)),
                text=t("workspace.progress", current=position + 1, total=len(steps),
                       done=len(done & set(steps))))


def badge_markup(label: str, color: str, icon: str | None = None) -> str:
    """A badge inside markdown (`:red-badge[...]`), so that a line and its badges are one element.

    Only for fixed catalog or pack labels; square brackets are escaped so a label cannot end
    the badge early.
    """
    text = label.replace("[", "\\[").replace("]", "\\]")
    return f":{color}-badge[{icon + ' ' if icon else ''}{text}]"


def provenance_markup(provenance: Any) -> str:
    """The provenance badge as markdown (see `provenance_badge`)."""
    value = str(getattr(provenance, "value", provenance) or "inferred")
    return badge_markup(provenance_label(value), PROVENANCE_COLORS.get(value, "gray"),
                        ":material/verified:" if value == "confirmed" else ":material/info:")


def source_caption(source: Any, help_text: str = "") -> None:
    """Help text and source in one caption (one element: every element costs on each rerun)."""
    src = source_text(source)
    lines = [help_text] if help_text else []
    lines.append(t("provenance.source", source=src) if src else t("provenance.no_source"))
    st.caption("  \n".join(lines))


def question_input(pack, question, value: Any, key: str, on_change: Callable[..., None] | None,
                   args: tuple = (), disabled: bool = False) -> None:
    """One question rendered from the pack: text, provenance, options, help and source."""
    values = [opt.value for opt in question.options]
    labels = {opt.value: pick(opt.label) for opt in question.options}
    required = bool(getattr(question, "required", True))
    with st.container(border=True):
        st.markdown(f"**{question.id}** {pick(question.text)} {provenance_markup(question.provenance)}"
                    + ("" if required else f"  \n_{t('workspace.optional')}_"))
        if key not in st.session_state:
            st.session_state[key] = value if value in values else None
        st.radio(
            pick(question.text),
            values,
            format_func=labels.__getitem__,
            key=key,
            on_change=on_change,
            args=args,
            disabled=disabled,
            label_visibility="collapsed",
        )
        source_caption(question.source, pick(question.help))


def result_panel(pack, result, live: bool = True) -> None:
    """The result: level, why, blocking findings, what is missing, what now applies.

    `live` says that it follows the answers as they change (the workspace); the review shows
    the result of a case that cannot change under the reviewer.
    """
    level = next((lv for lv in pack.levels if lv.id == result.level), None)
    with st.container(border=True, key="result_panel"):
        st.subheader(t("result.title"))
        st.markdown(
            badge_markup(t("result.level", level=level_label(pack, result.level)),
                         level_color(pack, result.level), ":material/shield:")
            + (" " + provenance_markup(level.provenance) if level is not None else "")
            + ("  \n" + t("result.live") if live else "")
        )
        if result.complete:
            st.caption(t("result.complete"))
        else:
            st.warning(t("result.provisional", count=len(result.unanswered)), icon=":material/pending:")

        if result.blocking:
            st.markdown(f"**{t('result.blocking')}**")
            for finding in result.blocking:
                st.error(f"{pick(finding.message)} {provenance_markup(finding.provenance)}  \n"
                         f"{_inputs_text(pack, finding.inputs)}  \n"
                         f"{t('provenance.source', source=source_text(finding.source))}",
                         icon=":material/block:")

        st.markdown(f"**{t('result.why')}**")
        if not result.reasons and result.complete:
            # No rule fired on a complete case: the pack's default level applies. Say so, with
            # the level's own explanation from the pack, rather than leaving "why" empty.
            st.markdown(t("result.default_level", level=level_label(pack, result.level)))
            if level is not None and level.help:
                st.caption(pick(level.help))
        elif not result.reasons:
            st.caption(t("result.no_reasons"))
        for reason in result.reasons:
            st.markdown(f"- {pick(reason.message)} → **{plain(level_label(pack, reason.level))}** "
                        f"{provenance_markup(reason.provenance)}  \n"
                        f"  {_inputs_text(pack, reason.inputs)}  \n"
                        f"  {t('provenance.source', source=source_text(reason.source))}")

        if result.unanswered:
            st.markdown(f"**{t('result.unanswered')}**  \n"
                        + "\n".join(f"- {plain(question_title(pack, q))}" for q in result.unanswered))

        st.markdown(
            f"**{t('result.steps')}**  \n"
            + " → ".join(plain(step_title(pack, s)) for s in result.required_steps) + "  \n"
            + f"**{t('result.items', required=len(result.required_items), recommended=len(result.recommended_items))}**  \n"
            + (t("checklist.required") + ": " + ", ".join(result.required_items) if result.required_items else "")
            + ("  \n" + t("checklist.recommended") + ": " + ", ".join(result.recommended_items)
               if result.recommended_items else "")
        )


def _inputs_text(pack, inputs: dict[str, Any]) -> str:
    if not inputs:
        return ""
    parts = [f"{plain(question_title(pack, qid))} = {plain(option_label(pack, qid, value))}"
             for qid, value in inputs.items()]
    return t("result.inputs", inputs="; ".join(parts))
