"""Published packs keep their fingerprints, and a published child stays on the parent it was
published against (pack.lock), even when a newer matching parent is added."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from procurement.errors import NotFoundError
from procurement.packs import PackLoadError, PackRegistry, load_pack_dir
from procurement.packs.lock import LOCK_FILE

#: The published packs: these files are never edited, so these never change.
PUBLISHED = {
    "jp-national@1.0.0": "bab7afb0ffd686997b05639b6f483b53eba3a783d360af5bb2718c58f858e95e",
    "jp-national@2.0.0": "0b9c460358477e999a084fa8b097a34ef00837f285f133d04b5ca2ee386f5264",
    "city-strict@1.0.0": "39cc6efd5a3de73c9c7d49d72dbacf49bc70803a80e04ce1b8aa7c66ecdd0204",
}
V2_REF = f"jp-national@2.0.0#{PUBLISHED['jp-national@2.0.0']}"

EXTRA_ITEM = """      - id: PC-X1
        category: governance
        text:
          ja: 追加の項目（2.9.0で追加）。
          en: An added item (added in 2.9.0).
        required_when: {level_at_least: low}
        provenance: inferred
        source: {document: synthetic 2.9.0}
"""


@pytest.mark.parametrize("key", sorted(PUBLISHED))
def test_published_packs_keep_their_full_fingerprints(registry, key):
    assert registry.resolve(key).fingerprint == PUBLISHED[key]


def test_legacy_defaults_stay_out_of_the_published_content(national_v2, city_strict):
    content = national_v2.content_dict()
    assert "languages" not in content and "flags" not in content and "consistency" not in content
    assert all(set(lv) == {"id", "label", "help", "provenance", "source", "layer"} for lv in content["levels"])
    board = next(s for s in content["steps"] if s["id"] == "board_report")
    assert "kind" not in board and "body" not in board
    # ... while the resolved objects carry them, and to_dict says where they came from.
    assert national_v2.level("high").high_risk and national_v2.step("board_report").kind == "report"
    legacy = city_strict.to_dict()["legacy_defaults"]
    assert legacy["levels"]["high"] == {"high_risk": True, "tone": "danger"}
    assert legacy["steps"]["board_report"]["body"]["ja"] == "先進的AI利活用アドバイザリーボード"


@pytest.fixture()
def rules_with_v29(tmp_path, rules_dir) -> tuple[Path, Path]:
    """The shipped rules plus a synthetic jp-national 2.9.0 (v2 with one more item; newer than the
    shipped 2.1.0) in another root, and an unlocked copy of city-strict 1.0.0 (a pack being
    written) in a third."""
    newer = tmp_path / "newer" / "jp-national-2.9"
    newer.mkdir(parents=True)
    text = (rules_dir / "jp-national" / "v2" / "pack.yaml").read_text(encoding="utf-8")
    assert text.count("version: 2.0.0\n") == 1
    text = text.replace("version: 2.0.0\n", "version: 2.9.0\n")
    anchor = "      - id: PC-G2\n"
    assert text.count(anchor) == 1
    text = text.replace(anchor, EXTRA_ITEM + anchor)
    (newer / "pack.yaml").write_text(text, encoding="utf-8")
    draft = tmp_path / "drafts" / "city-draft"
    draft.mkdir(parents=True)
    city = (rules_dir / "city-strict" / "v1" / "pack.yaml").read_text(encoding="utf-8")
    (draft / "pack.yaml").write_text(city.replace("id: city-strict", "id: city-draft"), encoding="utf-8")
    return tmp_path / "newer", tmp_path / "drafts"


def test_a_newer_parent_changes_no_existing_pack(registry, rules_dir, rules_with_v29):
    newer, _ = rules_with_v29
    both = PackRegistry.from_roots([rules_dir, newer])
    assert both.resolve("jp-national").version == "2.9.0"
    assert both.resolve("jp-national@2.9.0").item("PC-X1")
    for pack in registry:
        again = both.resolve(pack.key)
        assert again.fingerprint == pack.fingerprint, pack.key
        assert again.extends == pack.extends and again.layers == pack.layers, pack.key
    city = both.resolve("city-strict@1")
    assert city.extends["resolved"] == "jp-national@2.0.0"
    assert city.parent_locked and city.parent_ref == V2_REF
    assert city.fingerprint == PUBLISHED["city-strict@1.0.0"]
    with pytest.raises(NotFoundError):
        city.item("PC-X1")


def test_an_unlocked_child_takes_the_newest_matching_parent(rules_dir, rules_with_v29):
    newer, drafts = rules_with_v29
    draft = PackRegistry.from_roots([rules_dir, newer, drafts]).resolve("city-draft")
    assert draft.extends["resolved"] == "jp-national@2.9.0"
    assert not draft.parent_locked and draft.parent_ref.startswith("jp-national@2.9.0#")
    assert draft.item("PC-X1").layer == "jp-national@2.9.0"


def test_load_pack_dir_reads_the_lock_and_a_caller_may_give_or_ignore_one(registry, rules_dir, rules_with_v29):
    newer, drafts = rules_with_v29
    parents = PackRegistry([*registry.versions("jp-national"), *PackRegistry.from_roots([newer])])
    city = load_pack_dir(rules_dir / "city-strict" / "v1", parents=parents)
    assert city.parent_locked and city.extends["resolved"] == "jp-national@2.0.0"
    unlocked = load_pack_dir(rules_dir / "city-strict" / "v1", parents=parents, lock=False)
    assert not unlocked.parent_locked and unlocked.extends["resolved"] == "jp-national@2.9.0"
    assert unlocked.fingerprint != city.fingerprint
    # A lock recorded elsewhere (an installed bundle): the draft has no pack.lock.
    given = load_pack_dir(drafts / "city-draft", parents=parents, lock=V2_REF[:30])
    assert given.parent_locked and given.parent_ref == V2_REF
    # The same content on the same parent: the lock is not part of the fingerprint.
    assert given.fingerprint == load_pack_dir(
        drafts / "city-draft", parents=PackRegistry([registry.resolve("jp-national@2.0.0")])).fingerprint


def _city_copy(tmp_path: Path, rules_dir: Path, lock_text: str | None) -> Path:
    folder = tmp_path / "city"
    shutil.copytree(rules_dir / "city-strict" / "v1", folder)
    if lock_text is None:
        (folder / LOCK_FILE).unlink()
    else:
        (folder / LOCK_FILE).write_text(lock_text, encoding="utf-8")
    return folder


def _errors(folder: Path, parents, **kwargs) -> list[str]:
    with pytest.raises(PackLoadError) as info:
        load_pack_dir(folder, parents=parents, **kwargs)
    return [str(e) for e in info.value.errors]


def test_a_locked_parent_that_is_not_loaded_is_an_error_naming_both(tmp_path, rules_dir, national_v1):
    folder = _city_copy(tmp_path, rules_dir, f"# lock\nextends: {V2_REF}\n")
    errors = _errors(folder, PackRegistry([national_v1]))
    assert errors == [
        (f"{folder / LOCK_FILE}:2: extends: missing parent: city-strict@1.0.0 is locked to "
        "jp-national@2.0.0#0b9c46035847, which is not loaded (extends 'jp-national' '>=2.0.0,<3.0.0')")
    ]


def test_a_locked_parent_with_other_content_is_an_error_naming_both(tmp_path, rules_dir, registry):
    folder = _city_copy(tmp_path, rules_dir, "extends: jp-national@2.0.0#0123456789ab\n")
    errors = _errors(folder, registry)
    assert len(errors) == 1
    assert errors[0].startswith(f"{folder / LOCK_FILE}:1: extends: locked parent jp-national@2.0.0#0123456789ab "
                                "differs from the loaded jp-national@2.0.0#0b9c46035847")
    assert "city-strict@1.0.0 was published against other content" in errors[0]


@pytest.mark.parametrize(
    "lock,fragment",
    [
        ("extends: jp-national@1.0.0#bab7afb0ffd6\n", "locked to jp-national@1.0.0#bab7afb0ffd6, outside the range '>=2.0.0,<3.0.0'"),
        ("extends: other-pack@2.0.0#0b9c46035847\n", "but the pack extends 'jp-national'"),
        ("extends: jp-national@2.0.0\n", "bad parent lock 'jp-national@2.0.0' (expected ID@X.Y.Z#FINGERPRINT"),
        ("extends: jp-national@2.0.0#0b9c46\n", "at least 12 hex digits"),
        ("parent: jp-national@2.0.0#0b9c46035847\n", "a pack.lock holds exactly one key, extends"),
        ("extends: [1, 2]\n", "extends must be ID@X.Y.Z#FINGERPRINT"),
    ],
)
def test_a_bad_lock_file_is_an_error_at_its_line(tmp_path, rules_dir, registry, lock, fragment):
    folder = _city_copy(tmp_path, rules_dir, lock)
    errors = _errors(folder, registry)
    assert len(errors) == 1 and errors[0].startswith(f"{folder / LOCK_FILE}:1: extends: "), errors
    assert fragment in errors[0]


def test_a_lock_on_a_base_pack_is_an_error(tmp_path, rules_dir):
    folder = tmp_path / "v2"
    shutil.copytree(rules_dir / "jp-national" / "v2", folder)
    (folder / LOCK_FILE).write_text(f"extends: {V2_REF}\n", encoding="utf-8")
    assert _errors(folder, None) == [
        f"{folder / LOCK_FILE}:1: extends: locked to jp-national@2.0.0#0b9c46035847, but the pack extends nothing"
    ]


def test_a_lock_given_by_the_caller_is_reported_at_extends(tmp_path, rules_dir, national_v1):
    folder = _city_copy(tmp_path, rules_dir, None)
    errors = _errors(folder, PackRegistry([national_v1]), lock=V2_REF)
    assert len(errors) == 1
    assert errors[0].startswith(f"{folder / 'pack.yaml'}:20: extends: missing parent: city-strict@1.0.0 is locked to")
    errors = _errors(folder, PackRegistry([national_v1]), lock="jp-national@2")
    assert "extends: lock: bad parent lock 'jp-national@2'" in errors[0]


def test_the_registry_resolves_a_locked_child_among_the_sources(tmp_path, rules_dir):
    # Parent and locked child found in the same discovery (the parent not yet resolved).
    root = tmp_path / "rules"
    shutil.copytree(rules_dir, root)
    found = PackRegistry.from_roots([root])
    assert found.resolve("city-strict@1").parent_locked
    (root / "jp-national" / "v2" / "pack.yaml").write_text(
        (root / "jp-national" / "v2" / "pack.yaml").read_text(encoding="utf-8").replace(
            "en: Intake}", "en: Intake (changed)}"), encoding="utf-8")
    broken = PackRegistry.from_roots([root], strict=False)
    assert "city-strict@1" not in broken
    assert any("locked parent jp-national@2.0.0#0b9c46035847 differs" in e.message for e in broken.errors)
