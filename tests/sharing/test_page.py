"""The rule-pack page (AppTest from app.py): layers, upload with validation, diff, selection,
re-assessment preview and apply."""

from __future__ import annotations

import io
import zipfile

import pytest

from procurement import audit
from procurement.demo import HIGH
from tests.fixtures.services import approve_recorded, submit_filled
from tests.fixtures.sharing import with_failing_test
from tests.ui.conftest import make_app, ui_actors, ui_db_url, ui_services  # noqa: F401 - fixtures
from tests.ui.helpers import assert_clean, texts

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PAGE = "procurement/ui/pages/packs.py"


def open_page(make_app, actor, lang=None):
    at = make_app(actor, lang=lang)
    at.switch_page(PAGE).run()
    assert_clean(at)
    return at


def shown(at) -> str:
    """The visible text with markdown escapes removed."""
    return texts(at).replace("\\", "")


def uploads(files: dict[str, bytes]) -> list[tuple[str, bytes, str]]:
    """Loose files as a browser sends them: base names only."""
    return [(path.rsplit("/", 1)[-1], data, "application/x-yaml") for path, data in files.items()]


def test_the_page_shows_the_layer_tree_with_provenance_for_pack_admins_only(ui_actors, make_app):
    for lang, word in (("ja", "国"), ("en", "national")):
        at = open_page(make_app, ui_actors["a-packadmin"], lang)
        visible = shown(at)
        assert "jp-national@1.0.0" in visible and "jp-national@2.0.0" in visible
        assert "city-strict@1.0.0" in visible and word in visible
        # The first pack of the tree (example-impact, sorted by id) is shown first.
        at.selectbox(key="packs_browse").set_value("jp-national@2.0.0").run()
        questions = at.dataframe[0].value
        assert "SC-1" in list(questions.iloc[:, 0])
        assert len(questions.columns) == 5  # id, text, provenance, source, layer
    at.selectbox(key="packs_browse").set_value("city-strict@1.0.0").run()
    rows = at.dataframe[0].value
    layers = set(rows.iloc[:, 4])
    assert {"jp-national@2.0.0", "city-strict@1.0.0"} <= layers  # each element says its layer
    at = make_app(ui_actors["a-planner"])
    with pytest.raises(ValueError):
        at.switch_page(PAGE)


def test_a_pack_is_validated_then_installed_from_the_page(ui_actors, ui_services, make_app,
                                                          city_upload):
    at = open_page(make_app, ui_actors["a-packadmin"])
    at.file_uploader(key="packs_upload").set_value(uploads(city_upload))
    at.run()
    at.button(key="packs_check").click().run()
    assert_clean(at)
    assert any("city-shared@1.0.0" in s.value for s in at.success)
    assert ui_services.list_installed_packs() == []  # validation wrote nothing
    at.button(key="packs_install").click().run()
    assert_clean(at)
    assert [v.key for v in ui_services.list_installed_packs()] == ["city-shared@1.0.0"]
    assert "city-shared@1.0.0" in shown(at)  # now in the tree


def test_a_pack_whose_tests_fail_is_refused_on_the_page_with_the_failing_case(
        ui_actors, ui_services, make_app, city_upload):
    at = open_page(make_app, ui_actors["a-packadmin"])
    at.file_uploader(key="packs_upload").set_value(uploads(with_failing_test(city_upload)))
    at.run()
    at.button(key="packs_check").click().run()
    assert_clean(at)
    assert at.error and "1" in at.error[0].value
    assert "a low case is wrongly expected to be high" in "\n".join(c.value for c in at.code)
    assert all(b.key != "packs_install" for b in at.button)
    assert ui_services.list_installed_packs() == []


def test_a_hostile_bundle_is_refused_on_the_page(ui_actors, ui_services, make_app):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("pack.yaml", "id: x\n")
        archive.writestr("../evil.yaml", "x: 1\n")
    at = open_page(make_app, ui_actors["a-packadmin"], lang="en")
    at.file_uploader(key="packs_upload").set_value(("evil.zip", buffer.getvalue(), "application/zip"))
    at.run()
    at.button(key="packs_check").click().run()
    assert_clean(at)
    message = at.error[0].value.replace("\\", "")  # names are shown markdown-escaped
    assert "evil.zip" in message and "../evil.yaml" in message and "outside its folder" in message
    assert ui_services.list_installed_packs() == []


def test_the_diff_between_the_editions_names_the_new_items(ui_actors, make_app):
    at = open_page(make_app, ui_actors["a-packadmin"], lang="en")
    at.selectbox(key="packs_diff_a").set_value("jp-national@1.0.0")
    at.selectbox(key="packs_diff_b").set_value("jp-national@2.0.0").run()
    visible = shown(at)
    assert "＋ PC-T2" in visible and "＋ PC-IP1" in visible


def test_selecting_the_organisations_pack_on_the_page(ui_actors, ui_services, make_app):
    packadmin = ui_actors["a-packadmin"]
    at = open_page(make_app, packadmin)
    at.selectbox(key="packs_browse").set_value("jp-national@1.0.0").run()
    at.button(key="packs_select").click().run()
    assert_clean(at)
    assert ui_services.get_org(packadmin, "org-a").pack_ref == "jp-national@1.0.0#bab7afb0ffd6"
    at.button(key="packs_clear").click().run()
    assert ui_services.get_org(packadmin, "org-a").pack_ref is None


def test_reassessment_is_previewed_then_applied_from_the_page(ui_actors, ui_services, make_app):
    planner, reviewer = ui_actors["a-planner"], ui_actors["a-reviewer"]
    case = ui_services.create_case(planner, "住民向け回答生成", "広報室", "jp-national@1", HIGH)
    case = submit_filled(ui_services, planner, case)
    case = approve_recorded(ui_services, reviewer, case)
    at = open_page(make_app, ui_actors["a-packadmin"])
    at.selectbox(key="packs_target").set_value("jp-national@2.0.0")
    at.button(key="packs_preview").click().run()
    assert_clean(at)
    table = at.dataframe[-1].value  # the plan, after the five tables of the layers tab
    assert list(table.iloc[:, 0]) == [case.id]
    assert "PC-T2" in set(table.iloc[:, 5])
    assert ui_services.get_case(planner, case.id).pack_version == "1.0.0"  # preview only
    at.checkbox(key="packs_apply_confirm").check().run()
    at.button(key="packs_apply").click().run()
    assert_clean(at)
    after = ui_services.get_case(planner, case.id)
    assert (after.pack_version, after.status) == ("2.0.0", "draft")
    assert any(str(case.id) in w.value for w in at.warning)
    assert all(r.problem is None for r in audit.verify_database(ui_services.engine))


def test_an_upload_without_pack_yaml_is_explained(ui_actors, ui_services, make_app, city_upload):
    at = open_page(make_app, ui_actors["a-packadmin"])
    tests_only = {k: v for k, v in city_upload.items() if k != "pack.yaml"}
    at.file_uploader(key="packs_upload").set_value(uploads(tests_only))
    at.run()
    at.button(key="packs_check").click().run()
    assert_clean(at)
    message = at.error[0].value.replace("\\", "")
    assert "pack.yaml がありません" in message and "city.yaml" in message


def test_the_page_catalogs_are_complete_and_agree():
    import json
    import re
    from pathlib import Path

    from procurement.ui.i18n import CATALOG_DIR, load_catalog, placeholders

    ja = json.loads((CATALOG_DIR / "ja" / "packs.json").read_text(encoding="utf-8"))
    en = json.loads((CATALOG_DIR / "en" / "packs.json").read_text(encoding="utf-8"))
    assert ja.keys() == en.keys()
    assert all(placeholders(ja[k]) == placeholders(en[k]) for k in ja), [
        k for k in ja if placeholders(ja[k]) != placeholders(en[k])]
    source = (Path(__file__).resolve().parents[2] / "procurement/ui/views/packs.py").read_text(
        encoding="utf-8")
    used = set(re.findall(r'\bt\(\s*"([a-z_.]+)"', source))
    for lang in ("ja", "en"):
        catalog = load_catalog(lang)
        assert used <= catalog.keys(), used - catalog.keys()
    # Keys built at run time: every refusal reason the code can raise has a text.
    import ast

    from procurement.sharing import bundles
    from procurement.sharing import installed as packstore

    reasons = set()
    for module in (bundles, packstore):
        for node in ast.walk(ast.parse(Path(module.__file__).read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            if getattr(node.func, "id", "") == "_error" and isinstance(node.args[2], ast.Constant):
                reasons.add(("bundle", node.args[2].value))
            for kw in node.keywords:
                if kw.arg == "reason" and isinstance(kw.value, ast.Constant):
                    kind = "bundle" if getattr(node.func, "id", "") == "BundleError" else "upload"
                    reasons.add((kind, kw.value.value))
    assert ("bundle", "path_traversal") in reasons and ("upload", "no_pack_yaml") in reasons
    missing = [r for r in reasons if f"packs.{r[0]}_reason.{r[1]}" not in ja]
    assert not missing, missing
    for status in ("ok", "already_installed", "invalid", "tests_failed", "conflict"):
        assert f"packs.status.{status}" in ja
