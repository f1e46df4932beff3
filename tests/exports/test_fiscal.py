"""JST and Japanese fiscal years (年度, April to March) with 令和 labels."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from procurement.fiscal import (
    fiscal_year,
    fiscal_year_dates,
    fiscal_year_label,
    jst_period_utc,
    parse_fiscal_year,
    to_jst,
    to_jst_naive,
)


def test_fiscal_year_boundaries_come_in_pairs():
    assert fiscal_year(date(2026, 3, 31)) == 2025
    assert fiscal_year(date(2026, 4, 1)) == 2026
    assert fiscal_year(date(2027, 3, 31)) == 2026
    assert fiscal_year(date(2027, 4, 1)) == 2027


def test_a_moment_is_judged_by_its_jst_day():
    # 2026-03-31 15:00 UTC is already 2026-04-01 00:00 in Japan: the new fiscal year.
    assert fiscal_year(datetime(2026, 3, 31, 14, 59, 59, tzinfo=UTC)) == 2025
    assert fiscal_year(datetime(2026, 3, 31, 15, 0, tzinfo=UTC)) == 2026
    # Naive datetimes are stored UTC.
    assert fiscal_year(datetime(2026, 3, 31, 15, 0)) == 2026


@pytest.mark.parametrize("year, ja", [(2026, "令和8年度"), (2019, "令和元年度"), (2020, "令和2年度"),
                                      (2018, "平成30年度"), (1989, "平成元年度"),
                                      (1988, "1988年度")])
def test_labels_use_the_era_of_the_fiscal_year(year, ja):
    assert fiscal_year_label(year) == ja
    assert fiscal_year_label(year, "en") == f"FY{year}"
    assert parse_fiscal_year(ja) == year


@pytest.mark.parametrize("text, year", [("令和8年度", 2026), (" 令和 元 年度 ", 2019), ("FY2026", 2026),
                                        ("fy 2025", 2025), ("2024", 2024), ("平成31年度", 2019)])
def test_parse_fiscal_year(text, year):
    assert parse_fiscal_year(text) == year


@pytest.mark.parametrize("text", ["令和年度", "R8", "2026-04-01", "", "昭和60年度"])
def test_parse_fiscal_year_names_bad_text(text):
    with pytest.raises(ValueError, match="not a fiscal year"):
        parse_fiscal_year(text)


def test_fiscal_year_dates_and_jst_conversion():
    assert fiscal_year_dates(2026) == (date(2026, 4, 1), date(2027, 3, 31))
    moment = datetime(2026, 3, 31, 15, 30, tzinfo=UTC)
    assert to_jst(moment).isoformat() == "2026-04-01T00:30:00+09:00"
    assert to_jst_naive(moment) == datetime(2026, 4, 1, 0, 30)


def test_a_period_of_jst_days_is_a_half_open_utc_range():
    start, end = jst_period_utc(date(2026, 4, 1), date(2026, 4, 30))
    assert start == datetime(2026, 3, 31, 15, 0, tzinfo=UTC)
    assert end == datetime(2026, 4, 30, 15, 0, tzinfo=UTC)
    assert jst_period_utc(None, None) == (None, None)
