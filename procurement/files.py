"""Files the app writes: complete or not at all, and temporary files that are recognisably ours.

    with atomic_output("audit.xlsx") as tmp:   # `.procurement-<pid>-XXXX.xlsx` beside the target
        write_workbook(tmp)                    # renamed onto audit.xlsx only when this succeeds
    scratch_dir()                              # this process's folder for XlsxWriter's temp files

Every temporary name carries the `procurement-` prefix and the id of the process that made it,
so that the files a killed process left (XlsxWriter's per-sheet XML holds the exported data in
clear text) can be told apart and removed: `sweep_stale(folder)` removes those of processes that
are gone; the exports and reports call it before they write.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = "procurement-"
_OURS = re.compile(r"^\.?procurement-(?P<pid>\d+)-")
_scratch: Path | None = None


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def sweep_stale(folder: str | os.PathLike[str] | None = None) -> list[Path]:
    """Remove our temporary files and folders in `folder` (default: the system temp folder)
    whose process is gone; returns what was removed. Other files are never touched."""
    base = Path(folder) if folder is not None else Path(tempfile.gettempdir())
    removed: list[Path] = []
    try:
        entries = list(base.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _OURS.match(entry.name)
        if match is None or _pid_alive(int(match.group("pid"))):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
        except OSError:
            continue
    return removed


def scratch_dir() -> Path:
    """This process's folder for temporary files (`procurement-<pid>-XXXX` in the system temp
    folder), made on first use and removed when the process exits normally."""
    global _scratch
    if _scratch is None or not _scratch.exists():
        sweep_stale()
        _scratch = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
        atexit.register(shutil.rmtree, _scratch, True)
    return _scratch


@contextmanager
def atomic_output(out: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path in `out`'s folder; on success it is renamed onto `out` (readers never see
    a partial file), on any failure it is removed."""
    target = Path(out)
    folder = target.parent if str(target.parent) else Path(".")
    sweep_stale(folder)
    fd, name = tempfile.mkstemp(prefix=f".{PREFIX}{os.getpid()}-", suffix=target.suffix,
                                dir=folder)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
