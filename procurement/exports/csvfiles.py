"""CSV files of the audit log and the answers, for Japanese Excel and for other tools.

UTF-8 with a byte-order mark (Japanese Excel otherwise reads CSV as Shift_JIS and garbles it),
CRLF line ends, one header row of stable English column names (the same names as the second
header row of the workbook sheets). They select exactly what the organisation workbook selects
(`ExportFilters`, see `organisation.py`). Formula-like text gets a visible leading apostrophe
(CSV has no "text" flag); the exact values, and the offline chain check, are in the workbook.

    write_audit_csv(engine, out, *, filters=ExportFilters()) -> int   (rows written)
    write_answers_csv(engine, out, *, filters=ExportFilters(), registry=None) -> int
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from procurement.audit import format_timestamp
from procurement.db.models import Answer, AuditEvent, Case, User
from procurement.db.reading import read_connection, stream
from procurement.exports.cells import csv_text
from procurement.exports.labels import PackTexts, answer_text, decode_answer, ja
from procurement.exports.organisation import (
    ANSWER_COLUMNS,
    AUDIT_COLUMNS,
    ExportFilters,
    Selection,
    _fy,
)
from procurement.files import atomic_output
from procurement.fiscal import as_utc, to_jst_naive

#: `--csv` kinds and what they hold.
CSV_KINDS = ("audit", "answers")


#: No filter: every case of the organisation (an immutable default).
ALL_CASES = ExportFilters()

def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return to_jst_naive(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, str):
        return csv_text(value)
    return value


def _write_csv(out: str | os.PathLike[str], header: Sequence[str],
               produce: Callable[[Callable[[Sequence[Any]], None]], None]) -> int:
    """Write atomically: the file appears at `out` only when complete."""
    count = 0
    with atomic_output(out) as tmp:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, dialect="excel")
            writer.writerow(header)

            def emit(values: Sequence[Any]) -> None:
                nonlocal count
                writer.writerow([_cell(v) for v in values])
                count += 1

            produce(emit)
    return count


def write_audit_csv(engine: Engine, out: str | os.PathLike[str], *,
                    filters: ExportFilters = ALL_CASES) -> int:
    """The audit log (every column, plus JST time and 年度) as CSV; returns the row count."""
    header = [c.en for c in AUDIT_COLUMNS if c.en != "payload_parts"]

    def produce(emit) -> None:
        with read_connection(engine, snapshot=True) as conn:
            sel = Selection(conn, filters)
            stmt = (
                select(AuditEvent.id, AuditEvent.chain, AuditEvent.seq, AuditEvent.occurred_at,
                       AuditEvent.actor, AuditEvent.event_type, AuditEvent.case_id,
                       AuditEvent.payload, AuditEvent.prev_hash, AuditEvent.hash)
                .where(sel.audit_condition())
                .order_by(AuditEvent.chain, AuditEvent.seq)
            )
            for e in stream(conn, stmt):
                emit((e.id, e.chain, e.seq, format_timestamp(e.occurred_at), as_utc(e.occurred_at),
                      _fy(e.occurred_at), e.actor, e.event_type, e.case_id, e.payload,
                      e.prev_hash, e.hash))

    return _write_csv(out, header, produce)


def write_answers_csv(engine: Engine, out: str | os.PathLike[str], *,
                      filters: ExportFilters = ALL_CASES, registry: Any | None = None) -> int:
    """The current answers of the selected cases, long form, as CSV; returns the row count."""
    header = [c.en for c in ANSWER_COLUMNS]
    texts = PackTexts(registry)

    def produce(emit) -> None:
        with read_connection(engine, snapshot=True) as conn:
            sel = Selection(conn, filters)
            users = dict(conn.execute(select(User.id, User.username)).all())
            stmt = (
                select(Answer.case_id, Case.title, Answer.question_id, Answer.value,
                       Answer.answered_by, Answer.answered_at, Case.pack_id, Case.pack_version)
                .join(Case, Answer.case_id == Case.id)
                .where(sel.case_condition())
                .order_by(Case.org_id, Answer.case_id, Answer.id)
            )
            for rows in _by_case(stream(conn, stmt)):
                first = rows[0]
                rows.sort(key=lambda r: (texts.order(first.pack_id, first.pack_version,
                                                     r.question_id), r.question_id))
                for a in rows:
                    value = decode_answer(a.value)
                    question = texts.element(a.pack_id, a.pack_version, a.question_id)
                    emit((a.case_id, a.title, a.question_id, ja(getattr(question, "text", None)),
                          answer_text(value),
                          texts.answer_label(a.pack_id, a.pack_version, a.question_id, value),
                          users.get(a.answered_by, a.answered_by), as_utc(a.answered_at),
                          _fy(a.answered_at)))

    return _write_csv(out, header, produce)


def _by_case(rows: Iterable[Any]) -> Iterable[list[Any]]:
    group: list[Any] = []
    for row in rows:
        if group and row.case_id != group[0].case_id:
            yield group
            group = []
        group.append(row)
    if group:
        yield group
