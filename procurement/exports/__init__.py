"""Audit exports: organisation and case workbooks, CSV files, and offline chain verification.

    from procurement.exports import (
        ExportFilters, build_organisation_workbook, build_case_workbook,
        write_audit_csv, write_answers_csv, read_audit_sheet, verify_workbook,
    )

Parts: `cells` (what makes a value safe in a spreadsheet), `sheets` (streaming typed tables,
bilingual headers, print layout), `snapshot` (one consistent read-only view of the database),
`organisation` and `case` (the two workbooks), `csvfiles`, `auditsheet` (read back and verify).

Writer choice, on evidence (`bench/export.py`, 2 shared cores, 100,000-200,000 rows):
XlsxWriter's `constant_memory` mode was the faster bare writer in the median of every size we ran
at 100,000 rows and more (1.02-1.3x less time and CPU than openpyxl's write-only mode with lxml;
the shared field notes saw 1.5-2x on a quieter machine; single runs under load vary) and used
~9 MB less; both stay flat as rows grow. So workbooks are written with XlsxWriter, and openpyxl
(with pandas) reads them back.
"""

from procurement.exports.auditsheet import read_audit_sheet, verify_workbook
from procurement.exports.case import build_case_workbook
from procurement.exports.csvfiles import CSV_KINDS, write_answers_csv, write_audit_csv
from procurement.exports.organisation import (
    AUDIT,
    CASES,
    ExportFilters,
    ExportResult,
    build_organisation_workbook,
)

__all__ = [
    "AUDIT", "CASES", "CSV_KINDS", "ExportFilters", "ExportResult", "build_case_workbook",
    "build_organisation_workbook", "read_audit_sheet", "verify_workbook", "write_answers_csv",
    "write_audit_csv",
]
