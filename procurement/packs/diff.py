"""Differences between two resolved packs: added, removed and changed elements, by id.

Used by `procurement packs diff` and the pack browser. Elements are compared on their content
(`to_dict()` without `layer` and `override`, which say where an element comes from, not what it
is); options are compared per question as `QUESTION:value`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from procurement.packs.pack import ResolvedPack

KINDS = ("levels", "questions", "options", "rules", "blocking", "flags", "consistency", "steps",
         "checklists", "items")
_IGNORED = {"layer", "override"}


@dataclass
class KindDiff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    #: id -> the changed field names
    changed: dict[str, list[str]] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def to_dict(self) -> dict[str, Any]:
        return {"added": list(self.added), "removed": list(self.removed),
                "changed": [{"id": k, "fields": v} for k, v in self.changed.items()]}


@dataclass
class PackDiff:
    a: str
    b: str
    kinds: dict[str, KindDiff]
    #: top-level metadata fields that differ (title, edition, ...)
    metadata: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.metadata and all(k.is_empty for k in self.kinds.values())

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "metadata": list(self.metadata),
                **{kind: d.to_dict() for kind, d in self.kinds.items()}}

    def render_text(self) -> str:
        """A readable summary: `+` added, `-` removed, `~` changed (with the fields)."""
        lines = [f"--- {self.a}", f"+++ {self.b}"]
        if self.metadata:
            lines.append(f"metadata: ~ {', '.join(self.metadata)}")
        for kind, d in self.kinds.items():
            if d.is_empty:
                continue
            lines.append(f"{kind}:")
            lines += [f"  + {x}" for x in d.added]
            lines += [f"  - {x}" for x in d.removed]
            lines += [f"  ~ {x}: {', '.join(f)}" for x, f in d.changed.items()]
        if self.is_empty:
            lines.append("no differences")
        return "\n".join(lines)


def _elements(pack: ResolvedPack) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
    for lv in pack.levels:
        out["levels"][lv.id] = lv.to_dict()
    for q in pack.questions:
        d = q.to_dict()
        for o in d.pop("options"):
            out["options"][f"{q.id}:{o['value']}"] = o
        out["questions"][q.id] = d
    for r in pack.rules:
        out["rules"][r.id] = r.to_dict()
    for b in pack.blocking:
        out["blocking"][b.id] = b.to_dict()
    for f in pack.flags:
        out["flags"][f.id] = f.to_dict()
    for c in pack.consistency:
        out["consistency"][c.id] = c.to_dict()
    for s in pack.steps:
        out["steps"][s.id] = s.to_dict()
    for cl in pack.checklists:
        d = cl.to_dict()
        d["items"] = [i.id for i in cl.items]
        out["checklists"][cl.id] = d
        for it in cl.items:
            out["items"][it.id] = it.to_dict()
    return out


def diff_packs(a: ResolvedPack, b: ResolvedPack, ignore: tuple[str, ...] = ()) -> PackDiff:
    """What changes from pack `a` to pack `b`; `ignore` names element fields not to compare
    (e.g. `("source",)` to see only behaviour and texts between two editions)."""
    skipped = _IGNORED | set(ignore)
    ea, eb = _elements(a), _elements(b)
    kinds: dict[str, KindDiff] = {}
    for kind in KINDS:
        da, db = ea[kind], eb[kind]
        d = KindDiff(
            added=[x for x in db if x not in da],
            removed=[x for x in da if x not in db],
        )
        for x in da:
            if x in db:
                fields = sorted(
                    k for k in set(da[x]) | set(db[x])
                    if k not in skipped and da[x].get(k) != db[x].get(k)
                )
                if fields:
                    d.changed[x] = fields
        kinds[kind] = d
    ca, cb = a.content_dict(), b.content_dict()
    meta = ("title", "description", "edition", "effective_from", "publisher", "source", "extends",
            "license", "languages", "default_level")
    metadata = [k for k in meta if ca.get(k) != cb.get(k)]
    return PackDiff(a.ref, b.ref, kinds, metadata)
