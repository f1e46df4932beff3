"""Cell values made safe for spreadsheets: no formula, no character Excel rejects, no overflow.

What users or imported files wrote must reach the auditor as the same readable text and never
as something Excel executes. The rules, in one place:

* A text starting with `=`, `+`, `-`, `@`, a tab or a carriage return (or their full-width forms,
  which Japanese input methods turn into the ASCII ones) is *formula-like*: Excel or LibreOffice
  would evaluate it (formula, DDE `=cmd|...`) once it is typed again or opened from CSV. In a
  workbook such a cell is written as a string with Excel's own "quote prefix" flag, the state
  Excel gives a cell typed as `'=1+1`: the text stays exactly what the user wrote and stays text
  even when edited. CSV has no such flag, so there a visible apostrophe is put in front.
* Line ends become LF, the only line break a cell holds (a CR would be stored as `_x000D_`,
  which Excel decodes but openpyxl and pandas show as those seven characters).
* Control characters that XML 1.0 forbids (all below U+0020 except tab, LF and CR), U+FFFE and
  U+FFFF and lone surrogates are removed: Excel refuses a file holding them ("We found a problem
  with some content"), and dropping them loses nothing a reader could see.
* Excel holds at most 32,767 UTF-16 units in a cell. Longer text is cut and ends with a visible
  marker saying how long the original was; the audit sheet instead splits its payloads over a
  continuation sheet so that the hash chain can still be verified (see `workbook.py`).
"""

from __future__ import annotations

import re

#: Excel's per-cell limit, counted in UTF-16 code units (an emoji counts two).
EXCEL_CELL_LIMIT = 32_767

#: First characters that make Excel/LibreOffice read a cell as a formula or DDE command.
FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_NEEDS_CLEANING = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff\ud800-\udfff]")

_TRUNCATION_MARKER = "…［以下省略: 全{n:,}文字 / truncated: {n:,} characters in total］"


def utf16_len(text: str) -> int:
    """Length as Excel counts it: UTF-16 code units."""
    if len(text) * 2 <= EXCEL_CELL_LIMIT:
        # Fast path: even if every character were astral it could not exceed the limit.
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def strip_illegal(text: str) -> str:
    """`text` with LF line ends and without the control characters and non-characters Excel
    rejects."""
    if _NEEDS_CLEANING.search(text) is None:
        return text
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _ILLEGAL.sub("", text)


def is_formula_like(text: str) -> bool:
    """Whether Excel would read `text` as a formula or DDE command if it were typed or imported."""
    return bool(text) and text[0] in FORMULA_STARTS


def split_utf16(text: str, size: int = EXCEL_CELL_LIMIT) -> list[str]:
    """`text` cut into pieces of at most `size` UTF-16 units, never inside a surrogate pair."""
    if utf16_len(text) <= size:
        return [text]
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    for char in text:
        width = 2 if ord(char) > 0xFFFF else 1
        if used + width > size:
            pieces.append("".join(current))
            current, used = [], 0
        current.append(char)
        used += width
    pieces.append("".join(current))
    return pieces


def fit_cell(text: str) -> str:
    """`text` shortened to Excel's cell limit with a visible marker, when it is longer."""
    total = utf16_len(text)
    if total <= EXCEL_CELL_LIMIT:
        return text
    marker = _TRUNCATION_MARKER.format(n=len(text))
    return split_utf16(text, EXCEL_CELL_LIMIT - utf16_len(marker))[0] + marker


def clean_text(text: str) -> str:
    """Text ready for a workbook cell: illegal characters removed, cut to the cell limit.
    (Formula-like text is handled by the writer's quote-prefix format, see `is_formula_like`.)"""
    return fit_cell(strip_illegal(text))


def csv_text(text: str) -> str:
    """Text ready for a CSV cell opened by Excel: cleaned, and formula-like text prefixed with an
    apostrophe so that it is shown, not evaluated. (CSV has no cell limit: nothing is cut.)"""
    text = strip_illegal(text)
    if text and text[0] in FORMULA_STARTS:
        return "'" + text
    return text
