"""Zip bundles: a round trip, and every kind of hostile or broken bundle refused by name."""

from __future__ import annotations

import io
import os
import stat
import struct
import zipfile

import pytest

from procurement.sharing import bundles
from procurement.sharing.bundles import BundleError, build_bundle, extracted, read_bundle

PACK_FILES = {
    "pack.yaml": b"id: demo\nversion: 1.0.0\n",
    "questions.yaml": "questions: []\n# \u65e5\u672c\u8a9e\n".encode(),
    "tests/basic.yaml": b"cases: []\n",
    "README.md": b"# demo\n",
}


def make_zip(members: list[tuple[str, bytes]], *, mode: int = stat.S_IFREG | 0o644) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = mode << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def refused(data: bytes) -> BundleError:
    with pytest.raises(BundleError) as caught:
        read_bundle(data, source="upload.zip")
    assert "upload.zip" in str(caught.value)
    return caught.value


def test_a_built_bundle_reads_back_with_its_manifest_and_is_deterministic():
    data = build_bundle(PACK_FILES, pack_id="demo", version="1.0.0", fingerprint="ab" * 32,
                        created_by="alice")
    bundle = read_bundle(data, source="demo.zip")
    assert bundle.files == PACK_FILES
    assert bundle.manifest.pack_id == "demo"
    assert bundle.manifest.fingerprint == "ab" * 32
    assert set(bundle.manifest.files) == set(PACK_FILES)
    bundle.check_fingerprint("ab" * 32)
    with pytest.raises(BundleError, match="does not match the pack's content"):
        bundle.check_fingerprint("cd" * 32)
    # Same files and metadata, same bytes (so a published bundle can be compared by hash).
    from datetime import UTC, datetime

    when = datetime(2026, 6, 12, tzinfo=UTC)
    one = build_bundle(PACK_FILES, pack_id="demo", version="1.0.0", fingerprint="ab" * 32, created_at=when)
    two = build_bundle(dict(reversed(PACK_FILES.items())), pack_id="demo", version="1.0.0",
                       fingerprint="ab" * 32, created_at=when)
    assert one == two


def test_a_bundle_with_one_top_folder_and_no_manifest_is_accepted():
    data = make_zip([(f"city-pack/{name}", body) for name, body in PACK_FILES.items()])
    bundle = read_bundle(data, source="city.zip")
    assert bundle.files == PACK_FILES
    assert bundle.manifest is None
    # A published bundle re-zipped inside a folder keeps its manifest (and its checks).
    built = build_bundle(PACK_FILES, pack_id="demo", version="1.0.0", fingerprint="ab" * 32)
    with zipfile.ZipFile(io.BytesIO(built)) as archive:
        wrapped = make_zip([(f"pub/{n}", archive.read(n)) for n in archive.namelist()])
    again = read_bundle(wrapped, source="wrapped.zip")
    assert again.files == PACK_FILES and again.manifest.pack_id == "demo"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil.yaml", "path_traversal"),
        ("pack/../../evil.yaml", "path_traversal"),
        ("/etc/evil.yaml", "absolute_path"),
        ("C:/evil.yaml", "absolute_path"),
        ("..\\evil.yaml", "bad_name"),
        ("script.py", "file_type"),
        ("nested.zip", "file_type"),
        ("a/b/c/d/e/f.yaml", "too_deep"),
    ],
)
def test_hostile_member_names_are_refused_naming_the_member(name, reason):
    error = refused(make_zip([("pack.yaml", b"id: x\n"), (name, b"x: 1\n")]))
    assert error.params["reason"] == reason
    assert error.params["member"] == name


def test_a_symbolic_link_is_refused():
    error = refused(make_zip([("link.yaml", b"../../../etc/passwd")], mode=stat.S_IFLNK | 0o777))
    assert error.params["reason"] == "link"
    assert "links" in str(error)


def test_a_zip_bomb_by_ratio_is_refused_before_decompression():
    error = refused(make_zip([("pack.yaml", b"\n" * (900 * 1024))]))
    assert error.params["reason"] == "zip_bomb"
    assert "compression ratio" in str(error)


def test_declared_sizes_over_the_limits_are_refused():
    big = os.urandom(bundles.MAX_FILE_BYTES + 1)
    assert refused(make_zip([("pack.yaml", big)])).params["reason"] == "file_too_large"
    many = [(f"f{i}.yaml", b"a: 1\n") for i in range(bundles.MAX_FILES + 2)]
    assert refused(make_zip(many)).params["reason"] == "too_many_files"
    # Many members each small enough and under the ratio floor, but too much together.
    chunk = b"#" * (bundles.RATIO_FLOOR - 1)
    count = bundles.MAX_TOTAL_BYTES // len(chunk) + 1
    assert count <= bundles.MAX_FILES
    error = refused(make_zip([(f"f{i}.yaml", chunk) for i in range(count)]))
    assert error.params["reason"] == "too_large" and "declared total" in str(error)


def _patch_declared_size(data: bytes, name: str, declared: int) -> bytes:
    """Rewrite a member's uncompressed size in the central directory (a lying header)."""
    raw = bytearray(data)
    signature = b"PK\x01\x02"
    pos = raw.find(signature)
    while pos != -1:
        name_len = struct.unpack_from("<H", raw, pos + 28)[0]
        if raw[pos + 46: pos + 46 + name_len].decode() == name:
            struct.pack_into("<I", raw, pos + 24, declared)
            return bytes(raw)
        pos = raw.find(signature, pos + 4)
    raise AssertionError(name)


def test_a_member_that_decompresses_past_its_declared_size_is_refused():
    data = make_zip([("pack.yaml", b"id: x\n" + b"#" * 50_000)])
    lying = _patch_declared_size(data, "pack.yaml", 100)
    error = refused(lying)
    assert error.params["member"] == "pack.yaml"
    assert error.params["reason"] in {"zip_bomb", "corrupt"}


def test_not_a_zip_and_duplicates_and_manifest_mismatch_are_refused():
    assert refused(b"PK not really").params["reason"] == "not_zip"
    dup = make_zip([("pack.yaml", b"a: 1\n"), ("PACK.yaml", b"a: 2\n")])
    assert refused(dup).params["reason"] == "duplicate"
    good = build_bundle(PACK_FILES, pack_id="demo", version="1.0.0", fingerprint="ab" * 32)
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        members = [(n, archive.read(n)) for n in archive.namelist()]
    tampered = [(n, b"id: other\n" if n == "pack.yaml" else body) for n, body in members]
    error = refused(make_zip(tampered))
    assert error.params["reason"] == "manifest_mismatch"
    assert error.params["member"] == "pack.yaml"


def test_extraction_writes_only_inside_a_fresh_temporary_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = set(tmp_path.parent.iterdir())
    data = make_zip([("../escape.yaml", b"x: 1\n"), ("pack.yaml", b"id: x\n")])
    refused(data)
    assert not (tmp_path.parent / "escape.yaml").exists()
    bundle = read_bundle(build_bundle(PACK_FILES, pack_id="demo", version="1", fingerprint="0" * 64))
    with extracted(bundle.files) as folder:
        assert folder.resolve() != tmp_path.resolve()
        written = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        assert written == sorted(PACK_FILES)
    assert not folder.exists()
    assert set(tmp_path.parent.iterdir()) == before
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(BundleError):
        bundles.write_files({"../x.yaml": b""}, tmp_path)
    assert not (tmp_path.parent / "x.yaml").exists()


def test_a_pack_folder_is_collected_without_links_or_code(tmp_path):
    (tmp_path / "tests").mkdir()
    for name, body in PACK_FILES.items():
        (tmp_path / name).write_bytes(body)
    (tmp_path / "notes.txt").write_text("ignored")
    assert bundles.collect_pack_files(tmp_path) == PACK_FILES
    (tmp_path / "linked.yaml").symlink_to(tmp_path / "pack.yaml")
    with pytest.raises(BundleError, match="links"):
        bundles.collect_pack_files(tmp_path)
