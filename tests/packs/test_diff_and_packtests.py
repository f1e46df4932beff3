"""Pack diffs and pack tests (run without pytest, and collected by the pytest plugin)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from procurement import config
from procurement.packs import diff_packs, load_pack_dir, run_pack_tests

HERE = Path(__file__).parent


def test_diff_between_editions(national_v1, national_v2):
    d = diff_packs(national_v1, national_v2, ignore=("source",))
    assert d.kinds["items"].added == ["PC-T2", "PC-IP1"]
    assert d.kinds["items"].removed == [] and d.kinds["items"].changed == {}
    assert d.kinds["checklists"].changed == {"procurement": ["items"]}
    assert d.kinds["questions"].changed == {"HR-4": ["help"]}
    assert "edition" in d.metadata
    back = diff_packs(national_v2, national_v1, ignore=("source",))
    assert back.kinds["items"].removed == ["PC-T2", "PC-IP1"]
    assert "  - PC-T2" in back.render_text()


def test_diff_reports_changed_fields_and_options(national_v2, city_strict):
    d = diff_packs(national_v2, city_strict)
    assert d.kinds["options"].added == ["LQ-1:yes", "LQ-1:no"]
    assert d.kinds["items"].changed == {"UR-5": ["required_when"], "UR-8": ["recommended_when", "required_when"]}
    assert d.to_dict()["items"]["changed"][0] == {"id": "UR-5", "fields": ["required_when"]}
    assert "  ~ UR-8: recommended_when, required_when" in d.render_text()


def test_a_pack_compared_with_itself_has_no_differences(city_strict):
    d = diff_packs(city_strict, city_strict)
    assert d.is_empty and d.render_text().endswith("no differences")


def test_run_pack_tests_passes_on_the_shipped_packs(registry):
    results = [r for pack in registry for r in run_pack_tests(pack)]
    assert len(results) >= 30
    assert all(r.passed for r in results), [str(r) for r in results if not r.passed]


def test_run_pack_tests_reports_a_failing_case_by_file_line_and_name(tmp_path):
    shutil.copytree(HERE / "fixtures" / "vocab", tmp_path / "vocab")
    cases = tmp_path / "vocab" / "tests" / "vocabulary.yaml"
    cases.write_text(cases.read_text(encoding="utf-8").replace(
        "expect: {level: low, reasons: [], required_steps: [ask, check], required_items: [I-1, I-2]}",
        "expect: {level: mid, reasons: [], required_steps: [ask, check], required_items: [I-1, I-2]}"), encoding="utf-8")
    results = run_pack_tests(load_pack_dir(tmp_path / "vocab"))
    failed = [r for r in results if not r.passed]
    assert len(results) == 10 and len(failed) == 1
    assert str(failed[0]) == (
        f"{cases}:12: count_in does not fire with one answer in the set ... FAILED\n"
        "  level: expected 'mid', got 'low'"
    )


def test_an_unreadable_test_file_is_one_failed_result(tmp_path):
    shutil.copytree(HERE / "fixtures" / "vocab", tmp_path / "vocab")
    (tmp_path / "vocab" / "tests" / "bad.yaml").write_text("cases:\n  - name: x\n    answers: {}\n    expect: {levle: low}\n")
    results = run_pack_tests(load_pack_dir(tmp_path / "vocab"))
    bad = [r for r in results if not r.passed]
    assert len(bad) == 1 and bad[0].name == "(test file)"
    assert "cases[0].expect.levle" in bad[0].failures[0]


def test_the_pytest_collector_names_the_file_line_and_case(tmp_path):
    shutil.copytree(HERE / "fixtures" / "vocab", tmp_path / "vocab")
    cases = tmp_path / "vocab" / "tests" / "vocabulary.yaml"
    cases.write_text(cases.read_text(encoding="utf-8").replace(
        "expect: {level: high, reasons: [R-ANY]}", "expect: {level: high, reasons: [R-COUNT]}", 1), encoding="utf-8")
    # A bare pytest with only the packs plugin (not the repository's conftest and settings).
    ini = tmp_path / "pytest.ini"
    ini.write_text("[pytest]\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ini), "--rootdir", str(tmp_path),
         "-p", "tests.fixtures.packs", "-p", "no:cacheprovider", "-q", str(cases)],
        capture_output=True, text=True, timeout=300, cwd=config.PROJECT_ROOT,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "1 failed, 9 passed" in proc.stdout
    assert f"{cases}:3: case 'any fires when one branch is true'" in proc.stdout
    assert "reasons: expected ['R-COUNT'], got ['R-ANY']" in proc.stdout


def test_a_case_that_expects_nothing_is_a_load_error(tmp_path):
    shutil.copytree(HERE / "fixtures" / "vocab", tmp_path / "vocab")
    bad = tmp_path / "vocab" / "tests" / "empty.yaml"
    bad.write_text(
        "cases:\n"
        "  - name: expects an empty mapping\n"
        "    answers: {Q-1: \"yes\"}\n"
        "    expect: {}\n"
        "  - name: expects nothing at all\n"
        "    answers: {Q-1: \"yes\"}\n"
        "  - name: expects a level\n"
        "    answers: {Q-1: \"yes\"}\n"
        "    expect: {level: low}\n", encoding="utf-8")
    from procurement.packs.packtests import read_case_file

    cases, errors = read_case_file(bad)
    assert cases == []
    assert [str(e) for e in errors] == [
        f"{bad}:4: cases[0].expect: a case must expect something: level, complete, reasons, blocking, "
        "flags, consistency, required_steps, required_items, ... or error",
        f"{bad}:5: cases[1]: a case must expect something: level, complete, reasons, blocking, "
        "flags, consistency, required_steps, required_items, ... or error",
    ]
    results = run_pack_tests(load_pack_dir(tmp_path / "vocab"))
    failed = [r for r in results if not r.passed]
    assert len(failed) == 1 and failed[0].name == "(test file)" and "cases[0].expect" in failed[0].failures[0]


def test_pack_tests_check_flags_consistency_and_item_statuses(tmp_path, registry):
    from procurement.packs import PackRegistry

    shutil.copytree(config.PROJECT_ROOT / "rules" / "examples" / "impact", tmp_path / "impact")
    cases = tmp_path / "impact" / "tests" / "impact.yaml"
    text = cases.read_text(encoding="utf-8")
    text = text.replace("    items: {EX-3: met}\n    expect: {consistency: []}",
                        "    items: {EX-3: met}\n    expect: {consistency: [C-LOGGING]}")
    text = text.replace("    expect: {flags: [F-PILOT]}", "    expect: {flags: []}")
    cases.write_text(text, encoding="utf-8")
    pack = PackRegistry([p for p in registry if p.id != "example-impact"]).load_dir(tmp_path / "impact")
    failed = {r.name: r.failures for r in run_pack_tests(pack) if not r.passed}
    assert failed == {
        "logging counted and met is consistent": ["consistency: expected ['C-LOGGING'], got []"],
        "a pilot carries the pilot flag": ["flags: expected [], got ['F-PILOT']"],
    }
