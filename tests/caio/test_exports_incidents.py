"""Incidents in the organisation workbook (sheet リスク事案), next to the exports' other sheets."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from procurement.demo.operations import seed_demo_operations
from procurement.exports import ExportFilters, build_organisation_workbook


@pytest.fixture
def db_url(sqlite_url):
    """SQLite only: the export reads through its own snapshot layer, tested on PostgreSQL by
    tests/exports."""
    return sqlite_url


def test_incident_register_is_exported(demo_services, tmp_path):
    seed_demo_operations(demo_services)
    out = tmp_path / "org.xlsx"
    build_organisation_workbook(demo_services.engine, out,
                                filters=ExportFilters(org_codes=("demo-ministry",)),
                                registry=demo_services.registry)
    sheet = pd.read_excel(out, sheet_name="リスク事案", header=1)
    assert list(sheet["occurred_on"].dt.date) == [date(2026, 8, 25), date(2026, 9, 10)]
    assert list(sheet["severity"]) == ["high", "medium"]
    assert list(sheet["status_ja"]) == ["対応完了", "対応中"]
    assert list(sheet["fiscal_year"]) == ["令和8年度", "令和8年度"]
    assert sheet["case_title"].unique().tolist() == ["国民向けFAQチャットボット"]
    assert sheet["reported_to_caio_at"].iloc[0] == pd.Timestamp("2026-08-25 14:30")  # JST

    later = tmp_path / "later.xlsx"
    build_organisation_workbook(demo_services.engine, later,
                                filters=ExportFilters(org_codes=("demo-ministry",),
                                                      date_from=date(2026, 9, 1)),
                                registry=demo_services.registry)
    assert list(pd.read_excel(later, sheet_name="リスク事案", header=1)["severity"]) == ["medium"]
