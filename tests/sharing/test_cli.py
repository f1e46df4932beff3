"""The pack-store commands: `packs bundle|install|installed|select` (output lines and exit codes)."""

from __future__ import annotations

import io
import zipfile

import pytest

from procurement import audit
from procurement.cli import main
from tests.fixtures.sharing import with_failing_test


@pytest.fixture
def cli_db(sqlite_url, monkeypatch, services, admin):
    """A migrated SQLite database with org-a and org-b, named through the environment."""
    monkeypatch.setenv("PROCUREMENT_DATABASE_URL", sqlite_url)
    return services


def write_files(folder, files: dict[str, bytes]):
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_bundle_install_list_and_select_from_the_command_line(cli_db, city_upload, tmp_path, capsys):
    folder = write_files(tmp_path / "city-shared", city_upload)
    out = tmp_path / "city-shared.zip"
    # A folder installs; its bundle is then written from the installed copy.
    assert main(["packs", "install", str(folder), "--org", "org-a"]) == 0
    assert capsys.readouterr().out.startswith("installed city-shared@1.0.0#")
    assert main(["packs", "bundle", "city-shared@1", "--out", str(out)]) == 0
    line = capsys.readouterr().out
    assert line.startswith(f"wrote {out}: city-shared@1.0.0, {len(city_upload)} files, fingerprint ")
    # Installing the same bundle again is a no-op; listing shows one version.
    assert main(["packs", "install", str(out)]) == 0
    capsys.readouterr()
    assert main(["packs", "installed"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 1 and listed[0].startswith("city-shared@1.0.0#")
    assert main(["packs", "select", "--org", "org-a", "city-shared@1"]) == 0
    exact = listed[0].split()[0]  # the exact version and fingerprint, never the range given
    assert capsys.readouterr().out.strip() == \
        f"org-a: new cases use {exact} (was national by date)"
    assert cli_db.get_org(cli_db.system_actor("org-a"), "org-a").pack_ref == exact
    assert all(r.problem is None for r in audit.verify_database(cli_db.engine))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_refusals_from_the_command_line(cli_db, city_upload, tmp_path, capsys):
    failing = write_files(tmp_path / "failing", with_failing_test(city_upload))
    assert main(["packs", "install", str(failing / "pack.yaml"), str(failing / "tests" / "wrong.yaml"),
                 str(failing / "tests" / "city.yaml")]) == 1
    out = capsys.readouterr().out
    assert "tests_failed" in out and "a low case is wrongly expected to be high" in out

    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("pack.yaml", "id: x\n")
        archive.writestr("../../escape.yaml", "x: 1\n")
    assert main(["packs", "install", str(evil)]) == 2
    assert "../../escape.yaml" in capsys.readouterr().err
    assert not (tmp_path.parent / "escape.yaml").exists()

    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("pack.yaml", b"\n" * (900 * 1024))
    (tmp_path / "bomb.zip").write_bytes(bomb.getvalue())
    assert main(["packs", "install", str(tmp_path / "bomb.zip")]) == 2
    assert "zip bomb" in capsys.readouterr().err

    assert main(["packs", "installed"]) == 0
    assert "no pack installed" in capsys.readouterr().out
    assert main(["packs", "select", "--org", "org-a"]) == 2
    assert main(["packs", "select", "--org", "org-a", "no-such-pack"]) == 2
    assert "no-such-pack" in capsys.readouterr().err
