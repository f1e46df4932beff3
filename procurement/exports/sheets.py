"""Worksheets that stream and print: typed tables with a bilingual header, and printable forms.

The writer is XlsxWriter in `constant_memory` mode. `bench/export.py` measured it against
openpyxl's write-only mode (with lxml) on the same rows: faster in the medians, with the same flat
memory (figures in the module docstring of `procurement.exports`). In that mode each sheet streams to
its own temporary file, so sheets may be filled in any interleaving as long as each one's rows
only go forward; the summary sheet is created first (so it is the first tab) and filled last.

`Table`: every table has two header rows, Japanese then English, so Japanese readers see Japanese
and `pandas.read_excel(..., header=1)` sees stable English column names. The English row carries
the autofilter; both are frozen and repeated on every printed page. On paper the English row is
printed small and grey rather than hidden: Excel cannot hide a row from print only, a hidden row
would hide the filter buttons on screen, and the small line costs a few millimetres while telling
the reader of a printout which column name to filter on in the file.

`Form`: a printable document on one sheet (label/value fields, small tables, notes), written top
to bottom on a grid of columns. Its cells may span several columns.

Both print on A4 (`setup_print`): the page header names the document (and says 下書き when it is
a draft) and the date it was made, in Japanese; the footer numbers the pages. Every row holding
text is made tall enough for it (`procurement.exports.printing`); a form continues a text too long
for one row (409 pt) on the following rows instead of cutting it. A table wider than a readable
page prints across several pages, its key columns repeated on each.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter

from procurement.exports.cells import FORMULA_STARTS, clean_text, strip_illegal
from procurement.exports.labels import DATE_FORMAT_JA, DATETIME_FORMAT_JA, TIMESTAMP_FORMAT_JA
from procurement.exports.printing import (
    FONT_PT,
    lines_needed,
    row_height,
    split_to_rows,
    text_units,
)
from procurement.files import scratch_dir
from procurement.fiscal import to_jst_naive

#: A font that renders Japanese in Excel on Windows and macOS (and is mapped by LibreOffice).
FONT_NAME = "游ゴシック"

#: Cell formats of dates in Japanese documents (`2026年11月30日 9:05`); tables keep seconds.
DATETIME_FORMAT = TIMESTAMP_FORMAT_JA
DATE_FORMAT = DATE_FORMAT_JA
#: The same in English documents.
DATETIME_FORMAT_EN = "yyyy-mm-dd hh:mm"
DATE_FORMAT_EN = "yyyy-mm-dd"

#: Column kinds: how a value is written and shown. "code" is text our own code produced or
#: validated (hashes, ISO timestamps, ids, event types): it skips the character clean-up, which
#: is the costly part on 100,000-row sheets, but still gets the quote prefix if formula-like.
#: Text of every kind wraps in its column, so that nothing is cut off on screen or on paper.
KINDS = ("text", "wrap", "code", "int", "number", "datetime", "date", "bool")
_TEXT_KINDS = frozenset({"text", "wrap", "code"})

#: Printable width of A4 in column units at 100 % (0.5 inch margins; a unit is ~5.25 pt).
PAGE_UNITS = {False: 99.0, True: 146.0}  # portrait, landscape
#: A table is fitted to one page wide when that keeps at least this scale; a wider one prints
#: across as few pages as keep it, with its key columns repeated (smaller text is not readable).
MIN_FIT_SCALE = 0.72

#: The English header row's font size (printed small, see the module docstring).
EN_HEADER_PT = 7.0

_UNIX_EPOCH_SERIAL = 25569  # Excel's serial number of 1970-01-01
_JST_OFFSET_S = 9 * 3600


def excel_serial_jst(moment: datetime) -> float:
    """The Excel serial number of `moment`'s JST wall-clock time (naive = UTC).

    Same value as XlsxWriter's `write_datetime` of the naive JST time, computed in one step: the
    audit sheet writes one per event.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment.timestamp() + _JST_OFFSET_S) / 86400 + _UNIX_EPOCH_SERIAL


@dataclass(frozen=True)
class Column:
    """One column of a table: a stable English key/heading, a Japanese heading, a kind, a width."""

    en: str
    ja: str
    kind: str = "text"
    width: float = 14

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.en!r}: unknown kind {self.kind!r} (one of {KINDS})")


@dataclass(frozen=True)
class PageText:
    """What every printed page of a sheet says: the document's name (header, left; footer,
    left), a draft mark such as 下書き (header, centre, bold) when it is one, and the date it was
    made (header, right), e.g. `2026年11月30日作成`."""

    title: str
    date: str = ""
    draft: str = ""


class Styles:
    """The workbook's formats, made once (XlsxWriter keeps one XF record per format object).

    `lang` chooses how dates read: `2026年11月30日` (ja) or ISO (en)."""

    def __init__(self, book: xlsxwriter.Workbook, lang: str = "ja") -> None:
        add = book.add_format
        english = lang == "en"
        self.header_ja = add({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                              "valign": "top"})
        self.header_en = add({"bold": True, "italic": True, "font_color": "#404040",
                              "bg_color": "#F2F2F2", "border": 1, "valign": "top",
                              "text_wrap": True, "font_size": EN_HEADER_PT})
        self.title = add({"bold": True, "font_size": 14, "valign": "top", "text_wrap": True})
        self.draft = add({"bold": True, "font_size": 14, "font_color": "#C00000", "border": 2,
                          "border_color": "#C00000", "align": "center", "valign": "vcenter",
                          "text_wrap": True})
        self.section = add({"bold": True, "font_size": 11, "bottom": 2, "valign": "bottom",
                            "text_wrap": True})
        self.label = add({"bold": True, "valign": "top", "bg_color": "#F2F2F2", "border": 1,
                          "text_wrap": True})
        self.text = add({"valign": "top", "text_wrap": True})
        # Excel's "quote prefix" state: the text is shown as is and stays text when edited.
        self.text_quoted = add({"valign": "top", "quote_prefix": True, "text_wrap": True})
        self.wrap = self.text
        self.wrap_quoted = self.text_quoted
        self.muted = add({"valign": "top", "text_wrap": True, "font_color": "#404040"})
        self.boxed = add({"valign": "top", "text_wrap": True, "border": 1})
        self.boxed_quoted = add({"valign": "top", "text_wrap": True, "border": 1,
                                 "quote_prefix": True})
        self.int = add({"valign": "top", "num_format": "0"})
        self.number = add({"valign": "top", "num_format": "#,##0.###"})
        # Numbers in forms read like the text beside them: left-aligned.
        self.boxed_int = add({"valign": "top", "num_format": "0", "border": 1, "align": "left"})
        self.boxed_number = add({"valign": "top", "num_format": "#,##0.###", "border": 1,
                                 "align": "left"})
        self.datetime = add({"valign": "top",
                             "num_format": DATETIME_FORMAT_EN + ":ss" if english
                             else DATETIME_FORMAT})
        self.date = add({"valign": "top",
                         "num_format": DATE_FORMAT_EN if english else DATE_FORMAT})
        self.boxed_datetime = add({"valign": "top", "border": 1, "align": "left",
                                   "num_format": DATETIME_FORMAT_EN if english
                                   else DATETIME_FORMAT_JA})
        self.boxed_date = add({"valign": "top", "border": 1, "align": "left",
                               "num_format": DATE_FORMAT_EN if english else DATE_FORMAT})
        # Values in a column of mixed kinds (a summary's label/value list): left-aligned, a
        # timestamp to the minute, as in the forms.
        self.left_int = add({"valign": "top", "num_format": "0", "align": "left"})
        self.left_number = add({"valign": "top", "num_format": "#,##0.###", "align": "left"})
        self.left_datetime = add({"valign": "top", "align": "left",
                                  "num_format": DATETIME_FORMAT_EN if english
                                  else DATETIME_FORMAT_JA})
        self.left_date = add({"valign": "top", "align": "left",
                              "num_format": DATE_FORMAT_EN if english else DATE_FORMAT})
        # Yes/no as words: a boolean cell would read TRUE/FALSE (or 1/0 in LibreOffice).
        self.bool = add({"valign": "top", "align": "center",
                         "num_format": '"Yes";"Yes";"No"' if english
                         else '"はい";"はい";"いいえ"'})


#: Widths a date cell needs (column units), by style: `2026年11月30日 12:34:56` and its kin.
DATE_UNITS = {"datetime": 24.0, "date": 15.0, "boxed_datetime": 20.0, "boxed_date": 15.0}


def open_workbook(path: str | Path, *, title: str, author: str,
                  lang: str = "ja") -> tuple[xlsxwriter.Workbook, Styles]:
    """A streaming workbook at `path` with our default font and document properties."""
    book = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            # Per-sheet temporary files (the data in clear text) go to this process's own,
            # recognisable folder, so that a killed export's files can be found and removed.
            "tmpdir": str(scratch_dir()),
            # Strings are only ever strings: XlsxWriter must not turn "=..." into a formula,
            # "123" into a number or "http://..." into a link on its own.
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "default_format_properties": {"font_name": FONT_NAME, "font_size": FONT_PT,
                                          "font_charset": 128, "font_scheme": "none"},
        },
    )
    book.set_properties({"title": title, "author": author, "comments": "procurement export"})
    return book, Styles(book, lang)


def write_text(sheet, row: int, col: int, value: str, plain, quoted) -> None:
    """Write user-supplied text: cleaned, and quote-prefixed when Excel would read a formula."""
    text = clean_text(value)
    sheet.write_string(row, col, text, quoted if text and text[0] in FORMULA_STARTS else plain)


def _forget_flushed_row(sheet, row: int) -> None:
    """Drop what XlsxWriter keeps of a row already streamed to disk (its height), so that a
    sheet of 100,000 rows with heights keeps flat memory (constant_memory mode writes the row
    but never forgets its height)."""
    if row < getattr(sheet, "previous_row", -1):  # the row XlsxWriter still buffers stays
        getattr(sheet, "row_info", {}).pop(row, None)
        getattr(sheet, "row_sizes", {}).pop(row, None)


class Table:
    """A sheet holding one table, written row by row.

    `append(values)` takes values in column order: str, int, float, bool, date or an aware
    datetime (shown in JST); None leaves the cell empty. Each row is made as tall as its
    longest text. Call `finish()` after the last row to set the autofilter over what was written.
    `key_columns`: how many leading columns identify a row (repeated on every page when the table
    prints across several pages).
    """

    def __init__(self, book: xlsxwriter.Workbook, styles: Styles, name: str,
                 columns: Sequence[Column], *, landscape: bool = True,
                 page: PageText | None = None, key_columns: int = 1) -> None:
        self.sheet = book.add_worksheet(name)
        self.styles = styles
        self.columns = tuple(columns)
        self.name = name
        self.row = 2  # next row to write (0-based): rows 0 and 1 are the headers
        sheet = self.sheet
        for col, column in enumerate(self.columns):
            sheet.set_column(col, col, column.width)
            sheet.write_string(0, col, column.ja, styles.header_ja)
        sheet.set_row(0, _height([(c.ja, c.width) for c in self.columns]))
        for col, column in enumerate(self.columns):
            sheet.write_string(1, col, column.en, styles.header_en)
        # At 7 pt a text takes 7/10 of the room it takes at the body's 10 pt.
        scale = FONT_PT / EN_HEADER_PT
        sheet.set_row(1, _height([(c.en, c.width * scale) for c in self.columns], EN_HEADER_PT))
        sheet.freeze_panes(2, 0)
        page = page or PageText(name)
        widths = [c.width for c in self.columns]
        keys = sum(widths[:key_columns])
        setup_print(sheet, page, landscape=landscape, repeat_rows=(0, 1), widths=widths,
                    key_columns=key_columns if key_columns and keys < sum(widths) / 3 else 0)
        self._writers = [self._writer_for(column.kind) for column in self.columns]
        #: (column, width) of the columns whose text decides the row height.
        self._text_columns = tuple((i, c.width) for i, c in enumerate(self.columns)
                                   if c.kind in _TEXT_KINDS)

    def _writer_for(self, kind: str):
        sheet, s = self.sheet, self.styles
        if kind in ("text", "wrap"):
            def write(row, col, value):
                write_text(sheet, row, col, value if isinstance(value, str) else str(value),
                           s.text, s.text_quoted)
            return write
        if kind == "code":
            def write_code(row, col, value):
                value = value if isinstance(value, str) else str(value)
                sheet.write_string(row, col, value,
                                   s.text_quoted if value[:1] in FORMULA_STARTS else s.text)
            return write_code
        if kind in ("int", "number"):
            fmt = s.int if kind == "int" else s.number
            return lambda row, col, value: sheet.write_number(row, col, value, fmt)
        if kind == "datetime":
            def write_dt(row, col, value):
                sheet.write_number(row, col, excel_serial_jst(value), s.datetime)
            return write_dt
        if kind == "date":
            def write_date(row, col, value):
                if isinstance(value, datetime):
                    value = to_jst_naive(value).date()
                sheet.write_datetime(row, col, value, s.date)
            return write_date
        # 1 or 0 shown as はい/いいえ by the cell format; readers get the number (true or false).
        return lambda row, col, value: sheet.write_number(row, col, 1 if value else 0, s.bool)

    def append(self, values: Sequence[Any]) -> None:
        row = self.row
        for col, (write, value) in enumerate(zip(self._writers, values)):
            if value is not None and value != "":
                write(row, col, value)
        lines = 1
        for col, width in self._text_columns:
            value = values[col]
            if value:
                text = value if isinstance(value, str) else str(value)
                # Most cells are one short line: skip the estimate for those.
                if len(text) * 2.5 > width - 1.5 or "\n" in text:
                    lines = max(lines, lines_needed(text, width))
        self.set_lines(row, lines)
        self.row = row + 1

    def set_lines(self, row: int, lines: int) -> None:
        """Make `row` tall enough for `lines` lines (the current row: rows only go forward)."""
        if lines > 1:
            self.sheet.set_row(row, row_height(lines))
        if row > 2:
            _forget_flushed_row(self.sheet, row - 1)

    def extend(self, rows: Iterable[Sequence[Any]]) -> None:
        for values in rows:
            self.append(values)

    @property
    def count(self) -> int:
        """Data rows written so far."""
        return self.row - 2

    def finish(self) -> None:
        self.sheet.autofilter(1, 0, max(self.row - 1, 1), len(self.columns) - 1)


def _height(texts_and_widths: Iterable[tuple[str, float]], font_pt: float = FONT_PT) -> float:
    lines = max((lines_needed(text, width) for text, width in texts_and_widths if text),
                default=1)
    return row_height(lines, font_pt)


def _header_text(text: str) -> str:
    """Text safe inside an Excel page header: '&' starts a code there, so a literal one is
    doubled; control characters are dropped."""
    return strip_illegal(text).replace("\n", " ").replace("&", "&&")


def pages_wide(widths: Sequence[float], page_units: float, key_columns: int = 0) -> int:
    """How many pages wide a table must print so that it keeps at least `MIN_FIT_SCALE`: its
    columns (never split) packed in order onto pages that each repeat the first `key_columns`."""
    if sum(widths) * MIN_FIT_SCALE <= page_units:
        return 1
    capacity = page_units / MIN_FIT_SCALE
    keys = sum(widths[:key_columns])
    pages, used = 1, sum(widths[:key_columns])
    for width in widths[key_columns:]:
        if used + width > capacity and used > keys:
            pages, used = pages + 1, keys
        used += width
    return pages


def setup_print(sheet, page: PageText, *, landscape: bool,
                repeat_rows: tuple[int, int] | None, widths: Sequence[float] | None = None,
                key_columns: int = 0) -> None:
    """A4, header and footer of `page`, one page wide when that stays readable (else across
    as few pages as keep it readable, the first `key_columns` columns on every page)."""
    sheet.set_paper(9)  # A4
    if landscape:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    wide = pages_wide(widths or [], PAGE_UNITS[landscape], key_columns) if widths else 1
    # As many pages wide as a readable scale needs, as many tall as the rows need; each client
    # then scales the columns to fill those pages.
    sheet.fit_to_pages(wide, 0)
    if wide > 1:
        sheet.print_across()  # the pages of the same rows follow each other
        if key_columns:
            sheet.repeat_columns(0, key_columns - 1)
    # A font size code (&9) runs on into following digits: a space ends it.
    title = _header_text(page.title)[:80]
    header = f"&L&9 {title}"
    if page.draft:
        header += f'&C&"-,Bold"&14&KC00000 {_header_text(page.draft)}'
    if page.date:
        header += f"&R&9 {_header_text(page.date)}"
    sheet.set_header(header)
    sheet.set_footer(f"&L&9 {title}&C&9 &P / &N")
    sheet.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)
    if repeat_rows is not None:
        sheet.repeat_rows(*repeat_rows)


# =========================================================================== forms


class Form:
    """A printable form on one sheet, written top to bottom on a grid of columns.

    `field(label, value)` writes a label and a value spanning the rest of the row; `header` and
    `line` write a small table whose cells span `spans` grid columns each; `note` a paragraph
    over the whole width. Every row is as tall as its text; a text longer than one row holds
    continues on the following rows (its label marked `continued`). Values: str, int, float,
    bool (`yes`/`no` words), date and datetime (JST, in the workbook's date format).
    """

    def __init__(self, book: xlsxwriter.Workbook, styles: Styles, name: str,
                 widths: Sequence[float], page: PageText, *, landscape: bool = False,
                 words: dict[str, str] | None = None, label_span: int = 1,
                 sheet: Any = None) -> None:
        # `sheet`: a worksheet added earlier (a summary that must be the first tab but is
        # written last), else a new one named `name`.
        self.sheet = sheet if sheet is not None else book.add_worksheet(name)
        self.s = styles
        self.widths = tuple(widths)
        self.row = 0
        self.words = {"yes": "はい", "no": "いいえ", "continued": "（続き）", **(words or {})}
        self.label_span = label_span
        for col, width in enumerate(self.widths):
            self.sheet.set_column(col, col, width)
        setup_print(self.sheet, page, landscape=landscape, repeat_rows=None,
                    widths=self.widths)

    @property
    def columns(self) -> int:
        return len(self.widths)

    def _width(self, first: int, span: int) -> float:
        return sum(self.widths[first:first + span])

    # -- top of the form ------------------------------------------------------------------
    def title(self, text: str, draft: str = "") -> None:
        """The form's title; `draft` (e.g. 下書き) is set beside it in a red box."""
        cols = self.columns
        mark_span = max(1, cols // 4) if draft and cols > 1 else 0
        span = cols - mark_span
        self._span(self.row, 0, span, text, self.s.title)
        if mark_span:
            self._span(self.row, span, mark_span, draft, self.s.draft)
        lines = lines_needed(text, self._width(0, span) * 0.7)  # 14 pt in 10 pt units
        self.sheet.set_row(self.row, row_height(max(lines, 1), 14) + 4)
        self.row += 1
        self.gap()

    def section(self, text: str) -> None:
        """A section heading over the whole width."""
        self._span(self.row, 0, self.columns, text, self.s.section)
        self.sheet.set_row(self.row, max(row_height(lines_needed(text, self._width(0, self.columns)
                                                                 * 0.9), 11), 22))
        self.row += 1

    def gap(self) -> None:
        self.row += 1

    # -- fields, tables, notes --------------------------------------------------------------
    def field(self, label: str, value: Any) -> None:
        """A label and its value spanning the remaining columns."""
        span = self.label_span
        self.line([label, value], spans=[span, self.columns - span], labels=1)

    def header(self, labels: Sequence[str], spans: Sequence[int] | None = None) -> None:
        spans = self._spans(len(labels), spans)
        col, cells = 0, []
        for label, span in zip(labels, spans):
            self._span(self.row, col, span, label, self.s.header_ja)
            cells.append((label, self._width(col, span)))
            col += span
        self.sheet.set_row(self.row, _height(cells))
        self.row += 1

    def note(self, text: str, style=None) -> None:
        """A paragraph over the whole width (continued on following rows when long)."""
        width = self._width(0, self.columns)
        for piece in split_to_rows(strip_illegal(text), width):
            self._span(self.row, 0, self.columns, piece, style or self.s.muted)
            self.sheet.set_row(self.row, _height([(piece, width)]))
            self.row += 1

    def line(self, values: Sequence[Any], spans: Sequence[int] | None = None, *,
             labels: int = 0) -> None:
        """One row of values (a table row; its first `labels` cells are labels, as in a field);
        text too long for one row continues on the following rows, its labels marked
        `continued`."""
        spans = self._spans(len(values), spans)
        starts = [sum(spans[:i]) for i in range(len(spans))]
        pieces: list[list[Any]] = []
        for value, start, span in zip(values, starts, spans):
            if isinstance(value, str) and value:
                pieces.append(split_to_rows(clean_text_for_form(value),
                                            self._width(start, span)))
            else:
                pieces.append([value])
        rows = max(len(p) for p in pieces)
        for part in range(rows):
            cells = []
            for index, (cell, start, span) in enumerate(zip(pieces, starts, spans)):
                value = cell[part] if part < len(cell) else None
                if index < labels:
                    if part:
                        value = f"{cell[0]}{self.words['continued']}" if cell[0] else ""
                    self._span(self.row, start, span, value or "", self.s.label)
                else:
                    self._value(start, span, value)
                if isinstance(value, str):
                    cells.append((value, self._width(start, span)))
            self.sheet.set_row(self.row, _height(cells))
            self.row += 1

    def _spans(self, count: int, spans: Sequence[int] | None) -> list[int]:
        if spans is None:
            spans = [1] * count
        spans = list(spans)
        if len(spans) != count or sum(spans) > self.columns:
            raise ValueError(f"{count} cells cannot span {spans} of {self.columns} columns")
        return spans

    def _span(self, row: int, col: int, span: int, text: str, style) -> None:
        if span > 1:
            self.sheet.merge_range(row, col, row, col + span - 1, "", style)
        if text:
            write_text(self.sheet, row, col, text, style, style)
        elif span == 1:
            self.sheet.write_blank(row, col, None, style)

    def _value(self, col: int, span: int, value: Any) -> None:
        s, sheet, row = self.s, self.sheet, self.row
        if span > 1:
            sheet.merge_range(row, col, row, col + span - 1, "", s.boxed)
        if value is None or value == "":
            if span == 1:
                sheet.write_blank(row, col, None, s.boxed)
        elif isinstance(value, bool):
            write_text(sheet, row, col, self.words["yes" if value else "no"], s.boxed,
                       s.boxed_quoted)
        elif isinstance(value, (int, float)):
            sheet.write_number(row, col, value, s.boxed_int if isinstance(value, int)
                               else s.boxed_number)
        elif isinstance(value, datetime):
            sheet.write_datetime(row, col, to_jst_naive(value), s.boxed_datetime)
        elif isinstance(value, date):
            sheet.write_datetime(row, col, value, s.boxed_date)
        else:
            write_text(sheet, row, col, str(value), s.boxed, s.boxed_quoted)


def clean_text_for_form(text: str) -> str:
    """Text for a form cell before it is split over rows: illegal characters removed (the
    pieces are short, so no cell limit applies to the whole)."""
    return strip_illegal(text)


def grid_spans(wants: Sequence[float], columns: int, unit: float) -> list[int]:
    """How many grid columns (each `unit` wide) each cell of a table row gets, out of
    `columns`, given the width each would like (`natural_width`).

    Each cell first gets what it wants; when that is too much, the widest cells give columns
    back one by one (short cells such as ids and dates keep their full width, long texts wrap);
    columns left over go to the cells that want more than they got."""
    count = len(wants)
    if count > columns:
        raise ValueError(f"{count} cells do not fit in {columns} columns")
    spans = [max(1, math.ceil(want / unit - 0.05)) for want in wants]
    while sum(spans) > columns:
        widest = max(range(count), key=lambda i: (spans[i], i))
        spans[widest] -= 1
    while sum(spans) < columns:
        # The cell most short of its width; when none is, the one that wants the most.
        def need(i: int) -> tuple[bool, float]:
            missing = wants[i] - spans[i] * unit
            return (missing > 0, missing if missing > 0 else wants[i])
        spans[max(range(count), key=need)] += 1
    return spans


def natural_width(value: Any) -> float:
    """The width (column units) a value would like: its longest line, or a date's format."""
    if isinstance(value, datetime):
        return DATE_UNITS["boxed_datetime"]
    if isinstance(value, date):
        return DATE_UNITS["boxed_date"]
    text = "" if value is None else str(value)
    return max((text_units(line) for line in text.split("\n")), default=0.0) + 1.5

