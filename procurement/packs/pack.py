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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from procurement.errors import NotFoundError
from procurement.packs.conditions import Cond
from procurement.packs.texts import LEGACY_LANGUAGES, pick_text

Text = dict[str, str]
#: Step kinds: the planner fills a report for a body / the reviewer records a consultation of a
#: body before approval / used after approval by the operation feature.
STEP_KINDS = ("report", "consultation", "operation")


def _text(t: Text | None) -> Text | None:
    return None if t is None else dict(t)


def _declared(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in d.items()}


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
    #: points this option adds in `points_at_least` (None: not declared, counts as 0)
    points: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "label": _text(self.label)}
        if self.help:
            out["help"] = _text(self.help)
        if self.points is not None:
            out["points"] = self.points
        return out


@dataclass(frozen=True, slots=True)
class Level:
    """A level. `tone`, `high_risk`, `out_of_scope` are the effective values: declared, else from
    the legacy table (`legacy.py`, named in `legacy`), else neutral / false / false."""

    id: str
    label: Text
    help: Text | None
    provenance: str
    source: dict[str, str]
    layer: str
    override: dict[str, Any] | None = None
    tone: str = "neutral"
    high_risk: bool = False
    out_of_scope: bool = False
    #: what the planner / CAIO should do next at this level, or None
    next_steps: Text | None = None
    #: the optional keys as the pack wrote them (the fingerprinted content)
    declared: Mapping[str, Any] = field(default_factory=dict)
    #: the keys whose value came from the legacy table
    legacy: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": _text(self.label), "help": _text(self.help),
                **_declared(self.declared), **_base(self)}


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
    #: "choice" (answer: an option value, or a list of them when `multiple`) or "text"
    kind: str = "choice"
    multiple: bool = False
    #: the longest free-text answer (characters); None for choice questions
    max_length: int | None = None
    declared: Mapping[str, Any] = field(default_factory=dict)

    @property
    def option_values(self) -> tuple[str, ...]:
        return tuple(o.value for o in self.options)

    @property
    def is_text(self) -> bool:
        return self.kind == "text"

    @property
    def has_points(self) -> bool:
        return any(o.points is not None for o in self.options)

    def option(self, value: str) -> Option:
        for o in self.options:
            if o.value == value:
                return o
        raise NotFoundError(f"question {self.id} has no option {value!r}", question=self.id, value=value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "text": _text(self.text), "help": _text(self.help), "step": self.step,
            "options": [o.to_dict() for o in self.options], "required": self.required,
            "applies_when": self.applies_when, **_declared(self.declared), **_base(self),
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
class ConsistencyRule:
    """A warning for planner and reviewer when answers and checklist statuses disagree."""

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
class Flag:
    """A label attached to a case when its condition is true (e.g. "best effort: FY2025")."""

    id: str
    label: Text
    when: dict[str, Any]
    message: Text
    provenance: str
    source: dict[str, str]
    layer: str
    override: dict[str, Any] | None = None
    cond: Cond | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": _text(self.label), "when": self.when,
                "message": _text(self.message), **_base(self)}


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
    #: whether status `met` needs evidence (default true)
    evidence_required: bool = True
    declared: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "checklist": self.checklist, "text": _text(self.text),
            "help": _text(self.help), "category": self.category,
            "required_when": self.required_when, "recommended_when": self.recommended_when,
            **_declared(self.declared), **_base(self),
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
    #: "report", "consultation", "operation" or None (a plain workflow step); effective value
    kind: str | None = None
    #: the body reported to / consulted (report and consultation steps)
    body: Text | None = None
    declared: Mapping[str, Any] = field(default_factory=dict)
    #: the keys whose value came from the legacy table
    legacy: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": _text(self.title), "help": _text(self.help),
            "applies_when": self.applies_when, **_declared(self.declared), **_base(self),
        }


_Element = TypeVar("_Element")


@dataclass(frozen=True)
class ResolvedPack:
    """A pack with its parents merged in; what `classify` and the UI work with."""

    if TYPE_CHECKING:
        # Look-up tables set per instance in __post_init__; ClassVar keeps them out of the
        # dataclass fields as the type checker sees them.
        _index: ClassVar[dict[str, Any]]
        _level_rank: ClassVar[dict[str, int]]
        _items: ClassVar[tuple[Item, ...]]

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
    flags: tuple[Flag, ...] = ()
    consistency: tuple[ConsistencyRule, ...] = ()
    #: the languages texts may use; the first is in every text. ("ja", "en") unless declared.
    languages: tuple[str, ...] = LEGACY_LANGUAGES
    #: whether some layer declared `languages` (only then is it part of the content)
    languages_declared: bool = False
    #: the parent this pack was resolved on, `id@x.y.z#<64 hex>` (None for a base pack)
    parent_ref: str | None = field(default=None, compare=False)
    #: whether the parent was fixed by a lock (pack.lock or a lock given by the caller), rather
    #: than being the newest version matching `extends`
    parent_locked: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, Any] = {}
        for group in (self.levels, self.questions, self.rules, self.blocking, self.flags,
                      self.consistency, self.steps):
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
    def _get(self, kind: type[_Element], el_id: str, what: str) -> _Element:
        el = self._index.get(el_id)
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

    def flag(self, flag_id: str) -> Flag:
        return self._get(Flag, flag_id, "flag")

    def consistency_rule(self, rule_id: str) -> ConsistencyRule:
        return self._get(ConsistencyRule, rule_id, "consistency rule")

    # -- levels and steps as the pack describes them ----------------------------------------
    def high_risk_levels(self) -> tuple[str, ...]:
        """Ids of the levels that count as high risk (CAIO portfolio, reports), low to high."""
        return tuple(lv.id for lv in self.levels if lv.high_risk)

    def out_of_scope_levels(self) -> tuple[str, ...]:
        """Ids of the levels meaning "outside the guideline" (left out of periodic reports)."""
        return tuple(lv.id for lv in self.levels if lv.out_of_scope)

    def steps_of_kind(self, kind: str) -> tuple[Step, ...]:
        """The steps of one kind (`report`, `consultation`, `operation`), in pack order."""
        if kind not in STEP_KINDS:
            raise NotFoundError(f"unknown step kind {kind!r} (kinds: {', '.join(STEP_KINDS)})", kind=kind)
        return tuple(s for s in self.steps if s.kind == kind)

    def report_steps(self, result: Any) -> tuple[Step, ...]:
        """The `report` and `consultation` steps that apply to a classification result (those
        the reviewer must see recorded before approval), in pack order."""
        required = set(result.required_steps)
        return tuple(s for s in self.steps if s.kind in ("report", "consultation") and s.id in required)

    def text(self, texts: Mapping[str, str] | None, lang: str | None) -> str | None:
        """`pick_text` with this pack's languages: `lang` when present, else the first language."""
        return pick_text(texts, lang, self.languages)

    def element(self, el_id: str) -> Any | None:
        """Any element by id (ids are unique across a pack), or None."""
        return self._index.get(el_id)

    @property
    def items(self) -> tuple[Item, ...]:
        """Every checklist item, in checklist order."""
        return self._items

    def level_rank(self, level_id: str) -> int:
        """Position of a level, low to high (out_of_scope = 0 in the national pack)."""
        try:
            return self._level_rank[level_id]
        except KeyError:
            raise NotFoundError(f"pack {self.key} has no level {level_id!r}", pack=self.key, id=level_id) from None

    # -- serialisation ----------------------------------------------------------------------
    def content_dict(self) -> dict[str, Any]:
        """Everything that defines the pack's behaviour and texts (the fingerprinted content).

        Keys added to the format later (`languages`, `flags`, `consistency`, and the optional
        keys of elements) appear only when a pack uses them, so older packs keep their
        fingerprints."""
        out = {
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
        if self.languages_declared:
            out["languages"] = list(self.languages)
        if self.flags:
            out["flags"] = [x.to_dict() for x in self.flags]
        if self.consistency:
            out["consistency"] = [x.to_dict() for x in self.consistency]
        return out

    def legacy_defaults(self) -> dict[str, dict[str, dict[str, Any]]]:
        """The values filled from the legacy table (`legacy.py`): {"levels": {id: {key: value}},
        "steps": {...}}, only the elements that have some."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        levels = {lv.id: {k: getattr(lv, k) for k in lv.legacy} for lv in self.levels if lv.legacy}
        steps = {s.id: {k: _declared({k: getattr(s, k)})[k] for k in s.legacy} for s in self.steps if s.legacy}
        if levels:
            out["levels"] = levels
        if steps:
            out["steps"] = steps
        return out

    def to_dict(self) -> dict[str, Any]:
        """The resolved pack as JSON-ready data, with fingerprint and ref; plus, outside the
        fingerprinted content, `parent` {ref, locked} and the `legacy_defaults` applied."""
        out = {**self.content_dict(), "fingerprint": self.fingerprint, "ref": self.ref}
        if self.parent_ref is not None:
            out["parent"] = {"ref": self.parent_ref, "locked": self.parent_locked}
        legacy = self.legacy_defaults()
        if legacy:
            out["legacy_defaults"] = legacy
        return out


def canonical_json(data: Any) -> str:
    """The canonical serialisation hashed for fingerprints: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
