"""Widgets drawn from a rule pack: badges, questions, the live result panel, dates in words.

Nothing here knows a question, level or item by id: everything is read from the pack and the
classification, so a city pack's extra question or item appears by itself, marked as the layer
that added it. Text typed by users is shown through `plain()` (markdown-escaped) and never as
HTML.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import streamlit as st

from procurement.errors import NotFoundError
from procurement.packs import check_consistency
from procurement.packs.effects import option_effects
from procurement.ui.state import format_jst, lang, pick, plain, t, word

#: The colours `st.badge` accepts.
BadgeColor = Literal["red", "orange", "yellow", "blue", "green", "violet", "gray", "grey", "primary"]

PROVENANCE_COLORS: dict[str, BadgeColor] = {"confirmed": "green", "secondary": "blue", "inferred": "orange"}
PROVENANCES = tuple(PROVENANCE_COLORS)
#: A level's `tone` (from the pack) -> badge colour. The label is always shown as well: colour
#: never carries the meaning alone.
TONE_COLORS: dict[str, BadgeColor] = {"neutral": "gray", "info": "blue", "success": "green", "warning": "orange",
               "danger": "red"}


# --- dates -----------------------------------------------------------------------------------


def when(value: datetime | date | None, with_time: bool = True) -> str:
    """A moment in words, in Japan time: `2026年11月30日 13:05` (ja) or `30 Nov 2026 13:05`
    (en); a date without its time when `with_time` is False (`state.format_jst`)."""
    return format_jst(value, with_time)


# --- tables ----------------------------------------------------------------------------------

#: What a table cell's text takes (st.dataframe draws it at 14 px): a full-width (Japanese)
#: character, any other character, and the cell's padding.
_WIDE_PX, _NARROW_PX, _CELL_PADDING_PX = 14, 7, 20


def text_width(text: Any) -> int:
    """The pixels a text takes in a table cell, padding included (an estimate from its
    characters: st.dataframe draws on a canvas and cannot size a column to the page)."""
    chars = str(text)
    wide = sum(1 for c in chars if unicodedata.east_asian_width(c) in ("W", "F"))
    return wide * _WIDE_PX + (len(chars) - wide) * _NARROW_PX + _CELL_PADDING_PX


def column_width(heading: str, values: Iterable[Any], at_least: int = 40,
                 at_most: int = 320) -> int:
    """The width of a table column that shows its heading and every value in full, within
    `at_least` and `at_most` pixels."""
    return max(at_least, min(at_most, max([text_width(heading)]
                                          + [text_width(v) for v in values])))


# --- pack elements ---------------------------------------------------------------------------


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
        parts = [_documents(source.get("document")), source.get("locator"),
                 source.get("note") if lang() == "en" else None]
        text = " / ".join(str(p) for p in parts if p)
        url = source.get("url")
        return f"{text} <{url}>" if url and text else (text or str(url or ""))
    return str(source)


def _documents(document: Any) -> str:
    """A source's `document`, which names several documents separated by `;` in the packs, as
    Japanese writes a list (「、」) or as it is in English."""
    if not document:
        return ""
    names = [name.strip() for name in str(document).split(";") if name.strip()]
    return ("、" if lang() == "ja" else "; ").join(names)


def provenance_label(provenance: Any) -> str:
    """The translated name of a provenance value (confirmed / secondary / inferred)."""
    value = str(getattr(provenance, "value", provenance) or "inferred")
    return t(f"provenance.{value}") if value in PROVENANCE_COLORS else t("provenance.inferred")


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


def _level(pack, level_id: str | None):
    return next((lv for lv in pack.levels if lv.id == level_id), None)


def level_color(pack, level_id: str | None) -> BadgeColor:
    """The badge colour of a level, from the tone the pack gives it."""
    level = _level(pack, level_id)
    return TONE_COLORS.get(getattr(level, "tone", "neutral"), "gray") if level else "gray"


@dataclass(frozen=True)
class LevelShown:
    """How a case's level is shown: 未判定 until every required question is answered; a
    blocking finding turns the badge red and says so in words."""

    text: str
    color: BadgeColor
    icon: str
    determined: bool


def shown_level(pack, level_id: str | None, complete: bool, blocking: int = 0) -> LevelShown:
    """The level as a case shows it (header, list, panel)."""
    if complete:
        text, color = level_label(pack, level_id), level_color(pack, level_id)
        icon = ":material/shield:"
    else:
        text, color, icon = word("concept", "unclassified"), "gray", ":material/help:"
    if blocking:
        return LevelShown(t("level.with_blocking", level=text), "red", ":material/block:",
                          complete)
    return LevelShown(text, color, icon, complete)


def level_badge(pack, level_id: str | None, complete: bool = True, blocking: int = 0) -> None:
    """The classification level as a badge (`shown_level`)."""
    shown = shown_level(pack, level_id, complete, blocking)
    st.badge(t("result.level", level=shown.text), color=shown.color, icon=shown.icon)


def option_label(pack, question_id: str, value: Any) -> str:
    """An answer shown as its option label(s) or text (the raw value when the pack has no such
    option)."""
    try:
        question = pack.question(question_id)
    except NotFoundError:  # an id the pack no longer has is shown as it is
        return str(value)
    if getattr(question, "is_text", False):
        return str(value)
    labels = {opt.value: pick(opt.label) for opt in question.options}
    if isinstance(value, (list, tuple)):
        return "、".join(labels.get(v, str(v)) for v in value) if lang() == "ja" else \
            ", ".join(labels.get(v, str(v)) for v in value)
    return labels.get(value, str(value))


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


def need_markup(required: bool) -> str:
    """「必須」/「任意」 beside a label (words, not only a colour)."""
    return badge_markup(t("form.required") if required else t("form.optional"),
                        "red" if required else "gray")


def source_caption(source: Any, help_text: str = "") -> None:
    """Help text and source in one caption (one element: every element costs on each rerun)."""
    src = source_text(source)
    lines = [plain(help_text)] if help_text else []
    lines.append(plain(t("provenance.source", source=src) if src else t("provenance.no_source")))
    st.caption("  \n".join(lines))


# --- layers: which pack added or changed an element ------------------------------------------


def layer_title(layer: str) -> str:
    """The title of the pack a layer (`city-strict@2.0.0`) stands for, in the user's language
    (the layer reference itself when that pack is not installed)."""
    from procurement.ui.state import get_services

    try:
        return pick(get_services().registry.resolve(layer.split("#", 1)[0]).title)
    except Exception:  # noqa: BLE001 - an unknown layer is named by its reference
        return layer


def layer_note(pack, element: Any, fields: Iterable[str] = ()) -> str | None:
    """For an element a layer above the pack's base added or changed (a city's question, an
    item it makes required): a line naming that layer, with the reason the pack gives for a
    change. None for the base layer's own elements. `fields` limits changes to those that
    matter here (e.g. `required_when` for a checklist item)."""
    layers = tuple(getattr(pack, "layers", ()) or ())
    if len(layers) < 2:
        return None
    override = getattr(element, "override", None) or {}
    wanted = set(fields)
    if override and (not wanted or wanted & set(override.get("fields", ()))):
        reason = pick(override.get("reason")) if override.get("reason") else ""
        return t("layer.changed", title=layer_title(override.get("layer", element.layer)),
                 reason=reason) if reason else t("layer.changed_no_reason",
                                                 title=layer_title(override.get("layer", "")))
    layer = getattr(element, "layer", "")
    if layer and layer != layers[0]:
        return t("layer.added", title=layer_title(layer))
    return None


def layer_markup(pack, element: Any, fields: Iterable[str] = ()) -> str:
    """A badge for an element of a layer above the base (empty otherwise)."""
    if layer_note(pack, element, fields) is None:
        return ""
    return badge_markup(t("layer.badge"), "violet", ":material/account_balance:")


# --- conditions in words ---------------------------------------------------------------------


def _lowest_in_scope_rank(pack) -> int:
    ranks = [pack.level_rank(lv.id) for lv in pack.levels if not lv.out_of_scope]
    return min(ranks) if ranks else 0


def condition_text(pack, cond: Any) -> str:
    """A compiled pack condition in words (`HR-1 が「国民・住民…」`, `リスク区分が「高リスク…」
    以上`, ...). A level condition every case in scope meets reads as "every case"."""
    if cond is None:
        return t("cond.always")
    raw: Any  # the condition's parameters as the pack wrote them (a mapping, a list or a value)
    kind, raw = cond.kind, cond.raw.get(cond.kind) if isinstance(cond.raw, dict) else None
    sep_and, sep_or = t("cond.and"), t("cond.or")
    if kind == "all":
        parts = [condition_text(pack, c) for c in cond.children]
        parts = [p for p in parts if p != t("cond.always")] or [t("cond.always")]
        return sep_and.join(parts)
    if kind == "any":
        return sep_or.join(condition_text(pack, c) for c in cond.children)
    if kind == "not":
        return t("cond.not", what=condition_text(pack, cond.children[0]))
    if kind == "level_at_least":
        level = raw if isinstance(raw, str) else (raw or {}).get("level")
        if level and pack.level_rank(level) <= _lowest_in_scope_rank(pack):
            return t("cond.always")
        return t("cond.level_at_least", level=level_label(pack, level))
    if kind == "level_is":
        level = raw if isinstance(raw, str) else (raw or {}).get("level")
        return t("cond.level_is", level=level_label(pack, level))
    if kind in ("answer_equals", "answer_in"):
        qid = cond.questions[0]
        values = [raw["value"]] if kind == "answer_equals" else list(raw.get("values", ()))
        return t("cond.answer", question=qid,
                 options=sep_or.join(f"「{option_label(pack, qid, v)}」" for v in values))
    if kind == "answered":
        return t("cond.answered", question=cond.questions[0])
    if kind == "count_in":
        return t("cond.count_in", questions="・".join(cond.questions),
                 count=(raw or {}).get("at_least", (raw or {}).get("count", 1)))
    if kind == "points_at_least":
        return t("cond.points", questions="・".join(cond.questions), points=cond.at_least)
    if kind == "item_status_in":
        # Items by number and text, as the checklists list them (never a bare id).
        return t("cond.item_status", items=t("cond.item_sep").join(
            item_title(pack, item) for item in cond.items))
    return t("cond.other")


def item_need(pack, item: Any, required: set[str], recommended: set[str]) -> tuple[str, str]:
    """(「必須」/「推奨」, why: the condition that made it so and the layer that set it)."""
    is_required = item.id in required
    need = t("checklist.required") if is_required else t("checklist.recommended")
    cond = item.required_cond if is_required else item.recommended_cond
    why = condition_text(pack, cond)
    note = layer_note(pack, item, ("required_when",) if is_required else ("recommended_when",))
    return need, why + (f" {t('cond.layer_sep')}{note}" if note else "")


# --- questions -------------------------------------------------------------------------------


def effects_of(pack) -> dict[str, dict[str, str]]:
    """`option_effects(pack)`, computed once per pack and kept on it."""
    cached = pack.__dict__.get("_ui_option_effects")
    if cached is None:
        # Packs are immutable values: the effects never change for a pack, so they are kept
        # on it like the engine keeps its own precomputations.
        cached = pack.__dict__["_ui_option_effects"] = option_effects(pack)
    return cached


def _effect_caption(pack, effects: Mapping[str, str], value: str) -> str:
    level = effects.get(value)
    if level is None:
        return ""
    return plain(t("question.raises", level=level_label(pack, level)))


def question_header(pack, question, shown_value: str | None = None) -> None:
    """The question's line: number, text, 「必須」/「任意」, provenance and layer badges, and
    the layer's note (a city's question says it is the city's)."""
    required = bool(getattr(question, "required", True))
    line = (f"**{plain(question.id)}** {plain(pick(question.text))} {need_markup(required)} "
            f"{provenance_markup(question.provenance)} {layer_markup(pack, question)}")
    note = layer_note(pack, question)
    if note:
        line += "  \n" + plain(note)
    if shown_value is not None:
        line += "  \n" + t("question.answer_is", answer=plain(shown_value))
    st.markdown(line)


def question_input(pack, question, value: Any, key: str, on_change: Callable[..., None] | None,
                   args: tuple = (), disabled: bool = False) -> None:
    """One question rendered from the pack: text, 「必須」/「任意」, provenance, layer, options
    (each option that can raise the level says to which level), help and source. Read only
    (`disabled`), the answer is shown as text, in full contrast, instead of a greyed control."""
    with st.container(border=True, key=f"q_{question.id}"):
        if disabled:
            shown = option_label(pack, question.id, value) if value not in (None, "", ()) \
                else t("question.not_answered")
            question_header(pack, question, shown)
            source_caption(question.source, pick(question.help))
            return
        question_header(pack, question)
        if getattr(question, "is_text", False):
            if key not in st.session_state:
                st.session_state[key] = value or ""
            st.text_area(pick(question.text), key=key, on_change=on_change, args=args,
                         max_chars=getattr(question, "max_length", None) or 2000,
                         label_visibility="collapsed", placeholder=t("question.text_hint"))
            source_caption(question.source, pick(question.help))
            return
        values = [opt.value for opt in question.options]
        labels = {opt.value: pick(opt.label) for opt in question.options}
        # Option labels are rendered as Markdown by radio and pills: shown escaped.
        shown_labels = {v: plain(label) for v, label in labels.items()}
        effects = effects_of(pack).get(question.id, {})
        if getattr(question, "multiple", False):
            if key not in st.session_state:
                st.session_state[key] = [v for v in (value or ()) if v in values]
            st.pills(pick(question.text), values, selection_mode="multi", key=key,
                     format_func=shown_labels.__getitem__, on_change=on_change, args=args,
                     label_visibility="collapsed")
            raising = [f"「{labels[v]}」" for v in values if v in effects]
            if raising:
                st.caption(plain(t("question.raises_multi", options="".join(raising))))
        else:
            if key not in st.session_state:
                st.session_state[key] = value if value in values else None
            captions = [_effect_caption(pack, effects, v) for v in values]
            st.radio(
                pick(question.text),
                values,
                format_func=shown_labels.__getitem__,
                key=key,
                on_change=on_change,
                args=args,
                captions=captions if any(captions) else None,
                label_visibility="collapsed",
            )
        source_caption(question.source, pick(question.help))


# --- the result panel ------------------------------------------------------------------------


def _finding_lines(pack, finding) -> str:
    text = f"{plain(pick(finding.message))} {provenance_markup(finding.provenance)}"
    inputs = _inputs_text(pack, finding.inputs)
    if inputs:
        text += "  \n" + inputs
    src = source_text(finding.source)
    if src:
        text += "  \n" + plain(t("provenance.source", source=src))
    note = layer_note(pack, finding)
    if note:
        text += "  \n" + plain(note)
    return text


def result_panel(pack, result, live: bool = True, *, case: Any = None,
                 item_statuses: Mapping[str, str] | None = None) -> None:
    """The result: the level (未判定 until every required question is answered) and what it
    means, what to do next, blocking findings, the pack's flags and consistency warnings, the
    rules that decided the level (lower findings apart), what is missing, what now applies.

    `live` says that it follows the answers as they change (the workspace); the review shows
    the result of a case that cannot change under the reviewer. `case` (or `item_statuses`)
    lets the consistency rules read the checklist.
    """
    level = _level(pack, result.level)
    rank = pack.level_rank
    default_rank = rank(pack.default_level) if pack.default_level else 0
    if item_statuses is None and case is not None:
        item_statuses = {i: e.status for i, e in case.checklist.items()}
    shown = shown_level(pack, result.level, result.complete, len(result.blocking))
    with st.container(border=True, key="result_panel"):
        st.subheader(t("result.title"))
        st.markdown(
            badge_markup(t("result.level", level=shown.text), shown.color, shown.icon)
            + (" " + provenance_markup(level.provenance) if level is not None and shown.determined
               else "")
            + ("  \n" + t("result.live") if live else "")
        )
        if not result.complete:
            text = t("result.provisional", count=len(result.unanswered))
            if result.reasons and rank(result.level) > default_rank:
                text += " " + t("result.at_least", level=level_label(pack, result.level))
            st.warning(text, icon=":material/pending:")
        if level is not None and (result.complete or rank(result.level) > default_rank):
            meaning = pick(level.help)
            after = pick(getattr(level, "next_steps", None))
            if meaning:
                st.markdown(f"**{t('result.meaning')}**  \n{plain(meaning)}")
            if after:
                st.info(f"**{t('result.next_steps')}**  \n{plain(after)}",
                        icon=":material/arrow_forward:")
        elif not result.complete:
            st.info(f"**{t('result.next_steps')}**  \n{t('result.answer_first')}",
                    icon=":material/arrow_forward:")

        if result.blocking:
            st.markdown(f"**{t('result.blocking')}**")
            for finding in result.blocking:
                st.error(_finding_lines(pack, finding) + "  \n" + t("result.blocking_fix"),
                         icon=":material/block:")

        warnings = list(getattr(result, "flags", ()) or ())
        for flag in warnings:
            label = pick(flag.label) if flag.label else ""
            st.warning((f"**{plain(label)}**  \n" if label else "") + _finding_lines(pack, flag),
                       icon=":material/flag:")
        if getattr(pack, "consistency", ()):
            try:
                found = check_consistency(pack, result.answers or {}, item_statuses or {})
            except Exception:  # noqa: BLE001 - a warning must never break the panel
                found = []
            if found:
                st.markdown(f"**{t('result.consistency')}**")
            for finding in found:
                st.warning(_finding_lines(pack, finding), icon=":material/rule:")

        st.markdown(f"**{t('result.why')}**")
        final = [r for r in result.reasons if r.level == result.level]
        lower = [r for r in result.reasons if r.level != result.level]
        if not result.reasons and result.complete:
            # No rule fired on a complete case: the pack's default level applies. Say so, with
            # the level's own explanation from the pack, rather than leaving "why" empty.
            st.markdown(t("result.default_level", level=level_label(pack, result.level)))
        elif not result.reasons:
            st.caption(t("result.no_reasons"))
        for reason in final:
            st.markdown(_reason_markdown(pack, reason))
        if lower:
            st.markdown(f"**{t('result.lower')}**  \n" + t("result.lower_note",
                                                          level=level_label(pack, result.level)))
            for reason in lower:
                st.markdown(_reason_markdown(pack, reason, with_level=True))

        if result.unanswered:
            st.markdown(f"**{t('result.unanswered')}**  \n"
                        + "\n".join(f"- {plain(question_title(pack, q))}"
                                    for q in result.unanswered))

        st.markdown(
            f"**{t('result.steps')}**  \n"
            + " → ".join(plain(step_title(pack, s)) for s in result.required_steps) + "  \n"
            + t("result.items", required=len(result.required_items),
                recommended=len(result.recommended_items))
        )


#: A bracketed note closing a level's label (「要確認（本アプリ独自の区分）」 -> 「要確認」).
_LABEL_NOTE = re.compile(r"\s*[（(][^（）()]*[）)]\s*$")


def _names_level(message: str, label: str) -> bool:
    """Whether a rule's message already names its level (the label without a closing note), so
    that the level is not said twice."""
    core = _LABEL_NOTE.sub("", label)
    return bool(core) and core in message


def _reason_markdown(pack, reason, with_level: bool = False) -> str:
    message = pick(reason.message)
    head = f"- {plain(message)}"
    label = level_label(pack, reason.level)
    if with_level and not _names_level(message, label):
        # A full-width bracket follows Japanese text without a space.
        head += ("" if lang() == "ja" else " ") + plain(t("result.reason_level", level=label))
    head += f" {provenance_markup(reason.provenance)}"
    lines = [head]
    inputs = _inputs_text(pack, reason.inputs)
    if inputs:
        lines.append(f"  {inputs}")
    src = source_text(reason.source)
    if src:
        lines.append("  " + plain(t("provenance.source", source=src)))
    layer = getattr(reason, "layer", "")
    layers = tuple(getattr(pack, "layers", ()) or ())
    if layer and len(layers) > 1 and layer != layers[0]:
        lines.append("  " + plain(t("layer.added", title=layer_title(layer))))
    return "  \n".join(lines)


def _inputs_text(pack, inputs: Mapping[str, Any]) -> str:
    if not inputs:
        return ""
    parts = []
    for qid, value in inputs.items():
        try:
            pack.question(qid)
        except NotFoundError:  # an item status read by a consistency rule
            title, answer = item_title(pack, qid), word("checklist_status", value)
        else:
            title, answer = question_title(pack, qid), option_label(pack, qid, value)
        if lang() == "ja":
            # 「HR-1 利用者の範囲・種別：だれが使いますか →「国民・住民・事業者（一般の人）」」:
            # the sentence's 。 gives way to the arrow, the answer is quoted.
            title = title.rstrip("。")
        parts.append(t("result.input_pair", question=plain(title), answer=plain(answer)))
    return t("result.inputs", inputs=t("result.input_sep").join(parts))
