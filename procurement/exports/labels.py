"""Display helpers shared by the workbooks: pack texts and sources, answers.

Codes stay in the workbook (they are what the database holds and what filters match); their words
sit next to them for people, from `procurement.vocabulary` (`ja_word`), the same as on screen.
"""

from __future__ import annotations

import json
from typing import Any

from procurement import vocabulary
from procurement.errors import ProcurementError


def ja_word(kind: str, code: str | None) -> str:
    """The Japanese word for a stored code (`procurement.vocabulary`); '' for no code."""
    return vocabulary.word(kind, code, "ja") if code else ""


def with_code(kind: str, code: str | None) -> str:
    """`審査中 (submitted)`: the word and the stored code, for cells read by people and filters."""
    return f"{ja_word(kind, code)} ({code})" if code else ""


def ja(text: Any) -> str:
    """The Japanese of a `{ja, en}` pack text (English if Japanese is missing), else ''."""
    if not text:
        return ""
    if isinstance(text, str):
        return text
    return text.get("ja") or text.get("en") or ""


def en(text: Any) -> str:
    """The English of a `{ja, en}` pack text, else ''."""
    if not text:
        return ""
    if isinstance(text, str):
        return text
    return text.get("en") or ""


def format_source(source: Any) -> str:
    """A pack element's source on one line: document, locator, note, url."""
    if not source:
        return ""
    if isinstance(source, str):
        return source
    parts = [source.get("document"), source.get("locator"), source.get("note")]
    line = " / ".join(p for p in parts if p)
    url = source.get("url")
    return f"{line} <{url}>" if url else line


def decode_answer(value: str | None) -> Any:
    """An answer's stored JSON text as a value; text that is not JSON is kept as it is."""
    if value is None:
        return None
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def answer_text(value: Any) -> str:
    """An answer value as text: a string as is, a list joined, anything else as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class PackTexts:
    """Pack versions looked up once per export; a version the registry lacks is remembered as
    missing (the workbook says so) instead of failing the export."""

    def __init__(self, registry: Any | None) -> None:
        self.registry = registry
        self._packs: dict[tuple[str, str], Any | None] = {}
        self._positions: dict[tuple[str, str], dict[str, int]] = {}

    def pack(self, pack_id: str, version: str) -> Any | None:
        key = (pack_id, version)
        if key not in self._packs:
            found = None
            if self.registry is not None:
                try:
                    found = self.registry.resolve(f"{pack_id}@{version}")
                except ProcurementError:
                    found = None
            self._packs[key] = found
        return self._packs[key]

    def element(self, pack_id: str, version: str, element_id: str) -> Any | None:
        pack = self.pack(pack_id, version)
        return None if pack is None else pack.element(element_id)

    def answer_label(self, pack_id: str, version: str, question_id: str, value: Any) -> str:
        """The Japanese label(s) of the chosen option(s), or '' when unknown."""
        question = self.element(pack_id, version, question_id)
        options = getattr(question, "options", None)
        if not options:
            return ""
        labels = {o.value: ja(o.label) for o in options}
        values = value if isinstance(value, list) else [value]
        return ", ".join(labels.get(v, "") for v in values if isinstance(v, str) and v in labels)

    def level_label(self, pack_id: str, version: str, level_id: str | None) -> str:
        if not level_id:
            return ""
        level = self.element(pack_id, version, level_id)
        return ja(getattr(level, "label", None))

    def order(self, pack_id: str, version: str, element_id: str) -> int:
        """Position of a question or item in its pack (unknown ids sort last, by id)."""
        key = (pack_id, version)
        positions = self._positions.get(key)
        if positions is None:
            pack = self.pack(pack_id, version)
            positions = {}
            if pack is not None:
                positions = {q.id: i for i, q in enumerate(pack.questions)}
                positions.update({it.id: i for i, it in enumerate(pack.items)})
            self._positions[key] = positions
        return positions.get(element_id, 1 << 30)
