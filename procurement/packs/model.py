"""The rule-pack file format as pydantic models (strict: unknown keys are errors).

These models describe what a `pack.yaml` may contain; conditions are kept declarative here (a
mapping checked and compiled by `conditions.py`), and so are texts: which languages a text may
and must hold depends on the pack's `languages` and is checked by the loader. The JSON Schema in
`rules/pack.schema.json` is generated from `PackFile` (see `schema.py`).

Optional keys added after the first published packs (`languages`, level `tone` ...) default to
None, meaning "absent": the loader leaves absent keys out of the fingerprinted content, so the
published packs keep their fingerprints.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    WithJsonSchema,
)

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]
PackId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
SemVer = Annotated[str, StringConstraints(pattern=r"^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})$")]
NonEmpty = Annotated[str, StringConstraints(min_length=1, strip_whitespace=False)]
#: A BCP-47-style language code: `ja`, `en`, `pt-BR`, `zh-Hant` (checked again by the loader).
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
LangCode = Annotated[str, StringConstraints(pattern=LANGUAGE_PATTERN, max_length=35)]
Provenance = Literal["confirmed", "secondary", "inferred"]
#: A condition (see conditions.py); validated and compiled by the loader, not by pydantic.
Condition = Annotated[dict[str, Any], WithJsonSchema({"x-condition": True})]
#: Level tones: the UI maps them to colours and always shows the label as well.
Tone = Literal["neutral", "info", "success", "warning", "danger"]
StepKind = Literal["report", "consultation", "operation"]
QuestionKind = Literal["choice", "text"]
#: Points of one option (bounded so that sums over a large pack stay readable).
Points = Annotated[int, Field(ge=-1000, le=1000)]
#: The default and the largest `max_length` of a free-text question (characters).
TEXT_MAX_LENGTH_DEFAULT = 2000
TEXT_MAX_LENGTH_LIMIT = 20000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Text(RootModel[dict[str, NonEmpty]]):
    """A user-visible string per language, e.g. `{ja: ..., en: ...}`. Every text holds the pack's
    first language; other keys must be declared in `languages` (checked by the loader)."""

    model_config = ConfigDict(
        strict=True, frozen=True,
        json_schema_extra={"propertyNames": {"pattern": LANGUAGE_PATTERN}, "minProperties": 1},
    )

    def as_dict(self) -> dict[str, str]:
        return dict(self.root)


class Source(_Strict):
    """Where an element comes from: the document, and where in it."""

    document: NonEmpty
    locator: NonEmpty | None = None
    url: NonEmpty | None = None
    note: NonEmpty | None = None


class Option(_Strict):
    value: Id
    label: Text
    help: Text | None = None
    points: Points | None = None


class Question(_Strict):
    id: Id
    text: Text
    help: Text | None = None
    step: Id
    options: list[Option] = Field(default_factory=list)
    kind: QuestionKind | None = None
    multiple: bool | None = None
    max_length: Annotated[int, Field(ge=1, le=TEXT_MAX_LENGTH_LIMIT)] | None = None
    required: bool = True
    applies_when: Condition | None = None
    provenance: Provenance
    source: Source


class Level(_Strict):
    id: Id
    label: Text
    help: Text | None = None
    tone: Tone | None = None
    high_risk: bool | None = None
    out_of_scope: bool | None = None
    next_steps: Text | None = None
    provenance: Provenance
    source: Source


class Rule(_Strict):
    id: Id
    level: Id
    when: Condition
    stop: bool = False
    message: Text
    provenance: Provenance
    source: Source


class Blocking(_Strict):
    id: Id
    when: Condition
    message: Text
    provenance: Provenance
    source: Source


class Consistency(_Strict):
    """A consistency rule: a warning shown to planner and reviewer when `when` is true."""

    id: Id
    when: Condition
    message: Text
    provenance: Provenance
    source: Source


class Flag(_Strict):
    """A flag: a short label (and a message) attached to a case when `when` is true."""

    id: Id
    label: Text
    message: Text
    when: Condition
    provenance: Provenance
    source: Source


class Item(_Strict):
    id: Id
    text: Text
    help: Text | None = None
    category: Id
    required_when: Condition | None = None
    recommended_when: Condition | None = None
    evidence_required: bool | None = None
    provenance: Provenance
    source: Source


class Checklist(_Strict):
    """A checklist; in a child pack `extend: true` adds items to the parent's checklist of that id."""

    id: Id
    title: Text | None = None
    step: Id | None = None
    extend: bool = False
    items: list[Item] = Field(default_factory=list)


class Step(_Strict):
    id: Id
    title: Text
    help: Text | None = None
    applies_when: Condition | None = None
    kind: StepKind | None = None
    body: Text | None = None
    provenance: Provenance
    source: Source


class Extends(_Strict):
    id: PackId
    version: NonEmpty


class Override(BaseModel):
    """Replaces fields of a parent element: `id`, `reason`, and the replaced fields."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    id: Id
    reason: Text


class Remove(_Strict):
    id: Id
    reason: Text


class PackFile(_Strict):
    """The top level of `pack.yaml`."""

    id: PackId
    version: SemVer
    title: Text
    description: Text | None = None
    edition: dt.date
    effective_from: dt.date
    publisher: Text
    source: Source
    extends: Extends | None = None
    license: NonEmpty
    languages: Annotated[list[LangCode], Field(min_length=1, max_length=20)] | None = None
    default_level: Id | None = None
    levels: list[Level] = Field(default_factory=list)
    questions: list[Question] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    blocking: list[Blocking] = Field(default_factory=list)
    flags: list[Flag] = Field(default_factory=list)
    consistency: list[Consistency] = Field(default_factory=list)
    checklists: list[Checklist] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)
    overrides: list[Override] = Field(default_factory=list)
    removes: list[Remove] = Field(default_factory=list)


#: Element kinds that carry ids, in the order they are resolved, with their models.
ELEMENT_MODELS: dict[str, type[_Strict]] = {
    "levels": Level,
    "questions": Question,
    "rules": Rule,
    "blocking": Blocking,
    "flags": Flag,
    "consistency": Consistency,
    "steps": Step,
    "items": Item,
    "checklists": Checklist,
}
