"""The glossary (docs/glossary.yaml) and its checker: the Japanese texts of every DS-920 rule pack
published after the glossary use its terms and none of the strings it avoids."""

from __future__ import annotations

from pathlib import Path

import pytest

from procurement import config
from procurement.glossary import (
    GlossaryError,
    find_avoided,
    japanese_texts,
    load_glossary,
    parse_glossary,
    render_markdown,
)
from procurement.packs.yamlreader import read_yaml
from tests.fixtures.packs import shipped_registry

ROOT = config.PROJECT_ROOT
#: Packs published before the glossary: their files (and fingerprints) never change, so they are
#: not held to it. Every other pack of the DS-920 family (built on jp-national) is; the format
#: examples under rules/examples/ are not content and are not checked (yet).
PUBLISHED_BEFORE_GLOSSARY = frozenset({"jp-national@1.0.0", "jp-national@2.0.0", "city-strict@1.0.0"})


def _checked_packs():
    return [p for p in shipped_registry()
            if p.key not in PUBLISHED_BEFORE_GLOSSARY and p.layers[0].startswith("jp-national@")]


def _checked_pack_files() -> list[Path]:
    return sorted(p.path / "pack.yaml" for p in _checked_packs())


def test_the_glossary_loads_with_unique_terms():
    glossary = load_glossary()
    terms = [t.term for t in glossary.terms]
    assert len(terms) == len(set(terms)) and len(terms) >= 20
    assert glossary.term("機密性2情報").avoid == ("機密性2の情報", "機密性２")


def test_no_term_contains_a_string_the_glossary_avoids():
    glossary = load_glossary()
    for entry in glossary.terms:
        assert find_avoided(entry.term, glossary) == [], entry.term


def test_find_avoided_names_each_avoided_string_and_its_term_in_order():
    assert find_avoided("機密性2の情報などを入力した。") == [("機密性2の情報", "機密性2情報"), ("など", "等")]
    assert find_avoided("インシデントを阻害要因とする。") == [("インシデント", "リスク事案"), ("阻害要因", "是正が必要な事項")]
    assert find_avoided("機密性2情報等を入力した。") == []


def test_japanese_texts_yields_the_ja_value_of_each_text_with_a_readable_path():
    data = {"title": {"ja": "題", "en": "title"},
            "items": [{"id": "X-1", "text": {"ja": "本文", "en": "text"}, "source": {"document": "文書"}}]}
    assert list(japanese_texts(data)) == [("title", "題"), ("items[X-1].text", "本文")]


def test_a_malformed_glossary_is_refused():
    with pytest.raises(GlossaryError, match="unknown key"):
        parse_glossary("terms:\n  - {term: 等, reading: とう, en: etc, avoid: [など], colour: red}\n".encode())
    with pytest.raises(GlossaryError, match="listed twice"):
        parse_glossary("terms:\n  - {term: 等, reading: とう, en: etc}\n  - {term: 等, reading: とう, en: etc}\n".encode())


def test_the_rendered_glossary_page_is_up_to_date():
    committed = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    assert committed == render_markdown(load_glossary()), "run: python -m procurement.glossary > docs/glossary.md"


def test_the_new_packs_are_checked():
    keys = {p.key for p in _checked_packs()}
    assert {"jp-national@2.1.0", "jp-municipal@1.0.0", "city-strict@2.0.0"} <= keys


@pytest.mark.parametrize("pack_file", _checked_pack_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_japanese_texts_of_a_new_pack_avoid_what_the_glossary_avoids(pack_file: Path):
    raw, _ = read_yaml(pack_file.read_bytes())
    hits = [f"{where}: {bad!r} (use {term!r})"
            for where, text in japanese_texts(raw) for bad, term in find_avoided(text)]
    assert hits == [], "\n".join(hits)


def test_the_checker_would_catch_the_wording_of_a_published_pack():
    # The published 2.0.0 was written before the glossary: the same check finds its old wording,
    # so the check above can fail.
    raw, _ = read_yaml((ROOT / "rules" / "jp-national" / "v2" / "pack.yaml").read_bytes())
    found = {bad for _, text in japanese_texts(raw) for bad, _ in find_avoided(text)}
    assert {"など", "または", "機密性2の情報", "一般の人"} <= found
    assert [where for where, text in japanese_texts(raw) if _space_between_japanese(text)] == ["description"]


@pytest.mark.parametrize("pack_file", _checked_pack_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_japanese_texts_of_a_new_pack_hold_no_folding_artefacts(pack_file: Path):
    # A folded YAML block (`>-`) joins Japanese lines with a space; Japanese texts are written on
    # one line instead.
    raw, _ = read_yaml(pack_file.read_bytes())
    bad = [where for where, text in japanese_texts(raw) if "\n" in text or _space_between_japanese(text)]
    assert bad == [], bad


def _space_between_japanese(text: str) -> bool:
    return any(text[i] == " " and not text[i - 1].isascii() and not text[i + 1].isascii()
               for i in range(1, len(text) - 1))
