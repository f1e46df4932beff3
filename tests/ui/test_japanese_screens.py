"""Japanese screens show no code and no English for a stored code (AppTest from app.py).

The demo ministry after its operations, incidents and a re-assessment under edition 2 (one
approval voided by a checklist change, one by the re-assessment, one system running with a
closed and an open incident, a returned and a withdrawn case): the case list, the history and
decisions of those cases, the review queue, the portfolio and the operation page, in Japanese,
show the vocabulary's words and neither codes ("draft", "approval.voided") nor English prose
("checklist item PC-G1 changed", "answers changed", "re-assessed under ...").
"""

from __future__ import annotations

import re

import pytest

from procurement import vocabulary
from tests.ui.helpers import assert_clean, go, open_step, texts

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PORTFOLIO = "procurement/ui/pages/portfolio.py"
OPERATION = "procurement/ui/pages/operation.py"

#: Codes and English a Japanese page must not show (as whole words).
_CODES = sorted({code for terms in vocabulary.TERMS.values() for code in terms
                 if "_" in code or code in {"draft", "submitted", "returned", "approved",
                                            "withdrawn", "retired", "pending", "met", "void",
                                            "submission", "approval", "withdrawal",
                                            "reassessment", "classification", "low", "medium",
                                            "high", "critical", "open", "closed", "missing",
                                            "incomplete", "complete", "planner", "reviewer",
                                            "auditor", "ministry", "municipality"}})
CODE_WORDS = re.compile(
    r"\b(org|user|auth|case|approval|operation|incident|pack)\.[a-z_]+\b"
    r"|\b(" + "|".join(map(re.escape, _CODES)) + r")\b"
    r"|checklist item|answers changed|board report changed|re-assess|Approval voided|"
    r"\bchanged\b|\breason\b|\{|\bNone\b|\bTrue\b|\bFalse\b")
#: What the demo itself names in ASCII (user names, organisation codes, packs, models).
ALLOWED = re.compile(r"\b(ministry|city)\\?-[a-z0-9]+\b|jp-national@[\w.#]+"
                     r"|city-strict@[\w.#]+|demo\\?-[a-z-]+|[A-Z]{2}-[A-Z]?\d+")


def shown(at) -> str:
    """Everything a person reads on the page: text elements, table headers and cells, option
    labels, metric labels."""
    parts = [texts(at)]
    for frame in (d.value for d in at.dataframe):
        parts += [str(c) for c in frame.columns]
        parts += [str(v) for v in frame.astype(str).to_numpy().ravel() if v not in ("nan", "None")]
    for box in at.selectbox:
        parts += [str(box.label)] + [str(o) for o in box.options]
    parts += [str(m.label) for m in at.metric]
    return "\n".join(parts)


def codes_in(text: str) -> list[str]:
    return sorted({m.group(0) for m in CODE_WORDS.finditer(ALLOWED.sub(" ", text))})


@pytest.fixture
def demo_app(ui_db_url, ui_services):
    """The demo on the app's database, after `seed_demo_operations` and the re-assessment of
    the ministry under edition 2; returns (services, case ids by title)."""
    from procurement.demo import seed_demo
    from procurement.demo.operations import seed_demo_operations

    svc = ui_services
    seed_demo(svc)
    seed_demo_operations(svc)
    plan = svc.plan_reassessment("jp-national@2.0.0", org_code="demo-ministry")
    result = svc.apply_reassessment(plan, lambda org: svc.actor_for("ministry-packadmin"))
    assert result.voided and not result.refused
    reviewer = svc.actor_for("ministry-reviewer")
    return svc, {c.title: c.id for c in svc.list_cases(reviewer)}


def test_the_scan_sees_codes_and_english_but_not_the_demo_s_names():
    assert codes_in("⚠ 承認の失効 2026-11-01 JST: checklist item PC-G1 changed") == [
        "changed", "checklist item"]
    assert codes_in("下書き → submitted") == ["submitted"]
    assert codes_in("approval.voided") == ["approval.voided"]
    assert codes_in("ministry-planner ministry\\-reviewer jp-national@2.0.0 demo-summarizer "
                    "PC-G1 承認済み") == []


def test_japanese_pages_name_every_code_in_japanese(demo_app, make_app):
    svc, ids = demo_app
    reviewer = svc.actor_for("ministry-reviewer")
    seen: dict[str, str] = {}

    at = make_app(reviewer)
    go(at, "cases")  # a reviewer lands on the inbox
    at.toggle(key="case_mine").set_value(False)
    go(at, "cases")
    assert_clean(at)
    seen["cases"] = shown(at)
    assert "⚠ 承認の失効" in seen["cases"] and "チェックリスト項目 PC-G1 の変更" in seen["cases"]
    assert "jp-national@2.0.0 による再判定" in seen["cases"]

    for title in ("統計資料の要約", "事業者向け支援制度案内AIの試行", "国民向けFAQチャットボット",
                  "補助金審査の一次チェック"):
        at = make_app(reviewer)
        at.session_state["case_id"] = ids[title]
        at.session_state["workspace_tab"] = "履歴"
        go(at, "workspace")
        assert_clean(at)
        seen[f"history {title}"] = shown(at)
        at = make_app(reviewer)
        at.session_state["case_id"] = ids[title]
        go(at, "workspace")
        open_step(at, "approval")
        assert_clean(at)
        seen[f"decisions {title}"] = shown(at)
    history = seen["history 統計資料の要約"]
    assert "承認の失効" in history and "チェックリスト項目 PC-G1: " in history
    assert "再判定" in seen["history 事業者向け支援制度案内AIの試行"]
    assert "リスク事案の対応を完了" in seen["history 国民向けFAQチャットボット"]
    assert "差戻し" in seen["decisions 補助金審査の一次チェック"]

    at = go(make_app(reviewer), "review")
    assert_clean(at)
    seen["review"] = shown(at)
    for entry in svc.review_inbox(reviewer):  # each waiting case, laid out for reading
        at = make_app(reviewer)
        at.query_params["case"] = str(entry.case_id)
        go(at, "review")
        assert_clean(at)
        seen[f"review {entry.title}"] = shown(at)

    at = make_app(reviewer).switch_page(PORTFOLIO).run()
    assert_clean(at)
    seen["portfolio"] = shown(at)
    assert "チェックリスト項目 PC-G1 の変更" in seen["portfolio"]

    at = make_app(reviewer)
    at.session_state["operation_case"] = ids["国民向けFAQチャットボット"]
    at.switch_page(OPERATION).run()
    assert_clean(at)
    seen["operation"] = shown(at)
    assert "対応完了" in seen["operation"] and "重大" in seen["operation"]

    found = {page: codes_in(text) for page, text in seen.items()}
    assert {page: codes for page, codes in found.items() if codes} == {}
