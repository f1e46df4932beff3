"""The app's own Japanese words follow the glossary (docs/glossary.yaml): no catalog text and no
vocabulary word uses a string the glossary says to avoid (など for 等, または for 又は, 削除証明
for 抹消証明, 高リスクと判定 for 高リスクの可能性があると判定, ...). The new rule packs are
checked the same way in tests/packs/test_glossary.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from procurement import vocabulary
from procurement.glossary import find_avoided, load_glossary

CATALOGS = sorted((Path(__file__).resolve().parents[2] / "procurement" / "ui" / "i18n" / "ja")
                  .glob("*.json"))


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda p: p.name)
def test_the_japanese_catalog_avoids_what_the_glossary_avoids(catalog: Path):
    glossary = load_glossary()
    hits = [f"{key}: {bad!r} (use {term!r})"
            for key, text in json.loads(catalog.read_text(encoding="utf-8")).items()
            for bad, term in find_avoided(text, glossary)]
    assert hits == [], "\n".join(hits)


def test_the_vocabulary_avoids_what_the_glossary_avoids():
    glossary = load_glossary()
    hits = [f"{kind}.{code}: {bad!r} (use {term!r})"
            for kind, terms in vocabulary.TERMS.items() for code, entry in terms.items()
            for bad, term in find_avoided(entry.ja, glossary)]
    assert hits == [], "\n".join(hits)


def test_the_check_finds_an_avoided_word():
    assert find_avoided("登録番号など（任意）", load_glossary()) == [("など", "等")]
