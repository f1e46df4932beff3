"""Cell safety rules: formula-like text, characters Excel rejects, the cell length limit."""

from __future__ import annotations

import pytest

from procurement.exports.cells import (
    EXCEL_CELL_LIMIT,
    clean_text,
    csv_text,
    fit_cell,
    is_formula_like,
    split_utf16,
    strip_illegal,
    utf16_len,
)


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "\n=1",
                                  "=cmd|' /C calc'!A0", "＝1+1", "＋1", "－1", "＠x"])
def test_formula_and_dde_starts_are_formula_like(text):
    assert is_formula_like(text)
    assert csv_text(text).startswith("'")


@pytest.mark.parametrize("text", ["", "1+1", "a=1", " =1", "<b>html</b>", "令和8年度", "😀=1",
                                  "'=1"])
def test_ordinary_text_is_not_formula_like(text):
    assert not is_formula_like(text)
    assert csv_text(text) == text


def test_csv_text_keeps_the_text_readable_behind_one_apostrophe():
    assert csv_text("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert csv_text("-\x07ハイフン") == "'-ハイフン"


def test_illegal_characters_are_removed_and_line_ends_become_lf():
    assert strip_illegal("a\x00b\x08c\x0bd\x0ce\x1ff\ufffeg\uffffh") == "abcdefgh"
    assert strip_illegal("tab\tlf\ncrlf\r\ncr\rend") == "tab\tlf\ncrlf\ncr\nend"
    assert strip_illegal("lone \ud800 surrogate") == "lone  surrogate"
    assert strip_illegal("絵文字😀と日本語") == "絵文字😀と日本語"


def test_utf16_length_counts_astral_characters_twice():
    assert utf16_len("a" * 20000) == 20000
    assert utf16_len("😀" * 20000) == 40000


@pytest.mark.parametrize("unit", ["a", "日", "😀"])
def test_long_text_is_cut_to_the_cell_limit_with_a_visible_marker(unit):
    text = unit * 40_000
    cell = fit_cell(text)
    assert utf16_len(cell) <= EXCEL_CELL_LIMIT
    assert cell.startswith(unit * 1000)
    assert cell.endswith("truncated: 40,000 characters in total］")
    assert "以下省略" in cell
    assert fit_cell(unit * 100) == unit * 100


def test_text_exactly_at_the_limit_is_kept_whole():
    text = "a" * EXCEL_CELL_LIMIT
    assert fit_cell(text) == text
    assert fit_cell(text + "b") != text + "b"


def test_split_never_cuts_a_surrogate_pair_and_rejoins_exactly():
    text = ("x" + "😀" * 3) * 30_000
    pieces = split_utf16(text)
    assert "".join(pieces) == text
    assert all(utf16_len(p) <= EXCEL_CELL_LIMIT for p in pieces)
    assert len(pieces) == -(-utf16_len(text) // EXCEL_CELL_LIMIT) or len(pieces) > 1


def test_clean_text_combines_both():
    assert clean_text("=\x00" + "a" * 40_000).startswith("=aaa")
    assert utf16_len(clean_text("=\x00" + "a" * 40_000)) <= EXCEL_CELL_LIMIT
