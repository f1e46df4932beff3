"""Portfolio figures and the periodic report on the demo data, against hand-computed figures.

The demo ministry (procurement/demo.py) has nine cases; their levels and statuses follow from
the answer sets there: LOW (議事録要約, コード生成), BLOCKED (翻訳支援: one medium answer, so
low with a blocking finding) and INCOMPLETE (職員向け: provisional low) are `low`; REVIEW
(法令検索, 統計資料) `review`; HIGH (国民向けFAQ, 補助金審査) `high`; 白書 is `out_of_scope`.
Statuses: approved 議事録要約, 白書, 国民向けFAQ; submitted 法令検索; returned 補助金審査;
draft 翻訳支援, 職員向け, 統計資料 (its approval voided by a checklist change); withdrawn
コード生成. On top of that, this test runs 議事録要約 in operation and records incidents.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import openpyxl
import pandas as pd
import pytest

from procurement import operation
from procurement.portfolio import compute_portfolio, load_portfolio_rows
from procurement.reports import write_periodic_report_for
from procurement.services import Services

UTC = timezone.utc


class FixedClock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def demo(demo_services):
    """The demo database with 議事録要約 in operation since 2026-04-20 (reviews every 3 months,
    last 2026-07-10) and two incidents on it, seen by the ministry's CAIO on 2026-10-15 JST."""
    clock = FixedClock(datetime(2026, 10, 15, 1, 0, tzinfo=UTC))
    svc = Services(demo_services.engine, demo_services.registry, clock=clock)
    planner = svc.actor_for("ministry-planner")
    reviewer = svc.actor_for("ministry-reviewer")
    ids = {c.title: c.id for c in svc.list_cases(reviewer)}
    case = svc.get_case(reviewer, ids["議事録要約ツールの試行"])
    op = operation.start_operation(
        svc, planner, case.id, case.version, started_on=date(2026, 4, 20), vendor="デモ株式会社",
        model_name="demo-llm", model_version="2026-03", ismap_listing="ismap:C24-0042",
        review_interval_months=3)
    operation.record_review(svc, reviewer, case.id, op.case_version, reviewed_on=date(2026, 7, 10))
    first = operation.create_incident(
        svc, planner, case.id, occurred_on=date(2026, 5, 1), severity="medium",
        description="要約に誤った日付", actions_taken="出力確認手順を追加",
        reported_to_caio_at=datetime(2026, 5, 1, 6, 0, tzinfo=UTC))
    operation.close_incident(svc, reviewer, first.id, first.version)
    operation.create_incident(svc, planner, case.id, occurred_on=date(2026, 9, 30),
                              severity="high", description="=HYPERLINK(\"http://x\")<b>x</b>")
    return svc, reviewer, ids


def test_portfolio_figures_on_the_demo_ministry(demo):
    svc, reviewer, ids = demo
    p = compute_portfolio(load_portfolio_rows(svc, reviewer), now=svc.clock())
    assert p.total == 9
    assert p.by_level == {"out_of_scope": 1, "low": 4, "review": 2, "high": 2}
    assert p.by_status == {"draft": 3, "submitted": 1, "returned": 1, "approved": 2,
                           "in_operation": 1, "withdrawn": 1}
    assert p.by_department["広報室"] == 1 and sum(p.by_department.values()) == 9
    assert [(c.title, c.board_report) for c in p.high_risk] == [
        ("国民向けFAQチャットボット", "complete"), ("補助金審査の一次チェック", "complete")]
    assert [w.case.title for w in p.waiting] == ["法令検索アシスタント"]
    # Submitted on the demo's first day (2026-04-08 JST and a few minutes): 190 days to 10-15.
    assert p.waiting[0].days_waiting == (date(2026, 10, 15) - p.waiting[0].case.submitted_at.date()).days
    assert [(v.case.title, v.reason, v.is_reapproved) for v in p.voided] == [
        ("統計資料の要約", "checklist item PC-G1 changed", False)]
    (review,) = p.reviews
    assert (review.case.id, review.next_due, review.is_due, review.days_overdue) == (
        ids["議事録要約ツールの試行"], date(2026, 10, 10), True, 5)
    assert p.open_incidents == 1 and p.incidents_by_severity == {"high": 1}
    # April: the three edition-1 cases; all three submitted, 議事録要約 and 白書 approved.
    # July: the six edition-2 cases; 国民向けFAQ, 補助金審査 and 統計資料 submitted, 国民向けFAQ
    # and 統計資料 approved (コード生成 was withdrawn as a draft).
    trend = {m.month: (m.created, m.submitted, m.approved) for m in p.trend}
    assert trend["2026-04"] == (3, 3, 2) and trend["2026-07"] == (6, 3, 2)
    assert sum(m.created for m in p.trend) == 9


def test_portfolio_is_for_reviewers_auditors_of_the_same_organisation(demo):
    from procurement.errors import NotFoundError, PermissionDeniedError

    svc, _reviewer, _ids = demo
    auditor = svc.actor_for("ministry-auditor")
    assert len(load_portfolio_rows(svc, auditor).cases) == 9
    with pytest.raises(PermissionDeniedError):
        load_portfolio_rows(svc, svc.actor_for("ministry-planner"))
    with pytest.raises(NotFoundError):
        load_portfolio_rows(svc, auditor, "demo-city")
    city = load_portfolio_rows(svc, svc.actor_for("city-reviewer"))
    assert city.org_code == "demo-city" and not {c.id for c in city.cases} & set(_ids.values())


def test_periodic_report_round_trip(demo, tmp_path):
    svc, reviewer, ids = demo
    out = tmp_path / "periodic.xlsx"
    result = write_periodic_report_for(svc, reviewer, 2026, out)
    # In scope in FY2026: every case with a change of standing during the year or an approval,
    # not 白書 (out of scope), 翻訳支援 and 職員向け (drafts never submitted).
    expected = sorted(ids[t] for t in ("議事録要約ツールの試行", "法令検索アシスタント",
                                       "国民向けFAQチャットボット", "補助金審査の一次チェック",
                                       "コード生成支援ツール", "統計資料の要約"))
    assert (result.systems, result.incidents) == (6, 2)

    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["概要", "システム一覧", "リスク事案", "年度内の変更"]
    summary = {row[0]: row[1] for row in book["概要"].iter_rows(min_row=3, values_only=True)}
    assert summary["年度 / Fiscal year"] == "2026年度（令和8年度） / FY2026"
    assert summary["対象期間 / Period (JST)"] == "2026-04-01 – 2027-03-31"
    assert summary["対象システム数 / Systems in scope"] == 6
    assert summary["年度内のリスク事案 / Incidents in year"] == 2
    assert summary["作成日時 / Generated at"] == datetime(2026, 10, 15, 10, 0)  # JST

    systems = pd.read_excel(out, sheet_name="システム一覧", header=1)
    assert sorted(systems["Case ID"]) == expected
    running = systems.set_index("Case ID").loc[ids["議事録要約ツールの試行"]]
    assert (running["Vendor"], running["Model"], running["Model version"]) == (
        "デモ株式会社", "demo-llm", "2026-03")
    assert running["ISMAP"] == "ISMAP登録 (C24-0042)"
    assert running["Status"] == "運用中" and running["Level"] == "低"
    assert running["Operation started"] == pd.Timestamp("2026-04-20")
    assert running["Next review due"] == pd.Timestamp("2026-10-10")
    assert running["Incidents in year"] == 2
    assert "運用開始" in running["Changes in year"] and "定期確認" in running["Changes in year"]
    faq = systems.set_index("Case ID").loc[ids["国民向けFAQチャットボット"]]
    assert faq["Purpose"] == "問い合わせ対応時間の短縮と夜間・休日の案内の充実"
    assert len(faq["Pack fingerprint"]) == 12 and faq["Pack"] == "jp-national@2.0.0"

    incidents = book["リスク事案"]
    rows = list(incidents.iter_rows(min_row=3, values_only=True))
    assert [(r[3].date(), r[4], r[9]) for r in rows] == [
        (date(2026, 5, 1), "中", "完了"), (date(2026, 9, 30), "重大", "対応中")]
    hostile = incidents.cell(row=4, column=6)
    assert hostile.value == "=HYPERLINK(\"http://x\")<b>x</b>" and hostile.data_type == "s"
    assert hostile.quotePrefix

    changes = pd.read_excel(out, sheet_name="年度内の変更", header=1)
    assert set(changes["Case ID"]) <= set(expected)
    assert {"operation.started", "operation.reviewed", "incident.created", "incident.closed",
            "approval.voided"} <= set(changes["Event"])
    for _case_id, seqs in changes.groupby("Case ID", sort=False)["Audit seq"]:
        assert list(seqs) == sorted(seqs)  # each system's changes in the order they happened


def test_periodic_report_of_the_previous_year_is_empty(demo, tmp_path):
    svc, reviewer, _ids = demo
    result = write_periodic_report_for(svc, reviewer, 2025, tmp_path / "fy2025.xlsx")
    assert (result.systems, result.incidents, result.changes) == (0, 0, 0)
    systems = pd.read_excel(tmp_path / "fy2025.xlsx", sheet_name="システム一覧", header=1)
    assert systems.empty
