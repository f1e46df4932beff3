"""Docs and schema stay complete: every condition type is documented and exercised by a pack
test, every pack key is documented, and the committed JSON Schema matches the model."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import jsonschema
import pytest

from procurement import config
from procurement.packs import CONDITIONS
from procurement.packs.model import ELEMENT_MODELS, Extends, Option, Override, PackFile, Source
from procurement.packs.schema import pack_json_schema, render_schema
from procurement.packs.yamlreader import read_yaml

ROOT = config.PROJECT_ROOT
DOC = (ROOT / "docs" / "rule-packs.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(CONDITIONS))
def test_every_condition_type_is_documented(name):
    assert re.search(rf"^### `{name}`", DOC, re.M), f"docs/rule-packs.md has no section for {name}"


def _pack_files_with_tests() -> list[Path]:
    files = sorted((ROOT / "rules").rglob("pack.yaml")) + sorted((ROOT / "tests").rglob("pack.yaml"))
    return [f for f in files if list((f.parent / "tests").glob("*.yaml"))]


def _condition_names(node, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in CONDITIONS:
                found.add(key)
            _condition_names(value, found)
    elif isinstance(node, list):
        for value in node:
            _condition_names(value, found)


def test_every_condition_type_is_used_by_a_pack_with_pack_tests():
    used: set[str] = set()
    for f in _pack_files_with_tests():
        raw, _ = read_yaml(f.read_bytes())
        _condition_names(raw, used)
    assert set(CONDITIONS) <= used, sorted(set(CONDITIONS) - used)


@pytest.mark.parametrize("model", [PackFile, Source, Option, Extends, Override, *ELEMENT_MODELS.values()],
                         ids=lambda m: m.__name__)
def test_every_key_of_the_format_is_documented(model):
    for key in model.model_fields:
        assert f"`{key}`" in DOC, f"key {key} of {model.__name__} is not documented"


def test_the_committed_schema_is_up_to_date():
    committed = (ROOT / "rules" / "pack.schema.json").read_text(encoding="utf-8")
    assert committed == render_schema(), "regenerate: python -m procurement.packs.schema > rules/pack.schema.json"


def _jsonable(node):
    if isinstance(node, dict):
        return {k: _jsonable(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_jsonable(v) for v in node]
    if isinstance(node, dt.date):
        return node.isoformat()
    return node


@pytest.mark.parametrize("path", sorted((ROOT / "rules").rglob("pack.yaml")), ids=lambda p: str(p.parent.name))
def test_shipped_packs_conform_to_the_schema(path):
    raw, _ = read_yaml(path.read_bytes())
    jsonschema.validate(_jsonable(raw), pack_json_schema())


def test_the_schema_refuses_an_unknown_condition_type():
    raw, _ = read_yaml((ROOT / "tests" / "packs" / "broken" / "unknown_condition" / "pack.yaml").read_bytes())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(_jsonable(raw), pack_json_schema())
