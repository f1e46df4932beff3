"""`import_cases` and `procurement cases import`: all or nothing, errors by index."""

import json

import pytest
from sqlalchemy import func, select

from procurement.db.models import AuditEvent, Case
from procurement.demo import HIGH, LOW
from procurement.errors import InputError

GOOD = [
    {"title": "議事録要約", "department": "総務課", "answers": LOW,
     "checklist": {"PC-G1": {"status": "met", "evidence": "体制図あり"}}},
    {"title": "FAQ", "department": "広報室", "pack": "jp-national@1", "answers": HIGH},
]


def _counts(svc):
    with svc.read() as s:
        return (s.scalar(select(func.count()).select_from(Case)),
                s.scalar(select(func.count()).select_from(AuditEvent)))


def test_import_creates_classified_audited_drafts(services, planner):
    views = services.import_cases(planner, GOOD)
    assert [(v.title, v.status, v.level) for v in views] == [
        ("議事録要約", "draft", "low"), ("FAQ", "draft", "high")]
    assert views[0].checklist["PC-G1"].evidence == "体制図あり"
    assert views[1].pack_version.startswith("1.")
    assert [e.event_type for e in services.case_history(planner, views[0].id)] == [
        "case.created", "case.checklist_set"]


def test_one_bad_entry_imports_nothing_and_every_error_is_named_by_index(services, planner):
    before = _counts(services)
    bad = GOOD + [
        {"title": "", "department": "d", "answers": {}},
        {"title": "t", "department": "d", "answers": {"SC-1": "maybe"}},
        {"title": "t", "department": "d", "answers": {}, "pack": "nope@1"},
        {"title": "t", "department": "d", "answers": {}, "checklist": {"PC-G1": {"status": "ok"}}},
        {"title": "t", "department": "d", "answers": {}, "colour": "red"},
        "not an object",
        {"title": "t", "department": "d"},
    ]
    with pytest.raises(InputError) as err:
        services.import_cases(planner, bad)
    errors = err.value.params["errors"]
    assert [e["index"] for e in errors] == [2, 3, 4, 5, 6, 7, 8]
    assert "title" in errors[0]["reason"] and "maybe" in errors[1]["reason"]
    assert "nope@1" in errors[2]["reason"] and "ok" in errors[3]["reason"]
    assert "colour" in errors[4]["reason"] and "answers" in errors[6]["reason"]
    assert _counts(services) == before


def test_import_must_be_a_list(services, planner):
    with pytest.raises(InputError):
        services.import_cases(planner, {"title": "t"})


def test_cli_import_reports_by_index_and_imports_nothing(services, planner, db_url, tmp_path,
                                                         monkeypatch, capsys):
    from procurement.cli import main

    monkeypatch.setenv("PROCUREMENT_DATABASE_URL", db_url)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(GOOD + [{"title": "t", "department": "d", "answers": {"SC-9": "x"}}]),
                   encoding="utf-8")
    assert main(["cases", "import", "--org", "org-a", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "error: entry 2:" in err and "SC-9" in err and "nothing imported: 1 invalid entry" in err
    assert _counts(services)[0] == 0
    good = tmp_path / "good.json"
    good.write_text(json.dumps(GOOD, ensure_ascii=False), encoding="utf-8")
    assert main(["cases", "import", "--org", "org-a", "--as", "a-planner2", str(good)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("created case ") and out[0].endswith(" low complete 議事録要約")
    assert out[-1] == "imported 2 cases into org-a"
    assert {c.owner_name for c in services.list_cases(planner)} == {"a-planner2"}
    (tmp_path / "broken.json").write_text("[{", encoding="utf-8")
    assert main(["cases", "import", "--org", "org-a", str(tmp_path / "broken.json")]) == 1
    assert "is not valid JSON" in capsys.readouterr().err
