"""The `procurement packs ...` and `procurement classify` commands: output shapes and exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from procurement import config
from procurement.cli import main

HERE = Path(__file__).parent
RULES = config.PROJECT_ROOT / "rules"
LOW = {"SC-1": "yes", "SC-2": "no", "SC-3": "fy2026_or_later", "SC-4": "contracted_saas",
       "HR-1": "staff_limited", "HR-2": "internal_support", "HR-3": "public_only", "HR-4": "always_reviewed"}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_shipped_packs_exits_0(capsys):
    code, out, err = run(capsys, "packs", "validate", str(RULES / "jp-national" / "v1"),
                         str(RULES / "jp-national" / "v2" / "pack.yaml"), str(RULES / "jp-national" / "v2.1"),
                         str(RULES / "jp-municipal" / "v1"), str(RULES / "city-strict" / "v1"),
                         str(RULES / "city-strict" / "v2"), "--tests")
    assert code == 0, out + err
    assert out.splitlines()[0].startswith("ok ") and "jp-national@1.0.0#" in out


def test_validate_prints_one_line_per_error_and_exits_1(capsys):
    broken = HERE / "broken" / "multiple_errors"
    code, out, err = run(capsys, "packs", "validate", str(broken))
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"{broken / 'pack.yaml'}:") for line in lines)
    assert lines[0].split(": ", 1)[0].rsplit(":", 1)[1] == "42"
    assert "Traceback" not in out + err


def test_validate_resolves_parents_from_the_rules_dir(capsys):
    child = HERE / "broken" / "silent_clash"
    code, out, _ = run(capsys, "packs", "validate", "--rules-dir", str(HERE / "fixtures"), str(child))
    assert code == 1
    assert "id 'I-1' is already defined by mini@1.0.0" in out


def test_validate_with_tests_reports_failing_cases(capsys, tmp_path):
    import shutil

    shutil.copytree(HERE / "fixtures" / "vocab", tmp_path / "vocab")
    case_file = tmp_path / "vocab" / "tests" / "vocabulary.yaml"
    case_file.write_text(case_file.read_text(encoding="utf-8").replace(
        "expect: {level: high, reasons: [R-ANY]}", "expect: {level: mid, reasons: [R-ANY]}", 1), encoding="utf-8")
    (tmp_path / "empty").mkdir()
    code, out, _ = run(capsys, "packs", "validate", "--rules-dir", str(tmp_path / "empty"), str(tmp_path / "vocab"), "--tests")
    assert code == 1
    assert out.strip() == f"{case_file}:3: cases[any fires when one branch is true]: level: expected 'mid', got 'high'"


def test_list_shows_every_pack_with_its_fingerprint(capsys, registry):
    code, out, _ = run(capsys, "packs", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "VERSION", "EDITION", "EFFECTIVE_FROM", "EXTENDS", "FINGERPRINT"]
    v2 = registry.resolve("jp-national@2.0.0")
    assert ["jp-national", "2.0.0", "2026-06-12", "2026-06-12", "-", v2.fingerprint[:12]] in [l.split() for l in lines]
    code, out, _ = run(capsys, "packs", "list", "--format", "json")
    rows = json.loads(out)
    assert {r["id"] for r in rows} == {"jp-national", "jp-municipal", "city-strict", "example-impact"}
    extends = {(r["id"], r["version"]): r["extends"] for r in rows}
    assert extends[("city-strict", "1.0.0")] == "jp-national@2.0.0"
    assert extends[("city-strict", "2.0.0")] == "jp-municipal@1.0.0"
    assert extends[("jp-municipal", "1.0.0")] == "jp-national@2.1.0"


def test_show_text_and_json(capsys, city_strict):
    code, out, _ = run(capsys, "packs", "show", "city-strict@1", "--lang", "en")
    assert code == 0
    assert out.startswith(city_strict.ref)
    assert "UR-8 [transparency]" in out and "[overridden by city-strict@1.0.0:" in out
    assert "(inferred; jp-national@2.0.0)" in out
    code, out, _ = run(capsys, "packs", "show", "city-strict@1.0.0", "--format", "json")
    assert json.loads(out) == json.loads(json.dumps(city_strict.to_dict(), ensure_ascii=False))


def test_show_unknown_pack_exits_2(capsys):
    code, out, err = run(capsys, "packs", "show", "nope")
    assert code == 2 and out == ""
    assert err.startswith("error: no pack matches 'nope'")


def test_diff_text_and_json(capsys):
    code, out, _ = run(capsys, "packs", "diff", "jp-national@1", "jp-national@2.0.0", "--ignore-source")
    assert code == 0
    assert "items:\n  + PC-T2\n  + PC-IP1" in out
    code, out, _ = run(capsys, "packs", "diff", "jp-national@2.0.0", "city-strict@1", "--format", "json")
    data = json.loads(out)
    assert data["questions"]["added"] == ["LQ-1"]
    assert data["items"]["added"] == ["LG-1", "LG-2"]
    assert {c["id"] for c in data["items"]["changed"]} == {"UR-5", "UR-8"}


def test_classify_one_object(capsys, tmp_path, monkeypatch):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({**LOW, "HR-1": "public"}))
    code, out, _ = run(capsys, "classify", "--pack", "jp-national@2.0.0", "--answers", str(path), "--lang", "en")
    assert code == 0
    data = json.loads(out)
    assert data["level"] == "high" and data["complete"] is True
    assert data["reasons"][0]["message"].startswith("The public")
    assert data["pack"]["version"] == "2.0.0"


def test_classify_a_batch_from_stdin_keeps_the_order(capsys, monkeypatch):
    batch = [{"SC-1": "no"}, LOW, {**LOW, "HR-2": "public_info", "HR-4": "partial_review"}, {}]
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(batch)))
    code, out, _ = run(capsys, "classify", "--pack", "jp-national", "--answers", "-")
    assert code == 0
    assert [r["level"] for r in json.loads(out)] == ["out_of_scope", "low", "review", "low"]
    assert [r["complete"] for r in json.loads(out)] == [True, True, True, False]


@pytest.mark.parametrize(
    "payload,pack,fragment",
    [
        ([LOW, {"SC-1": "perhaps"}], "jp-national", "error: answers[1]: invalid answers for pack jp-national@2.1.0: SC-1: 'perhaps' is not an option"),
        ({"ZZ": "yes"}, "jp-national@1", "error: invalid answers for pack jp-national@1.0.0: unknown question 'ZZ'"),
        (LOW, "jp-national@7", "error: no pack matches 'jp-national@7'"),
        ("just text", "jp-national", "error: answers must be a JSON object"),
    ],
)
def test_classify_refuses_bad_input_with_exit_2(capsys, tmp_path, payload, pack, fragment):
    path = tmp_path / "a.json"
    path.write_text(json.dumps(payload))
    code, out, err = run(capsys, "classify", "--pack", pack, "--answers", str(path))
    assert code == 2 and out == ""
    assert err.startswith(fragment), err


def test_classify_refuses_a_file_that_is_not_json(capsys, tmp_path):
    path = tmp_path / "a.json"
    path.write_text("{SC-1: yes}")
    code, _, err = run(capsys, "classify", "--pack", "jp-national", "--answers", str(path))
    assert code == 2 and err.startswith(f"error: {path}:1: not valid JSON")
    code, _, err = run(capsys, "classify", "--pack", "jp-national", "--answers", str(tmp_path / "none.json"))
    assert code == 2 and "cannot read" in err


def test_a_broken_pack_under_the_rules_dir_is_skipped_with_a_warning(capsys):
    code, out, err = run(capsys, "packs", "list", "--rules-dir", str(HERE / "broken" / "inheritance_cycle"))
    assert code == 0
    assert out.splitlines()[1:] == []
    assert err.startswith("warning: 2 error(s) in packs under")


def test_the_console_entry_point_runs_classify():
    proc = subprocess.run(
        [sys.executable, "-m", "procurement", "classify", "--pack", "city-strict", "--answers", "-"],
        input=json.dumps({**LOW, "LQ-1": "yes"}), capture_output=True, text=True, timeout=120,
        cwd=config.PROJECT_ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert "UR-5" in data["required_items"] and data["pack"]["id"] == "city-strict"


def test_a_rules_dir_that_does_not_exist_is_an_error_not_an_empty_list(capsys, tmp_path):
    code, out, err = run(capsys, "packs", "list", "--rules-dir", str(tmp_path / "typo"))
    assert code == 2
    assert out == ""
    assert f"rules folder {tmp_path / 'typo'} does not exist" in err


def test_lock_writes_the_exact_parent_and_prints_it(capsys, tmp_path):
    import shutil

    folder = tmp_path / "city"
    shutil.copytree(RULES / "city-strict" / "v1", folder)
    (folder / "pack.lock").unlink()
    # `lock` takes the newest matching parent: a rules folder with the editions 1.0.0 and 2.0.0
    # only (as when city-strict 1.0.0 was published, before 2.1.0).
    rules = tmp_path / "rules"
    for edition in ("v1", "v2"):
        shutil.copytree(RULES / "jp-national" / edition, rules / "jp-national" / edition)
    code, out, _ = run(capsys, "packs", "lock", "--rules-dir", str(rules), str(folder))
    assert code == 0
    v2 = "jp-national@2.0.0#0b9c460358477e999a084fa8b097a34ef00837f285f133d04b5ca2ee386f5264"
    assert out.strip() == f"locked city-strict@1.0.0 to jp-national@2.0.0#0b9c46035847: {folder / 'pack.lock'} " \
                          "(content city-strict@1.0.0#39cc6efd5a3d)"
    assert (folder / "pack.lock").read_text(encoding="utf-8").splitlines()[-1] == f"extends: {v2}"
    assert (folder / "pack.lock").read_text(encoding="utf-8") == (RULES / "city-strict" / "v1" / "pack.lock").read_text(encoding="utf-8")
    code, out, _ = run(capsys, "packs", "lock", "--rules-dir", str(rules), str(folder))
    assert code == 0 and "(unchanged)" in out
    (folder / "pack.lock").write_text("extends: jp-national@2.0.0#0123456789ab\n", encoding="utf-8")
    code, out, _ = run(capsys, "packs", "lock", "--rules-dir", str(rules), str(folder / "pack.yaml"))
    assert code == 0 and "(was jp-national@2.0.0#0123456789ab)" in out


def test_lock_refuses_a_base_pack(capsys):
    code, out, err = run(capsys, "packs", "lock", str(RULES / "jp-national" / "v2"))
    assert code == 1
    assert out.strip().endswith("jp-national@2.0.0 extends nothing; only a child pack has a parent to lock")
    assert not (RULES / "jp-national" / "v2" / "pack.lock").exists()


def test_classify_takes_lists_and_text_and_reports_points_and_flags(capsys, tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"PH-1": "pilot", "IM-1": "public", "IM-2": ["special_care", "personal"],
                                "IM-3": "sampled", "IM-4": "住民の相談に答える。\n二行目", "MT-1": []}))
    code, out, _ = run(capsys, "classify", "--pack", "example-impact", "--answers", str(path), "--lang", "en")
    assert code == 0
    data = json.loads(out)
    assert data["level"] == "IV" and data["complete"] is True
    assert data["level_info"] == {"tone": "danger", "high_risk": True, "out_of_scope": False}
    assert [f["label"] for f in data["flags"]] == ["Pilot", "No mitigation"]
    assert data["points"]["by_question"] == {"IM-1": 4, "IM-2": 5, "IM-3": 2, "MT-1": 0}
    assert data["reasons"][-1]["inputs"] == {"IM-1": "public", "IM-2": ["personal", "special_care"], "IM-3": "sampled"}
    # A language the pack does not have: the pack's first language.
    code, out, _ = run(capsys, "classify", "--pack", "example-impact", "--answers", str(path), "--lang", "fr")
    assert code == 0 and json.loads(out)["flags"][0]["label"] == "試行"
    with pytest.raises(SystemExit) as info:
        main(["classify", "--pack", "example-impact", "--answers", str(path), "--lang", "FR!"])
    assert info.value.code == 2 and "not a language code: 'FR!'" in capsys.readouterr().err


def test_classify_of_the_national_pack_only_adds_keys(capsys, tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({**LOW, "HR-1": "public"}))
    code, out, _ = run(capsys, "classify", "--pack", "jp-national@2", "--answers", str(path))
    data = json.loads(out)
    assert set(data) == {"level", "complete", "unanswered", "applicable_questions", "ignored_answers", "reasons",
                         "blocking", "required_steps", "required_items", "recommended_items", "pack",
                         "level_info", "flags", "points"}
    assert data["flags"] == [] and data["points"] == {"by_question": {}, "totals": []}
    assert data["level_info"] == {"tone": "danger", "high_risk": True, "out_of_scope": False}


def test_show_text_describes_levels_questions_and_steps(capsys):
    code, out, _ = run(capsys, "packs", "show", "example-impact", "--lang", "en")
    assert code == 0
    assert "languages: ja, en\n" in out
    assert "  IV: Class IV (severe impact) [tone danger, high_risk]" in out
    assert "      options: personal (+2), special_care (+3), confidential (+2), public_data (+0)" in out
    assert "  IM-4 [assessment, required, text, max 1000]" in out
    assert "  ethics_report: Report to the AI Ethics Committee [report: AI Ethics Committee]" in out
    assert "  F-PILOT: Pilot" in out and "consistency rules:\n  C-LOGGING" in out
    assert "no evidence required" in out
    code, out, _ = run(capsys, "packs", "show", "city-strict@1", "--lang", "en")
    assert "extends jp-national@2.0.0 (locked)" in out and "languages: ja, en (legacy default)" in out
    assert "[tone danger, high_risk; legacy default: tone, high_risk]" in out
    assert "board_report: Report to the Advisory Board [report: Advanced AI Utilization Advisory Board]" in out
