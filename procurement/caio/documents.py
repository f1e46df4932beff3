"""Documents the CAIO's office sends: a plain document model and its two renderers.

A `Document` is sections of labelled fields and tables whose text is already in the reader's
language (dates and timestamps excepted, which renderers show in JST: 2026年11月30日 9:05 in a
Japanese document). `write_document_xlsx` writes it through `procurement.exports.sheets` as a
printable form (A4 portrait, every row as tall as its text, long texts continued on the following
rows, tables laid out on a grid so that a table of eight columns still prints at full size);
`render_document_html` gives a printable page that escapes every value and carries no script.
A document that is a draft (`Document.draft`, e.g. 下書き) says so beside its title and at the
top of every printed page, in both renderers. The board report (`procurement.caio.board`) is such
a document; the periodic report (`procurement.caio.periodic`) is a workbook of tables.
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
from procurement.exports.labels import jp_date, jp_datetime
from procurement.exports.sheets import (
    Form,
    PageText,
    grid_spans,
    natural_width,
    open_workbook,
    write_text,
)
from procurement.files import PREFIX, atomic_output, scratch_dir
from procurement.vocabulary import word

#: Words of the documents' own layout, per language. Codes (statuses, severities, ISMAP
#: listings, decisions, ...) get their words from `procurement.vocabulary`, levels from the packs
#: (`level_words`). The documents are Japanese by default: they go to the Digital Agency's
#: secretariat.
LABELS: dict[str, dict[str, str]] = {
    "ja": {"empty": "（未記入）", "yes": "はい", "no": "いいえ", "continued": "（続き）",
           "made": "{date}作成", "made_by": "作成: {date}　{who}"},
    "en": {"empty": "(not filled in)", "yes": "Yes", "no": "No", "continued": " (continued)",
           "made": "Made {date}", "made_by": "Made {date} by {who}"},
}


def label(lang: str, key: str) -> str:
    """The document word for `key` (`empty`, `yes`, `no`, ...), or the key itself."""
    table = LABELS.get(lang, LABELS["ja"])
    return table.get(key, key)


def level_words(registry: Any, lang: str = "ja") -> dict[str, str]:
    """Level id -> the packs' label in `lang` (the newest pack's label wins, as on screen)."""
    names: dict[str, str] = {}
    packs = registry.packs() if registry is not None else ()
    for pack in sorted(packs, key=lambda p: (p.effective_from, p.version_tuple)):
        for lv in pack.levels:
            names[lv.id] = lv.label.get(lang) or lv.label.get("ja") or lv.id
    return names


def pack_level_words(registry: Any, keys: Any, lang: str = "ja") -> dict[tuple[str, str],
                                                                          dict[str, str]]:
    """(pack id, version) -> level id -> that exact pack's label in `lang`, for the packs named
    by `keys`: a case's level reads as the pack it is assessed under names it."""
    words: dict[tuple[str, str], dict[str, str]] = {}
    for pack_id, version in set(keys):
        try:
            pack = registry.resolve(f"{pack_id}@{version}")
        except Exception:  # noqa: BLE001 - a pack no longer available: the newest labels serve
            continue
        words[(pack_id, version)] = {lv.id: pack.text(lv.label, lang) for lv in pack.levels}
    return words


def level_text(level_id: str | None, names: dict[str, str] | None, lang: str = "ja") -> str:
    """A case's level in words: `names[id]` (from `level_words`), "not yet classified" when
    there is none, else the id."""
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
    """A printable document: title, who/when, sections. Renderers add nothing but layout.

    `draft`: the mark of a document whose content is not approved yet (e.g. 下書き), shown beside
    the title and at the top of every printed page; empty for a final document."""

    lang: str
    title: str
    subtitle: str
    reference: str  # short id in page headers, e.g. "デモ省 #12"
    generated_at: datetime
    generated_by: str
    notice: str
    sections: tuple[Section, ...] = field(default_factory=tuple)
    draft: str = ""


def format_value(value: Any, lang: str = "ja") -> str:
    """A value as document text: timestamps in JST (2026年11月30日 9:05 in Japanese), dates
    likewise (ISO in English), booleans as words."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        if lang == "ja":
            return jp_datetime(value)
        return fiscal.to_jst(value).strftime("%Y-%m-%d %H:%M JST")
    if isinstance(value, date):
        return jp_date(value) if lang == "ja" else value.isoformat()
    if isinstance(value, bool):
        return label(lang, "yes" if value else "no")
    return str(value)


def _made(doc: Document) -> str:
    """`作成: 2026年11月30日 9:05　企画 花子`: when and by whom the document was made."""
    return label(doc.lang, "made_by").format(date=format_value(doc.generated_at, doc.lang),
                                            who=doc.generated_by)


def _page_text(doc: Document) -> PageText:
    day = (jp_date(doc.generated_at) if doc.lang == "ja"
           else fiscal.to_jst(doc.generated_at).date().isoformat())
    return PageText(f"{doc.title} {doc.reference}", date=label(doc.lang, "made").format(date=day),
                    draft=doc.draft)


def write_document_xlsx(doc: Document, out: str | Path | IO[bytes]) -> None:
    """The document as a one-sheet workbook laid out for A4 portrait printing."""
    with _file_path(out) as path:
        _write_document(doc, path)


#: The document sheet's grid: 20 columns of 5 units fill an A4 portrait page at 100 %.
_GRID = [5.0] * 20
_LABEL_SPAN = 5
#: A table cell asks for at most this many units (longer text wraps).
_MAX_CELL_UNITS = 40.0


def _table_spans(sec: Section, columns: int) -> list[int]:
    """Grid columns for each column of a section's table, by how wide its texts are."""
    weights = []
    for index, heading in enumerate(sec.headers):
        want = natural_width(heading)
        for values in sec.rows:
            if index < len(values):
                want = max(want, natural_width(values[index]))
        weights.append(min(want, _MAX_CELL_UNITS))
    return grid_spans(weights, columns, _GRID[0])


def _write_document(doc: Document, path: str) -> None:
    book, s = open_workbook(path, title=doc.title + (f"（{doc.draft}）" if doc.draft else ""),
                            author=doc.generated_by, lang=doc.lang)
    name = "報告書" if doc.lang == "ja" else "Report"
    form = Form(book, s, name, _GRID, _page_text(doc), label_span=_LABEL_SPAN,
                words={"yes": label(doc.lang, "yes"), "no": label(doc.lang, "no"),
                       "continued": label(doc.lang, "continued")})
    form.title(doc.title, doc.draft)
    form.note(doc.subtitle, s.text)
    form.note(_made(doc), s.muted)
    form.gap()
    form.note(doc.notice, s.boxed)
    for sec in doc.sections:
        form.gap()
        form.section(sec.title)
        for fld in sec.fields:
            value = fld.value
            if isinstance(value, bool):
                value = label(doc.lang, "yes" if value else "no")
            form.field(fld.label, value)
        if sec.headers:
            spans = _table_spans(sec, form.columns)
            form.header(list(sec.headers), spans)
            for values in sec.rows:
                form.line([label(doc.lang, "yes" if v else "no") if isinstance(v, bool) else v
                           for v in values], spans)
        if sec.note:
            form.note(sec.note)
    book.close()


def _write_value(sheet, row: int, col: int, value: Any, s, lang: str) -> None:
    """One value in a table cell of a workbook (the periodic report's summary): numbers stay
    numbers, dates are dates in the workbook's format, text is cleaned and wraps."""
    if value is None or value == "":
        return
    if isinstance(value, bool):
        write_text(sheet, row, col, format_value(value, lang), s.text, s.text_quoted)
    elif isinstance(value, (int, float)):
        # Left-aligned like the texts above and below them in the same column.
        sheet.write_number(row, col, value, s.left_int if isinstance(value, int)
                           else s.left_number)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, col, fiscal.to_jst_naive(value), s.left_datetime)
    elif isinstance(value, date):
        sheet.write_datetime(row, col, value, s.left_date)
    else:
        write_text(sheet, row, col, str(value), s.text, s.text_quoted)


_HTML_STYLE = """
@page { size: A4 portrait; margin: 18mm 15mm; }
body { font-family: "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", "Meiryo", sans-serif;
       font-size: 10.5pt; line-height: 1.7; color: #111; max-width: 190mm; margin: 0 auto;
       line-break: strict; }
h1 { font-size: 16pt; margin: 0 0 2mm; }
h2 { font-size: 12pt; border-bottom: 1.5px solid #333; margin: 7mm 0 2mm; page-break-after: avoid; }
.meta { color: #444; margin: 0; }
.notice { border: 1px solid #b58900; background: #fdf6e3; padding: 2mm 3mm; margin: 4mm 0; }
.draft { display: inline-block; border: 2px solid #c00000; color: #c00000; font-weight: bold;
         padding: 0 3mm; margin-left: 4mm; font-size: 13pt; vertical-align: middle; }
.running { display: flex; justify-content: space-between; color: #444; font-size: 9pt;
           border-bottom: 1px solid #ccc; margin-bottom: 4mm; }
.running .mark { color: #c00000; font-weight: bold; }
table { border-collapse: collapse; width: 100%; page-break-inside: auto; }
th, td { border: 1px solid #888; padding: 1.2mm 2mm; vertical-align: top; text-align: left; }
th { background: #eef2f7; }
table.fields th { width: 25%; }
tr { page-break-inside: avoid; }
/* A field row may hold a long text (the purpose, the QA plan): it continues on the next
   page rather than leaving the rest of this one blank. */
table.fields tr { page-break-inside: auto; }
td { white-space: pre-wrap; overflow-wrap: break-word; }
tbody td:first-child { white-space: nowrap; }
thead { display: table-header-group; }
.note { color: #444; font-size: 9.5pt; }
@media print {
  .notice { background: none; }
  /* On paper the page's margin boxes (below) carry this line on every page. */
  .running { display: none; }
}
"""


def _css_string(text: str) -> str:
    """`text` as a CSS string literal that cannot end the string or the style element."""
    out = []
    for char in text:
        if char in "\\\"'<>&" or ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\{ord(char):x} ")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _page_css(page: PageText) -> str:
    """The header and footer of every printed page, as the page's margin boxes: the document
    and its date at the top, 下書き in red in the middle when it is a draft; page numbers below."""
    mark = (f"@top-center {{ content: {_css_string(page.draft)}; color: #c00000; "
            "font-weight: bold; font-size: 12pt; }" if page.draft else "")
    return (
        "@page { "
        f"@top-left {{ content: {_css_string(page.title)}; font-size: 8.5pt; color: #444; }} "
        f"{mark} "
        f"@top-right {{ content: {_css_string(page.date)}; font-size: 8.5pt; color: #444; }} "
        '@bottom-center { content: counter(page) " / " counter(pages); font-size: 8.5pt; } }'
    )


def _cell_html(value: Any, lang: str) -> str:
    """A value as escaped cell text, with a break opportunity after each slash so that a long
    URL or path wraps inside its column instead of widening the table past the page."""
    return html.escape(format_value(value, lang)).replace("/", "/<wbr>")


def render_document_html(doc: Document) -> str:
    """The document as one printable HTML page. Every value is escaped; no script, no links
    out: the page can be saved, mailed and printed as it is. A draft says so beside the title
    and in the line repeated at the top of every printed page."""
    esc = html.escape
    page = _page_text(doc)
    mark = f'<span class="mark">{esc(doc.draft)}</span>' if doc.draft else "<span></span>"
    title = esc(doc.title) + (f" （{esc(doc.draft)}）" if doc.draft and doc.lang == "ja"
                              else f" ({esc(doc.draft)})" if doc.draft else "")
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(doc.lang)}"><head><meta charset="utf-8">',
        ('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
         'style-src \'unsafe-inline\'">'),
        f"<title>{title} – {esc(doc.reference)}</title>",
        f"<style>{_HTML_STYLE}{_page_css(page)}</style></head><body>",
        (f'<div class="running"><span>{esc(page.title)}</span>{mark}'
         f"<span>{esc(page.date)}</span></div>"),
        f"<h1>{esc(doc.title)}"
        + (f'<span class="draft">{esc(doc.draft)}</span>' if doc.draft else "") + "</h1>",
        f'<p class="meta">{esc(doc.subtitle)}</p>',
        f'<p class="meta">{esc(_made(doc))}</p>',
        f'<p class="notice">{esc(doc.notice)}</p>',
    ]
    for sec in doc.sections:
        out.append(f"<section><h2>{esc(sec.title)}</h2>")
        if sec.fields:
            out.append('<table class="fields"><tbody>')
            for fld in sec.fields:
                out.append(
                    f"<tr><th>{esc(fld.label)}</th><td>{_cell_html(fld.value, doc.lang)}</td></tr>"
                )
            out.append("</tbody></table>")
        if sec.headers:
            out.append("<table><thead><tr>")
            out.extend(f"<th>{esc(h)}</th>" for h in sec.headers)
            out.append("</tr></thead><tbody>")
            for values in sec.rows:
                cells = "".join(f"<td>{_cell_html(v, doc.lang)}</td>" for v in values)
                out.append(f"<tr>{cells}</tr>")
            out.append("</tbody></table>")
        if sec.note:
            out.append(f'<p class="note">{esc(sec.note)}</p>')
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out)
