"""Installed rule packs: shared packs kept in the database, and each organisation's choice.

A pack published by another organisation arrives as YAML files or a zip bundle. Before anything
is written it is checked completely (`check_upload`): the bundle's safety checks, the strict
loader against the packs already available (its parent must be there), the manifest
fingerprint, and the pack's own test cases, which must all pass. `install_pack` then records the
version (id, version, fingerprint, who, when, from which file) with a normalised bundle, appends
an audit event in the same transaction, and adds the pack to the services' registry.

Installed content is immutable: the same id and version with other content is refused (new
content needs a new version); installing identical content again is a no-op. Other processes
(the app, the CLI) pick installed packs up with `load_installed_packs`, which is cheap when
nothing is new.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from procurement.db.models import InstalledPack
from procurement.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    ProcurementError,
)
from procurement.records import policy
from procurement.records.core import ServiceCore
from procurement.records.views import Actor
from procurement.sharing import bundles
from procurement.sharing.bundles import Bundle, BundleError

#: The national guideline's pack id: its editions apply to every organisation by date.
NATIONAL_PACK_ID = "jp-national"

#: The audit chain of installation-wide changes made at the command line without `--org`.
INSTALLATION_CHAIN = "installation"

#: Names under which an uploaded YAML file is taken as the pack file itself.
_PACK_FILE_NAMES = ("pack.yaml", "pack.yml")

_STATUS_OK = "ok"
_STATUS_SAME = "already_installed"


class PackRefusedError(InputError):
    """An uploaded pack that is not installed; `params['report']` is the full `UploadReport`."""

    code = "pack_refused"


# --------------------------------------------------------------------------------------------
# Views


@dataclass(frozen=True)
class InstalledPackView:
    """One installed pack version (without its bundle bytes)."""

    id: int
    pack_id: str
    version: str
    fingerprint: str
    installed_by: str
    installed_at: datetime
    source_name: str
    size: int

    @property
    def key(self) -> str:
        return f"{self.pack_id}@{self.version}"


@dataclass(frozen=True)
class TestFailure:
    """One pack test case that failed: where it is and what differed."""

    file: str
    case: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.case}: {self.message}"


@dataclass(frozen=True)
class UploadReport:
    """Everything found when checking an upload; nothing has been written when it is made.

    `status` is `ok` (can be installed), `already_installed` (identical content present),
    `invalid` (bundle or pack errors), `tests_failed`, or `conflict` (same id and version,
    other content).
    """

    source_name: str
    status: str
    files: tuple[str, ...] = ()
    pack: Any = field(default=None, repr=False)  # ResolvedPack when it loaded
    errors: tuple[str, ...] = ()
    tests_run: int = 0
    test_failures: tuple[TestFailure, ...] = ()
    message: str = ""
    normalised_files: Mapping[str, bytes] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_installable(self) -> bool:
        return self.status in (_STATUS_OK, _STATUS_SAME)

    @property
    def pack_key(self) -> str:
        return self.pack.key if self.pack is not None else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source_name,
            "status": self.status,
            "pack": self.pack.ref if self.pack is not None else None,
            "files": list(self.files),
            "errors": list(self.errors),
            "tests_run": self.tests_run,
            "test_failures": [str(f) for f in self.test_failures],
            "message": self.message,
        }


# --------------------------------------------------------------------------------------------
# Turning uploads into pack files


def files_from_uploads(uploads: Sequence[tuple[str, bytes]], *, source_name: str) -> Bundle:
    """A `Bundle` from what a person uploaded: one zip, or loose pack files.

    Loose files carry no folders (a browser upload gives names only): `pack.yaml` is the pack,
    other .yaml/.yml files are its test cases (placed under `tests/` as .yaml), .md/.json files
    sit beside the pack. Names with folders (`tests/basic.yaml`) keep them.
    """
    if not uploads:
        raise InputError("no file was given: upload pack.yaml and its tests, or a zip bundle",
                         source=source_name, reason="no_files")
    zips = [(name, data) for name, data in uploads if name.lower().endswith(".zip")]
    if zips:
        if len(uploads) != 1:
            raise InputError("upload either one zip bundle or loose pack files, not both",
                             source=source_name, files=[n for n, _ in uploads],
                             reason="zip_and_files")
        name, data = zips[0]
        return bundles.read_bundle(data, source=name)
    files: dict[str, bytes] = {}
    total = 0
    for name, data in uploads:
        clean = name.replace("\\", "/")
        base = PurePosixPath(clean).name
        if "/" in clean:
            rel = clean
        elif base.lower() in _PACK_FILE_NAMES:
            rel = "pack.yaml"
        elif base.lower().endswith((".yaml", ".yml")):
            rel = f"tests/{base}"
        else:
            rel = base
        rel = bundles.check_member_name(rel, source=source_name)
        if rel.startswith("tests/") and rel.endswith(".yml"):
            rel = rel[:-4] + ".yaml"  # the test runner reads tests/*.yaml
        if rel in files:
            raise InputError(f"{source_name}: two uploaded files become {rel!r}",
                             source=source_name, member=rel, reason="same_name")
        if len(data) > bundles.MAX_FILE_BYTES:
            raise BundleError(f"bundle {source_name}: {name}: {len(data)} bytes, more than the "
                              f"limit of {bundles.MAX_FILE_BYTES}", source=source_name,
                              member=name, reason="file_too_large", detail="too large")
        total += len(data)
        files[rel] = data
    if total > bundles.MAX_TOTAL_BYTES or len(files) > bundles.MAX_FILES:
        raise BundleError(f"bundle {source_name}: the files exceed the bundle limits",
                          source=source_name, member="", reason="too_large", detail="too large")
    if "pack.yaml" not in files and "pack.yml" not in files:
        raise InputError(f"{source_name}: no pack.yaml among the uploaded files "
                         f"({', '.join(sorted(files))})", source=source_name, files=sorted(files),
                         reason="no_pack_yaml")
    return Bundle(source=source_name, files=files, manifest=None)


def files_from_paths(paths: Sequence[str | os.PathLike[str]]) -> tuple[Bundle, str]:
    """A `Bundle` and a source name from command-line arguments: a pack folder, a zip, or files."""
    given = [Path(p) for p in paths]
    if not given:
        raise InputError("no file given: name a pack folder, a zip bundle or pack.yaml and its tests")
    for path in given:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder", file=str(path))
    if len(given) == 1 and given[0].is_dir():
        folder = given[0]
        return Bundle(source=str(folder), files=bundles.collect_pack_files(folder)), str(folder)
    uploads = []
    for path in given:
        if path.is_dir():
            raise InputError(f"{path}: give a pack folder alone, or files", file=str(path))
        if path.stat().st_size > bundles.MAX_BUNDLE_BYTES:
            raise BundleError(f"bundle {path}: larger than {bundles.MAX_BUNDLE_BYTES} bytes",
                              source=str(path), member="", reason="too_large", detail="too large")
        name = path.name
        # Keep `tests/` for files that sit in a tests folder next to the pack.
        if path.parent.name == "tests" and not name.lower().endswith(".zip"):
            name = f"tests/{name}"
        uploads.append((name, path.read_bytes()))
    source = given[0].name if len(given) == 1 else ", ".join(p.name for p in given)
    return files_from_uploads(uploads, source_name=source), source


# --------------------------------------------------------------------------------------------
# Checking


def _relative_errors(errors: Iterable[Any], folder: Path, source: str) -> tuple[str, ...]:
    """Loader errors as `SOURCE: FILE:LINE: element: message`, without the temporary folder."""
    prefix = str(folder)
    out = []
    for err in errors:
        file = str(err.file)
        if file.startswith(prefix):
            file = file[len(prefix):].lstrip("/\\") or "."
        out.append(f"{source}: {file}:{err.line}: {err.path or '(pack)'}: {err.message}")
    return tuple(out)


def run_tests(pack: Any, folder: Path, source: str) -> tuple[int, tuple[TestFailure, ...]]:
    """Run the pack's own test cases (`tests/*.yaml` of its folder); return (run, failed)."""
    from procurement.packs.packtests import run_pack_tests

    results = run_pack_tests(pack, folder / "tests")
    prefix = str(folder)
    failures = []
    for result in results:
        if result.passed:
            continue
        file = str(result.file)
        if file.startswith(prefix):
            file = file[len(prefix):].lstrip("/\\")
        failures.append(TestFailure(file=f"{source}: {file}:{result.line}", case=result.name,
                                    message="; ".join(result.failures)))
    return len(results), tuple(failures)


def _registry_pack(registry: Any, key: str):
    try:
        return registry.resolve(key)
    except ProcurementError:
        return None


def _view_columns():
    """The columns of a view; the bundle's size is computed by the database, not loaded."""
    return (InstalledPack.id, InstalledPack.pack_id, InstalledPack.version,
            InstalledPack.fingerprint, InstalledPack.installed_by, InstalledPack.installed_at,
            InstalledPack.source_name, func.length(InstalledPack.bundle))


# --------------------------------------------------------------------------------------------
# Writing


def installation_actor() -> Actor:
    """The command-line operator acting for the whole installation (chain `installation`)."""
    return Actor(None, "system", "system", 0, INSTALLATION_CHAIN, frozenset({"admin"}), "cli")


def _add_to_registry(registry: Any, pack: Any) -> None:
    existing = _registry_pack(registry, pack.key)
    if existing is None or existing.key != pack.key:
        registry.add(pack)


# --------------------------------------------------------------------------------------------
# Reading


#: `pack_owner` of an id nobody has published: whoever installs it first owns it.
_NO_OWNER: Any = object()


class _Missing:
    fingerprint = None


# --------------------------------------------------------------------------------------------
# The layer tree


@dataclass(frozen=True)
class LayerNode:
    """One pack in the tree of layers: national packs at the roots, their extensions below."""

    key: str
    pack: Any = field(repr=False)
    depth: int
    children: tuple[LayerNode, ...] = ()
    is_installed: bool = False


def layer_tree(registry: Any, installed_keys: Iterable[str] = ()) -> list[LayerNode]:
    """The packs as a forest by `extends` (national -> prefecture -> city), oldest first."""
    installed = set(installed_keys)
    packs = registry.packs()
    children: dict[str | None, list[Any]] = {}
    keys = {p.key for p in packs}
    for pack in packs:
        parent = (pack.extends or {}).get("resolved")
        children.setdefault(parent if parent in keys else None, []).append(pack)

    def build(pack, depth: int) -> LayerNode:
        kids = tuple(build(c, depth + 1) for c in children.get(pack.key, []))
        return LayerNode(pack.key, pack, depth, kids, pack.key in installed)

    return [build(p, 0) for p in children.get(None, [])]


def flatten_tree(nodes: Iterable[LayerNode]) -> list[LayerNode]:
    """Depth-first list of the tree (for a table with indentation)."""
    out: list[LayerNode] = []
    for node in nodes:
        out.append(node)
        out.extend(flatten_tree(node.children))
    return out


class PackSharingService(ServiceCore):
    """Checking, installing, listing and exporting shared packs."""

    def check_upload(self, bundle: Bundle, *, source_name: str | None = None) -> UploadReport:
        """Check an upload completely without writing anything; see `UploadReport`."""
        from procurement.packs import PackLoadError, load_pack_dir

        source = source_name or bundle.source
        files = tuple(sorted(bundle.files))
        registry = self.registry
        with bundles.extracted(bundle.files) as folder:
            try:
                pack = load_pack_dir(folder, parents=registry)
            except PackLoadError as exc:
                return UploadReport(source, "invalid", files,
                                    errors=_relative_errors(exc.errors, folder, source),
                                    message=f"{len(exc.errors)} problem(s) in the pack")
            except ProcurementError as exc:
                return UploadReport(source, "invalid", files, errors=(exc.message,),
                                    message=exc.message)
            pack = dataclasses.replace(pack, path=None)
            try:
                bundle.check_fingerprint(pack.fingerprint)
            except BundleError as exc:
                return UploadReport(source, "invalid", files, pack=pack, errors=(exc.message,),
                                    message=exc.message)
            tests_run, failures = run_tests(pack, folder, source)
        if failures:
            return UploadReport(
                source, "tests_failed", files, pack=pack, tests_run=tests_run, test_failures=failures,
                message=f"{len(failures)} of {tests_run} test case(s) of {pack.key} failed",
            )
        if tests_run == 0:
            return UploadReport(source, "invalid", files, pack=pack,
                                errors=(f"{source}: the pack has no test cases (tests/*.yaml): a shared "
                                        "pack must come with its tests",),
                                message="no test cases")
        status, message = _STATUS_OK, f"{pack.key} can be installed ({tests_run} test cases passed)"
        existing = self._installed_row(pack.id, pack.version)
        known = _registry_pack(registry, pack.key)
        for other in (existing, known):
            if other is None:
                continue
            if other.fingerprint != pack.fingerprint:
                status = "conflict"
                message = (f"{pack.key} already exists with other content (fingerprint "
                           f"{other.fingerprint[:12]}, this upload {pack.fingerprint[:12]}): "
                           "publish the changes under a new version")
                break
            if existing is not None:
                status, message = _STATUS_SAME, f"{pack.key} is already installed with this content"
        return UploadReport(source, status, files, pack=pack, tests_run=tests_run, message=message,
                            normalised_files=dict(bundle.files))

    def _installed_row(self, pack_id: str, version: str) -> InstalledPackView | None:
        with self.read() as s:
            row = s.execute(select(*_view_columns()).where(InstalledPack.pack_id == pack_id,
                                                           InstalledPack.version == version)).first()
            return InstalledPackView(*row) if row is not None else None

    def install_pack(self, actor, bundle: Bundle, *, source_name: str | None = None) -> InstalledPackView:
        """Check and install an uploaded pack (pack_admin or admin); refuse with the full report.

        A pack_admin installs layers (packs extending another); a base pack or a national edition
        needs an administrator, because it can change the edition every organisation uses.

        Raises `PackRefusedError` (params: `report`, `status`, `errors`, `failures`) when the upload
        is invalid or its tests fail, `ConflictError` for other content under an installed version.
        """
        policy.require(actor, "pack.install")
        report = self.check_upload(bundle, source_name=source_name)
        source = report.source_name
        if report.status == "conflict":
            raise ConflictError(report.message, pack=report.pack_key, source=source)
        if not report.is_installable:
            details = list(report.errors) + [str(f) for f in report.test_failures]
            raise PackRefusedError(
                f"{source}: not installed: {report.message}"
                + "".join(f"\n  {line}" for line in details),
                source=source, status=report.status, errors=list(report.errors),
                failures=[str(f) for f in report.test_failures], report=report,
            )
        pack = report.pack
        if (pack.extends is None or pack.id == NATIONAL_PACK_ID) and not actor.has_role("admin"):
            # A root pack, or a national edition, changes what every organisation's new cases use
            # (the edition in force by date): only an administrator of the installation may add one.
            raise PermissionDeniedError(
                f"{pack.key} is a base pack (it extends no other pack) or a national edition: only an "
                "administrator may install it; a pack_admin installs packs that extend one",
                username=actor.username, needed=["admin"], roles=sorted(actor.roles), pack=pack.key,
            )
        owner = self.pack_owner(pack.id)
        # Who owns the id after this installation: its owner so far; for a new id, the
        # installing organisation (the command line without --org: the installation).
        installer = None if actor.org_code == INSTALLATION_CHAIN else actor.org_code
        if owner is not _NO_OWNER:
            allowed = (report.status == _STATUS_SAME  # the same content again changes nothing
                       or (actor.has_role("admin") if owner is None  # the installation's packs
                           else owner == actor.org_code))
            installer = owner
        else:
            allowed = True
        if not allowed:
            # A pack id belongs to whoever published it first: another organisation's new version
            # would change the classifications of every organisation that uses it.
            raise PermissionDeniedError(
                f"{pack.id} belongs to {owner or 'the installation'}: only its owner publishes "
                f"versions of it; publish your changes as your own pack extending it",
                owner=owner or INSTALLATION_CHAIN, pack=pack.key, username=actor.username,
                reason="pack_owner")
        if report.status == _STATUS_SAME:
            # The same pack is installed already: its row exists.
            existing = cast(InstalledPackView, self._installed_row(pack.id, pack.version))
            _add_to_registry(self.registry, pack)
            return existing
        data = bundles.build_bundle(report.normalised_files, pack_id=pack.id, version=pack.version,
                                    fingerprint=pack.fingerprint, created_by=actor.username)
        try:
            with self.unit_of_work(actor, "pack.install") as uow:
                row = InstalledPack(
                    pack_id=pack.id, version=pack.version, fingerprint=pack.fingerprint,
                    installed_by=actor.username, installed_at=uow.now, source_name=source[:300],
                    bundle=data, owner_org=installer, parent_ref=pack.parent_ref,
                )
                uow.session.add(row)
                uow.session.flush()
                view = InstalledPackView(row.id, row.pack_id, row.version, row.fingerprint,
                                         row.installed_by, row.installed_at, row.source_name, len(data))
                uow.audit("pack.installed", None, {
                    "pack": pack.ref, "pack_id": pack.id, "version": pack.version,
                    "fingerprint": pack.fingerprint, "source_name": source,
                    "extends": (pack.extends or {}).get("resolved"), "parent": pack.parent_ref,
                    "owner": installer or INSTALLATION_CHAIN, "tests_run": report.tests_run,
                    "files": list(report.files),
                })
        except IntegrityError as exc:
            # Someone installed the same id@version between our check and our insert.
            other = self._installed_row(pack.id, pack.version)
            if other is not None and other.fingerprint == pack.fingerprint:
                _add_to_registry(self.registry, pack)
                return other
            raise ConflictError(f"{pack.key} was just installed by someone else with other content",
                                pack=pack.key) from exc
        _add_to_registry(self.registry, pack)
        return view

    def pack_owner(self, pack_id: str) -> Any:
        """Who publishes versions of `pack_id`: the organisation that first installed it, None
        for the installation (packs shipped under rules/, or installed at the command line
        without --org), `_NO_OWNER` for an id nobody has published yet."""
        with self.read() as s:
            first = s.execute(select(InstalledPack.owner_org).where(InstalledPack.pack_id == pack_id)
                              .order_by(InstalledPack.installed_at, InstalledPack.id).limit(1)).first()
        if first is not None:
            return first[0]
        shipped = [p for p in self.registry.versions(pack_id) if p.path is not None]
        return None if shipped else _NO_OWNER

    def list_installed_packs(self) -> list[InstalledPackView]:
        """Every installed pack version, by id then installation time."""
        with self.read() as s:
            rows = s.execute(select(*_view_columns()).order_by(
                InstalledPack.pack_id, InstalledPack.installed_at, InstalledPack.id))
            return [InstalledPackView(*row) for row in rows]

    def installed_bundle(self, pack_id: str, version: str) -> bytes | None:
        """The stored bundle of an installed version, or None."""
        with self.read() as s:
            return s.scalar(select(InstalledPack.bundle).where(InstalledPack.pack_id == pack_id,
                                                               InstalledPack.version == version))

    def load_installed_packs(self) -> list[str]:
        """Add every installed pack not yet in `self.registry`; return problems (never raises).

        Run at start-up and before pages that list packs; cheap when nothing new was installed. A
        stored pack that no longer loads (its parent was removed from rules/) is reported, not added.
        """
        from procurement.packs import load_pack_dir

        registry = self.registry
        with self.read() as s:
            rows = s.execute(select(InstalledPack.pack_id, InstalledPack.version,
                                    InstalledPack.fingerprint, InstalledPack.parent_ref)
                             .order_by(InstalledPack.installed_at, InstalledPack.id)).all()
        # The parent each pack was installed against: it keeps resolving to exactly that one,
        # whatever versions of the parent are added later.
        parents = {(pid, ver): parent for pid, ver, _fp, parent in rows}
        pending = [(pid, ver, fp) for pid, ver, fp, _parent in rows
                   if (_registry_pack(registry, f"{pid}@{ver}") or _Missing).fingerprint != fp]
        problems: list[str] = []
        retry: list[tuple[str, str, str, str]] = []
        # Installation order loads parents first; a second pass catches the rare reverse order.
        for _ in range(2):
            retry = []
            for pack_id, version, fingerprint in pending:
                data = self.installed_bundle(pack_id, version)
                try:
                    bundle = bundles.read_bundle(data or b"", source=f"installed {pack_id}@{version}")
                    with bundles.extracted(bundle.files) as folder:
                        pack = dataclasses.replace(
                            load_pack_dir(folder, parents=registry,
                                          lock=parents.get((pack_id, version))), path=None)
                    if pack.fingerprint != fingerprint:
                        problems.append(f"installed {pack_id}@{version}: content fingerprint "
                                        f"{pack.fingerprint[:12]} differs from the recorded "
                                        f"{fingerprint[:12]}; not loaded")
                        continue
                    registry.add(pack)
                except ConflictError as exc:
                    problems.append(f"installed {pack_id}@{version}: {exc.message}")
                except ProcurementError as exc:
                    retry.append((pack_id, version, fingerprint, exc.message))
            pending = [(p, v, f) for p, v, f, _ in retry]
            if not pending:
                break
        problems.extend(f"installed {p}@{v}: {msg}" for p, v, _, msg in retry)
        return problems

    def pack_files(self, pack) -> dict[str, bytes]:
        """The files of a pack: from its stored bundle if installed, else from its rules folder."""
        data = self.installed_bundle(pack.id, pack.version)
        if data is not None:
            return dict(bundles.read_bundle(data, source=f"installed {pack.key}").files)
        if pack.path is None:
            raise NotFoundError(f"the files of {pack.key} are not available", kind="pack", id=pack.key)
        folder = Path(pack.path)
        if folder.is_file():
            folder = folder.parent
        return bundles.collect_pack_files(folder)

    def export_bundle(self, ref: str, *, created_by: str = "") -> tuple[str, bytes]:
        """A zip bundle of a pack (files, tests, manifest with fingerprint): (file name, bytes)."""
        try:
            pack = self.registry.resolve(ref)
        except ProcurementError as exc:
            raise NotFoundError(f"unknown rule pack {ref!r}: {exc.message}", kind="pack", id=ref) from exc
        data = bundles.build_bundle(self.pack_files(pack), pack_id=pack.id, version=pack.version,
                                    fingerprint=pack.fingerprint, created_by=created_by)
        return f"{pack.id}-{pack.version}.zip", data
