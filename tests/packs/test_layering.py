"""Layering, fingerprints and the registry: extends, overrides, removes, layers, references."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from procurement.errors import ConflictError, InputError, NotFoundError
from procurement.packs import PackLoadError, PackRegistry, canonical_json, classify, load_pack_dir
from procurement.packs.loader import parse_range

FIXTURES = Path(__file__).parent / "fixtures"

CHILD = """id: mini-child
version: 1.0.0
title: {ja: 子パック, en: Child pack}
edition: 2026-02-01
effective_from: 2026-02-01
publisher: {ja: テスト, en: Test}
source: {document: test fixture}
license: CC0-1.0
extends: {id: mini, version: "1"}
"""


def write_pack(root: Path, name: str, text: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "pack.yaml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture()
def mini_root(tmp_path) -> Path:
    shutil.copytree(FIXTURES / "mini", tmp_path / "mini")
    return tmp_path


def test_city_elements_record_their_layer(city_strict):
    assert city_strict.layers == ("jp-national@2.0.0", "city-strict@1.0.0")
    assert city_strict.extends == {"id": "jp-national", "version": ">=2.0.0,<3.0.0", "resolved": "jp-national@2.0.0"}
    assert city_strict.question("SC-1").layer == "jp-national@2.0.0"
    assert city_strict.question("LQ-1").layer == "city-strict@1.0.0"
    assert city_strict.item("LG-1").layer == "city-strict@1.0.0"
    assert city_strict.item("LG-1").checklist == "procurement"
    assert city_strict.item("LG-2").checklist == "usage_rules"
    ur8 = city_strict.item("UR-8")
    assert ur8.layer == "city-strict@1.0.0"
    assert ur8.override["replaces"] == "jp-national@2.0.0"
    assert ur8.override["fields"] == ["recommended_when", "required_when"]
    assert ur8.override["reason"]["ja"].startswith("市では")
    assert ur8.recommended_when is None
    assert [i.id for i in city_strict.checklist("procurement").items][-1] == "LG-1"


def test_to_dict_carries_provenance_source_and_layer_for_every_element(city_strict):
    data = city_strict.to_dict()
    assert data["ref"] == city_strict.ref
    items = [it for cl in data["checklists"] for it in cl["items"]]
    assert all({"provenance", "source", "layer"} <= set(it) for it in items)
    assert next(it for it in items if it["id"] == "UR-5")["override"]["layer"] == "city-strict@1.0.0"


def test_fingerprint_is_sha256_of_the_canonical_form(national_v2):
    import hashlib

    assert national_v2.fingerprint == hashlib.sha256(
        canonical_json(national_v2.content_dict()).encode()).hexdigest()
    assert national_v2.ref == f"jp-national@2.0.0#{national_v2.fingerprint[:12]}"


def test_fingerprint_changes_with_content_but_not_with_formatting(tmp_path):
    text = (FIXTURES / "mini" / "pack.yaml").read_text(encoding="utf-8")
    a = load_pack_dir(write_pack(tmp_path, "a", text))
    b = load_pack_dir(write_pack(tmp_path, "b", "# another comment\n" + text.replace(
        "title: {ja: 最小のパック, en: Minimal pack}", "title:\n  en: Minimal pack\n  ja: 最小のパック")))
    c = load_pack_dir(write_pack(tmp_path, "c", text.replace("en: Item 1}", "en: Item one}")))
    assert a.fingerprint == b.fingerprint
    assert a.fingerprint != c.fingerprint


def test_a_child_resolves_to_the_newest_matching_parent(mini_root):
    mini2 = (mini_root / "mini" / "pack.yaml").read_text(encoding="utf-8").replace("version: 1.0.0", "version: 1.2.0")
    write_pack(mini_root, "mini-1.2", mini2)
    write_pack(mini_root, "mini-2", mini2.replace("version: 1.2.0", "version: 2.0.0"))
    write_pack(mini_root, "child", CHILD)
    registry = PackRegistry.from_roots([mini_root])
    assert registry.resolve("mini-child").extends["resolved"] == "mini@1.2.0"
    assert registry.resolve("mini").version == "2.0.0"
    assert registry.resolve("mini@1").version == "1.2.0"
    assert [p.version for p in registry.versions("mini")] == ["1.0.0", "1.2.0", "2.0.0"]


def test_a_child_may_extend_a_parent_under_another_root(mini_root, tmp_path_factory):
    other = tmp_path_factory.mktemp("city")
    write_pack(other, "child", CHILD)
    registry = PackRegistry.from_roots([other, mini_root])
    assert registry.resolve("mini-child").layers == ("mini@1.0.0", "mini-child@1.0.0")


def test_overrides_and_removes_apply_with_their_reasons(mini_root):
    write_pack(mini_root, "child", CHILD + """removes:
  - {id: I-2, reason: {ja: 不要, en: Not needed}}
overrides:
  - id: R-1
    reason: {ja: 厳しくする, en: Stricter}
    level: low
questions:
  - id: Q-3
    step: ask
    text: {ja: 追加の質問, en: Added question}
    options:
      - {value: "yes", label: {ja: はい, en: "Yes"}}
    provenance: inferred
    source: {document: test fixture}
""")
    child = PackRegistry.from_roots([mini_root]).resolve("mini-child")
    assert [i.id for i in child.items] == ["I-1"]
    assert child.rule("R-1").level == "low"
    assert child.rule("R-1").override["reason"]["en"] == "Stricter"
    assert child.question("Q-3").layer == "mini-child@1.0.0"
    result = classify(child, {"Q-1": "yes", "Q-2": "yes", "Q-3": "yes"})
    assert result.level == "low"
    with pytest.raises(NotFoundError):
        child.item("I-2")


def test_a_child_cannot_add_levels_or_change_the_default_level(mini_root):
    write_pack(mini_root, "child", CHILD + """default_level: high
levels:
  - {id: extreme, label: {ja: 極, en: Extreme}, provenance: inferred, source: {document: x}}
""")
    with pytest.raises(PackLoadError) as info:
        PackRegistry.from_roots([mini_root])
    messages = [e.message for e in info.value.errors]
    assert any("a child pack cannot add levels" in m for m in messages)
    assert any("default_level comes from the base pack" in m for m in messages)


def test_an_override_that_breaks_the_element_is_reported_on_the_override(mini_root):
    write_pack(mini_root, "child", CHILD + """overrides:
  - id: R-1
    reason: {ja: 理由, en: Reason}
    when: {answer_equals: {question: Q-2, value: "perhaps"}}
""")
    with pytest.raises(PackLoadError) as info:
        PackRegistry.from_roots([mini_root])
    assert [str(e).split(": ", 1)[1] for e in info.value.errors] == [
        "overrides[R-1].when.answer_equals.value: question 'Q-2' has no option 'perhaps' (options: no, yes)"
    ]


def test_a_root_pack_cannot_override(tmp_path):
    text = (FIXTURES / "mini" / "pack.yaml").read_text(encoding="utf-8")
    folder = write_pack(tmp_path, "p", text + "overrides:\n  - {id: R-1, reason: {ja: 理由, en: Reason}, level: low}\n")
    with pytest.raises(PackLoadError, match="a pack that extends nothing has nothing to override"):
        load_pack_dir(folder)


def test_registry_add_refuses_the_same_version_with_other_content(tmp_path, mini_root):
    registry = PackRegistry.from_roots([mini_root])
    text = (FIXTURES / "mini" / "pack.yaml").read_text(encoding="utf-8").replace("en: Item 1}", "en: Changed}")
    changed = load_pack_dir(write_pack(tmp_path, "changed", text))
    with pytest.raises(ConflictError, match="publish changes under a new version"):
        registry.add(changed)
    registry.add(registry.resolve("mini"))  # the same content again is fine
    assert len(registry) == 1


def test_the_same_version_twice_under_the_rules_is_an_error(mini_root):
    shutil.copytree(mini_root / "mini", mini_root / "copy")
    with pytest.raises(PackLoadError, match="mini@1.0.0 is also defined in"):
        PackRegistry.from_roots([mini_root])


def test_references_resolve_by_major_exact_version_and_fingerprint(registry, national_v2):
    assert registry.resolve("jp-national").version == "2.1.0"
    assert registry.resolve("jp-national@2").version == "2.1.0"
    assert registry.resolve("jp-national@2.0").version == "2.0.0"
    assert registry.resolve("jp-national@1").version == "1.0.0"
    assert registry.resolve("jp-national@2.0.0") is national_v2
    assert registry.resolve(national_v2.ref) is national_v2
    assert "jp-national@2" in registry and "jp-national@3" not in registry
    with pytest.raises(NotFoundError, match="its content changed"):
        registry.resolve("jp-national@2.0.0#000000000000")
    with pytest.raises(NotFoundError, match="no pack matches 'jp-national@9'"):
        registry.resolve("jp-national@9")
    with pytest.raises(InputError, match="bad pack reference"):
        registry.resolve("JP national")


@pytest.mark.parametrize(
    "text,yes,no",
    [
        (">=2.0.0,<3.0.0", [(2, 0, 0), (2, 9, 1)], [(1, 9, 9), (3, 0, 0)]),
        ("2", [(2, 0, 0), (2, 5, 0)], [(3, 0, 0)]),
        ("2.1", [(2, 1, 0), (2, 1, 7)], [(2, 2, 0)]),
        ("==2.1.3", [(2, 1, 3)], [(2, 1, 4)]),
        (">1.0.0, <=2.0.0", [(1, 0, 1), (2, 0, 0)], [(1, 0, 0), (2, 0, 1)]),
    ],
)
def test_version_ranges(text, yes, no):
    match = parse_range(text)
    assert all(match(v) for v in yes) and not any(match(v) for v in no)


def test_discover_uses_the_environment_override(monkeypatch, mini_root):
    monkeypatch.setenv("PROCUREMENT_RULES_DIR", str(mini_root))
    assert PackRegistry.discover().ids() == ["mini"]


def test_every_shipped_pack_validates(registry, rules_dir):
    files = sorted(rules_dir.rglob("pack.yaml"))
    assert len(files) == len(registry) == 7
