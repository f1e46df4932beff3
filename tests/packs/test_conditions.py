"""The condition vocabulary: three-valued truth tables and compile-time errors."""

from __future__ import annotations

import pytest

from procurement.packs.conditions import (
    CONDITIONS,
    NOT_APPLICABLE,
    CompileContext,
    QInfo,
    compile_condition,
)

QUESTIONS = {
    "A": QInfo(("yes", "no")),
    "B": QInfo(("x", "y", "z")),
    "C": QInfo(("x", "y")),
}
LEVELS = {"none": 0, "low": 1, "high": 2}


def compiled(raw, allow_level=True):
    ctx = CompileContext(QUESTIONS, LEVELS, allow_level, "a test", frozenset(QUESTIONS))
    cond = compile_condition(raw, ctx)
    assert not ctx.errors, ctx.errors
    return cond


def errors_of(raw, allow_level=True, questions=QUESTIONS):
    ctx = CompileContext(questions, LEVELS, allow_level, "a test", frozenset(QUESTIONS))
    assert compile_condition(raw, ctx) is None
    return ctx.errors


A_YES = {"answer_equals": {"question": "A", "value": "yes"}}
B_X = {"answer_equals": {"question": "B", "value": "x"}}


@pytest.mark.parametrize(
    "answers,expected", [({"A": "yes"}, True), ({"A": "no"}, False), ({}, None), ({"A": NOT_APPLICABLE}, False)]
)
def test_answer_equals(answers, expected):
    assert compiled(A_YES).evaluate(answers, None) is expected


@pytest.mark.parametrize("answers,expected", [({"B": "y"}, True), ({"B": "z"}, False), ({}, None)])
def test_answer_in(answers, expected):
    assert compiled({"answer_in": {"question": "B", "values": ["x", "y"]}}).evaluate(answers, None) is expected


@pytest.mark.parametrize("answers,expected", [({"A": "no"}, True), ({}, False), ({"A": NOT_APPLICABLE}, False)])
def test_answered_is_never_unknown(answers, expected):
    assert compiled({"answered": {"question": "A"}}).evaluate(answers, None) is expected


COUNT = {"count_in": {"questions": ["A", "B", "C"], "values": ["yes", "x"], "at_least": 2}}


@pytest.mark.parametrize(
    "answers,expected",
    [
        ({"A": "yes", "B": "x"}, True),           # reaches N
        ({"A": "yes", "B": "y", "C": "y"}, False),  # complete, one short
        ({"A": "no", "B": "y"}, False),           # one unknown cannot reach N
        ({"A": "yes"}, None),                     # one true, two unknown: still open
        ({"A": "no"}, None),                      # two unknown could still reach N
        ({"A": "yes", "B": NOT_APPLICABLE, "C": "y"}, False),
    ],
)
def test_count_in(answers, expected):
    assert compiled(COUNT).evaluate(answers, None) is expected


T, F, U = A_YES, {"answer_equals": {"question": "A", "value": "no"}}, B_X
KLEENE = {"A": "yes"}  # T is true, F is false, U is unknown (B unanswered)


@pytest.mark.parametrize(
    "children,all_,any_",
    [
        ([T, T], True, True),
        ([T, F], False, True),
        ([T, U], None, True),
        ([F, U], False, None),
        ([U, U], None, None),
        ([F, F], False, False),
    ],
)
def test_all_and_any_follow_kleene_logic(children, all_, any_):
    assert compiled({"all": children}).evaluate(KLEENE, None) is all_
    assert compiled({"any": children}).evaluate(KLEENE, None) is any_


@pytest.mark.parametrize("child,expected", [(T, False), (F, True), (U, None)])
def test_not_keeps_unknown(child, expected):
    assert compiled({"not": child}).evaluate(KLEENE, None) is expected


@pytest.mark.parametrize("level,at_least_low,is_low", [(0, False, False), (1, True, True), (2, True, False)])
def test_level_conditions(level, at_least_low, is_low):
    assert compiled({"level_at_least": "low"}).evaluate({}, level) is at_least_low
    assert compiled({"level_is": "low"}).evaluate({}, level) is is_low


def test_inputs_name_only_the_answers_that_made_it_true():
    cond = compiled({"any": [A_YES, B_X, {"answer_equals": {"question": "C", "value": "y"}}]})
    assert cond.inputs({"A": "yes", "B": "y", "C": "y"}, None) == {"A": "yes", "C": "y"}
    assert compiled(COUNT).inputs({"A": "yes", "B": "x", "C": "y"}, None) == {"A": "yes", "B": "x"}


@pytest.mark.parametrize(
    "raw,path,fragment",
    [
        ("answer_equals", (), "a mapping with exactly one key"),
        ({"answer_equals": {"question": "A", "value": "yes"}, "not": A_YES}, (), "exactly one key"),
        ({"eval": "1+1"}, (), "unknown condition type 'eval'"),
        ({"answer_equals": {"question": "A"}}, ("answer_equals",), "missing key 'value'"),
        ({"answer_equals": {"question": "A", "value": "yes", "x": 1}}, ("answer_equals", "x"), "unknown key 'x'"),
        ({"answer_equals": {"question": "A", "value": True}}, ("answer_equals", "value"), "expected a string"),
        ({"answer_in": {"question": "B", "values": []}}, ("answer_in", "values"), "non-empty list"),
        ({"answer_in": {"question": "B", "values": ["x", "w"]}}, ("answer_in", "values", 1), "no option 'w'"),
        ({"count_in": {"questions": ["A", "A"], "values": ["yes"], "at_least": 1}}, ("count_in", "questions"), "listed twice"),
        ({"count_in": {"questions": ["A"], "values": ["x"], "at_least": 1}}, ("count_in", "values", 0), "not an option of any"),
        ({"count_in": {"questions": ["A"], "values": ["yes"], "at_least": True}}, ("count_in", "at_least"), "expected an integer"),
        ({"all": []}, ("all",), "non-empty list of conditions"),
        ({"any": [A_YES, {"nope": 1}]}, ("any", 1), "unknown condition type 'nope'"),
        ({"not": {"answered": {"question": "Z"}}}, ("not", "answered", "question"), "unknown question 'Z'"),
        ({"level_at_least": "medium"}, ("level_at_least",), "unknown level 'medium' (levels: none, low, high)"),
    ],
)
def test_compile_errors_name_the_place_and_the_problem(raw, path, fragment):
    errors = errors_of(raw)
    assert len(errors) >= 1
    assert errors[0][0] == path
    assert fragment in errors[0][1]


def test_level_conditions_are_refused_where_the_level_is_not_known():
    for name in ("level_at_least", "level_is"):
        errors = errors_of({"not": {name: "low"}}, allow_level=False)
        assert errors == [(("not", name), errors[0][1])]
        assert "needs the classification level, which is not known in a test" in errors[0][1]


def test_a_question_outside_the_allowed_ones_is_not_called_unknown():
    errors = errors_of(A_YES, questions={"B": QUESTIONS["B"]})
    assert "cannot be used in a test" in errors[0][1]


def test_every_registered_type_has_a_one_line_docstring():
    for ct in CONDITIONS.values():
        assert ct.doc and "\n" not in ct.doc, ct.name


# -- multiple choice and points, on the conditions alone (no engine memo) --------------------------

MQ = {
    "M": QInfo(("a", "b", "c"), multiple=True, points={"a": 2, "b": 1}),
    "P": QInfo(("lo", "hi"), points={"lo": 0, "hi": 3}),
    "T": QInfo(text=True),
}


def compiled_m(raw):
    ctx = CompileContext(MQ, LEVELS, True, "a test", frozenset(MQ))
    cond = compile_condition(raw, ctx)
    assert not ctx.errors, ctx.errors
    return cond


@pytest.mark.parametrize(
    "answers,expected",
    [({"M": ("a", "c")}, True), ({"M": ("b",)}, False), ({"M": ()}, False), ({}, None), ({"M": NOT_APPLICABLE}, False)],
)
def test_answer_in_on_a_multiple_question_is_true_when_any_selected_value_is_listed(answers, expected):
    assert compiled_m({"answer_in": {"question": "M", "values": ["a"]}}).evaluate(answers, None) is expected


@pytest.mark.parametrize(
    "answers,expected",
    [({"M": ("c",), "P": "lo"}, True), ({"M": ("a", "b"), "P": "lo"}, False), ({"M": ("c",)}, None),
     ({"M": (), "P": "hi"}, False), ({"M": NOT_APPLICABLE}, False)],
)
def test_count_in_counts_a_multiple_question_once_when_any_value_is_in_the_set(answers, expected):
    cond = compiled_m({"count_in": {"questions": ["M", "P"], "values": ["c", "lo"], "at_least": 2}})
    assert cond.evaluate(answers, None) is expected


@pytest.mark.parametrize(
    "answers,expected",
    [
        ({"M": ("a", "b"), "P": "lo"}, True),     # 3 + 0
        ({"M": ("a",), "P": "lo"}, False),        # 2 + 0
        ({"M": ("a",)}, None),                    # 2 + (0..3)
        ({"M": (), "P": "hi"}, True),             # 0 + 3
        ({"P": "lo"}, None),                      # (0..3) + 0
        ({"M": ("c",), "P": NOT_APPLICABLE}, False),  # c has no points; P does not apply
        ({}, None),
    ],
)
def test_points_at_least_is_three_valued(answers, expected):
    cond = compiled_m({"points_at_least": {"questions": ["M", "P"], "at_least": 3}})
    assert cond.evaluate(answers, None) is expected


def test_points_inputs_are_the_answers_that_bring_points():
    cond = compiled_m({"points_at_least": {"questions": ["M", "P"], "at_least": 3}})
    assert cond.inputs({"M": ("a", "c"), "P": "lo"}, None) == {"M": ("a", "c")}
    assert cond.inputs({"M": ("c",), "P": "hi"}, None) == {"P": "hi"}


def test_answered_counts_an_empty_selection_and_is_the_only_condition_for_text():
    assert compiled_m({"answered": {"question": "M"}}).evaluate({"M": ()}, None) is True
    assert compiled_m({"answered": {"question": "T"}}).evaluate({"T": "text"}, None) is True
    assert compiled_m({"answered": {"question": "T"}}).evaluate({"T": NOT_APPLICABLE}, None) is False
    ctx = CompileContext(MQ, LEVELS, True, "a test", frozenset(MQ))
    assert compile_condition({"answer_in": {"question": "T", "values": ["x"]}}, ctx) is None
    assert ctx.errors == [(("answer_in", "question"),
                           "question 'T' is a free-text question: only `answered` applies to it, not 'answer_in'")]


def test_item_status_in_reads_statuses_and_counts_no_record_as_pending():
    ctx = CompileContext(MQ, LEVELS, True, "a test", frozenset(MQ), allow_items=True, items=frozenset({"I-1"}))
    cond = compile_condition({"item_status_in": {"item": "I-1", "statuses": ["pending", "not_met"]}}, ctx)
    assert not ctx.errors
    assert cond.evaluate({}, None) is True
    assert cond.evaluate({"I-1": "not_met"}, None) is True
    assert cond.evaluate({"I-1": "met"}, None) is False
    assert cond.inputs({}, None) == {"I-1": "pending"}
