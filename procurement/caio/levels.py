"""The levels of the packs an organisation's cases are assessed under, as the CAIO's figures
need them: rank, label, tone, `high_risk`, `out_of_scope`, read from each case's own pack.

An organisation may hold cases under several packs at once: the national editions (1.0.0,
2.0.0, 2.1.0), a municipal or city pack built on them, or a pack with levels of its own (levels
I-IV). The figures combine them by **scale** (docs/rule-packs.md, "Levels across packs"):

- A pack's scale is its base pack, the root of its `extends` chain (`ResolvedPack.layers[0]`,
  without the version): only a base pack declares levels, so every version of a pack and every
  pack built on it (jp-national 1.0.0, 2.0.0, 2.1.0, jp-municipal, city-strict) count their
  levels on one scale, and a pack with levels of its own (example-impact) on another.
- On one scale a level is its id (ids are stable: a major version renames, never reuses them).
  Cases at the same level under different packs of the scale count together; the level is
  named, coloured and ranked as the newest of those packs (by `effective_from`, then version)
  describes it.
- Scales are shown one after another, the scale with the most cases first (ties by base pack
  id), each from its lowest level to its highest; cases not yet classified come last.
- Whether a case is high risk or out of scope is never read from a combined level: it is the
  flag of the case's own pack (`pack.level(id).high_risk` / `.out_of_scope`).

`LevelCatalog` is plain data (built from the pack registry or from packs), so the figures stay
pure functions tested without a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from procurement.packs.texts import LEGACY_LANGUAGES, pick_text
from procurement.vocabulary import word

#: The group of the cases not yet classified (no level): its key and its place, last.
UNCLASSIFIED = "unclassified"


@dataclass(frozen=True)
class LevelInfo:
    """One level of one exact pack version."""

    pack_id: str
    pack_version: str
    #: the base pack id the levels come from (see the module docstring)
    scale: str
    id: str
    #: position in the pack's levels, low to high
    rank: int
    #: the label in the pack's languages
    label: Mapping[str, str]
    tone: str
    high_risk: bool
    out_of_scope: bool
    languages: tuple[str, ...] = LEGACY_LANGUAGES
    #: (effective_from, version) of the pack: the newest pack names a combined level
    pack_order: tuple[date, tuple[int, ...]] = (date.min, ())

    @property
    def pack_key(self) -> str:
        return f"{self.pack_id}@{self.pack_version}"

    @property
    def key(self) -> str:
        """The key of the level's group in the figures: `scale:level id`."""
        return f"{self.scale}:{self.id}"

    def text(self, lang: str | None) -> str:
        """The label in `lang`, else in the pack's first language."""
        return pick_text(self.label, lang, self.languages) or self.id


@dataclass(frozen=True)
class PackLevels:
    """The levels of one exact pack version."""

    pack_id: str
    pack_version: str
    scale: str
    levels: tuple[LevelInfo, ...]
    #: the title of the scale's base pack (as the pack's root layer names it), to tell scales
    #: apart when an organisation has several
    scale_title: Mapping[str, str] = field(default_factory=dict)
    languages: tuple[str, ...] = LEGACY_LANGUAGES

    @classmethod
    def of(cls, pack: Any, scale_title: Mapping[str, str] | None = None) -> PackLevels:
        """From a ResolvedPack; `scale_title` defaults to the pack's own title."""
        scale = pack.layers[0].split("@", 1)[0] if pack.layers else pack.id
        order = (pack.effective_from, pack.version_tuple)
        levels = tuple(
            LevelInfo(pack.id, pack.version, scale, lv.id, rank, dict(lv.label), lv.tone or "neutral",
                      bool(lv.high_risk), bool(lv.out_of_scope), tuple(pack.languages), order)
            for rank, lv in enumerate(pack.levels)
        )
        return cls(pack.id, pack.version, scale, levels, dict(scale_title or pack.title),
                   tuple(pack.languages))

    def level(self, level_id: str | None) -> LevelInfo | None:
        for lv in self.levels:
            if lv.id == level_id:
                return lv
        return None


class LevelCatalog:
    """(pack id, version) -> `PackLevels`: the levels of the packs an organisation's cases use.

    A case whose exact pack is not in the catalog has no level information: it is shown by its
    level id, and counts as neither high risk nor out of scope (`from_registry` falls back to
    the newest installed version of the same pack id before giving up).
    """

    def __init__(self, packs: Iterable[PackLevels] = ()) -> None:
        self._packs: dict[tuple[str, str], PackLevels] = {(p.pack_id, p.pack_version): p for p in packs}

    @classmethod
    def from_packs(cls, packs: Iterable[Any]) -> LevelCatalog:
        """From ResolvedPacks (each pack's own title names its scale)."""
        return cls(PackLevels.of(p) for p in packs)

    @classmethod
    def from_registry(cls, registry: Any, keys: Iterable[tuple[str, str]]) -> LevelCatalog:
        """The packs named by `keys` ((pack id, version) pairs, e.g. of an organisation's
        cases), resolved in `registry`; a version no longer installed reads as the newest
        installed version of its pack id (levels rarely change between versions)."""
        found: list[PackLevels] = []
        for pack_id, version in sorted(set(keys)):
            pack = _resolve(registry, f"{pack_id}@{version}") or _resolve(registry, pack_id)
            if pack is None:
                continue
            root = _resolve(registry, pack.layers[0]) if pack.layers else None
            levels = PackLevels.of(pack, root.title if root is not None else None)
            if (pack.id, pack.version) != (pack_id, version):
                # Filed under the key asked for, so that the case finds it.
                levels = PackLevels(pack_id, version, levels.scale, tuple(
                    LevelInfo(pack_id, version, lv.scale, lv.id, lv.rank, lv.label, lv.tone,
                              lv.high_risk, lv.out_of_scope, lv.languages, lv.pack_order)
                    for lv in levels.levels), levels.scale_title, levels.languages)
            found.append(levels)
        return cls(found)

    def pack(self, pack_id: str, version: str) -> PackLevels | None:
        return self._packs.get((pack_id, version))

    def packs(self) -> list[PackLevels]:
        return list(self._packs.values())

    def level(self, pack_id: str, version: str, level_id: str | None) -> LevelInfo | None:
        """The level `level_id` of that exact pack, or None (unknown pack, level or no level)."""
        pack = self._packs.get((pack_id, version))
        return pack.level(level_id) if pack is not None and level_id else None

    def label(self, pack_id: str, version: str, level_id: str | None, lang: str | None) -> str:
        """A level in words as its own pack names it: "not yet classified" for no level, the
        id when the pack or level is unknown."""
        if not level_id:
            return word("concept", "unclassified", lang or "ja")
        info = self.level(pack_id, version, level_id)
        return info.text(lang) if info is not None else level_id

    def level_choices(self, first: tuple[str, str] | None, lang: str | None) -> dict[str, str]:
        """Level id -> label, for a filter over cases of several packs: the levels of the pack
        `first` ((pack id, version), e.g. the organisation's pack) in its order, then those of
        the other packs of the catalog, newest pack first (by `effective_from`, then version),
        each in its own order. A level id several packs share is named by the first of them
        that has it, so the organisation's pack, else the newest, names it."""
        head = self._packs.get(first) if first is not None else None
        others = sorted((p for p in self._packs.values() if p is not head),
                        key=lambda p: p.levels[0].pack_order if p.levels else (date.min, ()),
                        reverse=True)
        names: dict[str, str] = {}
        for pack in ([head] if head is not None else []) + others:
            for level in pack.levels:
                names.setdefault(level.id, level.text(lang))
        return names

    def scale_title(self, scale: str, lang: str | None) -> str:
        """The name of a scale: the title of its base pack (the newest one in the catalog)."""
        packs = sorted((p for p in self._packs.values() if p.scale == scale),
                       key=lambda p: p.levels[0].pack_order if p.levels else (date.min, ()))
        if not packs:
            return scale
        newest = packs[-1]
        return pick_text(newest.scale_title, lang, newest.languages) or scale


def _resolve(registry: Any, ref: str) -> Any | None:
    if registry is None:
        return None
    try:
        return registry.resolve(ref)
    except Exception:  # noqa: BLE001 - not installed (NotFoundError) or a malformed ref
        return None
