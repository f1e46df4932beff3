"""Print layout of the workbooks: how much room a text needs, and rows tall enough to show it.

Spreadsheet clients do not fit rows to wrapped text in the same way: LibreOffice keeps the height
stored in the file (the default, one line), Excel does not grow rows for merged cells. A text
shown in a row too low for it is cut off on screen and on paper. So every row that holds text
gets an explicit height computed here from its texts and the widths of their columns.

Widths are in Excel's column units (the width of a digit of the default 10 pt font). A text's
width is estimated without font metrics, from its UTF-8 length: ASCII counts 1, two-byte
characters (accented Latin, Greek, Cyrillic) 1.5, three-byte characters (kana, kanji, full-width
forms) 2, four-byte ones (emoji) 2.5. One C call per text, so it stays cheap on 100,000-row
sheets. The estimate errs on the generous side in both clients (measured with LibreOffice: a
full-width character takes ~1.6 units there, ~1.9 in Excel with 游ゴシック), so a row may keep a
little blank space under its text but does not cut it.

A row holds at most 409 pt (Excel's limit). A longer text is split with `split_to_rows` into
pieces that each fit, and forms write the pieces on the following rows (continuation rows).
"""

from __future__ import annotations

import math

#: Excel's (and LibreOffice's) largest row height, in points.
MAX_ROW_PT = 409.0
#: The workbooks' body font size, in points.
FONT_PT = 10.0
#: Height of one wrapped line per point of font size: 游ゴシック needs ~1.6 in Excel (its default
#: row is 18.75 pt at 11 pt); Noto Sans CJK, which LibreOffice uses for it, ~1.45.
LINE_FACTOR = 1.6
#: Room above and below the text in a cell, in points.
PAD_PT = 4.0
#: Units lost per line to cell padding and to wrapping at word ends.
_LINE_WASTE = 1.5


def text_units(text: str) -> float:
    """Estimated width of `text` on one line, in column units (see the module docstring)."""
    return (len(text) + len(text.encode("utf-8", "surrogatepass"))) / 2


def lines_needed(text: str, width: float) -> int:
    """How many lines `text` takes when wrapped in a column `width` units wide (at least 1)."""
    usable = max(width - _LINE_WASTE, 1.0)
    if "\n" not in text:
        return max(1, math.ceil(text_units(text) / usable))
    return sum(max(1, math.ceil(text_units(line) / usable)) for line in text.split("\n"))


def line_height(font_pt: float = FONT_PT) -> float:
    """Height of one wrapped line of text at `font_pt`, in points."""
    return font_pt * LINE_FACTOR


def row_height(lines: int, font_pt: float = FONT_PT) -> float:
    """Height in points of a row showing `lines` lines at `font_pt` (capped at 409 pt)."""
    return min(MAX_ROW_PT, round(lines * line_height(font_pt) + PAD_PT, 1))


def max_lines(font_pt: float = FONT_PT) -> int:
    """The most lines at `font_pt` that one row can show."""
    return int((MAX_ROW_PT - PAD_PT) // line_height(font_pt))


def height_for(texts_and_widths, font_pt: float = FONT_PT) -> float:
    """The row height showing every (text, width) pair of a row (capped at 409 pt)."""
    lines = 1
    for text, width in texts_and_widths:
        if text:
            lines = max(lines, lines_needed(text, width))
    return row_height(lines, font_pt)


def split_to_rows(text: str, width: float, font_pt: float = FONT_PT) -> list[str]:
    """`text` cut into pieces that each fit in one row of a column `width` units wide.

    Cuts at line ends where it can, inside a line only when the line alone is longer than a row
    holds; nothing is lost: the pieces joined with line ends (where the text was cut at one)
    give the text back. A text that fits is returned as the only piece.
    """
    limit = max_lines(font_pt)
    if lines_needed(text, width) <= limit:
        return [text]
    usable = max(width - _LINE_WASTE, 1.0)
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    for line in text.split("\n"):
        need = max(1, math.ceil(text_units(line) / usable))
        if used + need <= limit:
            current.append(line)
            used += need
            continue
        if current:
            pieces.append("\n".join(current))
            current, used = [], 0
        while need > limit:  # a line longer than a row: cut it where a row is full
            head, line = _cut(line, limit * usable)
            pieces.append(head)
            need = max(1, math.ceil(text_units(line) / usable))
        current, used = [line], need
    if current:
        pieces.append("\n".join(current))
    return pieces


def _cut(line: str, units: float) -> tuple[str, str]:
    """`line` split after as many characters as fit in `units` (at least one character)."""
    total = 0.0
    for index, char in enumerate(line):
        total += text_units(char)
        if total > units:
            # At least one character per piece, so that a too-narrow column still ends.
            return line[:max(index, 1)], line[max(index, 1):]
    return line, ""
