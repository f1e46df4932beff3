"""Offline verification: read the audit log back from a workbook and re-compute its chains.

An auditor who receives a workbook by mail can check it without the database:
`procurement audit verify --xlsx FILE` reads the 監査ログ sheet (by its English header row, so
column order does not matter), re-joins payloads continued on 監査ログ(続き), and hands the rows
to `procurement.audit.verify_rows`, the same check the database gets.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from procurement.audit import ChainReport, verify_rows
from procurement.errors import InputError
from procurement.exports.organisation import AUDIT, AUDIT_MORE

#: Columns the verification needs (English header names on the sheet's second row).
REQUIRED = ("chain", "seq", "occurred_at", "actor", "event_type", "case_id", "payload",
            "prev_hash", "hash")

_HEADER_ROW = 2  # row 1: Japanese headings, row 2: English names


def _open(path: Path):
    from openpyxl import load_workbook

    if not path.is_file():
        raise InputError(f"{path}: no such file", file=str(path))
    try:
        return load_workbook(path, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputError(f"{path}: not an .xlsx workbook ({exc})", file=str(path),
                         reason=str(exc)) from exc


def _header(sheet, path: Path, sheet_name: str, required: tuple[str, ...]) -> dict[str, int]:
    rows = sheet.iter_rows(min_row=_HEADER_ROW, max_row=_HEADER_ROW, values_only=True)
    names = next(rows, ())
    index = {str(name).strip(): i for i, name in enumerate(names) if name is not None}
    missing = [name for name in required if name not in index]
    if missing:
        raise InputError(
            f"{path}: sheet {sheet_name!r} lacks column(s) {', '.join(missing)} in row "
            f"{_HEADER_ROW}", file=str(path), sheet=sheet_name, missing=missing,
        )
    return index


def _continuations(book, path: Path) -> dict[tuple[str, int | None], dict[int, str]]:
    if AUDIT_MORE not in book.sheetnames:
        return {}
    sheet = book[AUDIT_MORE]
    col = _header(sheet, path, AUDIT_MORE, ("chain", "seq", "part", "payload"))
    # Looked up by the log rows' (chain, seq), whose seq may be empty (None).
    parts: dict[tuple[str, int | None], dict[int, str]] = {}
    for values in sheet.iter_rows(min_row=_HEADER_ROW + 1, values_only=True):
        if not values or all(v is None for v in values):
            continue
        chain, seq, part = values[col["chain"]], values[col["seq"]], values[col["part"]]
        try:
            key = (str(chain), int(seq))
            number = int(part)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{path}: sheet {AUDIT_MORE!r} has a row with chain {chain!r}, "
                             f"seq {seq!r}, part {part!r}", file=str(path),
                             sheet=AUDIT_MORE) from exc
        parts.setdefault(key, {})[number] = values[col["payload"]] or ""
    return parts


def read_audit_sheet(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """The audit events stored in a workbook's 監査ログ sheet, as dicts with the column names.

    Values come back as the sheet holds them (integers may be floats); `verify_rows` accepts
    that. Raises InputError naming the file when it is not a workbook or lacks the sheet.
    """
    path = Path(path)
    book = _open(path)
    try:
        if AUDIT not in book.sheetnames:
            raise InputError(f"{path}: no sheet {AUDIT!r} (is this an organisation workbook?)",
                             file=str(path), sheet=AUDIT)
        more = _continuations(book, path)
        sheet = book[AUDIT]
        col = _header(sheet, path, AUDIT, REQUIRED)
        has_id = "id" in col
        for values in sheet.iter_rows(min_row=_HEADER_ROW + 1, values_only=True):
            if not values or all(v is None for v in values):
                continue
            row = {name: values[i] if i < len(values) else None for name, i in col.items()
                   if name in REQUIRED or name == "id"}
            if not has_id:
                row["id"] = None
            # Empty text cells read back as None; these columns are NOT NULL text in the log.
            for name in ("actor", "event_type", "payload", "chain"):
                if row[name] is None:
                    row[name] = ""
            extra = more.get((str(row["chain"]), _int_or_none(row["seq"])))
            if extra:
                row["payload"] = str(row["payload"]) + "".join(extra[n] for n in sorted(extra))
            yield row
    finally:
        book.close()


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def verify_workbook(path: str | os.PathLike[str], *, chain: str | None = None,
                    head: str | None = None) -> list[ChainReport]:
    """Re-compute every chain in a workbook's audit sheet (see `procurement.audit.verify_rows`)."""
    return verify_rows(read_audit_sheet(path), chain=chain, head=head)
