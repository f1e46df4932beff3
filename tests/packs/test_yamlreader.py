"""The strict YAML reader: safe values, line numbers, and refusal of hostile input."""

from __future__ import annotations

import datetime as dt

import pytest

from procurement.packs.yamlreader import MAX_ALIASES, YamlError, read_yaml


def test_values_and_lines_are_kept():
    value, lines = read_yaml("a: 1\nb:\n  - x\n  - {c: 2026-06-12}\n")
    assert value == {"a": 1, "b": ["x", {"c": dt.date(2026, 6, 12)}]}
    assert lines[("a",)] == 1
    assert lines[("b",)] == 2
    assert lines[("b", 1, "c")] == 4


def test_yes_and_no_stay_strings_while_true_and_false_are_booleans():
    value, _ = read_yaml("a: yes\nb: no\nc: on\nd: true\ne: False\n")
    assert value == {"a": "yes", "b": "no", "c": "on", "d": True, "e": False}


def test_duplicate_keys_are_refused_with_their_line_and_place():
    with pytest.raises(YamlError) as info:
        read_yaml("top:\n  a: 1\n  b: 2\n  a: 3\n")
    assert info.value.line == 4
    assert "duplicate key 'a' in top" in info.value.message


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("a: !!python/object/apply:os.system [echo]\n", "is not allowed"),
        ("a: !custom x\n", "is not allowed"),
        ("base: &b {x: 1}\nother:\n  <<: *b\n", "merge keys (<<) are not allowed"),
        ("a: 1\n---\nb: 2\n", "only one YAML document per file"),
        ("", "the file is empty"),
        ("? [a, b]\n: 1\n", "a mapping key must be a plain value"),
        ("a: *nowhere\n", "unknown alias *nowhere"),
    ],
)
def test_unsafe_or_ambiguous_yaml_is_refused(text, fragment):
    with pytest.raises(YamlError) as info:
        read_yaml(text)
    assert fragment in info.value.message


def test_a_few_aliases_are_fine_but_not_too_many():
    value, _ = read_yaml("a: &x [1, 2]\nb: *x\n")
    assert value["b"] == [1, 2]
    many = "a: &x 1\nb: [" + ", ".join(["*x"] * (MAX_ALIASES + 1)) + "]\n"
    with pytest.raises(YamlError) as info:
        read_yaml(many)
    assert f"more than {MAX_ALIASES} aliases" in info.value.message


def test_size_limit_is_checked_on_bytes():
    with pytest.raises(YamlError) as info:
        read_yaml("a: " + "あ" * 10, max_bytes=20)
    assert info.value.message == "file is 33 bytes; the limit is 20 bytes"


def test_bytes_that_are_not_utf8_are_refused():
    with pytest.raises(YamlError) as info:
        read_yaml(b"a: \xff\n")
    assert "not UTF-8" in info.value.message
