"""The print layout's arithmetic: text widths, row heights, texts split over rows, Japanese
dates. (What a spreadsheet client really prints is checked in test_printed_documents.py.)"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from procurement.exports.labels import jp_date, jp_datetime, wareki_date
from procurement.exports.printing import (
    MAX_ROW_PT,
    lines_needed,
    max_lines,
    row_height,
    split_to_rows,
    text_units,
)
from procurement.exports.sheets import grid_spans, pages_wide


def test_full_width_characters_count_double_and_lines_follow_the_column():
    assert text_units("abc") == 3
    assert text_units("漢字かな") == 8
    assert text_units("😀") == 2.5
    assert lines_needed("", 10) == 1
    assert lines_needed("あ" * 10, 21.5) == 1
    assert lines_needed("あ" * 11, 21.5) == 2
    assert lines_needed("一行目\n二行目\n\n四行目", 40) == 4


def test_a_row_is_never_taller_than_excel_allows():
    assert row_height(1) < row_height(2) < row_height(max_lines()) <= MAX_ROW_PT
    assert row_height(max_lines() + 50) == MAX_ROW_PT


@pytest.mark.parametrize("text", [
    "短い文。",
    "長い段落です。" * 400,  # one paragraph longer than a row: cut inside it
    "\n".join(f"{n}行目の文章です。" for n in range(200)),  # many short lines: cut at line ends
    ("=HYPERLINK(\"x\") " + "説明😀" * 300 + "\n") * 3,
])
def test_a_long_text_is_split_into_pieces_that_each_fit_a_row_and_lose_nothing(text):
    width = 35.0
    pieces = split_to_rows(text, width)
    assert all(lines_needed(piece, width) <= max_lines() for piece in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")
    if lines_needed(text, width) <= max_lines():
        assert pieces == [text]
    else:
        assert len(pieces) > 1


def test_grid_spans_keep_short_cells_whole_and_fill_the_grid():
    # An id, a long text, a date: the id and the date keep their width, the text wraps.
    assert grid_spans([9.5, 300.0, 20.0], 20, 5.0) == [2, 14, 4]
    assert sum(grid_spans([1.0] * 7, 20, 5.0)) == 20
    with pytest.raises(ValueError):
        grid_spans([1.0] * 21, 20, 5.0)


def test_a_wide_table_prints_across_as_few_pages_as_stay_readable():
    assert pages_wide([20.0] * 5, 146.0) == 1
    assert pages_wide([20.0] * 20, 146.0, key_columns=2) == 3


def test_dates_read_the_japanese_way():
    assert jp_date(date(2026, 11, 30)) == "2026年11月30日"
    # A stored moment is shown on the JST calendar: 15:30 UTC is already the next day.
    assert jp_date(datetime(2026, 3, 31, 15, 30, tzinfo=UTC)) == "2026年4月1日"
    assert jp_datetime(datetime(2026, 3, 31, 15, 5, tzinfo=UTC)) == "2026年4月1日 0:05"
    assert wareki_date(date(2026, 11, 30)) == "令和8年11月30日"
    assert wareki_date(date(2019, 5, 1)) == "令和元年5月1日"
    assert wareki_date(date(2019, 4, 30)) == "平成31年4月30日"
    assert wareki_date(date(1989, 1, 7)) == "1989年1月7日"
