"""Docs and schema stay complete: every condition type and every key of the format is documented
and used by a pack that has pack tests, so is every key of a pack-test case, the legacy table and
the closed vocabularies are documented, and the committed JSON Schema matches the model."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import jsonschema
import pytest
from pydantic import BaseModel

from procurement import config
from procurement.packs import CONDITIONS, ITEM_STATUSES, STEP_KINDS
from procurement.packs import model as m
from procurement.packs.legacy import LEGACY_LEVELS, LEGACY_STEPS
from procurement.packs.model import (
    ELEMENT_MODELS,
    Extends,
    Option,
    Override,
    PackFile,
    Remove,
    Source,
)
from procurement.packs.packtests import Case, Expect, read_case_file
from procurement.packs.schema import pack_json_schema, render_schema
from procurement.packs.yamlreader import read_yaml

ROOT = config.PROJECT_ROOT
DOC = (ROOT / "docs" / "rule-packs.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(CONDITIONS))
def test_every_condition_type_is_documented(name):
    assert re.search(rf"^### `{name}`", DOC, re.MULTILINE), f"docs/rule-packs.md has no section for {name}"


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


FORMAT_MODELS = [PackFile, Source, Option, Extends, Override, Remove, *ELEMENT_MODELS.values()]


@pytest.mark.parametrize("model", FORMAT_MODELS, ids=lambda m: m.__name__)
def test_every_key_of_the_format_is_documented(model):
    for key in model.model_fields:
        assert f"`{key}`" in DOC, f"key {key} of {model.__name__} is not documented"


def _keys_used(node, found: set[tuple[str, str]]) -> None:
    if isinstance(node, BaseModel) and not isinstance(node, m.Text):
        for key in node.model_fields_set:
            found.add((type(node).__name__, key))
            _keys_used(getattr(node, key), found)
    elif isinstance(node, list):
        for value in node:
            _keys_used(value, found)


def test_every_key_of_the_format_is_used_by_a_pack_with_pack_tests():
    used: set[tuple[str, str]] = set()
    for f in _pack_files_with_tests():
        raw, _ = read_yaml(f.read_bytes())
        _keys_used(PackFile.model_validate(raw), used)
    missing = sorted(f"{model.__name__}.{key}" for model in FORMAT_MODELS for key in model.model_fields
                     if (model.__name__, key) not in used)
    assert missing == []


def test_every_key_of_a_pack_test_case_is_documented_and_used():
    used: set[str] = set()
    for f in _pack_files_with_tests():
        for test_file in sorted((f.parent / "tests").glob("*.yaml")):
            cases, errors = read_case_file(test_file)
            assert not errors, errors
            for case, _line in cases:
                used |= case.model_fields_set | case.expect.model_fields_set
    for key in [*Case.model_fields, *Expect.model_fields]:
        assert f"`{key}`" in DOC, f"pack-test key {key} is not documented"
    assert sorted((set(Case.model_fields) | set(Expect.model_fields)) - used) == []


def test_the_legacy_table_and_the_closed_vocabularies_are_documented():
    table = DOC[DOC.index("### Legacy defaults"):DOC.index("### Questions")]
    for level_id, keys in LEGACY_LEVELS.items():
        row = next(line for line in table.splitlines() if line.startswith(f"| level | `{level_id}` |"))
        for key, value in keys.items():
            shown = str(value).lower() if isinstance(value, bool) else value
            assert f"`{key}: {shown}`" in row, (level_id, key)
    for step_id, keys in LEGACY_STEPS.items():
        row = next(line for line in table.splitlines() if line.startswith(f"| step | `{step_id}`"))
        assert f"`kind: {keys['kind']}`" in row and keys["body"]["ja"] in row and keys["body"]["en"] in row
    for word in [*ITEM_STATUSES, *STEP_KINDS, "neutral", "info", "success", "warning", "danger"]:
        assert f"`{word}`" in DOC, word


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
