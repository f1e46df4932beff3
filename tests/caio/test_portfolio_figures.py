"""Portfolio figures and fiscal-year scope on plain rows (no database): hand-computed cases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from procurement.caio.levels import LevelCatalog
from procurement.caio.portfolio import (
    CaseRow,
    ChangeRow,
    DecisionRow,
    IncidentRow,
    OperationRow,
    PortfolioRows,
    add_months,
    board_report_state,
    compute_portfolio,
    count_by_department,
    count_by_level,
    count_by_status,
    is_in_fiscal_year,
    monthly_trend,
    next_review_due,
    review_states,
    select_fiscal_year,
    voided_approvals,
    waiting_longest,
)
from tests.fixtures.packs import shipped_registry

UTC = UTC


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


#: The levels of the shipped packs, as the loader gives them to the cases.
CATALOG = LevelCatalog.from_registry(shipped_registry(), [
    ("jp-national", "1.0.0"), ("jp-national", "2.0.0"), ("jp-national", "2.1.0"),
    ("example-impact", "1.0.0")])


def case(id, level="low", status="draft", dept="総務課", created=utc(2026, 5, 1),
         pack=("jp-national", "2.0.0"), **kw) -> CaseRow:
    return CaseRow(
        id=id, org_code="org", title=f"case {id}", department=dept, status=status, level=level,
        is_complete=True, pack_id=pack[0], pack_version=pack[1], pack_fingerprint="f" * 64,
        created_at=created, level_info=CATALOG.level(pack[0], pack[1], level), **kw,
    )


def op(case_id, started_on, interval=None, last=None, ended_on=None) -> OperationRow:
    return OperationRow(case_id=case_id, started_on=started_on, review_interval_months=interval,
                        last_reviewed_on=last, ended_on=ended_on)


def incident(id, case_id, occurred_on, status="open", severity="medium") -> IncidentRow:
    return IncidentRow(id=id, case_id=case_id, occurred_on=occurred_on, severity=severity,
                       description="d", actions_taken="", reported_to_caio_at=None,
                       reported_onward_at=None, status=status)


# --------------------------------------------------------------------- counts


def test_counts_follow_workflow_order_and_keep_unknown_values():
    cases = [case(1, "high", "submitted", "A"), case(2, "low", "draft", "B"),
             case(3, "high", "approved", "A"), case(4, None, "draft", "C"),
             case(5, "review", "in_operation", "B")]
    assert count_by_level(cases) == {"jp-national:low": 1, "jp-national:review": 1,
                                     "jp-national:high": 2, "unclassified": 1}
    assert list(count_by_level(cases)) == ["jp-national:low", "jp-national:review",
                                           "jp-national:high", "unclassified"]
    assert count_by_status(cases) == {"draft": 2, "submitted": 1, "approved": 1, "in_operation": 1}
    assert list(count_by_status(cases)) == ["draft", "submitted", "approved", "in_operation"]
    assert list(count_by_department(cases).items()) == [("A", 2), ("B", 2), ("C", 1)]


def test_board_report_state_needs_every_field():
    assert board_report_state(None) == "missing"
    full = {k: "x" for k in ("project_details", "objectives", "risk_mitigation", "qa_plan",
                             "schedule", "contact")}
    assert board_report_state(full) == "complete"
    assert board_report_state({**full, "qa_plan": "  "}) == "incomplete"


def test_trend_counts_in_jst_months_and_every_submission():
    # 2026-04-30 15:30 UTC is 2026-05-01 00:30 JST: it belongs to May.
    cases = [case(1, created=utc(2026, 4, 30, 15, 30)), case(2, created=utc(2026, 4, 30, 14, 59))]
    decisions = [
        DecisionRow(1, "submission", "low", "", utc(2026, 5, 2)),
        DecisionRow(1, "return", "low", "fix", utc(2026, 5, 3)),
        DecisionRow(1, "submission", "low", "", utc(2026, 6, 1)),
        DecisionRow(1, "approval", "low", "", utc(2026, 6, 2)),
    ]
    trend = monthly_trend(cases, decisions, date(2026, 6, 15), months=3)
    assert [(m.month, m.created, m.submitted, m.approved) for m in trend] == [
        ("2026-04", 1, 0, 0), ("2026-05", 1, 1, 0), ("2026-06", 0, 1, 1)]


def test_trend_months_cross_the_year():
    trend = monthly_trend([], [], date(2027, 2, 1), months=3)
    assert [m.month for m in trend] == ["2026-12", "2027-01", "2027-02"]


def test_waiting_longest_counts_jst_days_and_ignores_other_statuses():
    cases = [
        case(1, status="submitted", submitted_at=utc(2026, 6, 1, 15)),   # JST 06-02
        case(2, status="submitted", submitted_at=utc(2026, 5, 20)),
        case(3, status="approved", submitted_at=utc(2026, 1, 1)),
    ]
    waiting = waiting_longest(cases, now=utc(2026, 6, 10, 3))            # JST 06-10
    assert [(w.case.id, w.days_waiting) for w in waiting] == [(2, 21), (1, 8)]
    assert len(waiting_longest(cases, now=utc(2026, 6, 10), limit=1)) == 1


def test_voided_approvals_newest_first_with_reapproval():
    cases = [case(1), case(2)]
    decisions = [
        DecisionRow(1, "approval", "low", "", utc(2026, 5, 1)),
        DecisionRow(1, "void", "low", "answers changed", utc(2026, 5, 10)),
        DecisionRow(1, "approval", "low", "", utc(2026, 5, 20)),
        DecisionRow(2, "approval", "high", "", utc(2026, 5, 2)),
        DecisionRow(2, "void", "high", "reassessed under jp-national@2.0.0", utc(2026, 6, 1)),
    ]
    voided = voided_approvals(cases, decisions)
    assert [(v.case.id, v.reason, v.is_reapproved) for v in voided] == [
        (2, "reassessed under jp-national@2.0.0", False), (1, "answers changed", True)]


# --------------------------------------------------------------------- periodic review


@pytest.mark.parametrize(
    "day, months, expected",
    [(date(2026, 1, 31), 1, date(2026, 2, 28)), (date(2026, 11, 15), 3, date(2027, 2, 15)),
     (date(2028, 1, 31), 1, date(2028, 2, 29)), (date(2026, 4, 1), 12, date(2027, 4, 1))],
)
def test_add_months_clamps_to_month_end(day, months, expected):
    assert add_months(day, months) == expected


def test_review_due_from_last_review_or_start():
    assert next_review_due(op(1, date(2026, 4, 1), 6)) == date(2026, 10, 1)
    assert next_review_due(op(1, date(2026, 4, 1), 6, last=date(2026, 9, 20))) == date(2027, 3, 20)
    assert next_review_due(op(1, date(2026, 4, 1), None)) is None
    assert next_review_due(op(1, date(2026, 4, 1), 6, ended_on=date(2026, 5, 1))) is None


def test_review_is_due_on_the_due_date_not_the_day_before():
    cases = [case(1, status="in_operation")]
    ops = [op(1, date(2026, 4, 1), 6)]
    before = review_states(cases, ops, date(2026, 9, 30))
    on = review_states(cases, ops, date(2026, 10, 1))
    later = review_states(cases, ops, date(2026, 10, 11))
    assert (before[0].is_due, on[0].is_due, later[0].is_due) == (False, True, True)
    assert (on[0].days_overdue, later[0].days_overdue) == (0, 10)


# --------------------------------------------------------------------- fiscal year


def test_decision_on_march_31_jst_is_in_the_previous_fiscal_year():
    c = case(1, status="submitted")
    # 2026-03-31 14:59:59 UTC = 23:59:59 JST on 03-31: FY2025.
    late_march = [DecisionRow(1, "submission", "low", "", utc(2026, 3, 31, 14, 59, 59))]
    assert is_in_fiscal_year(c, 2025, decisions=late_march)
    assert not is_in_fiscal_year(c, 2026, decisions=late_march)
    # 2026-03-31 15:00 UTC = 2026-04-01 00:00 JST: FY2026.
    april = [DecisionRow(1, "submission", "low", "", utc(2026, 3, 31, 15, 0))]
    assert is_in_fiscal_year(c, 2026, decisions=april)
    assert not is_in_fiscal_year(c, 2025, decisions=april)


def test_operation_ending_march_31_is_not_in_the_next_fiscal_year():
    c = case(1, status="retired")
    ended_3_31 = op(1, date(2025, 10, 1), ended_on=date(2026, 3, 31))
    ended_4_01 = op(1, date(2025, 10, 1), ended_on=date(2026, 4, 1))
    assert is_in_fiscal_year(c, 2025, ended_3_31)
    assert not is_in_fiscal_year(c, 2026, ended_3_31)
    assert is_in_fiscal_year(c, 2026, ended_4_01)


def test_operation_starting_april_1_is_not_in_the_previous_fiscal_year():
    c = case(1, status="in_operation")
    assert not is_in_fiscal_year(c, 2025, op(1, date(2026, 4, 1)))
    assert is_in_fiscal_year(c, 2025, op(1, date(2026, 3, 31)))
    assert is_in_fiscal_year(c, 2027, op(1, date(2026, 3, 31)))  # still running


def test_incident_dates_and_out_of_scope_cases():
    c = case(1, status="in_operation")
    assert is_in_fiscal_year(c, 2026, incidents=[incident(1, 1, date(2027, 3, 31))])
    assert not is_in_fiscal_year(c, 2026, incidents=[incident(1, 1, date(2027, 4, 1))])
    outside = case(2, level="out_of_scope", status="in_operation")
    assert not is_in_fiscal_year(outside, 2026, op(2, date(2026, 4, 1)))


def test_approved_waiting_system_counts_from_its_approval():
    c = case(1, status="approved", approved_at=utc(2026, 3, 31, 15))   # JST 2026-04-01
    assert not is_in_fiscal_year(c, 2025)
    assert is_in_fiscal_year(c, 2026)
    assert is_in_fiscal_year(c, 2027)
    assert not is_in_fiscal_year(case(2, status="draft"), 2026)


def test_select_fiscal_year_keeps_only_the_years_incidents_and_changes():
    rows = PortfolioRows(
        org_code="org", org_name="Org",
        cases=(case(1, status="in_operation"), case(2, status="draft"), case(3, status="retired")),
        operations=(op(1, date(2025, 6, 1), 6), op(3, date(2024, 4, 1), ended_on=date(2025, 3, 31))),
        incidents=(incident(1, 1, date(2026, 3, 31)), incident(2, 1, date(2026, 4, 1))),
        decisions=(DecisionRow(1, "approval", "low", "", utc(2025, 5, 1)),
                   DecisionRow(1, "void", "low", "answers changed", utc(2026, 4, 2)),
                   DecisionRow(1, "classification", "low", "", utc(2026, 4, 2))),
        changes=(ChangeRow(1, 10, utc(2026, 3, 31, 14, 59), "a", "answers.saved"),
                 ChangeRow(1, 11, utc(2026, 3, 31, 15, 0), "a", "answers.saved")),
    )
    systems = select_fiscal_year(rows, 2026)
    assert [s.case.id for s in systems] == [1]
    (one,) = systems
    assert [i.id for i in one.incidents] == [2]
    assert [d.kind for d in one.decisions] == ["void"]
    assert [c.seq for c in one.changes] == [11]
    assert [s.case.id for s in select_fiscal_year(rows, 2024)] == [3]


def test_compute_portfolio_bundles_the_figures():
    rows = PortfolioRows(
        org_code="org", org_name="Org",
        cases=(case(1, "high", "submitted", submitted_at=utc(2026, 6, 1), board_report="incomplete"),
               case(2, "high", "withdrawn"), case(3, "low", "in_operation")),
        operations=(op(3, date(2026, 4, 1), 3),),
        incidents=(incident(1, 3, date(2026, 5, 1)), incident(2, 3, date(2026, 5, 2), "closed")),
    )
    p = compute_portfolio(rows, now=utc(2026, 7, 1, 1))
    assert p.total == 3 and p.today == date(2026, 7, 1)
    assert [c.id for c in p.high_risk] == [1]
    assert [(w.case.id, w.days_waiting) for w in p.waiting] == [(1, 30)]
    assert [(r.case.id, r.next_due, r.is_due) for r in p.reviews_due] == [(3, date(2026, 7, 1), True)]
    assert p.open_incidents == 1 and p.incidents_by_severity == {"medium": 1}


def test_levels_of_several_packs_group_by_each_packs_own_levels():
    """Cases under the national editions and under a pack with levels I-IV: each scale in its
    own pack's order and words, high risk and out of scope by each case's own pack."""
    impact = ("example-impact", "1.0.0")
    cases = [case(1, "high", "submitted"), case(2, "low", pack=("jp-national", "1.0.0")),
             case(3, "II", pack=impact), case(4, "I", pack=impact), case(5, "IV", pack=impact),
             case(6, "IV", "withdrawn", pack=impact), case(7, None),
             case(8, "out_of_scope", "in_operation", pack=("jp-national", "2.1.0"))]
    p = compute_portfolio(PortfolioRows("org", "Org", tuple(cases), levels=CATALOG),
                          now=utc(2026, 7, 1))
    assert list(p.by_level.items()) == [
        ("example-impact:I", 1), ("example-impact:II", 1), ("example-impact:IV", 2),
        ("jp-national:out_of_scope", 1), ("jp-national:low", 1), ("jp-national:high", 1),
        ("unclassified", 1)]
    assert p.scales == ("example-impact", "jp-national")
    assert [g.text("en") for g in p.levels][:3] == [
        CATALOG.label(*impact, lv, "en") for lv in ("I", "II", "IV")]
    assert [g.tone for g in p.levels][:3] == [
        CATALOG.level(*impact, lv).tone for lv in ("I", "II", "IV")]
    # Each case's own pack decides: IV and the national high are high risk, I-III are not.
    assert [c.id for c in p.high_risk] == [1, 5]
    assert not is_in_fiscal_year(cases[7], 2026, op(8, date(2026, 4, 1)))
    assert is_in_fiscal_year(cases[4], 2026, op(5, date(2026, 4, 1)))  # IV is in scope
    assert case(3, "III", pack=impact).level_text("ja") == CATALOG.label(*impact, "III", "ja")
