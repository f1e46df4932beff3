"""The format keys added after the first published packs: points, multiple choice, free text,
languages, level and step metadata (with the legacy table), evidence_required, flags and
consistency rules; each with its loader errors (FILE:LINE: path: message)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from procurement.errors import NotFoundError
from procurement.packs import (
    ITEM_STATUSES,
    InvalidAnswersError,
    PackLoadError,
    PackRegistry,
    check_answers,
    check_consistency,
    classify,
    load_pack_dir,
    pick_text,
)
from procurement.packs.legacy import LEGACY_LEVELS, LEGACY_STEPS

HERE = Path(__file__).parent

HEAD = """id: fmt
version: 1.0.0
title: {ja: 形式, en: Format}
edition: 2026-01-01
effective_from: 2026-01-01
publisher: {ja: テスト, en: Test}
source: {document: test fixture}
license: CC0-1.0
"""
LEVELS = """default_level: low
levels:
  - {id: low, label: {ja: 低, en: Low}, provenance: inferred, source: {document: t}}
  - {id: high, label: {ja: 高, en: High}, provenance: inferred, source: {document: t}}
"""
STEPS = """steps:
  - {id: ask, title: {ja: 質問, en: Ask}, provenance: inferred, source: {document: t}}
"""
S = "provenance: inferred, source: {document: t}"
#: the same in block style, for an element indented by four spaces
SB = "provenance: inferred\n    source: {document: t}"

IMPACT = {"PH-1": "production", "IM-4": "説明"}


def write(tmp_path: Path, text: str, name: str = "p") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "pack.yaml").write_text(text, encoding="utf-8")
    return folder


def errors_of(tmp_path: Path, text: str, parents=None) -> list[str]:
    folder = write(tmp_path, text)
    with pytest.raises(PackLoadError) as info:
        load_pack_dir(folder, parents=parents)
    prefix = f"{folder / 'pack.yaml'}:"
    out = []
    for e in info.value.errors:
        s = str(e)
        assert s.startswith(prefix), s
        out.append(s[len(prefix):])
    return out


# -- points --------------------------------------------------------------------------------------


def test_points_add_up_and_are_reported(four_level_pack):
    answers = {**IMPACT, "IM-1": "public", "IM-2": ["personal"], "IM-3": "human_decides", "MT-1": ["opt_out"]}
    result = classify(four_level_pack, answers)
    assert result.level == "III"
    assert dict(result.points_by_question) == {"IM-1": 4, "IM-2": 2, "IM-3": 0, "MT-1": 1}
    totals = {(t.questions, t.at_least): t for t in result.points_totals}
    impact = ("IM-1", "IM-2", "IM-3")
    assert set(totals) == {(impact, 3), (impact, 6), (impact, 9), (impact, 12), (("MT-1",), 4)}
    six = totals[(impact, 6)]
    assert (six.total, six.min_possible, six.max_possible, six.value) == (6, 6, 6, True)
    assert totals[(impact, 3)].used_by == ("MT-1", "R-II")  # MT-1's applies_when, and the rule
    assert totals[(impact, 9)].value is False and totals[(("MT-1",), 4)].value is False
    assert dict(result.reasons[1].inputs) == {"IM-1": "public", "IM-2": ("personal",)}
    data = result.to_dict("en")
    assert data["points"]["by_question"] == {"IM-1": 4, "IM-2": 2, "IM-3": 0, "MT-1": 1}
    assert data["points"]["totals"][0] == {
        "questions": ["IM-1", "IM-2", "IM-3"], "at_least": 3, "total": 6, "min_possible": 6,
        "max_possible": 6, "value": True, "used_by": ["MT-1", "R-II"]}
    assert data["reasons"][1]["inputs"] == {"IM-1": "public", "IM-2": ["personal"]}
    assert data["level_info"] == {"tone": "warning", "high_risk": False, "out_of_scope": False}
    json.dumps(data)


def test_points_while_unanswered_are_three_valued(four_level_pack):
    # public (4) + personal (2) = 6 known; IM-3 can still add 0..4.
    result = classify(four_level_pack, {"IM-1": "public", "IM-2": ["personal"]})
    totals = {t.at_least: t for t in result.points_totals if t.questions == ("IM-1", "IM-2", "IM-3")}
    assert (totals[6].total, totals[6].min_possible, totals[6].max_possible) == (6, 6, 10)
    assert totals[6].value is True and totals[9].value is None and totals[12].value is False
    assert result.points_by_question["IM-3"] is None
    assert "MT-1" in result.points_by_question and result.points_by_question["MT-1"] is None


def test_a_question_that_does_not_apply_adds_nothing_and_is_left_out(four_level_pack):
    result = classify(four_level_pack, {"IM-1": "staff", "IM-2": [], "IM-3": "human_decides", "MT-1": ["red_team"]})
    assert result.ignored_answers == ["MT-1"]
    assert dict(result.points_by_question) == {"IM-1": 0, "IM-2": 0, "IM-3": 0}
    mt = next(t for t in result.points_totals if t.questions == ("MT-1",))
    assert (mt.total, mt.max_possible, mt.value) == (0, 0, False)


def test_negative_points_delay_a_true_until_it_cannot_change(tmp_path):
    text = HEAD + LEVELS + STEPS + f"""questions:
  - id: A
    step: ask
    text: {{ja: A, en: A}}
    options:
      - {{value: big, label: {{ja: 大, en: Big}}, points: 5}}
      - {{value: zero, label: {{ja: 零, en: Zero}}}}
    {SB}
  - id: B
    step: ask
    text: {{ja: B, en: B}}
    options:
      - {{value: minus, label: {{ja: 減, en: Minus}}, points: -3}}
      - {{value: plus, label: {{ja: 増, en: Plus}}, points: 1}}
    {SB}
rules:
  - {{id: R, level: high, when: {{points_at_least: {{questions: [A, B], at_least: 4}}}}, message: {{ja: 高, en: High}}, {S}}}
"""
    pack = load_pack_dir(write(tmp_path, text))
    assert classify(pack, {"A": "big"}).level == "low"          # B may still bring -3: unknown
    total = classify(pack, {"A": "big"}).points_totals[0]
    assert (total.total, total.min_possible, total.max_possible, total.value) == (5, 2, 6, None)
    assert classify(pack, {"A": "big", "B": "plus"}).level == "high"
    assert classify(pack, {"A": "big", "B": "minus"}).level == "low"
    assert classify(pack, {"A": "zero"}).points_totals[0].value is False   # at most 0 + 1


@pytest.mark.parametrize(
    "rule,message",
    [
        ("{points_at_least: {questions: [A], at_least: 4}}", "questions[0]: question 'A' has no option with points"),
        ("{points_at_least: {questions: [B], at_least: 4}}", "at_least: at_least 4 can never be reached: the listed questions give at most 3 points"),
        ("{points_at_least: {questions: [B], at_least: 0}}", "at_least: at_least 0 is always reached: the listed questions give at least 0 points"),
        ("{points_at_least: {questions: [B, B], at_least: 2}}", "questions: a question is listed twice"),
        ("{points_at_least: {questions: [T], at_least: 2}}", "questions[0]: question 'T' is a free-text question: only `answered` applies to it, not 'points_at_least'"),
    ],
)
def test_points_at_least_load_errors(tmp_path, rule, message):
    text = HEAD + LEVELS + STEPS + f"""questions:
  - id: A
    step: ask
    text: {{ja: A, en: A}}
    options: [{{value: a, label: {{ja: a, en: a}}}}]
    {SB}
  - id: B
    step: ask
    text: {{ja: B, en: B}}
    options: [{{value: b, label: {{ja: b, en: b}}, points: 3}}, {{value: c, label: {{ja: c, en: c}}}}]
    {SB}
  - {{id: T, step: ask, kind: text, text: {{ja: T, en: T}}, {S}}}
rules:
  - id: R
    level: high
    when: {rule}
    message: {{ja: 高, en: High}}
    {SB}
"""
    errors = errors_of(tmp_path, text)
    assert len(errors) == 1, errors
    assert errors[0].startswith("32: rules[R].when.points_at_least.") and errors[0].endswith(message), errors


def test_the_resolved_pack_shows_option_points(four_level_pack, national_v2):
    options = next(q for q in four_level_pack.to_dict()["questions"] if q["id"] == "IM-1")["options"]
    assert [o["points"] for o in options] == [0, 2, 4]
    assert all("points" not in o for q in national_v2.to_dict()["questions"] for o in q["options"])


# -- multiple choice -------------------------------------------------------------------------------


def test_multiple_choice_answers_are_tuples_in_option_order(four_level_pack):
    clean = check_answers(four_level_pack, {"IM-2": ["confidential", "personal"], "MT-1": []})
    assert clean == {"IM-2": ("personal", "confidential"), "MT-1": ()}


@pytest.mark.parametrize(
    "value,problem",
    [
        ("personal", "IM-2: expected a list of option values (multiple choice); got 'personal'"),
        (["personal", "personal"], "IM-2: 'personal' is selected twice"),
        (["personal", "secret"], "IM-2: 'secret' is not an option (options: personal, special_care, confidential, public_data)"),
        ([1], "IM-2: 1 is not an option"),
    ],
)
def test_bad_multiple_choice_answers_name_question_and_value(four_level_pack, value, problem):
    with pytest.raises(InvalidAnswersError) as info:
        classify(four_level_pack, {"IM-1": "staff", "IM-2": value})
    assert info.value.problems[0].startswith(problem), info.value.problems


def test_a_list_for_a_single_choice_question_is_refused(four_level_pack):
    with pytest.raises(InvalidAnswersError, match=r"IM-1: \['staff'\] is not an option"):
        classify(four_level_pack, {"IM-1": ["staff"]})


def test_every_problem_is_named_at_once_in_the_order_of_the_answers(four_level_pack):
    with pytest.raises(InvalidAnswersError) as info:
        classify(four_level_pack, {"MT-1": "logging", "IM-1": "staff", "IM-2": ["x"], "IM-3": None, "ZZ": 1})
    assert info.value.problems == [
        "MT-1: expected a list of option values (multiple choice); got 'logging'",
        "IM-2: 'x' is not an option (options: personal, special_care, confidential, public_data)",
        "unknown question 'ZZ'",
    ]


def test_answer_equals_on_a_multiple_question_is_a_load_error(tmp_path):
    text = HEAD + LEVELS + STEPS + f"""questions:
  - id: M
    step: ask
    multiple: true
    text: {{ja: M, en: M}}
    options: [{{value: a, label: {{ja: a, en: a}}}}, {{value: b, label: {{ja: b, en: b}}, points: -1}}]
    {SB}
rules:
  - {{id: R, level: high, when: {{answer_equals: {{question: M, value: a}}}}, message: {{ja: 高, en: High}}, {S}}}
"""
    assert errors_of(tmp_path, text) == [
        "20: questions[M].options[1].points: points of a multiple-choice question must not be negative; got -1",
        ("24: rules[R].when.answer_equals.question: question 'M' takes several answers (multiple: true): "
        "use answer_in, true when any selected value is listed"),
    ]


# -- free text -------------------------------------------------------------------------------------


def test_free_text_answers(four_level_pack):
    long_text = "あ" * 1001
    with pytest.raises(InvalidAnswersError) as info:
        classify(four_level_pack, {"IM-4": long_text, "MT-2": "ok\x00", "PH-1": "pilot"})
    assert info.value.problems == [
        "IM-4: the text has 1001 characters; the limit is 1000",
        "MT-2: the text holds the character U+0000 at position 3, which cannot be stored; use plain text",
    ]
    with pytest.raises(InvalidAnswersError, match="IM-4: expected text; got 3"):
        classify(four_level_pack, {"IM-4": 3})
    with pytest.raises(InvalidAnswersError, match=r"U\+0085"):
        classify(four_level_pack, {"IM-4": "next\x85line"})
    # Non-characters a workbook cannot hold are refused like in every other text field (the
    # audit export would no longer verify against the chain).
    for bad in ("\ufffe", "\uffff"):
        with pytest.raises(InvalidAnswersError, match=f"U\\+{ord(bad):04X}"):
            check_answers(four_level_pack, {"IM-4": f"ok{bad}"})
    assert check_answers(four_level_pack, {"IM-4": "あ" * 1000})["IM-4"] == "あ" * 1000
    assert check_answers(four_level_pack, {"IM-4": "  \n "}) == {}
    assert four_level_pack.question("MT-2").max_length == 2000
    assert four_level_pack.question("IM-4").is_text and four_level_pack.question("IM-4").options == ()


@pytest.mark.parametrize(
    "question,message",
    [
        ("{id: T, step: ask, kind: text, text: {ja: T, en: T}, options: [{value: a, label: {ja: a, en: a}}], " + S + "}",
         "questions[T].options: a free-text question (kind: text) has no options"),
        ("{id: T, step: ask, kind: text, multiple: true, text: {ja: T, en: T}, " + S + "}",
         "questions[T].multiple: a free-text question (kind: text) cannot be multiple"),
        ("{id: T, step: ask, max_length: 10, text: {ja: T, en: T}, options: [{value: a, label: {ja: a, en: a}}], " + S + "}",
         "questions[T].max_length: max_length is for free-text questions (kind: text) only"),
        ("{id: T, step: ask, text: {ja: T, en: T}, " + S + "}",
         "questions[T]: missing key 'options' (a choice question needs at least one option"),
        ("{id: T, step: ask, kind: text, max_length: 0, text: {ja: T, en: T}, " + S + "}",
         "questions[T].max_length: Input should be greater than or equal to 1"),
        ("{id: T, step: ask, kind: essay, text: {ja: T, en: T}, " + S + "}",
         "questions[T].kind: expected 'choice' or 'text'; got 'essay'"),
    ],
)
def test_question_kind_load_errors(tmp_path, question, message):
    errors = errors_of(tmp_path, HEAD + LEVELS + STEPS + "questions:\n  - " + question + "\n")
    assert len(errors) == 1 and errors[0].startswith("16: " + message), errors


def test_only_answered_applies_to_free_text(tmp_path):
    text = HEAD + LEVELS + STEPS + f"""questions:
  - {{id: T, step: ask, kind: text, text: {{ja: T, en: T}}, {S}}}
rules:
  - {{id: R1, level: high, when: {{answered: {{question: T}}}}, message: {{ja: 高, en: High}}, {S}}}
  - {{id: R2, level: high, when: {{answer_in: {{question: T, values: [x]}}}}, message: {{ja: 高, en: High}}, {S}}}
  - {{id: R3, level: high, when: {{count_in: {{questions: [T], values: [x], at_least: 1}}}}, message: {{ja: 高, en: High}}, {S}}}
"""
    assert errors_of(tmp_path, text) == [
        "19: rules[R2].when.answer_in.question: question 'T' is a free-text question: only `answered` applies to it, not 'answer_in'",
        "20: rules[R3].when.count_in.questions[0]: question 'T' is a free-text question: only `answered` applies to it, not 'count_in'",
    ]
    ok = load_pack_dir(write(tmp_path, text.split("  - {id: R2")[0], "ok"))
    assert classify(ok, {"T": "some text"}).level == "high"
    assert classify(ok, {"T": ""}).level == "low"


# -- languages --------------------------------------------------------------------------------------


def test_pick_text_prefers_the_reader_then_the_first_language():
    assert pick_text({"ja": "日本語", "en": "English"}, "en", ("ja", "en")) == "English"
    assert pick_text({"ja": "日本語"}, "en", ("ja", "en")) == "日本語"
    assert pick_text({"en": "English", "ja": "日本語"}, "fr", ("en", "ja")) == "English"
    assert pick_text(None, "en", ("ja",)) is None


def test_a_child_text_with_only_the_first_language_falls_back(registry):
    child = PackRegistry(registry.packs()).load_dir(HERE / "children" / "impact-child")
    q = child.question("CQ-1")
    assert q.text == {"ja": "出力をウェブで公開しますか。"}
    assert child.text(q.text, "en") == "出力をウェブで公開しますか。"
    result = classify(child, {"CQ-1": "yes"})
    assert result.to_dict("en")["flags"][0]["label"] == "ウェブ公開"
    assert result.to_dict(None)["flags"][0]["label"] == {"ja": "ウェブ公開"}
    assert child.languages == ("ja", "en") and child.content_dict()["languages"] == ["ja", "en"]


def test_declared_languages(tmp_path):
    text = HEAD.replace("title: {ja: 形式, en: Format}", "title: {en: Format, pt-BR: Formato}") + \
        "languages: [en, pt-BR]\n" + LEVELS.replace("{ja: 低, en: Low}", "{en: Low}").replace(
            "{ja: 高, en: High}", "{en: High, fr: Haut}") + STEPS.replace("{ja: 質問, en: Ask}", "{ja: 質問}")
    assert errors_of(tmp_path, text) == [
        "6: publisher.ja: language 'ja' is not declared in languages (en, pt-BR)",
        "13: levels[high].label.fr: language 'fr' is not declared in languages (en, pt-BR)",
        "15: steps[ask].title.ja: language 'ja' is not declared in languages (en, pt-BR)",
        "15: steps[ask].title: missing the pack's first language 'en' (every text must have it)",
    ]


def test_a_legacy_pack_needs_both_japanese_and_english(tmp_path):
    text = HEAD + LEVELS.replace("{ja: 低, en: Low}", "{ja: 低}").replace("{ja: 高, en: High}", "{ja: 高, en: High, fr: Haut}") + STEPS
    assert errors_of(tmp_path, text) == [
        "11: levels[low].label: missing key 'en'",
        "12: levels[high].label.fr: unknown key 'fr' (allowed: ja, en; a pack that declares `languages` may use others)",
    ]


def test_languages_come_from_the_base_pack(tmp_path, registry):
    child = """id: impact-kid
version: 1.0.0
title: {ja: 子, en: Kid}
edition: 2026-05-01
effective_from: 2026-05-01
publisher: {ja: テスト, en: Test}
source: {document: t}
license: CC0-1.0
extends: {id: example-impact, version: "1"}
languages: [en, ja]
"""
    errors = errors_of(tmp_path, child, parents=registry)
    assert errors == ["10: languages: languages come from the base pack (ja, en); a child pack may only repeat that list"]


# -- levels and steps ------------------------------------------------------------------------------


def test_national_levels_and_steps_come_from_the_legacy_table(national_v1, national_v2, city_strict):
    for pack in (national_v1, national_v2, city_strict):
        assert pack.high_risk_levels() == ("high",)
        assert pack.out_of_scope_levels() == ("out_of_scope",)
        assert [lv.tone for lv in pack.levels] == ["neutral", "success", "warning", "danger"]
        assert pack.level("review").legacy == ("tone",)
        assert pack.level("high").next_steps is None
        assert [s.id for s in pack.steps_of_kind("report")] == ["board_report"]
        assert pack.step("board_report").body["en"] == "Advanced AI Utilization Advisory Board"
        assert pack.steps_of_kind("consultation") == () and pack.steps_of_kind("operation") == ()
        assert all(i.evidence_required for i in pack.items)
    assert set(LEGACY_LEVELS) == {"out_of_scope", "low", "review", "high"} and set(LEGACY_STEPS) == {"board_report"}
    high = classify(national_v2, {"SC-1": "yes", "SC-2": "no", "HR-1": "public"})
    assert (high.tone, high.high_risk, high.out_of_scope) == ("danger", True, False)
    assert [s.id for s in national_v2.report_steps(high)] == ["board_report"]
    low = classify(national_v2, {"SC-1": "no"})
    assert (low.tone, low.high_risk, low.out_of_scope) == ("neutral", False, True)
    assert national_v2.report_steps(low) == ()
    with pytest.raises(NotFoundError, match="unknown step kind 'meeting'"):
        national_v2.steps_of_kind("meeting")


def test_a_pack_declares_its_levels_and_steps(four_level_pack):
    pack = four_level_pack
    assert [lv.id for lv in pack.levels] == ["I", "II", "III", "IV"]
    assert [lv.tone for lv in pack.levels] == ["success", "info", "warning", "danger"]
    assert pack.high_risk_levels() == ("IV",) and pack.out_of_scope_levels() == ()
    assert all(lv.legacy == () for lv in pack.levels)
    assert pack.level("IV").next_steps["en"].startswith("A high-risk case")
    assert pack.level_rank("III") == 2
    assert [s.id for s in pack.steps_of_kind("consultation")] == ["data_protection"]
    assert [s.id for s in pack.steps_of_kind("report")] == ["ethics_report"]
    assert [s.id for s in pack.steps_of_kind("operation")] == ["monitoring"]
    assert pack.step("ethics_report").body == {"ja": "AI倫理委員会", "en": "AI Ethics Committee"}
    assert pack.item("EX-2").evidence_required is False and pack.item("EX-1").evidence_required is True
    result = classify(pack, {"IM-1": "public", "IM-2": ["special_care"], "IM-3": "sampled", "MT-1": []})
    assert result.level == "IV" and result.high_risk
    assert [s.id for s in pack.report_steps(result)] == ["data_protection", "ethics_report"]
    assert "legacy_defaults" not in pack.to_dict()
    content_levels = pack.content_dict()["levels"]
    assert content_levels[3]["high_risk"] is True and content_levels[3]["tone"] == "danger"


@pytest.mark.parametrize(
    "element,message",
    [
        ("levels:\n  - {id: low, label: {ja: 低, en: Low}, tone: red, " + S + "}\n",
         "11: levels[low].tone: expected 'neutral', 'info', 'success', 'warning' or 'danger'; got 'red'"),
        ("levels:\n  - {id: low, label: {ja: 低, en: Low}, high_risk: true, out_of_scope: true, " + S + "}\n",
         "11: levels[low]: a level cannot be both high_risk and out_of_scope"),
        ("levels:\n  - {id: low, label: {ja: 低, en: Low}, " + S + "}\nsteps:\n  - {id: s, title: {ja: s, en: s}, kind: report, " + S + "}\n",
         "13: steps[s]: missing key 'body' (a report step names the body reported to or consulted)"),
        ("levels:\n  - {id: low, label: {ja: 低, en: Low}, " + S + "}\nsteps:\n  - {id: s, title: {ja: s, en: s}, body: {ja: 委員会, en: Board}, " + S + "}\n",
         "13: steps[s].body: body is for report and consultation steps (add kind: report or consultation)"),
        ("levels:\n  - {id: low, label: {ja: 低, en: Low}, " + S + "}\nsteps:\n  - {id: s, title: {ja: s, en: s}, kind: meeting, " + S + "}\n",
         "13: steps[s].kind: expected 'report', 'consultation' or 'operation'; got 'meeting'"),
    ],
)
def test_level_and_step_load_errors(tmp_path, element, message):
    errors = errors_of(tmp_path, HEAD + "default_level: low\n" + element)
    assert errors == [message]


def test_a_declared_key_wins_over_the_legacy_table(tmp_path):
    text = HEAD + f"""default_level: low
levels:
  - {{id: low, label: {{ja: 低, en: Low}}, {S}}}
  - {{id: high, label: {{ja: 高, en: High}}, high_risk: false, tone: warning, {S}}}
steps:
  - {{id: board_report, title: {{ja: 報告, en: Report}}, kind: consultation, body: {{ja: 市の委員会, en: City board}}, {S}}}
"""
    pack = load_pack_dir(write(tmp_path, text))
    assert pack.level("high").high_risk is False and pack.level("high").tone == "warning"
    assert pack.level("high").legacy == () and pack.level("low").legacy == ("tone",)
    assert pack.step("board_report").kind == "consultation" and pack.step("board_report").body["en"] == "City board"
    assert pack.to_dict()["legacy_defaults"] == {"levels": {"low": {"tone": "success"}}}


# -- flags and consistency rules ---------------------------------------------------------------------


def test_flags_are_findings_with_a_label(four_level_pack):
    result = classify(four_level_pack, {"PH-1": "pilot"})
    flag = result.flags[0]
    assert (flag.id, dict(flag.inputs), flag.label["en"]) == ("F-PILOT", {"PH-1": "pilot"}, "Pilot")
    data = result.to_dict("ja")["flags"][0]
    assert data["label"] == "試行" and data["message"].startswith("試行の案件です")
    assert "label" not in classify(four_level_pack, {"IM-1": "staff", "IM-2": ["special_care"], "IM-3": "automatic"}
                                   ).to_dict()["blocking"][0]


def test_check_consistency(four_level_pack):
    answers = {"IM-1": "public", "IM-2": [], "IM-3": "human_decides", "MT-1": ["logging", "human_review", "red_team"]}
    findings = check_consistency(four_level_pack, answers, {"EX-3": "not_met", "EX-4": "not_applicable"})
    assert [f.id for f in findings] == ["C-LOGGING", "C-MITIGATION-TEXT", "C-PUBLIC-NOTICE"]
    assert dict(findings[0].inputs) == {"MT-1": ("human_review", "logging", "red_team"), "EX-3": "not_met"}
    assert findings[0].to_dict("en")["inputs"]["MT-1"] == ["human_review", "logging", "red_team"]
    assert check_consistency(four_level_pack, {**answers, "MT-2": "説明"}, {"EX-3": "met"}) == []
    assert check_consistency(four_level_pack, {}, None) == []
    with pytest.raises(InvalidAnswersError) as info:
        check_consistency(four_level_pack, answers, {"EX-9": "met", "EX-3": "done"})
    assert info.value.problems == [
        "unknown checklist item 'EX-9'",
        f"EX-3: 'done' is not a status (statuses: {', '.join(ITEM_STATUSES)})",
    ]


def test_check_consistency_on_a_pack_without_rules_still_checks_the_input(national_v2):
    assert check_consistency(national_v2, {"SC-1": "yes"}, {"PC-G1": "met"}) == []
    with pytest.raises(InvalidAnswersError, match="unknown checklist item 'LG-1'"):
        check_consistency(national_v2, {}, {"LG-1": "met"})


def test_item_status_in_only_in_consistency_rules(tmp_path):
    text = HEAD + LEVELS + STEPS + f"""checklists:
  - id: list
    title: {{ja: 一覧, en: List}}
    step: ask
    items:
      - {{id: I-1, category: process, text: {{ja: 項目, en: Item}}, required_when: {{level_at_least: low}}, {S}}}
blocking:
  - {{id: B, when: {{item_status_in: {{item: I-1, statuses: [not_met]}}}}, message: {{ja: 止, en: Stop}}, {S}}}
consistency:
  - {{id: C1, when: {{item_status_in: {{item: I-2, statuses: [done]}}}}, message: {{ja: 警告, en: Warning}}, {S}}}
  - {{id: C2, when: {{all: [{{level_is: high}}, {{item_status_in: {{item: I-1, statuses: [pending]}}}}]}}, message: {{ja: 警告, en: Warning}}, {S}}}
"""
    assert errors_of(tmp_path, text) == [
        ("22: blocking[B].when.item_status_in: condition 'item_status_in' reads checklist item statuses, "
        "which are known only in consistency rules (not in when of blocking finding B)"),
        "24: consistency[C1].when.item_status_in.item: unknown checklist item 'I-2'",
        "24: consistency[C1].when.item_status_in.statuses[0]: unknown status 'done' (statuses: met, not_met, not_applicable, pending)",
    ]


def test_flags_and_consistency_rules_layer_like_other_elements(registry, four_level_pack):
    child = PackRegistry(registry.packs()).load_dir(HERE / "children" / "impact-child")
    assert [f.id for f in child.flags] == ["F-PILOT", "CF-PUBLISHED"]
    assert [c.id for c in child.consistency] == ["C-LOGGING", "C-MITIGATION-TEXT"]
    assert child.flag("F-PILOT").override["reason"]["en"] == "Only pilots of class II or above are flagged."
    assert child.consistency_rule("C-LOGGING").layer == "impact-child@1.0.0"
    with pytest.raises(NotFoundError):
        child.flag("F-UNMITIGATED")
    from procurement.packs import diff_packs

    d = diff_packs(four_level_pack, child)
    assert d.kinds["flags"].added == ["CF-PUBLISHED"] and d.kinds["flags"].removed == ["F-UNMITIGATED"]
    assert d.kinds["flags"].changed == {"F-PILOT": ["when"]}
    assert d.kinds["consistency"].removed == ["C-PUBLIC-NOTICE"] and d.kinds["consistency"].changed == {"C-LOGGING": ["when"]}


# -- option effects ----------------------------------------------------------------------------------


def test_option_effects_on_the_national_pack(national_v2, city_strict):
    from procurement.packs import option_effects

    effects = option_effects(national_v2)
    assert effects["HR-1"] == {"gov_external": "review", "public": "high"}
    assert effects["HR-3"] == {"conf2_input": "review", "conf2_training": "high", "personal_training": "high"}
    assert effects["HR-4"] == {"partial_review": "review", "no_review": "high"}
    assert "SC-1" not in effects and "SC-4" not in effects   # out of scope is not a raise
    assert option_effects(city_strict) == effects


def test_option_effects_on_points_and_negations(four_level_pack, tmp_path):
    from procurement.packs import option_effects

    effects = option_effects(four_level_pack)
    assert effects["IM-1"] == {"partners": "IV", "public": "IV"}
    assert effects["IM-2"] == {"personal": "IV", "special_care": "IV", "confidential": "IV"}
    assert "MT-1" not in effects and "PH-1" not in effects   # mitigations lower the level
    text = HEAD + LEVELS + STEPS + f"""questions:
  - id: A
    step: ask
    text: {{ja: A, en: A}}
    options: [{{value: x, label: {{ja: x, en: x}}}}, {{value: y, label: {{ja: y, en: y}}}}, {{value: z, label: {{ja: z, en: z}}}}]
    {SB}
rules:
  - {{id: R, level: high, when: {{not: {{answer_in: {{question: A, values: [x]}}}}}}, message: {{ja: 高, en: High}}, {S}}}
"""
    assert option_effects(load_pack_dir(write(tmp_path, text))) == {"A": {"y": "high", "z": "high"}}
