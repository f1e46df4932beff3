"""Temporary files a killed process leaves behind (XlsxWriter's per-sheet XML holds exported
data in clear text) are removed by the next writer; nothing else is ever touched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from procurement.files import atomic_output, scratch_dir, sweep_stale

#: A child that makes its scratch folder, writes a sheet's worth of clear text into it and an
#: unfinished export beside the target, then waits to be killed.
CHILD = r"""
import sys, time
from pathlib import Path
from procurement.files import atomic_output, scratch_dir
out = Path(sys.argv[1])
scratch = scratch_dir()
(scratch / "sheet1.xml").write_text("<c>機密の内容</c>", encoding="utf-8")
cm = atomic_output(out)
tmp = cm.__enter__()
tmp.write_bytes(b"partial")
print(scratch, tmp, flush=True)
time.sleep(600)
"""


def _killed_child(tmp_path: Path) -> tuple[Path, Path]:
    env = {**os.environ, "TMPDIR": str(tmp_path / "temp")}
    (tmp_path / "temp").mkdir()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path / "out" / "audit.xlsx")],
                            stdout=subprocess.PIPE, text=True, env=env)
    (tmp_path / "out").mkdir(exist_ok=True)
    assert proc.stdout is not None
    scratch, partial = proc.stdout.readline().split()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return Path(scratch), Path(partial)


def test_what_a_killed_export_left_is_removed_by_the_next_writer(tmp_path):
    (tmp_path / "out").mkdir()
    scratch, partial = _killed_child(tmp_path)
    assert scratch.is_dir() and (scratch / "sheet1.xml").exists() and partial.exists()
    unrelated = tmp_path / "out" / "procurement-notes.txt"   # ours by name, but no pid in it
    unrelated.write_text("keep")
    mine = tmp_path / "temp" / f"procurement-{os.getpid()}-live"   # a live process's folder
    mine.mkdir()

    # The next export into the same folder removes the partial file of the dead process ...
    with atomic_output(tmp_path / "out" / "audit.xlsx") as tmp:
        tmp.write_bytes(b"complete")
    assert not partial.exists()
    assert (tmp_path / "out" / "audit.xlsx").read_bytes() == b"complete"
    # ... and a sweep of the temp folder removes the dead process's scratch folder with its
    # clear-text sheet, never a live process's folder or a file that is not ours.
    assert sweep_stale(tmp_path / "temp") == [scratch]
    assert not scratch.exists() and mine.is_dir() and unrelated.read_text() == "keep"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["audit.xlsx",
                                                                   "procurement-notes.txt"]


def test_a_failed_write_leaves_nothing_and_keeps_the_previous_file(tmp_path):
    target = tmp_path / "report.xlsx"
    target.write_bytes(b"previous")
    try:
        with atomic_output(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("disk full")
    except RuntimeError:
        pass
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["report.xlsx"]


def test_the_scratch_folder_is_this_processs_own():
    folder = scratch_dir()
    assert folder.name.startswith(f"procurement-{os.getpid()}-") and folder.is_dir()
    assert folder not in sweep_stale(folder.parent)
