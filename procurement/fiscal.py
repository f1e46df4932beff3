"""Japanese time and fiscal years: JST conversion, 年度 (April to March) and 和暦 labels.

Small and pure on purpose: exports, the CAIO portfolio and the UI share it. Timestamps are stored
in UTC; everything shown to people is JST. Japan has no daylight saving time, so JST is a fixed
UTC+9 offset (no tz database needed).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import overload

#: Japan Standard Time, UTC+9 all year round.
JST = timezone(timedelta(hours=9), "JST")

#: (first fiscal year of the era, era name). 令和 began 2019-05-01 and 平成 1989-01-08; by
#: convention the fiscal year that began that April already carries the new era (令和元年度 =
#: FY2019, 平成元年度 = FY1989).
_ERAS = ((2019, "令和"), (1989, "平成"))

_LABEL_JA = re.compile(r"^\s*(令和|平成)\s*(元|\d{1,2})\s*年度\s*$")
_LABEL_EN = re.compile(r"^\s*(?:FY\s*)?(\d{4})\s*(?:年度)?\s*$", re.IGNORECASE)


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """`value` as an aware datetime: stored timestamps are UTC, and a raw SQLite row may hand
    them back naive. None stays None."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def to_jst(moment: datetime) -> datetime:
    """`moment` as an aware JST datetime. A naive value is taken as UTC (how it is stored)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(JST)


def to_jst_naive(moment: datetime) -> datetime:
    """JST wall-clock time without tzinfo, as spreadsheets want it (Excel has no time zones)."""
    return to_jst(moment).replace(tzinfo=None)


def fiscal_year(day: date | datetime) -> int:
    """The Japanese fiscal year (April 1 to March 31) of a date or moment, named by its start
    year: 2027-03-31 is FY2026. A datetime is converted to JST first (naive = UTC)."""
    if isinstance(day, datetime):
        day = to_jst(day).date()
    return day.year if day.month >= 4 else day.year - 1


def fiscal_year_label(year: int, lang: str = "ja") -> str:
    """`令和8年度` (ja) or `FY2026` (en) for fiscal year 2026. Years before 平成 stay western
    (`1988年度`)."""
    if lang != "ja":
        return f"FY{year}"
    for first, era in _ERAS:
        if year >= first:
            n = year - first + 1
            return f"{era}{'元' if n == 1 else n}年度"
    return f"{year}年度"


def parse_fiscal_year(text: str) -> int:
    """The fiscal year named by `令和8年度`, `令和元年度`, `FY2026`, `2026年度` or `2026`.

    Raises ValueError naming the text when it is none of these.
    """
    match = _LABEL_JA.match(text)
    if match:
        era, n = match.groups()
        first = dict((name, year) for year, name in _ERAS)[era]
        return first + (0 if n == "元" else int(n) - 1)
    match = _LABEL_EN.match(text)
    if match:
        return int(match.group(1))
    raise ValueError(f"not a fiscal year: {text!r} (expected e.g. 令和8年度, FY2026 or 2026)")


def fiscal_year_dates(year: int) -> tuple[date, date]:
    """First and last calendar day (inclusive) of a fiscal year: (2026-04-01, 2027-03-31)."""
    return date(year, 4, 1), date(year + 1, 3, 31)


def jst_day_start_utc(day: date) -> datetime:
    """The UTC instant at which a JST calendar day begins (for period filters on UTC columns)."""
    return datetime.combine(day, time.min, tzinfo=JST).astimezone(UTC)


def jst_period_utc(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """A period of whole JST days, inclusive at both ends, as a half-open UTC range
    `[start, end)`; `None` leaves that side open."""
    start = jst_day_start_utc(first) if first else None
    end = jst_day_start_utc(last + timedelta(days=1)) if last else None
    return start, end
