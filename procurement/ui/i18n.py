"""Message catalogs: one JSON file per area and language, merged into one flat catalog.

Catalogs live in `procurement/ui/i18n/<lang>/<area>.json` (e.g. `ja/common.json`,
`en/workspace.json`); other parts add their own area files and nothing else. Keys are dotted
strings, values are `str.format` templates with named fields. A key defined by two area files of
one language is an error, so that an area never silently changes another's text.

Words for codes (statuses, decisions, roles, ...) are not in the catalogs: pages get them from
`procurement.vocabulary` (`procurement.ui.state.word`), and a template that names one writes
`{@kind.code}` (e.g. `{@concept.blocking}`), replaced by the vocabulary's word when the catalog
is loaded, so a word is written in one place only.
This module does not import streamlit, so tests and tools can check catalogs directly.
"""

from __future__ import annotations

import json
import re
import string
from functools import cache
from pathlib import Path
from typing import Any

from procurement import vocabulary

#: Languages offered by the switch, the first being the default.
LANGUAGES = ("ja", "en")
DEFAULT_LANGUAGE = LANGUAGES[0]

CATALOG_DIR = Path(__file__).resolve().parent / "i18n"


class CatalogError(Exception):
    """A catalog file that cannot be used: unreadable, not a flat string map, or a duplicate key."""


def load_catalog(lang: str, catalog_dir: Path = CATALOG_DIR) -> dict[str, str]:
    """Merge every `<catalog_dir>/<lang>/*.json` into one flat key -> template mapping."""
    merged: dict[str, str] = {}
    origin: dict[str, str] = {}
    folder = catalog_dir / lang
    if not folder.is_dir():
        raise CatalogError(f"no catalog folder for language {lang!r}: {folder}")
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise CatalogError(f"{path}: cannot read catalog: {exc}") from exc
        if not isinstance(data, dict):
            raise CatalogError(f"{path}: a catalog must be a JSON object of key -> text")
        for key, value in data.items():
            if not isinstance(value, str):
                raise CatalogError(f"{path}: key {key!r} must map to a string, got {type(value).__name__}")
            if key in merged:
                raise CatalogError(f"{path}: key {key!r} is already defined in {origin[key]}")
            merged[key] = value
            origin[key] = path.name
    return {key: _resolve_words(lang, value, f"{origin[key]}: key {key!r}")
            for key, value in merged.items()}


#: `{@kind.code}` in a template: the vocabulary's word for that code.
WORD_REFERENCE = re.compile(r"\{@([a-z_]+)\.([A-Za-z0-9_.]+)\}")


def _resolve_words(lang: str, template: str, where: str) -> str:
    def replace(match: re.Match[str]) -> str:
        kind, code = match.groups()
        if code not in vocabulary.TERMS.get(kind, {}):
            raise CatalogError(f"{where}: {match.group(0)} is not a word of the vocabulary")
        return vocabulary.word(kind, code, lang)

    return WORD_REFERENCE.sub(replace, template)


@cache
def catalog(lang: str) -> dict[str, str]:
    """The merged catalog of `lang`, loaded once per process."""
    return load_catalog(lang)


def placeholders(template: str) -> set[str]:
    """The named fields a template uses (`{level}` -> {"level"}); `{@kind.code}` word
    references are not fields (they are replaced when the catalog is loaded)."""
    return {field for _, field, _, _ in string.Formatter().parse(template)
            if field and not field.startswith("@")}


def translate(lang: str, key: str, **params: Any) -> str:
    """The text for `key` in `lang`, filled with `params`.

    A missing key falls back to the default language and then to the key itself, so a gap in a
    catalog shows up as a visible key rather than a crash (tests keep catalogs complete). A
    template field without a value is left as it is for the same reason.
    """
    template = catalog(lang).get(key)
    if template is None:
        template = catalog(DEFAULT_LANGUAGE).get(key, key)
    if not params:
        return template
    return string.Formatter().vformat(template, (), _Lenient(params))


class _Lenient(dict):
    """Formatting map that leaves unknown fields visible instead of raising."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
