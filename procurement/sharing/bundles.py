"""Zip bundles of a rule pack, for publishing a pack and installing another organisation's.

A bundle is a zip of one pack folder (pack.yaml, the files it names, tests/*.yaml, notes) plus a
`manifest.json` naming the pack, its version, its fingerprint and the sha256 of every file.

Bundles come from outside, so reading one trusts nothing: the archive is checked as a whole
(size, file count, names, links, declared sizes) before a single byte is decompressed, and every
member is then decompressed with a hard cap, so a lying header or a zip bomb stops early. Only
data files (.yaml, .yml, .json, .md) are accepted. Reading happens in memory; `extracted()`
writes the checked files into a fresh temporary directory and removes it afterwards, so nothing
lands anywhere else.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from procurement.errors import InputError

#: Name of the manifest inside a bundle.
MANIFEST_NAME = "manifest.json"
#: Value of the manifest's `format` key; `format_version` changes when the layout does.
MANIFEST_FORMAT = "procurement-pack-bundle"
MANIFEST_FORMAT_VERSION = 1

#: Only data, never code: these are the file types a pack may consist of.
ALLOWED_SUFFIXES = frozenset({".yaml", ".yml", ".json", ".md", ".lock"})

#: Limits. A real pack is a few dozen files of a few kilobytes; these leave ample room.
MAX_BUNDLE_BYTES = 8 * 1024 * 1024  # the zip file itself
MAX_FILES = 200
MAX_FILE_BYTES = 1024 * 1024  # one decompressed member
MAX_TOTAL_BYTES = 8 * 1024 * 1024  # all decompressed members together
MAX_RATIO = 200  # decompressed / compressed, per member larger than RATIO_FLOOR
RATIO_FLOOR = 64 * 1024
MAX_DEPTH = 4  # folders below the bundle root
MAX_NAME_LENGTH = 200

#: Fixed timestamp for members written by `build_bundle`: the same pack gives the same bytes.
_ZIP_EPOCH = (2020, 1, 1, 0, 0, 0)


class BundleError(InputError):
    """A bundle that cannot be accepted; `params` name the bundle, the member and the reason."""

    code = "bundle_invalid"


@dataclass(frozen=True)
class Manifest:
    """What a bundle says about itself; the fingerprint is checked against the loaded pack."""

    pack_id: str
    version: str
    fingerprint: str
    files: dict[str, str]  # relative path -> sha256 hex
    created_at: str = ""
    created_by: str = ""
    format_version: int = MANIFEST_FORMAT_VERSION

    def to_json(self) -> bytes:
        doc = {
            "format": MANIFEST_FORMAT,
            "format_version": self.format_version,
            "pack_id": self.pack_id,
            "version": self.version,
            "fingerprint": self.fingerprint,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "files": dict(sorted(self.files.items())),
        }
        return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes, *, source: str) -> Manifest:
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _error(source, MANIFEST_NAME, "manifest_unreadable", f"not valid JSON: {exc}") from exc
        if not isinstance(doc, dict) or doc.get("format") != MANIFEST_FORMAT:
            raise _error(source, MANIFEST_NAME, "manifest_format",
                         f"`format` must be {MANIFEST_FORMAT!r}")
        if doc.get("format_version") != MANIFEST_FORMAT_VERSION:
            raise _error(source, MANIFEST_NAME, "manifest_format",
                         f"`format_version` {doc.get('format_version')!r} is not supported "
                         f"(expected {MANIFEST_FORMAT_VERSION})")
        for key in ("pack_id", "version", "fingerprint"):
            if not isinstance(doc.get(key), str) or not doc[key]:
                raise _error(source, MANIFEST_NAME, "manifest_format", f"`{key}` must be a non-empty string")
        files = doc.get("files")
        if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()
        ):
            raise _error(source, MANIFEST_NAME, "manifest_format",
                         "`files` must map each path to its sha256")
        return cls(
            pack_id=doc["pack_id"],
            version=doc["version"],
            fingerprint=doc["fingerprint"],
            files=dict(files),
            created_at=str(doc.get("created_at", "")),
            created_by=str(doc.get("created_by", "")),
        )


@dataclass(frozen=True)
class Bundle:
    """A checked bundle held in memory: pack files by relative path (manifest excluded)."""

    source: str
    files: dict[str, bytes] = field(repr=False)
    manifest: Manifest | None = None

    @property
    def file_names(self) -> list[str]:
        return sorted(self.files)

    def check_fingerprint(self, fingerprint: str) -> None:
        """Refuse a bundle whose manifest disagrees with the fingerprint of the pack it loads as."""
        if self.manifest is not None and self.manifest.fingerprint != fingerprint:
            raise _error(
                self.source, MANIFEST_NAME, "fingerprint_mismatch",
                f"manifest fingerprint {self.manifest.fingerprint[:12]} does not match the pack's "
                f"content ({fingerprint[:12]}): the files were changed after the bundle was made",
            )


def _error(source: str, member: str, reason: str, detail: str) -> BundleError:
    where = f"{source}: {member}" if member else source
    return BundleError(f"bundle {where}: {detail}", source=source, member=member, reason=reason,
                       detail=detail)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_member_name(name: str, *, source: str) -> str:
    """Return a safe relative POSIX path for a member name, or raise naming what is wrong.

    Refused: absolute paths, drive letters, backslashes, `..` and `.` parts, control characters,
    too deep or too long names and file types that are not data.
    """
    if not name or len(name) > MAX_NAME_LENGTH:
        raise _error(source, name[:80], "bad_name", f"name is empty or longer than {MAX_NAME_LENGTH}")
    if any(ord(ch) < 32 or ch == "\x7f" for ch in name):
        raise _error(source, repr(name), "bad_name", "name contains control characters")
    if "\\" in name:
        raise _error(source, name, "bad_name", "backslash in a name (Windows path) is not allowed")
    if name.startswith("/") or (len(name) >= 2 and name[1] == ":"):
        raise _error(source, name, "absolute_path", "absolute path is not allowed")
    parts = PurePosixPath(name).parts
    if any(part in ("..", ".") for part in name.rstrip("/").split("/")):
        raise _error(source, name, "path_traversal", "`..` or `.` in a path is not allowed")
    if len(parts) - 1 > MAX_DEPTH:
        raise _error(source, name, "too_deep", f"more than {MAX_DEPTH} folders deep")
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise _error(source, name, "file_type",
                     f"file type {suffix or '(none)'!r} is not allowed "
                     f"(only {', '.join(sorted(ALLOWED_SUFFIXES))})")
    return "/".join(parts)


def _is_link(info: zipfile.ZipInfo) -> bool:
    # Unix mode lives in the high 16 bits of external_attr when the zip was made on Unix.
    # Many tools write permission bits only (file type 0): that is a plain file.
    kind = stat.S_IFMT(info.external_attr >> 16)
    return kind not in (0, stat.S_IFREG, stat.S_IFDIR)


def read_bundle(data: bytes, *, source: str = "bundle.zip") -> Bundle:
    """Check a zip bundle completely and return its files in memory; raise `BundleError`.

    Every check on names, links, count and declared sizes runs before anything is decompressed;
    decompression is then capped per member and in total, whatever the headers claim.
    """
    if len(data) > MAX_BUNDLE_BYTES:
        raise _error(source, "", "too_large",
                     f"file is {len(data)} bytes, more than the limit of {MAX_BUNDLE_BYTES}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _error(source, "", "not_zip", f"not a readable zip file ({exc})") from exc
    with archive:
        infos = archive.infolist()
        members: list[tuple[zipfile.ZipInfo, str]] = []
        seen: dict[str, str] = {}
        if len(infos) > MAX_FILES + 1:
            raise _error(source, "", "too_many_files",
                         f"{len(infos)} entries, more than the limit of {MAX_FILES}")
        declared_total = 0
        for info in infos:
            if _is_link(info):
                raise _error(source, info.filename, "link", "links and special files are not allowed")
            if info.flag_bits & 0x1:
                raise _error(source, info.filename, "encrypted", "encrypted entries are not allowed")
            if info.is_dir():
                if info.file_size:
                    raise _error(source, info.filename, "bad_name", "folder entry with content")
                # Folders are implied by file paths; still refuse hostile folder names.
                probe = info.filename.rstrip("/") + "/x.md"
                check_member_name(probe, source=source)
                continue
            if info.filename == MANIFEST_NAME:
                name = MANIFEST_NAME
            else:
                name = check_member_name(info.filename, source=source)
            folded = name.casefold()
            if folded in seen:
                raise _error(source, name, "duplicate", f"duplicate entry (also {seen[folded]!r})")
            seen[folded] = name
            if info.file_size > MAX_FILE_BYTES:
                raise _error(source, name, "file_too_large",
                             f"declares {info.file_size} bytes, more than the limit of {MAX_FILE_BYTES}")
            if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise _error(source, name, "zip_bomb",
                             f"compression ratio {info.file_size // max(info.compress_size, 1)}:1 "
                             f"is above {MAX_RATIO}:1 (zip bomb)")
            declared_total += info.file_size
            if declared_total > MAX_TOTAL_BYTES:
                raise _error(source, name, "too_large",
                             f"declared total size exceeds the limit of {MAX_TOTAL_BYTES} bytes")
            members.append((info, name))
        if len(members) > MAX_FILES:
            raise _error(source, "", "too_many_files",
                         f"{len(members)} files, more than the limit of {MAX_FILES}")

        files: dict[str, bytes] = {}
        total = 0
        for info, name in members:
            content = _read_capped(archive, info, name, source, budget=MAX_TOTAL_BYTES - total)
            total += len(content)
            files[name] = content

    files = _strip_single_root(files, source)
    manifest_bytes = files.pop(MANIFEST_NAME, None)
    manifest = None
    if manifest_bytes is not None:
        manifest = Manifest.from_json(manifest_bytes, source=source)
        _check_manifest_files(manifest, files, source)
    if not files:
        raise _error(source, "", "empty", "the bundle holds no pack files")
    return Bundle(source=source, files=files, manifest=manifest)


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, source: str,
                 *, budget: int) -> bytes:
    """Decompress one member, stopping as soon as it outgrows what it declared or the limits."""
    cap = min(info.file_size, MAX_FILE_BYTES, budget)
    out = bytearray()
    try:
        with archive.open(info) as stream:
            while True:
                chunk = stream.read(64 * 1024)
                if not chunk:
                    break
                out += chunk
                if len(out) > cap:
                    if len(out) > info.file_size:
                        raise _error(source, name, "zip_bomb",
                                     f"decompresses to more than the {info.file_size} bytes it "
                                     "declares (zip bomb)")
                    raise _error(source, name, "too_large",
                                 f"decompressed size exceeds the limit of {MAX_TOTAL_BYTES} bytes")
    except zipfile.BadZipFile as exc:
        # zipfile's own CRC/size check fires when a member ends short of or past its header.
        raise _error(source, name, "corrupt", f"corrupt entry ({exc})") from exc
    except (zlib.error, EOFError, NotImplementedError) as exc:
        raise _error(source, name, "corrupt", f"cannot decompress ({exc})") from exc
    return bytes(out)


def _strip_single_root(files: dict[str, bytes], source: str) -> dict[str, bytes]:
    """Accept both `pack.yaml` at the root and everything inside one top folder."""
    if not files or any("/" not in name for name in files):
        return files
    roots = {name.split("/", 1)[0] for name in files}
    if len(roots) != 1:
        return files
    root = roots.pop()
    return {name[len(root) + 1:]: data for name, data in files.items()}


def _check_manifest_files(manifest: Manifest, files: Mapping[str, bytes], source: str) -> None:
    listed = set(manifest.files)
    present = set(files)
    for name in sorted(present - listed):
        raise _error(source, name, "manifest_mismatch", "file is not listed in the manifest")
    for name in sorted(listed - present):
        raise _error(source, name, "manifest_mismatch", "file listed in the manifest is missing")
    for name in sorted(present):
        if sha256_hex(files[name]) != manifest.files[name].lower():
            raise _error(source, name, "manifest_mismatch",
                         "content does not match the sha256 in the manifest")


def collect_pack_files(pack_dir: Path) -> dict[str, bytes]:
    """The data files of a pack folder (recursively), by relative POSIX path, under the limits.

    Links are refused rather than followed: a pack folder is published as it is.
    """
    pack_dir = Path(pack_dir)
    source = str(pack_dir)
    files: dict[str, bytes] = {}
    total = 0
    for path in sorted(pack_dir.rglob("*")):
        rel = path.relative_to(pack_dir).as_posix()
        if any(part.startswith(".") or part == "__pycache__" for part in rel.split("/")):
            continue
        if path.is_symlink():
            raise _error(source, rel, "link", "links are not allowed in a pack folder")
        if path.is_dir():
            continue
        if path.suffix.lower() not in ALLOWED_SUFFIXES:
            continue
        name = check_member_name(rel, source=source)
        data = path.read_bytes()
        if len(data) > MAX_FILE_BYTES:
            raise _error(source, name, "file_too_large", f"{len(data)} bytes, more than {MAX_FILE_BYTES}")
        total += len(data)
        if total > MAX_TOTAL_BYTES or len(files) >= MAX_FILES:
            raise _error(source, name, "too_large", "the pack folder exceeds the bundle limits")
        files[name] = data
    return files


def build_bundle(files: Mapping[str, bytes], *, pack_id: str, version: str, fingerprint: str,
                 created_by: str = "", created_at: datetime | None = None) -> bytes:
    """Zip pack files with a manifest; same files and metadata give the same bytes."""
    names = {check_member_name(name, source=f"{pack_id}@{version}"): name for name in files}
    manifest = Manifest(
        pack_id=pack_id,
        version=version,
        fingerprint=fingerprint,
        files={safe: sha256_hex(files[orig]) for safe, orig in names.items()},
        created_at=(created_at or datetime.now(UTC)).isoformat(timespec="seconds"),
        created_by=created_by,
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in [(MANIFEST_NAME, manifest.to_json())] + [
            (safe, files[orig]) for safe, orig in sorted(names.items())
        ]:
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def write_files(files: Mapping[str, bytes], dest: Path) -> Path:
    """Write checked files under `dest`, verifying each resolved path stays inside it."""
    dest = Path(dest).resolve()
    for name, data in files.items():
        target = (dest / check_member_name(name, source=str(dest))).resolve()
        if not target.is_relative_to(dest):
            raise _error(str(dest), name, "path_traversal", "path leaves the extraction folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as handle:  # never overwrite, never follow an existing link
            handle.write(data)
    return dest


@contextmanager
def extracted(files: Mapping[str, bytes], *, prefix: str = "procurement-pack-") -> Iterator[Path]:
    """Write files into a fresh temporary folder for the loader; remove it afterwards."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield write_files(files, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
