"""Message catalogs: ja and en have the same keys and fields, and every key the code uses exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from procurement.ui.i18n import CATALOG_DIR, LANGUAGES, CatalogError, load_catalog, placeholders, translate

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "procurement" / "ui").rglob("*.py")) + [ROOT / "app.py"]

LITERAL_KEY = re.compile(r"""\bt\(\s*["']([A-Za-z0-9_.]*[A-Za-z0-9_])["']\s*[,)]""")
FLASH_KEY = re.compile(r"""\bflash\(\s*["']\w+["']\s*,\s*["']([A-Za-z0-9_.]+)["']""")
TRANSLATE_KEY = re.compile(r"""\btranslate\([^,()]+,\s*["']([A-Za-z0-9_.]+)["']""")
# Keys built at run time, e.g. t(f"status.{case.status}") or t("event." + ...).
FAMILY = re.compile(r"""\bt\(\s*(?:f["']([a-z_]+\.[a-z_]*)\{|["']([a-z_]+\.[a-z_]*)["']\s*\+)""")


def catalogs():
    return {lang: load_catalog(lang) for lang in LANGUAGES}


def code_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in SOURCES)


def family_members() -> dict[str, set[str]]:
    """Every key family built at run time, with all the keys it can produce. (Words for stored
    codes are not catalog keys: pages ask `procurement.ui.state.word`; see test_vocabulary.)"""
    from procurement import packs, services  # noqa: F401 - define theirs
    from procurement.errors import ProcurementError
    from procurement.services import BOARD_REPORT_FIELDS
    from procurement.ui.widgets import PROVENANCES

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    codes = {ProcurementError.code} | {c.code for c in subclasses(ProcurementError)}
    from procurement.records.readiness import GAP_PHRASES

    gap_kinds = set(GAP_PHRASES)
    return {
        "board.": {f"board.{f}_help" for f in BOARD_REPORT_FIELDS},
        "gap.": {f"gap.{k}" for k in gap_kinds},
        "error.": {f"error.{c}" for c in codes},
        "provenance.": {f"provenance.{p}" for p in PROVENANCES},
        "submit.already_": {"submit.already_submitted", "submit.already_approved"},
        # Optional families: a missing key falls back to the raw id on purpose.
        "category.": set(),
        "field.": set(),
    }


def test_ja_and_en_have_the_same_keys_and_fields():
    cats = catalogs()
    ja, en = cats["ja"], cats["en"]
    assert sorted(set(ja) - set(en)) == [] and sorted(set(en) - set(ja)) == []
    mismatched = [k for k in ja if placeholders(ja[k]) != placeholders(en[k])]
    assert mismatched == []


def test_every_key_used_in_code_exists():
    text = code_text()
    used = set(LITERAL_KEY.findall(text)) | set(FLASH_KEY.findall(text)) | set(TRANSLATE_KEY.findall(text))
    from procurement.ui.navigation import PAGES, SIGN_IN

    used |= {spec.title_key for spec in (*PAGES, SIGN_IN)}
    assert len(used) > 150  # the scan really found the keys
    for lang, cat in catalogs().items():
        assert sorted(used - set(cat)) == [], lang


def test_every_key_built_at_run_time_exists():
    families = family_members()
    found = {a or b for a, b in FAMILY.findall(code_text())}
    assert {"board.", "gap.", "provenance."} <= found
    for lang, cat in catalogs().items():
        for family, keys in families.items():
            assert sorted(keys - set(cat)) == [], (lang, family)
        # Families of other areas (e.g. exports.csv_{kind}): at least their prefix is there.
        for family in sorted(found - set(families)):
            assert any(key.startswith(family) for key in cat), (lang, family)


def test_catalog_files_are_flat_string_maps_per_area(tmp_path):
    for lang in LANGUAGES:
        areas = sorted(p.name for p in (CATALOG_DIR / lang).glob("*.json"))
        assert areas == sorted(p.name for p in (CATALOG_DIR / "ja").glob("*.json"))
    (tmp_path / "ja").mkdir()
    (tmp_path / "ja" / "a.json").write_text(json.dumps({"x.one": "1"}), encoding="utf-8")
    (tmp_path / "ja" / "b.json").write_text(json.dumps({"x.one": "2"}), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"b.json: key 'x.one' is already defined in a.json"):
        load_catalog("ja", tmp_path)
    (tmp_path / "ja" / "b.json").write_text(json.dumps({"x.two": ["no"]}), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"b.json: key 'x.two' must map to a string"):
        load_catalog("ja", tmp_path)


def test_translate_fills_fields_and_shows_a_missing_key_instead_of_crashing():
    assert translate("en", "review.approved", id=7) == "Case #7 approved."
    assert translate("ja", "review.approved", id=7) == "案件 #7 を承認しました。"
    assert translate("en", "no.such.key") == "no.such.key"
    assert translate("en", "review.approved") == "Case #{id} approved."


def test_a_catalog_names_a_vocabulary_word_by_reference(tmp_path):
    """`{@kind.code}` becomes the vocabulary's word in the catalog's language; a reference to a
    word the vocabulary does not have is refused when the catalog loads."""
    for lang, word in (("ja", "承認の失効"), ("en", "Approval voided")):
        (tmp_path / lang).mkdir()
        (tmp_path / lang / "a.json").write_text(
            json.dumps({"x.voided": "{@decision.void}: {count}"}), encoding="utf-8")
        assert load_catalog(lang, tmp_path)["x.voided"] == f"{word}: {{count}}"
    assert placeholders("{@decision.void}: {count}") == {"count"}
    (tmp_path / "ja" / "a.json").write_text(json.dumps({"x.bad": "{@decision.cancel}"}),
                                            encoding="utf-8")
    with pytest.raises(CatalogError, match=r"\{@decision.cancel\} is not a word"):
        load_catalog("ja", tmp_path)
