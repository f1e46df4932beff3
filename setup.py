"""Build step: the wheel carries the repository's top-level app files.

The repository keeps `app.py`, `.streamlit/config.toml` and `rules/` at its top, so that
`streamlit run app.py` works in a checkout and the packs are easy to find and review. An installed
package has no repository around it, so building the wheel copies those same files into
`procurement/_shipped/`, where `procurement.config.app_dir()` finds them (`procurement serve`
runs `_shipped/app.py`; Streamlit reads `_shipped/.streamlit/config.toml` as the script's own
configuration). Nothing is copied for an editable install: it keeps reading the repository.
Everything else is declared in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: Top-level files and folders of the repository that the installed package carries.
SHIPPED = ("app.py", ".streamlit/config.toml", "rules")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


class BuildWithAppFiles(build_py):
    """`build_py`, plus the shipped app files under `procurement/_shipped/`."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "procurement" / "_shipped"
        for name in SHIPPED:
            source, dest = ROOT / name, target / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.rmtree(dest, ignore_errors=True)
                shutil.copytree(source, dest, ignore=SKIP)
            else:
                shutil.copy2(source, dest)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = list(super().get_outputs(include_bytecode))
        if not getattr(self, "editable_mode", False):
            target = Path(self.build_lib) / "procurement" / "_shipped"
            outputs += [str(p) for p in target.rglob("*") if p.is_file()]
        return outputs


setup(cmdclass={"build_py": BuildWithAppFiles})
