"""Installed packs through the service layer: install, refuse, immutability, select, export."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select

from procurement import audit
from procurement.db.models import AuditEvent, InstalledPack
from procurement.errors import ConflictError, NotFoundError, PermissionDeniedError
from procurement.sharing import bundles
from procurement.sharing import installed as packstore
from procurement.sharing.bundles import Bundle, BundleError
from tests.fixtures.sharing import renamed_pack, with_failing_test

LOW_CITY = {"SC-1": "yes", "SC-2": "no", "SC-3": "fy2026_or_later", "SC-4": "in_house",
            "HR-1": "staff_limited", "HR-2": "internal_support", "HR-3": "public_only",
            "HR-4": "always_reviewed", "LQ-1": "no"}


def upload(files: dict[str, bytes], name: str = "city-shared") -> Bundle:
    """What a browser upload of loose files gives: names without folders."""
    return packstore.files_from_uploads(
        [(path.rsplit("/", 1)[-1], data) for path, data in files.items()], source_name=name)


def installed_count(svc) -> int:
    with svc.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(InstalledPack))


def events(svc, event_type: str) -> list[AuditEvent]:
    with svc.engine.connect() as conn:
        return conn.execute(select(AuditEvent).where(AuditEvent.event_type == event_type)).all()


def test_a_city_pack_is_installed_listed_audited_and_usable_for_cases(
        store_services, pack_admin, planner, city_upload):
    svc = store_services
    report = svc.check_upload(upload(city_upload))
    assert report.status == "ok", report
    assert report.tests_run >= 9 and not report.test_failures
    assert installed_count(svc) == 0  # checking writes nothing

    view = svc.install_pack(pack_admin, upload(city_upload), source_name="city.yaml")
    assert (view.pack_id, view.version, view.installed_by) == ("city-shared", "1.0.0", "a-packadmin")
    assert view.fingerprint == svc.registry.resolve("city-shared@1").fingerprint
    assert [v.key for v in svc.list_installed_packs()] == ["city-shared@1.0.0"]
    (event,) = events(svc, "pack.installed")
    assert event.chain == "org-a" and event.actor == "a-packadmin"
    assert all(r.problem is None for r in audit.verify_database(svc.engine))

    case = svc.create_case(planner, "窓口チャット", "市民課", pack_ref="city-shared@1", answers=LOW_CITY)
    assert (case.pack_id, case.level, case.is_complete) == ("city-shared", "low", True)


def test_installed_packs_are_loaded_by_another_process(store_services, pack_admin, city_upload):
    from procurement.packs import PackRegistry
    from procurement.services import Services

    store_services.install_pack(pack_admin, upload(city_upload))
    fresh = Services(store_services.engine, PackRegistry.discover())
    assert "city-shared@1" not in fresh.registry
    assert fresh.load_installed_packs() == []
    assert fresh.registry.resolve("city-shared@1").fingerprint == \
        store_services.registry.resolve("city-shared@1").fingerprint
    assert fresh.load_installed_packs() == []  # idempotent


def test_a_zip_bundle_installs_and_exports_back_to_the_same_fingerprint(
        store_services, pack_admin, city_upload):
    svc = store_services
    data = bundles.build_bundle(city_upload, pack_id="city-shared", version="1.0.0",
                                fingerprint="0" * 64)
    # A manifest whose fingerprint is not the content's is refused: the files were edited.
    report = svc.check_upload(bundles.read_bundle(data, source="city.zip"))
    assert report.status == "invalid" and "does not match" in report.errors[0]

    first = svc.check_upload(upload(city_upload)).pack
    data = bundles.build_bundle(city_upload, pack_id="city-shared", version="1.0.0",
                                fingerprint=first.fingerprint)
    bundle = packstore.files_from_uploads([("city.zip", data)], source_name="city.zip")
    view = svc.install_pack(pack_admin, bundle)
    assert view.source_name == "city.zip"

    name, exported = svc.export_bundle("city-shared@1.0.0")
    assert name == "city-shared-1.0.0.zip"
    again = bundles.read_bundle(exported, source=name)
    assert again.manifest.fingerprint == first.fingerprint
    assert again.files == city_upload


def test_a_shipped_pack_exports_as_a_bundle_that_reloads_identically(store_services, rules_dir):
    from procurement.packs import PackRegistry

    svc = store_services
    name, data = svc.export_bundle("jp-national@2")
    bundle = bundles.read_bundle(data, source=name)
    assert "pack.yaml" in bundle.files and any(n.startswith("tests/") for n in bundle.files)
    with bundles.extracted(bundle.files) as folder:
        pack = PackRegistry().load_dir(folder)
    assert pack.fingerprint == svc.registry.resolve("jp-national@2").fingerprint
    assert bundle.manifest.fingerprint == pack.fingerprint


def test_installed_content_is_immutable(store_services, pack_admin, city_upload):
    svc = store_services
    svc.install_pack(pack_admin, upload(city_upload))
    # The same content again changes nothing.
    again = svc.install_pack(pack_admin, upload(city_upload))
    assert again.key == "city-shared@1.0.0" and installed_count(svc) == 1
    changed = dict(city_upload)
    changed["pack.yaml"] = changed["pack.yaml"].replace(b"example city, strict)", b"example city, stricter)", 1)
    with pytest.raises(ConflictError, match="new version"):
        svc.install_pack(pack_admin, upload(changed))
    # A shipped pack's id and version with other content is refused the same way.
    with pytest.raises(ConflictError, match="city-strict@1.0.0"):
        svc.install_pack(pack_admin, upload(renamed_pack(changed, pack_id="city-strict")))
    # New content under a new version is fine, and both versions stay available.
    svc.install_pack(pack_admin, upload(renamed_pack(changed, version="1.1.0")))
    assert [v.key for v in svc.list_installed_packs()] == ["city-shared@1.0.0", "city-shared@1.1.0"]
    assert len(events(svc, "pack.installed")) == 2


def test_a_city_pack_whose_tests_fail_is_refused_with_the_failing_cases(
        store_services, pack_admin, city_upload):
    svc = store_services
    with pytest.raises(packstore.PackRefusedError) as caught:
        svc.install_pack(pack_admin, upload(with_failing_test(city_upload)))
    report = caught.value.params["report"]
    assert report.status == "tests_failed"
    (failure,) = report.test_failures
    assert failure.case == "a low case is wrongly expected to be high"
    assert "tests/wrong.yaml" in failure.file
    assert "level: expected 'high', got 'low'" in failure.message
    assert "a low case is wrongly expected to be high" in str(caught.value)
    assert installed_count(svc) == 0 and events(svc, "pack.installed") == []
    assert "city-shared@1" not in svc.registry


def test_an_invalid_pack_reports_every_error_with_file_and_line(store_services, pack_admin,
                                                                city_upload):
    broken = dict(city_upload)
    text = broken["pack.yaml"].decode()
    text = text.replace("license: CC-BY-4.0", "license: CC-BY-4.0\ncolour: blue", 1)
    text = text.replace('version: ">=2.0.0,<3.0.0"', 'version: ">=7.0.0"', 1)
    broken["pack.yaml"] = text.encode()
    report = store_services.check_upload(upload(broken, name="broken-upload"))
    assert report.status == "invalid"
    assert report.errors and all(e.startswith("broken-upload: pack.yaml:") for e in report.errors)
    assert any("colour" in e for e in report.errors)
    with pytest.raises(packstore.PackRefusedError, match="colour"):
        store_services.install_pack(pack_admin, upload(broken))
    assert installed_count(store_services) == 0


def test_a_pack_without_tests_is_refused(store_services, city_upload):
    only_pack = {"pack.yaml": city_upload["pack.yaml"]}
    report = store_services.check_upload(upload(only_pack))
    assert report.status == "invalid" and "no test cases" in report.errors[0]


def test_hostile_bundles_are_refused_before_anything_is_written(store_services, pack_admin,
                                                                tmp_path, monkeypatch):
    work = tmp_path / "work" / "here"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("pack.yaml", "id: x\n")
        archive.writestr("../../escape.yaml", "x: 1\n")
    with pytest.raises(BundleError, match=r"\.\./\.\./escape\.yaml"):
        packstore.files_from_uploads([("evil.zip", buffer.getvalue())], source_name="evil.zip")
    assert installed_count(store_services) == 0
    assert not (tmp_path / "escape.yaml").exists()
    assert list(work.iterdir()) == [] and list((tmp_path / "work").iterdir()) == [work]


def test_only_pack_admins_and_admins_install_and_select(store_services, planner, reviewer,
                                                         pack_admin, other_planner, city_upload):
    svc = store_services
    for actor in (planner, reviewer):
        with pytest.raises(PermissionDeniedError):
            svc.install_pack(actor, upload(city_upload))
        with pytest.raises(PermissionDeniedError):
            svc.set_org_pack(actor, "org-a", "jp-national@1")
    with pytest.raises(NotFoundError):
        svc.set_org_pack(pack_admin, "org-b", "jp-national@1")


def test_selecting_a_pack_decides_new_cases_and_is_audited(store_services, pack_admin, planner,
                                                           city_upload):
    svc = store_services
    svc.install_pack(pack_admin, upload(city_upload))
    before = svc.create_case(planner, "前", "課", answers={"SC-1": "no"})
    assert before.pack_id == "jp-national" and before.pack_version == "2.0.0"

    choice = svc.set_org_pack(pack_admin, "org-a", "city-shared@1")
    assert choice.pack_ref == svc.registry.resolve("city-shared@1.0.0").ref
    after = svc.create_case(planner, "後", "課", answers=LOW_CITY)
    assert (after.pack_id, after.pack_version) == ("city-shared", "1.0.0")
    # A case keeps the pack it was assessed under.
    assert svc.get_case(planner, before.id).pack_id == "jp-national"

    cleared = svc.set_org_pack(pack_admin, "org-a", None)
    assert cleared.pack_ref is None
    assert svc.create_case(planner, "戻", "課", answers={"SC-1": "no"}).pack_id == "jp-national"
    assert [e.chain for e in events(svc, "org.pack_set")] == ["org-a", "org-a"]
    assert all(r.problem is None for r in audit.verify_database(svc.engine))
    with pytest.raises(Exception, match="no-such-pack"):
        svc.set_org_pack(pack_admin, "org-a", "no-such-pack")


def test_the_layer_tree_puts_city_packs_under_the_national_edition(store_services, pack_admin,
                                                                   city_upload):
    svc = store_services
    svc.install_pack(pack_admin, upload(city_upload))
    tree = packstore.layer_tree(svc.registry, [v.key for v in svc.list_installed_packs()])
    flat = [(n.depth, n.key, n.is_installed) for n in packstore.flatten_tree(tree)]
    assert flat == [
        (0, "example-impact@1.0.0", False),
        (0, "jp-national@1.0.0", False),
        (0, "jp-national@2.0.0", False),
        (1, "city-shared@1.0.0", True),
        (1, "city-strict@1.0.0", False),
        (0, "jp-national@2.1.0", False),
        (1, "jp-municipal@1.0.0", False),
        (2, "city-strict@2.0.0", False),
    ]


def test_only_an_admin_installs_a_base_pack_or_a_national_edition(store_services, pack_admin,
                                                                  admin, rules_dir):
    svc = store_services
    national = bundles.collect_pack_files(rules_dir / "jp-national" / "v2")
    text = national["pack.yaml"].decode()
    text = text.replace("effective_from: 2026-06-12", "effective_from: 2026-06-20", 1)
    edition = renamed_pack({**national, "pack.yaml": text.encode()}, version="2.2.0")
    with pytest.raises(PermissionDeniedError, match="administrator"):
        svc.install_pack(pack_admin, upload(edition, name="fake-edition"))
    assert installed_count(svc) == 0 and "jp-national@2.2" not in svc.registry
    view = svc.install_pack(admin, upload(edition, name="edition-2.2"))
    assert view.key == "jp-national@2.2.0"
