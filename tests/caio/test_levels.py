"""LevelCatalog.level_choices: the levels a filter over cases of several packs offers, in order,
each named by the pack that should name it (plain Python, the shipped packs)."""

from __future__ import annotations

from procurement.caio.levels import LevelCatalog
from tests.fixtures.packs import shipped_registry

NATIONAL_1 = ("jp-national", "1.0.0")  # effective 2025-05-27
NATIONAL_21 = ("jp-national", "2.1.0")  # effective 2026-12-01: labels end in （目安）
IMPACT = ("example-impact", "1.0.0")  # effective 2026-04-01, levels I-IV of its own
CATALOG = LevelCatalog.from_registry(shipped_registry(), [NATIONAL_1, NATIONAL_21, IMPACT])


def test_the_first_pack_leads_and_names_the_levels_it_shares():
    names = CATALOG.level_choices(NATIONAL_1, "ja")
    assert list(names) == ["out_of_scope", "low", "review", "high", "I", "II", "III", "IV"]
    # 1.0.0 names its own levels, although 2.1.0 is newer and says 低リスク（目安）.
    assert names["low"] == "低リスク" and names["high"] == "高リスクの可能性あり"
    assert names["IV"] == CATALOG.label(*IMPACT, "IV", "ja")


def test_after_the_first_pack_the_newest_pack_comes_first():
    names = CATALOG.level_choices(IMPACT, "ja")
    assert list(names) == ["I", "II", "III", "IV", "out_of_scope", "low", "review", "high"]
    # The shared national levels are named by 2.1.0, the newest edition, not by 1.0.0.
    assert names["low"] == CATALOG.label(*NATIONAL_21, "low", "ja") == "低リスク（目安）"


def test_without_a_first_pack_in_the_catalog_newest_first():
    expected = ["out_of_scope", "low", "review", "high", "I", "II", "III", "IV"]
    for first in (None, ("city-strict", "9.9.9")):
        names = CATALOG.level_choices(first, "en")
        assert list(names) == expected
        assert names == {lv: CATALOG.label(*(IMPACT if lv in ("I", "II", "III", "IV")
                                             else NATIONAL_21), lv, "en") for lv in expected}


def test_an_empty_catalog_offers_no_level():
    assert LevelCatalog().level_choices(NATIONAL_1, "ja") == {}
