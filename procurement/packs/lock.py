"""Parent locks: the exact parent a published child pack was resolved on.

A child pack names its parent with a version range (`extends: {id, version: ">=2.0.0,<3.0.0"}`);
unlocked, it resolves to the newest loaded version in the range, which is right while a pack is
being written but wrong once it is published: adding `jp-national` 2.1.0 must not change what
`city-strict` 1.0.0 means, nor its fingerprint. So a published child carries `pack.lock` beside
its `pack.yaml`:

    extends: jp-national@2.0.0#0b9c46035847<... the full sha256 ...>

and the loader resolves it to exactly that parent (an error naming both when that version is not
loaded or its fingerprint differs). The lock is not part of the pack's content: a child resolved
on the same parent has the same fingerprint with or without it. A caller that keeps the lock
elsewhere (an installed bundle) passes it to `load_pack_dir(..., lock=REF)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from procurement.packs.yamlreader import YamlError, read_yaml

LOCK_FILE = "pack.lock"
_LOCK_REF = re.compile(r"^([a-z0-9][a-z0-9-]*)@((?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*))#([0-9a-f]{12,64})$")
LOCK_HEADER = (
    "# pack.lock: the exact parent pack this pack was published against. Written by\n"
    "# `procurement packs lock`; the loader resolves `extends` to exactly this parent.\n"
)


class LockError(ValueError):
    """A lock that cannot be read: `line` in its file (1 when unknown)."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class ParentLock:
    """A locked parent: `id@x.y.z#hex` (hex: at least 12 digits of the fingerprint)."""

    pack_id: str
    version: str
    fingerprint: str
    #: where the lock was written (the pack.lock file) and on which line; None when given by a caller
    file: str | None = None
    line: int = 1

    @property
    def ref(self) -> str:
        return f"{self.pack_id}@{self.version}#{self.fingerprint}"

    @property
    def short_ref(self) -> str:
        return f"{self.pack_id}@{self.version}#{self.fingerprint[:12]}"

    @property
    def version_tuple(self) -> tuple[int, int, int]:
        a, b, c = self.version.split(".")
        return int(a), int(b), int(c)

    def matches(self, fingerprint: str) -> bool:
        return fingerprint.startswith(self.fingerprint)


def parse_lock_ref(text: str, *, file: str | None = None, line: int = 1) -> ParentLock:
    """`id@x.y.z#hex` -> ParentLock; LockError when malformed."""
    mt = _LOCK_REF.match(text.strip()) if isinstance(text, str) else None
    if not mt:
        raise LockError(
            f"bad parent lock {text!r} (expected ID@X.Y.Z#FINGERPRINT, at least 12 hex digits, "
            "e.g. jp-national@2.0.0#0b9c46035847)", line)
    return ParentLock(mt.group(1), mt.group(2), mt.group(3), file, line)


def read_lock_file(path: Path) -> ParentLock:
    """Read a pack.lock (strict YAML, one key `extends`); LockError naming the line."""
    try:
        raw, lines = read_yaml(path.read_bytes(), max_bytes=64 * 1024)
    except OSError as exc:
        raise LockError(f"cannot read the file: {exc.strerror or exc}", 0) from None
    except YamlError as exc:
        raise LockError(exc.message, exc.line) from None
    if not isinstance(raw, dict) or set(raw) != {"extends"}:
        keys = ", ".join(map(str, raw)) if isinstance(raw, dict) else type(raw).__name__
        raise LockError(f"a pack.lock holds exactly one key, extends: ID@X.Y.Z#FINGERPRINT; got {keys}",
                        lines.get((), 1))
    line = lines.get(("extends",), 1)
    if not isinstance(raw["extends"], str):
        raise LockError(f"extends must be ID@X.Y.Z#FINGERPRINT; got {raw['extends']!r}", line)
    return parse_lock_ref(raw["extends"], file=str(path), line=line)


def render_lock(parent_id: str, parent_version: str, parent_fingerprint: str) -> str:
    """The text of a pack.lock naming this parent (full fingerprint)."""
    return f"{LOCK_HEADER}extends: {parent_id}@{parent_version}#{parent_fingerprint}\n"
