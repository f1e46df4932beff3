"""The set of loaded packs, found under one or more rules folders, and resolution of references.

A reference is `ID` (newest version), `ID@MAJOR`, `ID@MAJOR.MINOR`, `ID@X.Y.Z`, optionally
followed by `#<hex>` (a fingerprint prefix that must match, as stored with a case).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import cast

from procurement import config
from procurement.errors import ConflictError, InputError, NotFoundError
from procurement.packs.loader import (
    PACK_FILE,
    LoadError,
    PackLoadError,
    PackSource,
    Version,
    find_parent,
    load_pack_dir,
    parse_range,
    parse_version,
    read_pack_source,
    report_missing_parent,
    resolve_source,
)
from procurement.packs.lock import ParentLock
from procurement.packs.model import PackFile
from procurement.packs.pack import ResolvedPack

_REF = re.compile(r"^([a-z0-9][a-z0-9-]*)(?:@(\d+)(?:\.(\d+))?(?:\.(\d+))?)?(?:#([0-9a-f]{4,64}))?$")


def find_pack_files(root: str | os.PathLike[str]) -> list[Path]:
    """Every pack.yaml under `root` (recursively), sorted for a deterministic order."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob(PACK_FILE) if p.is_file())


class PackRegistry:
    """Resolved packs by id and version."""

    def __init__(self, packs: Iterable[ResolvedPack] = ()) -> None:
        self._packs: dict[tuple[str, tuple[int, int, int]], ResolvedPack] = {}
        #: load errors of packs skipped by a non-strict discover
        self.errors: list[LoadError] = []
        for pack in packs:
            self.add(pack)

    # -- building ---------------------------------------------------------------------------
    @classmethod
    def discover(cls, rules_dir: str | os.PathLike[str] | None = None, *, strict: bool = True) -> PackRegistry:
        """All packs under the rules folder (`config.rules_dir`: `--rules-dir`, then
        `PROCUREMENT_RULES_DIR`, then the repository's `rules/`). A folder that does not exist is
        an error, never an empty registry: a typo must not look like "no packs"."""
        root = config.rules_dir(rules_dir)
        if not Path(root).is_dir():
            raise NotFoundError(f"rules folder {root} does not exist or is not a folder",
                                path=str(root))
        return cls.from_roots([root], strict=strict)

    @classmethod
    def from_roots(cls, roots: Iterable[str | os.PathLike[str]], *, strict: bool = True) -> PackRegistry:
        """All packs under several folders; a pack may extend one found under another root."""
        registry = cls()
        files = [f for root in roots for f in find_pack_files(root)]
        registry.add_sources([read_pack_source(f) for f in files], strict=strict)
        return registry

    def add_sources(self, sources: list[PackSource], *, strict: bool = True) -> list[ResolvedPack]:
        """Resolve read sources (in dependency order, parents from this registry or among the
        sources) and add them. With strict, raise PackLoadError with every error of every pack."""
        errors: list[LoadError] = []
        valid = [s for s in sources if not s.errors and s.model is not None]
        for s in sources:
            errors.extend(s.errors)
        by_key: dict[str, PackSource] = {}
        for s in valid:
            if s.key in by_key:
                s.error(("version",), f"{s.key} is also defined in {by_key[s.key].file}")
                errors.extend(s.errors)
            else:
                by_key[s.key] = s
        done: dict[str, ResolvedPack | None] = {}
        added: list[ResolvedPack] = []

        def build(s: PackSource, chain: tuple[str, ...]) -> ResolvedPack | None:
            if s.key in done:
                return done[s.key]
            if s.key in chain:
                cycle = " -> ".join(chain[chain.index(s.key):] + (s.key,))
                s.error(("extends",), f"inheritance cycle: {cycle}")
                errors.extend(s.errors)
                done[s.key] = None
                return None
            parent = None
            ext = cast(PackFile, s.model).extends  # `valid` sources have their model
            if ext is not None:
                try:
                    parse_range(ext.version)
                except ValueError as exc:
                    s.error(("extends", "version"), str(exc))
                    errors.extend(s.errors)
                    done[s.key] = None
                    return None
                candidates: list[tuple[str, Version, ResolvedPack | PackSource]] = [
                    (k[0], k[1], pk) for k, pk in self._packs.items()
                ]
                candidates += [
                    (model.id, parse_version(model.version), o)
                    for o in by_key.values() for model in (cast(PackFile, o.model),)
                ]
                found = find_parent(s, candidates)
                if isinstance(found, PackSource):
                    parent = build(found, chain + (s.key,))
                    if parent is None:
                        if s.key not in done:
                            s.error(("extends",), f"parent {found.key} could not be loaded")
                            errors.extend(s.errors)
                            done[s.key] = None
                        return None
                else:
                    parent = found
                if parent is None:
                    report_missing_parent(s)
                    errors.extend(s.errors)
                    done[s.key] = None
                    return None
            try:
                pack = resolve_source(s, parent)
            except PackLoadError as exc:
                errors.extend(exc.errors)
                done[s.key] = None
                return None
            done[s.key] = pack
            return pack

        for s in by_key.values():
            pack = build(s, ())
            if pack is not None and (pack.id, pack.version_tuple) not in self._packs:
                self.add(pack)
                added.append(pack)
        # Keep each error once (a pack that failed inside a cycle reports it once).
        unique = list(dict.fromkeys(errors))
        self.errors.extend(unique)
        if strict and unique:
            raise PackLoadError(unique)
        return added

    def add(self, pack: ResolvedPack) -> None:
        """Add a resolved pack; the same id@version with other content is a conflict."""
        key = (pack.id, pack.version_tuple)
        old = self._packs.get(key)
        if old is not None and old.fingerprint != pack.fingerprint:
            raise ConflictError(
                f"pack {pack.key} is already loaded with another content ({old.ref}, new {pack.ref}); "
                "publish changes under a new version",
                pack=pack.key,
            )
        self._packs[key] = pack

    def load_dir(self, path: str | os.PathLike[str], *,
                 lock: str | ParentLock | bool | None = None) -> ResolvedPack:
        """Load one pack folder against this registry (for its parent) and add it; `lock` as
        for `load_pack_dir` (None: the folder's pack.lock, if any)."""
        pack = load_pack_dir(path, parents=self, lock=lock)
        self.add(pack)
        return pack

    # -- reading ----------------------------------------------------------------------------
    def __iter__(self) -> Iterator[ResolvedPack]:
        return iter(self.packs())

    def __len__(self) -> int:
        return len(self._packs)

    def __contains__(self, ref: object) -> bool:
        try:
            self.resolve(str(ref))
        except (NotFoundError, InputError):
            return False
        return True

    def packs(self) -> list[ResolvedPack]:
        """Every pack, sorted by id then version."""
        return [self._packs[k] for k in sorted(self._packs)]

    def ids(self) -> list[str]:
        return sorted({k[0] for k in self._packs})

    def versions(self, pack_id: str) -> list[ResolvedPack]:
        """The versions of one pack, oldest first."""
        return [pk for (i, _), pk in sorted(self._packs.items()) if i == pack_id]

    def resolve(self, ref: str) -> ResolvedPack:
        """`ID`, `ID@MAJOR`, `ID@MAJOR.MINOR` or `ID@X.Y.Z`, optionally `#fingerprint-prefix`."""
        mt = _REF.match(ref.strip()) if isinstance(ref, str) else None
        if not mt:
            raise InputError(
                f"bad pack reference {ref!r} (expected ID, ID@MAJOR or ID@X.Y.Z, optionally #fingerprint)",
                ref=ref,
            )
        pack_id, digest = mt.group(1), mt.group(5)
        prefix = tuple(int(x) for x in mt.group(2, 3, 4) if x is not None)
        matches = [pk for (i, v), pk in sorted(self._packs.items()) if i == pack_id and v[: len(prefix)] == prefix]
        if not matches:
            known = ", ".join(f"{pk.key}" for pk in self.packs()) or "none"
            raise NotFoundError(f"no pack matches {ref!r} (loaded: {known})", ref=ref)
        pack = matches[-1]
        if digest and not pack.fingerprint.startswith(digest):
            raise NotFoundError(
                f"pack {pack.key} has fingerprint {pack.fingerprint[:12]}, not {digest} "
                "(its content changed since the reference was taken)",
                ref=ref,
            )
        return pack
