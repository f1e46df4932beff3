"""Portfolio figures and the periodic report on the demo data, against hand-computed figures.

The demo ministry (procurement/demo.py) has ten cases; their levels and statuses follow from
the answer sets there: LOW (議事録要約, コード生成), BLOCKED (翻訳支援: one medium answer, so
low with a blocking finding) and INCOMPLETE (職員向け: provisional low) are `low`; REVIEW
(法令検索, 統計資料) `review`; HIGH (国民向けFAQ, 補助金審査) and HIGH_SAAS (支援制度案内, the
edition-1 pilot) `high`; 白書 is `out_of_scope`. Statuses: approved 議事録要約, 白書, 支援制度案内,
国民向けFAQ; submitted 法令検索; returned 補助金審査; draft 翻訳支援, 職員向け, 統計資料 (its
approval voided by a checklist change); withdrawn コード生成. On top of that,
`procurement.demo.operations.seed_demo_operations` puts 議事録要約 and 国民向けFAQ into operation
(approved -> in_operation) with a review and two incidents.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import openpyxl
import pandas as pd
import pytest

from procurement.caio.portfolio import compute_portfolio
from procurement.demo import PURPOSES
from procurement.demo.operations import seed_demo_operations
from procurement.services import Services
from procurement.vocabulary import VoidReason, read_void_reason

UTC = UTC
NOW = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)  # 2026-11-22 10:00 JST


class FixedClock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def demo(demo_services):
    """The demo database plus `seed_demo_operations` (議事録要約 running since 2026-05-01, reviewed
    2026-08-20, every 3 months; 国民向けFAQ running since 2026-08-21, every 6 months, one closed
    and one open incident), seen on 2026-11-22 JST."""
    seed_demo_operations(demo_services)
    svc = Services(demo_services.engine, demo_services.registry, clock=FixedClock(NOW))
    reviewer = svc.actor_for("ministry-reviewer")
    ids = {c.title: c.id for c in svc.list_cases(reviewer)}
    return svc, reviewer, ids


def test_portfolio_figures_on_the_demo_ministry(demo):
    svc, reviewer, ids = demo
    p = compute_portfolio(svc.load_portfolio_rows(reviewer), now=svc.clock())
    assert p.total == 10
    assert p.by_level == {"jp-national:out_of_scope": 1, "jp-national:low": 4,
                          "jp-national:review": 2, "jp-national:high": 3}
    assert p.by_status == {"draft": 3, "submitted": 1, "returned": 1, "approved": 2,
                           "in_operation": 2, "withdrawn": 1}
    assert p.by_department["広報室"] == 1 and p.by_department["中小企業支援課"] == 1
    assert sum(p.by_department.values()) == 10
    # Oldest first: the edition-1 pilot (April) before the edition-2 cases (July).
    assert [(c.title, c.status, c.board_report) for c in p.high_risk] == [
        ("事業者向け支援制度案内AIの試行", "approved", "complete"),
        ("国民向けFAQチャットボット", "in_operation", "complete"),
        ("補助金審査の一次チェック", "returned", "complete")]
    (waiting,) = p.waiting
    assert waiting.case.title == "法令検索アシスタント"
    # Submitted during the demo's first days (April 2026, JST): counted in JST calendar days.
    submitted_jst = (waiting.case.submitted_at + timedelta(hours=9)).date()
    assert submitted_jst.month == 4 and waiting.days_waiting == (date(2026, 11, 22) - submitted_jst).days
    assert [(v.case.title, read_void_reason(v.reason), v.is_reapproved) for v in p.voided] == [
        ("統計資料の要約", VoidReason("checklist_changed", {"item": "PC-G1"}), False)]
    assert [(r.case.title, r.next_due, r.is_due, r.days_overdue) for r in p.reviews] == [
        ("議事録要約ツールの試行", date(2026, 11, 20), True, 2),
        ("国民向けFAQチャットボット", date(2027, 2, 21), False, 0)]
    assert [r.case.id for r in p.reviews_due] == [ids["議事録要約ツールの試行"]]
    assert p.running_unapproved == []
    assert p.open_incidents == 1 and p.incidents_by_severity == {"medium": 1}
    # April: the four edition-1 cases; all four submitted, 議事録要約, 白書 and 支援制度案内
    # approved. July: the six edition-2 cases; 国民向けFAQ, 補助金審査 and 統計資料 submitted,
    # 国民向けFAQ and 統計資料 approved (コード生成 was withdrawn as a draft).
    trend = {m.month: (m.created, m.submitted, m.approved) for m in p.trend}
    assert trend["2026-04"] == (4, 4, 3) and trend["2026-07"] == (6, 3, 2)
    assert sum(m.created for m in p.trend) == 10 and list(trend)[-1] == "2026-11"


def test_portfolio_is_for_reviewers_auditors_of_the_same_organisation(demo):
    from procurement.errors import NotFoundError, PermissionDeniedError

    svc, _reviewer, _ids = demo
    auditor = svc.actor_for("ministry-auditor")
    assert len(svc.load_portfolio_rows(auditor).cases) == 10
    with pytest.raises(PermissionDeniedError):
        svc.load_portfolio_rows(svc.actor_for("ministry-planner"))
    with pytest.raises(NotFoundError):
        svc.load_portfolio_rows(auditor, "demo-city")
    city = svc.load_portfolio_rows(svc.actor_for("city-reviewer"))
    assert city.org_code == "demo-city" and not {c.id for c in city.cases} & set(_ids.values())


def test_periodic_report_round_trip(demo, tmp_path):
    svc, reviewer, ids = demo
    out = tmp_path / "periodic.xlsx"
    result = svc.write_periodic_report_for(reviewer, 2026, out)
    # In scope in FY2026: every case with a change of standing, operation or an incident during
    # the year (支援制度案内: approved in April 2026, not yet running), not 白書 (out of scope),
    # 翻訳支援 and 職員向け (drafts never submitted).
    expected = sorted(ids[t] for t in ("議事録要約ツールの試行", "法令検索アシスタント",
                                       "事業者向け支援制度案内AIの試行",
                                       "国民向けFAQチャットボット", "補助金審査の一次チェック",
                                       "コード生成支援ツール", "統計資料の要約"))
    assert (result.systems, result.incidents) == (7, 2)

    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["概要", "システム一覧", "リスク事案", "年度内の変更"]
    summary = {row[0]: row[1] for row in book["概要"].iter_rows(min_row=3, values_only=True)}
    assert summary["年度"] == "令和8年度（2026年度）"
    assert summary["対象期間"] == "令和8年4月1日～令和9年3月31日"
    assert summary["対象システム数"] == 7
    assert summary["年度内のリスク事案"] == 2
    assert summary["作成日時"] == datetime(2026, 11, 22, 10, 0)  # JST
    assert summary["年度末までに期限の来る定期確認"] == 2

    systems = pd.read_excel(out, sheet_name="システム一覧", header=1).set_index("Case ID")
    assert sorted(systems.index) == expected
    minutes = systems.loc[ids["議事録要約ツールの試行"]]
    assert (minutes["Vendor"], minutes["Model"], minutes["Model version"]) == (
        "デモ・ソリューションズ株式会社", "demo-summarizer", "2026-04")
    assert minutes["ISMAP"] == "ISMAP登録 (C23-0001)"
    assert (minutes["Status"], minutes["Level"]) == ("運用中", "低リスク")  # the pack's label
    assert minutes["Operation started"] == pd.Timestamp("2026-05-01")
    assert minutes["Last review"] == pd.Timestamp("2026-08-20")
    assert minutes["Next review due"] == pd.Timestamp("2026-11-20")
    assert minutes["Incidents in year"] == 0
    assert "運用を開始" in minutes["Changes in year"]
    assert "定期確認を記録" in minutes["Changes in year"]
    faq = systems.loc[ids["国民向けFAQチャットボット"]]
    # The case's own purpose (利用目的), not its board report's objectives.
    assert faq["Purpose"] == PURPOSES["国民向けFAQチャットボット"]
    assert faq["ISMAP"] == "対象外（自組織構築等）" and faq["Incidents in year"] == 2
    # The pack by title and edition for people; its exact version and fingerprint beside it.
    assert len(faq["Pack fingerprint"]) == 12 and faq["Pack version"] == "jp-national@2.0.0"
    assert faq["Pack"].startswith("生成AI") and faq["Pack"].endswith("版）")
    pilot = systems.loc[ids["事業者向け支援制度案内AIの試行"]]
    assert pilot["Purpose"] == PURPOSES["事業者向け支援制度案内AIの試行"]
    assert (pilot["Status"], pilot["Level"], pilot["Pack version"]) == (
        "承認済み", "高リスクの可能性あり", "jp-national@1.0.0")
    assert pilot["Incidents in year"] == 0
    assert pd.isna(pilot["Operation started"])
    voided = systems.loc[ids["統計資料の要約"]]
    assert "承認の失効: チェックリスト項目 PC-G1 の変更" in voided["Changes in year"]

    rows = list(book["リスク事案"].iter_rows(min_row=3, values_only=True))
    assert [(r[0], r[3].date(), r[4], r[9]) for r in rows] == [
        (ids["国民向けFAQチャットボット"], date(2026, 8, 25), "重大", "対応完了"),
        (ids["国民向けFAQチャットボット"], date(2026, 9, 10), "中程度", "対応中")]
    assert rows[0][7] == datetime(2026, 8, 25, 14, 30)  # reported to the CAIO, JST

    changes = pd.read_excel(out, sheet_name="年度内の変更", header=1)
    assert set(changes["Case ID"]) <= set(expected)
    assert {"operation.started", "operation.reviewed", "incident.created", "incident.closed",
            "approval.voided"} <= set(changes["Event"])
    # The codes stay for filters; people read the vocabulary's words and details in Japanese.
    named = dict(zip(changes["Event"], changes["Event name"]))
    assert named["approval.voided"] == "承認の失効"
    assert named["incident.closed"] == "リスク事案の対応を完了"
    details = "\n".join(changes["Detail"].dropna())
    assert "チェックリスト項目 PC-G1 の変更" in details
    assert not any(s in details for s in ("{", "=", "changed", "reason", "vendor"))
    for _case_id, seqs in changes.groupby("Case ID", sort=False)["Audit seq"]:
        assert list(seqs) == sorted(seqs)  # each system's changes in the order they happened


def test_periodic_report_of_the_previous_year_is_empty(demo, tmp_path):
    svc, reviewer, _ids = demo
    # The demo starts in April 2026 (FY2026): nothing happened in FY2025.
    result = svc.write_periodic_report_for(reviewer, 2025, tmp_path / "fy2025.xlsx")
    assert (result.systems, result.incidents, result.changes) == (0, 0, 0)
    systems = pd.read_excel(tmp_path / "fy2025.xlsx", sheet_name="システム一覧", header=1)
    assert systems.empty
