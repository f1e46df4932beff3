"""The engine: classify is pure and deterministic, explains itself, and refuses bad answers."""

from __future__ import annotations

import copy
import json

import pytest

from procurement.errors import InputError
from procurement.packs import InvalidAnswersError, check_answers, classify

FULL_LOW = {
    "SC-1": "yes", "SC-2": "no", "SC-3": "fy2026_or_later", "SC-4": "contracted_saas",
    "HR-1": "staff_limited", "HR-2": "internal_support", "HR-3": "public_only", "HR-4": "always_reviewed",
}


def test_the_result_has_the_contract_shape(national_v2):
    data = classify(national_v2, {**FULL_LOW, "HR-1": "public"}).to_dict("en")
    assert {"level", "complete", "unanswered", "reasons", "blocking", "required_steps",
            "required_items", "recommended_items", "pack"} <= set(data)
    assert data["pack"] == {"id": "jp-national", "version": "2.0.0", "fingerprint": national_v2.fingerprint}
    reason = data["reasons"][0]
    assert reason["rule_id"] == "R-HIGH-1"
    assert reason["inputs"] == {"HR-1": "public"}
    assert reason["message"].startswith("The public uses the system")
    assert reason["provenance"] == "inferred"
    assert reason["source"]["document"].startswith("DS-920")
    json.dumps(data)  # JSON-ready


def test_messages_in_japanese_by_default_and_both_without_a_language(national_v2):
    result = classify(national_v2, {**FULL_LOW, "HR-4": "no_review"})
    assert result.to_dict()["reasons"][0]["message"].startswith("職員が確認せずに")
    both = result.to_dict(lang=None)["reasons"][0]["message"]
    assert set(both) == {"ja", "en"}


def test_classify_is_deterministic_and_does_not_touch_the_answers(national_v2):
    answers = {**FULL_LOW, "HR-2": "public_info", "HR-3": "conf2_input"}
    before = copy.deepcopy(answers)
    first = classify(national_v2, answers)
    assert classify(national_v2, dict(reversed(list(answers.items())))) == first
    assert answers == before


def test_a_missing_answer_never_lowers_the_level(national_v2):
    # Removing any single answer from a high case keeps it high (provisionally) or makes it
    # incomplete; it never yields a lower complete result.
    high = {**FULL_LOW, "HR-3": "personal_training", "HR-1": "gov_external"}
    for qid in high:
        if qid == "HR-3":
            continue
        partial = {k: v for k, v in high.items() if k != qid}
        result = classify(national_v2, partial)
        assert result.level == "high", qid
        assert result.complete is False and result.unanswered == [qid]


def test_required_items_never_shrink_with_a_missing_answer(city_strict):
    full = {**FULL_LOW, "LQ-1": "yes"}
    partial = dict(FULL_LOW)
    assert set(classify(city_strict, full).required_items) <= set(classify(city_strict, partial).required_items)


def test_bad_answers_raise_one_error_naming_every_problem(national_v2):
    with pytest.raises(InvalidAnswersError) as info:
        classify(national_v2, {"SC-1": "maybe", "XX-1": "yes", "HR-1": 3})
    err = info.value
    assert isinstance(err, InputError)
    assert err.problems == [
        "SC-1: 'maybe' is not an option (options: yes, no)",
        "unknown question 'XX-1'",
        "HR-1: 3 is not an option (options: staff_limited, staff_wide, gov_external, public)",
    ]
    assert str(err).startswith("invalid answers for pack jp-national@2.0.0: ")
    assert err.params["pack"] == "jp-national@2.0.0"


def test_answers_must_be_a_mapping(national_v2):
    with pytest.raises(InvalidAnswersError, match="answers must be an object"):
        classify(national_v2, ["SC-1", "yes"])


def test_check_answers_drops_nulls(national_v2):
    assert check_answers(national_v2, {"SC-1": "yes", "SC-2": None}) == {"SC-1": "yes"}


def test_the_result_keeps_only_the_answers_that_count(national_v2):
    result = classify(national_v2, {"SC-1": "no", "HR-1": "public"})
    assert result.answers == {"SC-1": "no"}
    assert result.ignored_answers == ["HR-1"]
    assert result.pack_ref == national_v2.ref


def test_edition_2_adds_two_items_to_the_same_classification(national_v1, national_v2):
    high = {**FULL_LOW, "HR-1": "public"}
    r1, r2 = classify(national_v1, high), classify(national_v2, high)
    assert (r1.level, [r.rule_id for r in r1.reasons]) == (r2.level, [r.rule_id for r in r2.reasons])
    assert set(r2.required_items) - set(r1.required_items) == {"PC-T2"}
    assert set(r2.recommended_items) - set(r1.recommended_items) == {"PC-IP1"}


def test_national_content_matches_the_domain_reference(national_v1, national_v2):
    assert [lv.id for lv in national_v2.levels] == ["out_of_scope", "low", "review", "high"]
    assert [s.id for s in national_v2.steps] == [
        "intake", "scope", "classification", "board_report", "procurement_checklist",
        "contract_checklist", "submission", "approval",
    ]
    assert [q.id for q in national_v2.questions] == ["SC-1", "SC-2", "SC-3", "SC-4", "HR-1", "HR-2", "HR-3", "HR-4"]
    assert national_v2.question("HR-2").option_values == (
        "internal_support", "policy_reference", "public_info", "rights_affecting", "life_safety")
    assert [c.id for c in national_v2.checklists] == ["procurement", "contract", "usage_rules"]
    assert [c.step for c in national_v2.checklists] == ["procurement_checklist", "contract_checklist", "submission"]
    assert len(national_v2.checklist("procurement").items) == 20
    assert len(national_v1.checklist("procurement").items) == 18
    assert len(national_v2.checklist("contract").items) == 13
    assert len(national_v2.checklist("usage_rules").items) == 8
    assert national_v1.edition.isoformat() == "2025-05-27"
    assert national_v2.edition.isoformat() == "2026-06-12"


def test_every_element_has_both_languages_provenance_and_source(registry):
    for pack in registry:
        data = pack.to_dict()
        for kind in ("levels", "questions", "rules", "blocking", "steps"):
            for el in data[kind]:
                assert el["provenance"] in ("confirmed", "secondary", "inferred"), (pack.key, el["id"])
                assert el["source"]["document"], (pack.key, el["id"])
        for q in pack.questions:
            assert q.help and q.help["ja"] and q.help["en"], (pack.key, q.id)
            for o in q.options:
                assert o.label["ja"] and o.label["en"]
        for it in pack.items:
            assert it.text["ja"] and it.text["en"] and it.source["document"]


def test_cached_level_plans_agree_with_evaluating_every_condition(registry):
    # The engine caches level-only step and item conditions per level; check it against a
    # direct evaluation of every condition on many answer sets, in every shipped pack.
    import random

    from procurement.packs.conditions import NOT_APPLICABLE

    rng = random.Random(7)

    def answer(q):
        if q.is_text:
            return rng.choice((None, "", "some text"))
        if q.multiple:
            return rng.choice((None, [v for v in q.option_values if rng.random() < 0.4]))
        return rng.choice(q.option_values + (None,))

    for pack in registry:
        for _ in range(300):
            answers = {q.id: answer(q) for q in pack.questions}
            result = classify(pack, answers)
            effective = dict(result.answers)
            effective.update({q.id: NOT_APPLICABLE for q in pack.questions if q.id not in result.applicable_questions})
            rank = pack.level_rank(result.level)
            steps = [s.id for s in pack.steps if s.applies is None or s.applies.evaluate(effective, rank) is not False]
            required = [i.id for i in pack.items
                        if i.required_cond is not None and i.required_cond.evaluate(effective, rank) is not False]
            recommended = [i.id for i in pack.items if i.id not in required
                           and i.recommended_cond is not None and i.recommended_cond.evaluate(effective, rank) is True]
            assert (result.required_steps, result.required_items, result.recommended_items) == (
                steps, required, recommended), (pack.key, answers)
