"""Display helpers shared by the workbooks and reports: pack texts and sources, answers, dates.

Codes stay in the workbook (they are what the database holds and what filters match); their words
sit next to them for people, from `procurement.vocabulary` (`ja_word`), the same as on screen.
Dates read the Japanese way (`jp_date`: 2026年11月30日; `wareki_date`: 令和8年11月30日 for forms
that count years by era, as the periodic report does with its 年度).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from procurement import fiscal, vocabulary
from procurement.errors import ProcurementError

#: Spreadsheet number formats showing the same dates in cells (JST wall-clock values).
DATE_FORMAT_JA = 'yyyy"年"m"月"d"日"'
DATETIME_FORMAT_JA = 'yyyy"年"m"月"d"日" h:mm'
#: With seconds, for the audit tables (two events a second apart must read apart).
TIMESTAMP_FORMAT_JA = 'yyyy"年"m"月"d"日" h:mm:ss'

#: (first day, era name): 令和 began on 2019-05-01, 平成 on 1989-01-08.
_ERA_DAYS = ((date(2019, 5, 1), "令和"), (date(1989, 1, 8), "平成"))


def _day(value: date | datetime) -> date:
    """The JST calendar day of a date or moment (a naive datetime is UTC, as stored)."""
    return fiscal.to_jst(value).date() if isinstance(value, datetime) else value


def jp_date(value: date | datetime) -> str:
    """`2026年11月30日` (a moment is taken on the JST calendar)."""
    day = _day(value)
    return f"{day.year}年{day.month}月{day.day}日"


def jp_datetime(value: datetime) -> str:
    """`2026年11月30日 9:05` in JST."""
    moment = fiscal.to_jst(value)
    return f"{jp_date(moment)} {moment.hour}:{moment.minute:02d}"


def wareki_date(value: date | datetime) -> str:
    """`令和8年11月30日` (`令和元年5月1日` for the era's first year); days before 平成 stay
    western."""
    day = _day(value)
    for first, era in _ERA_DAYS:
        if day >= first:
            n = day.year - first.year + 1
            return f"{era}{'元' if n == 1 else n}年{day.month}月{day.day}日"
    return jp_date(day)


def pack_title(pack: Any, lang: str = "ja") -> str:
    """A pack as people name it: its title and edition, `生成AI…ガイドライン（2026年6月12日版）`.
    The exact `id@version#fingerprint` stays in the data columns for auditors."""
    title = (pack.text(pack.title, lang) if hasattr(pack, "text") else ja(pack.title)) or pack.id
    if lang == "ja":
        return f"{title}（{jp_date(pack.edition)}版）"
    return f"{title} (edition {pack.edition.isoformat()})"


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


def format_source(source: Any, lang: str | None = None) -> str:
    """A pack element's source on one line: document, locator, note, url. With `lang`, a note
    not written in that language is left out (packs write some notes in English only; a
    Japanese document keeps to Japanese)."""
    if not source:
        return ""
    if isinstance(source, str):
        return source
    note = source.get("note")
    if note and lang == "ja" and not _JAPANESE.search(note):
        note = None
    parts = [source.get("document"), source.get("locator"), note]
    line = " / ".join(p for p in parts if p)
    url = source.get("url")
    return f"{line} <{url}>" if url else line


_JAPANESE = re.compile("[\u3040-\u30ff\u3400-\u9fff\uff01-\uff5e]")


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
