"""A resolved rule pack: the layers merged, references checked, conditions compiled.

Objects here are what the rest of the application reads (`pack.questions`, `pack.item(id)`, ...).
Every element records the `layer` (pack id@version) it came from, and `override` when a child
layer changed it. `to_dict()` is the canonical, JSON-ready form; the fingerprint is the sha256 of
its canonical JSON serialisation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from procurement.errors import NotFoundError
from procurement.packs.conditions import Cond

Text = dict[str, str]


def _text(t: Text | None) -> Text | None:
    return None if t is None else {"ja": t["ja"], "en": t["en"]}


def _base(el: Any) -> dict[str, Any]:
    out = {"provenance": el.provenance, "source": dict(el.source), "layer": el.layer}
    if el.override is not None:
        out["override"] = el.override
    return out


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: Text
    help: Text | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "label": _text(self.label)}
        if self.help:
            out["help"] = _text(self.help)
        return out


@dataclass(frozen=True, slots=True)
class Level:
    id: str
    label: Text
    help: Text | None
    provenance: str
    source: dict[str, str]
    layer: str
    override: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": _text(self.label), "help": _text(self.help), **_base(self)}


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    text: Text
    help: Text | None
    step: str
    options: tuple[Option, ...]
    required: bool
    applies_when: dict[str, Any] | None
    provenance: str
    source: dict[str, str]
    layer: str
    override: dict[str, Any] | None = None
    applies: Cond | None = field(default=None, repr=False, compare=False)

    @property
    def option_values(self) -> tuple[str, ...]:
        return tuple(o.value for o in self.options)

    def option(self, value: str) -> Option:
        for o in self.options:
            if o.value == value:
                return o
        raise NotFoundError(f"question {self.id} has no option {value!r}", question=self.id, value=value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "text": _text(self.text), "help": _text(self.help), "step": self.step,
            "options": [o.to_dict() for o in self.options], "required": self.required,
            "applies_when": self.applies_when, **_base(self),
        }


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    level: str
    when: dict[str, Any]
    stop: bool
    message: Text
    provenance: str
    source: dict[str, str]
    layer: str
    override: dict[str, Any] | None = None
    cond: Cond | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "level": self.level, "when": self.when, "stop": self.stop,
            "message": _text(self.message), **_base(self),
        }


@dataclass(frozen=True, slots=True)
class BlockingFinding:
    id: str
    when: dict[str, Any]
    message: Text
    provenance: str
    source: dict[str, str]
    layer: str
    override: dict[str, Any] | None = None
    cond: Cond | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "when": self.when, "message": _text(self.message), **_base(self)}


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    checklist: str
    text: Text
    help: Text | None
    category: str
    required_when: dict[str, Any] | None
    recommended_when: dict[str, Any] | None
    provenance: str
    source: dict[str, str]
    layer: str
    override: dict[str, Any] | None = None
    required_cond: Cond | None = field(default=None, repr=False, compare=False)
    recommended_cond: Cond | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "checklist": self.checklist, "text": _text(self.text),
            "help": _text(self.help), "category": self.category,
            "required_when": self.required_when, "recommended_when": self.recommended_when,
            **_base(self),
        }


@dataclass(frozen=True, slots=True)
class Checklist:
    id: str
    title: Text
    step: str
    items: tuple[Item, ...]
    layer: str
    override: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {
            "id": self.id, "title": _text(self.title), "step": self.step,
            "items": [i.to_dict() for i in self.items], "layer": self.layer,
        }
        if self.override is not None:
            out["override"] = self.override
        return out


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    title: Text
    help: Text | None
    applies_when: dict[str, Any] | None
    provenance: str
    source: dict[str, str]
    layer: str
    override: dict[str, Any] | None = None
    applies: Cond | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": _text(self.title), "help": _text(self.help),
            "applies_when": self.applies_when, **_base(self),
        }


@dataclass(frozen=True)
class ResolvedPack:
    """A pack with its parents merged in; what `classify` and the UI work with."""

    id: str
    version: str
    title: Text
    description: Text | None
    edition: dt.date
    effective_from: dt.date
    publisher: Text
    source: dict[str, str]
    #: {"id", "version" (the range asked for), "resolved" ("id@x.y.z")} or None
    extends: dict[str, str] | None
    license: str
    default_level: str
    levels: tuple[Level, ...]
    questions: tuple[Question, ...]
    rules: tuple[Rule, ...]
    blocking: tuple[BlockingFinding, ...]
    checklists: tuple[Checklist, ...]
    steps: tuple[Step, ...]
    #: the layers from the root pack to this one, e.g. ("jp-national@2.0.0", "city-strict@1.0.0")
    layers: tuple[str, ...]
    #: the folder the pack was loaded from (not part of the fingerprint)
    path: Path | None = field(default=None, compare=False)
    fingerprint: str = ""
    #: the validated file model of this layer, kept so that child packs can be resolved on it
    elements: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, Any] = {}
        for group in (self.levels, self.questions, self.rules, self.blocking, self.steps):
            for el in group:
                index[el.id] = el
        for cl in self.checklists:
            index[cl.id] = cl
            for it in cl.items:
                index[it.id] = it
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_level_rank", {lv.id: i for i, lv in enumerate(self.levels)})
        object.__setattr__(
            self, "_options", {q.id: frozenset(q.option_values) for q in self.questions}
        )
        object.__setattr__(self, "_items", tuple(i for cl in self.checklists for i in cl.items))
        if not self.fingerprint:
            digest = hashlib.sha256(canonical_json(self.content_dict()).encode("utf-8")).hexdigest()
            object.__setattr__(self, "fingerprint", digest)

    # -- identity ---------------------------------------------------------------------------
    @property
    def ref(self) -> str:
        """`id@version#first-12-hex-of-fingerprint`."""
        return f"{self.id}@{self.version}#{self.fingerprint[:12]}"

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def version_tuple(self) -> tuple[int, int, int]:
        a, b, c = self.version.split(".")
        return int(a), int(b), int(c)

    # -- look-ups ---------------------------------------------------------------------------
    def _get(self, kind: type, el_id: str, what: str):
        el = self._index.get(el_id)  # type: ignore[attr-defined]
        if not isinstance(el, kind):
            raise NotFoundError(f"pack {self.key} has no {what} {el_id!r}", pack=self.key, id=el_id)
        return el

    def question(self, qid: str) -> Question:
        return self._get(Question, qid, "question")

    def item(self, item_id: str) -> Item:
        return self._get(Item, item_id, "checklist item")

    def rule(self, rule_id: str) -> Rule:
        return self._get(Rule, rule_id, "rule")

    def step(self, step_id: str) -> Step:
        return self._get(Step, step_id, "step")

    def checklist(self, cl_id: str) -> Checklist:
        return self._get(Checklist, cl_id, "checklist")

    def level(self, level_id: str) -> Level:
        return self._get(Level, level_id, "level")

    def blocking_finding(self, fid: str) -> BlockingFinding:
        return self._get(BlockingFinding, fid, "blocking finding")

    def element(self, el_id: str) -> Any | None:
        """Any element by id (ids are unique across a pack), or None."""
        return self._index.get(el_id)  # type: ignore[attr-defined]

    @property
    def items(self) -> tuple[Item, ...]:
        """Every checklist item, in checklist order."""
        return self._items  # type: ignore[attr-defined]

    def level_rank(self, level_id: str) -> int:
        """Position of a level, low to high (out_of_scope = 0 in the national pack)."""
        try:
            return self._level_rank[level_id]  # type: ignore[attr-defined]
        except KeyError:
            raise NotFoundError(f"pack {self.key} has no level {level_id!r}", pack=self.key, id=level_id) from None

    # -- serialisation ----------------------------------------------------------------------
    def content_dict(self) -> dict[str, Any]:
        """Everything that defines the pack's behaviour and texts (the fingerprinted content)."""
        return {
            "id": self.id,
            "version": self.version,
            "title": _text(self.title),
            "description": _text(self.description),
            "edition": self.edition.isoformat(),
            "effective_from": self.effective_from.isoformat(),
            "publisher": _text(self.publisher),
            "source": dict(self.source),
            "extends": dict(self.extends) if self.extends else None,
            "license": self.license,
            "layers": list(self.layers),
            "default_level": self.default_level,
            "levels": [x.to_dict() for x in self.levels],
            "questions": [x.to_dict() for x in self.questions],
            "rules": [x.to_dict() for x in self.rules],
            "blocking": [x.to_dict() for x in self.blocking],
            "checklists": [x.to_dict() for x in self.checklists],
            "steps": [x.to_dict() for x in self.steps],
        }

    def to_dict(self) -> dict[str, Any]:
        """The resolved pack as JSON-ready data, with fingerprint and ref."""
        return {**self.content_dict(), "fingerprint": self.fingerprint, "ref": self.ref}


def canonical_json(data: Any) -> str:
    """The canonical serialisation hashed for fingerprints: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
