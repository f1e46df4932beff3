"""What a user gets when printing a workbook: LibreOffice converts it to PDF as a real spreadsheet
client, poppler reads the PDF back.

`require_tools()` skips a test (with the reason) when LibreOffice or poppler is missing locally,
and fails it in CI (`CI=true`), where `.ci/run` installs them. `to_pdf(paths, folder)` converts
several workbooks in one `soffice` run (each run gets its own profile folder, so parallel runs do
not share LibreOffice's user installation). `printed_text(pdf)` is the text in content order
(`pdftotext -raw`: a wrapped cell's lines stay together, which `-layout` interleaves with the
cells beside it); `page_sizes(pdf)` the size of every page; `shown(cell)` the text a cell shows,
formatted as its number format says (dates as 2026年11月30日, yes/no as はい/いいえ).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import pytest

TOOLS = ("soffice", "pdftotext", "pdfinfo")


def require_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not missing:
        return
    what = ", ".join(missing)
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} missing but CI=true: .ci/run must install libreoffice-calc-nogui "
                    "and poppler-utils")
    pytest.skip(f"print test skipped: {what} not installed "
                "(apt-get install libreoffice-calc-nogui poppler-utils)")


def to_pdf(paths: list[Path], folder: Path) -> dict[Path, Path]:
    """Each workbook converted by LibreOffice: workbook -> its PDF."""
    out = folder / "pdf"
    out.mkdir(parents=True, exist_ok=True)
    profile = folder / "lo-profile"
    subprocess.run(
        ["soffice", "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
         "--convert-to", "pdf", "--outdir", str(out), *map(str, paths)],
        check=True, capture_output=True, timeout=300,
    )
    pdfs = {path: out / (path.stem + ".pdf") for path in paths}
    missing = [str(p) for p, pdf in pdfs.items() if not pdf.exists()]
    assert not missing, f"LibreOffice wrote no PDF for {missing}"
    return pdfs


def printed_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-raw", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout


def page_sizes(pdf: Path) -> set[str]:
    """The distinct page sizes of a PDF as pdfinfo names them (e.g. `(A4)`)."""
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "100000", str(pdf)], check=True,
                          capture_output=True, text=True).stdout
    return {m.group(1).strip() for m in re.finditer(r"^Page\s+\d+ size:\s+(.*)$", info, re.M)}


def squeeze(text: str) -> str:
    """Text without whitespace: a cell's lines wrap wherever the client breaks them."""
    return re.sub(r"\s+", "", text)


def shown(cell) -> str | None:
    """The text an openpyxl cell shows, by its number format (None for an empty cell)."""
    value, fmt = cell.value, cell.number_format or "General"
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if '"はい"' in fmt:
        return "はい" if value else "いいえ"
    if isinstance(value, (datetime, date)):
        if '"年"' in fmt:
            text = f"{value.year}年{value.month}月{value.day}日"
            if isinstance(value, datetime) and "h:mm" in fmt:
                text += f" {value.hour}:{value.minute:02d}"
                if ":ss" in fmt:
                    text += f":{value.second:02d}"
            return text
        return value.strftime("%Y-%m-%d %H:%M" if "hh" in fmt else "%Y-%m-%d")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
