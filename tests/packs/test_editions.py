"""Which national pack a new case gets by date (`services.national_edition_on`) once a corrected
reconstruction of the same edition (jp-national 2.1.0) is shipped beside the published 2.0.0."""

from __future__ import annotations

import dataclasses
from datetime import date

from procurement.packs import PackRegistry
from procurement.records.organisations import national_edition_on
from tests.fixtures.packs import shipped_registry


def test_the_corrected_reconstruction_applies_from_its_effective_date():
    registry = shipped_registry()
    assert national_edition_on(registry, date(2026, 11, 30)).key == "jp-national@2.0.0"
    assert national_edition_on(registry, date(2026, 12, 1)).key == "jp-national@2.1.0"
    assert national_edition_on(registry, date(2026, 6, 11)).key == "jp-national@1.0.0"
    assert national_edition_on(registry, date(2026, 6, 12)).key == "jp-national@2.0.0"


def test_among_versions_in_force_from_the_same_day_the_highest_version_wins():
    registry = shipped_registry()
    v21 = registry.resolve("jp-national@2.1.0")
    same_day = dataclasses.replace(v21, version="2.1.1", effective_from=v21.effective_from, fingerprint="")
    assert same_day.fingerprint != v21.fingerprint
    both = PackRegistry([*registry.packs(), same_day])
    assert national_edition_on(both, v21.effective_from).key == "jp-national@2.1.1"
    assert national_edition_on(both, date(2026, 11, 30)).key == "jp-national@2.0.0"
