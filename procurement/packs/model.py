"""The rule-pack file format as pydantic models (strict: unknown keys are errors).

These models describe what a `pack.yaml` may contain; conditions are kept declarative here (a
mapping checked and compiled by `conditions.py`). The JSON Schema in `rules/pack.schema.json` is
generated from `PackFile` (see `schema.py`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]
PackId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
SemVer = Annotated[str, StringConstraints(pattern=r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")]
NonEmpty = Annotated[str, StringConstraints(min_length=1, strip_whitespace=False)]
Provenance = Literal["confirmed", "secondary", "inferred"]
#: A condition (see conditions.py); validated and compiled by the loader, not by pydantic.
Condition = Annotated[dict[str, Any], WithJsonSchema({"x-condition": True})]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Text(_Strict):
    """A user-visible string in Japanese and English."""

    ja: NonEmpty
    en: NonEmpty


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


class Question(_Strict):
    id: Id
    text: Text
    help: Text | None = None
    step: Id
    options: list[Option] = Field(min_length=1)
    required: bool = True
    applies_when: Condition | None = None
    provenance: Provenance
    source: Source


class Level(_Strict):
    id: Id
    label: Text
    help: Text | None = None
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


class Item(_Strict):
    id: Id
    text: Text
    help: Text | None = None
    category: Id
    required_when: Condition | None = None
    recommended_when: Condition | None = None
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
    default_level: Id | None = None
    levels: list[Level] = Field(default_factory=list)
    questions: list[Question] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    blocking: list[Blocking] = Field(default_factory=list)
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
    "steps": Step,
    "items": Item,
    "checklists": Checklist,
}
