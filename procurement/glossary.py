"""The application's one terminology: the glossary in docs/glossary.yaml and a checker for it.

Japanese texts shown to civil servants must use one set of terms (機密性2情報, not 機密性2の情報;
等, not など; リスク事案 for incidents; 是正が必要な事項 for blocking findings ...). The glossary lists
each term with its reading, its English rendering, the strings to avoid and where the term comes
from. `find_avoided(text)` reports which avoided strings a text uses; tests apply it to the rule
packs' Japanese texts, and the same function serves the UI catalogs.

    from procurement.glossary import load_glossary, find_avoided, japanese_texts
    find_avoided("機密性2の情報など")      # [("機密性2の情報", "機密性2情報"), ("など", "等")]
    for where, text in japanese_texts(pack_yaml_data): ...

`python -m procurement.glossary` prints docs/glossary.md (the rendered glossary).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from procurement import config
from procurement.packs.yamlreader import read_yaml

#: The glossary file of the repository.
GLOSSARY_FILE = config.PROJECT_ROOT / "docs" / "glossary.yaml"
_KEYS = {"term", "reading", "en", "avoid", "source", "note"}


class GlossaryError(ValueError):
    """A glossary file that does not have the expected shape."""


@dataclass(frozen=True)
class Term:
    """One entry: the word to use, how it reads, its English, and what to avoid instead."""

    term: str
    reading: str
    en: str
    avoid: tuple[str, ...]
    source: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Glossary:
    terms: tuple[Term, ...]

    def find_avoided(self, text: str) -> list[tuple[str, str]]:
        """`(avoided string, term to use)` for every avoided string in `text`, in the order of
        their first occurrence, each pair once."""
        hits: list[tuple[int, str, str]] = []
        for entry in self.terms:
            for bad in entry.avoid:
                pos = text.find(bad)
                if pos >= 0:
                    hits.append((pos, bad, entry.term))
        hits.sort(key=lambda h: (h[0], -len(h[1])))
        return [(bad, term) for _, bad, term in hits]

    def term(self, word: str) -> Term:
        for entry in self.terms:
            if entry.term == word:
                return entry
        raise KeyError(word)


def _entry(raw: Any, index: int) -> Term:
    where = f"terms[{index}]"
    if not isinstance(raw, dict):
        raise GlossaryError(f"{where}: expected a mapping, got {type(raw).__name__}")
    unknown = set(raw) - _KEYS
    if unknown:
        raise GlossaryError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (allowed: {', '.join(sorted(_KEYS))})")
    for key in ("term", "reading", "en"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise GlossaryError(f"{where}: {key!r} must be a non-empty string")
    avoid = raw.get("avoid", [])
    if not isinstance(avoid, list) or not all(isinstance(a, str) and a for a in avoid):
        raise GlossaryError(f"{where} ({raw['term']}): 'avoid' must be a list of non-empty strings")
    for key in ("source", "note"):
        if key in raw and not isinstance(raw[key], str):
            raise GlossaryError(f"{where} ({raw['term']}): {key!r} must be a string")
    return Term(raw["term"], raw["reading"], raw["en"], tuple(avoid), raw.get("source"), raw.get("note"))


def parse_glossary(data: bytes) -> Glossary:
    """A glossary from the bytes of a glossary YAML file (strict YAML, see yamlreader)."""
    raw, _ = read_yaml(data)
    if not isinstance(raw, dict) or set(raw) != {"terms"} or not isinstance(raw["terms"], list):
        raise GlossaryError("the glossary must be a mapping with one key, 'terms', holding a list")
    terms = tuple(_entry(t, i) for i, t in enumerate(raw["terms"]))
    seen: set[str] = set()
    for t in terms:
        if t.term in seen:
            raise GlossaryError(f"term {t.term!r} is listed twice")
        seen.add(t.term)
    return Glossary(terms)


@lru_cache(maxsize=8)
def _load(path: str) -> Glossary:
    return parse_glossary(Path(path).read_bytes())


def load_glossary(path: str | Path | None = None) -> Glossary:
    """The glossary (default: docs/glossary.yaml of the repository); read once per path."""
    return _load(str(Path(path) if path is not None else GLOSSARY_FILE))


def find_avoided(text: str, glossary: Glossary | None = None) -> list[tuple[str, str]]:
    """`(avoided string, term to use)` pairs found in `text` (see `Glossary.find_avoided`)."""
    return (glossary or load_glossary()).find_avoided(text)


def japanese_texts(node: Any, path: str = "", lang: str = "ja") -> Iterator[tuple[str, str]]:
    """Every `(path, text)` of a language in nested data: the value of each `lang` key of a
    mapping (a pack's `{ja: ..., en: ...}` texts), with a readable path such as
    `checklists[procurement].items[PC-S1].text`. Strings elsewhere (ids, sources) are skipped."""
    if isinstance(node, dict):
        value = node.get(lang)
        if isinstance(value, str):
            yield path, value
        for key, child in node.items():
            if key == lang:
                continue
            yield from japanese_texts(child, f"{path}.{key}" if path else str(key), lang)
    elif isinstance(node, list):
        for i, child in enumerate(node):
            label = child.get("id") if isinstance(child, dict) and isinstance(child.get("id"), str) else i
            yield from japanese_texts(child, f"{path}[{label}]", lang)


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ").strip()


def render_markdown(glossary: Glossary) -> str:
    """docs/glossary.md: the glossary as a table, with how it is checked."""
    lines = [
        "# Glossary (用語集)",
        "",
        "The one terminology of the application's Japanese texts. Generated from `docs/glossary.yaml`",
        "by `python -m procurement.glossary > docs/glossary.md`; edit the YAML, not this page.",
        "`procurement.glossary.find_avoided(text)` lists the avoided strings a text uses; a test applies",
        "it to the Japanese texts of every DS-920 rule pack published after this glossary",
        "(`tests/packs/test_glossary.py`; the packs published before it keep their wording).",
        "",
        "| term | reading | English | avoid | source / note |",
        "|---|---|---|---|---|",
    ]
    for t in glossary.terms:
        avoid = "、".join(t.avoid) if t.avoid else "-"
        notes = " ".join(x for x in (t.source, t.note) if x)
        lines.append(f"| {_cell(t.term)} | {_cell(t.reading)} | {_cell(t.en)} | {_cell(avoid)} | {_cell(notes)} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_markdown(load_glossary()))
