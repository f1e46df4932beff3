"""Documents the CAIO's office sends: a plain document model and its two renderers.

A `Document` is sections of labelled fields and tables whose text is already in the reader's
language (dates and timestamps excepted, which renderers show in JST). `write_document_xlsx`
writes it through `procurement.exports.sheets` (streaming writer, sanitised cells, print layout);
`render_document_html` gives a printable page that escapes every value and carries no script.
The board report (`procurement.caio.board`) is such a document; the periodic report
(`procurement.caio.periodic`) is a workbook of tables.
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from procurement import fiscal
from procurement.exports.cells import clean_text
from procurement.exports.sheets import open_workbook, setup_print, write_text
from procurement.files import PREFIX, atomic_output, scratch_dir
from procurement.vocabulary import word

#: Words of the documents' own layout, per language. Codes (statuses, severities, ISMAP
#: listings, decisions, ...) get their words from `procurement.vocabulary`, levels from each
#: case's own pack (`procurement.caio.levels.LevelCatalog`). The documents are Japanese by default: they go to the Digital Agency's
#: secretariat.
LABELS: dict[str, dict[str, str]] = {
    "ja": {"empty": "（未記入）", "yes": "はい", "no": "いいえ"},
    "en": {"empty": "(not filled in)", "yes": "Yes", "no": "No"},
}


def label(lang: str, key: str) -> str:
    """The document word for `key` (`empty`, `yes`, `no`), or the key itself."""
    table = LABELS.get(lang, LABELS["ja"])
    return table.get(key, key)


def level_text(level_id: str | None, names: dict[str, str] | None, lang: str = "ja") -> str:
    """A case's level in words: `names[id]` (level id -> its pack's label), "not yet
    classified" when there is none, else the id."""
    if not level_id:
        return word("concept", "unclassified", lang)
    return (names or {}).get(level_id, level_id)


@contextmanager
def _file_path(out: str | Path | IO[bytes]) -> Iterator[str]:
    """A path to write the workbook to: `out` itself, or a temporary file copied into the
    binary file object `out` afterwards (the streaming writer works on files, not buffers)."""
    if isinstance(out, (str, Path)):
        with atomic_output(out) as tmp:
            yield str(tmp)
        return
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix=f"{PREFIX}{os.getpid()}-",
                                    dir=scratch_dir())
    os.close(handle)
    try:
        yield path
        with open(path, "rb") as written:
            shutil.copyfileobj(written, out)
    finally:
        os.unlink(path)


# =========================================================================== documents


@dataclass(frozen=True)
class Field:
    """One labelled value of a document section (`value` already in the reader's language,
    except dates and timestamps, which renderers format in JST)."""

    label: str
    value: Any


@dataclass(frozen=True)
class Section:
    """A section of a document: labelled fields and/or a table."""

    title: str
    fields: tuple[Field, ...] = ()
    headers: tuple[str, ...] = ()
    rows: tuple[tuple[Any, ...], ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Document:
    """A printable document: title, who/when, sections. Renderers add nothing but layout."""

    lang: str
    title: str
    subtitle: str
    reference: str  # short id in page headers, e.g. "demo-ministry #12"
    generated_at: datetime
    generated_by: str
    notice: str
    sections: tuple[Section, ...] = field(default_factory=tuple)


def format_value(value: Any, lang: str = "ja") -> str:
    """A value as document text: timestamps in JST, dates ISO, booleans as words."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return fiscal.to_jst(value).strftime("%Y-%m-%d %H:%M JST")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return label(lang, "yes" if value else "no")
    return str(value)


def write_document_xlsx(doc: Document, out: str | Path | IO[bytes]) -> None:
    """The document as a one-sheet workbook laid out for A4 portrait printing."""
    with _file_path(out) as path:
        _write_document(doc, path)


def _write_document(doc: Document, path: str) -> None:
    book, s = open_workbook(path, title=doc.title, author=doc.generated_by)
    sheet = book.add_worksheet("報告書" if doc.lang == "ja" else "Report")
    width = max([2] + [len(sec.headers) for sec in doc.sections])
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, max(width - 1, 1), 60 if width <= 2 else 26)
    setup_print(sheet, header_text=doc.reference, landscape=False, repeat_rows=None)
    row = 0
    write_text(sheet, row, 0, doc.title, s.title, s.title)
    row += 1
    write_text(sheet, row, 0, doc.subtitle, s.text, s.text_quoted)
    row += 1
    write_text(sheet, row, 0, f"{format_value(doc.generated_at)} / {doc.generated_by}", s.text,
               s.text_quoted)
    row += 1
    if width > 1:
        # Our own fixed text, never a formula: safe to write without the quote check.
        sheet.merge_range(row, 0, row, width - 1, clean_text(doc.notice), s.wrap)
        sheet.set_row(row, 45)
    else:
        write_text(sheet, row, 0, doc.notice, s.wrap, s.wrap_quoted)
    row += 2
    for sec in doc.sections:
        write_text(sheet, row, 0, sec.title, s.header_ja, s.header_ja)
        row += 1
        for fld in sec.fields:
            write_text(sheet, row, 0, fld.label, s.label, s.label)
            _write_value(sheet, row, 1, fld.value, s, doc.lang)
            row += 1
        if sec.headers:
            for col, heading in enumerate(sec.headers):
                write_text(sheet, row, col, heading, s.header_en, s.header_en)
            row += 1
            for values in sec.rows:
                for col, value in enumerate(values):
                    _write_value(sheet, row, col, value, s, doc.lang)
                row += 1
        if sec.note:
            write_text(sheet, row, 0, sec.note, s.wrap, s.wrap_quoted)
            row += 1
        row += 1
    book.close()


def _write_value(sheet, row: int, col: int, value: Any, s, lang: str) -> None:
    if value is None or value == "":
        return
    if isinstance(value, bool):
        write_text(sheet, row, col, format_value(value, lang), s.boxed, s.boxed_quoted)
    elif isinstance(value, (int, float)):
        sheet.write_number(row, col, value, s.int if isinstance(value, int) else s.number)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, col, fiscal.to_jst_naive(value), s.datetime)
    elif isinstance(value, date):
        sheet.write_datetime(row, col, value, s.date)
    else:
        write_text(sheet, row, col, str(value), s.boxed, s.boxed_quoted)


_HTML_STYLE = """
@page { size: A4 portrait; margin: 18mm 15mm; }
body { font-family: "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", "Meiryo", sans-serif;
       font-size: 10.5pt; line-height: 1.55; color: #111; max-width: 190mm; margin: 0 auto; }
h1 { font-size: 16pt; margin: 0 0 2mm; }
h2 { font-size: 12pt; border-bottom: 1.5px solid #333; margin: 7mm 0 2mm; page-break-after: avoid; }
.meta { color: #444; margin: 0; }
.notice { border: 1px solid #b58900; background: #fdf6e3; padding: 2mm 3mm; margin: 4mm 0; }
table { border-collapse: collapse; width: 100%; page-break-inside: auto; }
th, td { border: 1px solid #888; padding: 1.2mm 2mm; vertical-align: top; text-align: left; }
th { background: #eef2f7; }
table.fields th { width: 30%; }
tr { page-break-inside: avoid; }
td { white-space: pre-wrap; overflow-wrap: break-word; }
thead th, tbody td:first-child { white-space: nowrap; }
.note { color: #444; font-size: 9.5pt; }
@media print { .notice { background: none; } }
"""


def render_document_html(doc: Document) -> str:
    """The document as one printable HTML page. Every value is escaped; no script, no links
    out: the page can be saved, mailed and printed as it is."""
    esc = html.escape
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(doc.lang)}"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        'style-src \'unsafe-inline\'">',
        f"<title>{esc(doc.title)} – {esc(doc.reference)}</title>",
        f"<style>{_HTML_STYLE}</style></head><body>",
        f"<h1>{esc(doc.title)}</h1>",
        f'<p class="meta">{esc(doc.subtitle)}</p>',
        f'<p class="meta">{esc(format_value(doc.generated_at))} / {esc(doc.generated_by)}</p>',
        f'<p class="notice">{esc(doc.notice)}</p>',
    ]
    for sec in doc.sections:
        out.append(f"<section><h2>{esc(sec.title)}</h2>")
        if sec.fields:
            out.append('<table class="fields"><tbody>')
            for fld in sec.fields:
                out.append(
                    f"<tr><th>{esc(fld.label)}</th><td>{esc(format_value(fld.value, doc.lang))}</td></tr>"
                )
            out.append("</tbody></table>")
        if sec.headers:
            out.append("<table><thead><tr>")
            out.extend(f"<th>{esc(h)}</th>" for h in sec.headers)
            out.append("</tr></thead><tbody>")
            for values in sec.rows:
                cells = "".join(f"<td>{esc(format_value(v, doc.lang))}</td>" for v in values)
                out.append(f"<tr>{cells}</tr>")
            out.append("</tbody></table>")
        if sec.note:
            out.append(f'<p class="note">{esc(sec.note)}</p>')
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out)
