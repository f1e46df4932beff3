"""One broken fixture per loader error kind (tests/packs/broken/<kind>/), each with a test on its
message: the file, the line, the element path and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from procurement.packs import PackLoadError, PackRegistry, load_pack_dir
from procurement.packs.yamlreader import MAX_BYTES

HERE = Path(__file__).parent
BROKEN = HERE / "broken"
FIXTURES = HERE / "fixtures"


def load_errors(kind: str, parents: PackRegistry | None = None) -> list[str]:
    with pytest.raises(PackLoadError) as info:
        load_pack_dir(BROKEN / kind, parents=parents)
    return [str(e) for e in info.value.errors]


@pytest.fixture(scope="module")
def mini_registry() -> PackRegistry:
    return PackRegistry.from_roots([FIXTURES / "mini"])


# (kind, line, element path, message fragment)
ROOT_CASES = [
    ("yaml_syntax", 5, "(pack)", "YAML syntax error: while parsing a flow mapping"),
    ("duplicate_key", 10, "(pack)", "duplicate key 'license'"),
    ("unknown_key", 16, "questions[Q-1]", "unknown key 'colour' (allowed: id, text, help, step, options,"),
    ("wrong_type", 18, "questions[Q-1].required", "valid boolean; got 'true'"),
    ("missing_text", 18, "questions[Q-1].text", "missing key 'en'"),
    ("bad_provenance", 22, "questions[Q-1].provenance", "expected 'confirmed', 'secondary' or 'inferred'; got 'official'"),
    ("bad_version", 3, "version", "expected a version X.Y.Z (SemVer); got '1.0'"),
    ("unknown_condition", 43, "rules[R-1].when", "unknown condition type 'answer_is' (known: all, answer_equals,"),
    ("unknown_question", 43, "rules[R-1].when.answer_equals.question", "unknown question 'Q-9'"),
    ("unknown_option", 43, "rules[R-1].when.answer_equals.value", "question 'Q-2' has no option 'maybe' (options: no, yes)"),
    ("unknown_step", 57, "checklists[list].step", "unknown step 'review' (steps: ask, check)"),
    ("unknown_level", 42, "rules[R-1].level", "unknown level 'critical' (levels: none, low, high)"),
    ("duplicate_id", 65, "checklists[list].items[I-1].id", "duplicate id 'I-1' (first used on line 59)"),
    ("duplicate_option", 21, "questions[Q-1].options[1].value", "duplicate option value 'no'"),
    ("level_condition_in_rule", 43, "rules[R-1].when.level_at_least", "needs the classification level, which is not known in when of rule R-1"),
    ("forward_reference", 19, "questions[Q-1].applies_when.answered.question", "may only refer to questions declared before it"),
    ("bad_count", 43, "rules[R-1].when.count_in.at_least", "at_least must be between 1 and 2; got 3"),
    ("unknown_tag", 9, "(pack)", "tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"),
    ("alias_bomb", 7, "(pack)", "more than 200000 values (after expanding aliases)"),
    ("deep_nesting", 2, "(pack)", "nesting deeper than 40 levels"),
    ("missing_parent", 10, "extends", "missing parent: no pack 'nowhere' with a version in '>=1.0.0,<2.0.0'"),
    ("bad_range", 10, "extends.version", "bad version range 'about 1'"),
]

CHILD_CASES = [
    ("silent_clash", 15, "checklists[list].items[I-1].id", "id 'I-1' is already defined by mini@1.0.0; to change it list it under overrides"),
    ("override_unknown", 12, "overrides[I-9].id", "mini@1.0.0 has no element 'I-9' to override"),
    ("override_bad_field", 12, "overrides[I-1]", "unknown key 'weight' (allowed: id, text, help, category,"),
    ("remove_unknown", 12, "removes[R-9].id", "mini@1.0.0 has no element 'R-9' to remove"),
    ("remove_breaks_reference", 11, "removes", "rule R-1 (inherited from mini@1.0.0): unknown question 'Q-2'"),
    ("extend_unknown_checklist", 12, "checklists[other].id", "extend: true needs an existing checklist 'other' in mini@1.0.0"),
]


@pytest.mark.parametrize("kind,line,path,fragment", ROOT_CASES, ids=[c[0] for c in ROOT_CASES])
def test_root_pack_error_names_file_line_path_and_problem(kind, line, path, fragment):
    errors = load_errors(kind)
    assert len(errors) == 1, errors
    prefix = f"{BROKEN / kind / 'pack.yaml'}:{line}: {path}: "
    assert errors[0].startswith(prefix), errors[0]
    assert fragment in errors[0]


@pytest.mark.parametrize("kind,line,path,fragment", CHILD_CASES, ids=[c[0] for c in CHILD_CASES])
def test_child_pack_error_names_file_line_path_and_problem(kind, line, path, fragment, mini_registry):
    errors = load_errors(kind, parents=mini_registry)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{BROKEN / kind / 'pack.yaml'}:{line}: {path}: "), errors[0]
    assert fragment in errors[0]


def test_every_broken_fixture_has_a_test():
    tested = {c[0] for c in ROOT_CASES + CHILD_CASES} | {"multiple_errors", "inheritance_cycle"}
    assert {p.name for p in BROKEN.iterdir() if p.is_dir()} == tested


def test_every_error_of_a_pack_is_reported_at_once():
    errors = load_errors("multiple_errors")
    assert [e.split(": ", 2)[1] for e in errors] == [
        "rules[R-1].level", "rules[R-1].when.answer_equals.question", "checklists[list].step",
    ]


def test_inheritance_cycle_is_refused_naming_the_cycle():
    with pytest.raises(PackLoadError) as info:
        PackRegistry.from_roots([BROKEN / "inheritance_cycle"])
    text = str(info.value)
    assert "inheritance cycle: cycle-a@1.0.0 -> cycle-b@1.0.0 -> cycle-a@1.0.0" in text
    assert "cycle-b/pack.yaml:10: extends: parent cycle-a@1.0.0 could not be loaded" in text


def test_non_strict_discover_keeps_the_valid_packs_and_the_errors():
    registry = PackRegistry.from_roots([FIXTURES, BROKEN / "inheritance_cycle"], strict=False)
    assert registry.ids() == ["mini", "vocab"]
    assert len(registry.errors) == 2


def test_an_oversized_file_is_refused_before_parsing(tmp_path):
    pack = tmp_path / "big"
    pack.mkdir()
    (pack / "pack.yaml").write_text("# " + "x" * MAX_BYTES + "\nid: big\n")
    errors = [str(e) for e in pytest.raises(PackLoadError, load_pack_dir, pack).value.errors]
    assert errors == [f"{pack / 'pack.yaml'}:0: (pack): file is {MAX_BYTES + 11} bytes; the limit is {MAX_BYTES} bytes"]


def test_a_missing_folder_is_an_error_not_a_traceback(tmp_path):
    errors = pytest.raises(PackLoadError, load_pack_dir, tmp_path / "nowhere").value.errors
    assert "cannot read the file" in errors[0].message

